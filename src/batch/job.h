// The batch engine's view of a job: inputs, the map step, combining,
// partitioning, reducing, and where the output goes. A raw job (a plugin's
// mr::Job, include/braid/mapreduce.h) becomes an EngineJob with
// FromMrJob(); a set of views becomes one with view_job.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "archive/dataset.h"
#include "archive/manifest.h"
#include "avro/schema.h"
#include "base/status.h"
#include "io/file_system.h"
#include "log/cut.h"

namespace braid::mr {
class Job;
}  // namespace braid::mr

namespace braid::batch {

// One input of a job.
struct Input {
  enum class Kind : uint8_t {
    kDataset,    // the master dataset: a topic's records below a cut
    kAvroFiles,  // Avro object container files
    kTextFiles,  // text files, one record per line
  };
  Kind kind = Kind::kAvroFiles;
  // kDataset: the dataset (must outlive the job), the topic, the cut (its
  // records with offsets below it), and optionally an event-time range:
  // only files whose event-time range overlaps it are read (files hold one
  // event-time hour each, so a range on hour boundaries is exact for jobs
  // keyed by the archive's event time; view jobs also drop cells outside
  // it).
  archive::Dataset* dataset = nullptr;
  std::string topic;
  log::Cut cut;
  std::optional<archive::TimeRange> time;
  // kAvroFiles, kTextFiles: the files.
  std::vector<std::string> paths;

  static Input Dataset(archive::Dataset* dataset, std::string topic, log::Cut cut,
                       std::optional<archive::TimeRange> time = std::nullopt);
  static Input AvroFiles(std::vector<std::string> paths);
  static Input TextFiles(std::vector<std::string> paths);
};

// Where map, combine and reduce output goes (the engine's side of
// mr::Context). Errors of an Emit are kept by the emitter and fail the task.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void Emit(std::string_view key, std::string_view sort_key, std::string_view value) = 0;
  void Emit(std::string_view key, std::string_view value) { Emit(key, {}, value); }
  // Adds n to the counter `name`.
  virtual void Count(std::string_view name, int64_t n) = 0;
};

// The values of one key, ordered by (sort key, run order); views valid
// until the next call.
class ValueIterator {
 public:
  virtual ~ValueIterator() = default;
  virtual bool Next(std::string_view* value, std::string_view* sort_key = nullptr) = 0;
};

// A reducer, or a combiner (which must emit only under the key it is given,
// with nondecreasing sort keys).
class GroupReducer {
 public:
  virtual ~GroupReducer() = default;
  virtual Status Reduce(std::string_view key, ValueIterator* values, Emitter* out) = 0;
  virtual Status Finish(Emitter* out) { return Status::OK(); }
};

// An associative merge of two values of `key` (mr::Merger).
class ValueMerger {
 public:
  virtual ~ValueMerger() = default;
  // Whether the values of `key` are merged. Keys it does not merge are
  // buffered, sorted, spilled and reduced like those of a job without a
  // merger, with their secondary sort keys (a view job's sessionised
  // views). Keys it merges may not carry a sort key. Default: every key.
  virtual bool Merges(std::string_view key) const { return true; }
  virtual Status Merge(std::string_view key, std::string* acc, std::string_view value) const = 0;
  // *acc = *acc ⊕ values[0] ⊕ values[1] ... Default: repeated Merge.
  virtual Status MergeMany(std::string_view key, std::string* acc,
                           std::span<const std::string_view> values) const {
    for (std::string_view v : values) RETURN_IF_ERROR(Merge(key, acc, v));
    return Status::OK();
  }
};

class KeyPartitioner {
 public:
  virtual ~KeyPartitioner() = default;
  virtual uint32_t Partition(std::string_view key, uint32_t partitions) const = 0;
};

// A file of the job's plan.
struct InputFile {
  std::string path;
  // The file system holding it (the dataset's, or JobOptions::fs).
  io::FileSystem* fs = nullptr;
  bool text = false;
  // Avro: the writer schema and the header's size.
  avro::Schema schema;
  uint64_t header_bytes = 0;
  // Master dataset: the topic and the manifest entry (partition, offset
  // runs, kind, schema id, event-time range); else topic empty.
  std::string topic;
  archive::FileEntry entry;
};

// A block of an Avro file to map: the records [0, records) of the block's
// decompressed data. Views valid during the call.
struct AvroBlock {
  const InputFile* file = nullptr;
  uint64_t offset = 0;       // of the block in the file
  int64_t first_record = 0;  // index in the file of the block's first record
  int64_t records = 0;       // to map (the block may hold more: the cut)
  std::string_view data;     // the block's records, back to back
};

// A line of a text file.
struct TextLine {
  const InputFile* file = nullptr;
  uint64_t offset = 0;  // of the line's first byte
  std::string_view line;
};

// The map step of a task (one per task, one thread at a time). Errors fail
// the job; the engine adds the file and offset.
class SplitMapper {
 public:
  virtual ~SplitMapper() = default;
  virtual Status MapBlock(const AvroBlock& block, Emitter* out) = 0;
  virtual Status MapLine(const TextLine& line, Emitter* out) = 0;
  virtual Status Finish(Emitter* out) = 0;
};

// Where the reducers' output goes: one part per reduce task. Parts are
// written concurrently (each by one thread); Commit() runs once after every
// part is closed, Abort() instead of it when the job fails.
class OutputPart {
 public:
  virtual ~OutputPart() = default;
  virtual Status Write(std::string_view key, std::string_view value) = 0;
  virtual Status Close() = 0;
};
class Output {
 public:
  virtual ~Output() = default;
  virtual Result<std::unique_ptr<OutputPart>> OpenPart(uint32_t part) = 0;
  virtual Status Commit() = 0;
  virtual void Abort() = 0;
};

struct EngineJob {
  std::string name;
  std::function<std::unique_ptr<SplitMapper>()> new_mapper;
  // Optional: a combiner (sorted groups) or a merger (hash combining).
  std::function<std::unique_ptr<GroupReducer>()> new_combiner;
  const ValueMerger* merger = nullptr;
  std::function<std::unique_ptr<GroupReducer>()> new_reducer;
  // Hash partitioning (xxHash64 of the key) when null and !total_order.
  std::function<std::unique_ptr<KeyPartitioner>()> new_partitioner;
  // Total order: the reduce tasks get contiguous key ranges, chosen after
  // the map phase from the runs' block indexes, so that the parts are
  // sorted one after the other. `range_boundary`, if set, maps a sampled key
  // to the range boundary used instead (view jobs: the start of the key's
  // view key, so that all buckets of a view key reach one reducer).
  bool total_order = false;
  std::function<std::string(std::string_view key)> range_boundary;
  // Reduce tasks (0: the engine's thread count).
  uint32_t reduce_tasks = 0;
  // Whatever the callbacks and `merger` need alive.
  std::shared_ptr<const void> keep_alive;
};

// A raw job (include/braid/mapreduce.h) as an EngineJob: Avro records are
// handed to its Mapper with Job::paths() extracted (a path the writer schema
// lacks is absent); lines of text files as they are.
EngineJob FromMrJob(std::shared_ptr<const mr::Job> job);

}  // namespace braid::batch
