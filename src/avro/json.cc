#include "avro/json.h"

#include "avro/json_util.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace braid::avro {

namespace {

constexpr int kMaxJsonDepth = 512;
constexpr char kHex[] = "0123456789abcdef";

void AppendEscapedAscii(unsigned char u, std::string* out) {
  switch (u) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    default:
      if (u < 0x20 || u == 0x7f) {
        out->append("\\u00");
        out->push_back(kHex[u >> 4]);
        out->push_back(kHex[u & 15]);
      } else {
        out->push_back(static_cast<char>(u));
      }
  }
}

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

void AppendJsonUtf8(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x80) {
      AppendEscapedAscii(u, out);
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
  out->push_back('"');
}

// Bytes as code points U+0000..U+00FF (non-ASCII written as \u00XX escapes).
void AppendJsonLatin1(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      AppendEscapedAscii(u, out);
    }
  }
  out->push_back('"');
}

template <typename F>
void AppendFloating(F v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if (v == 0 && std::signbit(v)) {
    out->append("-0.0");  // "-0" would read back as the integer 0
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  }
}

class JsonWriter {
 public:
  JsonWriter(std::string* out, bool pretty) : out_(out), pretty_(pretty) {}

  Status Write(const Node& n, const Datum& d, const std::string& path, int depth) {
    if (d.type() != n.type()) {
      return Status::InvalidArgument("value at " + path + " is " + std::string(TypeName(d.type())) +
                                     ", schema expects " +
                                     std::string(n.is_named() ? n.fullname() : TypeName(n.type())));
    }
    if (depth > kMaxJsonDepth) return Status::InvalidArgument("value nested too deeply");
    switch (n.type()) {
      case Type::kNull:
        out_->append("null");
        return Status::OK();
      case Type::kBoolean:
        out_->append(d.boolean() ? "true" : "false");
        return Status::OK();
      case Type::kInt:
        out_->append(std::to_string(d.int_value()));
        return Status::OK();
      case Type::kLong:
        out_->append(std::to_string(d.long_value()));
        return Status::OK();
      case Type::kFloat:
        AppendFloating(d.float_value(), out_);
        return Status::OK();
      case Type::kDouble:
        AppendFloating(d.double_value(), out_);
        return Status::OK();
      case Type::kString:
        AppendJsonUtf8(d.bytes(), out_);
        return Status::OK();
      case Type::kBytes:
        AppendJsonLatin1(d.bytes(), out_);
        return Status::OK();
      case Type::kFixed:
        if (d.bytes().size() != n.fixed_size()) {
          return Status::InvalidArgument(
              "value at " + path + " has " + std::to_string(d.bytes().size()) + " bytes, fixed " +
              n.fullname() + " has size " + std::to_string(n.fixed_size()));
        }
        AppendJsonLatin1(d.bytes(), out_);
        return Status::OK();
      case Type::kEnum:
        if (d.enum_index() >= n.symbols().size()) {
          return Status::InvalidArgument("enum index out of range at " + path);
        }
        AppendJsonUtf8(n.symbols()[d.enum_index()], out_);
        return Status::OK();
      case Type::kArray: {
        out_->push_back('[');
        const auto& items = d.items();
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out_->push_back(',');
          Newline(depth + 1);
          RETURN_IF_ERROR(
              Write(n.items(), items[i], path + "[" + std::to_string(i) + "]", depth + 1));
        }
        if (!items.empty()) Newline(depth);
        out_->push_back(']');
        return Status::OK();
      }
      case Type::kMap: {
        out_->push_back('{');
        for (size_t i = 0; i < d.map_size(); ++i) {
          if (i > 0) out_->push_back(',');
          Newline(depth + 1);
          AppendJsonUtf8(d.map_key(i), out_);
          Colon();
          RETURN_IF_ERROR(Write(n.values(), d.map_value(i), path + "." + d.map_key(i), depth + 1));
        }
        if (d.map_size() > 0) Newline(depth);
        out_->push_back('}');
        return Status::OK();
      }
      case Type::kUnion: {
        if (d.branch() >= n.branches().size()) {
          return Status::InvalidArgument("union branch out of range at " + path);
        }
        const Node& b = *n.branches()[d.branch()];
        if (b.type() == Type::kNull) return Write(b, d.union_value(), path, depth + 1);
        out_->push_back('{');
        Newline(depth + 1);
        AppendJsonUtf8(b.JsonBranchName(), out_);
        Colon();
        RETURN_IF_ERROR(Write(b, d.union_value(), path, depth + 1));
        Newline(depth);
        out_->push_back('}');
        return Status::OK();
      }
      case Type::kRecord: {
        if (d.field_count() != n.fields().size()) {
          return Status::InvalidArgument(
              "record at " + path + " has " + std::to_string(d.field_count()) + " fields, " +
              n.fullname() + " has " + std::to_string(n.fields().size()));
        }
        out_->push_back('{');
        for (const Field& f : n.fields()) {
          if (f.index > 0) out_->push_back(',');
          Newline(depth + 1);
          AppendJsonUtf8(f.name, out_);
          Colon();
          RETURN_IF_ERROR(Write(*f.type, d.field(f.index), path + "." + f.name, depth + 1));
        }
        if (!n.fields().empty()) Newline(depth);
        out_->push_back('}');
        return Status::OK();
      }
    }
    return Status::Internal("unknown type");
  }

 private:
  void Newline(int depth) {
    if (!pretty_) return;
    out_->push_back('\n');
    out_->append(static_cast<size_t>(depth) * 2, ' ');
  }
  void Colon() { out_->append(pretty_ ? ": " : ":"); }

  std::string* out_;
  bool pretty_;
};

