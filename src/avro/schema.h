// Avro schemas (specification 1.11, reading 1.12 additions): parsing from
// JSON, the immutable node graph, printing back to JSON, Parsing Canonical
// Form (PCF) and fingerprints (CRC-64-AVRO, MD5, SHA-256).
//
// Model. A Schema owns an immutable graph of Nodes. Nodes refer to their
// children by `const Node*`; every Node of a Schema (and of the schemas it was
// parsed against, see ParseOptions::named_types) stays alive as long as any
// copy of the Schema or any NodePtr obtained from it is alive. A reference to
// a previously defined named type is not a separate node: it points at the
// definition itself, so a recursive type is a cycle in the graph. Walkers that
// may meet a recursive type must memoize by Node address (the identity of a
// type within a Schema). Printers write a named type in full at its first
// occurrence (depth-first, fields in order) and by fullname afterwards.
//
// Thread safety: Schema and Node are immutable after parsing; any number of
// threads may use them concurrently. Copying a Schema or NodePtr is a
// shared_ptr copy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace braid::avro {

// JSON values inside schemas (defaults, custom properties). ordered_json keeps
// the members of objects in their input order, so a schema prints back with
// its properties in the order they were written.
using Json = nlohmann::ordered_json;

// The 14 Avro types (8 primitive, 6 complex).
enum class Type : uint8_t {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

// "null", "boolean", ..., "record", "enum", "array", "map", "union", "fixed".
std::string_view TypeName(Type type);
inline bool IsPrimitive(Type t) { return t <= Type::kString; }
// record, enum and fixed have names (and namespaces, aliases).
inline bool IsNamed(Type t) { return t == Type::kRecord || t == Type::kEnum || t == Type::kFixed; }

// Logical types. A logical type annotates its base type and never changes the
// encoding. An unknown or invalid logical type (wrong base type, bad decimal
// precision/scale, wrong fixed size...) is not an error: the node gets kNone and
// the "logicalType" attribute (and its companions) are kept as custom props.
enum class LogicalType : uint8_t {
  kNone,
  kDecimal,               // bytes or fixed; precision() and scale()
  kBigDecimal,            // bytes (1.12); no precision/scale attributes allowed
  kUuid,                  // string, or fixed of size 16 (1.12)
  kDate,                  // int: days since 1970-01-01
  kTimeMillis,            // int: ms after midnight
  kTimeMicros,            // long: us after midnight
  kTimestampMillis,       // long: ms since the Unix epoch, UTC
  kTimestampMicros,       // long
  kTimestampNanos,        // long (1.12)
  kLocalTimestampMillis,  // long: local wall-clock ms since 1970-01-01T00:00
  kLocalTimestampMicros,  // long
  kLocalTimestampNanos,   // long (1.12)
  kDuration,              // fixed of size 12: months, days, ms as LE uint32
};

// "decimal", "uuid", "date", ... ("" for kNone).
std::string_view LogicalTypeName(LogicalType type);

// A record field's sort order ("order" attribute). Default kAscending.
enum class SortOrder : uint8_t { kAscending, kDescending, kIgnore };
std::string_view SortOrderName(SortOrder order);

class Node;
// A shared handle to a node; keeps the node's whole Schema alive.
using NodePtr = std::shared_ptr<const Node>;

// One field of a record.
struct Field {
  std::string name;
  // Position of the field in its record (0-based); also its position in the
  // binary encoding and in a record Datum.
  size_t index = 0;
  // Never null.
  const Node* type = nullptr;
  std::string doc;  // empty if absent
  // Field aliases exactly as written (used by schema resolution).
  std::vector<std::string> aliases;
  SortOrder order = SortOrder::kAscending;
  // The "default" attribute as written (JSON null is a valid default, so test
  // has_default, not default_json.is_null()). Validated at parse time against
  // `type` (for a union: against the first branch, see ParseOptions).
  bool has_default = false;
  Json default_json;
  // The default value in Avro binary encoding under `type` (for a union
  // default: the branch index followed by the value). Lets a resolving decoder
  // fill a missing field by decoding these bytes. Empty if !has_default (and
  // also empty for e.g. a null default: test has_default).
  std::string default_binary;
  // Custom attributes of the field (everything not defined by the spec).
  Json props = Json::object();
};

// A node of the schema graph: one type. Accessors that belong to a different
// type than type() return empty values (see each accessor's precondition;
// violating a precondition is a programming error checked by DCHECK).
class Node {
 public:
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  Type type() const { return type_; }
  LogicalType logical_type() const { return logical_type_; }
  bool is_named() const { return IsNamed(type_); }

