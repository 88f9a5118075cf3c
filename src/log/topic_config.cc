#include "log/topic_config.h"

#include <charconv>
#include <set>
#include <string>

namespace braid::log {
namespace {

// Kafka topic configs braid stores but does not act on.
const std::set<std::string, std::less<>>& PassiveConfigs() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "compression.type",
      "delete.retention.ms",
      "file.delete.delay.ms",
      "follower.replication.throttled.replicas",
      "index.interval.bytes",
      "leader.replication.throttled.replicas",
      "local.retention.bytes",
      "local.retention.ms",
      "max.compaction.lag.ms",
      "message.downconversion.enable",
      "message.format.version",
      "message.timestamp.after.max.ms",
      "message.timestamp.before.max.ms",
      "message.timestamp.difference.max.ms",
      "min.cleanable.dirty.ratio",
      "min.compaction.lag.ms",
      "min.insync.replicas",
      "preallocate",
      "remote.storage.enable",
      "segment.index.bytes",
      "segment.jitter.ms",
      "unclean.leader.election.enable",
  };
  return *names;
}

const std::set<std::string, std::less<>>& ActiveConfigs() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "retention.ms",   "retention.bytes",   "segment.bytes",
      "segment.ms",     "max.message.bytes", "cleanup.policy",
      "flush.messages", "flush.ms",          "message.timestamp.type",
  };
  return *names;
}

Status ParseInt(std::string_view key, std::string_view v, int64_t min, int64_t max, int64_t* out) {
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return Status::InvalidArgument("config " + std::string(key) + ": '" + std::string(v) +
                                   "' is not an integer");
  }
  if (x < min || x > max) {
    return Status::InvalidArgument("config " + std::string(key) + ": " + std::string(v) +
                                   " is outside [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  }
  *out = x;
  return Status::OK();
}

constexpr int64_t kMaxLong = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

}  // namespace

bool IsKnownTopicConfig(std::string_view name) {
  return ActiveConfigs().count(name) > 0 || PassiveConfigs().count(name) > 0 ||
         (name.size() > 6 && name.substr(0, 6) == "braid.");
}

Status TopicConfig::Apply(const ConfigMap& overrides) {
  TopicConfig c = *this;
  for (const auto& [key, value] : overrides) {
    if (key == "retention.ms") {
      RETURN_IF_ERROR(ParseInt(key, value, -1, kMaxLong, &c.retention_ms));
    } else if (key == "retention.bytes") {
      RETURN_IF_ERROR(ParseInt(key, value, -1, kMaxLong, &c.retention_bytes));
    } else if (key == "segment.bytes") {
      RETURN_IF_ERROR(ParseInt(key, value, 14, kMaxInt, &c.segment_bytes));
    } else if (key == "segment.ms") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, kMaxLong, &c.segment_ms));
    } else if (key == "max.message.bytes") {
      int64_t v = 0;
      RETURN_IF_ERROR(ParseInt(key, value, 0, kMaxInt, &v));
      c.max_message_bytes = static_cast<int32_t>(v);
    } else if (key == "flush.messages") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, kMaxLong, &c.flush_messages));
    } else if (key == "flush.ms") {
      RETURN_IF_ERROR(ParseInt(key, value, 0, kMaxLong, &c.flush_ms));
    } else if (key == "cleanup.policy") {
      std::string v;
      for (char ch : value) {
        if (ch != ' ') v += ch;
      }
      if (v != "delete" && v != "compact" && v != "compact,delete" && v != "delete,compact") {
        return Status::InvalidArgument("config cleanup.policy: '" + value +
                                       "' is not delete, compact or compact,delete");
      }
      c.cleanup_policy = v;
    } else if (key == "message.timestamp.type") {
      if (value == "CreateTime") {
        c.message_timestamp_type = TimestampType::kCreateTime;
      } else if (value == "LogAppendTime") {
        c.message_timestamp_type = TimestampType::kLogAppendTime;
      } else {
        return Status::InvalidArgument("config message.timestamp.type: '" + value +
                                       "' is not CreateTime or LogAppendTime");
      }
    } else if (IsKnownTopicConfig(key)) {
      c.other[key] = value;
    } else {
      return Status::InvalidArgument("unknown topic config '" + key + "'");
    }
  }
  *this = std::move(c);
  return Status::OK();
}

ConfigMap TopicConfig::ToMap() const {
  ConfigMap m = other;
  m["retention.ms"] = std::to_string(retention_ms);
  m["retention.bytes"] = std::to_string(retention_bytes);
  m["segment.bytes"] = std::to_string(segment_bytes);
  m["segment.ms"] = std::to_string(segment_ms);
  m["max.message.bytes"] = std::to_string(max_message_bytes);
  m["cleanup.policy"] = cleanup_policy;
  m["flush.messages"] = std::to_string(flush_messages);
  m["flush.ms"] = std::to_string(flush_ms);
  m["message.timestamp.type"] =
      message_timestamp_type == TimestampType::kCreateTime ? "CreateTime" : "LogAppendTime";
  return m;
}

}  // namespace braid::log
