#include "avro/schema.h"

#include <openssl/evp.h>

#include <cmath>
#include <unordered_set>
#include <utility>

#include "avro/binary.h"
#include "avro/json.h"
#include "avro/json_util.h"

namespace braid::avro {

struct Schema::Data {
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::shared_ptr<const Data>> deps;
  std::unordered_map<std::string, const Node*> named;
  const Node* root = nullptr;
  std::string pcf;
  uint64_t fingerprint = 0;
};

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kInt:
      return "int";
    case Type::kLong:
      return "long";
    case Type::kFloat:
      return "float";
    case Type::kDouble:
      return "double";
    case Type::kBytes:
      return "bytes";
    case Type::kString:
      return "string";
    case Type::kRecord:
      return "record";
    case Type::kEnum:
      return "enum";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kUnion:
      return "union";
    case Type::kFixed:
      return "fixed";
  }
  return "?";
}

std::string_view LogicalTypeName(LogicalType type) {
  switch (type) {
    case LogicalType::kNone:
      return "";
    case LogicalType::kDecimal:
      return "decimal";
    case LogicalType::kBigDecimal:
      return "big-decimal";
    case LogicalType::kUuid:
      return "uuid";
    case LogicalType::kDate:
      return "date";
    case LogicalType::kTimeMillis:
      return "time-millis";
    case LogicalType::kTimeMicros:
      return "time-micros";
    case LogicalType::kTimestampMillis:
      return "timestamp-millis";
    case LogicalType::kTimestampMicros:
      return "timestamp-micros";
    case LogicalType::kTimestampNanos:
      return "timestamp-nanos";
    case LogicalType::kLocalTimestampMillis:
      return "local-timestamp-millis";
    case LogicalType::kLocalTimestampMicros:
      return "local-timestamp-micros";
    case LogicalType::kLocalTimestampNanos:
      return "local-timestamp-nanos";
    case LogicalType::kDuration:
      return "duration";
  }
  return "";
}

std::string_view SortOrderName(SortOrder order) {
  switch (order) {
    case SortOrder::kAscending:
      return "ascending";
    case SortOrder::kDescending:
      return "descending";
    case SortOrder::kIgnore:
      return "ignore";
  }
  return "ascending";
}