// ---------------------------------------------------------------------------
// JSON -> Datum

enum class Mode { kEncoding, kDefault, kDefaultAnyBranch };

Status Bad(const std::string& path, std::string_view what) {
  return Status::InvalidArgument("avro json: " + path + ": " + std::string(what));
}

std::string Describe(const Json& j) {
  if (j.is_array()) return "an array";
  if (j.is_object()) return "an object";
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// UTF-8 string of code points <= U+00FF -> bytes.
Status Latin1(const std::string& s, const std::string& path, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size() &&
               (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
      out->push_back(
          static_cast<char>(((c & 0x1f) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3f)));
      ++i;
    } else {
      return Bad(path, "bytes must be a string of code points U+0000..U+00FF");
    }
  }
  return Status::OK();
}

Result<double> Floating(const Json& j, const std::string& path) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return Bad(path, "expected a number, got " + Describe(j));
}

Result<int64_t> Integer(const Json& j, const std::string& path, int64_t lo, int64_t hi) {
  int64_t v;
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return Bad(path, "integer out of range: " + Describe(j));
    v = static_cast<int64_t>(u);
  } else if (j.is_number_integer()) {
    v = j.get<int64_t>();
  } else {
    return Bad(path, "expected an integer, got " + Describe(j));
  }
  if (v < lo || v > hi) return Bad(path, "integer out of range: " + Describe(j));
  return v;
}

Status FromJson(const Node& n, const Json& j, Mode mode, const std::string& path, int depth,
                Datum* out);

Status DefaultOf(const Field& f, Mode mode, const std::string& path, int depth, Datum* out) {
  // Parsing validated the default (first branch first, then others if the
  // schema allowed it), so trying every branch finds the same value.
  (void)mode;
  return FromJson(*f.type, f.default_json, Mode::kDefaultAnyBranch, path, depth + 1, out);
}

