// `braid broker` and `braid up`: long-running server roles on one data
// directory.
//
// Layout of a data directory:
//   <data>/log/                 the event log (braid::log::Log; the schema
//                               registry's `_schemas` topic lives here too)
//   <data>/broker/              broker state (cluster_id)
//   <data>/__consumer_offsets/  committed offsets and group state
//   <data>/producer_ids         reserved idempotent-producer id block
//   <data>/producer-state/      idempotent-producer snapshots per partition
//
// A Runtime owns what roles share (the data dir, the log, the metrics
// registry, the admin HTTP server) and a list of Roles started in order and
// stopped in reverse order. `braid up` starts every role built so far; a new
// role (schema registry on 8081, archiver, ...) is one more Role subclass
// added in AddUpRoles().
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archiver.h"
#include "archive/registry_schema_source.h"
#include "base/logging.h"
#include "cli/cli.h"
#include "http/server.h"
#include "io/file_system.h"
#include "kafka/group/producer_state.h"
#include "kafka/server/broker.h"
#include "kafka/server/group_apis.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "registry/batch_validation.h"
#include "registry/service.h"
#include "registry/validation.h"

namespace braid::cli {

namespace {

struct RuntimeOptions {
  std::string data_dir;
  // Admin HTTP (/health, /metrics); empty = none.
  std::string http_listen;
  // Broker.
  std::string listen = "127.0.0.1:9092";
  std::string advertise;
  std::string auto_create_topics = "true";
  int32_t num_partitions = 1;
  bool fsync_every_append = false;
  int io_threads = 2;
  int64_t maintenance_interval_ms = 5000;
  // group.initial.rebalance.delay.ms of the group coordinator.
  int32_t group_initial_rebalance_delay_ms = 3000;
  // Schema registry of `braid up` (HTTP, Confluent REST API).
  std::string registry_listen = "127.0.0.1:8081";
  // Master dataset root of `braid up`'s archiver. Default: <data>/archive.
  std::string archive_root;
  // Codec of the archived Avro files. Default: deflate.
  std::string archive_codec = "deflate";
  // The archiver closes and lists a file at the latest after this long.
  // Default: 60000 (ArchiverOptions::roll_interval_ms).
  int64_t archive_roll_ms = 60'000;
};

class Runtime;

// One server role. Start() runs on the main thread; Stop() too, in reverse
// start order.
class Role {
 public:
  virtual ~Role() = default;
  virtual std::string name() const = 0;
  virtual Status Start(Runtime* rt) = 0;
  virtual void Stop() = 0;
};

// Shared resources of all roles.
class Runtime {
 public:
  explicit Runtime(RuntimeOptions options) : options_(std::move(options)) {}

  const RuntimeOptions& options() const { return options_; }
  metrics::Registry* metrics() { return &metrics_; }

  // The log under <data>/log, opened on first use.
  Result<log::Log*> GetLog() {
    if (log_) return log_.get();
    log::LogOptions lo;
    lo.num_partitions = options_.num_partitions;
    lo.fsync_every_append = options_.fsync_every_append;
    auto opened = log::Log::Open(io::JoinPath(options_.data_dir, "log"), std::move(lo));
    if (!opened.ok()) return opened.status();
    log_ = std::move(opened).value();
    return log_.get();
  }

  void AddRole(std::unique_ptr<Role> role) { roles_.push_back(std::move(role)); }

  // Produce-time schema validation, set by the registry role (null without
  // one). Owned by that role; valid until it stops (after the broker).
  registry::RecordValidator* record_validator() const { return validator_; }
  void set_record_validator(registry::RecordValidator* v) { validator_ = v; }

  // The embedded schema registry, set by the registry role (null without one).
  // Owned by that role; valid until it stops (after the roles started later).
  registry::Registry* registry() const { return registry_; }
  void set_registry(registry::Registry* r) { registry_ = r; }

  // Starts every role, then the admin HTTP server (so /health lists them).
  Status Start() {
    RETURN_IF_ERROR(io::DefaultFileSystem()->CreateDirs(options_.data_dir));
    for (auto& role : roles_) {
      Status s = role->Start(this);
      if (!s.ok()) return s.WithContext("starting " + role->name());
      started_.push_back(role.get());
    }
    if (!options_.http_listen.empty()) {
      http::ServerOptions ho;
      ho.listen = options_.http_listen;
      http_ = std::make_unique<http::Server>(ho);
      std::string roles_json;
      for (const auto* r : started_) {
        roles_json += (roles_json.empty() ? "\"" : ",\"") + r->name() + "\"";
      }
      http_->Route("GET", "/health", [roles_json](const http::Request&) {
        return http::Response::Json(200, R"({"status":"ok","roles":[)" + roles_json + "]}");
      });
      metrics::Registry* metrics = &metrics_;
      http_->Route("GET", "/metrics", [metrics](const http::Request&) {
        return http::Response{
            200, "text/plain; version=0.0.4; charset=utf-8", metrics->RenderPrometheus(), {}};
      });
      RETURN_IF_ERROR(http_->Start());
      auto hp = http::ParseHostPort(options_.http_listen);
      std::printf("braid: http listening on %s:%d\n", hp.ok() ? hp->first.c_str() : "?",
                  http_->port());
    }
    if (log_) {
      maintenance_ = std::thread([this] { MaintenanceLoop(); });
    }
    return Status::OK();
  }

