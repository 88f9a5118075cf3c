#include "avro/datum.h"

#include <charconv>
#include <cstring>

namespace braid::avro {

Datum Datum::Boolean(bool v) {
  Datum d;
  d.type_ = Type::kBoolean;
  d.scalar_.b = v;
  return d;
}
Datum Datum::Int(int32_t v) {
  Datum d;
  d.type_ = Type::kInt;
  d.scalar_.i = v;
  return d;
}
Datum Datum::Long(int64_t v) {
  Datum d;
  d.type_ = Type::kLong;
  d.scalar_.l = v;
  return d;
}
Datum Datum::Float(float v) {
  Datum d;
  d.type_ = Type::kFloat;
  d.scalar_.f = v;
  return d;
}
Datum Datum::Double(double v) {
  Datum d;
  d.type_ = Type::kDouble;
  d.scalar_.d = v;
  return d;
}
Datum Datum::Bytes(std::string v) {
  Datum d;
  d.type_ = Type::kBytes;
  d.bytes_ = std::move(v);
  return d;
}
Datum Datum::String(std::string v) {
  Datum d;
  d.type_ = Type::kString;
  d.bytes_ = std::move(v);
  return d;
}
Datum Datum::Fixed(const Node& schema, std::string bytes) {
  Datum d;
  d.type_ = Type::kFixed;
  d.node_ = &schema;
  d.bytes_ = std::move(bytes);
  return d;
}
Datum Datum::Enum(const Node& schema, size_t index) {
  Datum d;
  d.type_ = Type::kEnum;
  d.node_ = &schema;
  d.index_ = index;
  return d;
}
Datum Datum::Record(const Node& schema, std::vector<Datum> fields) {
  Datum d;
  d.type_ = Type::kRecord;
  d.node_ = &schema;
  d.children_ = std::move(fields);
  return d;
}
Datum Datum::Array(std::vector<Datum> items) {
  Datum d;
  d.type_ = Type::kArray;
  d.children_ = std::move(items);
  return d;
}
Datum Datum::Map(std::vector<std::pair<std::string, Datum>> entries) {
  Datum d;
  d.type_ = Type::kMap;
  d.keys_.reserve(entries.size());
  d.children_.reserve(entries.size());
  for (auto& [k, v] : entries) {
    d.keys_.push_back(std::move(k));
    d.children_.push_back(std::move(v));
  }
  return d;
}
Datum Datum::Union(size_t branch, Datum value) {
  Datum d;
  d.type_ = Type::kUnion;
  d.index_ = branch;
  d.children_.push_back(std::move(value));
  return d;
}

namespace {
Datum ZeroOfDepth(const Node& n, int depth) {
  if (depth > 64) return Datum();
  switch (n.type()) {
    case Type::kNull:
      return Datum();
    case Type::kBoolean:
      return Datum::Boolean(false);
    case Type::kInt:
      return Datum::Int(0);
    case Type::kLong:
      return Datum::Long(0);
    case Type::kFloat:
      return Datum::Float(0);
    case Type::kDouble:
      return Datum::Double(0);
    case Type::kBytes:
      return Datum::Bytes("");
    case Type::kString:
      return Datum::String("");
    case Type::kFixed:
      return Datum::Fixed(n, std::string(n.fixed_size(), '\0'));
    case Type::kEnum:
      return Datum::Enum(n, 0);
    case Type::kArray:
      return Datum::Array({});
    case Type::kMap:
      return Datum::Map({});
    case Type::kUnion:
      if (n.branches().empty()) return Datum();
      return Datum::Union(0, ZeroOfDepth(*n.branches()[0], depth + 1));
    case Type::kRecord: {
      std::vector<Datum> fields;
      fields.reserve(n.fields().size());
      for (const Field& f : n.fields()) fields.push_back(ZeroOfDepth(*f.type, depth + 1));
      return Datum::Record(n, std::move(fields));
    }
  }
  return Datum();
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void Debug(const Datum& d, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  switch (d.type()) {
    case Type::kNull:
      out->append("null");
      return;
    case Type::kBoolean:
      out->append(d.boolean() ? "true" : "false");
      return;
    case Type::kInt:
      out->append(std::to_string(d.int_value()));
      return;
    case Type::kLong:
      out->append(std::to_string(d.long_value()));
      return;
    case Type::kFloat:
    case Type::kDouble: {
      char buf[64];
      auto r = d.type() == Type::kFloat ? std::to_chars(buf, buf + sizeof buf, d.float_value())
                                        : std::to_chars(buf, buf + sizeof buf, d.double_value());
      out->append(buf, r.ptr);
      return;
    }
    case Type::kString:
      AppendQuoted(d.bytes(), out);
      return;
    case Type::kBytes:
    case Type::kFixed:
      out->append("0x");
      for (char c : d.bytes()) {
        out->push_back(kHex[static_cast<uint8_t>(c) >> 4]);
        out->push_back(kHex[static_cast<uint8_t>(c) & 15]);
      }
      return;
    case Type::kEnum:
      AppendQuoted(d.enum_symbol(), out);
      return;
    case Type::kArray:
      out->push_back('[');
      for (size_t i = 0; i < d.items().size(); ++i) {
        if (i > 0) out->push_back(',');
        Debug(d.items()[i], out);
      }
      out->push_back(']');
      return;
    case Type::kMap:
      out->push_back('{');
      for (size_t i = 0; i < d.map_size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendQuoted(d.map_key(i), out);
        out->push_back(':');
        Debug(d.map_value(i), out);
      }
      out->push_back('}');
      return;
    case Type::kUnion:
      out->append("{\"#");
      out->append(std::to_string(d.branch()));
      out->append("\":");
      Debug(d.union_value(), out);
      out->push_back('}');
      return;
    case Type::kRecord:
      out->push_back('{');
      for (size_t i = 0; i < d.field_count(); ++i) {
        if (i > 0) out->push_back(',');
        if (d.node() != nullptr && i < d.node()->fields().size()) {
          AppendQuoted(d.node()->fields()[i].name, out);
        } else {
          std::string key = std::to_string(i);
          key.insert(key.begin(), '#');
          AppendQuoted(key, out);
        }
        out->push_back(':');
        Debug(d.field(i), out);
      }
      out->push_back('}');
      return;
  }
}
}  // namespace

Datum Datum::ZeroOf(const Node& schema) { return ZeroOfDepth(schema, 0); }

const std::string& Datum::enum_symbol() const {
  static const std::string kEmpty;
  if (node_ == nullptr || index_ >= node_->symbols().size()) return kEmpty;
  return node_->symbols()[index_];
}

const Datum* Datum::FindField(std::string_view name) const {
  if (node_ == nullptr || type_ != Type::kRecord) return nullptr;
  const Field* f = node_->FindField(name);
  if (f == nullptr || f->index >= children_.size()) return nullptr;
  return &children_[f->index];
}
Datum* Datum::FindField(std::string_view name) {
  return const_cast<Datum*>(static_cast<const Datum*>(this)->FindField(name));
}

void Datum::MapAppend(std::string key, Datum value) {
  keys_.push_back(std::move(key));
  children_.push_back(std::move(value));
}

const Datum* Datum::FindMapValue(std::string_view key) const {
  for (size_t i = keys_.size(); i-- > 0;) {
    if (keys_[i] == key) return &children_[i];
  }
  return nullptr;
}

bool operator==(const Datum& a, const Datum& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Type::kNull:
      return true;
    case Type::kBoolean:
      return a.scalar_.b == b.scalar_.b;
    case Type::kInt:
      return a.scalar_.i == b.scalar_.i;
    case Type::kLong:
      return a.scalar_.l == b.scalar_.l;
    case Type::kFloat:
      return std::memcmp(&a.scalar_.f, &b.scalar_.f, sizeof(float)) == 0;
    case Type::kDouble:
      return std::memcmp(&a.scalar_.d, &b.scalar_.d, sizeof(double)) == 0;
    case Type::kBytes:
    case Type::kString:
    case Type::kFixed:
      return a.bytes_ == b.bytes_;
    case Type::kEnum:
      return a.index_ == b.index_;
    case Type::kUnion:
      return a.index_ == b.index_ && a.children_ == b.children_;
    case Type::kMap:
      return a.keys_ == b.keys_ && a.children_ == b.children_;
    case Type::kArray:
    case Type::kRecord:
      return a.children_ == b.children_;
  }
  return false;
}

std::string Datum::DebugString() const {
  std::string out;
  Debug(*this, &out);
  return out;
}

}  // namespace braid::avro
