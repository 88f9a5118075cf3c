#include "kafka/server/broker.h"

#include <sys/statvfs.h>

#include <fcntl.h>
#include <unistd.h>

#include <random>

#include "base/log_limiter.h"
#include "base/logging.h"
#include "base/strings.h"
#include "io/file_system.h"
#include "kafka/group/producer_state_log.h"
#include "kafka/protocol/header.h"

namespace braid::kafka {

Broker::Broker(BrokerOptions options, log::Log* log, metrics::Registry* metrics)
    : options_(std::move(options)),
      log_(log),
      metrics_(metrics),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock()) {
  RegisterBuiltinApis();
  RegisterSaslApis();
  RegisterAclApis();
  RegisterMetrics();
}

Broker::~Broker() { Stop(); }

void Broker::RegisterApi(ApiKey key, ApiHandler handler) {
  apis_[static_cast<int16_t>(key)] = std::move(handler);
}

void Broker::RegisterBuiltinApis() {
  RegisterApi(ApiKey::kApiVersions,
              [this](const RequestContext& ctx, Reader* body, RespondFn respond) {
                HandleApiVersions(ctx, body, respond);
              });
  RegisterApi(ApiKey::kProduce, [this](const RequestContext& ctx, Reader* body, RespondFn respond) {
    HandleProduce(ctx, body, respond);
  });
  RegisterApi(ApiKey::kMetadata, TypedApiHandler<MetadataRequest, MetadataResponse>(
                                     [this](const RequestContext& ctx, MetadataRequest& req,
                                            auto reply) { HandleMetadata(ctx, req, reply); }));
  RegisterApi(ApiKey::kFetch, [this](const RequestContext& ctx, Reader* body, RespondFn respond) {
    // Decoded here rather than by TypedApiHandler: the response is encoded
    // with its records as file parts (handlers/fetch.cc).
    FetchRequest req;
    Status s = req.Decode(body, ctx.header.api_version);
    if (!s.ok()) {
      WarnClientInput("bad request", ctx.conn.peer,
                      "kafka: closing connection {} ({}): bad Fetch v{} request: {}", ctx.conn.id,
                      ctx.conn.peer, ctx.header.api_version, EscapeForLog(s.ToString()));
      respond(HandlerResult::Close());
      return;
    }
    HandleFetch(ctx, req, std::move(respond));
  });
  RegisterApi(ApiKey::kListOffsets,
              TypedApiHandler<ListOffsetsRequest, ListOffsetsResponse>(
                  [this](const RequestContext& ctx, ListOffsetsRequest& req, auto reply) {
                    HandleListOffsets(ctx, req, reply);
                  }));
  RegisterApi(ApiKey::kCreateTopics,
              TypedApiHandler<CreateTopicsRequest, CreateTopicsResponse>(
                  [this](const RequestContext& ctx, CreateTopicsRequest& req, auto reply) {
                    HandleCreateTopics(ctx, req, reply);
                  }));
  RegisterApi(ApiKey::kDeleteTopics,
              TypedApiHandler<DeleteTopicsRequest, DeleteTopicsResponse>(
                  [this](const RequestContext& ctx, DeleteTopicsRequest& req, auto reply) {
                    HandleDeleteTopics(ctx, req, reply);
                  }));
  RegisterApi(ApiKey::kCreatePartitions,
              TypedApiHandler<CreatePartitionsRequest, CreatePartitionsResponse>(
                  [this](const RequestContext& ctx, CreatePartitionsRequest& req, auto reply) {
                    HandleCreatePartitions(ctx, req, reply);
                  }));
  RegisterApi(ApiKey::kDescribeConfigs,
              TypedApiHandler<DescribeConfigsRequest, DescribeConfigsResponse>(
                  [this](const RequestContext& ctx, DescribeConfigsRequest& req, auto reply) {
                    HandleDescribeConfigs(ctx, req, reply);
                  }));
  RegisterApi(ApiKey::kAlterConfigs,
              TypedApiHandler<AlterConfigsRequest, AlterConfigsResponse>(
                  [this](const RequestContext& ctx, AlterConfigsRequest& req, auto reply) {
                    HandleAlterConfigs(ctx, req, reply);
                  }));
  RegisterApi(ApiKey::kIncrementalAlterConfigs,
              TypedApiHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(
                  [this](const RequestContext& ctx, IncrementalAlterConfigsRequest& req,
                         auto reply) { HandleIncrementalAlterConfigs(ctx, req, reply); }));
  RegisterApi(ApiKey::kDeleteRecords,
              TypedApiHandler<DeleteRecordsRequest, DeleteRecordsResponse>(
                  [this](const RequestContext& ctx, DeleteRecordsRequest& req, auto reply) {
                    HandleDeleteRecords(ctx, req, reply);
                  }));
}

