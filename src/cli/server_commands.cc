// `braid broker` and `braid up`: long-running server roles on one data
// directory.
//
// Layout of a data directory:
//   <data>/log/         the event log (braid::log::Log)
//   <data>/broker/      broker state (cluster_id)
//
// A Runtime owns what roles share (the data dir, the log, the metrics
// registry, the admin HTTP server) and a list of Roles started in order and
// stopped in reverse order. `braid up` starts every role built so far; a new
// role (schema registry on 8081, archiver, ...) is one more Role subclass
// added in AddUpRoles().
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "cli/cli.h"
#include "http/metrics.h"
#include "http/server.h"
#include "io/file_system.h"
#include "kafka/server/broker.h"
#include "log/log.h"

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
  http::Registry* metrics() { return &metrics_; }

  // The log under <data>/log, opened on first use.
  Result<log::Log*> GetLog() {
    if (log_) return log_.get();
    log::LogOptions lo;
    lo.num_partitions = options_.num_partitions;
    lo.fsync_every_append = options_.fsync_every_append;
    lo.decompress = kafka::KafkaDecompressor();
    auto opened = log::Log::Open(io::JoinPath(options_.data_dir, "log"), std::move(lo));
    if (!opened.ok()) return opened.status();
    log_ = std::move(opened).value();
    return log_.get();
  }

  void AddRole(std::unique_ptr<Role> role) { roles_.push_back(std::move(role)); }

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
      http::Registry* metrics = &metrics_;
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
  http::Registry metrics_;
  std::unique_ptr<log::Log> log_;
  std::vector<std::unique_ptr<Role>> roles_;
  std::vector<Role*> started_;
  std::unique_ptr<http::Server> http_;
  std::thread maintenance_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

class BrokerRole : public Role {
 public:
  std::string name() const override { return "broker"; }

  Status Start(Runtime* rt) override {
    const RuntimeOptions& o = rt->options();
    ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
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
    broker_ = std::make_unique<kafka::Broker>(bo, log, rt->metrics());
    RETURN_IF_ERROR(broker_->Start());
    auto hp = kafka::SplitHostPort(o.listen);
    std::printf("braid: broker listening on %s:%d (advertised %s, cluster id %s)\n",
                hp.ok() ? hp->first.c_str() : "?", broker_->port(),
                broker_->advertised_address().c_str(), bo.cluster_id.c_str());
    return Status::OK();
  }

  void Stop() override {
    if (broker_) broker_->Stop();
  }

 private:
  std::unique_ptr<kafka::Broker> broker_;
};

// Every role `braid up` runs, in start order. Add new roles here.
void AddUpRoles(Runtime* rt) { rt->AddRole(std::make_unique<BrokerRole>()); }

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
        "up", "Run every braid role on one data directory (broker, HTTP /health and /metrics)");
    AddCommonOptions(cmd, o.get());
    cmd->add_option("--listen", o->listen, "HOST:PORT for Kafka clients")->capture_default_str();
    cmd->add_option("--http-listen", o->http_listen, "HOST:PORT for /health and /metrics")
        ->capture_default_str();
    cmd->callback([o, exit_code] {
      Runtime rt(*o);
      AddUpRoles(&rt);
      *exit_code = RunUntilSignal(&rt);
    });
  }
}

}  // namespace braid::cli
