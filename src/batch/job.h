// The batch engine's view of a job: inputs, the map step, combining,
// partitioning, reducing, and where the output goes. A raw job (a plugin's
// mr::Job, include/braid/mapreduce.h) becomes an EngineJob with
// FromMrJob(); a set of views becomes one with view_job.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/dataset.h"
#include "archive/manifest.h"
#include "avro/schema.h"
#include "base/status.h"
#include "braid/mapreduce.h"
#include "io/file_system.h"
#include "log/cut.h"

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
  virtual Status MapBlock(const AvroBlock& block, mr::Context* context) = 0;
  virtual Status MapLine(const TextLine& line, mr::Context* context) = 0;
  virtual Status Finish(mr::Context* context) = 0;
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
  std::function<std::unique_ptr<mr::Reducer>()> new_combiner;
  const mr::Merger* merger = nullptr;
  std::function<std::unique_ptr<mr::Reducer>()> new_reducer;
  // Hash partitioning (xxHash64 of the key) when null and !total_order.
  std::function<std::unique_ptr<mr::Partitioner>()> new_partitioner;
  // Total order: the reduce tasks get contiguous key ranges, chosen after
  // the map phase from the runs' block indexes, so that the parts are
  // sorted one after the other. `range_boundary`, if set, maps a sampled key
  // to the range boundary used instead (view jobs: the start of the key's
  // view key, so that all buckets of a view key reach one reducer).
  bool total_order = false;
  std::function<std::string(std::string_view key)> range_boundary;
  // Reduce tasks (0: the engine's thread count).
  uint32_t reduce_tasks = 0;
};

// A raw job as an EngineJob: Avro records are handed to its Mapper with
// Job::paths() extracted (a path the writer schema lacks is absent); lines
// of text files as they are.
EngineJob FromMrJob(std::shared_ptr<const mr::Job> job);

}  // namespace braid::batch