Status FromJson(const Node& n, const Json& j, Mode mode, const std::string& path, int depth,
                Datum* out) {
  if (depth > kMaxJsonDepth) return Bad(path, "nested too deeply");
  switch (n.type()) {
    case Type::kNull:
      if (!j.is_null()) return Bad(path, "expected null, got " + Describe(j));
      *out = Datum();
      return Status::OK();
    case Type::kBoolean:
      if (!j.is_boolean()) return Bad(path, "expected a boolean, got " + Describe(j));
      *out = Datum::Boolean(j.get<bool>());
      return Status::OK();
    case Type::kInt: {
      ASSIGN_OR_RETURN(int64_t v, Integer(j, path, INT32_MIN, INT32_MAX));
      *out = Datum::Int(static_cast<int32_t>(v));
      return Status::OK();
    }
    case Type::kLong: {
      ASSIGN_OR_RETURN(int64_t v, Integer(j, path, INT64_MIN, INT64_MAX));
      *out = Datum::Long(v);
      return Status::OK();
    }
    case Type::kFloat: {
      ASSIGN_OR_RETURN(double v, Floating(j, path));
      *out = Datum::Float(static_cast<float>(v));
      return Status::OK();
    }
    case Type::kDouble: {
      ASSIGN_OR_RETURN(double v, Floating(j, path));
      *out = Datum::Double(v);
      return Status::OK();
    }
    case Type::kString:
      if (!j.is_string()) return Bad(path, "expected a string, got " + Describe(j));
      *out = Datum::String(j.get<std::string>());
      return Status::OK();
    case Type::kBytes:
    case Type::kFixed: {
      if (!j.is_string()) return Bad(path, "expected a string of bytes, got " + Describe(j));
      std::string bytes;
      RETURN_IF_ERROR(Latin1(j.get_ref<const std::string&>(), path, &bytes));
      if (n.type() == Type::kBytes) {
        *out = Datum::Bytes(std::move(bytes));
        return Status::OK();
      }
      if (bytes.size() != n.fixed_size()) {
        return Bad(path, "fixed " + n.fullname() + " needs " + std::to_string(n.fixed_size()) +
                             " bytes, got " + std::to_string(bytes.size()));
      }
      *out = Datum::Fixed(n, std::move(bytes));
      return Status::OK();
    }
    case Type::kEnum: {
      if (!j.is_string()) return Bad(path, "expected an enum symbol, got " + Describe(j));
      auto idx = n.SymbolIndex(j.get_ref<const std::string&>());
      if (!idx) return Bad(path, Describe(j) + " is not a symbol of enum " + n.fullname());
      *out = Datum::Enum(n, *idx);
      return Status::OK();
    }
    case Type::kArray: {
      if (!j.is_array()) return Bad(path, "expected an array, got " + Describe(j));
      std::vector<Datum> items(j.size());
      for (size_t i = 0; i < j.size(); ++i) {
        RETURN_IF_ERROR(FromJson(n.items(), j[i], mode, path + "[" + std::to_string(i) + "]",
                                 depth + 1, &items[i]));
      }
      *out = Datum::Array(std::move(items));
      return Status::OK();
    }
    case Type::kMap: {
      if (!j.is_object()) return Bad(path, "expected an object (map), got " + Describe(j));
      Datum m = Datum::Map({});
      for (auto it = j.begin(); it != j.end(); ++it) {
        Datum v;
        RETURN_IF_ERROR(
            FromJson(n.values(), it.value(), mode, path + "." + it.key(), depth + 1, &v));
        m.MapAppend(it.key(), std::move(v));
      }
      *out = std::move(m);
      return Status::OK();
    }
    case Type::kRecord: {
      if (!j.is_object()) {
        return Bad(path, "expected an object (record " + n.fullname() + "), got " + Describe(j));
      }
      std::vector<Datum> fields(n.fields().size());
      for (const Field& f : n.fields()) {
        std::string fpath = path + "." + f.name;
        auto it = j.find(f.name);
        if (it != j.end()) {
          RETURN_IF_ERROR(FromJson(*f.type, *it, mode, fpath, depth + 1, &fields[f.index]));
        } else if (f.has_default) {
          RETURN_IF_ERROR(DefaultOf(f, mode, fpath, depth, &fields[f.index]));
        } else {
          return Bad(fpath, "missing field (it has no default)");
        }
      }
      *out = Datum::Record(n, std::move(fields));
      return Status::OK();
    }
    case Type::kUnion: {
      const auto& branches = n.branches();
      if (mode == Mode::kDefault || mode == Mode::kDefaultAnyBranch) {
        if (branches.empty()) return Bad(path, "a union with no branches has no value");
        size_t limit = mode == Mode::kDefault ? 1 : branches.size();
        Status first;
        for (size_t i = 0; i < limit; ++i) {
          Datum v;
          Status s = FromJson(*branches[i], j, mode, path, depth + 1, &v);
          if (s.ok()) {
            *out = Datum::Union(i, std::move(v));
            return Status::OK();
          }
          if (i == 0) first = s;
        }
        return first;
      }
      if (j.is_null()) {
        auto idx = n.FindBranch(Type::kNull);
        if (!idx) return Bad(path, "null is not a branch of the union");
        *out = Datum::Union(*idx, Datum());
        return Status::OK();
      }
      if (!j.is_object() || j.size() != 1) {
        return Bad(path, "a union value must be null or {\"<type>\": value}, got " + Describe(j));
      }
      const std::string& key = j.begin().key();
      std::optional<size_t> idx;
      for (size_t i = 0; i < branches.size() && !idx; ++i) {
        if (branches[i]->JsonBranchName() == key) idx = i;
      }
      for (size_t i = 0; i < branches.size() && !idx; ++i) {  // simple name of a named type
        if (branches[i]->is_named() && branches[i]->name() == key) idx = i;
      }
      if (!idx) return Bad(path, "\"" + key + "\" is not a branch of the union");
      Datum v;
      RETURN_IF_ERROR(FromJson(*branches[*idx], j.begin().value(), mode, path, depth + 1, &v));
      *out = Datum::Union(*idx, std::move(v));
      return Status::OK();
    }
  }
  return Status::Internal("unknown type");
}

}  // namespace

Status EncodeJson(const Node& schema, const Datum& datum, std::string* out,
                  const JsonWriteOptions& options) {
  JsonWriter w(out, options.pretty);
  return w.Write(schema, datum, "$", 0);
}

Result<Datum> DecodeJson(const Node& schema, std::string_view json_text) {
  Json j;
  try {
    j = Json::parse(json_text.begin(), json_text.end());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("avro json: not valid JSON: ") + e.what());
  }
  return DecodeJsonValue(schema, j);
}

Result<Datum> DecodeJsonValue(const Node& schema, const Json& value) {
  if (internal::JsonDeeperThan(value, internal::kMaxJsonNesting)) {
    return Status::InvalidArgument("avro json: value nested too deeply");
  }
  Datum out;
  try {
    RETURN_IF_ERROR(FromJson(schema, value, Mode::kEncoding, "$", 0, &out));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("avro json: ") + e.what());
  }
  return out;
}

Result<Datum> DefaultToDatum(const Node& schema, const Json& value, bool any_branch) {
  if (internal::JsonDeeperThan(value, internal::kMaxJsonNesting)) {
    return Status::InvalidArgument("avro json: value nested too deeply");
  }
  Datum out;
  try {
    RETURN_IF_ERROR(FromJson(schema, value, any_branch ? Mode::kDefaultAnyBranch : Mode::kDefault,
                             "$", 0, &out));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("avro json: ") + e.what());
  }
  return out;
}

}  // namespace braid::avro
