// RegisterGroupApis: installs the consumer-group APIs and InitProducerId on a
// kafka::Broker, forwarding each decoded request to GroupHandlers.
//
// It lives with the server, which depends on kafka/group (never the other
// way round); the broker role calls it before Broker::Start().
//
// The broker must also, for groups to behave:
//   * call GroupCoordinator::OnConnectionClosed(conn.id) from
//     Broker::OnConnectionClosed (drops JoinGroup/SyncGroup answers parked
//     for a closed connection; membership is unchanged, as in Kafka);
//   * call GroupCoordinator::Tick() about every 100 ms;
// and for idempotent producers, run each Produce batch through
// ProducerStateManager::CheckAndAppend (see README.md).
#pragma once

#include <memory>
#include <utility>

#include "kafka/group/group_handlers.h"
#include "kafka/server/api_handler.h"
#include "kafka/server/broker.h"

namespace braid::kafka {

inline GroupRequestContext ToGroupContext(const RequestContext& ctx) {
  GroupRequestContext g;
  g.api_version = ctx.header.api_version;
  g.connection_id = ctx.conn.id;
  g.client_id = ctx.header.client_id.value_or("");
  g.peer = ctx.conn.peer;
  return g;
}

// `h` must outlive the broker's serving (Stop() it first).
inline void RegisterGroupApis(Broker* broker, GroupHandlers* h) {
  // Synchronous APIs: decode, call, reply.
#define BRAID_GROUP_SYNC_API(Name)                                                                 \
  broker->RegisterApi(ApiKey::k##Name, TypedApiHandler<Name##Request, Name##Response>(             \
                                           [h](const RequestContext& ctx, Name##Request& req,      \
                                               std::function<void(const Name##Response&)> reply) { \
                                             reply(h->Name(ToGroupContext(ctx), req));             \
                                           }))
  // FindCoordinator names this broker as the client's listener advertises it.
  broker->RegisterApi(ApiKey::kFindCoordinator,
                      TypedApiHandler<FindCoordinatorRequest, FindCoordinatorResponse>(
                          [h, broker](const RequestContext& ctx, FindCoordinatorRequest& req,
                                      std::function<void(const FindCoordinatorResponse&)> reply) {
                            FindCoordinatorResponse resp =
                                h->FindCoordinator(ToGroupContext(ctx), req);
                            if (resp.error_code == ErrorCode::kNone) {
                              const HostPort adv = broker->AdvertisedFor(ctx.conn.listener);
                              resp.host = adv.host;
                              resp.port = adv.port;
                            }
                            reply(resp);
                          }));
  BRAID_GROUP_SYNC_API(Heartbeat);
  BRAID_GROUP_SYNC_API(LeaveGroup);
  BRAID_GROUP_SYNC_API(OffsetCommit);
  BRAID_GROUP_SYNC_API(OffsetFetch);
  BRAID_GROUP_SYNC_API(DescribeGroups);
  BRAID_GROUP_SYNC_API(ListGroups);
  BRAID_GROUP_SYNC_API(DeleteGroups);
  BRAID_GROUP_SYNC_API(OffsetDelete);
  BRAID_GROUP_SYNC_API(InitProducerId);
#undef BRAID_GROUP_SYNC_API
  // Asynchronous APIs: the reply comes when the rebalance gets there.
  broker->RegisterApi(ApiKey::kJoinGroup,
                      TypedApiHandler<JoinGroupRequest, JoinGroupResponse>(
                          [h](const RequestContext& ctx, JoinGroupRequest& req,
                              std::function<void(const JoinGroupResponse&)> reply) {
                            h->JoinGroup(ToGroupContext(ctx), req, std::move(reply));
                          }));
  broker->RegisterApi(ApiKey::kSyncGroup,
                      TypedApiHandler<SyncGroupRequest, SyncGroupResponse>(
                          [h](const RequestContext& ctx, SyncGroupRequest& req,
                              std::function<void(const SyncGroupResponse&)> reply) {
                            h->SyncGroup(ToGroupContext(ctx), req, std::move(reply));
                          }));
}

}  // namespace braid::kafka
