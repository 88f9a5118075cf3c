// Broker: braid's Kafka broker. A single node (node id 0 by default) that
// leads every partition of a braid::log::Log, speaking the Kafka protocol
// through kafka/server/server.h.
//
// Implemented APIs (each advertised with the range of the protocol table):
// ApiVersions, Metadata, Produce, Fetch, ListOffsets, CreateTopics,
// DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs, DeleteRecords. More APIs (consumer groups,
// InitProducerId) plug in with RegisterApi() before Start().
//
// Durability: a Produce is answered after Log/Partition::Append returned,
// i.e. the batch is in the OS page cache and visible to fetchers; it is
// fsynced per the topic's flush.* configs or on every append with
// LogOptions::fsync_every_append (see docs/operations.md).
//
// Thread safety: Start/Stop/RegisterApi from one thread; the rest is driven
// by the io threads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/log_limiter.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/strong_type.h"
#include "kafka/protocol/messages.h"
#include "kafka/server/api_handler.h"
#include "kafka/server/server.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "security/acl.h"
#include "security/user_store.h"

namespace braid::kafka {

class ProducerStateManager;  // kafka/group/producer_state.h

// One listener of the broker and the address Metadata and FindCoordinator
// give clients that connected through it.
struct BrokerListener {
  ListenerOptions listener;
  // "HOST:PORT" advertised to this listener's clients; "": the listen host
  // (127.0.0.1 for a wildcard) and the bound port. Default: "".
  std::string advertise;
};

struct BrokerOptions {
  // Address to bind, "HOST:PORT" (port 0: any free port).
  // Default: "127.0.0.1:9092".
  std::string listen = "127.0.0.1:9092";
  // Address clients are told to connect to (Metadata), "HOST:PORT". Empty:
  // the listen host (127.0.0.1 if it is 0.0.0.0 or ::) and the bound port.
  // Default: "".
  std::string advertise;
  // The listeners. Empty: one PLAINTEXT listener on `listen` advertising
  // `advertise`. Default: empty.
  std::vector<BrokerListener> listeners;
  // SASL on SASL_PLAINTEXT/SASL_SSL listeners. `users` (must outlive the
  // broker) holds the SCRAM credentials that PLAIN and SCRAM check; it is
  // required when a SASL listener exists, and it backs
  // Describe/AlterUserScramCredentials. Default: null.
  security::UserStore* users = nullptr;
  // Mechanisms SaslHandshake offers (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).
  // Default: all three.
  std::vector<std::string> sasl_mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
  // Users allowed to manage users through the Kafka admin API
  // (AlterUserScramCredentials, DescribeUserScramCredentials). Empty: every
  // SASL-authenticated user. Unauthenticated connections never may.
  // Default: empty.
  std::vector<std::string> super_users;
  // ACL authorization (handlers/acl.cc): when set (must outlive the
  // broker), every request is authorized against it and Create/Describe/
  // DeleteAcls manage it; super_users are always allowed. Null: no
  // authorization (ACL APIs answer SECURITY_DISABLED). Default: null.
  security::AclStore* acls = nullptr;
  // The authorizer's decision log (principal, address, operation,
  // resource, API): "denied" logs denials at info (at most 20 lines/s per
  // principal and address) and allowed decisions at debug; "all" logs both
  // at info (same limit); "none" logs neither. Default: "denied".
  std::string authorizer_log = "denied";
  // Failed authentications from one client address within
  // failed_auth_window_ms after which every further attempt from it fails
  // without its credentials being checked, until the window passes.
  // Default: 10 per 60000 ms.
  int max_failed_auth_per_address = 10;
  int64_t failed_auth_window_ms = 60000;
  // A failed authentication is answered this much later (Kafka's
  // connection.failed.authentication.delay.ms), then the connection is
  // closed. Default: 100.
  int32_t failed_auth_delay_ms = 100;
  // This broker's node id. Default: 0.
  NodeId node_id{0};
  // Cluster id reported in Metadata v2+. Default: "" (use
  // LoadOrCreateClusterId to get a stable one per data directory).
  std::string cluster_id;
  // auto.create.topics.enable: Metadata and Produce create unknown topics
  // (with the log's num.partitions). Default: true.
  bool auto_create_topics = true;
  // Io threads. Default: 2.
  int io_threads = 2;
  // socket.request.max.bytes. Default: 104857600.
  int32_t max_frame_bytes = 100 * 1024 * 1024;
  // Request-bytes budget, connection limits and timeouts (server.h).
  // Default: ConnectionLimits{}.
  ConnectionLimits limits;
  // Upper bound on a Fetch's MaxWaitMs (longer waits are shortened).
  // Default: 60000.
  int32_t max_fetch_wait_ms = 60000;
  // A partition's records in a Fetch response of at least this many bytes
  // are written from the segment file (sendfile(2)) instead of being copied
  // into the response; below it a copy costs less than the extra system
  // calls. Default: 16384.
  uint64_t fetch_zero_copy_min_bytes = 16384;
  // Use sendfile(2) for those records (ServerOptions::sendfile); false reads
  // and copies them in the server instead. Default: true.
  bool sendfile = true;
  // Time source for latencies. Default: SystemClock().
  Clock* clock = nullptr;
  // Idempotent-producer state (kafka/group/producer_state.h); must outlive
  // the broker. When set, Start() rebuilds it from the log for every
  // partition (RecoverFromLog) before serving, partitions created later are
  // recovered on their first Produce, every Produce batch goes through
  // ProducerStateManager::CheckAndAppend (duplicates are answered with error
  // 0 and the original base offset), and DeleteTopics forgets the deleted
  // partitions. Default: null (no sequence checks).
  ProducerStateManager* producers = nullptr;
  // Called (on an io thread) when a client connection closed, with its
  // ConnectionInfo::id; e.g. GroupCoordinator::OnConnectionClosed, which
  // drops group answers parked for that connection. Default: none.
  std::function<void(uint64_t connection_id)> on_connection_closed;
  // Called after DeleteTopics deleted `topic`, e.g.
  // GroupCoordinator::OnTopicDeleted. Default: none.
  std::function<void(const std::string& topic)> on_topic_deleted;
  // Called for every Produce batch (exactly one RecordBatch v2, as received)
  // before it is appended and before the idempotence check; a non-OK
  // Status rejects the batch with INVALID_RECORD (87) and nothing is
  // appended. Must be thread-safe. Used for schema validation
  // (registry::MakeProduceValidator). Default: none (every batch passes).
  std::function<Status(std::string_view topic, std::string_view batch)> validate_batch;
};

class Broker final : public RequestHandler {
 public:
  // `log` must outlive the broker. `metrics` may be null (no metrics).
  Broker(BrokerOptions options, log::Log* log, metrics::Registry* metrics);
  ~Broker() override;  // Stop()s.
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Installs (or replaces) the handler of `key`; before Start(). The key
  // must be in the protocol table (FindApi(key) != nullptr).
  void RegisterApi(ApiKey key, ApiHandler handler);

