// Metadata (key 3) v0-v7 and ListOffsets (key 2) v0-v3.
#include "base/logging.h"
#include "kafka/server/broker.h"

namespace braid::kafka {

namespace {

void FillTopic(const log::TopicInfo& info, NodeId node, MetadataResponse::Topic* t) {
  t->error_code = ErrorCode::kNone;
  t->name = info.name;
  t->is_internal = IsKafkaInternalTopic(info.name);
  t->partitions.clear();
  t->partitions.reserve(static_cast<size_t>(info.partition_count));
  for (int32_t i = 0; i < info.partition_count; ++i) {
    MetadataResponse::Partition& p = t->partitions.emplace_back();
    p.partition_index = PartitionId(i);
    p.leader_id = node;
    p.leader_epoch = 0;
    p.replica_nodes = {node.value()};
    p.isr_nodes = {node.value()};
  }
}

}  // namespace

void Broker::HandleMetadata(const RequestContext& ctx, MetadataRequest& req,
                            const std::function<void(const MetadataResponse&)>& reply) {
  const int16_t version = ctx.header.api_version;
  MetadataResponse resp;
  MetadataResponse::Broker& b = resp.brokers.emplace_back();
  b.node_id = options_.node_id;
  const HostPort adv = AdvertisedFor(ctx.conn.listener);  // the client's listener
  b.host = adv.host;
  b.port = adv.port;
  resp.cluster_id = options_.cluster_id;
  resp.controller_id = options_.node_id;
  const bool all = version == 0 ? (!req.topics || req.topics->empty()) : !req.topics.has_value();
  if (all) {
    for (const auto& info : log_->ListTopics()) {
      // With ACLs, topics the principal may not describe are left out.
      if (!Authorized(ctx, security::AclOperation::kDescribe, security::ResourceType::kTopic,
                      info.name)) {
        continue;
      }
      FillTopic(info, options_.node_id, &resp.topics.emplace_back());
    }
  } else {
    // v0-v3: the broker setting alone decides; v4+: the request flag too.
    const bool auto_create = version < 4 || req.allow_auto_topic_creation;
    for (const auto& name : *req.topics) {
      MetadataResponse::Topic& t = resp.topics.emplace_back();
      t.name = name;
      if (!Authorized(ctx, security::AclOperation::kDescribe, security::ResourceType::kTopic,
                      name)) {
        t.error_code = ErrorCode::kTopicAuthorizationFailed;
        continue;
      }
      ErrorCode ec = EnsureTopic(name, auto_create && MayCreateTopic(ctx, name));
      if (ec != ErrorCode::kNone) {
        t.error_code = ec;
        continue;
      }
      auto info = log_->DescribeTopic(name);
      if (!info.ok()) {
        t.error_code = ErrorCode::kUnknownTopicOrPartition;  // deleted meanwhile
        continue;
      }
      FillTopic(*info, options_.node_id, &t);
    }
  }
  reply(resp);
}

void Broker::HandleListOffsets(const RequestContext& ctx, ListOffsetsRequest& req,
                               const std::function<void(const ListOffsetsResponse&)>& reply) {
  ListOffsetsResponse resp;
  resp.topics.reserve(req.topics.size());
  for (const auto& topic : req.topics) {
    ListOffsetsResponse::Topic& rt = resp.topics.emplace_back();
    rt.name = topic.name;
    for (const auto& part : topic.partitions) {
      ListOffsetsResponse::Partition& rp = rt.partitions.emplace_back();
      rp.partition_index = part.partition_index;
      auto partition = log_->GetPartition(topic.name, part.partition_index);
      if (!partition.ok()) {
        rp.error_code = ErrorCode::kUnknownTopicOrPartition;
        continue;
      }
      if (part.timestamp == kListOffsetsEarliest) {
        rp.offset = (*partition)->log_start_offset();
      } else if (part.timestamp == kListOffsetsLatest) {
        rp.offset = (*partition)->high_watermark();  // LSO == HW: no transactions
      } else if (part.timestamp >= 0) {
        auto found = (*partition)->LookupTimestamp(part.timestamp);
        if (!found.ok()) {
          rp.error_code = found.status().code() == StatusCode::kNotFound
                              ? ErrorCode::kUnknownTopicOrPartition
                              : ErrorCode::kKafkaStorageError;
          continue;
        }
        rp.offset = found->offset;
        rp.timestamp = found->timestamp;
      } else {
        rp.error_code = ErrorCode::kInvalidRequest;  // -3.. need newer versions
      }
      // v0 answers a list of at most MaxNumOffsets offsets: the one found
      // (empty when no record has the timestamp). Kafka's v0 lists segment
      // base offsets for timestamps and for LATEST with MaxNumOffsets > 1;
      // braid answers the exact offset of v1+ (one entry), which is what the
      // v0 clients we know (sarama, Burrow: MaxNumOffsets 1) use.
      if (part.max_num_offsets > 0 && rp.error_code == ErrorCode::kNone && rp.offset.value() >= 0) {
        rp.old_style_offsets = {rp.offset.value()};
      }
    }
  }
  reply(resp);
}

}  // namespace braid::kafka