void Broker::RegisterMetrics() {
  if (metrics_ == nullptr) return;
  for (const auto& api : SupportedApis()) {
    auto key = static_cast<int16_t>(api.key);
    if (key >= 0 && static_cast<size_t>(key) < requests_by_api_.size()) {
      requests_by_api_[static_cast<size_t>(key)] =
          metrics_->GetCounter("braid_kafka_requests_total", "Kafka requests received by API.",
                               {{"api", std::string(api.name)}});
    }
  }
  requests_unknown_ = metrics_->GetCounter("braid_kafka_requests_total",
                                           "Kafka requests received by API.", {{"api", "unknown"}});
  bytes_in_ = metrics_->GetCounter("braid_kafka_request_bytes_total",
                                   "Bytes of Kafka request frames received.");
  bytes_out_ = metrics_->GetCounter("braid_kafka_response_bytes_total",
                                    "Bytes of Kafka response frames sent.");
  produce_latency_ = metrics_->GetHistogram(
      "braid_kafka_produce_latency_seconds",
      "Time from receiving a Produce request to its response.", metrics::LatencyBuckets());
  fetch_latency_ = metrics_->GetHistogram(
      "braid_kafka_fetch_latency_seconds",
      "Time from receiving a Fetch request to its response (includes long-poll wait).",
      metrics::LatencyBuckets());
  connections_ = metrics_->GetGauge("braid_kafka_connections", "Open Kafka client connections.");
  connections_total_ =
      metrics_->GetCounter("braid_kafka_connections_total", "Kafka client connections accepted.");
  log::Log* log = log_;
  std::shared_ptr<std::atomic<int>> failing = storage_failure_count_;
  metrics_->AddCollector([log, failing](metrics::SampleWriter* w) {
    // The log directory: writable (no partition's last write failed) and
    // its free bytes.
    const metrics::Labels dir{{"dir", log->dir()}};
    w->Gauge("braid_log_dir_writable",
             "1 if writes to the log directory succeed, 0 while a partition's last write failed "
             "(disk full, I/O error).",
             dir, failing->load() == 0 ? 1.0 : 0.0);
    struct statvfs st {};
    if (::statvfs(log->dir().c_str(), &st) == 0) {
      w->Gauge("braid_log_dir_free_bytes",
               "Bytes available to braid on the log directory's file system.", dir,
               static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize));
    }
    w->Counter("braid_log_fsync_total", "fsync/fdatasync calls issued by the log.", {},
               static_cast<double>(log->fsync_count()));
    for (const auto& p : log->AllPartitionStats()) {
      metrics::Labels labels{{"topic", p.topic},
                             {"partition", std::to_string(p.partition.value())}};
      w->Gauge("braid_log_start_offset", "First readable offset of a partition.", labels,
               static_cast<double>(p.log_start_offset.value()));
      w->Gauge("braid_log_end_offset", "Offset the next record of a partition gets.", labels,
               static_cast<double>(p.log_end_offset.value()));
      w->Gauge("braid_log_size_bytes", "Bytes of a partition's segments.", labels,
               static_cast<double>(p.size_bytes));
    }
  });
}

Status Broker::Start() {
  if (options_.producers != nullptr) {
    // Idempotent producers: rebuild their state before any Produce is served.
    for (const auto& topic : log_->ListTopics()) {
      for (int32_t p = 0; p < topic.partition_count; ++p) {
        ASSIGN_OR_RETURN(auto partition, log_->GetPartition(topic.name, PartitionId(p)));
        Status s = EnsureProducerState(*partition);
        if (!s.ok()) {
          return s.WithContext("recovering producer state of " + topic.name + "-" +
                               std::to_string(p));
        }
      }
    }
  }
  std::vector<BrokerListener> listeners = options_.listeners;
  if (listeners.empty()) {
    BrokerListener l;
    l.listener.listen = options_.listen;
    l.advertise = options_.advertise;
    listeners.push_back(std::move(l));
  }
  ServerOptions so;
  so.listen = listeners[0].listener.listen;
  for (const BrokerListener& l : listeners) {
    if (UsesSasl(l.listener.protocol) && options_.users == nullptr) {
      return Status::InvalidArgument("a SASL listener needs a user store");
    }
    so.listeners.push_back(l.listener);
  }
  so.threads = options_.io_threads;
  so.max_frame_bytes = options_.max_frame_bytes;
  so.limits = options_.limits;
  so.sendfile = options_.sendfile;
  InstallAuthorization();
  server_ = std::make_unique<Server>(so, this);
  RETURN_IF_ERROR(server_->Start());
  advertised_.clear();
  for (size_t i = 0; i < listeners.size(); ++i) {
    const int bound = server_->port(static_cast<int>(i));
    HostPort a;
    if (!listeners[i].advertise.empty()) {
      ASSIGN_OR_RETURN(a, ParseHostPort(listeners[i].advertise));
      if (a.port == 0) a.port = static_cast<uint16_t>(bound);
    } else {
      ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(listeners[i].listener.listen));
      a.host = listen.host;
      if (a.host == "0.0.0.0" || a.host == "::") a.host = "127.0.0.1";
      a.port = static_cast<uint16_t>(bound);
    }
    advertised_.push_back(std::move(a));
  }
  advertised_host_ = advertised_[0].host;
  advertised_port_ = advertised_[0].port;
  return Status::OK();
}