  // Stops HTTP, the roles in reverse order, then closes the log (flushing it).
  Status Stop() {
    if (http_) http_->Stop();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (maintenance_.joinable()) maintenance_.join();
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) (*it)->Stop();
    started_.clear();
    Status s;
    if (log_) s = log_->Close();
    return s;
  }

 private:
  void MaintenanceLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(options_.maintenance_interval_ms));
      if (stopping_) break;
      lock.unlock();
      Status s = log_->RunMaintenance(SystemClock()->NowMillis());
      if (!s.ok()) LOG_WARN("log maintenance: {}", s.ToString());
      lock.lock();
    }
  }

  RuntimeOptions options_;
  metrics::Registry metrics_;
  std::unique_ptr<log::Log> log_;
  registry::RecordValidator* validator_ = nullptr;
  registry::Registry* registry_ = nullptr;
  std::vector<std::unique_ptr<Role>> roles_;
  std::vector<Role*> started_;
  std::unique_ptr<http::Server> http_;
  std::thread maintenance_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

// The Kafka broker with consumer groups (committed offsets under
// <data>/__consumer_offsets) and idempotent producers.
class BrokerRole : public Role {
 public:
  std::string name() const override { return "broker"; }

  Status Start(Runtime* rt) override {
    const RuntimeOptions& o = rt->options();
    ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
    io::FileSystem* fs = io::DefaultFileSystem();
    kafka::BrokerOptions bo;
    bo.listen = o.listen;
    bo.advertise = o.advertise;
    bo.io_threads = o.io_threads;
    if (o.auto_create_topics == "true") {
      bo.auto_create_topics = true;
    } else if (o.auto_create_topics == "false") {
      bo.auto_create_topics = false;
    } else {
      return Status::InvalidArgument("--auto-create-topics must be true or false");
    }
    ASSIGN_OR_RETURN(bo.cluster_id,
                     kafka::LoadOrCreateClusterId(io::JoinPath(o.data_dir, "broker")));

    // Consumer groups and idempotent producers (kafka/group/README.md).
    kafka::GroupCoordinatorOptions go;
    go.offsets_dir = io::JoinPath(o.data_dir, "__consumer_offsets");
    go.initial_rebalance_delay_ms = o.group_initial_rebalance_delay_ms;
    coordinator_ = std::make_unique<kafka::GroupCoordinator>(fs, SystemClock(), go);
    RETURN_IF_ERROR(coordinator_->Open());
    ASSIGN_OR_RETURN(producer_ids_,
                     kafka::ProducerIdManager::Open(fs, io::JoinPath(o.data_dir, "producer_ids")));
    kafka::ProducerStateOptions po;
    po.snapshot_dir = io::JoinPath(o.data_dir, "producer-state");
    RETURN_IF_ERROR(fs->CreateDirs(po.snapshot_dir));
    producers_ = std::make_unique<kafka::ProducerStateManager>(fs, SystemClock(), po);
    bo.producers = producers_.get();
    kafka::GroupCoordinator* coordinator = coordinator_.get();
    bo.on_connection_closed = [coordinator](uint64_t id) { coordinator->OnConnectionClosed(id); };
    bo.on_topic_deleted = [coordinator](const std::string& t) { coordinator->OnTopicDeleted(t); };
    if (rt->record_validator() != nullptr) {
      bo.validate_batch = registry::MakeProduceValidator(log, rt->record_validator());
    }

    broker_ = std::make_unique<kafka::Broker>(bo, log, rt->metrics());
    const int32_t node_id = bo.node_id.value();
    kafka::Broker* broker = broker_.get();
    handlers_ =
        std::make_unique<kafka::GroupHandlers>(coordinator, producer_ids_.get(), [broker, node_id] {
          // The advertised address, exactly as in Metadata.
          std::string a = broker->advertised_address();
          size_t c = a.rfind(':');
          return kafka::CoordinatorEndpoint{node_id, a.substr(0, c), std::atoi(a.c_str() + c + 1)};
        });
    kafka::RegisterGroupApis(broker, handlers_.get());
    RETURN_IF_ERROR(broker_->Start());
    ticker_ = std::thread([this] { TickLoop(); });
    auto hp = kafka::SplitHostPort(o.listen);
    std::printf("braid: broker listening on %s:%d (advertised %s, cluster id %s)\n",
                hp.ok() ? hp->first.c_str() : "?", broker_->port(),
                broker_->advertised_address().c_str(), bo.cluster_id.c_str());
    return Status::OK();
  }