  // Decimal attributes (logical_type() == kDecimal); 0 otherwise.
  int precision() const { return precision_; }
  int scale() const { return scale_; }

  // Named types (record, enum, fixed); empty strings for other types.
  // name(): the simple name; name_space(): "" for the null namespace;
  // fullname(): "ns.name" or "name".
  const std::string& name() const { return name_; }
  const std::string& name_space() const { return namespace_; }
  const std::string& fullname() const { return fullname_; }
  // Aliases as fullnames: an alias without a dot is taken relative to this
  // type's namespace (spec: type a.b with aliases c, x.y -> a.c, x.y).
  const std::vector<std::string>& aliases() const { return aliases_; }
  // The "doc" attribute (records, enums, fixed); empty if absent.
  const std::string& doc() const { return doc_; }
  // Custom attributes not defined by the spec (a JSON object, possibly
  // empty), including an unknown or invalid "logicalType" and its companions.
  const Json& props() const { return props_; }

  // Record: the fields in schema order (fields()[i].index == i).
  const std::vector<Field>& fields() const { return fields_; }
  // Record: the field named `name` (exact name, not aliases), or nullptr.
  const Field* FindField(std::string_view name) const;

  // Enum: the symbols in order.
  const std::vector<std::string>& symbols() const { return symbols_; }
  // Enum: the index of `symbol`, or nullopt.
  std::optional<size_t> SymbolIndex(std::string_view symbol) const;
  // Enum: the index of the "default" symbol (used only by resolution), or
  // nullopt if the enum has none.
  std::optional<size_t> enum_default() const { return enum_default_; }

  // Array: the item type. Precondition: type() == kArray.
  const Node& items() const { return *child_; }
  // Map: the value type (keys are strings). Precondition: type() == kMap.
  const Node& values() const { return *child_; }
  // Union: the branches in order (possibly empty: "[]" is a valid schema).
  const std::vector<const Node*>& branches() const { return branches_; }
  // Union: the index of the first branch with this type() (and, for named
  // branches, `fullname` if non-empty), or nullopt.
  std::optional<size_t> FindBranch(Type type, std::string_view fullname = {}) const;

  // Fixed: the size in bytes.
  size_t fixed_size() const { return fixed_size_; }

  // A lower bound of the number of bytes any value of this type occupies in
  // the binary encoding (0 for null, fixed(0), records of such fields and
  // types on a recursion cycle). Decoders use it to bound collection counts.
  size_t min_encoded_size() const { return min_size_; }

  // The name used for this branch's key in the JSON encoding of a union:
  // the fullname for named types, else TypeName(type()).
  std::string_view JsonBranchName() const;

  // This node printed as a standalone schema (named types defined at their
  // first occurrence inside this subtree). Never fails.
  std::string ToJson(bool pretty = false) const;
  // Parsing Canonical Form of this node as a standalone schema.
  std::string CanonicalForm() const;

 private:
  friend class SchemaBuilder;
  Node() = default;

