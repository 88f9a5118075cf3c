// FieldExtractor: a compiled projection. The hot paths of the batch and
// speed layers and the archiver need a few fields of each Avro record, not
// the whole value. A FieldExtractor compiles a list of field paths against a
// writer schema (optionally resolved to a reader schema) into the compiled
// decoder's op program (decoder_program.h, CompiledDecoder::CompileProjection):
// the wanted values are delivered, everything else is skipped with the skip
// ops, never materialized. Run once per record, it fills a reusable
// ExtractedFields with one typed value per path.
//
// Path syntax. A path is a list of steps separated by '.':
//  * in a record, a step is a field name (`url`, `person.id`);
//  * at a union, a step may select a branch: a named type's full name, which
//    spans several steps (`payload.com.acme.Click.x`), or its simple name
//    (`payload.Click.x`), or the type name of an unnamed branch (`null`,
//    `boolean`, `int`, `long`, `float`, `double`, `bytes`, `string`, `array`,
//    `map`: `referrer.string`). If the steps could select two different
//    branches, the path is ambiguous (an error). If no branch is selected and
//    the union has exactly one non-null branch, the union is passed through
//    (`person.id` where person is ["null", Person]); a union with several
//    non-null branches needs a selector. A selector wins over a field of the
//    same name in the passed-through branch;
//  * the empty path "" is the whole value (for a scalar or union root).
// Avro names cannot contain '.', so no escaping is needed. A path ends at a
// scalar: null, boolean, int, long, float, double, bytes, string, fixed or
// enum, or a union of such types. A record, array or map at the end (or in a
// union at the end) is an error: the extractor hands out scalars (decode
// collections with CompiledDecoder); select a union branch to get through a
// union that has records. A path never goes through an array or a map. The
// same path may be given twice, and a union path together with one of its
// branches (`referrer` and `referrer.string`): each gets its own value.
//
// Values (ExtractedFields): per path, a ValueKind and a typed getter:
//   kString    string, bytes, fixed (the bytes), enum (the symbol): GetString
//   kLong      int, long (also time-millis, time-micros): GetLong
//   kTimestamp int/long with logical type timestamp-millis/-micros/-nanos,
//              local-timestamp-millis/-micros/-nanos or date:
//              GetTimestampMillis (floor to milliseconds; date: days *
//              86,400,000); GetLong gives the raw number in its own unit
//   kDouble    float, double: GetDouble
//   kBool      boolean: GetBool
//   kNull      an Avro null (a null type, or the null branch of a union)
//   kAbsent    the record does not hold the path: a union on the path is on
//              another branch (`payload.Click.x` for a View), or the writer
//              lacks the path (and the reader gives no default)
// A getter of the wrong kind returns nullopt. The unit of a timestamp is the
// writer's logical type where the value comes from (the reader's for a
// default). String views point into the input bytes (keep them alive) or,
// for enum symbols and field defaults, into the extractor.
//
// Schema evolution. An extractor is compiled per writer schema; a writer with
// extra or reordered fields works. Compile(writer, paths): paths are looked
// up in the writer; a path the writer lacks is InvalidArgument, or always
// kAbsent with !strict_paths. Compile(writer, reader, paths): paths are looked up
// in the reader and read through schema resolution (resolve.h: fields by
// name or alias, promotions, defaults): a reader field the writer lacks gives
// its default, or kAbsent without default; a writer union branch that cannot
// be read as the reader's type gives kAbsent (CompiledDecoder would fail);
// a non-union writer type on the path that cannot be read as the reader's
// type is a compile error (strict_paths) or an always-absent path.
//
// Hostile input: the compiled decoder's checks (binary.h), over the whole
// value, wanted or not: every read bounded by the input, collection counts
// bounded before any work, nesting capped, errors are Corruption naming the
// byte offset, nothing allocated from unchecked lengths. Array/map blocks of
// unwanted values that carry a byte size are jumped over unless
// DecodeOptions::validate_skipped_blocks.
//
// Thread safety: a FieldExtractor is immutable; any number of threads may run
// it at once, each with its own ExtractedFields, which Extract reuses without
// allocating once it has seen a record of the largest nesting.
//
// Example (the archiver's event time: a top-level int/long field, else the
// record's timestamp; every stored value validated in full):
//   ExtractorOptions o;
//   o.strict_paths = false;                    // any writer schema
//   o.decode.validate_skipped_blocks = true;   // accept what Decode accepts
//   auto ex = FieldExtractor::Compile(schema, {time_field}, o);  // per schema
//   ExtractedFields f;                                           // per thread
//   RETURN_IF_ERROR((*ex)->Extract(body, &f));  // Corruption: dead letter
//   int64_t t = f.GetTimestampMillis(0).value_or(record_timestamp_ms);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "avro/binary.h"
#include "avro/decoder_program.h"
#include "avro/schema.h"
#include "base/check.h"
#include "base/status.h"

