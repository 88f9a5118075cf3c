// braid::Value: one typed input value of a view's aggregation, as a view
// emits it (a YAML view's `value` expression, a plugin view's
// ViewEmitter::Emit). The view's monoid turns it into an element of its
// encoding (count ignores it; sums take numbers; HyperLogLog and top-k take
// strings or numbers; quantiles take numbers; a tuple takes a tuple of one
// value per field, in the order of its fields).
//
// Part of braid's public plugin API (include/braid/): standard C++ only.
//
// Thread safety: a Value is a plain value type (copyable, movable); const
// use from many threads is safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid {

class Value {
 public:
  // Serialized nowhere; the order is part of the API only.
  enum class Kind : uint8_t { kNull, kBool, kLong, kDouble, kString, kTuple };

  // The null value (a missing or null field).
  Value() = default;
  static Value Bool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.i_ = b ? 1 : 0;
    return v;
  }
  static Value Long(int64_t n) {
    Value v;
    v.kind_ = Kind::kLong;
    v.i_ = n;
    return v;
  }
  static Value Double(double d) {
    Value v;
    v.kind_ = Kind::kDouble;
    v.d_ = d;
    return v;
  }
  static Value String(std::string s) {
    Value v;
    v.kind_ = Kind::kString;
    v.s_ = std::move(s);
    return v;
  }
  static Value String(std::string_view s) { return String(std::string(s)); }
  static Value String(const char* s) { return String(std::string(s)); }
  static Value Tuple(std::vector<Value> fields) {
    Value v;
    v.kind_ = Kind::kTuple;
    v.t_ = std::move(fields);
    return v;
  }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  // Accessors: precondition kind() is the named kind (otherwise 0, 0.0, ""
  // or an empty tuple).
  bool bool_value() const { return kind_ == Kind::kBool && i_ != 0; }
  int64_t long_value() const { return kind_ == Kind::kLong ? i_ : 0; }
  double double_value() const { return kind_ == Kind::kDouble ? d_ : 0.0; }
  const std::string& string_value() const { return s_; }
  std::string& mutable_string() { return s_; }
  const std::vector<Value>& tuple() const { return t_; }

 private:
  Kind kind_ = Kind::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::vector<Value> t_;
};

// "null", "bool", "long", "double", "string", "tuple".
inline const char* ValueKindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kLong:
      return "long";
    case Value::Kind::kDouble:
      return "double";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kTuple:
      return "tuple";
  }
  return "?";
}

}  // namespace braid
