// Archiver: appends every record of the archived topics to the master
// dataset (dataset.h), exactly once across crashes. It reads through a
// source::RecordSource: braid's own log in process (source/log_source.h), or,
// with ArchiverOptions::kafka_bootstrap, any Kafka cluster through librdkafka
// (source/kafka_source.h); the manifest is its only offset store.
//
// Which topics: topic config `braid.archive=true` archives a topic,
// `false` never does. Unset: topics whose name starts with '_' are not
// archived; others are if their first record is Confluent-framed Avro with a
// schema id the SchemaSource knows. The decision is stored in the topic's
// manifest and kept.
//
// Each record goes to a file chosen by (event-time hour, kind, schema id):
// `braid.archive.time.field` names a top-level long/int field of the value
// (timestamp-millis/-micros/-nanos, date or plain milliseconds) giving the
// event time; otherwise, or when the field is null or missing, the record
// timestamp is used. Confluent-framed values are stored without the 5-byte
// frame in a file of their registered schema; other values in envelope files;
// undecodable values (unknown schema id, corrupt body) in dead-letter files
// (envelope.h), counted, never dropped.
//
// Commit protocol (per partition): records go to temp files; on a roll
// (ArchiverOptions roll_*), every open file of the partition is closed
// (fsync), renamed to its final name (directory fsync), then one manifest
// change lists them all and raises the partition's high-water mark to the
// next offset to read. A crash at any point leaves either the old manifest
// (the new files are unlisted and deleted at the next start, the records are
// archived again) or the new one. An I/O error (e.g. disk full:
// ResourceExhausted) aborts the partition's open files, pauses the archiver
// with the error in stats().last_error, and retries every retry_backoff_ms
// from the manifest's high-water mark.
//
// A batch run needs the records below an offset cut archived: CoverCut()
// commits what is read now and waits until the manifest covers the cut.
//
// Thread safety: Start/Stop/RunOnce from one thread; stats() and CoverCut()
// from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/dataset.h"
#include "archive/envelope.h"
#include "archive/schema_source.h"
#include "base/clock.h"
#include "base/status.h"
#include "log/cut.h"
#include "log/log.h"
#include "source/record_source.h"

namespace braid::archive {

inline constexpr std::string_view kArchiveConfig = "braid.archive";
inline constexpr std::string_view kTimeFieldConfig = "braid.archive.time.field";

struct ArchiverOptions {
  // File system of the dataset. Default: io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // Dataset root directory. Required.
  std::string root;
  // Avro codec of the files ("null", "deflate", "snappy", "zstandard", ...).
  // Default: "zstandard": of the codecs measured on the batch benchmark it
  // stores the fewest bytes per event read by the batch layer per second
  // (docs/benchmarks.md "Batch views").
  std::string codec = "zstandard";
  // Roll (commit) a partition when one of its open files reaches this size.
  // Default: 128 MiB.
  uint64_t roll_bytes = uint64_t{128} << 20;
  // ... or when it has this many uncommitted records. Default: 10,000,000.
  int64_t roll_records = 10'000'000;
  // ... or when its oldest open file is this old (monotonic clock).
  // Default: 60,000 (60 s).
  int64_t roll_interval_ms = 60'000;
  // ... or when it has this many open files (late events spread over many
  // hours). Default: 64.
  size_t max_open_files = 64;
  // Bytes read from the log per partition and step. Default: 4 MiB.
  uint64_t read_bytes = uint64_t{4} << 20;
  // Worker threads (partitions are spread over them). Default: 2.
  int threads = 2;
  // Sleep when there is nothing to read. Default: 100 ms.
  int64_t idle_poll_ms = 100;
  // Pause after an error before retrying. Default: 1000 ms.
  int64_t retry_backoff_ms = 1000;
  // Only these topics (empty: every topic, see the class comment).
  // Default: empty.
  std::vector<std::string> topics;
  // Background consolidation (compactor.h). Default: true.
  bool consolidate = true;
  // Consolidation pass period. Default: 60,000 ms.
  int64_t consolidate_interval_ms = 60'000;
  // Consolidate an hour's files (same partition, kind and schema) when there
  // are at least this many. Default: 4.
  size_t consolidate_min_files = 4;
  // Largest consolidated file. Default: 128 MiB.
  uint64_t consolidate_target_bytes = uint64_t{128} << 20;
  // Clock for roll intervals. Default: SystemClock().
  Clock* clock = nullptr;