namespace {

constexpr int kMaxSchemaDepth = 256;

bool ParsePrimitive(std::string_view s, Type* t) {
  static constexpr std::pair<std::string_view, Type> kPrims[] = {
      {"null", Type::kNull},   {"boolean", Type::kBoolean}, {"int", Type::kInt},
      {"long", Type::kLong},   {"float", Type::kFloat},     {"double", Type::kDouble},
      {"bytes", Type::kBytes}, {"string", Type::kString},
  };
  for (const auto& [name, type] : kPrims) {
    if (s == name) {
      *t = type;
      return true;
    }
  }
  return false;
}

bool IsValidName(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsValidNamespace(std::string_view s) {
  if (s.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsValidName(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (u < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  out.append(s);
  out.push_back('\'');
  return out;
}

// Parsing Canonical Form writer.
void WriteCanonical(const Node& n, std::unordered_set<const Node*>* seen, std::string* out) {
  switch (n.type()) {
    case Type::kRecord:
    case Type::kEnum:
    case Type::kFixed:
      if (!seen->insert(&n).second) {
        AppendJsonString(n.fullname(), out);
        return;
      }
      out->append("{\"name\":");
      AppendJsonString(n.fullname(), out);
      out->append(",\"type\":");
      AppendJsonString(TypeName(n.type()), out);
      if (n.type() == Type::kRecord) {
        out->append(",\"fields\":[");
        for (const Field& f : n.fields()) {
          if (f.index > 0) out->push_back(',');
          out->append("{\"name\":");
          AppendJsonString(f.name, out);
          out->append(",\"type\":");
          WriteCanonical(*f.type, seen, out);
          out->push_back('}');
        }
        out->push_back(']');
      } else if (n.type() == Type::kEnum) {
        out->append(",\"symbols\":[");
        for (size_t i = 0; i < n.symbols().size(); ++i) {
          if (i > 0) out->push_back(',');
          AppendJsonString(n.symbols()[i], out);
        }
        out->push_back(']');
      } else {
        out->append(",\"size\":");
        out->append(std::to_string(n.fixed_size()));
      }
      out->push_back('}');
      return;
    case Type::kArray:
      out->append("{\"type\":\"array\",\"items\":");
      WriteCanonical(n.items(), seen, out);
      out->push_back('}');
      return;
    case Type::kMap:
      out->append("{\"type\":\"map\",\"values\":");
      WriteCanonical(n.values(), seen, out);
      out->push_back('}');
      return;
    case Type::kUnion:
      out->push_back('[');
      for (size_t i = 0; i < n.branches().size(); ++i) {
        if (i > 0) out->push_back(',');
        WriteCanonical(*n.branches()[i], seen, out);
      }
      out->push_back(']');
      return;
    default:
      AppendJsonString(TypeName(n.type()), out);
      return;
  }
}

void AddLogical(const Node& n, Json* j) {
  if (n.logical_type() == LogicalType::kNone) return;
  (*j)["logicalType"] = std::string(LogicalTypeName(n.logical_type()));
  if (n.logical_type() == LogicalType::kDecimal) {
    (*j)["precision"] = n.precision();
    (*j)["scale"] = n.scale();
  }
}

void AddProps(const Json& props, Json* j) {
  for (auto it = props.begin(); it != props.end(); ++it) (*j)[it.key()] = it.value();
}

// Full JSON writer. `ns` is the namespace in effect at this point.
Json ToJsonValue(const Node& n, const std::string& ns, std::unordered_set<const Node*>* seen) {
  if (IsPrimitive(n.type())) {
    if (n.logical_type() == LogicalType::kNone && n.props().empty()) {
      return std::string(TypeName(n.type()));
    }
    Json j = Json::object();
    j["type"] = std::string(TypeName(n.type()));
    AddLogical(n, &j);
    AddProps(n.props(), &j);
    return j;
  }
  switch (n.type()) {
    case Type::kArray:
    case Type::kMap: {
      Json j = Json::object();
      j["type"] = std::string(TypeName(n.type()));
      j[n.type() == Type::kArray ? "items" : "values"] = ToJsonValue(*&n.items(), ns, seen);
      AddProps(n.props(), &j);
      return j;
    }
    case Type::kUnion: {
      Json j = Json::array();
      for (const Node* b : n.branches()) j.push_back(ToJsonValue(*b, ns, seen));
      return j;
    }
    default:
      break;
  }
  // Named.
  if (!seen->insert(&n).second) return n.fullname();
  Json j = Json::object();
  j["type"] = std::string(TypeName(n.type()));
  j["name"] = n.name();
  if (n.name_space() != ns) j["namespace"] = n.name_space();
  if (!n.doc().empty()) j["doc"] = n.doc();
  if (!n.aliases().empty()) j["aliases"] = n.aliases();
  const std::string& inner_ns = n.name_space();
  if (n.type() == Type::kRecord) {
    Json fields = Json::array();
    for (const Field& f : n.fields()) {
      Json fj = Json::object();
      fj["name"] = f.name;
      fj["type"] = ToJsonValue(*f.type, inner_ns, seen);
      if (!f.doc.empty()) fj["doc"] = f.doc;
      if (f.has_default) fj["default"] = f.default_json;
      if (f.order != SortOrder::kAscending) fj["order"] = std::string(SortOrderName(f.order));
      if (!f.aliases.empty()) fj["aliases"] = f.aliases;
      AddProps(f.props, &fj);
      fields.push_back(std::move(fj));
    }
    j["fields"] = std::move(fields);
  } else if (n.type() == Type::kEnum) {
    j["symbols"] = n.symbols();
    if (n.enum_default()) j["default"] = n.symbols()[*n.enum_default()];
  } else {
    j["size"] = n.fixed_size();
  }
  AddLogical(n, &j);
  AddProps(n.props(), &j);
  return j;
}

std::string DumpJson(const Json& j, bool pretty) {
  return j.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), buf, &len, md, nullptr) != 1) return std::string();
  return std::string(reinterpret_cast<const char*>(buf), len);
}

}  // namespace

// ---------------------------------------------------------------------------
// Node

const Field* Node::FindField(std::string_view name) const {
  auto it = field_index_.find(name);
  return it == field_index_.end() ? nullptr : &fields_[it->second];
}

std::optional<size_t> Node::SymbolIndex(std::string_view symbol) const {
  auto it = symbol_index_.find(symbol);
  if (it == symbol_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> Node::FindBranch(Type type, std::string_view fullname) const {
  for (size_t i = 0; i < branches_.size(); ++i) {
    const Node* b = branches_[i];
    if (b->type() != type) continue;
    if (!fullname.empty() && b->is_named() && b->fullname() != fullname) continue;
    return i;
  }
  return std::nullopt;
}

std::string_view Node::JsonBranchName() const {
  if (is_named()) return fullname_;
  return TypeName(type_);
}

std::string Node::ToJson(bool pretty) const {
  std::unordered_set<const Node*> seen;
  return DumpJson(ToJsonValue(*this, "", &seen), pretty);
}

std::string Node::CanonicalForm() const {
  std::unordered_set<const Node*> seen;
  std::string out;
  WriteCanonical(*this, &seen, &out);
  return out;
}

// ---------------------------------------------------------------------------
// Parser

class SchemaBuilder {
 public:
  explicit SchemaBuilder(const ParseOptions& options)
      : options_(options), data_(std::make_shared<Schema::Data>()) {
    for (const Schema& dep : options.named_types) {
      data_->deps.push_back(dep.data_);
      AddNamedFrom(*dep.data_);
    }
  }

  Result<Schema> Build(const Json& json) {
    try {
      ASSIGN_OR_RETURN(const Node* root, Parse(json, "", "schema", 0));
      data_->root = root;
      ComputeMinSizes();
      for (const auto& [node, index] : pending_defaults_) {
        RETURN_IF_ERROR(ValidateDefault(node, index));
      }
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("avro schema: ") + e.what());
    }
    std::unordered_set<const Node*> seen;
    WriteCanonical(*data_->root, &seen, &data_->pcf);
    data_->fingerprint = Crc64Avro(data_->pcf);
    return Schema(std::move(data_));
  }

  static std::shared_ptr<const Schema::Data> NullData() {
    auto data = std::make_shared<Schema::Data>();
    data->nodes.push_back(std::unique_ptr<Node>(new Node()));
    data->root = data->nodes.back().get();
    data->pcf = "\"null\"";
    data->fingerprint = Crc64Avro(data->pcf);
    return data;
  }

 private:
  void AddNamedFrom(const Schema::Data& d) {
    for (const auto& [name, node] : d.named) data_->named.emplace(name, node);
  }

  Node* NewNode(Type t) {
    data_->nodes.push_back(std::unique_ptr<Node>(new Node()));
    Node* n = data_->nodes.back().get();
    n->type_ = t;
    return n;
  }

  static Status Error(const std::string& where, std::string_view what) {
    return Status::InvalidArgument("avro schema: " + where + ": " + std::string(what));
  }

  const Node* Lookup(const std::string& name, const std::string& ns) const {
    if (name.find('.') == std::string::npos && !ns.empty()) {
      auto it = data_->named.find(ns + "." + name);
      if (it != data_->named.end()) return it->second;
    }
    auto it = data_->named.find(name);
    return it == data_->named.end() ? nullptr : it->second;
  }

  Result<const Node*> Parse(const Json& j, const std::string& ns, const std::string& where,
                            int depth) {
    if (depth > kMaxSchemaDepth) return Error(where, "schema nested too deeply");
    if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      Type t;
      if (ParsePrimitive(s, &t)) return static_cast<const Node*>(NewNode(t));
      const Node* n = Lookup(s, ns);
      if (n == nullptr) return Error(where, "unknown type " + Quote(s));
      return n;
    }
    if (j.is_array()) return ParseUnion(j, ns, where, depth);
    if (!j.is_object()) return Error(where, "a schema must be a string, an object or an array");
    auto type_it = j.find("type");
    if (type_it == j.end()) return Error(where, "missing \"type\"");
    if (!type_it->is_string()) {
      // {"type": {...}} or {"type": [...]}: the nested schema.
      return Parse(*type_it, ns, where, depth + 1);
    }
    const std::string& type = type_it->get_ref<const std::string&>();
    Type t;
    if (ParsePrimitive(type, &t)) {
      Node* n = NewNode(t);
      CollectProps(j, {"type"}, &n->props_);
      ApplyLogicalType(n);
      return static_cast<const Node*>(n);
    }
    if (type == "record" || type == "error") return ParseRecord(j, ns, where, depth);
    if (type == "enum") return ParseEnum(j, ns, where);
    if (type == "fixed") return ParseFixed(j, ns, where);
    if (type == "array" || type == "map") {
      bool is_array = type == "array";
      const char* key = is_array ? "items" : "values";
      auto it = j.find(key);
      if (it == j.end()) return Error(where, std::string(type) + " without \"" + key + "\"");
      Node* n = NewNode(is_array ? Type::kArray : Type::kMap);
      ASSIGN_OR_RETURN(n->child_,
                       Parse(*it, ns, where + (is_array ? ".items" : ".values"), depth + 1));
      CollectProps(j, {"type", key}, &n->props_);
      return static_cast<const Node*>(n);
    }
    const Node* n = Lookup(type, ns);
    if (n != nullptr) return n;
    return Error(where, "unknown type " + Quote(type));
  }

  Result<const Node*> ParseUnion(const Json& j, const std::string& ns, const std::string& where,
                                 int depth) {
    Node* n = NewNode(Type::kUnion);
    std::unordered_set<std::string> keys;
    for (size_t i = 0; i < j.size(); ++i) {
      std::string w = where + "[" + std::to_string(i) + "]";
      ASSIGN_OR_RETURN(const Node* b, Parse(j[i], ns, w, depth + 1));
      if (b->type() == Type::kUnion) return Error(w, "a union may not directly contain a union");
      std::string key = b->is_named() ? "named:" + b->fullname() : std::string(TypeName(b->type()));
      if (!keys.insert(key).second) {
        return Error(w, "duplicate " +
                            (b->is_named() ? "type " + Quote(b->fullname())
                                           : std::string(TypeName(b->type()))) +
                            " in union");
      }
      n->branches_.push_back(b);
    }
    return static_cast<const Node*>(n);
  }

  // Parses name/namespace/aliases/doc of a named type and registers it.
  Status ParseNamed(const Json& j, const std::string& ns, const std::string& where, Node* n) {
    auto name_it = j.find("name");
    if (name_it == j.end()) return Error(where, std::string(TypeName(n->type_)) + " without name");
    if (!name_it->is_string()) return Error(where, "\"name\" must be a string");
    const std::string& name = name_it->get_ref<const std::string&>();
    std::string space = ns;
    auto ns_it = j.find("namespace");
    if (ns_it != j.end() && !ns_it->is_null()) {
      if (!ns_it->is_string()) return Error(where, "\"namespace\" must be a string");
      space = ns_it->get<std::string>();
    }
    size_t dot = name.rfind('.');
    if (dot != std::string::npos) {
      space = name.substr(0, dot);
      n->name_ = name.substr(dot + 1);
    } else {
      n->name_ = name;
    }
    if (!IsValidName(n->name_)) return Error(where, "invalid name " + Quote(name));
    if (!IsValidNamespace(space)) return Error(where, "invalid namespace " + Quote(space));
    Type prim;
    if (ParsePrimitive(n->name_, &prim)) {
      return Error(where, "cannot redefine primitive type " + Quote(n->name_));
    }
    n->namespace_ = space;
    n->fullname_ = space.empty() ? n->name_ : space + "." + n->name_;
    if (!data_->named.emplace(n->fullname_, n).second) {
      return Error(where, "redefinition of " + Quote(n->fullname_));
    }
    auto doc_it = j.find("doc");
    if (doc_it != j.end()) {
      if (!doc_it->is_string()) return Error(where, "\"doc\" must be a string");
      n->doc_ = doc_it->get<std::string>();
    }
    auto al_it = j.find("aliases");
    if (al_it != j.end()) {
      if (!al_it->is_array()) return Error(where, "\"aliases\" must be an array of strings");
      for (const Json& a : *al_it) {
        if (!a.is_string()) return Error(where, "\"aliases\" must be an array of strings");
        const std::string& s = a.get_ref<const std::string&>();
        n->aliases_.push_back(s.find('.') == std::string::npos && !space.empty() ? space + "." + s
                                                                                 : s);
      }
    }
    return Status::OK();
  }

  static void CollectProps(const Json& j, std::initializer_list<std::string_view> reserved,
                           Json* props) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool skip = false;
      for (std::string_view r : reserved) skip = skip || it.key() == r;
      if (!skip) (*props)[it.key()] = it.value();
    }
  }

  static std::optional<int64_t> JsonInt(const Json& j) {
    if (j.is_number_unsigned()) {
      uint64_t v = j.get<uint64_t>();
      if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    if (j.is_number_integer()) return j.get<int64_t>();
    return std::nullopt;
  }

  // Sets n->logical_type_ from props_["logicalType"] if valid for the base
  // type, removing the attributes it consumed; otherwise leaves props as is.
  static void ApplyLogicalType(Node* n) {
    auto it = n->props_.find("logicalType");
    if (it == n->props_.end() || !it->is_string()) return;
    const std::string lt = it->get<std::string>();
    Type t = n->type_;
    LogicalType result = LogicalType::kNone;
    auto simple = [&](Type base, LogicalType l) {
      if (t == base) result = l;
    };
    if (lt == "decimal") {
      if (t != Type::kBytes && t != Type::kFixed) return;
      auto p_it = n->props_.find("precision");
      if (p_it == n->props_.end()) return;
      std::optional<int64_t> precision = JsonInt(*p_it);
      if (!precision || *precision <= 0 || *precision > INT32_MAX) return;
      int64_t scale = 0;
      auto s_it = n->props_.find("scale");
      if (s_it != n->props_.end()) {
        std::optional<int64_t> s = JsonInt(*s_it);
        if (!s || *s < 0) return;
        scale = *s;
      }
      if (scale > *precision) return;
      if (t == Type::kFixed) {
        if (n->fixed_size_ == 0) return;
        double max_precision =
            std::floor(std::log10(2.0) * (8.0 * static_cast<double>(n->fixed_size_) - 1.0));
        if (static_cast<double>(*precision) > max_precision) return;
      }
      n->precision_ = static_cast<int>(*precision);
      n->scale_ = static_cast<int>(scale);
      n->props_.erase("precision");
      n->props_.erase("scale");
      result = LogicalType::kDecimal;
    } else if (lt == "big-decimal") {
      if (t != Type::kBytes || n->props_.contains("precision") || n->props_.contains("scale")) {
        return;
      }
      result = LogicalType::kBigDecimal;
    } else if (lt == "uuid") {
      if (t == Type::kString || (t == Type::kFixed && n->fixed_size_ == 16)) {
        result = LogicalType::kUuid;
      }
    } else if (lt == "date") {
      simple(Type::kInt, LogicalType::kDate);
    } else if (lt == "time-millis") {
      simple(Type::kInt, LogicalType::kTimeMillis);
    } else if (lt == "time-micros") {
      simple(Type::kLong, LogicalType::kTimeMicros);
    } else if (lt == "timestamp-millis") {
      simple(Type::kLong, LogicalType::kTimestampMillis);
    } else if (lt == "timestamp-micros") {
      simple(Type::kLong, LogicalType::kTimestampMicros);
    } else if (lt == "timestamp-nanos") {
      simple(Type::kLong, LogicalType::kTimestampNanos);
    } else if (lt == "local-timestamp-millis") {
      simple(Type::kLong, LogicalType::kLocalTimestampMillis);
    } else if (lt == "local-timestamp-micros") {
      simple(Type::kLong, LogicalType::kLocalTimestampMicros);
    } else if (lt == "local-timestamp-nanos") {
      simple(Type::kLong, LogicalType::kLocalTimestampNanos);
    } else if (lt == "duration") {
      if (t == Type::kFixed && n->fixed_size_ == 12) result = LogicalType::kDuration;
    }
    if (result == LogicalType::kNone) return;
    n->logical_type_ = result;
    n->props_.erase("logicalType");
  }

  Result<const Node*> ParseRecord(const Json& j, const std::string& ns, const std::string& where,
                                  int depth) {
    Node* n = NewNode(Type::kRecord);
    RETURN_IF_ERROR(ParseNamed(j, ns, where, n));
    std::string w = "record " + Quote(n->fullname_);
    auto fields_it = j.find("fields");
    if (fields_it == j.end()) return Error(w, "missing \"fields\"");
    if (!fields_it->is_array()) return Error(w, "\"fields\" must be an array");
    std::unordered_set<std::string> names;
    for (const Json& fj : *fields_it) {
      Field f;
      f.index = n->fields_.size();
      if (!fj.is_object()) return Error(w, "a field must be an object");
      auto name_it = fj.find("name");
      if (name_it == fj.end() || !name_it->is_string()) {
        return Error(w, "field " + std::to_string(f.index) + " has no string \"name\"");
      }
      f.name = name_it->get<std::string>();
      std::string fw = "field " + Quote(f.name) + " of " + w;
      if (!IsValidName(f.name)) return Error(fw, "invalid field name");
      if (!names.insert(f.name).second) return Error(fw, "duplicate field name");
      auto type_it = fj.find("type");
      if (type_it == fj.end()) return Error(fw, "missing \"type\"");
      ASSIGN_OR_RETURN(f.type, Parse(*type_it, n->namespace_, fw, depth + 1));
      auto doc_it = fj.find("doc");
      if (doc_it != fj.end()) {
        if (!doc_it->is_string()) return Error(fw, "\"doc\" must be a string");
        f.doc = doc_it->get<std::string>();
      }
      auto def_it = fj.find("default");
      if (def_it != fj.end()) {
        f.has_default = true;
        f.default_json = *def_it;
      }
      auto order_it = fj.find("order");
      if (order_it != fj.end()) {
        std::string o = order_it->is_string() ? order_it->get<std::string>() : "";
        if (o == "ascending") {
          f.order = SortOrder::kAscending;
        } else if (o == "descending") {
          f.order = SortOrder::kDescending;
        } else if (o == "ignore") {
          f.order = SortOrder::kIgnore;
        } else {
          return Error(fw, "\"order\" must be ascending, descending or ignore");
        }
      }
      auto al_it = fj.find("aliases");
      if (al_it != fj.end()) {
        if (!al_it->is_array()) return Error(fw, "\"aliases\" must be an array of strings");
        for (const Json& a : *al_it) {
          if (!a.is_string()) return Error(fw, "\"aliases\" must be an array of strings");
          f.aliases.push_back(a.get<std::string>());
        }
      }
      CollectProps(fj, {"name", "type", "doc", "default", "order", "aliases"}, &f.props);
      if (f.has_default) pending_defaults_.emplace_back(n, f.index);
      n->fields_.push_back(std::move(f));
    }
    for (const Field& f : n->fields_) n->field_index_.emplace(f.name, f.index);
    CollectProps(j, {"type", "name", "namespace", "doc", "aliases", "fields"}, &n->props_);
    ApplyLogicalType(n);
    return static_cast<const Node*>(n);
  }

  Result<const Node*> ParseEnum(const Json& j, const std::string& ns, const std::string& where) {
    Node* n = NewNode(Type::kEnum);
    RETURN_IF_ERROR(ParseNamed(j, ns, where, n));
    std::string w = "enum " + Quote(n->fullname_);
    auto sym_it = j.find("symbols");
    if (sym_it == j.end()) return Error(w, "missing \"symbols\"");
    if (!sym_it->is_array()) return Error(w, "\"symbols\" must be an array");
    // An enum without symbols has no value; Java Avro and the Confluent
    // registry refuse it.
    if (sym_it->empty()) return Error(w, "\"symbols\" must not be empty");
    for (const Json& s : *sym_it) {
      if (!s.is_string()) return Error(w, "symbols must be strings");
      const std::string& sym = s.get_ref<const std::string&>();
      if (!IsValidName(sym)) return Error(w, "invalid symbol " + Quote(sym));
      n->symbols_.push_back(sym);
    }
    for (size_t i = 0; i < n->symbols_.size(); ++i) {
      if (!n->symbol_index_.emplace(n->symbols_[i], i).second) {
        return Error(w, "duplicate symbol " + Quote(n->symbols_[i]));
      }
    }
    auto def_it = j.find("default");
    if (def_it != j.end()) {
      if (!def_it->is_string()) return Error(w, "\"default\" must be a symbol");
      auto idx = n->SymbolIndex(def_it->get_ref<const std::string&>());
      if (!idx) return Error(w, "default " + def_it->dump() + " is not a symbol");
      n->enum_default_ = *idx;
    }
    CollectProps(j, {"type", "name", "namespace", "doc", "aliases", "symbols", "default"},
                 &n->props_);
    ApplyLogicalType(n);
    return static_cast<const Node*>(n);
  }

  Result<const Node*> ParseFixed(const Json& j, const std::string& ns, const std::string& where) {
    Node* n = NewNode(Type::kFixed);
    RETURN_IF_ERROR(ParseNamed(j, ns, where, n));
    std::string w = "fixed " + Quote(n->fullname_);
    auto size_it = j.find("size");
    if (size_it == j.end()) return Error(w, "missing \"size\"");
    std::optional<int64_t> size = JsonInt(*size_it);
    if (!size || *size < 0 || *size > INT32_MAX) {
      return Error(w, "\"size\" must be a non-negative integer");
    }
    n->fixed_size_ = static_cast<size_t>(*size);
    CollectProps(j, {"type", "name", "namespace", "doc", "aliases", "size"}, &n->props_);
    ApplyLogicalType(n);
    return static_cast<const Node*>(n);
  }

  // min_size_ lower bounds; a node on a cycle contributes 0 while in progress.
  void ComputeMinSizes() {
    std::unordered_map<const Node*, int> state;
    for (auto& n : data_->nodes) MinSize(n.get(), &state);
  }
  size_t MinSize(Node* n, std::unordered_map<const Node*, int>* state) {
    auto [it, inserted] = state->emplace(n, 1);
    if (!inserted) return it->second == 2 ? n->min_size_ : 0;
    size_t size = 0;
    switch (n->type_) {
      case Type::kNull:
        size = 0;
        break;
      case Type::kFloat:
        size = 4;
        break;
      case Type::kDouble:
        size = 8;
        break;
      case Type::kFixed:
        size = n->fixed_size_;
        break;
      case Type::kRecord:
        for (const Field& f : n->fields_) {
          size += MinSize(const_cast<Node*>(f.type), state);
        }
        break;
      case Type::kUnion:
        size = 1;  // the branch index; cheap bound
        break;
      default:  // boolean, int, long, bytes, string, enum, array, map
        size = 1;
        break;
    }
    n->min_size_ = size;
    (*state)[n] = 2;
    return size;
  }

  Status ValidateDefault(Node* record, size_t index) {
    Field& f = record->fields_[index];
    Result<Datum> d = DefaultToDatum(*f.type, f.default_json, options_.union_default_any_branch);
    if (!d.ok()) {
      return Status::InvalidArgument(
          "avro schema: field " + Quote(f.name) + " of record " + Quote(record->fullname_) +
          ": invalid default " +
          f.default_json.dump(-1, ' ', false, Json::error_handler_t::replace) + ": " +
          std::string(d.status().message()));
    }
    return EncodeBinary(*f.type, *d, &f.default_binary);
  }

  const ParseOptions& options_;
  std::shared_ptr<Schema::Data> data_;
  std::vector<std::pair<Node*, size_t>> pending_defaults_;
};