  // Binds and starts serving.
  Status Start();
  // Stops serving: closes connections, answers nothing more, cancels parked
  // fetches. Idempotent. Does not close the log.
  void Stop();

  // The bound port of listener `listener` (after Start()).
  int port(int listener = 0) const;
  // "host:port" as advertised in Metadata to clients of listener 0 (after
  // Start()).
  std::string advertised_address() const;
  // What Metadata/FindCoordinator advertise to clients of `listener`.
  HostPort AdvertisedFor(int listener) const;
  // The connection's principal: "User:NAME" once SASL-authenticated,
  // "User:ANONYMOUS" otherwise. Thread-safe.
  std::string PrincipalOf(uint64_t connection_id) const;
  // The principal ACLs see: PrincipalOf, or, for a connection that did not
  // authenticate with SASL but presented a verified TLS client certificate,
  // "User:" + the certificate's subject (RFC 2253, e.g. "User:CN=client-one").
  std::string PrincipalFor(const ConnectionInfo& conn) const;
  // Why writes to the log fail now ("" when they do not): the partitions
  // whose last append or fsync failed with a storage error (disk full, I/O
  // error), which Produce answers with KAFKA_STORAGE_ERROR. Thread-safe.
  std::string StorageProblem() const;

  // The ApiVersions advertisement (registered APIs only).
  ApiVersionsResponse SupportedVersions() const;

  // RequestHandler.
  void HandleRequest(const ConnectionInfo& conn, std::shared_ptr<const std::string> frame,
                     RespondFn respond) override;
  void OnConnectionOpened(const ConnectionInfo& conn) override;
  void OnConnectionClosed(const ConnectionInfo& conn) override;

 private:
  struct FetchOp;
  struct SaslSession;
  using ProduceReply = std::function<void(const ProduceResponse&)>;

  void RegisterBuiltinApis();
  void RegisterMetrics();

