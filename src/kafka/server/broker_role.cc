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
  bo.listen = options_.listen;
  bo.advertise = options_.advertise;
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
  ASSIGN_OR_RETURN(HostPort bound, ParseHostPort(options_.listen));
  bound.port = static_cast<uint16_t>(broker_->port());
  std::printf("braid: broker listening on %s (advertised %s, cluster id %s)\n",
              bound.ToString().c_str(), broker_->advertised_address().c_str(),
              bo.cluster_id.c_str());
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