// ---------------------------------------------------------------------------
// Schema

Schema::Schema() {
  static const std::shared_ptr<const Data>* const kNull =
      new std::shared_ptr<const Data>(SchemaBuilder::NullData());
  data_ = *kNull;
  root_ = data_->root;
}

Schema::Schema(std::shared_ptr<const Data> data) : data_(std::move(data)), root_(data_->root) {}

NodePtr Schema::root_ptr() const { return NodePtr(data_, root_); }
NodePtr Schema::Share(const Node* node) const { return NodePtr(data_, node); }

const Node* Schema::FindNamed(std::string_view fullname) const {
  auto it = data_->named.find(std::string(fullname));
  return it == data_->named.end() ? nullptr : it->second;
}

std::string Schema::ToJson(bool pretty) const { return root_->ToJson(pretty); }
const std::string& Schema::CanonicalForm() const { return data_->pcf; }
uint64_t Schema::Fingerprint64() const { return data_->fingerprint; }
std::string Schema::Fingerprint64Bytes() const {
  std::string out;
  coding::PutLittleEndian64(&out, data_->fingerprint);
  return out;
}
std::string Schema::FingerprintMd5() const { return Md5Digest(data_->pcf); }
std::string Schema::FingerprintSha256() const { return Sha256Digest(data_->pcf); }

