// ACLs (with BrokerOptions::acls set): CreateAcls/DescribeAcls/DeleteAcls
// (29-31) and the authorization of every other API, as a layer around the
// registered handlers (InstallAuthorization, at Start()), except Produce,
// Fetch and Metadata, which authorize in their handlers.
//
// As Kafka's KafkaApis, each resource of a request is authorized on its own:
// the allowed parts are served and the denied ones answered with the
// authorization error; a denied request is always answered, never closed.
// Per API (Kafka's AclAuthorizer operations):
//   Produce WRITE topic (and WRITE transactional id for transactional
//   batches); Fetch READ topic; ListOffsets DESCRIBE topic; Metadata
//   DESCRIBE topic (undescribable topics are left out of "all topics" and
//   answered TOPIC_AUTHORIZATION_FAILED when named; auto-create needs CREATE
//   on the cluster or the topic: handlers/metadata.cc); CreateTopics CREATE
//   cluster or topic; DeleteTopics DELETE topic; CreatePartitions ALTER
//   topic; DeleteRecords DELETE topic; DescribeConfigs DESCRIBE_CONFIGS and
//   AlterConfigs/IncrementalAlterConfigs ALTER_CONFIGS on the topic, or on
//   the cluster for broker resources (CLUSTER_AUTHORIZATION_FAILED);
//   FindCoordinator (group) DESCRIBE group; JoinGroup, SyncGroup,
//   Heartbeat, LeaveGroup READ group; OffsetCommit READ group and READ
//   topic; OffsetFetch DESCRIBE group and DESCRIBE topic; DescribeGroups
//   DESCRIBE group; ListGroups DESCRIBE cluster (all groups) or DESCRIBE
//   group (the groups listed); DeleteGroups DELETE group; OffsetDelete
//   DELETE group and READ topic; InitProducerId IDEMPOTENT_WRITE cluster (or
//   WRITE on some topic, as Kafka 2.8+) or WRITE transactional id; the ACL
//   and SCRAM-user APIs ALTER/DESCRIBE cluster.
// Denied topics get TOPIC_AUTHORIZATION_FAILED (29), groups
// GROUP_AUTHORIZATION_FAILED (30). Super users are always allowed.
#include <algorithm>

#include "base/logging.h"
#include "kafka/protocol/header.h"
#include "kafka/server/broker.h"

