// Topic administration: CreateTopics (19), DeleteTopics (20),
// CreatePartitions (37), DescribeConfigs (32), AlterConfigs (33),
// IncrementalAlterConfigs (44), DeleteRecords (21).
#include <set>

#include "base/logging.h"
#include "kafka/group/producer_state.h"
#include "kafka/server/broker.h"

namespace braid::kafka {

namespace {

// DescribeConfigs ConfigSource values.
constexpr int8_t kSourceTopicConfig = 1;
constexpr int8_t kSourceStaticBrokerConfig = 4;
constexpr int8_t kSourceDefaultConfig = 5;

std::optional<std::string> Message(const Status& s) {
  if (s.ok()) return std::nullopt;
  return std::string(s.message());
}

bool AssignmentIsLocal(const std::vector<int32_t>& brokers, NodeId node) {
  return brokers.size() == 1 && brokers[0] == node.value();
}

}  // namespace

void Broker::HandleCreateTopics(const RequestContext& ctx, CreateTopicsRequest& req,
                                const std::function<void(const CreateTopicsResponse&)>& reply) {
  CreateTopicsResponse resp;
  std::map<std::string, int> seen;
  for (const auto& t : req.topics) seen[t.name]++;
  for (const auto& t : req.topics) {
    CreateTopicsResponse::Topic& rt = resp.topics.emplace_back();
    rt.name = t.name;
    auto fail = [&](ErrorCode ec, std::string msg) {
      rt.error_code = ec;
      rt.error_message = std::move(msg);
    };
    if (seen[t.name] > 1) {
      fail(ErrorCode::kInvalidRequest, "topic '" + t.name + "' appears more than once");
      continue;
    }
    if (Status s = log::Log::ValidateTopicName(t.name); !s.ok()) {
      fail(ErrorCode::kInvalidTopicException, std::string(s.message()));
      continue;
    }
    if (t.replication_factor != -1 && t.replication_factor != 1 && t.assignments.empty()) {
      fail(ErrorCode::kInvalidReplicationFactor, "replication factor " +
                                                     std::to_string(t.replication_factor) +
                                                     " is larger than the 1 available broker");
      continue;
    }
    int32_t partitions = t.num_partitions;
    if (!t.assignments.empty()) {
      if (t.num_partitions != -1 || t.replication_factor != -1) {
        fail(ErrorCode::kInvalidRequest,
             "num_partitions and replication_factor must be -1 with manual assignments");
        continue;
      }
      bool ok = true;
      for (size_t i = 0; i < t.assignments.size(); ++i) {
        if (!AssignmentIsLocal(t.assignments[i].broker_ids, options_.node_id) ||
            t.assignments[i].partition_index.value() != static_cast<int32_t>(i)) {
          ok = false;
        }
      }
      if (!ok) {
        fail(ErrorCode::kInvalidReplicaAssignment,
             "assignments must list partitions 0..n-1, each on broker " +
                 std::to_string(options_.node_id.value()));
        continue;
      }
      partitions = static_cast<int32_t>(t.assignments.size());
    }
    if (partitions == 0 || partitions < -1) {
      fail(ErrorCode::kInvalidPartitions,
           "number of partitions must be -1 or >= 1, got " + std::to_string(partitions));
      continue;
    }
    log::ConfigMap configs;
    for (const auto& c : t.configs) {
      if (c.value) configs[c.name] = *c.value;
    }
    if (Status s = log_->ValidateConfigs(configs); !s.ok()) {
      fail(ErrorCode::kInvalidConfig, std::string(s.message()));
      continue;
    }
    if (log_->HasTopic(t.name)) {
      fail(ErrorCode::kTopicAlreadyExists, "topic '" + t.name + "' already exists");
      continue;
    }
    if (req.validate_only) continue;
    Status s = log_->CreateTopic(t.name, partitions, configs);
    if (!s.ok()) {
      fail(ErrorCodeForStatus(s, ErrorCode::kInvalidConfig), std::string(s.message()));
      continue;
    }
    LOG_INFO("kafka: created topic '{}' ({} partitions)", t.name, partitions);
  }
  if (ctx.header.api_version < 1) {
    for (auto& t : resp.topics) t.error_message.reset();
  }
  reply(resp);
}

void Broker::HandleDeleteTopics(const RequestContext& ctx, DeleteTopicsRequest& req,
                                const std::function<void(const DeleteTopicsResponse&)>& reply) {
  DeleteTopicsResponse resp;
  for (const auto& name : req.topic_names) {
    DeleteTopicsResponse::Result& r = resp.responses.emplace_back();
    r.name = name;
    if (IsKafkaInternalTopic(name)) {
      // The group coordinator's store lives there.
      r.error_code = ErrorCode::kInvalidRequest;
      continue;
    }
    auto info = log_->DescribeTopic(name);
    Status s = log_->DeleteTopic(name);
    r.error_code = ErrorCodeForStatus(s, ErrorCode::kInvalidTopicException);
    if (!s.ok()) continue;
    LOG_INFO("kafka: deleted topic '{}'", name);
    if (options_.producers != nullptr && info.ok()) {
      std::lock_guard<std::mutex> lock(producers_mu_);
      for (int32_t p = 0; p < info->partition_count; ++p) {
        options_.producers->RemovePartition(TopicPartition{name, PartitionId(p)});
        recovered_.erase({name, p});
      }
    }
    if (options_.on_topic_deleted) options_.on_topic_deleted(name);
  }
  reply(resp);
}

void Broker::HandleCreatePartitions(
    const RequestContext& ctx, CreatePartitionsRequest& req,
    const std::function<void(const CreatePartitionsResponse&)>& reply) {
  CreatePartitionsResponse resp;
  for (const auto& t : req.topics) {
    CreatePartitionsResponse::Result& r = resp.results.emplace_back();
    r.name = t.name;
    auto info = log_->DescribeTopic(t.name);
    if (!info.ok()) {
      r.error_code = ErrorCode::kUnknownTopicOrPartition;
      r.error_message = "unknown topic '" + t.name + "'";
      continue;
    }
    if (IsKafkaInternalTopic(t.name)) {
      // Groups are mapped to partitions by the partition count.
      r.error_code = ErrorCode::kInvalidRequest;
      r.error_message = "the partitions of internal topic '" + t.name + "' cannot change";
      continue;
    }
    if (t.count <= info->partition_count) {
      r.error_code = ErrorCode::kInvalidPartitions;
      r.error_message = "topic has " + std::to_string(info->partition_count) +
                        " partitions; the new count must be larger, got " + std::to_string(t.count);
      continue;
    }
    if (t.assignments) {
      bool ok = static_cast<int32_t>(t.assignments->size()) == t.count - info->partition_count;
      for (const auto& a : *t.assignments)
        ok = ok && AssignmentIsLocal(a.broker_ids, options_.node_id);
      if (!ok) {
        r.error_code = ErrorCode::kInvalidReplicaAssignment;
        r.error_message = "each new partition must be assigned to broker " +
                          std::to_string(options_.node_id.value());
        continue;
      }
    }
    if (req.validate_only) continue;
    Status s = log_->CreatePartitions(t.name, t.count);
    r.error_code = ErrorCodeForStatus(s, ErrorCode::kInvalidPartitions);
    r.error_message = Message(s);
  }
  reply(resp);
}

std::vector<std::pair<std::string, std::string>> Broker::BrokerConfigs() const {
  const auto& lo = log_->options();
  const log::TopicConfig& d = lo.default_topic_config;
  std::string listeners, advertised;
  if (options_.listeners.empty()) {
    listeners = "PLAINTEXT://" + options_.listen;
    advertised = "PLAINTEXT://" + advertised_address();
  } else {
    for (size_t i = 0; i < options_.listeners.size(); ++i) {
      const ListenerOptions& l = options_.listeners[i].listener;
      const std::string proto = std::string(SecurityProtocolName(l.protocol)) + "://";
      listeners += (i ? "," : "") + proto + l.listen;
      advertised += (i ? "," : "") + proto + AdvertisedFor(static_cast<int>(i)).ToString();
    }
  }
  return {
      {"broker.id", std::to_string(options_.node_id.value())},
      {"advertised.listeners", advertised},
      {"listeners", listeners},
      {"auto.create.topics.enable", options_.auto_create_topics ? "true" : "false"},
      {"num.partitions", std::to_string(lo.num_partitions)},
      {"default.replication.factor", "1"},
      {"log.dirs", log_->dir()},
      {"log.retention.ms", std::to_string(d.retention_ms)},
      {"log.retention.bytes", std::to_string(d.retention_bytes)},
      {"log.segment.bytes", std::to_string(d.segment_bytes)},
      {"log.roll.ms", std::to_string(d.segment_ms)},
      {"log.flush.interval.messages",
       lo.fsync_every_append ? std::string("1") : std::to_string(d.flush_messages)},
      {"log.flush.interval.ms", std::to_string(d.flush_ms)},
      {"message.max.bytes", std::to_string(d.max_message_bytes)},
      {"socket.request.max.bytes", std::to_string(options_.max_frame_bytes)},
      {"queued.max.request.bytes", std::to_string(options_.limits.max_request_bytes_in_flight)},
      {"max.connections.per.ip", std::to_string(options_.limits.max_connections_per_ip)},
      {"max.connections", std::to_string(options_.limits.max_connections)},
      {"connections.max.idle.ms", std::to_string(options_.limits.connections_max_idle_ms)},
  };
}

void Broker::HandleDescribeConfigs(
    const RequestContext& ctx, DescribeConfigsRequest& req,
    const std::function<void(const DescribeConfigsResponse&)>& reply) {
  const int16_t version = ctx.header.api_version;
  DescribeConfigsResponse resp;
  for (const auto& res : req.resources) {
    DescribeConfigsResponse::Result& r = resp.results.emplace_back();
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    auto wanted = [&](const std::string& name) {
      if (!res.configuration_keys) return true;
      for (const auto& k : *res.configuration_keys) {
        if (k == name) return true;
      }
      return false;
    };
    auto add = [&](const std::string& name, const std::string& value, bool is_default,
                   int8_t source, bool read_only) {
      if (!wanted(name)) return;
      DescribeConfigsResponse::Config& c = r.configs.emplace_back();
      c.name = name;
      c.value = value;
      c.read_only = read_only;
      c.is_default = is_default;
      c.config_source = source;
      if (version >= 1 && req.include_synonyms) {
        c.synonyms.push_back({name, value, source});
      }
    };
    if (res.resource_type == kResourceTypeTopic) {
      auto info = log_->DescribeTopic(res.resource_name);
      if (!info.ok()) {
        r.error_code = ErrorCode::kUnknownTopicOrPartition;
        r.error_message = "unknown topic '" + res.resource_name + "'";
        continue;
      }
      for (const auto& [name, value] : info->config.ToMap()) {
        const bool overridden = info->overrides.count(name) != 0;
        add(name, value, !overridden, overridden ? kSourceTopicConfig : kSourceDefaultConfig,
            false);
      }
    } else if (res.resource_type == kResourceTypeBroker) {
      if (!res.resource_name.empty() &&
          res.resource_name != std::to_string(options_.node_id.value())) {
        r.error_code = ErrorCode::kInvalidRequest;
        r.error_message = "unknown broker '" + res.resource_name + "'";
        continue;
      }
      for (const auto& [name, value] : BrokerConfigs()) {
        add(name, value, false, kSourceStaticBrokerConfig, true);
      }
    } else {
      r.error_code = ErrorCode::kInvalidRequest;
      r.error_message = "unsupported resource type " + std::to_string(res.resource_type);
    }
  }
  reply(resp);
}

namespace {

// Common checks of AlterConfigs/IncrementalAlterConfigs resources. Returns
// false (with *out filled) if the resource cannot be altered.
bool CheckAlterResource(log::Log* log, int8_t type, const std::string& name,
                        AlterConfigsResourceResponse* out) {
  out->resource_type = type;
  out->resource_name = name;
  if (type == kResourceTypeBroker) {
    out->error_code = ErrorCode::kInvalidRequest;
    out->error_message = "broker configs are static in braid; restart with other flags";
    return false;
  }
  if (type != kResourceTypeTopic) {
    out->error_code = ErrorCode::kInvalidRequest;
    out->error_message = "unsupported resource type " + std::to_string(type);
    return false;
  }
  if (!log->HasTopic(name)) {
    out->error_code = ErrorCode::kUnknownTopicOrPartition;
    out->error_message = "unknown topic '" + name + "'";
    return false;
  }
  return true;
}

}  // namespace

void Broker::HandleAlterConfigs(const RequestContext& ctx, AlterConfigsRequest& req,
                                const std::function<void(const AlterConfigsResponse&)>& reply) {
  AlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    AlterConfigsResourceResponse& r = resp.responses.emplace_back();
    if (!CheckAlterResource(log_, res.resource_type, res.resource_name, &r)) continue;
    log::ConfigMap configs;
    for (const auto& c : res.configs) {
      if (c.value) configs[c.name] = *c.value;
    }
    Status s = log_->ValidateConfigs(configs);
    if (s.ok() && !req.validate_only) s = log_->SetTopicConfigs(res.resource_name, configs);
    r.error_code = ErrorCodeForStatus(s, ErrorCode::kInvalidConfig);
    r.error_message = Message(s);
  }
  reply(resp);
}

