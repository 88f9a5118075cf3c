// `braid speed run|status|seal`: the speed layer (src/stream) as a command.
//
//   braid speed run --data DIR --views FILE [--plugin P]...
//       runs the speed role alone on DIR: the views of the view files and
//       plugins (and the plugins' raw topologies) over DIR/log in this
//       process, realtime views in DIR/realtime, until SIGINT/SIGTERM. It
//       locks DIR: on a directory `braid up` runs on, `braid up` runs the
//       speed layer itself.
//   braid speed run --data DIR --kafka BOOTSTRAP --registry URL --views FILE ...
//       the same from any Kafka cluster, in consumer group --group (default
//       braid-speed): several processes of one group share the partitions,
//       each keeps its partitions' state in its own DIR/realtime.
//   braid speed status --data DIR [--json]
//   braid speed seal --data DIR
//       ask the process that holds DIR (braid up or braid speed run) over its
//       HTTP API (GET /v1/speed/status, POST /v1/speed/seal).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "http/client.h"
#include "runtime/data_dir.h"
#include "runtime/runtime.h"
#include "stream/speed_role.h"
#include "views/catalog.h"

namespace braid::cli {

namespace {

struct SpeedCmdOptions {
  std::string data_dir;
  std::vector<std::string> view_files;
  std::vector<std::string> plugins;
  std::string kafka;
  std::string group = "braid-speed";
  std::vector<std::string> kafka_config;  // key=value
  std::string registry_url;
  std::string http_listen = "127.0.0.1:0";
  std::string dead_letter_topic = "braid-speed-dead-letters";
  size_t batch_records = 100'000;
  size_t batch_bytes = size_t{8} << 20;
  int64_t batch_delay_ms = 10;
  int map_threads = 2;
  int commit_threads = 1;
  bool json = false;
  HttpTlsFlags http_tls;
  runtime::RuntimeOptions runtime;  // --http-auth
  std::vector<std::string> http_open_paths;
};

int Report(const char* what, const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "braid speed %s: %s\n", what, s.ToString().c_str());
  return 1;
}

Status RunCmd(const SpeedCmdOptions& o, int* exit_code) {
  if (o.view_files.empty() && o.plugins.empty()) {
    return Status::InvalidArgument("no views: give --views FILE or --plugin PATH");
  }
  if (!o.kafka.empty() && o.registry_url.empty()) {
    return Status::InvalidArgument("--kafka needs --registry URL (to resolve schema ids)");
  }
  views::CatalogSources sources;
  sources.view_files = o.view_files;
  sources.plugins = o.plugins;
  ASSIGN_OR_RETURN(std::shared_ptr<const views::Catalog> catalog, views::LoadCatalog(sources));
  stream::SpeedRoleOptions ro;
  ro.speed.views = catalog->views();
  for (const auto& t : catalog->topologies()) ro.speed.topologies.push_back(*t);
  ro.speed.kafka.bootstrap = o.kafka;
  ro.speed.kafka.group = o.group;
  for (const std::string& kv : o.kafka_config) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--kafka-config wants KEY=VALUE, got \"" + kv + "\"");
    }
    ro.speed.kafka.config[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  ro.speed.dead_letter_topic = o.dead_letter_topic;
  ro.speed.topology.max_batch_records = o.batch_records;
  ro.speed.topology.max_batch_bytes = o.batch_bytes;
  ro.speed.topology.max_batch_delay = std::chrono::milliseconds(o.batch_delay_ms);
  ro.speed.topology.map_parallelism = o.map_threads;
  ro.speed.topology.commit_parallelism = o.commit_threads;
  ro.registry_url = o.registry_url;
  runtime::RuntimeOptions rto = o.runtime;
  FinishHttpAuthOptions(&rto, o.http_open_paths, {});
  rto.data_dir = o.data_dir;
  rto.http_listen = o.http_listen;
  ASSIGN_OR_RETURN(rto.http_tls, ResolveHttpTls(o.http_tls));
  runtime::Runtime rt(rto);
  rt.AddRole(std::make_unique<stream::SpeedRole>(std::move(ro)));
  *exit_code = rt.RunUntilSignal("braid speed run");
  return Status::OK();
}

// The HTTP address of the process holding `dir`.
Result<std::string> OwnerHttp(const std::string& dir) {
  ASSIGN_OR_RETURN(auto owner, runtime::FindDataDirOwner(dir));
  if (!owner.has_value()) {
    return Status::FailedPrecondition("no braid process runs on data directory " + dir +
                                      " (start braid up or braid speed run)");
  }
  if (owner->http.empty()) {
    return Status::FailedPrecondition("braid process " + std::to_string(owner->pid) + " on " + dir +
                                      " serves no HTTP API");
  }
  return owner->http;
}

Result<nlohmann::json> Ask(const std::string& dir, const char* method, const char* path) {
  ASSIGN_OR_RETURN(std::string http, OwnerHttp(dir));
  ASSIGN_OR_RETURN(http::HttpClientResponse r,
                   http::HttpRequest(method, http::UrlOf(http) + path, "", ""));
  if (r.status != 200) {
    return Status::Unavailable(std::string(path) + " answered " + std::to_string(r.status) + ": " +
                               r.body);
  }
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(std::string(path) + ": malformed answer");
  return j;
}

std::string CutText(const nlohmann::json& cut) {
  std::string s = "{";
  for (const auto& [p, o] : cut.items()) {
    if (s.size() > 1) s += ",";
    s += p + ":" + o.dump();
  }
  return s + "}";
}

