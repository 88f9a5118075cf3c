#include "views/monoid.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include "base/coding.h"
#include "views/hll.h"
#include "views/json_text.h"
#include "views/quantiles.h"
#include "views/topk.h"

namespace braid::views {

namespace {

constexpr int kMaxTupleDepth = 8;

// ---------------------------------------------------------------------------
// Specs

struct KindName {
  std::string_view name;
  MonoidSpec::Kind kind;
};
constexpr KindName kKindNames[] = {
    {"count", MonoidSpec::Kind::kCount},
    {"sum_int64", MonoidSpec::Kind::kSumInt64},
    {"sum_double", MonoidSpec::Kind::kSumDouble},
    {"min_int64", MonoidSpec::Kind::kMinInt64},
    {"max_int64", MonoidSpec::Kind::kMaxInt64},
    {"min_double", MonoidSpec::Kind::kMinDouble},
    {"max_double", MonoidSpec::Kind::kMaxDouble},
    {"hll", MonoidSpec::Kind::kHll},
    {"topk", MonoidSpec::Kind::kTopK},
    {"quantiles", MonoidSpec::Kind::kQuantiles},
    {"tuple", MonoidSpec::Kind::kTuple},
};
constexpr KindName kAliases[] = {
    {"hyperloglog", MonoidSpec::Kind::kHll},
    {"kll", MonoidSpec::Kind::kQuantiles},
};

std::string_view KindText(MonoidSpec::Kind k) {
  for (const KindName& n : kKindNames) {
    if (n.kind == k) return n.name;
  }
  return "?";
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

bool ValidFieldName(std::string_view s) {
  if (s.empty() || s.size() > 128 || !IsIdentStart(s[0])) return false;
  for (char c : s) {
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

Status ValidateDepth(const MonoidSpec& spec, int depth) {
  using Kind = MonoidSpec::Kind;
  switch (spec.kind) {
    case Kind::kHll:
      if (spec.hll_precision < HllSketch::kMinPrecision ||
          spec.hll_precision > HllSketch::kMaxPrecision) {
        return Status::InvalidArgument("hll: precision " + std::to_string(spec.hll_precision) +
                                       " is out of range (4..18)");
      }
      break;
    case Kind::kTopK:
      if (spec.topk_k < 1 || spec.topk_k > 10'000) {
        return Status::InvalidArgument("topk: k " + std::to_string(spec.topk_k) +
                                       " is out of range (1..10000)");
      }
      if (spec.topk_capacity != 0 &&
          (spec.topk_capacity < spec.topk_k || spec.topk_capacity > 100'000)) {
        return Status::InvalidArgument("topk: capacity " + std::to_string(spec.topk_capacity) +
                                       " is out of range (k..100000)");
      }
      break;
    case Kind::kQuantiles:
      if (spec.quantiles_k < KllSketch::kMinK || spec.quantiles_k > KllSketch::kMaxK) {
        return Status::InvalidArgument("quantiles: k " + std::to_string(spec.quantiles_k) +
                                       " is out of range (8..65535)");
      }
      break;
    case Kind::kTuple: {
      if (depth >= kMaxTupleDepth) {
        return Status::InvalidArgument("tuple: nested more than 8 deep");
      }
      if (spec.fields.empty()) return Status::InvalidArgument("tuple: no fields");
      if (spec.fields.size() > 64) return Status::InvalidArgument("tuple: more than 64 fields");
      std::set<std::string_view> names;
      for (const auto& [name, sub] : spec.fields) {
        if (!ValidFieldName(name)) {
          return Status::InvalidArgument("tuple: field name \"" + name +
                                         "\" is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        }
        if (!names.insert(name).second) {
          return Status::InvalidArgument("tuple: field \"" + name + "\" given twice");
        }
        Status s = ValidateDepth(sub, depth + 1);
        if (!s.ok()) return s.WithContext("tuple field \"" + name + "\"");
      }
      break;
    }
    default:
      break;
  }
  return Status::OK();
}

class SpecParser {
 public:
  explicit SpecParser(std::string_view text) : text_(text) {}

  Result<MonoidSpec> ParseAll() {
    ASSIGN_OR_RETURN(MonoidSpec spec, Parse(0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the spec");
    return spec;
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("monoid \"" + std::string(text_) + "\": column " +
                                   std::to_string(pos_ + 1) + ": " + std::string(what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool Accept(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view Ident() {
    SkipSpace();
    const size_t start = pos_;
    if (pos_ < text_.size() && IsIdentStart(text_[pos_])) {
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }
  Result<uint64_t> Integer() {
    SkipSpace();
    const size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (v > 1'000'000'000) return Error("number too large");
      v = v * 10 + static_cast<uint64_t>(text_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) return Error("expected a number");
    return v;
  }

  Result<MonoidSpec> Parse(int depth) {
    if (depth > kMaxTupleDepth) return Error("tuples nested more than 8 deep");
    const size_t name_at = (SkipSpace(), pos_);
    const std::string_view name = Ident();
    MonoidSpec spec;
    bool known = false;
    for (std::span<const KindName> table :
         {std::span<const KindName>(kKindNames), std::span<const KindName>(kAliases)}) {
      for (const KindName& n : table) {
        if (n.name == name) {
          spec.kind = n.kind;
          known = true;
        }
      }
    }
    if (!known) {
      pos_ = name_at;
      return Error(name.empty() ? "expected a monoid name"
                                : "unknown monoid \"" + std::string(name) +
                                      "\" (count, sum_int64, sum_double, min_int64, max_int64, "
                                      "min_double, max_double, hll, topk, quantiles, tuple)");
    }
    using Kind = MonoidSpec::Kind;
    if (spec.kind == Kind::kTuple) {
      if (!Accept('(')) return Error("tuple: expected '(' and its fields (name: monoid, ...)");
      std::set<std::string> names;
      do {
        const size_t field_at = (SkipSpace(), pos_);
        std::string field(Ident());
        if (field.empty()) return Error("tuple: expected a field name");
        if (!names.insert(field).second) {
          pos_ = field_at;
          return Error("tuple: field \"" + field + "\" given twice");
        }
        if (!Accept(':')) return Error("tuple: expected ':' after the field name");
        ASSIGN_OR_RETURN(MonoidSpec sub, Parse(depth + 1));
        spec.fields.emplace_back(std::move(field), std::move(sub));
      } while (Accept(','));
      if (!Accept(')')) return Error("tuple: expected ',' or ')'");
      Status s = ValidateDepth(spec, depth);
      if (!s.ok()) return Error(s.message());
      return spec;
    }
    if (!Accept('(')) {
      RETURN_IF_ERROR(ValidateDepth(spec, depth));
      return spec;
    }
    // Parameters: positional, or name=value.
    std::vector<std::string_view> names;
    switch (spec.kind) {
      case Kind::kHll:
        names = {"p"};
        break;
      case Kind::kTopK:
        names = {"k", "capacity"};
        break;
      case Kind::kQuantiles:
        names = {"k"};
        break;
      default:
        return Error(std::string(KindText(spec.kind)) + " takes no parameters");
    }
    std::set<std::string_view> seen;
    size_t index = 0;
    if (!Accept(')')) {
      do {
        const size_t param_at = (SkipSpace(), pos_);
        std::string_view pname;
        if (pos_ < text_.size() && IsIdentStart(text_[pos_])) {
          pname = Ident();
          if (pname == "precision" && spec.kind == Kind::kHll) pname = "p";
          if (!Accept('=')) return Error("expected '=' after the parameter name");
          bool ok = false;
          for (std::string_view n : names) ok = ok || n == pname;
          if (!ok) {
            pos_ = param_at;
            return Error(std::string(KindText(spec.kind)) + " has no parameter \"" +
                         std::string(pname) + "\"");
          }
        } else {
          if (index >= names.size()) return Error("too many parameters");
          pname = names[index];
        }
        ++index;
        if (!seen.insert(pname).second) {
          pos_ = param_at;
          return Error("parameter \"" + std::string(pname) + "\" given twice");
        }
        SkipSpace();
        const size_t value_at = pos_;
        ASSIGN_OR_RETURN(uint64_t v, Integer());
        const auto v32 = static_cast<uint32_t>(v);
        if (spec.kind == Kind::kHll) {
          spec.hll_precision = static_cast<int>(v32);
        } else if (spec.kind == Kind::kQuantiles) {
          spec.quantiles_k = v32;
        } else if (pname == "k") {
          spec.topk_k = v32;
        } else {
          spec.topk_capacity = v32;
        }
        // Range errors point at the value (capacity >= k is checked below).
        MonoidSpec alone = spec;
        alone.topk_capacity = 0;
        if (Status s = ValidateDepth(alone, depth); !s.ok()) {
          pos_ = value_at;
          return Error(s.message());
        }
      } while (Accept(','));
      if (!Accept(')')) return Error("expected ',' or ')'");
    }
    Status s = ValidateDepth(spec, depth);
    if (!s.ok()) return Error(s.message());
    return spec;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Scalar monoids: sums, min, max.

Status Corrupt(std::string_view spec, std::string_view why) {
  return Status::Corruption(std::string(spec) + ": " + std::string(why));
}

Status WrongKind(const std::string& spec, std::string_view takes, const Value& v) {
  return Status::InvalidArgument(spec + " takes " + std::string(takes) + ", not a " +
                                 ValueKindName(v.kind()));
}

// Decodes tag + zig-zag varint.
Result<int64_t> DecodeZigZag(std::string_view e, MonoidTag tag, std::string_view spec) {
  if (e.empty() || static_cast<uint8_t>(e[0]) != static_cast<uint8_t>(tag)) {
    return Corrupt(spec, "unknown encoding tag");
  }
  int64_t v = 0;
  const char* end = e.data() + e.size();
  const char* p = coding::GetZigZag64(e.data() + 1, end, &v);
  if (p == nullptr || p != end) return Corrupt(spec, "malformed varint");
  return v;
}

std::string EncodeZigZag(MonoidTag tag, int64_t v) {
  std::string out(1, static_cast<char>(tag));
  coding::PutZigZag64(&out, v);
  return out;
}

double NormalizeZero(double d) { return d == 0 ? 0.0 : d; }

void PutDouble(std::string* out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  coding::PutLittleEndian64(out, bits);
}

double LoadDouble(const char* p) {
  const uint64_t bits = coding::DecodeLittleEndian64(p);
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

// A number as a double (longs converted), for the double monoids.
Result<double> FiniteDouble(const std::string& spec, const Value& v) {
  double d;
  if (v.kind() == Value::Kind::kLong) {
    d = static_cast<double>(v.long_value());
  } else if (v.kind() == Value::Kind::kDouble) {
    d = v.double_value();
  } else {
    return WrongKind(spec, "a long or a double", v);
  }
  if (!std::isfinite(d)) return Status::InvalidArgument(spec + ": not a finite number");
  return NormalizeZero(d);
}

class SumInt64Monoid final : public Monoid {
 public:
  SumInt64Monoid() { spec_.kind = MonoidSpec::Kind::kSumInt64; }
  const std::string& spec() const override { return text_; }
  std::string Identity() const override { return EncodeZigZag(MonoidTag::kSumInt64, 0); }
  Status Merge(std::string* acc, std::string_view other) const override {
    ASSIGN_OR_RETURN(int64_t a, Decode(*acc));
    ASSIGN_OR_RETURN(int64_t b, Decode(other));
    *acc = EncodeZigZag(MonoidTag::kSumInt64, Add(a, b));
    return Status::OK();
  }
  Status MergeMany(std::string* acc, std::span<const std::string_view> others) const override {
    ASSIGN_OR_RETURN(int64_t a, Decode(*acc));
    for (std::string_view o : others) {
      ASSIGN_OR_RETURN(int64_t b, Decode(o));
      a = Add(a, b);
    }
    *acc = EncodeZigZag(MonoidTag::kSumInt64, a);
    return Status::OK();
  }
  Status Lift(const Value& v, std::string* out) const override {
    if (v.is_null()) {
      *out = Identity();
    } else if (v.kind() == Value::Kind::kLong) {
      *out = EncodeZigZag(MonoidTag::kSumInt64, v.long_value());
    } else if (v.kind() == Value::Kind::kBool) {
      *out = EncodeZigZag(MonoidTag::kSumInt64, v.bool_value() ? 1 : 0);
    } else {
      return WrongKind(text_, "a long or a bool (sum_double takes doubles)", v);
    }
    return Status::OK();
  }
  Result<std::string> ToJson(std::string_view e) const override {
    ASSIGN_OR_RETURN(int64_t a, Decode(e));
    return std::to_string(a);
  }
  Status Validate(std::string_view e) const override { return Decode(e).status(); }

 private:
  // Two's complement wrap-around: associative, unlike saturation.
  static int64_t Add(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  }
  Result<int64_t> Decode(std::string_view e) const {
    return DecodeZigZag(e, MonoidTag::kSumInt64, text_);
  }
  MonoidSpec spec_;
  const std::string text_ = "sum_int64";
};

// sum_double: a Neumaier-compensated sum (sum, compensation): tag 0x03, two
// 8-byte LE doubles. The value is sum + compensation.
class SumDoubleMonoid final : public Monoid {
 public:
  SumDoubleMonoid() { spec_.kind = MonoidSpec::Kind::kSumDouble; }
  const std::string& spec() const override { return text_; }
  std::string Identity() const override { return Encode({0.0, 0.0}); }
  Status Merge(std::string* acc, std::string_view other) const override {
    ASSIGN_OR_RETURN(State a, Decode(*acc));
    ASSIGN_OR_RETURN(State b, Decode(other));
    *acc = Encode(Add(a, b));
    return Status::OK();
  }
  Status MergeMany(std::string* acc, std::span<const std::string_view> others) const override {
    ASSIGN_OR_RETURN(State a, Decode(*acc));
    for (std::string_view o : others) {
      ASSIGN_OR_RETURN(State b, Decode(o));
      a = Add(a, b);
    }
    *acc = Encode(a);
    return Status::OK();
  }
  Status Lift(const Value& v, std::string* out) const override {
    if (v.is_null()) {
      *out = Identity();
      return Status::OK();
    }
    ASSIGN_OR_RETURN(double d, FiniteDouble(text_, v));
    *out = Encode({d, 0.0});
    return Status::OK();
  }
  Result<std::string> ToJson(std::string_view e) const override {
    ASSIGN_OR_RETURN(State a, Decode(e));
    return JsonNumber(a.sum + a.comp);
  }
  Status Validate(std::string_view e) const override { return Decode(e).status(); }

 private:
  struct State {
    double sum;
    double comp;
  };
  static State Add(State a, State b) {
    const double s = a.sum + b.sum;
    const double err =
        std::abs(a.sum) >= std::abs(b.sum) ? (a.sum - s) + b.sum : (b.sum - s) + a.sum;
    return {NormalizeZero(s), NormalizeZero(a.comp + b.comp + err)};
  }
  static std::string Encode(State s) {
    std::string out(1, static_cast<char>(MonoidTag::kSumDouble));
    PutDouble(&out, s.sum);
    PutDouble(&out, s.comp);
    return out;
  }
  Result<State> Decode(std::string_view e) const {
    if (e.size() != 17 ||
        static_cast<uint8_t>(e[0]) != static_cast<uint8_t>(MonoidTag::kSumDouble)) {
      return Corrupt(text_, "unknown encoding tag or wrong size");
    }
    State s{LoadDouble(e.data() + 1), LoadDouble(e.data() + 9)};
    if (!std::isfinite(s.sum) || !std::isfinite(s.comp)) return Corrupt(text_, "not finite");
    return s;
  }
  MonoidSpec spec_;
  const std::string text_ = "sum_double";
};

// min/max of int64: tag, then nothing (no value: the identity) or a zig-zag
// varint.
class ExtremumInt64Monoid final : public Monoid {
 public:
  explicit ExtremumInt64Monoid(bool is_max)
      : is_max_(is_max),
        tag_(is_max ? MonoidTag::kMaxInt64 : MonoidTag::kMinInt64),
        text_(is_max ? "max_int64" : "min_int64") {
    spec_.kind = is_max ? MonoidSpec::Kind::kMaxInt64 : MonoidSpec::Kind::kMinInt64;
  }
  const std::string& spec() const override { return text_; }
  std::string Identity() const override { return std::string(1, static_cast<char>(tag_)); }
  Status Merge(std::string* acc, std::string_view other) const override {
    ASSIGN_OR_RETURN(std::optional<int64_t> a, Decode(*acc));
    ASSIGN_OR_RETURN(std::optional<int64_t> b, Decode(other));
    if (b && (!a || Better(*b, *a))) *acc = EncodeZigZag(tag_, *b);
    return Status::OK();
  }
  Status Lift(const Value& v, std::string* out) const override {
    if (v.is_null()) {
      *out = Identity();
    } else if (v.kind() == Value::Kind::kLong) {
      *out = EncodeZigZag(tag_, v.long_value());
    } else {
      return WrongKind(text_, "a long", v);
    }
    return Status::OK();
  }
  Result<std::string> ToJson(std::string_view e) const override {
    ASSIGN_OR_RETURN(std::optional<int64_t> a, Decode(e));
    return a ? std::to_string(*a) : std::string("null");
  }
  Status Validate(std::string_view e) const override { return Decode(e).status(); }

 private:
  bool Better(int64_t x, int64_t y) const { return is_max_ ? x > y : x < y; }
  Result<std::optional<int64_t>> Decode(std::string_view e) const {
    if (e.size() == 1 && static_cast<uint8_t>(e[0]) == static_cast<uint8_t>(tag_)) {
      return std::optional<int64_t>();
    }
    ASSIGN_OR_RETURN(int64_t v, DecodeZigZag(e, tag_, text_));
    return std::optional<int64_t>(v);
  }
  const bool is_max_;
  const MonoidTag tag_;
  const std::string text_;
  MonoidSpec spec_;
};

// min/max of doubles: tag, then nothing or an 8-byte LE finite double.
// Ordered totally with -0.0 < 0.0, so the result never depends on the order.
class ExtremumDoubleMonoid final : public Monoid {
 public:
  explicit ExtremumDoubleMonoid(bool is_max)
      : is_max_(is_max),
        tag_(is_max ? MonoidTag::kMaxDouble : MonoidTag::kMinDouble),
        text_(is_max ? "max_double" : "min_double") {
    spec_.kind = is_max ? MonoidSpec::Kind::kMaxDouble : MonoidSpec::Kind::kMinDouble;
  }
  const std::string& spec() const override { return text_; }
  std::string Identity() const override { return std::string(1, static_cast<char>(tag_)); }
  Status Merge(std::string* acc, std::string_view other) const override {
    ASSIGN_OR_RETURN(std::optional<double> a, Decode(*acc));
    ASSIGN_OR_RETURN(std::optional<double> b, Decode(other));
    if (b && (!a || Better(*b, *a))) *acc = Encode(*b);
    return Status::OK();
  }
  Status Lift(const Value& v, std::string* out) const override {
    if (v.is_null()) {
      *out = Identity();
      return Status::OK();
    }
    double d;
    if (v.kind() == Value::Kind::kLong) {
      d = static_cast<double>(v.long_value());
    } else if (v.kind() == Value::Kind::kDouble) {
      d = v.double_value();
    } else {
      return WrongKind(text_, "a long or a double", v);
    }
    if (!std::isfinite(d)) return Status::InvalidArgument(text_ + ": not a finite number");
    *out = Encode(d);
    return Status::OK();
  }
  Result<std::string> ToJson(std::string_view e) const override {
    ASSIGN_OR_RETURN(std::optional<double> a, Decode(e));
    return a ? JsonNumber(*a) : std::string("null");
  }
  Status Validate(std::string_view e) const override { return Decode(e).status(); }

 private:
  static bool Less(double x, double y) {
    return x < y || (x == y && std::signbit(x) && !std::signbit(y));
  }
  bool Better(double x, double y) const { return is_max_ ? Less(y, x) : Less(x, y); }
  std::string Encode(double d) const {
    std::string out(1, static_cast<char>(tag_));
    PutDouble(&out, d);
    return out;
  }
  Result<std::optional<double>> Decode(std::string_view e) const {
    if (e.empty() || static_cast<uint8_t>(e[0]) != static_cast<uint8_t>(tag_)) {
      return Corrupt(text_, "unknown encoding tag");
    }
    if (e.size() == 1) return std::optional<double>();
    if (e.size() != 9) return Corrupt(text_, "wrong size");
    const double d = LoadDouble(e.data() + 1);
    if (!std::isfinite(d)) return Corrupt(text_, "not finite");
    return std::optional<double>(d);
  }
  const bool is_max_;
  const MonoidTag tag_;
  const std::string text_;
  MonoidSpec spec_;
};

// ---------------------------------------------------------------------------
// tuple: tag 0x0B, varint field count, then per field a varint length and
// the field monoid's encoding.

class TupleMonoid final : public Monoid {
 public:
  TupleMonoid(MonoidSpec spec, std::vector<std::shared_ptr<const Monoid>> fields)
      : spec_(std::move(spec)), text_(spec_.ToString()), fields_(std::move(fields)) {}

  const std::string& spec() const override { return text_; }
  std::string Identity() const override {
    std::vector<std::string> parts;
    for (const auto& f : fields_) parts.push_back(f->Identity());
    return Encode(parts);
  }
  Status Merge(std::string* acc, std::string_view other) const override {
    std::vector<std::string_view> a;
    std::vector<std::string_view> b;
    RETURN_IF_ERROR(Parse(*acc, &a));
    RETURN_IF_ERROR(Parse(other, &b));
    std::vector<std::string> out(fields_.size());
    for (size_t i = 0; i < fields_.size(); ++i) {
      out[i] = std::string(a[i]);
      Status s = fields_[i]->Merge(&out[i], b[i]);
      if (!s.ok()) return s.WithContext(FieldContext(i));
    }
    *acc = Encode(out);
    return Status::OK();
  }
  Status MergeMany(std::string* acc, std::span<const std::string_view> others) const override {
    std::vector<std::string_view> a;
    RETURN_IF_ERROR(Parse(*acc, &a));
    std::vector<std::vector<std::string_view>> parsed(others.size());
    for (size_t j = 0; j < others.size(); ++j) RETURN_IF_ERROR(Parse(others[j], &parsed[j]));
    std::vector<std::string> out(fields_.size());
    std::vector<std::string_view> column(others.size());
    for (size_t i = 0; i < fields_.size(); ++i) {
      out[i] = std::string(a[i]);
      for (size_t j = 0; j < others.size(); ++j) column[j] = parsed[j][i];
      Status s = fields_[i]->MergeMany(&out[i], column);
      if (!s.ok()) return s.WithContext(FieldContext(i));
    }
    *acc = Encode(out);
    return Status::OK();
  }
  Status Lift(const Value& v, std::string* out) const override {
    if (v.is_null()) {
      *out = Identity();
      return Status::OK();
    }
    if (v.kind() != Value::Kind::kTuple) return WrongKind(text_, "a tuple", v);
    if (v.tuple().size() != fields_.size()) {
      return Status::InvalidArgument(text_ + " takes a tuple of " + std::to_string(fields_.size()) +
                                     " values, not " + std::to_string(v.tuple().size()));
    }
    std::vector<std::string> parts(fields_.size());
    for (size_t i = 0; i < fields_.size(); ++i) {
      Status s = fields_[i]->Lift(v.tuple()[i], &parts[i]);
      if (!s.ok()) return s.WithContext(FieldContext(i));
    }
    *out = Encode(parts);
    return Status::OK();
  }
  Result<std::string> ToJson(std::string_view e) const override {
    std::vector<std::string_view> a;
    RETURN_IF_ERROR(Parse(e, &a));
    std::string out = "{";
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (i > 0) out += ',';
      ASSIGN_OR_RETURN(std::string field, fields_[i]->ToJson(a[i]));
      out += JsonQuote(spec_.fields[i].first) + ":" + field;
    }
    out += "}";
    return out;
  }
  Status Validate(std::string_view e) const override {
    std::vector<std::string_view> a;
    RETURN_IF_ERROR(Parse(e, &a));
    for (size_t i = 0; i < fields_.size(); ++i) {
      Status s = fields_[i]->Validate(a[i]);
      if (!s.ok()) return s.WithContext(FieldContext(i));
    }
    return Status::OK();
  }

 private:
  std::string FieldContext(size_t i) const {
    return "tuple field \"" + spec_.fields[i].first + "\"";
  }
  static std::string Encode(const std::vector<std::string>& parts) {
    std::string out(1, static_cast<char>(MonoidTag::kTuple));
    coding::PutVarint64(&out, parts.size());
    for (const std::string& p : parts) {
      coding::PutVarint64(&out, p.size());
      out += p;
    }
    return out;
  }
  Status Parse(std::string_view e, std::vector<std::string_view>* out) const {
    out->clear();
    const char* p = e.data();
    const char* end = e.data() + e.size();
    if (p == end || static_cast<uint8_t>(*p) != static_cast<uint8_t>(MonoidTag::kTuple)) {
      return Corrupt(text_, "unknown encoding tag");
    }
    ++p;
    uint64_t n = 0;
    if ((p = coding::GetVarint64(p, end, &n)) == nullptr) return Corrupt(text_, "truncated");
    if (n != fields_.size()) return Corrupt(text_, "wrong number of fields");
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t len = 0;
      if ((p = coding::GetVarint64(p, end, &len)) == nullptr) return Corrupt(text_, "truncated");
      if (len > static_cast<uint64_t>(end - p))
        return Corrupt(text_, "field longer than the input");
      out->emplace_back(p, len);
      p += len;
    }
    if (p != end) return Corrupt(text_, "trailing bytes");
    return Status::OK();
  }

  MonoidSpec spec_;
  std::string text_;
  std::vector<std::shared_ptr<const Monoid>> fields_;
};

Result<std::shared_ptr<const Monoid>> Make(const MonoidSpec& spec) {
  using Kind = MonoidSpec::Kind;
  switch (spec.kind) {
    case Kind::kCount:
      return std::shared_ptr<const Monoid>(std::make_shared<CountMonoid>());
    case Kind::kSumInt64:
      return std::shared_ptr<const Monoid>(std::make_shared<SumInt64Monoid>());
    case Kind::kSumDouble:
      return std::shared_ptr<const Monoid>(std::make_shared<SumDoubleMonoid>());
    case Kind::kMinInt64:
      return std::shared_ptr<const Monoid>(std::make_shared<ExtremumInt64Monoid>(false));
    case Kind::kMaxInt64:
      return std::shared_ptr<const Monoid>(std::make_shared<ExtremumInt64Monoid>(true));
    case Kind::kMinDouble:
      return std::shared_ptr<const Monoid>(std::make_shared<ExtremumDoubleMonoid>(false));
    case Kind::kMaxDouble:
      return std::shared_ptr<const Monoid>(std::make_shared<ExtremumDoubleMonoid>(true));
    case Kind::kHll:
      return std::shared_ptr<const Monoid>(std::make_shared<HllMonoid>(spec));
    case Kind::kTopK:
      return std::shared_ptr<const Monoid>(std::make_shared<TopKMonoid>(spec));
    case Kind::kQuantiles:
      return std::shared_ptr<const Monoid>(std::make_shared<QuantilesMonoid>(spec));
    case Kind::kTuple: {
      std::vector<std::shared_ptr<const Monoid>> fields;
      for (const auto& [name, sub] : spec.fields) {
        ASSIGN_OR_RETURN(std::shared_ptr<const Monoid> f, Make(sub));
        fields.push_back(std::move(f));
      }
      return std::shared_ptr<const Monoid>(std::make_shared<TupleMonoid>(spec, std::move(fields)));
    }
  }
  return Status::InvalidArgument("unknown monoid kind");
}

}  // namespace

// ---------------------------------------------------------------------------

std::string MonoidSpec::ToString() const {
  std::string out(KindText(kind));
  switch (kind) {
    case Kind::kHll:
      out += "(p=" + std::to_string(hll_precision) + ")";
      break;
    case Kind::kTopK:
      out += "(k=" + std::to_string(topk_k) +
             ",capacity=" + std::to_string(EffectiveTopKCapacity()) + ")";
      break;
    case Kind::kQuantiles:
      out += "(k=" + std::to_string(quantiles_k) + ")";
      break;
    case Kind::kTuple: {
      out += "(";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out += ",";
        out += fields[i].first + ":" + fields[i].second.ToString();
      }
      out += ")";
      break;
    }
    default:
      break;
  }
  return out;
}

uint32_t MonoidSpec::EffectiveTopKCapacity() const {
  if (topk_capacity != 0) return topk_capacity;
  return std::max<uint32_t>(100, 10 * topk_k);
}

Result<MonoidSpec> ParseMonoidSpec(std::string_view text) { return SpecParser(text).ParseAll(); }

Status ValidateMonoidSpec(const MonoidSpec& spec) { return ValidateDepth(spec, 0); }

Result<std::shared_ptr<const Monoid>> MakeMonoid(const MonoidSpec& spec) {
  RETURN_IF_ERROR(ValidateMonoidSpec(spec));
  return Make(spec);
}

Result<std::shared_ptr<const Monoid>> MakeMonoid(std::string_view spec) {
  ASSIGN_OR_RETURN(MonoidSpec parsed, ParseMonoidSpec(spec));
  return Make(parsed);
}

Status Monoid::Lift(const Value&, std::string*) const {
  return Status::InvalidArgument(spec() + " takes no typed values");
}

Status Monoid::Validate(std::string_view encoded) const {
  std::string acc = Identity();
  return Merge(&acc, encoded);
}

Status Monoid::MergeMany(std::string* acc, std::span<const std::string_view> others) const {
  std::string work = *acc;
  for (std::string_view o : others) RETURN_IF_ERROR(Merge(&work, o));
  *acc = std::move(work);
  return Status::OK();
}

// ---------------------------------------------------------------------------
// count

const std::string& CountMonoid::spec() const {
  static const std::string kSpec = "count";
  return kSpec;
}

std::string CountMonoid::Encode(uint64_t n) {
  std::string out(1, static_cast<char>(MonoidTag::kCount));
  coding::PutVarint64(&out, n);
  return out;
}

const std::string& CountMonoid::One() {
  static const std::string kOne = Encode(1);
  return kOne;
}

Result<uint64_t> CountMonoid::Decode(std::string_view e) {
  if (e.empty() || static_cast<uint8_t>(e[0]) != static_cast<uint8_t>(MonoidTag::kCount)) {
    return Status::Corruption("count: unknown encoding tag");
  }
  uint64_t n = 0;
  const char* end = e.data() + e.size();
  const char* p = coding::GetVarint64(e.data() + 1, end, &n);
  if (p == nullptr || p != end) return Status::Corruption("count: malformed varint");
  return n;
}

Status CountMonoid::Merge(std::string* acc, std::string_view other) const {
  ASSIGN_OR_RETURN(uint64_t a, Decode(*acc));
  ASSIGN_OR_RETURN(uint64_t b, Decode(other));
  acc->resize(1);
  coding::PutVarint64(acc, a + b);
  return Status::OK();
}

Status CountMonoid::MergeMany(std::string* acc, std::span<const std::string_view> others) const {
  ASSIGN_OR_RETURN(uint64_t a, Decode(*acc));
  for (std::string_view o : others) {
    ASSIGN_OR_RETURN(uint64_t b, Decode(o));
    a += b;
  }
  acc->resize(1);
  coding::PutVarint64(acc, a);
  return Status::OK();
}

Status CountMonoid::Lift(const Value&, std::string* out) const {
  *out = One();
  return Status::OK();
}

Result<std::string> CountMonoid::ToJson(std::string_view encoded) const {
  ASSIGN_OR_RETURN(uint64_t n, Decode(encoded));
  return std::to_string(n);
}

}  // namespace braid::views
