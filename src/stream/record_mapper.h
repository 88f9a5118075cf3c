// RecordMapper: the map step of one view over one record: the Confluent
// frame (magic 0, schema id) → the writer schema (by id, cached) → a
// FieldExtractor compiled for (view paths, writer schema), cached → the
// view's Map(). It accepts exactly the values the archiver accepts
// (validated in full, as CompiledDecoder::Decode would), so that the batch
// layer, which reads the archive, and the speed layer see the same events.
//
// TODO(views::Mapper): the views module's shared Mapper replaces this class
// once it is on main; both layers then run the same map step.
//
// Errors of MapRecord: NotFound (an unknown schema id), Corruption (no
// frame, a malformed Avro value), InvalidArgument (the writer schema lacks a
// path), or the view's Map() error: the record is dead-lettered. Unavailable
// (the registry cannot be asked now): transient, retry.
//
// Thread safety: thread-safe; each thread passes its own MapScratch.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "avro/field_extractor.h"
#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "views/view.h"

namespace braid::stream {

// The writer schema of a Confluent schema id. NotFound when the registry
// says the id does not exist; other errors are transient.
using SchemaLookup = std::function<Result<avro::Schema>(SchemaId)>;

// One record, as the map step sees it (views into the caller's bytes).
struct RecordRef {
  std::string_view topic;
  PartitionId partition{0};
  Offset offset{0};
  int64_t timestamp_ms = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
};

// Compiled extractors of a list of paths, per writer schema id (compile
// errors cached too). Thread-safe.
class ExtractorCache {
 public:
  ExtractorCache(std::vector<std::string> paths, SchemaLookup schemas);
  // NotFound (unknown id), InvalidArgument (a path the schema lacks), or a
  // transient error of the lookup (not cached).
  Result<std::shared_ptr<const avro::FieldExtractor>> Get(int32_t schema_id) const;
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  const std::vector<std::string> paths_;
  const SchemaLookup schemas_;
  mutable std::mutex mu_;
  mutable std::map<int32_t, Result<std::shared_ptr<const avro::FieldExtractor>>> cache_;
};

// Per-thread reusable state.
struct MapScratch {
  avro::ExtractedFields fields;
  int32_t last_schema = -1;
  std::shared_ptr<const avro::FieldExtractor> last_extractor;
};

class RecordMapper {
 public:
  RecordMapper(std::shared_ptr<const views::ViewDefinition> view, SchemaLookup schemas);

  const views::ViewDefinition& view() const { return *view_; }

  // Appends the view's emits for `r` to *out (see the file comment).
  Status MapRecord(const RecordRef& r, MapScratch* scratch, std::vector<views::Emit>* out) const;

 private:
  const std::shared_ptr<const views::ViewDefinition> view_;
  ExtractorCache extractors_;
};

// Splits a Confluent-framed value: schema id and body. Corruption if `value`
// is not framed (magic byte 0, 4-byte big-endian id).
Result<std::pair<int32_t, std::string_view>> SplitConfluentFrame(std::string_view value);

}  // namespace braid::stream
