// TopicConfig: a topic's settings under Kafka's topic config names.
//
// Effective config = the broker defaults (LogOptions::default_topic_config)
// overlaid with the topic's explicit overrides (a name → string map, as in
// CreateTopics / AlterConfigs). Only the overrides are persisted, so changing
// a broker default changes every topic that does not override it.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "log/record_batch.h"

namespace braid::log {

using ConfigMap = std::map<std::string, std::string, std::less<>>;

struct TopicConfig {
  // retention.ms: delete a closed segment once its newest timestamp is older
  // than this. -1 = keep forever. Default: 604800000 (7 days).
  int64_t retention_ms = 604'800'000;
  // retention.bytes: delete oldest closed segments while the partition would
  // stay >= this size without them. -1 = no limit. Default: -1.
  int64_t retention_bytes = -1;
  // segment.bytes: roll to a new segment before a batch would make the active
  // one larger than this. Range [14, 2^31-1]. Default: 1073741824 (1 GiB).
  int64_t segment_bytes = 1'073'741'824;
  // segment.ms: roll when the active segment is older than this (measured
  // from its first batch). Default: 604800000 (7 days).
  int64_t segment_ms = 604'800'000;
  // max.message.bytes: largest batch (whole RecordBatch, header included)
  // accepted by Append. Default: 1048588.
  int32_t max_message_bytes = 1'048'588;
  // cleanup.policy: "delete", "compact" or "compact,delete". The log has no
  // key-based cleaner: a compact-only topic is never cleaned by the log (its
  // owner may rewrite it, as kafka/group does for __consumer_offsets);
  // "delete" in the list enables time/size retention. Default: "delete".
  std::string cleanup_policy = "delete";
  // flush.messages: fsync the partition after this many records appended
  // since the last fsync. Default: Long.MAX_VALUE = never forced (as Kafka:
  // durability comes from the OS page cache until a flush; see README).
  int64_t flush_messages = std::numeric_limits<int64_t>::max();
  // flush.ms: fsync the partition when the oldest unflushed append is at
  // least this old (checked by Log::RunMaintenance). Default: Long.MAX_VALUE
  // = never forced.
  int64_t flush_ms = std::numeric_limits<int64_t>::max();
  // message.timestamp.type: CreateTime keeps the producer's timestamps;
  // LogAppendTime stamps each batch with the broker time on append.
  // Default: CreateTime.
  TimestampType message_timestamp_type = TimestampType::kCreateTime;
  // Every other accepted key (other Kafka topic configs, which braid stores
  // but does not act on, and braid.* keys), as strings.
  ConfigMap other;

  bool deletes() const { return cleanup_policy.find("delete") != std::string::npos; }

  // Applies `overrides` (Kafka names) on top of *this. Unknown keys that are
  // neither Kafka topic configs nor "braid.*" and invalid values →
  // InvalidArgument naming the key. *this is unchanged on error.
  Status Apply(const ConfigMap& overrides);

  // Every config of this topic, Kafka names → string values (the
  // DescribeConfigs view), including `other`.
  ConfigMap ToMap() const;
};

// True if `name` is a topic config name braid accepts.
bool IsKnownTopicConfig(std::string_view name);

}  // namespace braid::log
