// Append and read throughput of braid::log on the POSIX file system.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/coding.h"
#include "base/crc.h"
#include "io/file_system.h"
#include "log/log.h"

namespace braid::log {
namespace {

// One uncompressed batch of one record with a value of `value_size` bytes.
std::string Batch(size_t value_size) {
  std::string rec;
  rec.push_back(0);
  coding::PutZigZag64(&rec, 0);
  coding::PutZigZag64(&rec, 0);
  coding::PutZigZag64(&rec, -1);
  coding::PutZigZag64(&rec, static_cast<int64_t>(value_size));
  rec.append(value_size, 'v');
  coding::PutZigZag64(&rec, 0);
  std::string body;
  coding::PutZigZag64(&body, static_cast<int64_t>(rec.size()));
  body += rec;
  std::string b;
  coding::PutBigEndian64(&b, 0);
  coding::PutBigEndian32(&b, static_cast<uint32_t>(49 + body.size()));
  coding::PutBigEndian32(&b, 0);
  b.push_back(2);
  coding::PutBigEndian32(&b, 0);
  coding::PutBigEndian16(&b, 0);
  coding::PutBigEndian32(&b, 0);
  coding::PutBigEndian64(&b, 1'700'000'000'000);
  coding::PutBigEndian64(&b, 1'700'000'000'000);
  coding::PutBigEndian64(&b, static_cast<uint64_t>(-1));
  coding::PutBigEndian16(&b, static_cast<uint16_t>(-1));
  coding::PutBigEndian32(&b, static_cast<uint32_t>(-1));
  coding::PutBigEndian32(&b, 1);
  b += body;
  coding::EncodeBigEndian32(b.data() + 17, Crc32c(std::string_view(b).substr(21)));
  return b;
}

std::string FreshDir() {
  const char* base = std::getenv("BRAID_BENCH_DIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/braid_log_bench_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

void RunAppend(benchmark::State& state, bool fsync) {
  std::string dir = FreshDir();
  LogOptions o;
  o.fsync_every_append = fsync;
  auto log = Log::Open(dir + "/log", o);
  if (!log.ok()) {
    state.SkipWithError(log.status().ToString().c_str());
    return;
  }
  (*log)->CreateTopic("bench", 1).IgnoreError();
  auto p = *(*log)->GetPartition("bench", PartitionId(0));
  std::string batch = Batch(static_cast<size_t>(state.range(0)) - 70);
  for (auto _ : state) {
    auto r = p->Append(batch);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["fsyncs"] = static_cast<double>((*log)->fsync_count());
  log->reset();
  io::DefaultFileSystem()->DeleteDirRecursive(dir).IgnoreError();
}

void BM_Append(benchmark::State& state) { RunAppend(state, false); }
void BM_AppendFsync(benchmark::State& state) { RunAppend(state, true); }

// Several producers appending to one partition with an fsync per append:
// measures group commit (one fsync shared by the appends waiting for it).
std::unique_ptr<Log> g_log;
std::string g_dir;
void BM_AppendFsyncConcurrent(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_dir = FreshDir();
    LogOptions o;
    o.fsync_every_append = true;
    g_log = std::move(Log::Open(g_dir + "/log", o).value());
    g_log->CreateTopic("bench", 1).IgnoreError();
  }
  std::string batch = Batch(static_cast<size_t>(state.range(0)) - 70);
  for (auto _ : state) {
    auto p = *g_log->GetPartition("bench", PartitionId(0));
    auto r = p->Append(batch);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.thread_index() == 0) {
    state.counters["fsyncs"] = static_cast<double>(g_log->fsync_count());
    g_log.reset();
    io::DefaultFileSystem()->DeleteDirRecursive(g_dir).IgnoreError();
  }
}

void BM_ReadCopy(benchmark::State& state) {
  std::string dir = FreshDir();
  auto log = Log::Open(dir + "/log", {});
  (*log)->CreateTopic("bench", 1).IgnoreError();
  auto p = *(*log)->GetPartition("bench", PartitionId(0));
  std::string batch = Batch(1024 - 70);
  for (int i = 0; i < 20000; ++i) p->Append(batch).status().IgnoreError();
  int64_t at = 0;
  std::string buf;
  for (auto _ : state) {
    auto r = p->Read(Offset(at), 1 << 20);
    buf.clear();
    r->slice.AppendTo(&buf).IgnoreError();
    at = r->slice.next_offset.value();
    if (at >= p->log_end_offset().value()) at = 0;
    benchmark::DoNotOptimize(buf.data());
    state.SetBytesProcessed(state.bytes_processed() + static_cast<int64_t>(buf.size()));
  }
  log->reset();
  io::DefaultFileSystem()->DeleteDirRecursive(dir).IgnoreError();
}

BENCHMARK(BM_Append)->Arg(1024)->Arg(16384)->UseRealTime();
BENCHMARK(BM_AppendFsync)->Arg(1024)->Iterations(1000)->UseRealTime();
BENCHMARK(BM_AppendFsyncConcurrent)->Arg(1024)->Threads(8)->Iterations(250)->UseRealTime();
BENCHMARK(BM_ReadCopy)->UseRealTime();

}  // namespace
}  // namespace braid::log

BENCHMARK_MAIN();