namespace braid::kafka {

namespace {

using security::AclOperation;
using security::ResourceType;

std::string HostOf(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  std::string h = colon == std::string::npos ? peer : peer.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

constexpr std::string_view kCluster = "kafka-cluster";

}  // namespace

bool Broker::Authorized(const RequestContext& ctx, AclOperation op, ResourceType type,
                        std::string_view name, bool log_denied) {
  if (options_.acls == nullptr) return true;
  const std::string principal = PrincipalFor(ctx.conn);
  if (principal.rfind("User:", 0) == 0 &&
      std::find(options_.super_users.begin(), options_.super_users.end(), principal.substr(5)) !=
          options_.super_users.end()) {
    return true;
  }
  const std::string host = HostOf(ctx.conn.peer);
  const bool ok = options_.acls->Authorize(principal, host, op, type, name);
  uint64_t suppressed = 0;
  const std::string& mode = options_.authorizer_log;
  if (mode == "none" || (!ok && !log_denied)) return ok;
  if (!ok || mode == "all") {
    if (acl_log_limiter_.Allow(principal + " " + host, &suppressed)) {
      LOG_INFO("authorizer: {} {} from {} {} on {} '{}' ({} v{}){}", ok ? "allowed" : "DENIED",
               principal, host, security::OperationName(op), security::ResourceTypeName(type),
               EscapeForLog(std::string(name), 256), ApiKeyName(ctx.header.api_key),
               ctx.header.api_version,
               suppressed > 0 ? " (" + std::to_string(suppressed) + " similar lines suppressed)"
                              : std::string());
    }
  } else {
    LOG_DEBUG("authorizer: allowed {} from {} {} on {} '{}'", principal, host,
              security::OperationName(op), security::ResourceTypeName(type),
              EscapeForLog(std::string(name), 256));
  }
  return ok;
}

bool Broker::MayCreateTopic(const RequestContext& ctx, std::string_view topic) {
  if (options_.acls == nullptr) return true;
  return Authorized(ctx, AclOperation::kCreate, ResourceType::kCluster, kCluster) ||
         Authorized(ctx, AclOperation::kCreate, ResourceType::kTopic, topic);
}

namespace {

// Wraps `inner`: decodes Req from a copy of the body; when `allowed` says
// no, answers `denied(req)` instead (encoded as Resp). For requests that are
// allowed or denied as a whole (one group, one transactional id).
template <typename Req, typename Resp>
ApiHandler Guard(ApiHandler inner, std::function<bool(const RequestContext&, const Req&)> allowed,
                 std::function<Resp(const RequestContext&, const Req&)> denied) {
  return [inner = std::move(inner), allowed = std::move(allowed), denied = std::move(denied)](
             const RequestContext& ctx, Reader* body, RespondFn respond) {
    Reader copy = *body;
    Req req;
    if (!req.Decode(&copy, ctx.header.api_version).ok()) {
      inner(ctx, body, std::move(respond));  // the inner handler refuses it
      return;
    }
    if (allowed(ctx, req)) {
      inner(ctx, body, std::move(respond));
      return;
    }
    SendResponse(ctx, denied(ctx, req), respond);
  };
}

// How a request is served under the ACLs (SplitGuard): unchanged (`pass`),
// or its allowed part `serve` (nullopt: nothing) is served and the answers
// of its denied parts, `denied`, are merged into the response.
template <typename Req, typename Resp>
struct Plan {
  bool pass = true;
  std::optional<Req> serve;
  Resp denied;
};

// The plan for a request split into `rest` (allowed) and `denied`:
// unchanged when nothing was denied; else `rest` is served if
// `serve_rest`.
template <typename Req, typename Resp>
Plan<Req, Resp> MakePlan(bool any_denied, Req rest, bool serve_rest, Resp denied) {
  Plan<Req, Resp> p;
  if (!any_denied) return p;
  p.pass = false;
  if (serve_rest) p.serve = std::move(rest);
  p.denied = std::move(denied);
  return p;
}

// Decodes a response frame built by SendResponse (size, header, body).
template <typename Resp>
Status DecodeResponseFrame(const RequestContext& ctx, std::string_view frame, Resp* out) {
  if (frame.size() < 4) return Status(StatusCode::kCorruption, "short response frame");
  Reader r(frame.substr(4));
  int32_t correlation_id = 0;
  RETURN_IF_ERROR(DecodeResponseHeader(
      &r, ResponseHeaderVersion(static_cast<int16_t>(Resp::kApiKey), ctx.header.api_version),
      &correlation_id));
  return out->Decode(&r, ctx.header.api_version);
}

// Kafka's per-resource authorization: wraps `inner` so that `plan` decides
// which parts of the request it serves. A split request is re-encoded with
// the allowed parts only, and the inner handler's response is decoded and
// completed by `merge(ctx, &served, denied)` before it is sent. A request
// that does not decode goes to `inner` as is (which refuses it).
template <typename Req, typename Resp>
ApiHandler SplitGuard(ApiHandler inner,
                      std::function<Plan<Req, Resp>(const RequestContext&, const Req&)> plan,
                      std::function<void(const RequestContext&, Resp*, Resp)> merge) {
  return [inner = std::move(inner), plan = std::move(plan), merge = std::move(merge)](
             const RequestContext& ctx, Reader* body, RespondFn respond) {
    Reader copy = *body;
    Req req;
    if (!req.Decode(&copy, ctx.header.api_version).ok()) {
      inner(ctx, body, std::move(respond));
      return;
    }
    Plan<Req, Resp> p = plan(ctx, req);
    if (p.pass) {
      inner(ctx, body, std::move(respond));
      return;
    }
    if (!p.serve) {
      SendResponse(ctx, p.denied, respond);
      return;
    }
    std::string bytes;
    Writer w(&bytes);
    Status encoded = p.serve->Encode(ctx.header.api_version, &w);
    if (!encoded.ok()) {
      LOG_ERROR("kafka: cannot re-encode the authorized part of {} v{}: {}",
                ApiKeyName(ctx.header.api_key), ctx.header.api_version, encoded.ToString());
      respond(HandlerResult::Close());
      return;
    }
    Reader part(bytes);
    auto denied = std::make_shared<Resp>(std::move(p.denied));
    inner(ctx, &part,
          [ctx, denied, merge, respond = std::move(respond)](HandlerResult result) mutable {
            if (result.kind != HandlerResult::Kind::kResponse) {
              respond(std::move(result));
              return;
            }
            Resp served;
            Status s = DecodeResponseFrame(ctx, result.frame, &served);
            if (!s.ok()) {
              LOG_ERROR("kafka: cannot decode the {} v{} response to merge denials: {}",
                        ApiKeyName(ctx.header.api_key), ctx.header.api_version, s.ToString());
              respond(HandlerResult::Close());
              return;
            }
            merge(ctx, &served, std::move(*denied));
            SendResponse(ctx, served, respond);
          });
  };
}

// Moves the items `allowed` refuses out of `*items`, into the result.
template <typename T, typename Fn>
std::vector<T> TakeDenied(std::vector<T>* items, Fn allowed) {
  std::vector<T> kept, denied;
  for (T& item : *items) (allowed(item) ? kept : denied).push_back(std::move(item));
  *items = std::move(kept);
  return denied;
}

template <typename T>
void Append(std::vector<T>* to, std::vector<T> from) {
  for (T& item : from) to->push_back(std::move(item));
}

template <typename Topics, typename Out>
void DenyTopics(const Topics& topics, Out* out, ErrorCode e) {
  for (const auto& t : topics) {
    auto& o = out->emplace_back();
    o.name = t.name;
    const auto& parts = [&]() -> const auto& {
      if constexpr (requires { t.partition_indexes; }) {
        return t.partition_indexes;
      } else {
        return t.partitions;
      }
    }
    ();
    for (const auto& p : parts) {
      auto& op = o.partitions.emplace_back();
      if constexpr (std::is_integral_v<std::decay_t<decltype(p)>>) {
        op.partition_index = PartitionId(p);
      } else {
        op.partition_index = p.partition_index;
      }
      op.error_code = e;
    }
  }
}

// Config resource types (DescribeConfigs, AlterConfigs).
constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;
constexpr int8_t kBrokerLoggerResource = 8;

}  // namespace

std::optional<ErrorCode> Broker::ConfigResourceDenied(const RequestContext& ctx, AclOperation op,
                                                      int8_t type, const std::string& name) {
  if (type == kTopicResource) {
    if (Authorized(ctx, op, ResourceType::kTopic, name)) return std::nullopt;
    return ErrorCode::kTopicAuthorizationFailed;
  }
  if (type == kBrokerResource || type == kBrokerLoggerResource) {
    if (Authorized(ctx, op, ResourceType::kCluster, kCluster)) return std::nullopt;
    return ErrorCode::kClusterAuthorizationFailed;
  }
  return std::nullopt;  // the handler answers unknown types
}

void Broker::InstallAuthorization() {
  if (options_.acls == nullptr) return;
  const ErrorCode kTopicDenied = ErrorCode::kTopicAuthorizationFailed;
  const ErrorCode kGroupDenied = ErrorCode::kGroupAuthorizationFailed;
  auto wrap = [this](ApiKey key, auto make) {
    auto it = apis_.find(static_cast<int16_t>(key));
    if (it != apis_.end()) it->second = make(std::move(it->second));
  };
  auto topic_ok = [this](const RequestContext& ctx, AclOperation op) {
    return [this, &ctx, op](const auto& t) {
      return Authorized(ctx, op, ResourceType::kTopic, t.name);
    };
  };
  // Produce (WRITE topic, and the transactional id) and Fetch (READ topic)
  // authorize in their handlers (handlers/produce.cc, fetch.cc), Metadata
  // too (handlers/metadata.cc).
  wrap(ApiKey::kListOffsets, [&](ApiHandler h) {
    return SplitGuard<ListOffsetsRequest, ListOffsetsResponse>(
        std::move(h),
        [=](const RequestContext& ctx, const ListOffsetsRequest& r) {
          ListOffsetsRequest rest = r;
          auto denied = TakeDenied(&rest.topics, topic_ok(ctx, AclOperation::kDescribe));
          ListOffsetsResponse resp;
          DenyTopics(denied, &resp.topics, kTopicDenied);
          const bool serve = !rest.topics.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, ListOffsetsResponse* served, ListOffsetsResponse denied) {
          Append(&served->topics, std::move(denied.topics));
        });
  });
  wrap(ApiKey::kCreateTopics, [&](ApiHandler h) {
    return SplitGuard<CreateTopicsRequest, CreateTopicsResponse>(
        std::move(h),
        [=, this](const RequestContext& ctx, const CreateTopicsRequest& r) {
          CreateTopicsRequest rest = r;
          auto denied =
              TakeDenied(&rest.topics, [&](const auto& t) { return MayCreateTopic(ctx, t.name); });
          CreateTopicsResponse resp;
          for (const auto& t : denied) {
            auto& o = resp.topics.emplace_back();
            o.name = t.name;
            o.error_code = kTopicDenied;
            o.error_message = "Authorization failed.";
          }
          const bool serve = !rest.topics.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, CreateTopicsResponse* served, CreateTopicsResponse denied) {
          Append(&served->topics, std::move(denied.topics));
        });
  });
  wrap(ApiKey::kDeleteTopics, [&](ApiHandler h) {
    return SplitGuard<DeleteTopicsRequest, DeleteTopicsResponse>(
        std::move(h),
        [=, this](const RequestContext& ctx, const DeleteTopicsRequest& r) {
          DeleteTopicsRequest rest = r;
          auto denied = TakeDenied(&rest.topic_names, [&](const std::string& t) {
            return Authorized(ctx, AclOperation::kDelete, ResourceType::kTopic, t);
          });
          DeleteTopicsResponse resp;
          for (const auto& t : denied) resp.responses.push_back({t, kTopicDenied});
          const bool serve = !rest.topic_names.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, DeleteTopicsResponse* served, DeleteTopicsResponse denied) {
          Append(&served->responses, std::move(denied.responses));
        });
  });
  wrap(ApiKey::kCreatePartitions, [&](ApiHandler h) {
    return SplitGuard<CreatePartitionsRequest, CreatePartitionsResponse>(
        std::move(h),
        [=](const RequestContext& ctx, const CreatePartitionsRequest& r) {
          CreatePartitionsRequest rest = r;
          auto denied = TakeDenied(&rest.topics, topic_ok(ctx, AclOperation::kAlter));
          CreatePartitionsResponse resp;
          for (const auto& t : denied) {
            resp.results.push_back({t.name, kTopicDenied, "The topic authorization is failed."});
          }
          const bool serve = !rest.topics.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, CreatePartitionsResponse* served,
           CreatePartitionsResponse denied) {
          Append(&served->results, std::move(denied.results));
        });
  });
  wrap(ApiKey::kDeleteRecords, [&](ApiHandler h) {
    return SplitGuard<DeleteRecordsRequest, DeleteRecordsResponse>(
        std::move(h),
        [=](const RequestContext& ctx, const DeleteRecordsRequest& r) {
          DeleteRecordsRequest rest = r;
          auto denied = TakeDenied(&rest.topics, topic_ok(ctx, AclOperation::kDelete));
          DeleteRecordsResponse resp;
          DenyTopics(denied, &resp.topics, kTopicDenied);
          const bool serve = !rest.topics.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, DeleteRecordsResponse* served, DeleteRecordsResponse denied) {
          Append(&served->topics, std::move(denied.topics));
        });
  });
  // Configs: DESCRIBE_CONFIGS / ALTER_CONFIGS on each topic, or on the
  // cluster for broker and broker-logger resources.
  wrap(ApiKey::kDescribeConfigs, [&](ApiHandler h) {
    return SplitGuard<DescribeConfigsRequest, DescribeConfigsResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const DescribeConfigsRequest& r) {
          DescribeConfigsRequest rest = r;
          rest.resources.clear();
          DescribeConfigsResponse resp;
          for (const auto& res : r.resources) {
            auto e = ConfigResourceDenied(ctx, AclOperation::kDescribeConfigs, res.resource_type,
                                          res.resource_name);
            if (!e) {
              rest.resources.push_back(res);
              continue;
            }
            auto& o = resp.results.emplace_back();
            o.error_code = *e;
            o.error_message = std::string(*e == ErrorCode::kTopicAuthorizationFailed
                                              ? "Topic authorization failed."
                                              : "Cluster authorization failed.");
            o.resource_type = res.resource_type;
            o.resource_name = res.resource_name;
          }
          const bool serve = !rest.resources.empty();
          const bool any_denied = !resp.results.empty();
          return MakePlan(any_denied, std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, DescribeConfigsResponse* served, DescribeConfigsResponse denied) {
          Append(&served->results, std::move(denied.results));
        });
  });
  auto alter_configs = [this](auto tag) {
    using Req = typename decltype(tag)::first_type;
    using Resp = typename decltype(tag)::second_type;
    return [this](ApiHandler h) {
      return SplitGuard<Req, Resp>(
          std::move(h),
          [this](const RequestContext& ctx, const Req& r) {
            Req rest = r;
            rest.resources.clear();
            Resp resp;
            for (const auto& res : r.resources) {
              auto e = ConfigResourceDenied(ctx, AclOperation::kAlterConfigs, res.resource_type,
                                            res.resource_name);
              if (!e) {
                rest.resources.push_back(res);
                continue;
              }
              auto& o = resp.responses.emplace_back();
              o.error_code = *e;
              o.resource_type = res.resource_type;
              o.resource_name = res.resource_name;
            }
            const bool serve = !rest.resources.empty();
            const bool any_denied = !resp.responses.empty();
            return MakePlan(any_denied, std::move(rest), serve, std::move(resp));
          },
          [](const RequestContext&, Resp* served, Resp denied) {
            Append(&served->responses, std::move(denied.responses));
          });
    };
  };
  wrap(ApiKey::kAlterConfigs,
       alter_configs(std::pair<AlterConfigsRequest, AlterConfigsResponse>()));
  wrap(ApiKey::kIncrementalAlterConfigs,
       alter_configs(std::pair<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>()));
  wrap(ApiKey::kFindCoordinator, [&](ApiHandler h) {
    return Guard<FindCoordinatorRequest, FindCoordinatorResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const FindCoordinatorRequest& r) {
          if (r.key_type == 1) {
            return Authorized(ctx, AclOperation::kDescribe, ResourceType::kTransactionalId, r.key);
          }
          return Authorized(ctx, AclOperation::kDescribe, ResourceType::kGroup, r.key);
        },
        [](const RequestContext& ctx, const FindCoordinatorRequest& r) {
          FindCoordinatorResponse resp;
          resp.error_code = r.key_type == 1 ? ErrorCode::kTransactionalIdAuthorizationFailed
                                            : ErrorCode::kGroupAuthorizationFailed;
          resp.host = "";
          return resp;
        });
  });
  auto group_read = [this](const RequestContext& ctx, const auto& r) {
    return Authorized(ctx, AclOperation::kRead, ResourceType::kGroup, r.group_id);
  };