  // Handlers (handlers/*.cc).
  void HandleApiVersions(const RequestContext& ctx, Reader* body, const RespondFn& respond);
  void HandleMetadata(const RequestContext& ctx, MetadataRequest& req,
                      const std::function<void(const MetadataResponse&)>& reply);
  void HandleProduce(const RequestContext& ctx, Reader* body, const RespondFn& respond);
  void HandleFetch(const RequestContext& ctx, FetchRequest& req, RespondFn respond);
  void HandleListOffsets(const RequestContext& ctx, ListOffsetsRequest& req,
                         const std::function<void(const ListOffsetsResponse&)>& reply);
  void HandleCreateTopics(const RequestContext& ctx, CreateTopicsRequest& req,
                          const std::function<void(const CreateTopicsResponse&)>& reply);
  void HandleDeleteTopics(const RequestContext& ctx, DeleteTopicsRequest& req,
                          const std::function<void(const DeleteTopicsResponse&)>& reply);
  void HandleCreatePartitions(const RequestContext& ctx, CreatePartitionsRequest& req,
                              const std::function<void(const CreatePartitionsResponse&)>& reply);
  void HandleDescribeConfigs(const RequestContext& ctx, DescribeConfigsRequest& req,
                             const std::function<void(const DescribeConfigsResponse&)>& reply);
  void HandleAlterConfigs(const RequestContext& ctx, AlterConfigsRequest& req,
                          const std::function<void(const AlterConfigsResponse&)>& reply);
  void HandleIncrementalAlterConfigs(
      const RequestContext& ctx, IncrementalAlterConfigsRequest& req,
      const std::function<void(const IncrementalAlterConfigsResponse&)>& reply);
  void HandleDeleteRecords(const RequestContext& ctx, DeleteRecordsRequest& req,
                           const std::function<void(const DeleteRecordsResponse&)>& reply);

  // SASL (handlers/sasl.cc).
  void RegisterSaslApis();
  std::shared_ptr<SaslSession> Session(uint64_t connection_id);
  // Frames of a SASL listener's connection before it authenticated: raw
  // tokens after SaslHandshake v0, else only ApiVersions, SaslHandshake
  // and SaslAuthenticate; true if the frame was handled here.
  bool HandleUnauthenticated(const ConnectionInfo& conn, const std::string& frame,
                             RespondFn& respond);
  void HandleSaslHandshake(const RequestContext& ctx, Reader* body, const RespondFn& respond);
  void HandleSaslAuthenticate(const RequestContext& ctx, Reader* body, const RespondFn& respond);
  // One SASL token of the session's mechanism. Ok: the answer token
  // (complete() tells whether authentication finished); error: the
  // authentication failed (recorded with the limiter).
  Result<std::string> SaslStep(const ConnectionInfo& conn, SaslSession& session,
                               std::string_view token);
  // Answers `result` after failed_auth_delay_ms.
  void RespondLater(RespondFn respond, HandlerResult result);
  bool MayManageUsers(uint64_t connection_id) const;

  // ACLs (handlers/acl.cc).
  void RegisterAclApis();
  // Wraps the registered handlers with their authorization (at Start()).
  void InstallAuthorization();
  // The authorizer's decision (true without BrokerOptions::acls); denials
  // are logged at info (20 lines/s per principal and address) unless
  // `log_denied` is false (Kafka's logIfDenied, for checks that only filter
  // what is listed), allows at debug (at info with authorizer_log "all").
  bool Authorized(const RequestContext& ctx, security::AclOperation op, security::ResourceType type,
                  std::string_view name, bool log_denied = true);
  // The error a config resource (DescribeConfigs, AlterConfigs) is answered
  // with when `op` is denied on it: TOPIC_AUTHORIZATION_FAILED for a topic,
  // CLUSTER_AUTHORIZATION_FAILED for a broker or broker logger (authorized
  // on the cluster); nullopt when allowed or of another type.
  std::optional<ErrorCode> ConfigResourceDenied(const RequestContext& ctx,
                                                security::AclOperation op, int8_t type,
                                                const std::string& name);
  bool MayCreateTopic(const RequestContext& ctx, std::string_view topic);
  // With ACLs: whether `req` carries transactional batches without WRITE
  // on its transactional id (Kafka then refuses the whole request).
  bool TransactionalProduceDenied(const RequestContext& ctx, const ProduceRequest& req);
  void HandleDescribeUserScramCredentials(
      const RequestContext& ctx, DescribeUserScramCredentialsRequest& req,
      const std::function<void(const DescribeUserScramCredentialsResponse&)>& reply);
  void HandleAlterUserScramCredentials(
      const RequestContext& ctx, AlterUserScramCredentialsRequest& req,
      const std::function<void(const AlterUserScramCredentialsResponse&)>& reply);

