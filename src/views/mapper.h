// The map step shared by the batch and the speed layer: one record of any
// writer schema → the view's Emits. Both layers call it (and nothing else)
// to map a record, so they cannot map differently.
//
// Per record: the value's Confluent frame (magic byte 0, 4-byte big-endian
// schema id) names the writer schema; the schema comes from a lookup by id
// (the registry), and a FieldExtractor compiled for (the view's paths, that
// schema) is cached per schema id (ExtractorCache, shared by the view's
// Mappers on every thread). The extractor validates the whole value exactly
// as the archiver does (ExtractorOptions::decode.validate_skipped_blocks,
// read to the end), so a record the speed layer maps is a record the
// archiver archived, and a record it rejects went to the archive's dead
// letters. Paths the writer schema lacks are absent (any writer schema of
// the topic works). Then ViewDefinition::Map runs on the extracted fields.
//
// Records read from the master dataset hold the Avro body without its frame
// and name their schema in the file (`braid.schema_id`): MapAvro takes the
// body and the id, and hands the view the value framed again (the same
// bytes as on the log).
//
// Outcomes of Map / MapAvro (each counted in MapperStats):
//   OK                 mapped (zero or more Emits appended), or skipped: the
//                      value is not registered Avro (no frame, a null value)
//                      and the view needs_avro()
//   NotFound           the schema id is not registered (the lookup said so):
//                      the record cannot be decoded (dead letter)
//   Corruption         the value does not decode under its schema (dead
//                      letter)
//   InvalidArgument    the view's Map failed on this event ("view V: ...")
//   anything else      the schema lookup failed transiently (Unavailable,
//                      IOError...): retry the record later
// On error nothing is appended to *out.
//
// Thread safety: ExtractorCache is thread-safe; a Mapper is used by one
// thread at a time (one per worker thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "avro/field_extractor.h"
#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "views/view.h"

namespace braid::views {

// The writer schema of a Confluent schema id. NotFound when the registry
// says the id does not exist; other errors are transient.
using SchemaLookup = std::function<Result<avro::Schema>(SchemaId)>;

// One record of a topic (views into the caller's buffers).
struct RecordRef {
  std::string_view topic;
  PartitionId partition{0};
  Offset offset{0};
  int64_t timestamp_ms = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
};

// Splits a Confluent-framed value: the schema id, and *body = the Avro bytes.
// nullopt if `value` is shorter than 5 bytes or its first byte is not 0.
std::optional<SchemaId> SplitConfluentFrame(std::string_view value, std::string_view* body);

// The extractors of one view's paths, per writer schema. Schema ids never
// change meaning (the registry's contract), so entries stay valid; at most
// `max_entries` are kept (the cache is cleared when full).
class ExtractorCache {
 public:
  // `lookup` may be empty when only ForSchema is used.
  ExtractorCache(std::vector<std::string> paths, SchemaLookup lookup, size_t max_entries = 4096);

  // The extractor for the schema of `id` (looked up and compiled on first
  // use; errors of the lookup are returned as they are, not cached).
  Result<std::shared_ptr<const avro::FieldExtractor>> ForSchemaId(SchemaId id);
  // The extractor for a writer schema given directly (Avro container files);
  // cached by the schema's full JSON text.
  Result<std::shared_ptr<const avro::FieldExtractor>> ForSchema(const avro::Schema& writer);

  const std::vector<std::string>& paths() const { return paths_; }
  // The options every extractor is compiled with (see the file comment).
  static avro::ExtractorOptions Options();
  size_t size() const;

 private:
  Result<std::shared_ptr<const avro::FieldExtractor>> Compile(const avro::Schema& writer);

  const std::vector<std::string> paths_;
  const SchemaLookup lookup_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<int32_t, std::shared_ptr<const avro::FieldExtractor>> by_id_;        // mu_
  std::unordered_map<std::string, std::shared_ptr<const avro::FieldExtractor>> by_json_;  // mu_
};

struct MapperStats {
  uint64_t records = 0;         // every record given to Map/MapAvro
  uint64_t mapped = 0;          // Map ran and succeeded
  uint64_t emits = 0;           // Emits appended
  uint64_t not_avro = 0;        // skipped: not registered Avro, the view needs_avro()
  uint64_t unknown_schema = 0;  // NotFound
  uint64_t undecodable = 0;     // Corruption
  uint64_t map_errors = 0;      // InvalidArgument from the view's Map
  uint64_t lookup_errors = 0;   // transient schema lookup errors
};

class Mapper {
 public:
  // `cache` must be built for view->paths() (share one per view).
  Mapper(std::shared_ptr<const ViewDefinition> view, std::shared_ptr<ExtractorCache> cache);
  // A Mapper with its own cache.
  Mapper(std::shared_ptr<const ViewDefinition> view, SchemaLookup lookup);

  // A record as it is on the log (see the file comment for the outcomes).
  Status Map(const RecordRef& record, std::vector<Emit>* out);
  // A record of the master dataset: `body` is the Avro binary value written
  // with the schema of `schema_id` (the frame is rebuilt for the view).
  Status MapAvro(const RecordRef& record, SchemaId schema_id, std::string_view body,
                 std::vector<Emit>* out);
  // A record of any Avro container file: `body` under `writer`; the view
  // sees value = body and schema_id -1.
  Status MapAvro(const RecordRef& record, const avro::Schema& writer, std::string_view body,
                 std::vector<Emit>* out);

  const ViewDefinition& view() const { return *view_; }
  const MapperStats& stats() const { return stats_; }

 private:
  Result<const avro::FieldExtractor*> ExtractorFor(SchemaId id);
  Status Run(const RecordRef& record, std::optional<std::string_view> value, int32_t schema_id,
             const avro::FieldExtractor* extractor, std::string_view body, std::vector<Emit>* out);
  Status Count(Status s);

  std::shared_ptr<const ViewDefinition> view_;
  std::shared_ptr<ExtractorCache> cache_;
  // This thread's copies of the cache's entries (no lock per record).
  std::unordered_map<int32_t, std::shared_ptr<const avro::FieldExtractor>> local_;
  int32_t last_id_ = -1;
  const avro::FieldExtractor* last_ = nullptr;
  avro::Schema last_schema_;  // MapAvro(schema): the last writer and its extractor
  std::shared_ptr<const avro::FieldExtractor> last_schema_extractor_;
  avro::ExtractedFields fields_;
  std::string framed_;  // MapAvro(id): the value framed again
  MapperStats stats_;
};

}  // namespace braid::views
