// braid's MapReduce API for raw jobs: logic that is not a view (a monoid per
// key and time bucket), e.g. sessionization, joins, word count. A job is
// written in C++ against this header, compiled into a plugin (a shared
// library loaded with `--plugin PATH`, include/braid/plugin.h) that
// registers it, and run by braid's batch engine (src/batch) over the master
// dataset below an offset cut, Avro container files or text files:
//
//   braid mr run --plugin libwordcount.so --job wordcount --text in.txt --output-text out/
//
// The model is Hadoop's: a Mapper turns each input record into (key, value)
// pairs; an optional Combiner (or a Merger) pre-aggregates them per map task;
// a Partitioner sends each key to a reduce task; each reduce task sees its
// keys in increasing bytewise order and, per key, every value emitted under
// it (ordered by the secondary sort key, when the mapper gives one) and
// writes the output. Keys, values and sort keys are byte strings.
//
// Determinism: for the same input and the same engine options, a job's
// output is the same bytes: the values of a key reach the reducer ordered by
// (sort key, input order), whatever the thread scheduling.
//
// Thread safety: a Job is shared by every task and must be immutable; each
// task gets its own Mapper, Combiner, Reducer and Partitioner (from the
// New* factories), used by one thread at a time.
//
// Compatibility: kMapReduceApiVersion changes whenever this header changes
// incompatibly; plugins are checked against it when loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/field_extractor.h"
#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"

namespace braid::mr {

inline constexpr uint32_t kMapReduceApiVersion = 1;

// One input record as a Mapper sees it. Views into the engine's buffers:
// valid during the Map call only.
struct Record {
  // The input file and the byte offset of the record's container block
  // (Avro) or line (text) in it.
  std::string_view file;
  uint64_t position = 0;
  // Text input: the line, without its line terminator ("\n" or "\r\n").
  // Avro input: the record's Avro binary encoding under `schema`.
  std::string_view data;
  // Avro input: the file's writer schema; null for text.
  const avro::Schema* schema = nullptr;
  // The values of Job::paths() in this record (by index), extracted with a
  // FieldExtractor compiled for `schema` (paths the writer lacks are
  // kAbsent); null for text input or when the job names no paths.
  const avro::ExtractedFields* fields = nullptr;
  // Master-dataset input: the record's topic, partition and offset in the
  // log; empty / -1 otherwise.
  std::string_view topic;
  PartitionId partition{-1};
  Offset offset{-1};
  // Master-dataset input: the schema registry id of the file's records
  // (-1 for envelope files, which hold values that are not registered Avro
  // as braid.archive.Envelope records).
  int32_t schema_id = -1;
};

// Where map, combine and reduce output goes, and the job's counters.
class Context {
 public:
  virtual ~Context() = default;
  // Emits (key, value).
  virtual void Emit(std::string_view key, std::string_view value) = 0;
  // Emits (key, value) with a secondary sort key: the reducer receives the
  // values of `key` ordered by sort_key (bytewise), then by input order.
  // Not allowed with a Merger (the call fails the task).
  virtual void Emit(std::string_view key, std::string_view sort_key, std::string_view value) = 0;
  // Adds `n` to the user counter `name` (shown in the job's status).
  virtual void Count(std::string_view name, int64_t n = 1) = 0;
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  // Called once per input record. An error fails the job, naming the file
  // and position of the record.
  virtual Status Map(const Record& record, Context* context) = 0;
  // Called once after the task's last record. Default: nothing.
  virtual Status Finish(Context* context) { return Status::OK(); }
};

// The values of one key, in order (see the file comment).
class Values {
 public:
  virtual ~Values() = default;
  // The next value (and its sort key, if sort_key is not null); false after
  // the last one. Views are valid until the next call.
  virtual bool Next(std::string_view* value, std::string_view* sort_key = nullptr) = 0;
};

// A Reducer; also the interface of a Combiner.
class Reducer {
 public:
  virtual ~Reducer() = default;
  // Called once per key, keys in increasing bytewise order. A combiner must
  // emit only under `key` (with nondecreasing sort keys): anything else
  // fails the task.
  virtual Status Reduce(std::string_view key, Values* values, Context* context) = 0;
  // Called once after the task's last key. Default: nothing.
  virtual Status Finish(Context* context) { return Status::OK(); }
};

// An associative merge of the values of one key (a semigroup: Merge(a,
// Merge(b, c)) == Merge(Merge(a, b), c)). With a Merger the engine combines
// map output in a hash table as it is emitted (in-mapper combining) instead
// of buffering and sorting every value, and merges partial results while
// spilling and merging; the reducer then sees fewer, merged values.
class Merger {
 public:
  virtual ~Merger() = default;
  // *acc = *acc ⊕ value, both values of `key`. On error *acc is unchanged.
  virtual Status Merge(std::string_view key, std::string* acc, std::string_view value) const = 0;
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  // The reduce task of `key`, in [0, num_partitions).
  virtual uint32_t Partition(std::string_view key, uint32_t num_partitions) const = 0;
};

// A raw MapReduce job: a factory of its mappers, combiners, reducers and
// partitioners.
class Job {
 public:
  virtual ~Job() = default;
  // The name `braid mr run --job NAME` selects ([A-Za-z0-9_.-]+).
  virtual std::string name() const = 0;
  // A one-line description for `braid mr list`. Default: "".
  virtual std::string description() const { return ""; }
  // Field paths (avro/field_extractor.h syntax) extracted from Avro input
  // records into Record::fields. Default: none.
  virtual std::vector<std::string> paths() const { return {}; }

  virtual std::unique_ptr<Mapper> NewMapper() const = 0;
  // Run on the sorted map output of a task before it is kept or spilled.
  // Default: none.
  virtual std::unique_ptr<Reducer> NewCombiner() const { return nullptr; }
  // See Merger; replaces the combiner when not null. The Job owns it.
  // Default: none.
  virtual const Merger* merger() const { return nullptr; }
  virtual std::unique_ptr<Reducer> NewReducer() const = 0;
  // Default: null, a hash partitioner (xxHash64 of the key modulo the
  // number of reduce tasks).
  virtual std::unique_ptr<Partitioner> NewPartitioner() const { return nullptr; }
  // Number of reduce tasks (output parts); 0 lets the engine choose (its
  // worker thread count). Default: 0.
  virtual uint32_t reduce_tasks() const { return 0; }
  // Avro output (`--output-avro`): the schema of the reducer's values, which
  // must be Avro binary encodings of it (keys are then ignored). Empty: the
  // output records are {"key": bytes, "value": bytes}. Default: empty.
  virtual std::string output_schema() const { return ""; }
};

}  // namespace braid::mr
