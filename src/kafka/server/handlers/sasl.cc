// SASL on SASL_PLAINTEXT/SASL_SSL listeners: SaslHandshake (17) v0-1,
// SaslAuthenticate (36) v0-2, the raw token frames that follow a v0
// handshake (kafka-python, sarama's default), and KIP-554's
// DescribeUserScramCredentials (50) / AlterUserScramCredentials (51).
//
// Per connection: Initial --SaslHandshake--> Handshaken --tokens-->
// Authenticated. Before Authenticated only ApiVersions, SaslHandshake and
// SaslAuthenticate are served; anything else closes the connection (as
// Kafka's SaslServerAuthenticator). A failed authentication is answered
// SASL_AUTHENTICATION_FAILED (or, for raw tokens, by closing) after
// failed_auth_delay_ms, and the connection is closed; failures are counted
// per client address (security::FailedAuthLimiter).
#include <algorithm>
#include <set>

#include "base/logging.h"
#include "kafka/protocol/header.h"
#include "kafka/server/broker.h"
#include "security/scram.h"

namespace braid::kafka {

struct Broker::SaslSession {
  enum class State { kInitial, kHandshaken, kAuthenticated };
  State state = State::kInitial;
  bool raw = false;  // SaslHandshake v0: the tokens come as raw frames
  std::string mechanism;
  std::unique_ptr<security::ScramServer> scram;
  bool complete = false;  // the last SaslStep finished the exchange
  bool failed = false;    // authentication failed: the connection is closing
  std::string user;       // once authenticated
};

namespace {

std::string HostOf(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <typename Resp>
HandlerResult Encode(const RequestContext& ctx, const Resp& resp) {
  auto frame = EncodeResponseFrame(ctx.header.correlation_id, ctx.header.api_version, resp);
  if (!frame.ok()) return HandlerResult::Close();
  HandlerResult r = HandlerResult::Response(std::move(frame).value());
  r.error_code = static_cast<int16_t>(FirstErrorCode(resp));
  return r;
}

// Kafka's message for every failed authentication (it never says whether
// the user exists).
std::string FailedMessage(const std::string& mechanism) {
  return "Authentication failed: Invalid username or password (mechanism " + mechanism + ")";
}

}  // namespace

void Broker::RegisterSaslApis() {
  {
    std::string key;
    auto r = security::RandomBytes(32);
    fake_salt_key_ = r.ok() ? *r : std::string("braid");
  }
  auth_limiter_ = std::make_unique<security::FailedAuthLimiter>(
      std::max(1, options_.max_failed_auth_per_address), options_.failed_auth_window_ms);
  if (metrics_ != nullptr) {
    sasl_ok_ = metrics_->GetCounter("braid_kafka_sasl_authentications_total",
                                    "SASL authentications on the Kafka listeners by outcome.",
                                    {{"outcome", "success"}});
    sasl_failed_ = metrics_->GetCounter("braid_kafka_sasl_authentications_total",
                                        "SASL authentications on the Kafka listeners by outcome.",
                                        {{"outcome", "failure"}});
  }
  RegisterApi(ApiKey::kSaslHandshake,
              [this](const RequestContext& ctx, Reader* body, RespondFn respond) {
                HandleSaslHandshake(ctx, body, respond);
              });
  RegisterApi(ApiKey::kSaslAuthenticate,
              [this](const RequestContext& ctx, Reader* body, RespondFn respond) {
                HandleSaslAuthenticate(ctx, body, respond);
              });
  RegisterApi(
      ApiKey::kDescribeUserScramCredentials,
      TypedApiHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse>(
          [this](const RequestContext& ctx, DescribeUserScramCredentialsRequest& req, auto reply) {
            HandleDescribeUserScramCredentials(ctx, req, reply);
          }));
  RegisterApi(ApiKey::kAlterUserScramCredentials,
              TypedApiHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse>(
                  [this](const RequestContext& ctx, AlterUserScramCredentialsRequest& req,
                         auto reply) { HandleAlterUserScramCredentials(ctx, req, reply); }));
}

std::shared_ptr<Broker::SaslSession> Broker::Session(uint64_t connection_id) {
  std::lock_guard<std::mutex> lock(sasl_mu_);
  auto& s = sasl_sessions_[connection_id];
  if (!s) s = std::make_shared<SaslSession>();
  return s;
}

std::string Broker::PrincipalOf(uint64_t connection_id) const {
  std::lock_guard<std::mutex> lock(sasl_mu_);
  auto it = sasl_sessions_.find(connection_id);
  if (it == sasl_sessions_.end() || it->second->state != SaslSession::State::kAuthenticated) {
    return "User:ANONYMOUS";
  }
  return "User:" + it->second->user;
}

std::string Broker::PrincipalFor(const ConnectionInfo& conn) const {
  std::string p = PrincipalOf(conn.id);
  if (p == "User:ANONYMOUS" && !conn.tls_subject.empty()) {
    // Kafka's DefaultKafkaPrincipalBuilder: the verified certificate's
    // distinguished name (RFC 2253), e.g. "User:CN=client-one".
    return "User:" + conn.tls_subject;
  }
  return p;
}

bool Broker::MayManageUsers(uint64_t connection_id) const {
  std::lock_guard<std::mutex> lock(sasl_mu_);
  auto it = sasl_sessions_.find(connection_id);
  if (it == sasl_sessions_.end() || it->second->state != SaslSession::State::kAuthenticated) {
    return false;
  }
  const std::string& user = it->second->user;
  if (std::find(options_.super_users.begin(), options_.super_users.end(), user) !=
      options_.super_users.end()) {
    return true;
  }
  if (options_.acls != nullptr) {  // with ACLs: ALTER on the cluster (from any host)
    return options_.acls->Authorize("User:" + user, "*", security::AclOperation::kAlter,
                                    security::ResourceType::kCluster, "kafka-cluster");
  }
  return options_.super_users.empty();
}

void Broker::RespondLater(RespondFn respond, HandlerResult result) {
  if (options_.failed_auth_delay_ms <= 0 || !server_) {
    respond(std::move(result));
    return;
  }
  auto shared = std::make_shared<HandlerResult>(std::move(result));
  server_->executor()->RunAfter(
      options_.failed_auth_delay_ms,
      [respond = std::move(respond), shared]() mutable { respond(std::move(*shared)); });
}

bool Broker::HandleUnauthenticated(const ConnectionInfo& conn, const std::string& frame,
                                   RespondFn& respond) {
  std::shared_ptr<SaslSession> session = Session(conn.id);
  if (session->state == SaslSession::State::kAuthenticated) return false;
  if (session->failed) {  // frames sent while the failure answer is delayed
    respond(HandlerResult::Close());
    return true;
  }
  if (session->state == SaslSession::State::kHandshaken && session->raw) {
    // A raw SASL token (after SaslHandshake v0): answered by a raw
    // size-prefixed token, or by closing the connection on failure.
    Result<std::string> answer = SaslStep(conn, *session, frame);
    if (!answer.ok()) {
      RespondLater(std::move(respond), HandlerResult::Close());
      return true;
    }
    std::string out(4, '\0');
    const auto n = static_cast<uint32_t>(answer->size());
    out[0] = static_cast<char>(n >> 24);
    out[1] = static_cast<char>(n >> 16);
    out[2] = static_cast<char>(n >> 8);
    out[3] = static_cast<char>(n);
    out += *answer;
    HandlerResult r = HandlerResult::Response(std::move(out));
    if (session->complete) {
      session->state = SaslSession::State::kAuthenticated;
      r.authenticated = true;
    }
    respond(std::move(r));
    return true;
  }
  // Kafka requests: only the ones that lead to authentication.
  Reader r(frame, 4);
  RequestHeader header;
  if (!DecodeRequestHeader(&r, &header).ok()) return false;  // HandleRequest closes
  const auto key = static_cast<ApiKey>(header.api_key);
  if (key == ApiKey::kApiVersions || key == ApiKey::kSaslHandshake ||
      key == ApiKey::kSaslAuthenticate) {
    return false;
  }
  WarnClientInput("unauthenticated request", conn.peer,
                  "kafka: closing connection {} ({}): {} request before SASL authentication on a "
                  "{} listener",
                  conn.id, conn.peer, ApiKeyName(header.api_key),
                  SecurityProtocolName(conn.protocol));
  respond(HandlerResult::Close());
  return true;
}

Result<std::string> Broker::SaslStep(const ConnectionInfo& conn, SaslSession& session,
                                     std::string_view token) {
  const std::string host = HostOf(conn.peer);
  auto fail = [&](const std::string& user, const Status& why) -> Status {
    session.failed = true;
    auth_limiter_->RecordFailure(host, NowMs());
    if (sasl_failed_ != nullptr) sasl_failed_->Inc();
    WarnClientInput("authentication failed", host,
                    "kafka: connection {} from {}: {} authentication failed{}: {}", conn.id,
                    conn.peer, session.mechanism,
                    user.empty() ? std::string() : " for user '" + EscapeForLog(user, 128) + "'",
                    EscapeForLog(why.ToString(), 256));
    return Status::InvalidArgument(FailedMessage(session.mechanism));
  };
  session.complete = false;
  if (auth_limiter_->Blocked(host, NowMs())) {
    session.failed = true;
    if (sasl_failed_ != nullptr) sasl_failed_->Inc();
    WarnClientInput("authentication rate limited", host,
                    "kafka: connection {} from {}: too many failed authentications from this "
                    "address; refused without checking",
                    conn.id, conn.peer);
    return Status::InvalidArgument(
        "Authentication failed: too many failed authentications from this address, try later");
  }
  if (session.mechanism == "PLAIN") {
    auto msg = security::ParsePlainMessage(token);
    if (!msg.ok()) return fail("", msg.status());
    if (!msg->authzid.empty() && msg->authzid != msg->username) {
      return fail(msg->username, Status::InvalidArgument("authorization id differs from user"));
    }
    std::optional<security::ScramCredential> cred;
    for (security::ScramMechanism m :
         {security::ScramMechanism::kSha512, security::ScramMechanism::kSha256}) {
      auto c = options_.users->Find(msg->username, m);
      if (!c.ok()) return fail(msg->username, c.status());
      if (c->has_value()) {
        cred = std::move(*c);
        break;
      }
    }
    if (!cred || !security::VerifyPassword(*cred, msg->password)) {
      return fail(msg->username, Status::InvalidArgument("unknown user or wrong password"));
    }
    session.user = msg->username;
    session.complete = true;
    if (sasl_ok_ != nullptr) sasl_ok_->Inc();
    LOG_DEBUG("kafka: connection {} from {} authenticated as '{}' (PLAIN)", conn.id, conn.peer,
              EscapeForLog(session.user, 128));
    return std::string();
  }
  if (!session.scram) return fail("", Status::InvalidArgument("no SASL mechanism chosen"));
  auto answer = session.scram->Step(token);
  if (!answer.ok()) return fail(session.scram->username(), answer.status());
  if (session.scram->complete()) {
    session.user = session.scram->username();
    session.complete = true;
    if (sasl_ok_ != nullptr) sasl_ok_->Inc();
    LOG_DEBUG("kafka: connection {} from {} authenticated as '{}' ({})", conn.id, conn.peer,
              EscapeForLog(session.user, 128), session.mechanism);
  }
  return answer;
}

void Broker::HandleSaslHandshake(const RequestContext& ctx, Reader* body,
                                 const RespondFn& respond) {
  SaslHandshakeRequest req;
  Status s = req.Decode(body, ctx.header.api_version);
  if (!s.ok()) {
    WarnClientInput("bad request", ctx.conn.peer,
                    "kafka: closing connection {} ({}): bad SaslHandshake request: {}", ctx.conn.id,
                    ctx.conn.peer, EscapeForLog(s.ToString()));
    respond(HandlerResult::Close());
    return;
  }
  SaslHandshakeResponse resp;
  const bool sasl = UsesSasl(ctx.conn.protocol);
  if (sasl) resp.mechanisms = options_.sasl_mechanisms;
  std::shared_ptr<SaslSession> session = sasl ? Session(ctx.conn.id) : nullptr;
  if (!sasl || session->state != SaslSession::State::kInitial) {
    resp.error_code = ErrorCode::kIllegalSaslState;
    HandlerResult r = Encode(ctx, resp);
    r.close_after = true;
    respond(std::move(r));
    return;
  }
  const bool enabled = std::find(options_.sasl_mechanisms.begin(), options_.sasl_mechanisms.end(),
                                 req.mechanism) != options_.sasl_mechanisms.end();
  if (!enabled) {
    WarnClientInput("unsupported SASL mechanism", ctx.conn.peer,
                    "kafka: connection {} ({}): SASL mechanism '{}' is not enabled", ctx.conn.id,
                    ctx.conn.peer, EscapeForLog(req.mechanism, 64));
    resp.error_code = ErrorCode::kUnsupportedSaslMechanism;
    HandlerResult r = Encode(ctx, resp);
    r.close_after = true;
    respond(std::move(r));
    return;
  }
  session->mechanism = req.mechanism;
  session->raw = ctx.header.api_version == 0;
  session->state = SaslSession::State::kHandshaken;
  if (auto m = security::ParseMechanism(req.mechanism)) {
    security::UserStore* users = options_.users;
    const security::ScramMechanism mech = *m;
    session->scram = std::make_unique<security::ScramServer>(
        mech, [users, mech](const std::string& user) { return users->Find(user, mech); },
        fake_salt_key_);
  }
  respond(Encode(ctx, resp));
}

void Broker::HandleSaslAuthenticate(const RequestContext& ctx, Reader* body,
                                    const RespondFn& respond) {
  SaslAuthenticateRequest req;
  Status s = req.Decode(body, ctx.header.api_version);
  if (!s.ok()) {
    WarnClientInput("bad request", ctx.conn.peer,
                    "kafka: closing connection {} ({}): bad SaslAuthenticate request: {}",
                    ctx.conn.id, ctx.conn.peer, EscapeForLog(s.ToString()));
    respond(HandlerResult::Close());
    return;
  }
  SaslAuthenticateResponse resp;
  std::shared_ptr<SaslSession> session =
      UsesSasl(ctx.conn.protocol) ? Session(ctx.conn.id) : nullptr;
  if (!session || session->state != SaslSession::State::kHandshaken || session->raw) {
    resp.error_code = ErrorCode::kIllegalSaslState;
    resp.error_message = session && session->state == SaslSession::State::kAuthenticated
                             ? "already authenticated (re-authentication is not supported)"
                             : "SaslAuthenticate without a SaslHandshake v1 first";
    HandlerResult r = Encode(ctx, resp);
    r.close_after = true;
    respond(std::move(r));
    return;
  }
  Result<std::string> answer = SaslStep(ctx.conn, *session, req.auth_bytes);
  if (!answer.ok()) {
    resp.error_code = ErrorCode::kSaslAuthenticationFailed;
    resp.error_message = answer.status().message();
    HandlerResult r = Encode(ctx, resp);
    r.close_after = true;
    RespondLater(respond, std::move(r));
    return;
  }
  resp.auth_bytes = std::move(answer).value();
  resp.session_lifetime_ms = 0;  // no re-authentication needed
  HandlerResult r = Encode(ctx, resp);
  if (session->complete) {
    session->state = SaslSession::State::kAuthenticated;
    r.authenticated = true;
  }
  respond(std::move(r));
}

void Broker::HandleDescribeUserScramCredentials(
    const RequestContext& ctx, DescribeUserScramCredentialsRequest& req,
    const std::function<void(const DescribeUserScramCredentialsResponse&)>& reply) {
  DescribeUserScramCredentialsResponse resp;
  if (options_.users == nullptr || !MayManageUsers(ctx.conn.id)) {
    resp.error_code = ErrorCode::kClusterAuthorizationFailed;
    resp.error_message = "describing SCRAM credentials needs a SASL-authenticated super user";
    reply(resp);
    return;
  }
  auto all = options_.users->List();
  if (!all.ok()) {
    resp.error_code = ErrorCode::kUnknownServerError;
    resp.error_message = all.status().ToString();
    reply(resp);
    return;
  }
  auto fill = [](const security::UserInfo& u, DescribeUserScramCredentialsResponse::Result* r) {
    r->user = u.name;
    for (const security::ScramCredential& c : u.credentials) {
      r->credential_infos.push_back({static_cast<int8_t>(c.mechanism), c.iterations});
    }
  };
  if (!req.users || req.users->empty()) {
    for (const security::UserInfo& u : *all) fill(u, &resp.results.emplace_back());
    reply(resp);
    return;
  }
  std::map<std::string, int> counts;
  for (const auto& u : *req.users) ++counts[u.name];
  std::set<std::string> done;
  for (const auto& u : *req.users) {
    if (!done.insert(u.name).second) continue;
    auto& r = resp.results.emplace_back();
    r.user = u.name;
    if (counts[u.name] > 1) {
      r.error_code = ErrorCode::kDuplicateResource;
      r.error_message =
          "Cannot describe SCRAM credentials for the same user twice in a single "
          "request: " +
          u.name;
      continue;
    }
    auto it = std::find_if(all->begin(), all->end(),
                           [&](const security::UserInfo& x) { return x.name == u.name; });
    if (it == all->end()) {
      r.error_code = ErrorCode::kResourceNotFound;
      r.error_message = "Attempt to describe a user credential that does not exist: " + u.name;
      continue;
    }
    fill(*it, &r);
  }
  reply(resp);
}

void Broker::HandleAlterUserScramCredentials(
    const RequestContext& ctx, AlterUserScramCredentialsRequest& req,
    const std::function<void(const AlterUserScramCredentialsResponse&)>& reply) {
  AlterUserScramCredentialsResponse resp;
  // Kafka: one result per user named anywhere in the request.
  std::vector<std::string> order;
  std::map<std::string, int> seen;  // name -> mentions
  std::map<std::string, std::set<int8_t>> mechs_seen;
  std::set<std::string> duplicate;
  auto note = [&](const std::string& name, int8_t mech) {
    if (seen[name]++ == 0) order.push_back(name);
    if (!mechs_seen[name].insert(mech).second) duplicate.insert(name);
  };
  for (const auto& d : req.deletions) note(d.name, d.mechanism);
  for (const auto& u : req.upsertions) note(u.name, u.mechanism);
  std::map<std::string, std::pair<ErrorCode, std::string>> errors;
  auto set_error = [&](const std::string& name, ErrorCode e, std::string msg) {
    errors.emplace(name, std::make_pair(e, std::move(msg)));
  };
  const bool allowed = options_.users != nullptr && MayManageUsers(ctx.conn.id);
  for (const std::string& name : order) {
    if (!allowed) {
      set_error(name, ErrorCode::kClusterAuthorizationFailed,
                "altering SCRAM credentials needs a SASL-authenticated super user");
    } else if (name.empty() || !security::ValidateUserName(name).ok()) {
      set_error(name, ErrorCode::kUnacceptableCredential, "Username must be valid and not empty");
    } else if (duplicate.count(name) != 0) {
      set_error(name, ErrorCode::kDuplicateResource,
                "A user credential cannot be altered twice in the same request");
    }
  }
  for (const auto& d : req.deletions) {
    if (errors.count(d.name) != 0) continue;
    if (!security::MechanismFromCode(d.mechanism)) {
      set_error(d.name, ErrorCode::kUnsupportedSaslMechanism, "Unknown SCRAM mechanism");
    }
  }
  for (const auto& u : req.upsertions) {
    if (errors.count(u.name) != 0) continue;
    auto m = security::MechanismFromCode(u.mechanism);
    if (!m) {
      set_error(u.name, ErrorCode::kUnsupportedSaslMechanism, "Unknown SCRAM mechanism");
    } else if (u.iterations < security::kMinIterations) {
      set_error(u.name, ErrorCode::kUnacceptableCredential, "Too few iterations");
    } else if (u.iterations > security::kMaxIterations) {
      set_error(u.name, ErrorCode::kUnacceptableCredential, "Too many iterations");
    } else if (u.salt.empty() || u.salted_password.size() != security::DigestSize(*m)) {
      set_error(u.name, ErrorCode::kUnacceptableCredential,
                "Salt and salted password must be present, the salted password of the "
                "mechanism's digest size");
    }
  }
  // Apply, deletions first (Kafka's order), per user.
  for (const auto& d : req.deletions) {
    if (errors.count(d.name) != 0) continue;
    Status s = options_.users->Delete(d.name, security::MechanismFromCode(d.mechanism));
    if (s.IsNotFound()) {
      set_error(d.name, ErrorCode::kResourceNotFound,
                "Attempt to delete a user credential that does not exist");
    } else if (!s.ok()) {
      set_error(d.name, ErrorCode::kUnknownServerError, s.ToString());
    }
  }
  for (const auto& u : req.upsertions) {
    if (errors.count(u.name) != 0) continue;
    const auto m = *security::MechanismFromCode(u.mechanism);
    auto cred = security::CredentialFromSaltedPassword(m, u.salt, u.iterations, u.salted_password);
    Status s = cred.ok() ? options_.users->Upsert(u.name, *cred) : cred.status();
    if (!s.ok()) set_error(u.name, ErrorCode::kUnacceptableCredential, s.ToString());
  }
  for (const std::string& name : order) {
    auto& r = resp.results.emplace_back();
    r.user = name;
    auto it = errors.find(name);
    if (it != errors.end()) {
      r.error_code = it->second.first;
      r.error_message = it->second.second;
    }
  }
  LOG_INFO("kafka: {} altered SCRAM credentials of {} user(s) from {}", PrincipalOf(ctx.conn.id),
           order.size(), ctx.conn.peer);
  reply(resp);
}

}  // namespace braid::kafka