  // Kafka mode: read `topics` (required, all archived) from this Kafka
  // cluster through librdkafka instead of the in-process log (which may
  // then be null). Default: empty (in-process log).
  std::string kafka_bootstrap;
  // Kafka mode: the event-time field of every topic (topic configs are not
  // read). Default: empty (record timestamps).
  std::string kafka_time_field;
  // Kafka mode: extra librdkafka consumer properties. Default: none.
  std::map<std::string, std::string> kafka_config;
};

// Lag of one partition.
struct PartitionLag {
  std::string topic;
  PartitionId partition{0};
  Offset archived_hwm{0};
  Offset log_end{0};
  int64_t lag_records = 0;
  // Now minus the timestamp of the oldest unarchived record; 0 if none.
  double lag_seconds = 0;
};

// Counters since Start (for /metrics).
struct ArchiverStats {
  uint64_t records_archived = 0;  // listed in the manifest (all kinds)
  uint64_t bytes_archived = 0;    // bytes of listed files
  uint64_t files_written = 0;
  uint64_t commits = 0;
  uint64_t envelope_records = 0;
  uint64_t dead_letter_records = 0;
  uint64_t lost_records = 0;  // deleted by log retention before archiving
  uint64_t consolidations = 0;
  uint64_t consolidated_files = 0;  // input files replaced
  uint64_t errors = 0;
  bool paused = false;     // the last attempt failed; retrying
  std::string last_error;  // empty if none
  std::vector<PartitionLag> lag;
};

// Lag of every partition of every archived topic of `dataset` against `log`.
Result<std::vector<PartitionLag>> ComputeLag(Dataset* dataset, log::Log* log,
                                             Clock* clock = nullptr);

class Archiver {
 public:
  // `log` (null in Kafka mode) and `schemas` (may be null: every framed
  // value then dead-letters) must outlive the Archiver.
  Archiver(log::Log* log, SchemaSource* schemas, ArchiverOptions options);
  ~Archiver();  // Stop()
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  // Opens the dataset and starts the worker (and consolidation) threads.
  Status Start();
  // Commits what is open, stops the threads. Idempotent.
  void Stop();

  // Synchronously archives every record readable now (up to each
  // partition's high watermark at the call) and commits, on up to
  // options.threads threads. Not while Start()ed. Returns the first error.
  Status RunOnce();

  // Makes the manifest of `topic` cover `cut` (every partition's archived
  // high-water mark >= its cut offset): the workers commit their open files
  // as soon as they have read up to the cut (rolling them early), and the
  // call returns when the manifest covers it. Only while Start()ed.
  // Errors: TimedOut after `timeout` (the archiver lags or is paused by an
  // error, see stats()); FailedPrecondition if the topic is not archived or
  // the archiver is not running; OutOfRange if the cut is above a
  // partition's high watermark (those records do not exist yet).
  Status CoverCut(const std::string& topic, const log::Cut& cut, std::chrono::milliseconds timeout);
  // Makes every CoverCut() in progress, and every later one, return
  // Unavailable at once (the process is stopping).
  void CancelCoverWaits();

  // One consolidation pass over every archived topic (Start() runs it
  // periodically). Returns the number of consolidations.
  Result<int> ConsolidateOnce();

  ArchiverStats stats() const;
  // Non-null after Start() or RunOnce().
  Dataset* dataset() const { return dataset_.get(); }

 private:
  struct TopicCtx;
  class PartitionWriter;
  struct Counters;

  Status OpenDataset();
  struct Worker;
  struct CoverRequest;

  Result<std::unique_ptr<source::RecordSource>> NewSource() const;
  // The partitions of the archived topics, with their writers (created on
  // first sight). `worker` >= 0: only that worker's share.
  Status Discover(source::RecordSource* src, int worker, std::vector<PartitionWriter*>* out);
  Result<std::shared_ptr<TopicCtx>> Topic(const log::TopicInfo& info);
  std::shared_ptr<TopicCtx> KafkaTopic(const std::string& name);
  // One worker: reads its partitions through its own source, adds records
  // to the writers, commits per the roll policy and cover requests. Runs
  // until Stop() or, with `until` (RunOnce), until every partition reached
  // its watermark at the start.
  Status RunWorker(int worker, bool once);
  // Handles one partition's records from a Poll.
  Status Consume(Worker* wk, const source::PartitionRecords& pr);
  // Commits `w` if the roll policy or a cover request says so.
  Status MaybeCommit(PartitionWriter* w, int64_t now_us);
  void ConsolidateLoop();
  void RecordError(const Status& s);
  bool stopping();

  log::Log* const log_;
  SchemaSource* const schemas_;
  ArchiverOptions options_;
  Clock* clock_;
  std::unique_ptr<Dataset> dataset_;
  std::unique_ptr<Counters> counters_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<TopicCtx>> topics_;  // guarded by mu_
  std::map<std::pair<std::string, PartitionId>, std::unique_ptr<PartitionWriter>>
      writers_;  // guarded by mu_ (the map; each writer is used by one worker)

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  bool running_ = false;   // guarded by stop_mu_: between Start() and Stop()
  std::vector<std::thread> threads_;
  // The workers' sources, to wake them (Stop, CoverCut). Guarded by stop_mu_.
  std::vector<source::RecordSource*> sources_;
  // Cut requests: topic → the cut to commit up to. Guarded by cover_mu_;
  // waiters are signalled on cover_cv_ after every commit.
  std::mutex cover_mu_;
  std::condition_variable cover_cv_;
  std::map<std::string, log::Cut> cover_;
  bool cover_cancelled_ = false;  // guarded by cover_mu_
};

}  // namespace braid::archive