void Broker::Stop() {
  if (stopped_.exchange(true)) return;
  if (server_) server_->Stop();
  // Release parked fetches (and the connection callbacks they hold).
  std::set<std::shared_ptr<FetchOp>> ops;
  {
    std::lock_guard<std::mutex> lock(fetch_mu_);
    ops.swap(parked_fetches_);
  }
  for (const auto& op : ops) FinishFetch(op, FetchResponse{});
}

int Broker::port(int listener) const { return server_ ? server_->port(listener) : 0; }

HostPort Broker::AdvertisedFor(int listener) const {
  if (listener >= 0 && static_cast<size_t>(listener) < advertised_.size()) {
    return advertised_[static_cast<size_t>(listener)];
  }
  HostPort hp;
  hp.host = advertised_host_;
  hp.port = static_cast<uint16_t>(advertised_port_);
  return hp;
}

std::string Broker::advertised_address() const {
  return advertised_host_ + ":" + std::to_string(advertised_port_);
}

ApiVersionsResponse Broker::SupportedVersions() const {
  ApiVersionsResponse resp = ApiVersionsResponse::Supported();
  std::vector<ApiVersionsResponse::ApiVersion> keys;
  for (const auto& k : resp.api_keys) {
    if (apis_.count(k.api_key) != 0) keys.push_back(k);
  }
  resp.api_keys = std::move(keys);
  return resp;
}

void Broker::OnConnectionOpened(const ConnectionInfo& conn) {
  LOG_DEBUG("kafka: connection {} from {}", conn.id, conn.peer);
  if (connections_ != nullptr) {
    connections_->Add(1);
    connections_total_->Inc();
  }
}

