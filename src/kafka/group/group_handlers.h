// GroupHandlers: the thin adapter between the protocol library's request and
// response structs (kafka/protocol/messages.h) and the GroupCoordinator /
// ProducerIdManager. The broker decodes a request, calls the matching method
// here and encodes what it gets back; nothing here touches sockets.
//
// Every method fills every field of the response for the request's version
// (api_version in the context). JoinGroup and SyncGroup answer through a
// callback that may run later on another thread (see group_coordinator.h);
// all others return their response.
//
// Thread safety: thread-safe (the coordinator and id manager are).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "kafka/group/group_coordinator.h"
#include "kafka/group/producer_state.h"
#include "kafka/protocol/messages.h"

namespace braid::kafka {

// What the adapter needs to know about the request being answered.
struct GroupRequestContext {
  int16_t api_version = 0;
  uint64_t connection_id = 0;  // the server's connection id (for OnConnectionClosed)
  std::string client_id;       // request header client_id ("" if null)
  std::string peer;            // "host:port" of the client
};

// This broker, as FindCoordinator reports it (same as in Metadata).
struct CoordinatorEndpoint {
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
};

class GroupHandlers {
 public:
  // `coordinator` and `producer_ids` must outlive this object. `endpoint` is
  // called for every FindCoordinator (the advertised address may only be
  // known after the listener started).
  GroupHandlers(GroupCoordinator* coordinator, ProducerIdManager* producer_ids,
                std::function<CoordinatorEndpoint()> endpoint);

  FindCoordinatorResponse FindCoordinator(const GroupRequestContext& ctx,
                                          const FindCoordinatorRequest& req);
  void JoinGroup(const GroupRequestContext& ctx, const JoinGroupRequest& req,
                 std::function<void(const JoinGroupResponse&)> reply);
  void SyncGroup(const GroupRequestContext& ctx, const SyncGroupRequest& req,
                 std::function<void(const SyncGroupResponse&)> reply);
  HeartbeatResponse Heartbeat(const GroupRequestContext& ctx, const HeartbeatRequest& req);
  LeaveGroupResponse LeaveGroup(const GroupRequestContext& ctx, const LeaveGroupRequest& req);
  OffsetCommitResponse OffsetCommit(const GroupRequestContext& ctx, const OffsetCommitRequest& req);
  OffsetFetchResponse OffsetFetch(const GroupRequestContext& ctx, const OffsetFetchRequest& req);
  DescribeGroupsResponse DescribeGroups(const GroupRequestContext& ctx,
                                        const DescribeGroupsRequest& req);
  ListGroupsResponse ListGroups(const GroupRequestContext& ctx, const ListGroupsRequest& req);
  DeleteGroupsResponse DeleteGroups(const GroupRequestContext& ctx, const DeleteGroupsRequest& req);
  OffsetDeleteResponse OffsetDelete(const GroupRequestContext& ctx, const OffsetDeleteRequest& req);
  // Idempotent producers only: a transactional id is refused with
  // INVALID_REQUEST (braid has no transaction coordinator). Every call
  // returns a fresh producer id with epoch 0 (what Kafka does for
  // non-transactional producers).
  InitProducerIdResponse InitProducerId(const GroupRequestContext& ctx,
                                        const InitProducerIdRequest& req);

  // Kafka's client_host form of a "host:port" peer: "/host".
  static std::string ClientHost(const std::string& peer);

 private:
  GroupCoordinator* coordinator_;
  ProducerIdManager* producer_ids_;
  std::function<CoordinatorEndpoint()> endpoint_;
};

}  // namespace braid::kafka
