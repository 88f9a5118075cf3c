// ACLs (with BrokerOptions::acls set): CreateAcls/DescribeAcls/DeleteAcls
// (29-31) and the authorization of every other API, as a layer around the
// registered handlers (InstallAuthorization, at Start()).
//
// Per API (Kafka's AclAuthorizer operations):
//   Produce WRITE topic; Fetch READ topic; ListOffsets DESCRIBE topic;
//   Metadata DESCRIBE topic (undescribable topics are left out of "all
//   topics" and answered TOPIC_AUTHORIZATION_FAILED when named; auto-create
//   needs CREATE on the cluster or the topic: handlers/metadata.cc);
//   CreateTopics CREATE cluster or topic; DeleteTopics DELETE topic;
//   FindCoordinator (group) DESCRIBE group; JoinGroup, SyncGroup,
//   Heartbeat, LeaveGroup READ group; OffsetCommit READ group and READ
//   topic; OffsetFetch DESCRIBE group and DESCRIBE topic; InitProducerId
//   IDEMPOTENT_WRITE cluster (or WRITE on some topic, as Kafka 2.8+);
//   the ACL and SCRAM-user APIs ALTER/DESCRIBE cluster;
//   every other API (configs, partitions, records deletion, group
//   administration) ALTER cluster, or DESCRIBE cluster when it only reads;
//   a denied one of those closes the connection.
// A request with any denied part is answered with the authorization error
// for every part (Kafka serves the allowed parts; braid refuses all: a
// difference on the safe side). Super users are always allowed.
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
                        std::string_view name) {
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
  if (mode == "none") return ok;
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
// no, answers `denied(req)` instead (encoded as Resp).
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
    const Resp resp = denied(ctx, req);
    if constexpr (std::is_same_v<Req, ProduceRequest>) {
      if (req.acks == 0) {  // no response; Kafka closes on error with acks=0
        respond(HandlerResult::Close());
        return;
      }
    }
    SendResponse(ctx, resp, respond);
  };
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

}  // namespace