#define BRAID_GROUP_GUARD(Name)                                                                 \
  wrap(ApiKey::k##Name, [&](ApiHandler h) {                                                     \
    return Guard<Name##Request, Name##Response>(                                                \
        std::move(h), group_read, [kGroupDenied](const RequestContext&, const Name##Request&) { \
          Name##Response resp;                                                                  \
          resp.error_code = kGroupDenied;                                                       \
          return resp;                                                                          \
        });                                                                                     \
  })
  BRAID_GROUP_GUARD(JoinGroup);
  BRAID_GROUP_GUARD(SyncGroup);
  BRAID_GROUP_GUARD(Heartbeat);
  BRAID_GROUP_GUARD(LeaveGroup);
#undef BRAID_GROUP_GUARD
  // OffsetCommit: READ on the group (else every partition
  // GROUP_AUTHORIZATION_FAILED), then READ on each topic.
  wrap(ApiKey::kOffsetCommit, [&](ApiHandler h) {
    return SplitGuard<OffsetCommitRequest, OffsetCommitResponse>(
        std::move(h),
        [=](const RequestContext& ctx, const OffsetCommitRequest& r) {
          OffsetCommitResponse resp;
          if (!group_read(ctx, r)) {
            DenyTopics(r.topics, &resp.topics, kGroupDenied);
            return MakePlan(true, OffsetCommitRequest(), false, std::move(resp));
          }
          OffsetCommitRequest rest = r;
          auto denied = TakeDenied(&rest.topics, topic_ok(ctx, AclOperation::kRead));
          DenyTopics(denied, &resp.topics, kTopicDenied);
          const bool serve = !rest.topics.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, OffsetCommitResponse* served, OffsetCommitResponse denied) {
          Append(&served->topics, std::move(denied.topics));
        });
  });
  // OffsetFetch: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED:
  // per partition for v0-1, as the top-level error from v2), then DESCRIBE
  // on each topic: a named topic is answered TOPIC_AUTHORIZATION_FAILED,
  // and "all topics" (null) leaves undescribable topics out.
  wrap(ApiKey::kOffsetFetch, [&](ApiHandler h) {
    return SplitGuard<OffsetFetchRequest, OffsetFetchResponse>(
        std::move(h),
        [=, this](const RequestContext& ctx, const OffsetFetchRequest& r) {
          OffsetFetchResponse resp;
          if (!Authorized(ctx, AclOperation::kDescribe, ResourceType::kGroup, r.group_id)) {
            resp.error_code = kGroupDenied;
            if (ctx.header.api_version < 2 && r.topics) {
              DenyTopics(*r.topics, &resp.topics, kGroupDenied);
              for (auto& t : resp.topics) {
                for (auto& p : t.partitions) p.metadata = "";
              }
            }
            return MakePlan(true, OffsetFetchRequest(), false, std::move(resp));
          }
          if (!r.topics) return MakePlan(true, r, true, std::move(resp));  // filtered by merge
          std::vector<OffsetFetchRequest::Topic> topics = *r.topics;
          auto denied = TakeDenied(&topics, topic_ok(ctx, AclOperation::kDescribe));
          OffsetFetchRequest rest = r;
          rest.topics = std::move(topics);
          DenyTopics(denied, &resp.topics, kTopicDenied);
          for (auto& t : resp.topics) {
            for (auto& p : t.partitions) p.metadata = "";
          }
          const bool serve = !rest.topics->empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [=](const RequestContext& ctx, OffsetFetchResponse* served, OffsetFetchResponse denied) {
          if (denied.topics.empty()) {  // all topics: only the describable ones
            TakeDenied(&served->topics, topic_ok(ctx, AclOperation::kDescribe));
          }
          Append(&served->topics, std::move(denied.topics));
        });
  });
  // DescribeGroups: DESCRIBE on each group.
  wrap(ApiKey::kDescribeGroups, [&](ApiHandler h) {
    return SplitGuard<DescribeGroupsRequest, DescribeGroupsResponse>(
        std::move(h),
        [this, kGroupDenied](const RequestContext& ctx, const DescribeGroupsRequest& r) {
          DescribeGroupsRequest rest = r;
          auto denied = TakeDenied(&rest.groups, [&](const std::string& g) {
            return Authorized(ctx, AclOperation::kDescribe, ResourceType::kGroup, g);
          });
          DescribeGroupsResponse resp;
          for (const auto& g : denied) {
            auto& o = resp.groups.emplace_back();
            o.error_code = kGroupDenied;
            o.group_id = g;
          }
          const bool serve = !rest.groups.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, DescribeGroupsResponse* served, DescribeGroupsResponse denied) {
          Append(&served->groups, std::move(denied.groups));
        });
  });
  // ListGroups: DESCRIBE on the cluster lists every group; else only the
  // groups the principal may DESCRIBE (no error, no denial logged).
  wrap(ApiKey::kListGroups, [&](ApiHandler h) {
    return SplitGuard<ListGroupsRequest, ListGroupsResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const ListGroupsRequest& r) {
          const bool all = Authorized(ctx, AclOperation::kDescribe, ResourceType::kCluster,
                                      kCluster, /*log_denied=*/false);
          return MakePlan(!all, r, true, ListGroupsResponse());
        },
        [this](const RequestContext& ctx, ListGroupsResponse* served, ListGroupsResponse) {
          TakeDenied(&served->groups, [&](const ListGroupsResponse::Group& g) {
            return Authorized(ctx, AclOperation::kDescribe, ResourceType::kGroup, g.group_id,
                              /*log_denied=*/false);
          });
        });
  });
  // DeleteGroups: DELETE on each group.
  wrap(ApiKey::kDeleteGroups, [&](ApiHandler h) {
    return SplitGuard<DeleteGroupsRequest, DeleteGroupsResponse>(
        std::move(h),
        [this, kGroupDenied](const RequestContext& ctx, const DeleteGroupsRequest& r) {
          DeleteGroupsRequest rest = r;
          auto denied = TakeDenied(&rest.groups_names, [&](const std::string& g) {
            return Authorized(ctx, AclOperation::kDelete, ResourceType::kGroup, g);
          });
          DeleteGroupsResponse resp;
          for (const auto& g : denied) resp.results.push_back({g, kGroupDenied});
          const bool serve = !rest.groups_names.empty();
          return MakePlan(!denied.empty(), std::move(rest), serve, std::move(resp));
        },
        [](const RequestContext&, DeleteGroupsResponse* served, DeleteGroupsResponse denied) {
          Append(&served->results, std::move(denied.results));
        });
  });
  // OffsetDelete: DELETE on the group (else the top-level
  // GROUP_AUTHORIZATION_FAILED), then READ on each topic; the group is asked
  // even when every topic was denied (its own errors still apply).
  wrap(ApiKey::kOffsetDelete, [&](ApiHandler h) {
    return SplitGuard<OffsetDeleteRequest, OffsetDeleteResponse>(
        std::move(h),
        [=, this](const RequestContext& ctx, const OffsetDeleteRequest& r) {
          OffsetDeleteResponse resp;
          if (!Authorized(ctx, AclOperation::kDelete, ResourceType::kGroup, r.group_id)) {
            resp.error_code = kGroupDenied;
            return MakePlan(true, OffsetDeleteRequest(), false, std::move(resp));
          }
          OffsetDeleteRequest rest = r;
          auto denied = TakeDenied(&rest.topics, topic_ok(ctx, AclOperation::kRead));
          DenyTopics(denied, &resp.topics, kTopicDenied);
          return MakePlan(!denied.empty(), std::move(rest), true, std::move(resp));
        },
        [](const RequestContext&, OffsetDeleteResponse* served, OffsetDeleteResponse denied) {
          Append(&served->topics, std::move(denied.topics));
        });
  });
  wrap(ApiKey::kInitProducerId, [&](ApiHandler h) {
    return Guard<InitProducerIdRequest, InitProducerIdResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const InitProducerIdRequest& r) {
          if (r.transactional_id) {
            return Authorized(ctx, AclOperation::kWrite, ResourceType::kTransactionalId,
                              *r.transactional_id);
          }
          if (Authorized(ctx, AclOperation::kIdempotentWrite, ResourceType::kCluster, kCluster)) {
            return true;
          }
          for (const auto& t : log_->ListTopics()) {
            if (options_.acls->Authorize(PrincipalFor(ctx.conn), "*", AclOperation::kWrite,
                                         ResourceType::kTopic, t.name)) {
              return true;
            }
          }
          return false;
        },
        [](const RequestContext& ctx, const InitProducerIdRequest& r) {
          InitProducerIdResponse resp;
          resp.error_code = r.transactional_id ? ErrorCode::kTransactionalIdAuthorizationFailed
                                               : ErrorCode::kClusterAuthorizationFailed;
          return resp;
        });
  });
}