namespace braid::avro {

// What one path holds in one record (see the file comment).
enum class ValueKind : uint8_t {
  kAbsent,
  kNull,
  kBool,
  kLong,
  kTimestamp,
  kDouble,
  kString,
};

// "absent", "null", "bool", "long", "timestamp", "double", "string".
std::string_view ValueKindName(ValueKind kind);

struct ExtractorOptions {
  // Limits for hostile input (binary.h). validate_skipped_blocks = true makes
  // Extract accept exactly the inputs CompiledDecoder::Decode accepts (array
  // and map blocks with a recorded byte size in unwanted fields are read
  // item by item instead of jumped over); the archiver, which validates every
  // record it stores, wants that. Default: DecodeOptions{}.
  DecodeOptions decode;
  // Extract(std::string_view): whether bytes after the value are allowed
  // (ignored) rather than Corruption. Default: false.
  bool allow_trailing_bytes = false;
  // When false, and the (reader) root is a record, the program stops after
  // the last root field that holds a wanted value: the rest of the record is
  // neither read nor checked (faster for one record per input, e.g. a Kafka
  // message value). Only Extract(std::string_view) may be used then (it
  // ignores what follows), since the end of the value is not found.
  // Default: true.
  bool read_to_end = true;
  // When true, a path that does not resolve against the schema (no such
  // field or branch, a step through a non-record, an ambiguous branch, a leaf
  // that is not a scalar, a writer type that cannot be read as the reader's)
  // fails Compile with InvalidArgument. When false, Compile succeeds and such
  // a path is always kAbsent; path_status(i) keeps the error. For callers
  // that accept any writer schema and fall back when the field is not there
  // (the archiver's event-time field). Default: true.
  bool strict_paths = true;
};

class FieldExtractor;

// The values of one record, one per path of the extractor that filled it (by
// path index). Reused across records (and extractors) to avoid allocation;
// Extract resets it. After a failed Extract the values are unspecified. A
// getter's index must be < size() (DCHECK).
//
// Thread safety: one per thread.
class ExtractedFields {
 public:
  ExtractedFields() = default;

  size_t size() const { return values_.size(); }

  ValueKind kind(size_t i) const { return At(i).kind; }
  // kind(i) != kAbsent.
  bool present(size_t i) const { return At(i).kind != ValueKind::kAbsent; }
  // kNull or kAbsent.
  bool is_null(size_t i) const { return At(i).kind <= ValueKind::kNull; }
  // The Avro type the value was delivered as (the reader's type after
  // promotion; the branch type for a union): kInt vs kLong, kString vs
  // kBytes, kFixed, kEnum... kNull when absent.
  Type type(size_t i) const {
    const Value& v = At(i);
    return v.kind == ValueKind::kAbsent ? Type::kNull : v.type;
  }
  // The logical type of the value's type (writer's, or reader's for a
  // default); kNone when absent.
  LogicalType logical_type(size_t i) const {
    const Value& v = At(i);
    return v.kind == ValueKind::kAbsent ? LogicalType::kNone : v.logical;
  }

  std::optional<bool> GetBool(size_t i) const {
    const Value& v = At(i);
    if (v.kind != ValueKind::kBool) return std::nullopt;
    return v.i != 0;
  }
  // kLong: the number. kTimestamp: the raw number in its logical type's unit
  // (micros, nanos, days...). nullopt otherwise.
  std::optional<int64_t> GetLong(size_t i) const {
    const Value& v = At(i);
    if (v.kind != ValueKind::kLong && v.kind != ValueKind::kTimestamp) return std::nullopt;
    return v.i;
  }
  // kDouble: the number (a float widened). nullopt otherwise.
  std::optional<double> GetDouble(size_t i) const {
    const Value& v = At(i);
    if (v.kind != ValueKind::kDouble) return std::nullopt;
    return v.d;
  }
  // kString: string or bytes content, fixed bytes, or the enum symbol.
  std::optional<std::string_view> GetString(size_t i) const {
    const Value& v = At(i);
    if (v.kind != ValueKind::kString) return std::nullopt;
    return v.s;
  }
  // An enum value's symbol index (in the reader enum); nullopt otherwise.
  std::optional<size_t> GetEnumIndex(size_t i) const {
    const Value& v = At(i);
    if (v.kind != ValueKind::kString || v.type != Type::kEnum) return std::nullopt;
    return static_cast<size_t>(v.i);
  }
  // Milliseconds since the epoch: a kTimestamp converted from its unit
  // (micros and nanos are floored: -1 us is -1 ms; date: days * 86,400,000),
  // or a kLong taken as milliseconds as it is (whatever its logical type,
  // e.g. time-millis; check logical_type() to refuse those). nullopt for
  // other kinds (null, absent, strings, doubles...). The archiver's
  // event-time rule.
  std::optional<int64_t> GetTimestampMillis(size_t i) const {
    const Value& v = At(i);
    if (v.kind == ValueKind::kTimestamp) return v.ms;
    if (v.kind == ValueKind::kLong) return v.i;
    return std::nullopt;
  }