  Type type_ = Type::kNull;
  LogicalType logical_type_ = LogicalType::kNone;
  int precision_ = 0;
  int scale_ = 0;
  std::string name_;
  std::string namespace_;
  std::string fullname_;
  std::vector<std::string> aliases_;
  std::string doc_;
  Json props_ = Json::object();
  std::vector<Field> fields_;
  std::unordered_map<std::string_view, size_t> field_index_;  // views into fields_
  std::vector<std::string> symbols_;
  std::unordered_map<std::string_view, size_t> symbol_index_;  // views into symbols_
  std::optional<size_t> enum_default_;
  const Node* child_ = nullptr;  // array items / map values
  std::vector<const Node*> branches_;
  size_t fixed_size_ = 0;
  size_t min_size_ = 0;
};

class Schema;

// Options for ParseSchema.
struct ParseOptions {
  // When true, a union field default may match any branch (Avro 1.12); when
  // false it must match the first branch (Avro 1.11, what Java 1.11 and the
  // Confluent registry enforce). Default: false.
  bool union_default_any_branch = false;
  // Named types that the schema may reference by name without defining them
  // (like Java's Schema.Parser reused across schemas, or registry schema
  // references). The new Schema keeps them alive. Default: none.
  std::vector<Schema> named_types;
};

// An immutable, parsed schema; a cheap-to-copy handle (shared_ptr). A
// default-constructed Schema is the "null" schema.
class Schema {
 public:
  Schema();

  // The root node; valid as long as this Schema (or a copy) lives.
  const Node& root() const { return *root_; }
  // The root as a shared handle that keeps the whole schema alive.
  NodePtr root_ptr() const;
  // Shared handle for any node of this schema (precondition: `node` belongs
  // to this schema or to one of its ParseOptions::named_types).
  NodePtr Share(const Node* node) const;

  // The named type with this fullname defined in (or imported into) this
  // schema, or nullptr.
  const Node* FindNamed(std::string_view fullname) const;

  // The schema as JSON, keeping doc, aliases, defaults, order, logical types
  // and custom props. Parsing the output yields an equal schema.
  std::string ToJson(bool pretty = false) const;
  // Parsing Canonical Form (exact per spec; computed once at parse time).
  const std::string& CanonicalForm() const;
  // CRC-64-AVRO (Rabin) fingerprint of CanonicalForm().
  uint64_t Fingerprint64() const;
  // The same fingerprint as 8 little-endian bytes (single-object encoding).
  std::string Fingerprint64Bytes() const;
  // MD5 (16 raw bytes) and SHA-256 (32 raw bytes) of CanonicalForm().
  std::string FingerprintMd5() const;
  std::string FingerprintSha256() const;

  // Equal canonical forms: the two schemas are indistinguishable for binary
  // decoding (doc, aliases, defaults and props are ignored).
  bool SameCanonicalForm(const Schema& other) const {
    return CanonicalForm() == other.CanonicalForm();
  }

 private:
  friend class SchemaBuilder;
  struct Data;
  explicit Schema(std::shared_ptr<const Data> data);
  std::shared_ptr<const Data> data_;
  const Node* root_ = nullptr;
};

// Parses a schema from its JSON text. Errors (InvalidArgument) name the
// location, e.g. "field 'b' of record 'x.R': unknown type 'Foo'". Checked:
// JSON syntax; names and namespaces ([A-Za-z_][A-Za-z0-9_]*, dot-separated);
// no redefinition of a fullname or of a primitive name; references only to
// names already defined; record fields (unique names, valid order); enum
// symbols (valid, unique, default among them); fixed size (non-negative
// integer); unions (no directly nested union, no two branches of the same
// unnamed type or the same fullname); field defaults valid for their type.
// Invalid logical types degrade to their base type (not an error).
Result<Schema> ParseSchema(std::string_view json, const ParseOptions& options = {});
// The same, from an already parsed JSON value. (A separate name: Json
// converts implicitly from strings, which would make overloads ambiguous.)
Result<Schema> ParseSchemaJson(const Json& json, const ParseOptions& options = {});

// CRC-64-AVRO (Rabin) of `data`: reflected, poly/init 0xc15d213aa4d7a795.
// Crc64Avro("") == 0xc15d213aa4d7a795.
uint64_t Crc64Avro(std::string_view data);
// Raw digests (OpenSSL EVP): 16 and 32 bytes.
std::string Md5Digest(std::string_view data);
std::string Sha256Digest(std::string_view data);
// Lower-case hex of raw bytes (for printing digests).
std::string ToHex(std::string_view bytes);

}  // namespace braid::avro
