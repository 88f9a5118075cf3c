// Reader/writer schema compatibility, in the style of Avro Java's
// SchemaCompatibility and python3-avro's ReaderWriterCompatibilityChecker, plus
// the schema-registry compatibility levels (BACKWARD, FORWARD, FULL and their
// transitive forms).
//
// A reader schema is compatible with a writer schema if the reader can decode
// every datum the writer may write (see resolve.h for what decoding does). The
// checker is static and conservative in the same places as Java's: a writer
// union must have every branch readable; a reader union needs one compatible
// branch; named types compare the reader's simple name (or one of its aliases)
// with the writer's name; logical-type attributes (decimal precision/scale) are
// not checked.
//
// Thread safety: all functions are pure; any number of threads may call them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "avro/schema.h"
#include "base/status.h"

namespace braid::avro {

// The kinds of incompatibility (the names of Java's SchemaIncompatibilityType).
enum class IncompatibilityKind : uint8_t {
  kNameMismatch,
  kFixedSizeMismatch,
  kMissingEnumSymbols,
  kReaderFieldMissingDefaultValue,
  kTypeMismatch,
  kMissingUnionBranch,
};

// "NAME_MISMATCH", "FIXED_SIZE_MISMATCH", "MISSING_ENUM_SYMBOLS",
// "READER_FIELD_MISSING_DEFAULT_VALUE", "TYPE_MISMATCH", "MISSING_UNION_BRANCH".
std::string_view IncompatibilityKindName(IncompatibilityKind kind);

// One reason why a reader cannot read a writer's data.
struct Incompatibility {
  IncompatibilityKind kind;
  // The same text python3-avro puts in its messages, e.g.
  // "reader type: int not compatible with writer type: long", "expected: Enum2",
  // "expected: 8, found: 4", "{'C'}" (writer symbols missing in the reader),
  // "reader union lacking writer type: STRING", or the reader field's name.
  std::string message;
  // JSON-pointer-like path in the reader schema, e.g. "/", "/fields/1/type/size",
  // "/items", "/values", "/symbols", "/name", "/fields/0", or "/1" for a writer
  // union branch. As in Java and python, the path restarts at "/" below a writer
  // union (each branch is checked as a schema of its own).
  std::string location;
};

// The outcome of CheckReaderWriter.
struct CompatibilityResult {
  bool compatible = true;
  // Empty iff compatible; in traversal order (the order python3-avro reports).
  std::vector<Incompatibility> incompatibilities;

  // One human-readable line per incompatibility:
  // "TYPE_MISMATCH at /fields/0/type: reader type: int not compatible with writer type: long".
  std::vector<std::string> Messages() const;
};

// Can `reader` read data written with `writer`? Never fails; recursion through
// named types is handled (a pair already being checked counts as compatible).
CompatibilityResult CheckReaderWriter(const Node& reader, const Node& writer);
CompatibilityResult CheckReaderWriter(const Schema& reader, const Schema& writer);

// Schema-registry compatibility levels (Confluent's names).
enum class CompatibilityLevel : uint8_t {
  kNone,
  kBackward,            // the new schema can read data written with the latest one
  kBackwardTransitive,  // ... with every existing one
  kForward,             // the latest schema can read data written with the new one
  kForwardTransitive,   // every existing schema can read the new one's data
  kFull,                // backward and forward against the latest
  kFullTransitive,      // backward and forward against every existing schema
};

// "NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
// "FULL", "FULL_TRANSITIVE".
std::string_view CompatibilityLevelName(CompatibilityLevel level);
// Parses one of the names above (exact, upper case). InvalidArgument otherwise.
Result<CompatibilityLevel> ParseCompatibilityLevel(std::string_view name);

// The outcome of a registry-level check.
struct CompatibilityCheck {
  bool compatible = true;
  // Human-readable reasons (empty when compatible), each prefixed by which
  // existing schema and direction failed, e.g.
  // "new schema cannot read version 3 (BACKWARD): TYPE_MISMATCH at /fields/0/type: ...".
  std::vector<std::string> messages;
};

// Checks `new_schema` against `existing` (oldest first, newest last; "version k"
// in messages is the 1-based position in this vector) under `level`. The
// non-transitive levels compare only with existing.back(); the transitive ones
// with every element. An empty `existing` and kNone are always compatible.
CompatibilityCheck Check(CompatibilityLevel level, const Schema& new_schema,
                         const std::vector<Schema>& existing);

}  // namespace braid::avro
