// `braid archive run|status|verify`: the master dataset archiver
// (src/archive) as a command.
//
//   braid archive run --data DIR [--root DIR] [--once] ...
//       archives the topics of <DIR>/log into <root> (default <DIR>/archive)
//       until SIGINT/SIGTERM (or, with --once, up to the current end of
//       every partition). It locks the data directory: `braid up` runs the
//       archiver itself, so `archive run` on its data dir is refused.
//   braid archive run --kafka HOST:PORT --topic T... --registry URL --root DIR
//       the same from any Kafka cluster (librdkafka).
//   braid archive status --data DIR [--root DIR]
//       per partition: archived high-water mark, log end, lag in records and
//       seconds; files and bytes per topic. Beside a live process that holds
//       DIR, asks its HTTP API (GET /v1/archive/status).
//   braid archive verify [--data DIR] [--root DIR]
//       checks every manifest and file (exit code 1 on any problem).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/archiver.h"
#include "archive/archiver_role.h"
#include "archive/verify.h"
#include "cli/cli.h"
#include "http/client.h"
#include "io/file_system.h"
#include "log/log.h"
#include "runtime/runtime.h"

namespace braid::cli {

namespace {

struct ArchiveCmdOptions {
  std::string data_dir;
  std::string root;  // default <data>/archive
  bool once = false;
  std::string codec = "zstandard";
  int64_t roll_ms = 60'000;
  uint64_t roll_bytes = uint64_t{128} << 20;
  int64_t roll_records = 10'000'000;
  int threads = 2;
  std::vector<std::string> topics;
  std::string registry_url;  // empty: the embedded registry of <data>/log
  std::string kafka;         // bootstrap servers: read from Kafka, not <data>/log
  std::string time_field;    // --kafka: event-time field
  bool no_consolidate = false;
  bool json = false;
};

std::string Root(const ArchiveCmdOptions& o) {
  return o.root.empty() ? io::JoinPath(o.data_dir, "archive") : o.root;
}

int Report(const char* what, const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "braid archive %s: %s\n", what, s.ToString().c_str());
  return 1;
}

archive::ArchiverRoleOptions RoleOptions(const ArchiveCmdOptions& o) {
  archive::ArchiverRoleOptions r;
  archive::ArchiverOptions& ao = r.archiver;
  ao.root = Root(o);
  ao.codec = o.codec;
  ao.roll_interval_ms = o.roll_ms;
  ao.roll_bytes = o.roll_bytes;
  ao.roll_records = o.roll_records;
  ao.threads = o.threads;
  ao.topics = o.topics;
  ao.consolidate = !o.no_consolidate;
  ao.kafka_bootstrap = o.kafka;
  ao.kafka_time_field = o.time_field;
  r.registry_url = o.registry_url;
  return r;
}

// The runtime of an archive command: it locks --data (or, reading from
// Kafka, the dataset root).
runtime::RuntimeOptions RuntimeFor(const ArchiveCmdOptions& o) {
  runtime::RuntimeOptions ro;
  ro.data_dir = o.kafka.empty() ? o.data_dir : Root(o);
  return ro;
}

Status RunCmd(const ArchiveCmdOptions& o, int* exit_code) {
  if (o.data_dir.empty() && o.root.empty()) {
    return Status::InvalidArgument("--data or --root is required");
  }
  if (!o.kafka.empty() && (o.topics.empty() || o.registry_url.empty())) {
    return Status::InvalidArgument("--kafka needs --topic and --registry");
  }
  if (o.kafka.empty() && o.data_dir.empty()) return Status::InvalidArgument("--data is required");
  const archive::ArchiverRoleOptions ro = RoleOptions(o);
  runtime::Runtime rt(RuntimeFor(o));
  if (!o.once) {
    rt.AddRole(std::make_unique<archive::ArchiverRole>(ro));
    *exit_code = rt.RunUntilSignal("braid archive run");
    return Status::OK();
  }
  RETURN_IF_ERROR(rt.Start());
  log::Log* log = nullptr;
  if (o.kafka.empty()) {
    ASSIGN_OR_RETURN(log, rt.GetLog());
  }
  std::unique_ptr<registry::Registry> own_registry;
  ASSIGN_OR_RETURN(auto schemas, archive::ArchiverRole::MakeSchemaSource(
                                     &rt, o.registry_url, !o.kafka.empty(), &own_registry));
  archive::Archiver archiver(log, schemas.get(), ro.archiver);
  RETURN_IF_ERROR(archiver.RunOnce());
  if (ro.archiver.consolidate) RETURN_IF_ERROR(archiver.ConsolidateOnce().status());
  const archive::ArchiverStats s = archiver.stats();
  std::printf(
      "records %llu  files %llu  bytes %llu  envelope %llu  dead letters %llu  consolidations "
      "%llu\n",
      static_cast<unsigned long long>(s.records_archived),
      static_cast<unsigned long long>(s.files_written),
      static_cast<unsigned long long>(s.bytes_archived),
      static_cast<unsigned long long>(s.envelope_records),
      static_cast<unsigned long long>(s.dead_letter_records),
      static_cast<unsigned long long>(s.consolidations));
  RETURN_IF_ERROR(rt.Stop());
  if (s.paused) return Status::Unavailable("archiver paused: " + s.last_error);
  return Status::OK();
}

// Beside a live process holding --data, asks its HTTP API; otherwise takes
// the data directory's lock and reads it.
Result<nlohmann::json> StatusJson(const ArchiveCmdOptions& o) {
  if (!o.data_dir.empty()) {
    ASSIGN_OR_RETURN(auto owner, runtime::FindDataDirOwner(o.data_dir));
    if (owner.has_value()) {
      if (owner->http.empty()) {
        return Status::FailedPrecondition(
            "data directory " + o.data_dir + " is in use by braid process " +
            std::to_string(owner->pid) + ", which serves no HTTP API");
      }
      ASSIGN_OR_RETURN(
          http::HttpClientResponse r,
          http::HttpRequest("GET", http::UrlOf(owner->http) + "/v1/archive/status", "", ""));
      if (r.status != 200) {
        return Status::Unavailable("braid process " + std::to_string(owner->pid) + " answered " +
                                   std::to_string(r.status) + ": " + r.body);
      }
      return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    }
  }
  runtime::Runtime rt(RuntimeFor(o));
  if (!o.data_dir.empty()) RETURN_IF_ERROR(rt.Start());
  archive::DatasetOptions d;
  d.root = Root(o);
  d.read_only = true;
  ASSIGN_OR_RETURN(auto dataset, archive::Dataset::Open(d));
  log::Log* log = nullptr;
  if (!o.data_dir.empty() && io::DefaultFileSystem()->FileExists(io::JoinPath(o.data_dir, "log"))) {
    ASSIGN_OR_RETURN(log, rt.GetLog());
  }
  ASSIGN_OR_RETURN(std::string json, archive::ArchiveStatusJson(dataset.get(), log));
  RETURN_IF_ERROR(rt.Stop());
  return nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
}

Status StatusCmd(const ArchiveCmdOptions& o) {
  ASSIGN_OR_RETURN(nlohmann::json j, StatusJson(o));
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("malformed status answer");
  std::printf("%-24s %5s %12s %12s %12s %10s\n", "TOPIC", "PART", "ARCHIVED", "LOG-END",
              "LAG-RECORDS", "LAG-SEC");
  for (const auto& l : j.value("partitions", nlohmann::json::array())) {
    std::printf(
        "%-24s %5d %12lld %12lld %12lld %10.1f\n", l.value("topic", "").c_str(),
        l.value("partition", 0), static_cast<long long>(l.value("archived_hwm", int64_t{0})),
        static_cast<long long>(l.value("log_end", int64_t{0})),
        static_cast<long long>(l.value("lag_records", int64_t{0})), l.value("lag_seconds", 0.0));
  }
  std::printf("\n%-24s %8s %8s %14s %12s %s\n", "TOPIC", "ARCHIVED", "FILES", "BYTES", "RECORDS",
              "DEAD-LETTERS");
  for (const auto& t : j.value("topics", nlohmann::json::array())) {
    std::printf("%-24s %8s %8llu %14llu %12lld %lld\n", t.value("topic", "").c_str(),
                t.value("archived", false) ? "yes" : "no",
                static_cast<unsigned long long>(t.value("files", uint64_t{0})),
                static_cast<unsigned long long>(t.value("bytes", uint64_t{0})),
                static_cast<long long>(t.value("records", int64_t{0})),
                static_cast<long long>(t.value("dead_letters", int64_t{0})));
  }
  return Status::OK();
}

Status VerifyCmd(const ArchiveCmdOptions& o, int* exit_code) {
  if (o.data_dir.empty() && o.root.empty()) {
    return Status::InvalidArgument("--data or --root is required");
  }
  ASSIGN_OR_RETURN(archive::VerifyReport r,
                   archive::VerifyDataset(io::DefaultFileSystem(), Root(o)));
  for (const std::string& p : r.problems) std::printf("PROBLEM %s\n", p.c_str());
  std::printf("%s: %llu topics, %llu files, %llu records, %llu bytes, %zu problems\n",
              r.ok() ? "OK" : "FAILED", static_cast<unsigned long long>(r.topics),
              static_cast<unsigned long long>(r.files), static_cast<unsigned long long>(r.records),
              static_cast<unsigned long long>(r.bytes), r.problems.size());
  *exit_code = r.ok() ? 0 : 1;
  return Status::OK();
}

}  // namespace

