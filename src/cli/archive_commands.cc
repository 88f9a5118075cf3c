// `braid archive run|status|verify`: the master dataset archiver
// (src/archive) as a command.
//
//   braid archive run --data DIR [--root DIR] [--once] ...
//       archives the topics of <DIR>/log into <root> (default <DIR>/archive)
//       until SIGINT/SIGTERM (or, with --once, up to the current end of
//       every partition). Do not run it on a data dir that a running braid
//       broker owns: `braid up` runs the archiver itself.
//   braid archive run --kafka HOST:PORT --topic T... --registry URL --root DIR
//       the same from any Kafka cluster (librdkafka).
//   braid archive status --data DIR [--root DIR]
//       per partition: archived high-water mark, log end, lag in records and
//       seconds; files and bytes per topic.
//   braid archive verify [--data DIR] [--root DIR]
//       checks every manifest and file (exit code 1 on any problem).
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "archive/archiver.h"
#include "archive/registry_schema_source.h"
#include "archive/verify.h"
#include "cli/cli.h"
#include "io/file_system.h"
#include "log/log.h"
#include "registry/service.h"

namespace braid::cli {

namespace {

struct ArchiveCmdOptions {
  std::string data_dir;
  std::string root;  // default <data>/archive
  bool once = false;
  std::string codec = "deflate";
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

Result<std::unique_ptr<log::Log>> OpenLog(const std::string& data_dir) {
  log::LogOptions lo;
  return log::Log::Open(io::JoinPath(data_dir, "log"), std::move(lo));
}

Status RunCmd(const ArchiveCmdOptions& o) {
  if (o.data_dir.empty() && o.root.empty()) {
    return Status::InvalidArgument("--data or --root is required");
  }
  if (!o.kafka.empty() && (o.topics.empty() || o.registry_url.empty())) {
    return Status::InvalidArgument("--kafka needs --topic and --registry");
  }
  std::unique_ptr<log::Log> log;
  if (o.kafka.empty()) {
    if (o.data_dir.empty()) return Status::InvalidArgument("--data is required");
    ASSIGN_OR_RETURN(log, OpenLog(o.data_dir));
  }
  std::unique_ptr<registry::Registry> reg;
  std::unique_ptr<archive::SchemaSource> schemas;
  if (!o.registry_url.empty()) {
    schemas = std::make_unique<archive::RestSchemaSource>(o.registry_url);
  } else {
    ASSIGN_OR_RETURN(reg, registry::OpenRegistryOnLog(log.get()));
    schemas = std::make_unique<archive::RegistrySchemaSource>(reg.get());
  }
  archive::ArchiverOptions ao;
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
  archive::Archiver archiver(log.get(), schemas.get(), ao);
  if (o.once) {
    RETURN_IF_ERROR(archiver.RunOnce());
    if (ao.consolidate) RETURN_IF_ERROR(archiver.ConsolidateOnce().status());
  } else {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    RETURN_IF_ERROR(archiver.Start());
    std::printf("braid: archiving %s into %s\n",
                o.kafka.empty() ? io::JoinPath(o.data_dir, "log").c_str() : o.kafka.c_str(),
                ao.root.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    archiver.Stop();
  }
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
  if (log) RETURN_IF_ERROR(log->Close());
  if (s.paused) return Status::Unavailable("archiver paused: " + s.last_error);
  return Status::OK();
}

Status StatusCmd(const ArchiveCmdOptions& o) {
  archive::DatasetOptions d;
  d.root = Root(o);
  d.read_only = true;
  ASSIGN_OR_RETURN(auto dataset, archive::Dataset::Open(d));
  ASSIGN_OR_RETURN(std::vector<std::string> topics, dataset->ListTopics());
  std::vector<archive::PartitionLag> lag;
  std::unique_ptr<log::Log> log;
  if (!o.data_dir.empty() && io::DefaultFileSystem()->FileExists(io::JoinPath(o.data_dir, "log"))) {
    ASSIGN_OR_RETURN(log, OpenLog(o.data_dir));
    ASSIGN_OR_RETURN(lag, archive::ComputeLag(dataset.get(), log.get()));
  }
  std::printf("%-24s %5s %12s %12s %12s %10s\n", "TOPIC", "PART", "ARCHIVED", "LOG-END",
              "LAG-RECORDS", "LAG-SEC");
  for (const auto& l : lag) {
    std::printf("%-24s %5d %12lld %12lld %12lld %10.1f\n", l.topic.c_str(), l.partition,
                static_cast<long long>(l.archived_hwm), static_cast<long long>(l.log_end),
                static_cast<long long>(l.lag_records), l.lag_seconds);
  }
  std::printf("\n%-24s %8s %8s %14s %12s %s\n", "TOPIC", "ARCHIVED", "FILES", "BYTES", "RECORDS",
              "DEAD-LETTERS");
  for (const std::string& t : topics) {
    ASSIGN_OR_RETURN(archive::ManifestLease m, dataset->Snapshot(t));
    uint64_t bytes = 0;
    int64_t records = 0, dead = 0;
    for (const auto& f : m->files) {
      bytes += f.bytes;
      records += f.records;
      if (f.kind == archive::FileKind::kDeadLetter) dead += f.records;
    }
    std::printf("%-24s %8s %8zu %14llu %12lld %lld\n", t.c_str(),
                m->archived.value_or(false) ? "yes" : "no", m->files.size(),
                static_cast<unsigned long long>(bytes), static_cast<long long>(records),
                static_cast<long long>(dead));
  }
  if (log) RETURN_IF_ERROR(log->Close());
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
  run->callback([o, exit_code] { *exit_code = Report("run", RunCmd(*o)); });

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
