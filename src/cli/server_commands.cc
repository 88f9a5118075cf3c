// `braid broker` and `braid up`: flags, and the composition of roles. The
// roles live with their subsystems (kafka/server/broker_role.h,
// registry/registry_role.h, archive/archiver_role.h); the runtime
// (runtime/runtime.h) locks the data directory, serves HTTP, starts and stops
// them. The data directory layout is in docs/operations.md.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "archive/archiver_role.h"
#include "batch/batch_role.h"
#include "cli/cli.h"
#include "cli/secure_mode.h"
#include "kafka/server/broker_role.h"
#include "registry/registry_role.h"
#include "runtime/runtime.h"
#include "serving/serving_role.h"
#include "stream/speed_role.h"
#include "views/catalog.h"

namespace braid::cli {

namespace {

struct ServerFlags {
  runtime::RuntimeOptions runtime;
  kafka::BrokerRoleOptions broker;
  std::string auto_create_topics = "true";
  bool fsync_every_append = false;
  std::string fetch_sendfile = "true";
  int32_t num_partitions = 1;
  registry::RegistryRoleOptions registry;
  archive::ArchiverRoleOptions archiver;
  std::vector<std::string> view_files;
  std::vector<std::string> plugins;
  stream::SpeedRoleOptions speed;
  int64_t batch_interval_ms = 15 * 60 * 1000;
  int64_t speed_batch_delay_ms = 10;
  std::string tls_client_auth;  // "": requested when --tls-ca is given
  HttpTlsFlags http_tls;
  bool secure = false;
  std::vector<std::string> http_open_paths;
};

void AddCommonOptions(CLI::App* cmd, ServerFlags* f) {
  cmd->add_option("--data", f->runtime.data_dir, "Data directory")->required();
  cmd->add_flag("--secure", f->secure,
                "Secure by one setting: on first start make a CA, a server certificate and an "
                "admin user in DATA/security (printed once); Kafka listeners without an explicit "
                "PROTOCOL:// become SASL_SSL, HTTP listeners get TLS and authentication; prints "
                "the client settings");
  cmd->add_option("--listen", f->broker.listen,
                  "[PROTOCOL://]HOST:PORT for Kafka clients; repeatable. PROTOCOL: PLAINTEXT "
                  "(default), SSL, SASL_PLAINTEXT, SASL_SSL")
      ->capture_default_str()
      ->allow_extra_args(false);
  cmd->add_option("--advertise", f->broker.advertise,
                  "HOST:PORT clients of the n-th --listen are told to connect to; repeatable "
                  "(default: the listen address)")
      ->allow_extra_args(false);
  cmd->add_option("--tls-cert", f->broker.tls.cert_file,
                  "PEM certificate (chain) of the SSL/SASL_SSL Kafka listeners");
  cmd->add_option("--tls-key", f->broker.tls.key_file, "PEM private key of --tls-cert");
  cmd->add_option("--tls-ca", f->broker.tls.ca_file,
                  "PEM CA certificates that client certificates are verified against");
  cmd->add_option("--tls-client-auth", f->tls_client_auth,
                  "none|requested|required: client certificates on TLS listeners (requested and "
                  "required need --tls-ca; default: requested with --tls-ca, else none)")
      ->check(CLI::IsMember({"none", "requested", "required"}));
  cmd->add_option("--sasl-mechanisms", f->broker.sasl_mechanisms,
                  "SASL mechanisms of the SASL listeners, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--super-users", f->broker.super_users,
                  "Users allowed everything (ACLs), to manage users with the Kafka admin API "
                  "(AlterUserScramCredentials) and, with --http-auth, the HTTP admin scope, "
                  "comma-separated (default: none; then every SASL user may manage users and "
                  "has the HTTP admin scope)")
      ->delimiter(',');
  cmd->add_flag("--acl", f->broker.acl,
                "Authorize every Kafka request against ACLs (DATA/security/acls.json, managed "
                "with CreateAcls/DeleteAcls); no matching ACL: denied");
  cmd->add_option("--authorizer-log", f->broker.authorizer_log,
                  "denied|all|none: the authorizer's decision log (denied: denials at info, "
                  "allowed at debug; all: both at info)")
      ->capture_default_str()
      ->check(CLI::IsMember({"denied", "all", "none"}));
  cmd->add_option("--max-failed-auth-per-address", f->broker.max_failed_auth_per_address,
                  "Failed SASL (and, with --http-auth, HTTP) authentications from one address "
                  "within --failed-auth-window-ms after which it is refused until the window "
                  "passes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--failed-auth-window-ms", f->broker.failed_auth_window_ms,
                  "Window of --max-failed-auth-per-address")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  cmd->add_option("--failed-auth-delay-ms", f->broker.failed_auth_delay_ms,
                  "Delay of the answer to a failed SASL authentication "
                  "(connection.failed.authentication.delay.ms)")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  cmd->add_option("--auto-create-topics", f->auto_create_topics,
                  "true|false: create unknown topics on Metadata/Produce")
      ->capture_default_str()
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--num-partitions", f->num_partitions,
                  "Partitions of auto-created topics and of topics created with -1")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--fsync-every-append", f->fsync_every_append,
                "fsync every produced batch before acknowledging it");
  cmd->add_option("--fetch-sendfile", f->fetch_sendfile,
                  "true|false: write the stored batches of Fetch responses with sendfile(2) "
                  "from the segment file (false: read and copy them)")
      ->capture_default_str()
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--io-threads", f->broker.io_threads, "Kafka network threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-request-bytes-in-flight", f->broker.limits.max_request_bytes_in_flight,
                  "Request bytes buffered at once over all Kafka connections (Kafka's "
                  "queued.max.request.bytes); connections wait when it is spent")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1} << 20, int64_t{1} << 40));
  cmd->add_option("--max-connections-per-ip", f->broker.limits.max_connections_per_ip,
                  "Kafka connections from one client address (max.connections.per.ip)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections", f->broker.limits.max_connections,
                  "Kafka connections in all (max.connections)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--incomplete-request-timeout-ms", f->broker.limits.incomplete_request_timeout_ms,
                  "Close a Kafka connection whose started request is not complete this long")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{86'400'000}));
  cmd->add_option("--connections-max-idle-ms", f->broker.limits.connections_max_idle_ms,
                  "Close a Kafka connection idle this long (connections.max.idle.ms)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{86'400'000}));
  AddHttpTlsOptions(cmd, &f->http_tls);
  AddHttpAuthOptions(cmd, &f->runtime, &f->http_open_paths);
  cmd->add_option("--http-threads", f->runtime.http_threads, "HTTP io threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--maintenance-interval-ms", f->runtime.maintenance_interval_ms,
                  "How often retention, segment.ms and flush.ms are applied")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  cmd->add_option("--group-initial-rebalance-delay-ms", f->broker.group_initial_rebalance_delay_ms,
                  "How long the first rebalance of an empty consumer group waits for more members")
      ->capture_default_str()
      ->check(CLI::Range(0, 300000));
  cmd->add_option("--offsets-topic-num-partitions", f->broker.offsets_topic_num_partitions,
                  "Partitions of the __consumer_offsets topic when it is created (Kafka's "
                  "offsets.topic.num.partitions)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
}

// Applies the flags that need a conversion; false (with the message
// printed) when they are inconsistent.
bool Finish(ServerFlags* f, const char* program) {
  f->broker.auto_create_topics = f->auto_create_topics == "true";
  f->broker.fetch_sendfile = f->fetch_sendfile == "true";
  f->runtime.log_options.num_partitions = f->num_partitions;
  f->runtime.log_options.fsync_every_append = f->fsync_every_append;
  f->speed.speed.topology.max_batch_delay = std::chrono::milliseconds(f->speed_batch_delay_ms);
  f->broker.tls.require_client_cert = f->tls_client_auth == "required";
  if (f->tls_client_auth == "none") f->broker.tls.ca_file.clear();
  FinishHttpAuthOptions(&f->runtime, f->http_open_paths, f->broker.super_users);
  f->runtime.http_auth_options.max_failed_per_address = f->broker.max_failed_auth_per_address;
  f->runtime.http_auth_options.failed_window_ms = f->broker.failed_auth_window_ms;
  auto http_tls = ResolveHttpTls(f->http_tls, f->broker.tls.cert_file, f->broker.tls.key_file);
  if (!http_tls.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, http_tls.status().ToString().c_str());
    return false;
  }
  f->runtime.http_tls = *http_tls;
  f->registry.tls = *http_tls;
  return true;
}

