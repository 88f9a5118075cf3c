// Datum: a generic, schema-typed Avro value for tools, tests and defaults.
//
// A Datum holds a value of any Avro type. It knows its Type; records, enums
// and fixed values also point at their schema Node (for field names and
// symbols), so such a Datum must not outlive the Schema it was made for
// (keep the Schema alongside). Hot paths do not build Datums; they decode
// straight from bytes (see binary.h's Decoder).
//
// Representation: bytes, string and fixed hold their bytes in a std::string;
// a record holds its field values by field index; an enum its symbol index;
// an array its items; a map its entries in insertion order (duplicate keys are
// kept as decoded); a union its branch index and one boxed value.
//
// Thread safety: as for std::vector (const use from many threads is safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "avro/schema.h"

namespace braid::avro {

namespace internal {
struct DatumAccess;  // in-place decoding into a reused Datum (binary.cc)
}  // namespace internal

class Datum {
 public:
  // The null value.
  Datum() = default;

  // Constructors per type.
  static Datum Null() { return Datum(); }
  static Datum Boolean(bool v);
  static Datum Int(int32_t v);
  static Datum Long(int64_t v);
  static Datum Float(float v);
  static Datum Double(double v);
  static Datum Bytes(std::string v);
  static Datum String(std::string v);
  // Precondition: schema.type() == kFixed (the size is checked by encoders).
  static Datum Fixed(const Node& schema, std::string bytes);
  // Precondition: schema.type() == kEnum and index < symbols().size().
  static Datum Enum(const Node& schema, size_t index);
  // A record of `schema` whose fields hold the given values (one per field,
  // in order). Precondition: schema.type() == kRecord.
  static Datum Record(const Node& schema, std::vector<Datum> fields);
  static Datum Array(std::vector<Datum> items);
  static Datum Map(std::vector<std::pair<std::string, Datum>> entries);
  static Datum Union(size_t branch, Datum value);
  // A value of `schema` with every part set to its zero (null, false, 0, "",
  // fixed of zero bytes, first enum symbol, empty collections, union branch 0,
  // records with each field's zero). Recursion deeper than 64 levels stops at
  // null. For building values field by field.
  static Datum ZeroOf(const Node& schema);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  // Record, enum and fixed: the schema node; nullptr for other types.
  const Node* node() const { return node_; }

  // Scalars. Precondition: type() is the named type.
  bool boolean() const { return scalar_.b; }
  int32_t int_value() const { return scalar_.i; }
  int64_t long_value() const { return scalar_.l; }
  float float_value() const { return scalar_.f; }
  double double_value() const { return scalar_.d; }
  // Bytes, string and fixed: the raw bytes.
  const std::string& bytes() const { return bytes_; }
  std::string& mutable_bytes() { return bytes_; }

  // Enum: the symbol index and symbol.
  size_t enum_index() const { return index_; }
  const std::string& enum_symbol() const;

  // Record: field values by index.
  size_t field_count() const { return children_.size(); }
  const Datum& field(size_t i) const { return children_[i]; }
  Datum& field(size_t i) { return children_[i]; }
  // Record: the value of the field named `name`, or nullptr.
  const Datum* FindField(std::string_view name) const;
  Datum* FindField(std::string_view name);

  // Array: the items.
  const std::vector<Datum>& items() const { return children_; }
  std::vector<Datum>& mutable_items() { return children_; }

  // Map: entries in insertion order.
  size_t map_size() const { return keys_.size(); }
  const std::string& map_key(size_t i) const { return keys_[i]; }
  const Datum& map_value(size_t i) const { return children_[i]; }
  Datum& map_value(size_t i) { return children_[i]; }
  // Appends an entry (does not replace an existing key).
  void MapAppend(std::string key, Datum value);
  // The value of the last entry with this key, or nullptr.
  const Datum* FindMapValue(std::string_view key) const;

  // Union: the branch index and the branch's value.
  size_t branch() const { return index_; }
  const Datum& union_value() const { return children_[0]; }
  Datum& union_value() { return children_[0]; }

  // Deep equality of type and value. Floats and doubles compare by bit
  // pattern (so NaN equals the same NaN); schema nodes are not compared.
  friend bool operator==(const Datum& a, const Datum& b);

  // A schema-less, human-readable JSON-like rendering (for tests and logs):
  // unions as {"#i": v}, bytes/fixed as hex strings.
  std::string DebugString() const;
  friend std::ostream& operator<<(std::ostream& os, const Datum& d) {
    return os << d.DebugString();
  }

 private:
  friend struct internal::DatumAccess;
  Type type_ = Type::kNull;
  const Node* node_ = nullptr;
  union Scalar {
    bool b;
    int32_t i;
    int64_t l;
    float f;
    double d;
  } scalar_{.l = 0};
  size_t index_ = 0;               // enum index / union branch
  std::string bytes_;              // bytes, string, fixed
  std::vector<Datum> children_;    // record fields / array items / map values / union value
  std::vector<std::string> keys_;  // map keys, parallel to children_
};

}  // namespace braid::avro