  // Fetch v0-3 (handlers/fetch_legacy.cc): wraps `reply` so that each
  // partition's batches are down-converted to magic 0 (v0-1) or 1 (v2-3),
  // records below the partition's fetch offset left out.
  static std::function<void(const FetchResponse&)> DownConvertingFetchReply(
      int16_t version, const FetchRequest& req, std::function<void(const FetchResponse&)> reply);
  // Fetch internals (handlers/fetch.cc).
  void EvaluateFetch(const std::shared_ptr<FetchOp>& op, bool final);
  void FinishFetch(const std::shared_ptr<FetchOp>& op, FetchResponse resp);
  static uint64_t FetchConnectionId(const FetchOp& op);

  // The request log line of one answered request (see HandleRequest).
  void LogRequest(const ConnectionInfo& conn, const RequestHeader& header, size_t request_bytes,
                  const HandlerResult& res, int64_t latency_us);

  // Records the outcome of a write to topic-partition: a storage error
  // (KAFKA_STORAGE_ERROR) is logged at error level when the partition
  // starts failing, and at info level when it writes again; once per state
  // change, never per request.
  void NoteWriteOutcome(const std::string& topic, int32_t partition, ErrorCode code,
                        const Status& status);

  // Rebuilds the producer state of `partition` from the log once (no-op
  // without options_.producers or when already done).
  Status EnsureProducerState(const log::Partition& partition);

  // Returns the partition, creating the topic first if `auto_create` and
  // allowed. Errors are Kafka error codes.
  ErrorCode EnsureTopic(const std::string& topic, bool auto_create);
  std::vector<std::pair<std::string, std::string>> BrokerConfigs() const;

  BrokerOptions options_;
  log::Log* const log_;
  metrics::Registry* const metrics_;
  Clock* clock_;
  std::unique_ptr<Server> server_;
  std::map<int16_t, ApiHandler> apis_;
  std::string advertised_host_;  // listener 0's
  int advertised_port_ = 0;
  std::vector<HostPort> advertised_;  // per listener

  // SASL state per connection of a SASL listener.
  mutable std::mutex sasl_mu_;
  std::map<uint64_t, std::shared_ptr<SaslSession>> sasl_sessions_;  // guarded by sasl_mu_
  std::unique_ptr<security::FailedAuthLimiter> auth_limiter_;
  std::string fake_salt_key_;  // random per process (security::ScramServer)
  LogLimiter acl_log_limiter_{20, 1000};
  metrics::Counter* sasl_ok_ = nullptr;
  metrics::Counter* sasl_failed_ = nullptr;
  std::atomic<bool> stopped_{false};

  std::mutex producers_mu_;  // serializes recovery; guards recovered_
  std::set<std::pair<std::string, int32_t>> recovered_;

  // Request log: at most 20 lines per second per client address and API.
  LogLimiter request_log_limiter_{20, 1000};

  // Partitions whose last write failed with a storage error, and why.
  mutable std::mutex storage_mu_;
  std::map<std::pair<std::string, int32_t>, std::string> storage_failures_;  // guarded
  // Its size, read without the lock (the metrics collector shares it).
  std::shared_ptr<std::atomic<int>> storage_failure_count_ = std::make_shared<std::atomic<int>>(0);

  std::mutex fetch_mu_;
  std::set<std::shared_ptr<FetchOp>> parked_fetches_;  // guarded by fetch_mu_

  // Metrics (null when metrics_ is null).
  std::array<metrics::Counter*, 64> requests_by_api_{};
  metrics::Counter* requests_unknown_ = nullptr;
  metrics::Counter* bytes_in_ = nullptr;
  metrics::Counter* bytes_out_ = nullptr;
  metrics::Histogram* produce_latency_ = nullptr;
  metrics::Histogram* fetch_latency_ = nullptr;
  metrics::Gauge* connections_ = nullptr;
  metrics::Counter* connections_total_ = nullptr;
};

// Topics of Kafka's own, which Metadata marks internal: `__consumer_offsets`
// and `__transaction_state`.
bool IsKafkaInternalTopic(std::string_view topic);
// Names reserved for the system: Kafka's internal topics, the schema
// registry's `_schemas`, and every name starting with "__". A Metadata or
// Produce request never auto-creates one, and Produce to one is refused
// with INVALID_TOPIC_EXCEPTION (Kafka's "Cannot append to internal topic");
// the broker's own roles write them in process.
bool IsReservedTopicName(std::string_view topic);

// Reads "<dir>/cluster_id" or creates it with a fresh random id (22
// characters, base64url of 16 random bytes, like Kafka's). Creates `dir`.
Result<std::string> LoadOrCreateClusterId(const std::string& dir);

}  // namespace braid::kafka