  void Stop() override {
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

 private:
  // Group timeouts every 100 ms; producer snapshots and expiry every 60 s.
  void TickLoop() {
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

  std::unique_ptr<kafka::GroupCoordinator> coordinator_;
  std::unique_ptr<kafka::ProducerIdManager> producer_ids_;
  std::unique_ptr<kafka::ProducerStateManager> producers_;
  std::unique_ptr<kafka::GroupHandlers> handlers_;
  std::unique_ptr<kafka::Broker> broker_;  // declared last: destroyed first
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

// The schema registry over the log's `_schemas` topic, served on
// --registry-listen, and the record validator the broker uses for topics
// with braid.{key,value}.schema.validation=true. Start before the broker.
class RegistryRole : public Role {
 public:
  std::string name() const override { return "registry"; }

  Status Start(Runtime* rt) override {
    const RuntimeOptions& o = rt->options();
    ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
    ASSIGN_OR_RETURN(registry_, registry::OpenRegistryOnLog(log));
    validator_ = std::make_unique<registry::RecordValidator>(registry_.get());
    http::ServerOptions ho;
    ho.listen = o.registry_listen;
    ho.threads = 2;
    http_ = std::make_unique<http::Server>(ho);
    registry::Registry* r = registry_.get();
    http_->Route("*", "/",
                 [r](const http::Request& q) { return registry::ServeHttp<http::Response>(r, q); });
    RETURN_IF_ERROR(http_->Start());
    rt->set_record_validator(validator_.get());
    rt->set_registry(registry_.get());
    std::printf("braid: registry listening on port %d\n", http_->port());
    return Status::OK();
  }

  void Stop() override {
    if (http_) http_->Stop();
    http_.reset();
    validator_.reset();
    registry_.reset();
  }

 private:
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<registry::RecordValidator> validator_;
  std::unique_ptr<http::Server> http_;
};

// The archiver: moves every record of the archived topics (braid.archive=true,
// or values that are registered Avro) from the log into the master dataset
// (src/archive/README.md). Resolves schema ids through the registry role's
// registry, which must start before it (the same instance, so schemas
// registered after start-up are seen).
class ArchiverRole : public Role {
 public:
  std::string name() const override { return "archiver"; }

  Status Start(Runtime* rt) override {
    const RuntimeOptions& o = rt->options();
    ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
    if (rt->registry() == nullptr) {
      return Status::FailedPrecondition("the archiver needs the registry role");
    }
    schemas_ = std::make_unique<archive::RegistrySchemaSource>(rt->registry());
    archive::ArchiverOptions ao;
    ao.root = o.archive_root.empty() ? io::JoinPath(o.data_dir, "archive") : o.archive_root;
    ao.codec = o.archive_codec;
    ao.roll_interval_ms = o.archive_roll_ms;
    archiver_ = std::make_unique<archive::Archiver>(log, schemas_.get(), ao);
    RETURN_IF_ERROR(archiver_->Start());
    archive::Archiver* a = archiver_.get();
    rt->metrics()->AddCollector([a](metrics::SampleWriter* w) {
      const archive::ArchiverStats s = a->stats();
      w->Counter("braid_archive_records_total", "Records archived", {},
                 static_cast<double>(s.records_archived));
      w->Counter("braid_archive_bytes_total", "Bytes of archived files", {},
                 static_cast<double>(s.bytes_archived));
      w->Counter("braid_archive_files_total", "Files written", {},
                 static_cast<double>(s.files_written));
      w->Counter("braid_archive_dead_letters_total", "Records sent to dead-letter files", {},
                 static_cast<double>(s.dead_letter_records));
      w->Counter("braid_archive_consolidations_total", "Consolidations of small files", {},
                 static_cast<double>(s.consolidations));
      w->Gauge("braid_archive_paused", "1 while archiving is paused by an error", {},
               s.paused ? 1 : 0);
      for (const auto& l : s.lag) {
        metrics::Labels lb = {{"topic", l.topic}, {"partition", std::to_string(l.partition)}};
        w->Gauge("braid_archive_lag_records", "Records not yet archived", lb,
                 static_cast<double>(l.lag_records));
        w->Gauge("braid_archive_lag_seconds", "Age of the oldest unarchived record", lb,
                 l.lag_seconds);
      }
    });
    std::printf("braid: archiver writing to %s\n", ao.root.c_str());
    return Status::OK();
  }

  void Stop() override {
    if (archiver_) archiver_->Stop();
    archiver_.reset();
    schemas_.reset();
  }

 private:
  std::unique_ptr<archive::SchemaSource> schemas_;
  std::unique_ptr<archive::Archiver> archiver_;
};

// Every role `braid up` runs, in start order (stopped in reverse). Add new
// roles here.
void AddUpRoles(Runtime* rt) {
  rt->AddRole(std::make_unique<RegistryRole>());
  rt->AddRole(std::make_unique<BrokerRole>());
  rt->AddRole(std::make_unique<ArchiverRole>());
}

// Runs the roles until SIGINT or SIGTERM. Returns the exit code.
int RunUntilSignal(Runtime* rt) {
  // Block the signals in every thread (threads inherit the mask), then wait
  // for them synchronously here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Status s = rt->Start();
  if (!s.ok()) {
    std::fprintf(stderr, "braid: %s\n", s.ToString().c_str());
    rt->Stop().IgnoreError();
    return 1;
  }
  std::printf("braid: ready\n");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("braid: received %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  s = rt->Stop();
  if (!s.ok()) {
    std::fprintf(stderr, "braid: stopping: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("braid: stopped\n");
  std::fflush(stdout);
  return 0;
}

void AddCommonOptions(CLI::App* cmd, RuntimeOptions* o) {
  cmd->add_option("--data", o->data_dir, "Data directory")->required();
  cmd->add_option("--advertise", o->advertise,
                  "HOST:PORT clients are told to connect to (default: the listen address)");
  cmd->add_option("--auto-create-topics", o->auto_create_topics,
                  "true|false: create unknown topics on Metadata/Produce")
      ->capture_default_str();
  cmd->add_option("--num-partitions", o->num_partitions,
                  "Partitions of auto-created topics and of topics created with -1")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--fsync-every-append", o->fsync_every_append,
                "fsync every produced batch before acknowledging it");
  cmd->add_option("--io-threads", o->io_threads, "Kafka network threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--maintenance-interval-ms", o->maintenance_interval_ms,
                  "How often retention, segment.ms and flush.ms are applied")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  cmd->add_option("--group-initial-rebalance-delay-ms", o->group_initial_rebalance_delay_ms,
                  "How long the first rebalance of an empty consumer group waits for more members")
      ->capture_default_str()
      ->check(CLI::Range(0, 300000));
}

}  // namespace

void AddServerCommands(CLI::App* root, int* exit_code) {
  {
    auto o = std::make_shared<RuntimeOptions>();
    CLI::App* cmd = root->add_subcommand("broker", "Run the Kafka-compatible broker");
    AddCommonOptions(cmd, o.get());
    cmd->add_option("--listen", o->listen, "HOST:PORT for Kafka clients")->capture_default_str();
    cmd->add_option("--http-listen", o->http_listen,
                    "HOST:PORT for /health and /metrics (default: none)");
    cmd->callback([o, exit_code] {
      Runtime rt(*o);
      rt.AddRole(std::make_unique<BrokerRole>());
      *exit_code = RunUntilSignal(&rt);
    });
  }
  {
    auto o = std::make_shared<RuntimeOptions>();
    o->http_listen = "127.0.0.1:8080";
    CLI::App* cmd = root->add_subcommand(
        "up",
        "Run every braid role on one data directory (schema registry, broker, archiver, HTTP "
        "/health and /metrics)");
    AddCommonOptions(cmd, o.get());
    cmd->add_option("--listen", o->listen, "HOST:PORT for Kafka clients")->capture_default_str();
    cmd->add_option("--http-listen", o->http_listen, "HOST:PORT for /health and /metrics")
        ->capture_default_str();
    cmd->add_option("--registry-listen", o->registry_listen,
                    "HOST:PORT for the schema registry (Confluent REST API)")
        ->capture_default_str();
    cmd->add_option("--archive-root", o->archive_root,
                    "Master dataset directory of the archiver (default: DATA/archive)");
    cmd->add_option("--archive-codec", o->archive_codec,
                    "Codec of archived Avro files: null|deflate|snappy|zstandard|bzip2|xz")
        ->capture_default_str();
    cmd->add_option("--archive-roll-ms", o->archive_roll_ms,
                    "Close and list an archive file at the latest after this many ms")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{100}, int64_t{86'400'000}));
    cmd->callback([o, exit_code] {
      Runtime rt(*o);
      AddUpRoles(&rt);
      *exit_code = RunUntilSignal(&rt);
    });
  }
}

}  // namespace braid::cli