 private:
  friend class FieldExtractor;
  friend struct ExtractHandler;
  // Only `kind` is reset between records: the other members are meaningful
  // only when kind != kAbsent.
  struct Value {
    ValueKind kind = ValueKind::kAbsent;
    Type type = Type::kNull;
    LogicalType logical = LogicalType::kNone;
    int64_t i = 0;  // bool, int, long (raw), enum index
    union {
      double d = 0;  // float, double
      int64_t ms;    // kTimestamp: i in milliseconds
    };
    std::string_view s;
  };
  const Value& At(size_t i) const {
    DCHECK_LT(i, values_.size());
    return values_[i];
  }

  std::vector<Value> values_;
  std::vector<uint32_t> fired_;  // sites with extra slots seen in this record
  DecodeState state_;
};

// A compiled projection (see the file comment). Immutable; create with
// Compile and share (shared_ptr) across threads.
class FieldExtractor {
 public:
  // Compiles `paths` against `writer` (the schema the data was written with).
  // InvalidArgument naming the path and the step (e.g. `path "person.idx":
  // step 2 "idx": record com.acme.Person has no field "idx"`) for a path that
  // does not resolve (unless !options.strict_paths). Keeps the schema alive.
  static Result<std::shared_ptr<const FieldExtractor>> Compile(
      const Schema& writer, const std::vector<std::string>& paths,
      const ExtractorOptions& options = {});
  // The same, with `paths` looked up in `reader` and the data resolved from
  // `writer` to `reader` (see "Schema evolution" above).
  static Result<std::shared_ptr<const FieldExtractor>> Compile(
      const Schema& writer, const Schema& reader, const std::vector<std::string>& paths,
      const ExtractorOptions& options = {});

  // Extracts the paths from one value occupying `bytes` (trailing bytes:
  // ExtractorOptions). Corruption naming the byte offset for malformed input
  // (anywhere in the value, wanted or not, unless !read_to_end).
  Status Extract(std::string_view bytes, ExtractedFields* out) const;
  // Extracts from the next value of *decoder and advances it past the value
  // (values back to back, e.g. a container block). InvalidArgument if
  // !options.read_to_end.
  Status Extract(Decoder* decoder, ExtractedFields* out) const;

  size_t path_count() const { return paths_.size(); }
  const std::string& path(size_t i) const { return paths_[i]; }
  // OK, or why path i is always absent (only with !strict_paths).
  const Status& path_status(size_t i) const { return path_status_[i]; }
  // The (reader) schema's type at the end of path i; nullptr if
  // !path_status(i).ok().
  const Node* leaf_type(size_t i) const { return leaves_[i]; }

  const Schema& writer() const { return program_->writer(); }
  const Schema& reader() const { return program_->reader(); }
  const ExtractorOptions& options() const { return options_; }
  // The compiled program (DebugString() lists its ops).
  const CompiledDecoder& program() const { return *program_; }

 private:
  friend struct ExtractHandler;
  FieldExtractor() = default;
  Status Run(Decoder* decoder, ExtractedFields* out) const;

  // How an int/long at a site becomes milliseconds.
  enum class TimeUnit : uint8_t { kNone, kMillis, kMicros, kNanos, kDays };
  // Per program site: where the value goes.
  struct Site {
    uint32_t slot = 0;                // first slot
    TimeUnit unit = TimeUnit::kNone;  // kNone: an int/long there is a kLong
    LogicalType logical = LogicalType::kNone;
    bool has_extra = false;
    uint32_t extra_begin = 0;  // further slots: extra_slots_[begin, end)
    uint32_t extra_end = 0;
  };

  ExtractorOptions options_;
  std::shared_ptr<const CompiledDecoder> program_;
  std::vector<std::string> paths_;
  std::vector<Status> path_status_;
  std::vector<const Node*> leaves_;
  std::vector<Site> sites_;
  std::vector<uint32_t> extra_slots_;
  size_t sites_with_extras_ = 0;
};

}  // namespace braid::avro