// ------------------------------------------------------------------ ACL APIs

namespace {

security::AclFilter ToFilter(int8_t type, const std::optional<std::string>& name, int8_t pattern,
                             const std::optional<std::string>& principal,
                             const std::optional<std::string>& host, int8_t op, int8_t perm) {
  security::AclFilter f;
  f.resource_type = static_cast<ResourceType>(type);
  f.resource_name = name;
  f.pattern_type = static_cast<security::PatternType>(pattern);
  f.principal = principal;
  f.host = host;
  f.operation = static_cast<AclOperation>(op);
  f.permission = static_cast<security::AclPermission>(perm);
  return f;
}

bool ValidFilter(const security::AclFilter& f) {
  const int t = static_cast<int>(f.resource_type);
  const int p = static_cast<int>(f.pattern_type);
  const int o = static_cast<int>(f.operation);
  const int m = static_cast<int>(f.permission);
  return t >= 1 && t <= 5 && p >= 1 && p <= 4 && o >= 1 && o <= 12 && m >= 1 && m <= 3;
}

}  // namespace

void Broker::RegisterAclApis() {
  RegisterApi(ApiKey::kCreateAcls,
              TypedApiHandler<CreateAclsRequest, CreateAclsResponse>(
                  [this](const RequestContext& ctx, CreateAclsRequest& req, auto reply) {
                    CreateAclsResponse resp;
                    const bool enabled = options_.acls != nullptr;
                    const bool allowed = enabled && Authorized(ctx, AclOperation::kAlter,
                                                               ResourceType::kCluster, kCluster);
                    std::vector<security::AclBinding> add;
                    std::vector<size_t> at;
                    for (const auto& c : req.creations) {
                      auto& r = resp.results.emplace_back();
                      if (!enabled) {
                        r.error_code = ErrorCode::kSecurityDisabled;
                        r.error_message = "no authorizer is configured (--acl)";
                        continue;
                      }
                      if (!allowed) {
                        r.error_code = ErrorCode::kClusterAuthorizationFailed;
                        continue;
                      }
                      security::AclBinding b;
                      b.resource_type = static_cast<ResourceType>(c.resource_type);
                      b.resource_name = c.resource_name;
                      b.pattern_type = static_cast<security::PatternType>(
                          ctx.header.api_version >= 1 ? c.resource_pattern_type : 3);
                      b.principal = c.principal;
                      b.host = c.host;
                      b.operation = static_cast<AclOperation>(c.operation);
                      b.permission = static_cast<security::AclPermission>(c.permission_type);
                      Status s = security::ValidateBinding(b);
                      if (!s.ok()) {
                        r.error_code = ErrorCode::kInvalidRequest;
                        r.error_message = s.message();
                        continue;
                      }
                      add.push_back(std::move(b));
                      at.push_back(resp.results.size() - 1);
                    }
                    if (!add.empty()) {
                      Status s = options_.acls->Add(add);
                      if (!s.ok()) {
                        for (size_t i : at) {
                          resp.results[i].error_code = ErrorCode::kUnknownServerError;
                          resp.results[i].error_message = s.ToString();
                        }
                      } else {
                        LOG_INFO("authorizer: {} created {} ACL(s) from {}", PrincipalFor(ctx.conn),
                                 add.size(), ctx.conn.peer);
                      }
                    }
                    reply(resp);
                  }));
  RegisterApi(
      ApiKey::kDescribeAcls,
      TypedApiHandler<DescribeAclsRequest, DescribeAclsResponse>(
          [this](const RequestContext& ctx, DescribeAclsRequest& req, auto reply) {
            DescribeAclsResponse resp;
            if (options_.acls == nullptr) {
              resp.error_code = ErrorCode::kSecurityDisabled;
              resp.error_message = "no authorizer is configured (--acl)";
              reply(resp);
              return;
            }
            if (!Authorized(ctx, AclOperation::kDescribe, ResourceType::kCluster, kCluster)) {
              resp.error_code = ErrorCode::kClusterAuthorizationFailed;
              reply(resp);
              return;
            }
            security::AclFilter f =
                ToFilter(req.resource_type_filter, req.resource_name_filter,
                         ctx.header.api_version >= 1 ? req.pattern_type_filter : 3,
                         req.principal_filter, req.host_filter, req.operation, req.permission_type);
            if (!ValidFilter(f)) {
              resp.error_code = ErrorCode::kInvalidRequest;
              resp.error_message = "invalid ACL filter";
              reply(resp);
              return;
            }
            for (const security::AclBinding& b : options_.acls->Find(f)) {
              auto it =
                  std::find_if(resp.resources.begin(), resp.resources.end(), [&](const auto& r) {
                    return r.resource_type == static_cast<int8_t>(b.resource_type) &&
                           r.resource_name == b.resource_name &&
                           r.pattern_type == static_cast<int8_t>(b.pattern_type);
                  });
              if (it == resp.resources.end()) {
                auto& r = resp.resources.emplace_back();
                r.resource_type = static_cast<int8_t>(b.resource_type);
                r.resource_name = b.resource_name;
                r.pattern_type = static_cast<int8_t>(b.pattern_type);
                it = resp.resources.end() - 1;
              }
              it->acls.push_back({b.principal, b.host, static_cast<int8_t>(b.operation),
                                  static_cast<int8_t>(b.permission)});
            }
            reply(resp);
          }));
  RegisterApi(ApiKey::kDeleteAcls,
              TypedApiHandler<DeleteAclsRequest, DeleteAclsResponse>(
                  [this](const RequestContext& ctx, DeleteAclsRequest& req, auto reply) {
                    DeleteAclsResponse resp;
                    const bool enabled = options_.acls != nullptr;
                    const bool allowed = enabled && Authorized(ctx, AclOperation::kAlter,
                                                               ResourceType::kCluster, kCluster);
                    for (const auto& fr : req.filters) {
                      auto& out = resp.filter_results.emplace_back();
                      if (!enabled) {
                        out.error_code = ErrorCode::kSecurityDisabled;
                        continue;
                      }
                      if (!allowed) {
                        out.error_code = ErrorCode::kClusterAuthorizationFailed;
                        continue;
                      }
                      security::AclFilter f = ToFilter(
                          fr.resource_type_filter, fr.resource_name_filter,
                          ctx.header.api_version >= 1 ? fr.pattern_type_filter : 3,
                          fr.principal_filter, fr.host_filter, fr.operation, fr.permission_type);
                      if (!ValidFilter(f)) {
                        out.error_code = ErrorCode::kInvalidRequest;
                        out.error_message = "invalid ACL filter";
                        continue;
                      }
                      auto removed = options_.acls->Remove(f);
                      if (!removed.ok()) {
                        out.error_code = ErrorCode::kUnknownServerError;
                        out.error_message = removed.status().ToString();
                        continue;
                      }
                      for (const security::AclBinding& b : *removed) {
                        auto& m = out.matching_acls.emplace_back();
                        m.resource_type = static_cast<int8_t>(b.resource_type);
                        m.resource_name = b.resource_name;
                        m.pattern_type = static_cast<int8_t>(b.pattern_type);
                        m.principal = b.principal;
                        m.host = b.host;
                        m.operation = static_cast<int8_t>(b.operation);
                        m.permission_type = static_cast<int8_t>(b.permission);
                      }
                    }
                    reply(resp);
                  }));
}

}  // namespace braid::kafka
