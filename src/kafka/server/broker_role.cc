#include "kafka/server/broker_role.h"

#include <cstdio>

#include "base/clock.h"
#include "base/logging.h"
#include "base/strings.h"
#include "io/file_system.h"
#include "kafka/server/group_apis.h"
#include "registry/batch_validation.h"
#include "registry/validation.h"

namespace braid::kafka {

Status BrokerRole::Start(runtime::Runtime* rt) {
  ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
  io::FileSystem* fs = io::DefaultFileSystem();
  const std::string& data = rt->data_dir();
  BrokerOptions bo;
  if (options_.listen.empty()) return Status::InvalidArgument("no Kafka listener (--listen)");
  bool sasl = false;
  for (size_t i = 0; i < options_.listen.size(); ++i) {
    BrokerListener l;
    ASSIGN_OR_RETURN(l.listener, ParseListener(options_.listen[i]));
    if (UsesTls(l.listener.protocol)) l.listener.tls = options_.tls;
    sasl = sasl || UsesSasl(l.listener.protocol);
    if (i < options_.advertise.size()) l.advertise = options_.advertise[i];
    bo.listeners.push_back(std::move(l));
  }
  if (options_.advertise.size() > options_.listen.size()) {
    return Status::InvalidArgument("more --advertise than --listen addresses");
  }
  for (const std::string& m : options_.sasl_mechanisms) {
    if (m != "PLAIN" && m != "SCRAM-SHA-256" && m != "SCRAM-SHA-512") {
      return Status::InvalidArgument("unknown SASL mechanism '" + m +
                                     "' (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
    }
  }
  ASSIGN_OR_RETURN(users_, security::UserStore::Open(security::SecurityDir(data)));
  bo.users = users_.get();
  if (options_.acl) {
    ASSIGN_OR_RETURN(acls_, security::AclStore::Open(security::SecurityDir(data)));
    bo.acls = acls_.get();
    bo.authorizer_log = options_.authorizer_log;
    std::string supers;
    for (const std::string& u : options_.super_users) supers += (supers.empty() ? "" : ",") + u;
    LOG_INFO("kafka: ACL authorization on ({} ACLs; super users: {})", acls_->size(),
             supers.empty() ? std::string("none") : supers);
  }
  bo.sasl_mechanisms = options_.sasl_mechanisms;
  bo.super_users = options_.super_users;
  bo.max_failed_auth_per_address = options_.max_failed_auth_per_address;
  bo.failed_auth_window_ms = options_.failed_auth_window_ms;
  bo.failed_auth_delay_ms = options_.failed_auth_delay_ms;
  if (sasl) {
    ASSIGN_OR_RETURN(bool any, users_->HasUsers());
    if (!any) {
      LOG_WARN(
          "kafka: SASL listeners are configured but there are no users yet: add one with "
          "`braid users add NAME --data {}`",
          data);
    }
  }
  bo.io_threads = options_.io_threads;
  bo.limits = options_.limits;
  bo.auto_create_topics = options_.auto_create_topics;
  bo.sendfile = options_.fetch_sendfile;
  ASSIGN_OR_RETURN(bo.cluster_id, LoadOrCreateClusterId(io::JoinPath(data, "broker")));

  // Consumer groups and idempotent producers (kafka/group/README.md).
  GroupCoordinatorOptions go;
  go.log = log;  // __consumer_offsets lives in the broker's log
  go.store.num_partitions = options_.offsets_topic_num_partitions;
  // Data dirs of older braid versions: offsets.log is migrated into the topic.
  go.store.legacy_dir = io::JoinPath(data, "__consumer_offsets");
  go.initial_rebalance_delay_ms = options_.group_initial_rebalance_delay_ms;
  coordinator_ = std::make_unique<GroupCoordinator>(fs, SystemClock(), go);
  RETURN_IF_ERROR(coordinator_->Open());
  ASSIGN_OR_RETURN(producer_ids_, ProducerIdManager::Open(fs, io::JoinPath(data, "producer_ids")));
  ProducerStateOptions po;
  po.snapshot_dir = io::JoinPath(data, "producer-state");
  RETURN_IF_ERROR(fs->CreateDirs(po.snapshot_dir));
  producers_ = std::make_unique<ProducerStateManager>(fs, SystemClock(), po);
  bo.producers = producers_.get();
  GroupCoordinator* coordinator = coordinator_.get();
  bo.on_connection_closed = [coordinator](uint64_t id) { coordinator->OnConnectionClosed(id); };
  bo.on_topic_deleted = [coordinator](const std::string& t) { coordinator->OnTopicDeleted(t); };
  if (auto* validator = rt->Find<registry::RecordValidator>()) {
    bo.validate_batch = registry::MakeProduceValidator(log, validator);
  }

  broker_ = std::make_unique<Broker>(bo, log, rt->metrics());
  const int32_t node_id = bo.node_id.value();
  Broker* broker = broker_.get();
  handlers_ = std::make_unique<GroupHandlers>(coordinator, producer_ids_.get(), [broker, node_id] {
    // The advertised address, exactly as in Metadata.
    auto hp = ParseHostPort(broker->advertised_address());
    return CoordinatorEndpoint{node_id, hp.ok() ? hp->host : "", hp.ok() ? hp->port : 0};
  });
  RegisterGroupApis(broker, handlers_.get());
  RETURN_IF_ERROR(broker_->Start());
  live_broker_.store(broker_.get());
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  ticker_ = std::thread([this] { TickLoop(); });
  for (size_t i = 0; i < bo.listeners.size(); ++i) {
    const ListenerOptions& l = bo.listeners[i].listener;
    ASSIGN_OR_RETURN(HostPort bound, ParseHostPort(l.listen));
    bound.port = static_cast<uint16_t>(broker_->port(static_cast<int>(i)));
    std::printf("braid: broker listening on %s%s (advertised %s, cluster id %s)\n",
                l.protocol == SecurityProtocol::kPlaintext && bo.listeners.size() == 1
                    ? ""
                    : (std::string(SecurityProtocolName(l.protocol)) + "://").c_str(),
                bound.ToString().c_str(),
                broker_->AdvertisedFor(static_cast<int>(i)).ToString().c_str(),
                bo.cluster_id.c_str());
  }
  return Status::OK();
}

void BrokerRole::Stop() {
  live_broker_.store(nullptr);
  if (broker_) broker_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (producers_) {
    Status s = producers_->WriteSnapshots();
    if (!s.ok()) LOG_WARN("producer state snapshots: {}", s.ToString());
  }
  broker_.reset();
  handlers_.reset();
  coordinator_.reset();
  producers_.reset();
  producer_ids_.reset();
  users_.reset();
  acls_.reset();
}

void BrokerRole::TickLoop() {
  constexpr int kSnapshotEveryTicks = 600;
  int ticks = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_) break;
    lock.unlock();
    coordinator_->Tick();
    if (++ticks % kSnapshotEveryTicks == 0) {
      producers_->ExpireProducers();
      Status s = producers_->WriteSnapshots();
      if (!s.ok()) LOG_WARN("producer state snapshots: {}", s.ToString());
    }
    lock.lock();
  }
}

}  // namespace braid::kafka

namespace braid::kafka {

std::string BrokerRole::degraded() const {
  Broker* b = live_broker_.load();
  return b == nullptr ? std::string() : b->StorageProblem();
}

}  // namespace braid::kafka
