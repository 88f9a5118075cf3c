// BrokerRole: the Kafka broker as a runtime role, with consumer groups
// (committed offsets in the log's __consumer_offsets topic; a legacy
// <data>/__consumer_offsets/offsets.log is migrated into it), idempotent producers
// (<data>/producer_ids, <data>/producer-state/) and, when the runtime has a
// registry::RecordValidator (the registry role started first), produce-time
// schema validation. Broker metrics go to the runtime's registry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kafka/group/group_coordinator.h"
#include "kafka/group/group_handlers.h"
#include "kafka/group/producer_state.h"
#include "kafka/server/broker.h"
#include "runtime/runtime.h"

namespace braid::kafka {

struct BrokerRoleOptions {
  // The Kafka listeners, each "[PROTOCOL://]HOST:PORT" (PLAINTEXT, SSL,
  // SASL_PLAINTEXT, SASL_SSL; ParseListener). Default: {"127.0.0.1:9092"}.
  std::vector<std::string> listen = {"127.0.0.1:9092"};
  // "HOST:PORT" clients are told to connect to, per listener in order;
  // missing entries: the listen address (127.0.0.1 for a wildcard host).
  // Default: none.
  std::vector<std::string> advertise;
  // TLS of the SSL/SASL_SSL listeners (cert and key required for them).
  TlsOptions tls;
  // SASL mechanisms offered; users managers (BrokerOptions). Users live in
  // DATA/security/users.json (security/user_store.h).
  std::vector<std::string> sasl_mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
  std::vector<std::string> super_users;
  // Failed-authentication limits (BrokerOptions). Defaults: 10 per 60000
  // ms, answered after 100 ms.
  int max_failed_auth_per_address = 10;
  int64_t failed_auth_window_ms = 60000;
  int32_t failed_auth_delay_ms = 100;
  // ACL authorization on every listener, with the ACLs in
  // DATA/security/acls.json (BrokerOptions::acls). Default: false.
  bool acl = false;
  // BrokerOptions::authorizer_log: denied|all|none. Default: "denied".
  std::string authorizer_log = "denied";
  // auto.create.topics.enable. Default: true.
  bool auto_create_topics = true;
  // Kafka network threads. Default: 2.
  int io_threads = 2;
  // Request-bytes budget, connection limits and timeouts
  // (kafka/server/server.h). Default: ConnectionLimits{}.
  ConnectionLimits limits;
  // group.initial.rebalance.delay.ms. Default: 3000.
  int32_t group_initial_rebalance_delay_ms = 3000;
  // offsets.topic.num.partitions: partitions of __consumer_offsets when it is
  // created. Default: 50.
  int32_t offsets_topic_num_partitions = 50;
  // Write the stored batches of plaintext Fetch responses with sendfile(2)
  // from the segment file (BrokerOptions::sendfile); false reads and copies
  // them (for comparison). Default: true.
  bool fetch_sendfile = true;
};

class BrokerRole final : public runtime::Role {
 public:
  explicit BrokerRole(BrokerRoleOptions options) : options_(std::move(options)) {}
  ~BrokerRole() override { Stop(); }
  std::string name() const override { return "broker"; }
  Status Start(runtime::Runtime* rt) override;
  void Stop() override;
  // The broker's storage problem (Broker::StorageProblem), if any.
  std::string degraded() const override;
  // The broker, after Start() (null before and after Stop()).
  Broker* broker() const { return broker_.get(); }

 private:
  // Group timeouts every 100 ms; producer snapshots and expiry every 60 s.
  void TickLoop();

  BrokerRoleOptions options_;
  std::unique_ptr<GroupCoordinator> coordinator_;
  std::unique_ptr<ProducerIdManager> producer_ids_;
  std::unique_ptr<ProducerStateManager> producers_;
  std::unique_ptr<GroupHandlers> handlers_;
  std::unique_ptr<security::UserStore> users_;
  std::unique_ptr<security::AclStore> acls_;
  std::unique_ptr<Broker> broker_;  // declared last: destroyed first
  // broker_ while it serves, for degraded() (called from HTTP threads).
  std::atomic<Broker*> live_broker_{nullptr};
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace braid::kafka
