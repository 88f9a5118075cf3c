// Archive throughput from braid::log to the master dataset on the POSIX file
// system, per codec, next to a plain sequential copy (read + write + fsync)
// of the same log bytes in the same directory.
//
// Workload: P partitions, N records in total, each value a Confluent-framed
// Avro record of about --value-bytes bytes (schema: id long, ts
// timestamp-millis, user string, page string, payload string of random
// lower-case letters), batches of
// 500 records, event times spread over 4 hours. The log is written and
// flushed first; each run archives it into a fresh dataset (RunOnce: every
// partition once, --threads threads) and fsyncs every file.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "archive/archiver.h"
#include "avro/binary.h"
#include "io/file_system.h"
#include "log/log.h"
#include "log/records.h"

namespace braid::archive {
namespace {

struct Flags {
  int64_t records = 2'000'000;
  int partitions = 4;
  int threads = 2;
  int value_bytes = 100;
  std::string dir;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Value(int64_t id, int64_t ts, int value_bytes) {
  std::string v(1, '\0');
  v.append("\0\0\0\1", 4);
  avro::Encoder e(&v);
  e.WriteLong(id);
  e.WriteLong(ts);
  e.WriteString("user-" + std::to_string(id % 10007));
  e.WriteString("/page/" + std::to_string(id % 101));
  const int pad = std::max(0, value_bytes - static_cast<int>(v.size()) - 1);
  // Pseudo-random lower-case letters: compressible like text, not like 'xxxx'.
  std::string payload(static_cast<size_t>(pad), 'a');
  uint64_t x = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull + 1;
  for (char& c : payload) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>('a' + x % 26);
  }
  e.WriteString(payload);
  return v;
}

// Sequential copy of every log segment file into `out_dir`, fsync at the end.
Result<uint64_t> CopyBytes(const std::string& log_dir, const std::string& out_dir) {
  io::FileSystem* fs = io::DefaultFileSystem();
  RETURN_IF_ERROR(fs->CreateDirs(out_dir));
  uint64_t total = 0;
  std::vector<char> buf(1 << 20);
  ASSIGN_OR_RETURN(auto dirs, fs->ListDir(log_dir));
  for (const std::string& d : dirs) {
    const std::string pd = io::JoinPath(log_dir, d);
    auto files = fs->ListDir(pd);
    if (!files.ok()) continue;
    for (const std::string& f : *files) {
      if (!f.ends_with(".log")) continue;
      const int in = ::open(io::JoinPath(pd, f).c_str(), O_RDONLY);
      const int out =
          ::open(io::JoinPath(out_dir, d + "-" + f).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0) return Status::IOError("open failed");
      for (;;) {
        const ssize_t n = ::read(in, buf.data(), buf.size());
        if (n <= 0) break;
        if (::write(out, buf.data(), static_cast<size_t>(n)) != n) {
          return Status::IOError("write failed");
        }
        total += static_cast<uint64_t>(n);
      }
      ::fsync(out);
      ::close(in);
      ::close(out);
    }
  }
  return total;
}

int Run(const Flags& f) {
  std::string base = f.dir;
  if (base.empty()) {
    const char* env = std::getenv("BRAID_BENCH_DIR");
    std::string tmpl = std::string(env != nullptr ? env : "/tmp") + "/braid_archive_bench_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return 1;
    base = tmpl;
  }
  io::FileSystem* fs = io::DefaultFileSystem();
  auto log = log::Log::Open(io::JoinPath(base, "log")).value();
  if (!log->CreateTopic("pageviews", f.partitions).ok()) return 1;
  MapSchemaSource schemas;
  schemas.Add(SchemaId(1), avro::ParseSchema(R"({"type": "record", "name": "PageView", "fields": [
      {"name": "id", "type": "long"},
      {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
      {"name": "user", "type": "string"}, {"name": "page", "type": "string"},
      {"name": "payload", "type": "string"}]})")
                               .value());
  const int64_t t0 = 1'700'000'000'000;
  uint64_t value_bytes = 0;
  const int64_t per_batch = 500;
  for (int64_t i = 0; i < f.records; i += per_batch) {
    log::BatchBuilder b;
    for (int64_t j = i; j < std::min(f.records, i + per_batch); ++j) {
      const int64_t ts = t0 + (j * 4 * 3'600'000) / f.records;
      std::string v = Value(j, ts, f.value_bytes);
      value_bytes += v.size();
      b.Add(ts, std::nullopt, v);
    }
    auto p = log->GetPartition("pageviews",
                               PartitionId(static_cast<int32_t>((i / per_batch) % f.partitions)))
                 .value();
    if (!p->Append(b.Build().value()).ok()) return 1;
  }
  if (!log->FlushAll().ok()) return 1;
  const uint64_t log_bytes = log->stats().size_bytes;
  std::printf(
      "workload: %lld records, %d partitions, %d threads, avg value %.1f bytes, log %.1f MB\n",
      static_cast<long long>(f.records), f.partitions, f.threads,
      double(value_bytes) / double(f.records), double(log_bytes) / 1e6);
  std::printf("%-14s %12s %10s %10s %12s\n", "run", "records/s", "log MB/s", "out MB", "seconds");
  for (int rep = 0; rep < 2; ++rep) {
    {
      const std::string out = io::JoinPath(base, "copy" + std::to_string(rep));
      const double s = Now();
      auto n = CopyBytes(io::JoinPath(base, "log"), out);
      const double secs = Now() - s;
      if (!n.ok()) return 1;
      std::printf("%-14s %12.0f %10.1f %10.1f %12.3f\n", "plain copy", double(f.records) / secs,
                  double(*n) / 1e6 / secs, double(*n) / 1e6, secs);
      fs->DeleteDirRecursive(out).IgnoreError();
    }
    for (const char* codec : {"null", "snappy", "deflate"}) {
      const std::string root = io::JoinPath(base, std::string("dataset-") + codec);
      ArchiverOptions o;
      o.root = root;
      o.codec = codec;
      o.threads = f.threads;
      o.consolidate = false;
      Archiver a(log.get(), &schemas, o);
      const double s = Now();
      Status st = a.RunOnce();
      const double secs = Now() - s;
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.ToString().c_str());
        return 1;
      }
      const ArchiverStats stats = a.stats();
      std::printf("%-14s %12.0f %10.1f %10.1f %12.3f\n", (std::string("archive ") + codec).c_str(),
                  double(stats.records_archived) / secs, double(log_bytes) / 1e6 / secs,
                  double(stats.bytes_archived) / 1e6, secs);
      fs->DeleteDirRecursive(root).IgnoreError();
    }
  }
  log->Close().IgnoreError();
  if (f.dir.empty()) fs->DeleteDirRecursive(base).IgnoreError();
  return 0;
}

}  // namespace
}  // namespace braid::archive

int main(int argc, char** argv) {
  braid::archive::Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--records")
      f.records = std::atoll(v);
    else if (k == "--partitions")
      f.partitions = std::atoi(v);
    else if (k == "--threads")
      f.threads = std::atoi(v);
    else if (k == "--value-bytes")
      f.value_bytes = std::atoi(v);
    else if (k == "--dir")
      f.dir = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  return braid::archive::Run(f);
}