Result<Schema> ParseSchemaJson(const Json& json, const ParseOptions& options) {
  if (internal::JsonDeeperThan(json, internal::kMaxJsonNesting)) {
    return Status::InvalidArgument("avro schema: JSON nested too deeply");
  }
  SchemaBuilder builder(options);
  return builder.Build(json);
}

Result<Schema> ParseSchema(std::string_view json, const ParseOptions& options) {
  Json j;
  try {
    j = Json::parse(json.begin(), json.end());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("avro schema: not valid JSON: ") + e.what());
  }
  return ParseSchemaJson(j, options);
}

// ---------------------------------------------------------------------------
// Fingerprints

uint64_t Crc64Avro(std::string_view data) {
  static constexpr uint64_t kEmpty = 0xc15d213aa4d7a795ull;
  struct Table {
    uint64_t t[256];
    constexpr Table() : t() {
      for (uint64_t i = 0; i < 256; ++i) {
        uint64_t fp = i;
        for (int j = 0; j < 8; ++j) fp = (fp >> 1) ^ (kEmpty & (0 - (fp & 1)));
        t[i] = fp;
      }
    }
  };
  static constexpr Table kTable;
  uint64_t fp = kEmpty;
  for (char c : data) fp = (fp >> 8) ^ kTable.t[(fp ^ static_cast<uint8_t>(c)) & 0xff];
  return fp;
}

std::string Md5Digest(std::string_view data) { return Digest(EVP_md5(), data); }
std::string Sha256Digest(std::string_view data) { return Digest(EVP_sha256(), data); }

std::string ToHex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto u = static_cast<uint8_t>(c);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 15]);
  }
  return out;
}

}  // namespace braid::avro