// --secure (cli/secure_mode.h); false (after printing why) on an error.
bool ApplySecure(const std::string& command, ServerFlags* f,
                 const std::vector<SecureHttpListener>& http) {
  auto r = ApplySecureMode(command, f->runtime.data_dir, &f->broker, http);
  if (!r.ok()) {
    std::fprintf(stderr, "%s --secure: %s\n", command.c_str(), r.status().ToString().c_str());
    return false;
  }
  // HTTPS with the generated certificate (Finish() takes the Kafka
  // listener's), unless the operator gave the HTTP listeners their own.
  f->http_tls.on = true;
  f->runtime.http_auth = true;
  return true;
}

}  // namespace

void AddServerCommands(CLI::App* root, int* exit_code) {
  {
    auto f = std::make_shared<ServerFlags>();
    CLI::App* cmd = root->add_subcommand("broker", "Run the Kafka-compatible broker");
    AddCommonOptions(cmd, f.get());
    cmd->add_option("--http-listen", f->runtime.http_listen,
                    "HOST:PORT for /health and /metrics (default: none)");
    cmd->callback([f, exit_code] {
      std::vector<SecureHttpListener> http;
      if (!f->runtime.http_listen.empty()) {
        http.push_back({"HTTP API", f->runtime.http_listen, "/metrics"});
      }
      if ((f->secure && !ApplySecure("braid broker", f.get(), http)) ||
          !Finish(f.get(), "braid broker")) {
        *exit_code = 1;
        return;
      }
      runtime::Runtime rt(f->runtime);
      rt.AddRole(std::make_unique<kafka::BrokerRole>(f->broker));
      *exit_code = rt.RunUntilSignal("braid broker");
    });
  }
  {
    auto f = std::make_shared<ServerFlags>();
    f->runtime.http_listen = "127.0.0.1:8080";
    CLI::App* cmd = root->add_subcommand(
        "up",
        "Run the whole system on one data directory: schema registry, broker, archiver, speed "
        "layer, batch layer and scheduler, serving API (/v1/views, /health, /metrics)");
    AddCommonOptions(cmd, f.get());
    cmd->add_option("--http-listen", f->runtime.http_listen,
                    "HOST:PORT of the HTTP API (/health, /metrics, /v1/...)")
        ->capture_default_str();
    cmd->add_option("--registry-listen", f->registry.listen,
                    "HOST:PORT for the schema registry (Confluent REST API)")
        ->capture_default_str();
    cmd->add_option("--archive-root", f->archiver.archiver.root,
                    "Master dataset directory of the archiver (default: DATA/archive)");
    cmd->add_option("--archive-codec", f->archiver.archiver.codec,
                    "Codec of archived Avro files: null|deflate|snappy|zstandard|bzip2|xz")
        ->capture_default_str();
    cmd->add_option("--archive-roll-ms", f->archiver.archiver.roll_interval_ms,
                    "Close and list an archive file at the latest after this many ms")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{100}, int64_t{86'400'000}));
    cmd->add_option("--views", f->view_files, "View file (YAML; repeatable)");
    cmd->add_option("--plugin", f->plugins, "Plugin shared library (repeatable)");
    cmd->add_option("--batch-interval-ms", f->batch_interval_ms,
                    "Seal, batch-run every view and drop the covered realtime generations this "
                    "often (0: only on POST /v1/batch/run)")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{366} * 86'400'000));
    // The speed layer's micro-batches, as `braid speed run` has them
    // (--batch-records etc. there; prefixed here, beside the batch layer's).
    stream::ViewTopologyOptions& topo = f->speed.speed.topology;
    cmd->add_option("--speed-batch-records", topo.max_batch_records,
                    "Speed layer: records per micro-batch at most")
        ->capture_default_str()
        ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
    cmd->add_option("--speed-batch-bytes", topo.max_batch_bytes,
                    "Speed layer: record bytes per micro-batch at most")
        ->capture_default_str()
        ->check(CLI::Range(size_t{1} << 10, size_t{1} << 30));
    cmd->add_option("--speed-batch-delay-ms", f->speed_batch_delay_ms,
                    "Speed layer: a micro-batch waits at most this long for more records (the "
                    "bound on the latency it adds)")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{60'000}));
    cmd->add_option("--speed-map-threads", topo.map_parallelism, "Speed layer: map tasks")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    cmd->add_option("--speed-commit-threads", topo.commit_parallelism, "Speed layer: commit tasks")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    cmd->add_option("--speed-dead-letter-topic", f->speed.speed.dead_letter_topic,
                    "Speed layer: topic for undecodable records (empty: none)")
        ->capture_default_str();
    cmd->callback([f, exit_code] {
      const std::vector<SecureHttpListener> http = {
          {"HTTP API", f->runtime.http_listen, "/v1/views"},
          {"schema registry", f->registry.listen, "/subjects"}};
      if ((f->secure && !ApplySecure("braid up", f.get(), http)) || !Finish(f.get(), "braid up")) {
        *exit_code = 1;
        return;
      }
      views::CatalogSources sources;
      sources.view_files = f->view_files;
      sources.plugins = f->plugins;
      auto catalog = views::LoadCatalog(sources);
      if (!catalog.ok()) {
        std::fprintf(stderr, "braid up: %s\n", catalog.status().ToString().c_str());
        *exit_code = 1;
        return;
      }
      f->speed.speed.views = (*catalog)->views();
      for (const auto& t : (*catalog)->topologies()) f->speed.speed.topologies.push_back(*t);
      runtime::Runtime rt(f->runtime);
      // Start order: the registry first (the broker validates produce with
      // it, the archiver resolves schema ids with it); stopped in reverse.
      rt.AddRole(std::make_unique<registry::RegistryRole>(f->registry));
      rt.AddRole(std::make_unique<kafka::BrokerRole>(f->broker));
      rt.AddRole(std::make_unique<archive::ArchiverRole>(f->archiver));
      rt.AddRole(std::make_unique<stream::SpeedRole>(f->speed));
      rt.AddRole(std::make_unique<batch::BatchRole>(batch::BatchRoleOptions{}));
      serving::ServingRoleOptions serving;
      serving.views = (*catalog)->views();
      for (const auto& [name, t] : (*catalog)->topics()) serving.topics.push_back(t);
      serving.scheduler.interval_ms = f->batch_interval_ms;
      rt.AddRole(std::make_unique<serving::ServingRole>(std::move(serving)));
      *exit_code = rt.RunUntilSignal("braid up");
    });
  }
}

}  // namespace braid::cli
