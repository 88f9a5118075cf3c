// `braid batch run|status|versions|get|scan|rollback|swap`: the batch layer
// (src/batch) as commands.
//
//   braid batch run --data DIR --views FILE.yaml [--plugin P] [--view V]...
//                   [--cut latest] [--from T --to T] [--threads N] [--memory-mb N]
//       computes the views (all of the catalog's, or the --view ones) over
//       the archived records below the cut (default and "latest": every
//       partition's archived high-water mark) and publishes a new version of
//       each. Progress on stderr.
//   braid batch status|versions V|get V KEY|scan V|rollback V|swap V N --data DIR
//       read or change the views' versions.
//
// On a data directory that a running `braid up` holds, each command goes
// through that process's HTTP API (the lock file names its address):
// status, versions, get, scan, rollback and swap through /v1/batch/...;
// run through POST /v1/batch/run (the batch scheduler). Otherwise the
// command takes the data directory's lock and opens the stores itself.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "batch/api.h"
#include "batch/batch_layer.h"
#include "batch/progress.h"
#include "cli/batch_sources.h"
#include "cli/cli.h"
#include "http/client.h"
#include "runtime/data_dir.h"

namespace braid::cli {

namespace {

struct BatchCmdOptions {
  std::string data_dir;
  ViewSourceFlags sources;
  std::vector<std::string> views;
  std::string cut = "latest";
  std::string from, to;
  int threads = 2;
  uint64_t memory_mb = 256;
  bool no_publish = false;
  bool json = false;
  // get / scan / versions / rollback / swap
  std::string view;
  std::string key;
  std::string granularity;
  std::string time;
  std::string prefix;
  std::string version;
  uint64_t limit = 100;
  uint64_t swap_version = 0;
};

int Report(const char* what, const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "braid batch %s: %s\n", what, s.ToString().c_str());
  return 1;
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

// Runs one batch API call: through the HTTP API of the process that holds
// the data directory, or on the stores directly.
Result<std::string> CallApi(const std::string& data_dir, const std::string& method,
                            const std::string& path,
                            const std::map<std::string, std::string>& query) {
  if (data_dir.empty()) return Status::InvalidArgument("--data is required");
  ASSIGN_OR_RETURN(auto owner, runtime::FindDataDirOwner(data_dir));
  if (owner.has_value()) {
    if (owner->http.empty()) {
      return Status::FailedPrecondition("data directory " + data_dir +
                                        " is in use by braid process " +
                                        std::to_string(owner->pid) + ", which serves no HTTP API");
    }
    std::string url = http::UrlOf(owner->http) + path;
    char sep = '?';
    for (const auto& [k, v] : query) {
      url += sep + UrlEncode(k) + "=" + UrlEncode(v);
      sep = '&';
    }
    ASSIGN_OR_RETURN(http::HttpClientResponse r, http::HttpRequest(method, url, "", ""));
    if (r.status != 200) {
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      const std::string msg =
          j.is_object() && j.contains("message") ? j["message"].get<std::string>() : r.body;
      return Status(r.status == 404   ? StatusCode::kNotFound
                    : r.status == 400 ? StatusCode::kInvalidArgument
                    : r.status == 409 ? StatusCode::kFailedPrecondition
                                      : StatusCode::kUnavailable,
                    "braid process " + std::to_string(owner->pid) + " answered " +
                        std::to_string(r.status) + ": " + msg);
    }
    return r.body;
  }
  ASSIGN_OR_RETURN(auto lock, runtime::DataDirLock::Acquire(data_dir));
  batch::BatchOptions bo;
  bo.data_dir = data_dir;
  ASSIGN_OR_RETURN(auto layer, batch::BatchLayer::Open(bo));
  batch::BatchApi api;
  api.layer = layer.get();
  return api.Handle(method, path, query);
}

void PrintCells(const nlohmann::json& cells) {
  for (const auto& c : cells) {
    std::printf("%s\t%s\t%s\t%s\n", c.value("key", "").c_str(), c.value("granularity", "").c_str(),
                c.value("bucket", "").c_str(),
                c["value"].is_null() ? ("base64:" + c.value("value_base64", "")).c_str()
                                     : c["value"].dump().c_str());
  }
}

Status PrintAnswer(const std::string& what, const std::string& body, bool json) {
  if (json) {
    std::printf("%s\n", body.c_str());
    return Status::OK();
  }
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::Corruption("malformed answer");
  if (what == "status") {
    std::printf("running: %s   runs: %llu (failed %llu)\n",
                j.value("running", false) ? "yes" : "no",
                static_cast<unsigned long long>(j.value("runs", uint64_t{0})),
                static_cast<unsigned long long>(j.value("failed_runs", uint64_t{0})));
    if (j.contains("current")) {
      const auto& c = j["current"];
      std::printf("current: %s %s, %llu/%llu splits, %.2f M rec/s, spilled %s, ETA %.0f s\n",
                  c.value("job", "").c_str(), c.value("phase", "").c_str(),
                  static_cast<unsigned long long>(c.value("splits_done", uint64_t{0})),
                  static_cast<unsigned long long>(c.value("splits_total", uint64_t{0})),
                  c.value("records_per_s", 0.0) / 1e6,
                  batch::FormatBytes(c.value("spilled_bytes", uint64_t{0})).c_str(),
                  c.value("eta_s", -1.0));
    }
    if (!j.value("last_error", "").empty()) {
      std::printf("last error: %s\n", j.value("last_error", "").c_str());
    }
    std::printf("\n%-32s %8s %8s %12s\n", "VIEW", "LIVE", "VERSIONS", "CELLS");
    for (const auto& v : j["views"]) {
      std::printf("%-32s %8s %8llu %12llu\n", v.value("view", "").c_str(),
                  v["live"].is_null() ? "-" : std::to_string(v["live"].get<uint64_t>()).c_str(),
                  static_cast<unsigned long long>(v.value("versions", uint64_t{0})),
                  static_cast<unsigned long long>(v.value("cells", uint64_t{0})));
    }
  } else if (what == "versions") {
    std::printf("%-8s %-5s %-24s %12s %12s %10s  %s\n", "VERSION", "LIVE", "CREATED", "CELLS",
                "RECORDS", "BYTES", "CUT");
    for (const auto& v : j["versions"]) {
      std::printf("%-8llu %-5s %-24s %12llu %12llu %10s  %s\n",
                  static_cast<unsigned long long>(v.value("version", uint64_t{0})),
                  v.value("live", false) ? "live" : "",
                  batch::FormatTime(v.value("created_ms", int64_t{0})).c_str(),
                  static_cast<unsigned long long>(v.value("cells", uint64_t{0})),
                  static_cast<unsigned long long>(v.value("records", uint64_t{0})),
                  batch::FormatBytes(v.value("bytes", uint64_t{0})).c_str(),
                  v["cuts"].dump().c_str());
    }
  } else if (what == "get") {
    if (!j.value("found", false)) return Status::NotFound("no such cell");
    PrintCells(nlohmann::json::array({j["cell"]}));
  } else if (what == "scan") {
    PrintCells(j["cells"]);
    if (j.value("more", false)) std::fprintf(stderr, "(more: raise --limit)\n");
  } else {
    std::printf("%s: live version %llu\n", j.value("view", "").c_str(),
                static_cast<unsigned long long>(j.value("live", uint64_t{0})));
  }
  return Status::OK();
}

Status ApiCmd(const BatchCmdOptions& o, const std::string& what) {
  std::map<std::string, std::string> q;
  std::string method = "GET", path;
  if (what == "status") {
    path = "/v1/batch/status";
  } else if (what == "versions") {
    path = "/v1/batch/views/" + o.view + "/versions";
  } else if (what == "get") {
    path = "/v1/batch/views/" + o.view + "/get";
    q["key"] = o.key;
    if (!o.granularity.empty()) q["granularity"] = o.granularity;
    if (!o.time.empty()) q["time"] = o.time;
  } else if (what == "scan") {
    path = "/v1/batch/views/" + o.view + "/scan";
    if (!o.prefix.empty()) q["prefix"] = o.prefix;
    if (!o.granularity.empty()) q["granularity"] = o.granularity;
    if (!o.from.empty()) q["from"] = o.from;
    if (!o.to.empty()) q["to"] = o.to;
    q["limit"] = std::to_string(o.limit);
  } else if (what == "rollback") {
    method = "POST";
    path = "/v1/batch/views/" + o.view + "/rollback";
  } else if (what == "swap") {
    method = "POST";
    path = "/v1/batch/views/" + o.view + "/swap";
    q["version"] = std::to_string(o.swap_version);
  }
  if (!o.version.empty() && (what == "get" || what == "scan")) q["version"] = o.version;
  ASSIGN_OR_RETURN(std::string body, CallApi(o.data_dir, method, path, q));
  return PrintAnswer(what, body, o.json);
}

Result<log::Cut> ParseCutFlag(const std::string& s) {
  log::Cut cut;
  size_t i = 0;
  while (i < s.size()) {
    const size_t comma = s.find(',', i);
    const std::string part =
        s.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    const size_t colon = part.find(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("--cut: expected latest or PARTITION:OFFSET,...");
    }
    try {
      cut.offsets[PartitionId(std::stoi(part.substr(0, colon)))] =
          Offset(std::stoll(part.substr(colon + 1)));
    } catch (const std::exception&) {
      return Status::InvalidArgument("--cut: bad \"" + part + "\"");
    }
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return cut;
}

Status RunCmd(const BatchCmdOptions& o) {
  if (o.data_dir.empty()) return Status::InvalidArgument("--data is required");
  ASSIGN_OR_RETURN(auto owner, runtime::FindDataDirOwner(o.data_dir));
  if (owner.has_value()) {
    // The running process's batch scheduler runs it.
    if (owner->http.empty()) {
      return Status::FailedPrecondition("data directory " + o.data_dir +
                                        " is in use by a braid process that serves no HTTP API");
    }
    nlohmann::json body;
    body["views"] = o.views;
    body["cut"] = o.cut;
    body["wait"] = true;
    ASSIGN_OR_RETURN(http::HttpClientResponse r,
                     http::HttpRequest("POST", http::UrlOf(owner->http) + "/v1/batch/run",
                                       body.dump(), "application/json", 3'600'000));
    if (r.status != 200) {
      return Status::Unavailable("braid process " + std::to_string(owner->pid) + " answered " +
                                 std::to_string(r.status) + ": " + r.body);
    }
    std::printf("%s\n", r.body.c_str());
    return Status::OK();
  }
  ASSIGN_OR_RETURN(auto catalog, LoadViewSources(o.sources));
  batch::RunRequest req;
  if (o.views.empty()) {
    req.views = catalog->views();
  } else {
    for (const std::string& name : o.views) {
      auto v = catalog->Find(name);
      if (v == nullptr) return Status::NotFound("no view named " + name);
      req.views.push_back(v);
    }
  }
  if (req.views.empty()) return Status::InvalidArgument("no views (give --views FILE or --plugin)");
  if (o.cut != "latest") {
    ASSIGN_OR_RETURN(log::Cut cut, ParseCutFlag(o.cut));
    for (const auto& v : req.views) req.cuts[v->topic()] = cut;
  }
  if (!o.from.empty() || !o.to.empty()) {
    archive::TimeRange t;
    if (!o.from.empty()) {
      ASSIGN_OR_RETURN(t.from_ms, batch::ParseTime(o.from));
    }
    if (!o.to.empty()) {
      ASSIGN_OR_RETURN(t.to_ms, batch::ParseTime(o.to));
    }
    req.time = t;
  }
  req.publish = !o.no_publish;
  auto progress = std::make_shared<batch::TerminalProgress>(stderr);
  req.progress = [progress](const batch::JobStatus& s) { progress->Update(s); };
  ASSIGN_OR_RETURN(auto lock, runtime::DataDirLock::Acquire(o.data_dir));
  batch::BatchOptions bo;
  bo.data_dir = o.data_dir;
  bo.threads = o.threads;
  bo.memory_budget = o.memory_mb << 20;
  ASSIGN_OR_RETURN(auto layer, batch::BatchLayer::Open(bo));
  ASSIGN_OR_RETURN(batch::RunResult r, layer->Run(req));
  if (o.json) {
    nlohmann::ordered_json j;
    j["views"] = nlohmann::ordered_json::array();
    for (const auto& v : r.views) {
      auto m = nlohmann::ordered_json::parse(batch::VersionManifestJson(v.manifest));
      m["published"] = v.published;
      j["views"].push_back(m);
    }
    j["jobs"] = nlohmann::ordered_json::array();
    for (const auto& job : r.jobs)
      j["jobs"].push_back(nlohmann::ordered_json::parse(batch::JobStatusJson(job)));
    std::printf("%s\n", j.dump().c_str());
    return Status::OK();
  }
  for (const auto& v : r.views) {
    std::printf("%s: version %llu%s, %llu cells from %llu records (%llu map errors), cut %s\n",
                v.view.c_str(), static_cast<unsigned long long>(v.version),
                v.published ? " (live)" : "", static_cast<unsigned long long>(v.manifest.cells),
                static_cast<unsigned long long>(v.manifest.records),
                static_cast<unsigned long long>(v.manifest.map_errors),
                v.manifest.cuts.begin() == v.manifest.cuts.end()
                    ? "{}"
                    : v.manifest.cuts.begin()->second.ToString().c_str());
  }
  return Status::OK();
}

}  // namespace

void AddBatchCommands(CLI::App* root, int* exit_code) {
  CLI::App* batch =
      root->add_subcommand("batch", "Batch views: run, status, versions, get, scan, rollback");
  batch->require_subcommand(1);
  auto o = std::make_shared<BatchCmdOptions>();

  CLI::App* run = batch->add_subcommand("run", "Compute views over the master dataset");
  run->add_option("--data", o->data_dir, "Data directory")->required();
  AddViewSourceFlags(run, &o->sources);
  run->add_option("--view", o->views, "Only these views (repeatable; default: all)");
  run->add_option("--cut", o->cut,
                  "latest (the archived high-water marks) or PARTITION:OFFSET,... (every view's "
                  "topic)")
      ->capture_default_str();
  run->add_option("--from", o->from, "Only events at or after this time (ms or ISO-8601)");
  run->add_option("--to", o->to, "Only events before this time (ms or ISO-8601)");
  run->add_option("--threads", o->threads, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  run->add_option("--memory-mb", o->memory_mb, "Memory budget of the engine (MiB)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  run->add_flag("--no-publish", o->no_publish, "Build the versions without making them live");
  run->add_flag("--json", o->json, "Print the result as JSON");
  run->callback([o, exit_code] { *exit_code = Report("run", RunCmd(*o)); });

  CLI::App* status = batch->add_subcommand("status", "Running job, last run, views");
  status->add_option("--data", o->data_dir, "Data directory")->required();
  status->add_flag("--json", o->json, "Print JSON");
  status->callback([o, exit_code] { *exit_code = Report("status", ApiCmd(*o, "status")); });

  CLI::App* versions = batch->add_subcommand("versions", "The versions of a view");
  versions->add_option("view", o->view, "View")->required();
  versions->add_option("--data", o->data_dir, "Data directory")->required();
  versions->add_flag("--json", o->json, "Print JSON");
  versions->callback([o, exit_code] { *exit_code = Report("versions", ApiCmd(*o, "versions")); });

  CLI::App* get = batch->add_subcommand("get", "One cell of a view's live (or given) version");
  get->add_option("view", o->view, "View")->required();
  get->add_option("key", o->key, "View key")->required();
  get->add_option("--data", o->data_dir, "Data directory")->required();
  get->add_option("--granularity", o->granularity, "hour|day|week|month|all (default all)");
  get->add_option("--time", o->time, "A time in the bucket (ms or ISO-8601)");
  get->add_option("--version", o->version, "Version (default: the live one)");
  get->add_flag("--json", o->json, "Print JSON");
  get->callback([o, exit_code] { *exit_code = Report("get", ApiCmd(*o, "get")); });

  CLI::App* scan = batch->add_subcommand("scan", "Cells of a view in key order");
  scan->add_option("view", o->view, "View")->required();
  scan->add_option("--data", o->data_dir, "Data directory")->required();
  scan->add_option("--prefix", o->prefix, "Only keys starting with this");
  scan->add_option("--granularity", o->granularity, "Only this granularity");
  scan->add_option("--from", o->from, "Only buckets starting at or after (ms or ISO-8601)");
  scan->add_option("--to", o->to, "Only buckets starting before (ms or ISO-8601)");
  scan->add_option("--limit", o->limit, "At most this many cells")->capture_default_str();
  scan->add_option("--version", o->version, "Version (default: the live one)");
  scan->add_flag("--json", o->json, "Print JSON");
  scan->callback([o, exit_code] { *exit_code = Report("scan", ApiCmd(*o, "scan")); });

  CLI::App* rollback = batch->add_subcommand("rollback", "Make the previous version live");
  rollback->add_option("view", o->view, "View")->required();
  rollback->add_option("--data", o->data_dir, "Data directory")->required();
  rollback->callback([o, exit_code] { *exit_code = Report("rollback", ApiCmd(*o, "rollback")); });

  CLI::App* swap = batch->add_subcommand("swap", "Make a kept version live");
  swap->add_option("view", o->view, "View")->required();
  swap->add_option("version", o->swap_version, "Version")->required();
  swap->add_option("--data", o->data_dir, "Data directory")->required();
  swap->callback([o, exit_code] { *exit_code = Report("swap", ApiCmd(*o, "swap")); });
}

}  // namespace braid::cli
