// The speed layer's two figures (docs/benchmarks.md "Speed layer"):
//
//   throughput  N PageView records are written to braid's log first (P
//               partitions, batches of 500, lz4); then a fresh speed layer
//               runs the count-per-(url, hour/day/week/month) view over them
//               and the time until every partition is consumed (cells and
//               offsets committed) gives events/s.
//   latency     the speed layer runs on an empty topic while a producer
//               thread appends batches at a fixed rate (--rate events/s,
//               batches every millisecond, round-robin over the partitions);
//               a reader thread reads the realtime store every --poll-us
//               microseconds (default 1000; SpeedLayer::ReadPoint: a RocksDB
//               snapshot, whose consumed offsets say which records it
//               reflects). An event's latency
//               is from just before its Append() call to the first read that
//               reflects it; percentiles over every event after a warm-up.
//
// The view is the one of SuperWebAnalytics' first query: count per url per
// hour, day, week and month. With --views FILE it comes from a view file
// (the first view on topic `pageviews`, or --view NAME), as `braid up` runs
// it (bench/speed/views.yaml); without, a hand-written views::ViewDefinition
// of the same view.
//
//   speed_bench throughput [--records N] [--partitions P] [--map-threads T]
//                          [--batch-records B] [--batch-delay-ms D] [--dir DIR]
//                          [--views FILE [--view NAME]]
//   speed_bench latency [--rate R] [--seconds S] [--partitions P] [--map-threads T]
//                       [--batch-delay-ms D] [--poll-us U] [--dir DIR]
//                       [--views FILE [--view NAME]]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "avro/binary.h"
#include "log/log.h"
#include "log/records.h"
#include "stream/speed_layer.h"
#include "views/catalog.h"
#include "views/monoid.h"

namespace braid::stream {
namespace {

using SteadyClock = std::chrono::steady_clock;

const char* kSchema = R"({"type": "record", "name": "PageView", "fields": [
  {"name": "url", "type": "string"},
  {"name": "user", "type": "string"},
  {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "ip", "type": "string"},
  {"name": "status", "type": "int"},
  {"name": "referrer", "type": ["null", "string"]}]})";

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01

struct Flags {
  std::string mode;
  int64_t records = 4'000'000;
  int partitions = 8;
  int map_threads = 2;
  int commit_threads = 1;
  size_t batch_records = 100'000;
  int batch_delay_ms = 10;
  int64_t rate = 100'000;
  int seconds = 20;
  int urls = 10'000;
  std::string dir;
  std::string views_file;
  std::string view_name;
  int poll_us = 1000;
};

class PageViewsByUrl final : public views::ViewDefinition {
 public:
  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return topic_; }
  const std::vector<views::Granularity>& granularities() const override { return grans_; }
  const views::Monoid& monoid() const override { return monoid_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  Status Map(const views::Event& e, std::vector<views::Emit>* out) const override {
    auto url = e.fields->GetString(0);
    auto t = e.fields->GetTimestampMillis(1);
    if (!url || !t) return Status::InvalidArgument("no url or timestamp");
    out->push_back({std::string(*url), *t, views::CountMonoid::One()});
    return Status::OK();
  }
  std::string Fingerprint() const override { return "bench/pageviews_by_url/1"; }

 private:
  std::string name_ = "pageviews_by_url", topic_ = "pageviews";
  std::vector<views::Granularity> grans_ = {views::Granularity::kHour, views::Granularity::kDay,
                                            views::Granularity::kWeek, views::Granularity::kMonth};
  views::CountMonoid monoid_;
  std::vector<std::string> paths_ = {"url", "timestamp"};
};