void Broker::HandleIncrementalAlterConfigs(
    const RequestContext& ctx, IncrementalAlterConfigsRequest& req,
    const std::function<void(const IncrementalAlterConfigsResponse&)>& reply) {
  IncrementalAlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    AlterConfigsResourceResponse& r = resp.responses.emplace_back();
    if (!CheckAlterResource(log_, res.resource_type, res.resource_name, &r)) continue;
    log::ConfigMap set;
    std::vector<std::string> remove;
    Status s;
    for (const auto& c : res.configs) {
      if (c.config_operation == kConfigOpSet && c.value) {
        set[c.name] = *c.value;
      } else if (c.config_operation == kConfigOpDelete) {
        remove.push_back(c.name);
      } else {
        s = Status::InvalidArgument("unsupported operation " + std::to_string(c.config_operation) +
                                    " for '" + c.name + "'");
      }
    }
    if (s.ok()) s = log_->ValidateConfigs(set);
    if (s.ok() && !req.validate_only) {
      s = log_->UpdateTopicConfigs(res.resource_name, set, remove);
    }
    r.error_code = ErrorCodeForStatus(s, ErrorCode::kInvalidConfig);
    r.error_message = Message(s);
  }
  reply(resp);
}

void Broker::HandleDeleteRecords(const RequestContext& ctx, DeleteRecordsRequest& req,
                                 const std::function<void(const DeleteRecordsResponse&)>& reply) {
  DeleteRecordsResponse resp;
  for (const auto& topic : req.topics) {
    DeleteRecordsResponse::Topic& rt = resp.topics.emplace_back();
    rt.name = topic.name;
    for (const auto& part : topic.partitions) {
      DeleteRecordsResponse::Partition& rp = rt.partitions.emplace_back();
      rp.partition_index = part.partition_index;
      auto partition = log_->GetPartition(topic.name, part.partition_index);
      if (!partition.ok()) {
        rp.error_code = ErrorCode::kUnknownTopicOrPartition;
        continue;
      }
      auto info = log_->DescribeTopic(topic.name);
      if (info.ok() && !info->config.deletes()) {
        // Kafka: records of a compacted topic cannot be deleted.
        rp.error_code = ErrorCode::kPolicyViolation;
        continue;
      }
      Offset target = part.offset.value() == -1 ? (*partition)->high_watermark() : part.offset;
      if (target.value() < 0) {
        rp.error_code = ErrorCode::kOffsetOutOfRange;
        continue;
      }
      auto moved = (*partition)->DeleteRecords(target);
      if (!moved.ok()) {
        rp.error_code = ErrorCodeForStatus(moved.status(), ErrorCode::kOffsetOutOfRange);
        continue;
      }
      rp.low_watermark = *moved;
    }
  }
  reply(resp);
}

}  // namespace braid::kafka
