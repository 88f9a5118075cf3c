// Data for the batch benchmark (bench/batch/run.sh, docs/benchmarks.md
// "Batch views"): N PageView events, Confluent-framed Avro, written to a
// braid log of P partitions and archived by the real archiver
// (archive::Archiver::RunOnce) once per codec into <dir>/data-<codec>/archive,
// so that `braid batch run --data <dir>/data-<codec>` reads them; and the
// same events as CSV (url,user,ts_ms) for the DuckDB peer.
//
// PageView {url: string, user: string, timestamp: timestamp-millis, ip:
// string, status: int, referrer: ["null", "string"]} (the schema of
// bench/avro_decode); urls: 10,000 pages with a Zipf(1.0)-like popularity,
// users: 1,000,000, event times spread evenly over January 2024 (744
// hours) in production order with ±5 minutes of jitter and 1% of events up
// to two days late, archived by event time (braid.archive.time.field =
// timestamp).
//
//   batch_bench_gen --dir DIR [--events 10000000] [--partitions 4]
//                   [--codecs null,snappy,zstandard,deflate]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "archive/archiver.h"
#include "avro/binary.h"
#include "base/coding.h"
#include "io/file_system.h"
#include "log/log.h"
#include "log/records.h"

namespace braid {
namespace {

const char* kSchema = R"({"type": "record", "name": "PageView", "namespace": "bench",
  "fields": [{"name": "url", "type": "string"}, {"name": "user", "type": "string"},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "ip", "type": "string"}, {"name": "status", "type": "int"},
    {"name": "referrer", "type": ["null", "string"]}]})";

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Run(const std::string& dir, int64_t events, int partitions,
        const std::vector<std::string>& codecs) {
  io::FileSystem* fs = io::DefaultFileSystem();
  if (!fs->CreateDirs(dir).ok()) return 1;
  const std::string log_dir = io::JoinPath(dir, "log");
  fs->DeleteDirRecursive(log_dir).IgnoreError();
  auto log = log::Log::Open(log_dir).value();
  if (!log->CreateTopic("pageviews", partitions, {{"braid.archive.time.field", "timestamp"}})
           .ok()) {
    return 1;
  }
  // Zipf(1.0) over 10,000 pages by inverse CDF.
  constexpr int kPages = 10'000;
  std::vector<double> cdf(kPages);
  double sum = 0;
  for (int i = 0; i < kPages; ++i) cdf[i] = (sum += 1.0 / (i + 1));
  for (double& c : cdf) c /= sum;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uni(0, 1);
  const int64_t t0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
  const int64_t span = 31LL * 86'400'000;
  std::FILE* csv = std::fopen(io::JoinPath(dir, "events.csv").c_str(), "w");
  if (csv == nullptr) return 1;
  std::fprintf(csv, "url,user,ts_ms\n");
  const double start = Now();
  std::vector<log::BatchBuilder> builders(static_cast<size_t>(partitions));
  std::vector<int> counts(static_cast<size_t>(partitions), 0);
  std::string v, url, user, ip;
  for (int64_t i = 0; i < events; ++i) {
    const int page =
        static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), uni(rng)) - cdf.begin());
    url = "http://example.com/page/" + std::to_string(page);
    user = "user-" + std::to_string(rng() % 1'000'000);
    int64_t ts = t0 + span * i / events + static_cast<int64_t>(rng() % 600'000) - 300'000;
    if (rng() % 100 == 0) ts -= static_cast<int64_t>(rng() % (2 * 86'400'000));
    ts = std::max(t0, ts);
    ip = "10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + ".1";
    v.assign(1, '\0');
    coding::PutBigEndian32(&v, 1);
    avro::Encoder e(&v);
    e.WriteString(url);
    e.WriteString(user);
    e.WriteLong(ts);
    e.WriteString(ip);
    e.WriteInt(rng() % 10 == 0 ? 404 : 200);
    if (rng() % 3 == 0) {
      e.WriteLong(0);
    } else {
      e.WriteLong(1);
      e.WriteString("http://search.example.org/?q=" + std::to_string(rng() % 1000));
    }
    std::fprintf(csv, "%s,%s,%lld\n", url.c_str(), user.c_str(), static_cast<long long>(ts));
    const size_t p = static_cast<size_t>(i % partitions);
    builders[p].Add(ts, std::nullopt, v);
    if (++counts[p] == 1000) {
      auto part = log->GetPartition("pageviews", PartitionId(static_cast<int32_t>(p))).value();
      if (!part->Append(builders[p].Build().value()).ok()) return 1;
      builders[p] = log::BatchBuilder();
      counts[p] = 0;
    }
  }
  for (size_t p = 0; p < builders.size(); ++p) {
    if (counts[p] == 0) continue;
    auto part = log->GetPartition("pageviews", PartitionId(static_cast<int32_t>(p))).value();
    if (!part->Append(builders[p].Build().value()).ok()) return 1;
  }
  std::fclose(csv);
  if (!log->FlushAll().ok()) return 1;
  std::printf("generated %lld events in %.1f s (log %.1f MB)\n", static_cast<long long>(events),
              Now() - start, double(log->stats().size_bytes) / 1e6);
  archive::MapSchemaSource schemas;
  schemas.Add(SchemaId(1), avro::ParseSchema(kSchema).value());
  for (const std::string& codec : codecs) {
    const std::string root = io::JoinPath(io::JoinPath(dir, "data-" + codec), "archive");
    fs->DeleteDirRecursive(io::JoinPath(dir, "data-" + codec)).IgnoreError();
    archive::ArchiverOptions o;
    o.root = root;
    o.codec = codec;
    o.threads = 2;
    o.consolidate = false;
    archive::Archiver a(log.get(), &schemas, o);
    const double s = Now();
    if (Status st = a.RunOnce(); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    const archive::ArchiverStats stats = a.stats();
    std::printf("archived %s: %llu records, %llu files, %llu bytes in %.1f s\n", codec.c_str(),
                static_cast<unsigned long long>(stats.records_archived),
                static_cast<unsigned long long>(stats.files_written),
                static_cast<unsigned long long>(stats.bytes_archived), Now() - s);
  }
  log->Close().IgnoreError();
  fs->DeleteDirRecursive(log_dir).IgnoreError();
  return 0;
}

}  // namespace
}  // namespace braid

int main(int argc, char** argv) {
  std::string dir;
  int64_t events = 10'000'000;
  int partitions = 4;
  std::string codecs = "null,snappy,zstandard,deflate";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--dir") {
      dir = argv[i + 1];
    } else if (k == "--events") {
      events = std::atoll(argv[i + 1]);
    } else if (k == "--partitions") {
      partitions = std::atoi(argv[i + 1]);
    } else if (k == "--codecs") {
      codecs = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "--dir is required\n");
    return 2;
  }
  std::vector<std::string> list;
  for (size_t i = 0; i <= codecs.size();) {
    const size_t c = std::min(codecs.find(',', i), codecs.size());
    list.push_back(codecs.substr(i, c - i));
    i = c + 1;
  }
  return braid::Run(dir, events, partitions, list);
}