// Record i of the workload: urls log-uniform over --urls (a heavy head, a
// long tail, as web traffic), users uniform, event times over four hours
// (a speed layer's window) with a few minutes of disorder.
std::string PageView(uint64_t i, int urls) {
  std::string v(1, '\0');
  v.append("\0\0\0\1", 4);
  avro::Encoder e(&v);
  uint64_t x = i * 0x9E3779B97F4A7C15ull + 7;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  const double u = static_cast<double>(x % 1'000'000) / 1e6;
  const auto page = static_cast<uint64_t>(std::pow(static_cast<double>(urls), u)) - 1;
  std::string url = "http://example.com/page/";
  url += std::to_string(page);
  e.WriteString(url);
  std::string user = "user-";
  user += std::to_string((x >> 20) % 100'000);
  e.WriteString(user);
  const int64_t t =
      kT0 + static_cast<int64_t>(i % 4'000'000) * 3 - static_cast<int64_t>((x >> 40) % 300'000);
  e.WriteLong(t);
  e.WriteString("10.0.0.1");
  e.WriteInt(200);
  e.WriteUnionIndex(0);
  return v;
}

views::SchemaLookup Schemas() {
  avro::Schema s = std::move(avro::ParseSchema(kSchema)).value();
  return [s](SchemaId) -> Result<avro::Schema> { return s; };
}

// The view under test (see the file comment); exits on a bad view file.
std::shared_ptr<const views::ViewDefinition> BenchView(const Flags& f) {
  if (f.views_file.empty()) return std::make_shared<PageViewsByUrl>();
  views::CatalogSources sources;
  sources.view_files = {f.views_file};
  auto catalog = views::LoadCatalog(sources);
  if (!catalog.ok()) {
    std::fprintf(stderr, "%s: %s\n", f.views_file.c_str(), catalog.status().ToString().c_str());
    std::exit(2);
  }
  for (const auto& v : (*catalog)->views()) {
    if (v->topic() != "pageviews") continue;
    if (f.view_name.empty() || v->name() == f.view_name) return v;
  }
  std::fprintf(stderr, "%s: no view %s on topic pageviews\n", f.views_file.c_str(),
               f.view_name.c_str());
  std::exit(2);
}

std::string g_view_name;  // the view's name (set in main)

std::unique_ptr<SpeedLayer> StartSpeed(const Flags& f, log::Log* log, const std::string& dir) {
  SpeedLayerOptions o;
  o.dir = dir;
  o.log = log;
  o.views = {BenchView(f)};
  o.schemas = Schemas();
  o.topology.map_parallelism = f.map_threads;
  o.topology.commit_parallelism = f.commit_threads;
  o.topology.max_batch_records = f.batch_records;
  o.topology.max_batch_delay = std::chrono::milliseconds(f.batch_delay_ms);
  auto s = SpeedLayer::Open(std::move(o));
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.status().ToString().c_str());
    std::exit(1);
  }
  Status st = (*s)->Start();
  if (!st.ok()) {
    std::fprintf(stderr, "start: %s\n", st.ToString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

int64_t Consumed(SpeedLayer* s) {
  int64_t n = 0;
  const log::Cut c = *s->Consumed(g_view_name);
  for (const auto& [p, o] : c.offsets) n += o.value();
  return n;
}

int Throughput(const Flags& f) {
  const std::string logdir = f.dir + "/log";
  auto log = std::move(log::Log::Open(logdir)).value();
  if (!log->HasTopic("pageviews") ||
      (*log->GetPartition("pageviews", PartitionId(0)))->high_watermark().value() == 0) {
    if (!log->HasTopic("pageviews") && !log->CreateTopic("pageviews", f.partitions).ok()) return 1;
    std::fprintf(stderr, "writing %lld records...\n", static_cast<long long>(f.records));
    for (int64_t i = 0; i < f.records;) {
      log::BatchBuilderOptions bo;
      bo.compression = log::Compression::kLz4;
      log::BatchBuilder b(bo);
      const int p = static_cast<int>((i / 500) % f.partitions);
      for (int j = 0; j < 500 && i < f.records; ++j, ++i) {
        b.Add(kT0, std::nullopt, PageView(static_cast<uint64_t>(i), f.urls));
      }
      auto bytes = b.Build();
      if (!(*log->GetPartition("pageviews", PartitionId(p)))->Append(*bytes).ok()) return 1;
    }
    if (!log->FlushAll().ok()) return 1;
  }
  int64_t total = 0;
  for (int p = 0; p < f.partitions; ++p) {
    total += (*log->GetPartition("pageviews", PartitionId(p)))->high_watermark().value();
  }
  const std::string rt = f.dir + "/realtime";
  std::filesystem::remove_all(rt);
  const auto start = SteadyClock::now();
  auto speed = StartSpeed(f, log.get(), rt);
  while (Consumed(speed.get()) < total) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  // Check: the month cells of every url sum to the number of records.
  auto all = speed->ReadRange(g_view_name, "", "", {});
  uint64_t month = 0;
  size_t cells = 0;
  for (const Cell& c : all->cells) {
    ++cells;
    if (c.granularity == views::Granularity::kMonth) month += *views::CountMonoid::Decode(c.value);
  }
  std::fprintf(stderr, "%s\n", speed->StatusJson().c_str());
  speed.reset();
  std::printf(
      "{\"mode\":\"throughput\",\"records\":%lld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
      "\"cells\":%zu,\"month_sum\":%llu,\"exact\":%s}\n",
      static_cast<long long>(total), secs, static_cast<double>(total) / secs, cells,
      static_cast<unsigned long long>(month),
      month == static_cast<uint64_t>(total) ? "true" : "false");
  return month == static_cast<uint64_t>(total) ? 0 : 1;
}

int Latency(const Flags& f) {
  std::filesystem::remove_all(f.dir);
  auto log = std::move(log::Log::Open(f.dir + "/log")).value();
  if (!log->CreateTopic("pageviews", f.partitions).ok()) return 1;
  auto speed = StartSpeed(f, log.get(), f.dir + "/realtime");
  std::vector<std::shared_ptr<log::Partition>> parts;
  for (int p = 0; p < f.partitions; ++p)
    parts.push_back(*log->GetPartition("pageviews", PartitionId(p)));

  // Per partition: (last offset of a batch + 1, its produce time, events).
  struct Sent {
    int64_t end;
    SteadyClock::time_point at;
    int n;
  };
  std::mutex mu;
  std::vector<std::vector<Sent>> sent(static_cast<size_t>(f.partitions));
  std::vector<size_t> seen(static_cast<size_t>(f.partitions), 0);
  std::vector<double> lat_ms;  // one entry per event
  std::atomic<bool> done{false};
  const auto start = SteadyClock::now();
  const auto warmup = start + std::chrono::seconds(2);
  const auto end = start + std::chrono::seconds(f.seconds);

  std::thread producer([&] {
    uint64_t i = 0;
    int p = 0;
    const int64_t per_ms = std::max<int64_t>(1, f.rate / 1000);
    auto next = SteadyClock::now();
    while (SteadyClock::now() < end) {
      log::BatchBuilder b;
      for (int64_t j = 0; j < per_ms; ++j) b.Add(kT0, std::nullopt, PageView(i++, f.urls));
      auto bytes = b.Build();
      const auto at = SteadyClock::now();
      auto r = parts[static_cast<size_t>(p)]->Append(*bytes);
      if (!r.ok()) std::abort();
      {
        std::lock_guard<std::mutex> lock(mu);
        sent[static_cast<size_t>(p)].push_back(
            {r->last_offset.value() + 1, at, static_cast<int>(per_ms)});
      }
      p = (p + 1) % f.partitions;
      next += std::chrono::milliseconds(1);
      std::this_thread::sleep_until(next);
    }
    done = true;
  });
  std::thread reader([&] {
    int64_t reads = 0;
    for (;;) {
      auto a = speed->ReadPoint(g_view_name, "probe", views::Granularity::kHour, kT0, {});
      ++reads;
      const auto now = SteadyClock::now();
      std::lock_guard<std::mutex> lock(mu);
      bool all_seen = true;
      for (int p = 0; p < f.partitions; ++p) {
        const int64_t consumed = a->consumed.at(PartitionId(p)).value();
        auto& v = sent[static_cast<size_t>(p)];
        size_t& k = seen[static_cast<size_t>(p)];
        while (k < v.size() && v[k].end <= consumed) {
          if (v[k].at >= warmup) {
            const double ms = std::chrono::duration<double, std::milli>(now - v[k].at).count();
            for (int e = 0; e < v[k].n; ++e) lat_ms.push_back(ms);
          }
          ++k;
        }
        if (k < v.size()) all_seen = false;
      }
      if (done && all_seen) break;
      // Poll, do not spin: on 2 cores a spinning reader takes a core from
      // the pipeline it measures. The poll interval bounds the error.
      std::this_thread::sleep_for(std::chrono::microseconds(f.poll_us));
    }
    std::fprintf(stderr, "reads: %lld\n", static_cast<long long>(reads));
  });
  producer.join();
  reader.join();
  speed.reset();
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double q) {
    return lat_ms.empty()
               ? 0.0
               : lat_ms[std::min(lat_ms.size() - 1,
                                 static_cast<size_t>(q * static_cast<double>(lat_ms.size())))];
  };
  std::printf(
      "{\"mode\":\"latency\",\"rate\":%lld,\"events\":%zu,\"p50_ms\":%.2f,\"p90_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"p999_ms\":%.2f,\"max_ms\":%.2f,\"poll_us\":%d}\n",
      static_cast<long long>(f.rate), lat_ms.size(), pct(0.5), pct(0.9), pct(0.99), pct(0.999),
      lat_ms.empty() ? 0.0 : lat_ms.back(), f.poll_us);
  return 0;
}

}  // namespace
}  // namespace braid::stream

