// braid's MapReduce API for raw jobs: batch logic that is not a view (a
// monoid per key and time bucket), e.g. sessionization, joins, word count.
// A job is written in C++ against this header, compiled into a plugin (a
// shared library, braid/plugin.h) that registers it, and run by braid's
// batch engine over the master dataset below an offset cut, Avro container
// files or text files:
//
//   #include "braid/mapreduce.h"
//   #include "braid/plugin.h"
//   BRAID_PLUGIN(registrar) { registrar->AddJob(std::make_shared<WordCount>()); }
//
//   braid mr run --plugin libwordcount.so --job wordcount --text in.txt --output-text out/
//
// (examples/wordcount is the complete word count). Standard C++ only: a job
// plugin needs no braid library to link.
//
// The model is Hadoop's: a Mapper turns each input record into (key, value)
// pairs; an optional Combiner (a Reducer run on each map task's sorted
// output) or Merger (an associative merge applied as values are emitted)
// pre-aggregates them; a Partitioner sends each key to a reduce task; each
// reduce task sees its keys in increasing bytewise order and, per key, every
// value emitted under it, ordered by the secondary sort key when the mapper
// gives one, and writes the output. Keys, values and sort keys are bytes.
//
// Determinism: for the same input and the same engine options, a job's
// output is the same bytes: the values of a key reach the reducer ordered by
// (sort key, input order), whatever the thread scheduling.
//
// Errors: a Mapper or Reducer that cannot go on calls Context::Fail; the
// job then fails with the message, the input file and the record's byte
// offset, and writes no output. Exceptions must not escape (they fail the
// job too).
//
// Thread safety: a Job is shared by every task and must be immutable (its
// const methods are called from many threads); each task gets its own
// Mapper, Combiner, Reducer and Partitioner from the New* factories, used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace braid::mr {

// One input record as a Mapper sees it. Views into braid's buffers: valid
// during the Map call only.
class Record {
 public:
  virtual ~Record() = default;
  // The input file, and the byte offset of the record's container block
  // (Avro) or of the line (text) in it.
  virtual std::string_view file() const = 0;
  virtual uint64_t position() const = 0;
  // Text input: the line, without its terminator ("\n" or "\r\n"). Avro
  // input: the record's Avro binary encoding (under the file's schema).
  virtual std::string_view data() const = 0;
  virtual bool is_avro() const = 0;
  // Master-dataset input: the record's topic, partition and offset in the
  // log and the registry id of its schema; "" / -1 otherwise (and -1 for
  // envelope files, which hold values that are not registered Avro as
  // braid.archive.Envelope records).
  virtual std::string_view topic() const = 0;
  virtual int32_t partition() const = 0;
  virtual int64_t offset() const = 0;
  virtual int32_t schema_id() const = 0;

  // The fields of Job::paths() in this Avro record, by index (i <
  // paths().size()); every path is absent in text records.
  // present: the record holds the path (it may hold null).
  virtual bool present(size_t i) const = 0;
  // null or absent.
  virtual bool is_null(size_t i) const = 0;
  virtual std::optional<bool> GetBool(size_t i) const = 0;
  // int, long; a timestamp's raw number in its unit.
  virtual std::optional<int64_t> GetLong(size_t i) const = 0;
  virtual std::optional<double> GetDouble(size_t i) const = 0;
  // string, bytes, fixed, enum symbol.
  virtual std::optional<std::string_view> GetString(size_t i) const = 0;
  // A timestamp/date logical type in milliseconds, or an int/long taken as
  // milliseconds.
  virtual std::optional<int64_t> GetTimestampMillis(size_t i) const = 0;
};

// Where map, combine and reduce output goes, and the job's counters.
class Context {
 public:
  virtual ~Context() = default;
  // Emits (key, value).
  virtual void Emit(std::string_view key, std::string_view value) = 0;
  // Emits (key, value) with a secondary sort key: the reducer receives the
  // values of `key` ordered by sort_key (bytewise), then by input order.
  // Not allowed in a job with a Merger (it fails the job).
  virtual void Emit(std::string_view key, std::string_view sort_key, std::string_view value) = 0;
  // Adds `n` to the user counter `name` (shown in the job's status).
  virtual void Count(std::string_view name, int64_t n = 1) = 0;
  // Fails the job with `message` (the input file and offset are added).
  virtual void Fail(std::string_view message) = 0;
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  // Called once per input record.
  virtual void Map(const Record& record, Context& context) = 0;
  // Called once after the task's last record. Default: nothing.
  virtual void Finish(Context& context) {}
};

// The values of one key, in order (see the file comment).
class Values {
 public:
  virtual ~Values() = default;
  // The next value (and its sort key, if sort_key is not null); false after
  // the last one. Views valid until the next call.
  virtual bool Next(std::string_view* value, std::string_view* sort_key = nullptr) = 0;
};

// A Reducer; also the interface of a Combiner.
class Reducer {
 public:
  virtual ~Reducer() = default;
  // Called once per key, keys in increasing bytewise order. A combiner must
  // emit only under `key` (with nondecreasing sort keys): anything else
  // fails the job.
  virtual void Reduce(std::string_view key, Values& values, Context& context) = 0;
  // Called once after the task's last key. Default: nothing.
  virtual void Finish(Context& context) {}
};

// An associative merge of the values of one key: Merge(a, Merge(b, c)) ==
// Merge(Merge(a, b), c). With a Merger the engine combines map output in a
// hash table as it is emitted (in-mapper combining) instead of buffering and
// sorting every value, and merges partial results while spilling and
// merging; the reducer then sees fewer, already merged values.
class Merger {
 public:
  virtual ~Merger() = default;
  // *acc = *acc ⊕ value (both values of `key`). Returns false, with
  // *error set and *acc unchanged, for a value it cannot merge.
  virtual bool Merge(std::string_view key, std::string* acc, std::string_view value,
                     std::string* error) const = 0;
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
  // The name `braid mr run --job NAME` selects: [A-Za-z0-9_.-]{1,200},
  // unique among the loaded plugins' jobs.
  virtual std::string name() const = 0;
  // A one-line description for `braid mr list`. Default: "".
  virtual std::string description() const { return ""; }
  // Field paths of Avro input records (`url`, `person.id`,
  // `referrer.string`) extracted into Record's field getters. Default: none.
  virtual std::vector<std::string> paths() const { return {}; }

  virtual std::unique_ptr<Mapper> NewMapper() const = 0;
  // Run on each map task's sorted output before it is kept or spilled.
  // Default: none.
  virtual std::unique_ptr<Reducer> NewCombiner() const { return nullptr; }
  // See Merger; used instead of a combiner when not null. Owned by the Job.
  // Default: none.
  virtual const Merger* merger() const { return nullptr; }
  virtual std::unique_ptr<Reducer> NewReducer() const = 0;
  // Default: null, a hash partitioner (xxHash64 of the key modulo the
  // number of reduce tasks).
  virtual std::unique_ptr<Partitioner> NewPartitioner() const { return nullptr; }
  // Number of reduce tasks (output parts); 0 lets the engine choose (its
  // worker thread count). Default: 0.
  virtual uint32_t reduce_tasks() const { return 0; }
  // Avro output (`--output-avro DIR`): the schema (JSON) of the reducer's
  // values, which must then be Avro binary encodings of it (keys are
  // dropped). Empty: the output records are {"key": bytes, "value": bytes}.
  // Default: empty.
  virtual std::string output_schema() const { return ""; }
};

}  // namespace braid::mr