void AddArchiveCommands(CLI::App* root, int* exit_code) {
  CLI::App* archive = root->add_subcommand("archive", "Master dataset: archive, status, verify");
  archive->require_subcommand(1);
  auto o = std::make_shared<ArchiveCmdOptions>();

  CLI::App* run = archive->add_subcommand("run", "Archive the log's topics into the dataset");
  run->add_option("--data", o->data_dir, "Data directory (its log is <data>/log)");
  run->add_option("--root", o->root, "Dataset root (default <data>/archive)");
  run->add_flag("--once", o->once, "Archive what the log holds now, then exit");
  run->add_option("--codec", o->codec, "Avro codec")->capture_default_str();
  run->add_option("--roll-ms", o->roll_ms, "Close files after this many ms")->capture_default_str();
  run->add_option("--roll-bytes", o->roll_bytes, "Close files at this size")->capture_default_str();
  run->add_option("--roll-records", o->roll_records, "Close files after this many records")
      ->capture_default_str();
  run->add_option("--threads", o->threads, "Worker threads")->capture_default_str();
  run->add_option("--topic", o->topics, "Archive only these topics (repeatable)");
  run->add_option("--registry", o->registry_url,
                  "Schema registry URL (default: the embedded registry of the log)");
  run->add_option("--kafka", o->kafka,
                  "Read --topic topics from this Kafka cluster (bootstrap servers) instead of "
                  "<data>/log; needs --registry");
  run->add_option("--time-field", o->time_field,
                  "With --kafka: the event-time field (default: record timestamps)");
  run->add_flag("--no-consolidate", o->no_consolidate, "Do not consolidate small files");
  run->callback([o, exit_code] {
    int code = 0;
    Status s = RunCmd(*o, &code);
    *exit_code = s.ok() ? code : Report("run", s);
  });

  CLI::App* status = archive->add_subcommand("status", "Archive lag, files and bytes");
  status->add_option("--data", o->data_dir, "Data directory")->required();
  status->add_option("--root", o->root, "Dataset root (default <data>/archive)");
  status->callback([o, exit_code] { *exit_code = Report("status", StatusCmd(*o)); });

  CLI::App* verify = archive->add_subcommand("verify", "Check every manifest and file");
  verify->add_option("--data", o->data_dir, "Data directory");
  verify->add_option("--root", o->root, "Dataset root (default <data>/archive)");
  verify->callback([o, exit_code] {
    int code = 0;
    Status s = VerifyCmd(*o, &code);
    *exit_code = s.ok() ? code : Report("verify", s);
  });
}

}  // namespace braid::cli
