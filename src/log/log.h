// Log: braid's event log. A directory of topics; a topic has a config and
// partitions; a partition (partition.h) is a sequence of segment files
// holding Kafka RecordBatch v2 bytes as producers sent them.
//
//   Log::Open(dir) → CreateTopic("events", 3, {{"retention.ms", "3600000"}})
//   auto p = log->GetPartition("events", PartitionId(0));
//   p->Append(batch_bytes) → {base offset, ...}; p->Read(offset, max_bytes)
//
// On-disk layout (README.md): <dir>/topics.json (topic names, ids, partition
// counts, config overrides; replaced atomically), <dir>/<topic>-<partition>/
// with <20-digit base offset>.log/.index/.timeindex and log-start-offset.
//
// Open recovers every partition: the active segment is scanned batch by batch
// and a torn or corrupt tail is cut off; missing or bad indexes are rebuilt.
//
// No Kafka protocol types appear here; the broker maps Status to Kafka error
// codes (see partition.h Append and README.md).
//
// Thread safety: Log is thread-safe. Topic admin calls are serialized with
// each other; lookups (GetPartition, ListTopics) run concurrently with them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log/topic_config.h"

namespace braid::log {

struct LogOptions {
  // File system. Default: io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // Time source for log append time, segment.ms, retention.ms, flush.ms.
  // Default: SystemClock().
  Clock* clock = nullptr;
  // Broker-wide defaults for every topic config (log.retention.ms etc. in
  // Kafka). Default: Kafka's defaults (see TopicConfig).
  TopicConfig default_topic_config;
  // num.partitions: partitions of a topic created with partitions = -1.
  // Default: 1.
  int32_t num_partitions = 1;
  // If true, every Append fsyncs the segment before returning, whatever the
  // topic's flush.messages: a batch acknowledged after Append is durable.
  // Default: false (Kafka's behaviour: flush only by flush.messages/flush.ms).
  bool fsync_every_append = false;
  // index.interval.bytes: bytes of batches between two sparse index entries.
  // Default: 4096.
  uint32_t index_interval_bytes = 4096;
};

using TopicId = std::array<uint8_t, 16>;

struct TopicInfo {
  std::string name;
  TopicId id{};  // random UUID assigned at creation (Kafka topic id)
  int32_t partition_count = 0;
  TopicConfig config;   // effective config
  ConfigMap overrides;  // the explicitly set configs
};

struct LogStats {
  uint64_t topic_count = 0;
  uint64_t partition_count = 0;
  uint64_t size_bytes = 0;
  uint64_t fsync_count = 0;  // every fsync/fdatasync the log issued
};

class Log {
 public:
  // Opens (creating if needed) the log in `dir`, recovering every partition.
  static Result<std::unique_ptr<Log>> Open(const std::string& dir, LogOptions options = {});
  // Closes (Close()) if not closed yet.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Flushes every partition, syncs metadata and closes files. Partitions
  // handed out before stay valid objects but fail with FailedPrecondition.
  Status Close();

  // Kafka topic name rules: [a-zA-Z0-9._-]{1,249}, not "." or "..".
  static Status ValidateTopicName(std::string_view name);
  // Validates a config override map without creating anything (Kafka
  // CreateTopics validate_only).
  Status ValidateConfigs(const ConfigMap& configs) const;

  // Creates a topic. partitions = -1 → LogOptions::num_partitions.
  // AlreadyExists, InvalidArgument (name, partition count < 1, config).
  // The topic is durable when this returns.
  Status CreateTopic(std::string_view name, int32_t partitions, const ConfigMap& configs = {});
  // Deletes a topic and its data. NotFound if missing.
  Status DeleteTopic(std::string_view name);
  // Kafka CreatePartitions: raises the partition count to `new_total`.
  // InvalidArgument if new_total <= current count.
  Status CreatePartitions(std::string_view name, int32_t new_total);
  // Kafka AlterConfigs: replaces all overrides of the topic with `configs`.
  Status SetTopicConfigs(std::string_view name, const ConfigMap& configs);
  // Kafka IncrementalAlterConfigs: sets `set`, removes `remove` (back to the
  // broker default). Atomic: nothing changes on error.
  Status UpdateTopicConfigs(std::string_view name, const ConfigMap& set,
                            const std::vector<std::string>& remove);

  std::vector<TopicInfo> ListTopics() const;
  Result<TopicInfo> DescribeTopic(std::string_view name) const;
  bool HasTopic(std::string_view name) const;

  // The partition, or NotFound (unknown topic or partition).
  Result<std::shared_ptr<Partition>> GetPartition(std::string_view topic,
                                                  PartitionId partition) const;

  // Periodic work; call every few seconds with the clock's NowMillis():
  // retention (retention.ms, retention.bytes, log start offset), time-based
  // roll (segment.ms) and flush.ms, for every partition. Returns the first
  // error but works on every partition.
  Status RunMaintenance(int64_t now_ms);
  // fsyncs every partition.
  Status FlushAll();

  LogStats stats() const;
  std::vector<PartitionStats> AllPartitionStats() const;
  // Total fsyncs issued by this log (all partitions and metadata).
  uint64_t fsync_count() const;

  const LogOptions& options() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Topic;
  Log(std::string dir, std::shared_ptr<PartitionEnv> env);
  Status Load();
  Status SaveMetadataLocked();
  Status ValidateConfigsImpl(const ConfigMap& configs, TopicConfig* out) const;
  std::string PartitionDir(std::string_view topic, int32_t p) const;

  const std::string dir_;
  const std::shared_ptr<PartitionEnv> env_;
  std::mutex admin_mu_;           // serializes admin operations and metadata writes
  mutable std::shared_mutex mu_;  // guards topics_
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
  bool closed_ = false;  // guarded by admin_mu_
};

}  // namespace braid::log