int main(int argc, char** argv) {
  braid::stream::Flags f;
  if (argc < 2) {
    std::fprintf(stderr, "usage: speed_bench throughput|latency [flags]\n");
    return 2;
  }
  f.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--records")
      f.records = std::atoll(v);
    else if (k == "--partitions")
      f.partitions = std::atoi(v);
    else if (k == "--map-threads")
      f.map_threads = std::atoi(v);
    else if (k == "--commit-threads")
      f.commit_threads = std::atoi(v);
    else if (k == "--batch-records")
      f.batch_records = static_cast<size_t>(std::atoll(v));
    else if (k == "--batch-delay-ms")
      f.batch_delay_ms = std::atoi(v);
    else if (k == "--rate")
      f.rate = std::atoll(v);
    else if (k == "--seconds")
      f.seconds = std::atoi(v);
    else if (k == "--urls")
      f.urls = std::atoi(v);
    else if (k == "--dir")
      f.dir = v;
    else if (k == "--views")
      f.views_file = v;
    else if (k == "--view")
      f.view_name = v;
    else if (k == "--poll-us")
      f.poll_us = std::atoi(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (f.dir.empty()) f.dir = "/tmp/braid-speed-bench-" + std::to_string(::getpid());
  braid::stream::g_view_name = braid::stream::BenchView(f)->name();
  if (f.mode == "throughput") return braid::stream::Throughput(f);
  if (f.mode == "latency") return braid::stream::Latency(f);
  std::fprintf(stderr, "unknown mode %s\n", f.mode.c_str());
  return 2;
}