Status StatusCmd(const SpeedCmdOptions& o) {
  ASSIGN_OR_RETURN(nlohmann::json j, Ask(o.data_dir, "GET", "/v1/speed/status"));
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return Status::OK();
  }
  std::printf("source %s  current generation %llu\n", j.value("source", "").c_str(),
              static_cast<unsigned long long>(j.value("current_generation", uint64_t{0})));
  std::printf("\n%-28s %-20s %-10s %s\n", "VIEW", "TOPIC", "MONOID", "CONSUMED");
  const nlohmann::json views = j.value("views", nlohmann::json::array());
  for (const auto& v : views) {
    std::printf("%-28s %-20s %-10s %s\n", v.value("name", "").c_str(), v.value("topic", "").c_str(),
                v.value("monoid", "").c_str(),
                CutText(v.value("consumed", nlohmann::json::object())).c_str());
  }
  std::printf("\n%-6s %-7s %s\n", "GEN", "SEALED", "END (per view)");
  const nlohmann::json gens = j.value("generations", nlohmann::json::array());
  for (const auto& g : gens) {
    std::string ends;
    const nlohmann::json end = g.value("end", nlohmann::json::object());
    for (const auto& [v, c] : end.items()) {
      ends += v + "=" + CutText(c) + " ";
    }
    std::printf("%-6llu %-7s %s\n", static_cast<unsigned long long>(g.value("id", uint64_t{0})),
                g.value("sealed", false) ? "yes" : "open", ends.c_str());
  }
  const auto c = j.value("counters", nlohmann::json::object());
  std::printf("\nrecords read %llu  mapped %llu  dead letters %llu  lost %llu  commits %llu\n",
              static_cast<unsigned long long>(c.value("records_read", uint64_t{0})),
              static_cast<unsigned long long>(c.value("records_mapped", uint64_t{0})),
              static_cast<unsigned long long>(c.value("dead_letters", uint64_t{0})),
              static_cast<unsigned long long>(c.value("records_lost", uint64_t{0})),
              static_cast<unsigned long long>(c.value("commits", uint64_t{0})));
  if (!j.value("last_error", "").empty()) {
    std::printf("last error: %s\n", j.value("last_error", "").c_str());
  }
  return Status::OK();
}

Status SealCmd(const SpeedCmdOptions& o) {
  ASSIGN_OR_RETURN(nlohmann::json j, Ask(o.data_dir, "POST", "/v1/speed/seal"));
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return Status::OK();
  }
  std::printf("sealed generation %llu\n",
              static_cast<unsigned long long>(j.value("generation", uint64_t{0})));
  const nlohmann::json cuts = j.value("cuts", nlohmann::json::object());
  for (const auto& [v, c] : cuts.items()) {
    std::printf("  %s %s\n", v.c_str(), CutText(c).c_str());
  }
  return Status::OK();
}

}  // namespace

void AddSpeedCommands(CLI::App* root, int* exit_code) {
  CLI::App* speed = root->add_subcommand("speed", "The speed layer: realtime views");
  speed->require_subcommand(1);
  auto o = std::make_shared<SpeedCmdOptions>();

  CLI::App* run = speed->add_subcommand("run", "Run the speed layer alone on a data directory");
  run->add_option("--data", o->data_dir, "Data directory (realtime views in <data>/realtime)")
      ->required();
  run->add_option("--views", o->view_files, "View file (YAML; repeatable)");
  run->add_option("--plugin", o->plugins, "Plugin shared library (repeatable)");
  run->add_option("--kafka", o->kafka,
                  "Read from this Kafka cluster (bootstrap servers) instead of <data>/log");
  run->add_option("--group", o->group, "Consumer group of --kafka")->capture_default_str();
  run->add_option("--kafka-config", o->kafka_config,
                  "Extra librdkafka consumer property KEY=VALUE (repeatable)");
  run->add_option("--registry", o->registry_url,
                  "Schema registry URL (default: the registry of <data>/log)");
  run->add_option("--http-listen", o->http_listen,
                  "HOST:PORT of the HTTP API (port 0: any; `braid speed status` finds it)")
      ->capture_default_str();
  AddHttpTlsOptions(run, &o->http_tls);
  AddHttpAuthOptions(run, &o->runtime, &o->http_open_paths);
  run->add_option("--dead-letter-topic", o->dead_letter_topic,
                  "Topic for undecodable records (empty: none)")
      ->capture_default_str();
  run->add_option("--batch-records", o->batch_records, "Records per micro-batch at most")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  run->add_option("--batch-bytes", o->batch_bytes, "Record bytes per micro-batch at most")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1} << 10, size_t{1} << 30));
  run->add_option("--batch-delay-ms", o->batch_delay_ms,
                  "A micro-batch waits at most this long for more records")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}));
  run->add_option("--map-threads", o->map_threads, "Map tasks")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  run->add_option("--commit-threads", o->commit_threads, "Commit tasks")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  run->callback([o, exit_code] {
    int code = 0;
    Status s = RunCmd(*o, &code);
    *exit_code = s.ok() ? code : Report("run", s);
  });

  CLI::App* status = speed->add_subcommand("status", "Views, offsets and generations");
  status->add_option("--data", o->data_dir, "Data directory")->required();
  status->add_flag("--json", o->json, "Print the JSON status");
  status->callback([o, exit_code] { *exit_code = Report("status", StatusCmd(*o)); });

  CLI::App* seal = speed->add_subcommand("seal", "Seal the current realtime generation");
  seal->add_option("--data", o->data_dir, "Data directory")->required();
  seal->add_flag("--json", o->json, "Print the JSON answer");
  seal->callback([o, exit_code] { *exit_code = Report("seal", SealCmd(*o)); });
}

}  // namespace braid::cli