void Broker::OnConnectionClosed(const ConnectionInfo& conn) {
  LOG_DEBUG("kafka: connection {} from {} closed", conn.id, conn.peer);
  if (connections_ != nullptr) connections_->Add(-1);
  {
    std::lock_guard<std::mutex> lock(sasl_mu_);
    sasl_sessions_.erase(conn.id);
  }
  // Fetches parked for this connection can never be delivered: drop them now
  // instead of at their deadline.
  std::vector<std::shared_ptr<FetchOp>> orphans;
  {
    std::lock_guard<std::mutex> lock(fetch_mu_);
    for (auto it = parked_fetches_.begin(); it != parked_fetches_.end();) {
      if (FetchConnectionId(**it) == conn.id) {
        orphans.push_back(*it);
        it = parked_fetches_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& op : orphans) FinishFetch(op, FetchResponse{});
  if (options_.on_connection_closed) options_.on_connection_closed(conn.id);
}

Status Broker::EnsureProducerState(const log::Partition& partition) {
  if (options_.producers == nullptr) return Status::OK();
  std::pair<std::string, int32_t> key{partition.topic(), partition.id().value()};
  std::lock_guard<std::mutex> lock(producers_mu_);
  if (recovered_.count(key) != 0) return Status::OK();
  RETURN_IF_ERROR(RecoverFromLog(options_.producers, partition));
  recovered_.insert(std::move(key));
  return Status::OK();
}

void Broker::HandleRequest(const ConnectionInfo& conn, std::shared_ptr<const std::string> frame,
                           RespondFn respond) {
  RequestContext ctx;
  ctx.conn = conn;
  ctx.received_us = clock_->MonotonicMicros();
  if (bytes_in_ != nullptr) bytes_in_->Inc(frame->size() + 4);
  if (UsesSasl(conn.protocol) && HandleUnauthenticated(conn, *frame, respond)) return;
  Reader r(*frame, 4);
  Status s = DecodeRequestHeader(&r, &ctx.header);
  if (!s.ok()) {
    WarnClientInput("bad request header", conn.peer,
                    "kafka: closing connection {} ({}): bad request header: {}", conn.id, conn.peer,
                    EscapeForLog(s.ToString()));
    respond(HandlerResult::Close());
    return;
  }
  const int16_t key = ctx.header.api_key;
  auto it = apis_.find(key);
  if (metrics_ != nullptr) {
    metrics::Counter* c =
        (it != apis_.end() && key >= 0 && static_cast<size_t>(key) < requests_by_api_.size() &&
         requests_by_api_[static_cast<size_t>(key)] != nullptr)
            ? requests_by_api_[static_cast<size_t>(key)]
            : requests_unknown_;
    c->Inc();
  }
  if (it == apis_.end()) {
    WarnClientInput("unsupported API", conn.peer,
                    "kafka: closing connection {} ({}): unsupported API key {} ({})", conn.id,
                    conn.peer, key, ApiKeyName(key));
    respond(HandlerResult::Close());
    return;
  }
  // ApiVersions answers unsupported versions itself (KIP-511); every other
  // API at a version braid does not advertise closes the connection.
  if (key != static_cast<int16_t>(ApiKey::kApiVersions) &&
      !IsSupportedVersion(key, ctx.header.api_version)) {
    WarnClientInput("unsupported API version", conn.peer,
                    "kafka: closing connection {} ({}): unsupported {} version {}", conn.id,
                    conn.peer, ApiKeyName(key), ctx.header.api_version);
    respond(HandlerResult::Close());
    return;
  }
  // Wrap the responder for byte and latency metrics.
  RespondFn wrapped = std::move(respond);
  if (metrics_ != nullptr) {
    metrics::Histogram* h = key == static_cast<int16_t>(ApiKey::kProduce) ? produce_latency_
                            : key == static_cast<int16_t>(ApiKey::kFetch) ? fetch_latency_
                                                                          : nullptr;
    wrapped = [inner = std::move(wrapped), h, out = bytes_out_, clock = clock_,
               start = ctx.received_us](HandlerResult res) {
      out->Inc(res.wire_size());
      if (h != nullptr) {
        h->Observe(static_cast<double>(clock->MonotonicMicros() - start) / 1e6);
      }
      inner(std::move(res));
    };
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    // The request log: one line per request (debug: rate-limited per client
    // address and API; trace: every request).
    wrapped = [this, inner = std::move(wrapped), header = ctx.header, conn,
               request_bytes = frame->size() + 4, start = ctx.received_us](HandlerResult res) {
      LogRequest(conn, header, request_bytes, res, clock_->MonotonicMicros() - start);
      inner(std::move(res));
    };
  }
  it->second(ctx, &r, std::move(wrapped));
}

void Broker::LogRequest(const ConnectionInfo& conn, const RequestHeader& header,
                        size_t request_bytes, const HandlerResult& res, int64_t latency_us) {
  const std::string_view api = ApiKeyName(header.api_key);
  uint64_t suppressed = 0;
  if (!spdlog::should_log(spdlog::level::trace)) {
    const std::string_view host = std::string_view(conn.peer).substr(0, conn.peer.rfind(':'));
    if (!request_log_limiter_.Allow(std::string(host) + " " + std::string(api), &suppressed)) {
      return;
    }
  }
  std::string outcome;
  switch (res.kind) {
    case HandlerResult::Kind::kResponse:
      outcome = std::to_string(res.frame.size()) + " B out, error " +
                std::to_string(res.error_code) + " " +
                std::string(ErrorCodeName(static_cast<ErrorCode>(res.error_code)));
      break;
    case HandlerResult::Kind::kNoResponse:
      outcome = "no response (acks=0)";
      break;
    case HandlerResult::Kind::kClose:
      outcome = "connection closed";
      break;
  }
  LOG_DEBUG("kafka: {} v{} corr {} client '{}' from {} (conn {}): {} B in, {}, {:.3f} ms{}", api,
            header.api_version, header.correlation_id,
            EscapeForLog(header.client_id.value_or(""), 128), conn.peer, conn.id, request_bytes,
            outcome, static_cast<double>(latency_us) / 1000.0,
            suppressed > 0 ? " (" + std::to_string(suppressed) + " similar lines suppressed)"
                           : std::string());
}

void Broker::HandleApiVersions(const RequestContext& ctx, Reader* body, const RespondFn& respond) {
  const int16_t version = ctx.header.api_version;
  if (!IsSupportedVersion(static_cast<int16_t>(ApiKey::kApiVersions), version)) {
    // Too new: Kafka does not parse the body and answers in v0 format with
    // UNSUPPORTED_VERSION and its ApiVersions range, so the client retries.
    ApiVersionsResponse resp = ApiVersionsResponse::UnsupportedVersion();
    RequestContext v0 = ctx;
    v0.header.api_version = 0;
    SendResponse(v0, resp, respond);
    return;
  }
  ApiVersionsRequest req;
  Status s = req.Decode(body, version);
  if (!s.ok()) {
    // Kafka answers INVALID_REQUEST here; librdkafka then retries with v0.
    ApiVersionsResponse resp = SupportedVersions();
    resp.error_code = ErrorCode::kInvalidRequest;
    RequestContext v0 = ctx;
    v0.header.api_version = 0;
    SendResponse(v0, resp, respond);
    return;
  }
  SendResponse(ctx, SupportedVersions(), respond);
}

bool IsKafkaInternalTopic(std::string_view topic) {
  return topic == "__consumer_offsets" || topic == "__transaction_state";
}

bool IsReservedTopicName(std::string_view topic) {
  return IsKafkaInternalTopic(topic) || topic == "_schemas" || topic.substr(0, 2) == "__";
}

ErrorCode Broker::EnsureTopic(const std::string& topic, bool auto_create) {
  if (log_->HasTopic(topic)) return ErrorCode::kNone;
  if (!log::Log::ValidateTopicName(topic).ok()) return ErrorCode::kInvalidTopicException;
  // Internal names are never created as ordinary topics: `__consumer_offsets`
  // belongs to the group coordinator, `_schemas` to the schema registry.
  if (IsReservedTopicName(topic)) return ErrorCode::kUnknownTopicOrPartition;
  if (!auto_create || !options_.auto_create_topics) return ErrorCode::kUnknownTopicOrPartition;
  Status s = log_->CreateTopic(topic, -1);
  if (s.ok()) {
    LOG_INFO("kafka: auto-created topic '{}'", topic);
    return ErrorCode::kNone;
  }
  if (s.code() == StatusCode::kAlreadyExists) return ErrorCode::kNone;  // lost a race
  LOG_WARN("kafka: auto-creating topic '{}' failed: {}", topic, s.ToString());
  return ErrorCode::kUnknownTopicOrPartition;
}

void Broker::NoteWriteOutcome(const std::string& topic, int32_t partition, ErrorCode code,
                              const Status& status) {
  const bool storage_error = code == ErrorCode::kKafkaStorageError;
  if (!storage_error && storage_failure_count_->load(std::memory_order_relaxed) == 0) return;
  std::lock_guard<std::mutex> lock(storage_mu_);
  const auto key = std::make_pair(topic, partition);
  if (storage_error) {
    auto [it, fresh] = storage_failures_.try_emplace(key, status.ToString());
    if (fresh) {
      storage_failure_count_->store(static_cast<int>(storage_failures_.size()));
      LOG_ERROR(
          "kafka: writes to {}-{} fail: {}; producers get KAFKA_STORAGE_ERROR until a write "
          "succeeds again",
          topic, partition, status.ToString());
    }
    return;
  }
  if (code == ErrorCode::kNone && storage_failures_.erase(key) > 0) {
    storage_failure_count_->store(static_cast<int>(storage_failures_.size()));
    LOG_INFO("kafka: writes to {}-{} succeed again", topic, partition);
  }
}

std::string Broker::StorageProblem() const {
  std::lock_guard<std::mutex> lock(storage_mu_);
  if (storage_failures_.empty()) return "";
  const auto& [tp, why] = *storage_failures_.begin();
  return std::to_string(storage_failures_.size()) + " partition(s) cannot be written (" + tp.first +
         "-" + std::to_string(tp.second) + ": " + why + ")";
}

Result<std::string> LoadOrCreateClusterId(const std::string& dir) {
  io::FileSystem* fs = io::DefaultFileSystem();
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  const std::string path = io::JoinPath(dir, "cluster_id");
  if (fs->FileExists(path)) {
    ASSIGN_OR_RETURN(std::string id, io::ReadFileToString(fs, path, 1024));
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r' || id.back() == ' ')) {
      id.pop_back();
    }
    if (!id.empty()) return id;
  }
  std::random_device rd;
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint8_t bytes[16];
  for (auto& b : bytes) b = static_cast<uint8_t>(rd());
  std::string id;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      id.push_back(kAlphabet[(acc >> (bits - 6)) & 63]);
      bits -= 6;
    }
  }
  if (bits > 0) id.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  RETURN_IF_ERROR(io::WriteFileAtomically(fs, path, id + "\n"));
  return id;
}

}  // namespace braid::kafka
