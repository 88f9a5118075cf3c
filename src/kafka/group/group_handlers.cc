#include "kafka/group/group_handlers.h"

#include <utility>

#include "base/log_limiter.h"
#include "base/logging.h"

namespace braid::kafka {

GroupHandlers::GroupHandlers(GroupCoordinator* coordinator, ProducerIdManager* producer_ids,
                             std::function<CoordinatorEndpoint()> endpoint)
    : coordinator_(coordinator), producer_ids_(producer_ids), endpoint_(std::move(endpoint)) {}

std::string GroupHandlers::ClientHost(const std::string& peer) {
  std::string host = peer;
  size_t colon = host.rfind(':');
  if (colon != std::string::npos) host.resize(colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return "/" + host;
}

FindCoordinatorResponse GroupHandlers::FindCoordinator(const GroupRequestContext& ctx,
                                                       const FindCoordinatorRequest& req) {
  FindCoordinatorResponse resp;
  if (req.key_type != 0) {
    resp.error_code = ErrorCode::kCoordinatorNotAvailable;
    resp.error_message = "braid has no transaction coordinator";
    return resp;
  }
  if (!coordinator_->IsReady()) {
    resp.error_code = ErrorCode::kCoordinatorNotAvailable;
    resp.error_message = "the group coordinator is loading";
    return resp;
  }
  CoordinatorEndpoint ep = endpoint_();
  resp.node_id = NodeId(ep.node_id);
  resp.host = ep.host;
  resp.port = ep.port;
  return resp;
}

void GroupHandlers::JoinGroup(const GroupRequestContext& ctx, const JoinGroupRequest& req,
                              std::function<void(const JoinGroupResponse&)> reply) {
  JoinGroupParams p;
  p.group_id = req.group_id;
  p.member_id = req.member_id;
  p.group_instance_id = req.group_instance_id;
  p.client_id = ctx.client_id;
  p.client_host = ClientHost(ctx.peer);
  p.session_timeout_ms = req.session_timeout_ms;
  // JoinGroup v0 has no rebalance timeout: the session timeout is used.
  p.rebalance_timeout_ms = ctx.api_version >= 1 ? req.rebalance_timeout_ms : -1;
  p.protocol_type = req.protocol_type;
  for (const auto& proto : req.protocols) p.protocols.emplace_back(proto.name, proto.metadata);
  p.require_known_member_id = ctx.api_version >= 4;
  p.connection_id = ctx.connection_id;
  coordinator_->JoinGroup(std::move(p), [reply = std::move(reply)](JoinGroupResult r) {
    JoinGroupResponse resp;
    resp.error_code = r.error;
    resp.generation_id = r.generation_id;
    resp.protocol_name = std::move(r.protocol_name);
    resp.leader = std::move(r.leader_id);
    resp.member_id = std::move(r.member_id);
    for (auto& m : r.members) {
      resp.members.push_back(
          {std::move(m.member_id), std::move(m.group_instance_id), std::move(m.metadata)});
    }
    reply(resp);
  });
}

void GroupHandlers::SyncGroup(const GroupRequestContext& ctx, const SyncGroupRequest& req,
                              std::function<void(const SyncGroupResponse&)> reply) {
  SyncGroupParams p;
  p.group_id = req.group_id;
  p.generation_id = req.generation_id;
  p.member_id = req.member_id;
  p.group_instance_id = req.group_instance_id;
  for (const auto& a : req.assignments) p.assignments.emplace_back(a.member_id, a.assignment);
  p.connection_id = ctx.connection_id;
  coordinator_->SyncGroup(std::move(p), [reply = std::move(reply)](SyncGroupResult r) {
    SyncGroupResponse resp;
    resp.error_code = r.error;
    resp.assignment = std::move(r.assignment);
    reply(resp);
  });
}

HeartbeatResponse GroupHandlers::Heartbeat(const GroupRequestContext& ctx,
                                           const HeartbeatRequest& req) {
  HeartbeatParams p;
  p.group_id = req.group_id;
  p.generation_id = req.generation_id;
  p.member_id = req.member_id;
  p.group_instance_id = req.group_instance_id;
  HeartbeatResponse resp;
  resp.error_code = coordinator_->Heartbeat(p);
  return resp;
}

LeaveGroupResponse GroupHandlers::LeaveGroup(const GroupRequestContext& ctx,
                                             const LeaveGroupRequest& req) {
  // LeaveGroup v0-2: one member id, errors at the top level.
  LeaveGroupResult r = coordinator_->LeaveGroup(req.group_id, {{req.member_id, std::nullopt}});
  LeaveGroupResponse resp;
  resp.error_code = r.error;
  if (resp.error_code == ErrorCode::kNone && !r.members.empty()) {
    resp.error_code = r.members[0].second;
  }
  return resp;
}

OffsetCommitResponse GroupHandlers::OffsetCommit(const GroupRequestContext& ctx,
                                                 const OffsetCommitRequest& req) {
  OffsetCommitParams p;
  p.group_id = req.group_id;
  // v0 has no generation: a simple (ZooKeeper-era) commit.
  p.generation_id = ctx.api_version >= 1 ? req.generation_id : GenerationId(-1);
  if (ctx.api_version >= 1) p.member_id = req.member_id;
  p.group_instance_id = req.group_instance_id;
  for (const auto& t : req.topics) {
    for (const auto& part : t.partitions) {
      OffsetCommitParams::Partition cp;
      cp.tp = {t.name, part.partition_index};
      cp.offset = part.committed_offset;
      cp.leader_epoch = part.committed_leader_epoch;
      cp.metadata = part.committed_metadata;
      p.partitions.push_back(std::move(cp));
    }
  }
  OffsetCommitResult r = coordinator_->OffsetCommit(p);
  OffsetCommitResponse resp;
  size_t i = 0;
  for (const auto& t : req.topics) {
    OffsetCommitResponse::Topic rt;
    rt.name = t.name;
    for (const auto& part : t.partitions) {
      rt.partitions.push_back({part.partition_index, r.partitions[i++].second});
    }
    resp.topics.push_back(std::move(rt));
  }
  return resp;
}

OffsetFetchResponse GroupHandlers::OffsetFetch(const GroupRequestContext& ctx,
                                               const OffsetFetchRequest& req) {
  std::optional<std::vector<TopicPartition>> wanted;
  if (req.topics) {
    wanted.emplace();
    for (const auto& t : *req.topics) {
      for (int32_t p : t.partition_indexes) wanted->push_back({t.name, PartitionId(p)});
    }
  }
  OffsetFetchResult r = coordinator_->OffsetFetch(req.group_id, wanted);
  OffsetFetchResponse resp;
  resp.error_code = r.error;
  if (ctx.api_version < 2 && r.error != ErrorCode::kNone) {
    // v0-1 have no top-level error: it is carried by every partition.
    for (auto& part : r.partitions) part.error = r.error;
  }
  for (auto& part : r.partitions) {
    if (resp.topics.empty() || resp.topics.back().name != part.tp.topic) {
      OffsetFetchResponse::Topic t;
      t.name = part.tp.topic;
      resp.topics.push_back(std::move(t));
    }
    OffsetFetchResponse::Partition rp;
    rp.partition_index = part.tp.partition;
    rp.committed_offset = part.offset;
    rp.committed_leader_epoch = part.leader_epoch;
    rp.metadata = std::move(part.metadata);
    rp.error_code = part.error;
    resp.topics.back().partitions.push_back(std::move(rp));
  }
  return resp;
}

DescribeGroupsResponse GroupHandlers::DescribeGroups(const GroupRequestContext& ctx,
                                                     const DescribeGroupsRequest& req) {
  DescribeGroupsResponse resp;
  for (const auto& id : req.groups) {
    GroupDescription d = coordinator_->DescribeGroup(id);
    DescribeGroupsResponse::Group g;
    g.error_code = d.error;
    g.group_id = d.group_id;
    g.group_state = d.state;
    g.protocol_type = d.protocol_type;
    g.protocol_data = d.protocol_name;
    for (auto& m : d.members) {
      DescribeGroupsResponse::Member rm;
      rm.member_id = std::move(m.member_id);
      rm.group_instance_id = std::move(m.group_instance_id);
      rm.client_id = std::move(m.client_id);
      rm.client_host = std::move(m.client_host);
      rm.member_metadata = std::move(m.metadata);
      rm.member_assignment = std::move(m.assignment);
      g.members.push_back(std::move(rm));
    }
    resp.groups.push_back(std::move(g));
  }
  return resp;
}

ListGroupsResponse GroupHandlers::ListGroups(const GroupRequestContext& ctx,
                                             const ListGroupsRequest& req) {
  ListGroupsResponse resp;
  if (!coordinator_->IsReady()) {
    resp.error_code = ErrorCode::kCoordinatorLoadInProgress;
    return resp;
  }
  // v4+: only the states asked for (KIP-518), each group with its state.
  for (auto& g : coordinator_->ListGroups(req.states_filter)) {
    resp.groups.push_back({std::move(g.group_id), std::move(g.protocol_type), std::move(g.state)});
  }
  return resp;
}

OffsetDeleteResponse GroupHandlers::OffsetDelete(const GroupRequestContext& ctx,
                                                 const OffsetDeleteRequest& req) {
  std::vector<TopicPartition> tps;
  for (const auto& t : req.topics) {
    for (int32_t p : t.partitions) tps.push_back({t.name, PartitionId(p)});
  }
  OffsetDeleteResult r = coordinator_->DeleteOffsets(req.group_id, tps);
  OffsetDeleteResponse resp;
  resp.error_code = r.error;
  if (r.error != ErrorCode::kNone) return resp;  // Kafka: no partitions then
  size_t i = 0;
  for (const auto& t : req.topics) {
    OffsetDeleteResponse::Topic& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partitions)
      rt.partitions.push_back({PartitionId(p), r.partitions[i++].second});
  }
  return resp;
}

DeleteGroupsResponse GroupHandlers::DeleteGroups(const GroupRequestContext& ctx,
                                                 const DeleteGroupsRequest& req) {
  DeleteGroupsResponse resp;
  for (const auto& id : req.groups_names) {
    resp.results.push_back({id, coordinator_->DeleteGroup(id)});
  }
  return resp;
}

InitProducerIdResponse GroupHandlers::InitProducerId(const GroupRequestContext& ctx,
                                                     const InitProducerIdRequest& req) {
  InitProducerIdResponse resp;
  if (req.transactional_id) {
    WarnClientInput("transactional id", ctx.peer,
                    "kafka: InitProducerId from {} with transactional id '{}' refused: no "
                    "transactions",
                    ctx.peer, EscapeForLog(*req.transactional_id));
    resp.error_code = ErrorCode::kInvalidRequest;
    return resp;
  }
  auto id = producer_ids_->Next();
  if (!id.ok()) {
    LOG_ERROR("kafka: cannot allocate a producer id: {}", id.status().ToString());
    resp.error_code = ErrorCode::kCoordinatorNotAvailable;
    return resp;
  }
  resp.producer_id = *id;
  resp.producer_epoch = ProducerEpoch(0);
  return resp;
}

}  // namespace braid::kafka