void Broker::InstallAuthorization() {
  if (options_.acls == nullptr) return;
  const ErrorCode kTopicDenied = ErrorCode::kTopicAuthorizationFailed;
  const ErrorCode kGroupDenied = ErrorCode::kGroupAuthorizationFailed;
  auto wrap = [this](ApiKey key, auto make) {
    auto it = apis_.find(static_cast<int16_t>(key));
    if (it != apis_.end()) it->second = make(std::move(it->second));
  };
  auto topics_allowed = [this](AclOperation op) {
    return [this, op](const RequestContext& ctx, const auto& req) {
      for (const auto& t : req.topics) {
        if (!Authorized(ctx, op, ResourceType::kTopic, t.name)) return false;
      }
      return true;
    };
  };
  wrap(ApiKey::kProduce, [&](ApiHandler h) {
    return Guard<ProduceRequest, ProduceResponse>(
        std::move(h), topics_allowed(AclOperation::kWrite),
        [kTopicDenied](const RequestContext& ctx, const ProduceRequest& r) {
          ProduceResponse resp;
          DenyTopics(r.topics, &resp.responses, kTopicDenied);
          return resp;
        });
  });
  wrap(ApiKey::kFetch, [&](ApiHandler h) {
    return Guard<FetchRequest, FetchResponse>(
        std::move(h), topics_allowed(AclOperation::kRead),
        [kTopicDenied](const RequestContext& ctx, const FetchRequest& r) {
          FetchResponse resp;
          DenyTopics(r.topics, &resp.responses, kTopicDenied);
          // Empty record sets, as Kafka: librdkafka refuses a null one.
          for (auto& t : resp.responses) {
            for (auto& p : t.partitions) p.records = std::string();
          }
          return resp;
        });
  });
  wrap(ApiKey::kListOffsets, [&](ApiHandler h) {
    return Guard<ListOffsetsRequest, ListOffsetsResponse>(
        std::move(h), topics_allowed(AclOperation::kDescribe),
        [kTopicDenied](const RequestContext& ctx, const ListOffsetsRequest& r) {
          ListOffsetsResponse resp;
          DenyTopics(r.topics, &resp.topics, kTopicDenied);
          return resp;
        });
  });
  wrap(ApiKey::kCreateTopics, [&](ApiHandler h) {
    return Guard<CreateTopicsRequest, CreateTopicsResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const CreateTopicsRequest& r) {
          for (const auto& t : r.topics) {
            if (!MayCreateTopic(ctx, t.name)) return false;
          }
          return true;
        },
        [kTopicDenied](const RequestContext& ctx, const CreateTopicsRequest& r) {
          CreateTopicsResponse resp;
          for (const auto& t : r.topics) {
            auto& o = resp.topics.emplace_back();
            o.name = t.name;
            o.error_code = kTopicDenied;
            o.error_message = "Authorization failed.";
          }
          return resp;
        });
  });
  wrap(ApiKey::kDeleteTopics, [&](ApiHandler h) {
    return Guard<DeleteTopicsRequest, DeleteTopicsResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const DeleteTopicsRequest& r) {
          for (const auto& t : r.topic_names) {
            if (!Authorized(ctx, AclOperation::kDelete, ResourceType::kTopic, t)) return false;
          }
          return true;
        },
        [kTopicDenied](const RequestContext& ctx, const DeleteTopicsRequest& r) {
          DeleteTopicsResponse resp;
          for (const auto& t : r.topic_names) resp.responses.push_back({t, kTopicDenied});
          return resp;
        });
  });
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
  wrap(ApiKey::kOffsetCommit, [&](ApiHandler h) {
    return Guard<OffsetCommitRequest, OffsetCommitResponse>(
        std::move(h),
        [this, group_read](const RequestContext& ctx, const OffsetCommitRequest& r) {
          if (!group_read(ctx, r)) return false;
          for (const auto& t : r.topics) {
            if (!Authorized(ctx, AclOperation::kRead, ResourceType::kTopic, t.name)) return false;
          }
          return true;
        },
        [this, group_read](const RequestContext& ctx, const OffsetCommitRequest& r) {
          OffsetCommitResponse resp;
          // Group denied: every partition GROUP_AUTHORIZATION_FAILED; else
          // a topic was: TOPIC_AUTHORIZATION_FAILED.
          DenyTopics(r.topics, &resp.topics,
                     group_read(ctx, r) ? ErrorCode::kTopicAuthorizationFailed
                                        : ErrorCode::kGroupAuthorizationFailed);
          return resp;
        });
  });
  wrap(ApiKey::kOffsetFetch, [&](ApiHandler h) {
    return Guard<OffsetFetchRequest, OffsetFetchResponse>(
        std::move(h),
        [this](const RequestContext& ctx, const OffsetFetchRequest& r) {
          if (!Authorized(ctx, AclOperation::kDescribe, ResourceType::kGroup, r.group_id)) {
            return false;
          }
          if (r.topics) {
            for (const auto& t : *r.topics) {
              if (!Authorized(ctx, AclOperation::kDescribe, ResourceType::kTopic, t.name)) {
                return false;
              }
            }
          }
          return true;
        },
        [kGroupDenied](const RequestContext& ctx, const OffsetFetchRequest& r) {
          OffsetFetchResponse resp;
          resp.error_code = kGroupDenied;
          if (r.topics) DenyTopics(*r.topics, &resp.topics, kGroupDenied);
          return resp;
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
  // Cluster-level APIs without finer checks: ALTER (DESCRIBE for reads) on
  // the cluster, else the connection is closed.
  const std::pair<ApiKey, AclOperation> cluster_apis[] = {
      {ApiKey::kCreatePartitions, AclOperation::kAlter},
      {ApiKey::kDescribeConfigs, AclOperation::kDescribeConfigs},
      {ApiKey::kAlterConfigs, AclOperation::kAlterConfigs},
      {ApiKey::kIncrementalAlterConfigs, AclOperation::kAlterConfigs},
      {ApiKey::kDeleteRecords, AclOperation::kAlter},
      {ApiKey::kDescribeGroups, AclOperation::kDescribe},
      {ApiKey::kListGroups, AclOperation::kDescribe},
      {ApiKey::kDeleteGroups, AclOperation::kAlter},
      {ApiKey::kOffsetDelete, AclOperation::kAlter},
  };
  for (const auto& [key, op] : cluster_apis) {
    auto it = apis_.find(static_cast<int16_t>(key));
    if (it == apis_.end()) continue;
    it->second = [this, op = op, inner = std::move(it->second)](const RequestContext& ctx,
                                                                Reader* body, RespondFn respond) {
      if (Authorized(ctx, op, ResourceType::kCluster, kCluster)) {
        inner(ctx, body, std::move(respond));
        return;
      }
      respond(HandlerResult::Close());
    };
  }
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
