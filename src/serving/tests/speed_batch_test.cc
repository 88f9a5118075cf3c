// The same view definitions in the speed layer and in the batch layer over
// the same records give the same cells, byte for byte (issue 12): random
// events (late ones, hour/day/ISO-week/month/year boundaries, leap days) are
// appended to a log; the speed layer (stream::SpeedLayer, micro-batches per
// partition merged in RocksDB) consumes them, the archiver files them into a
// master dataset and the batch layer (batch::BatchLayer, MapReduce) builds
// the views at the archived cut; every realtime cell (merged over source
// partitions and generations) equals the batch cell of the same key and
// bucket, and there are no cells in one that the other lacks. The views
// come from one view file: counts, HyperLogLog, integer sums, min and max,
// and a tuple of these (the monoids docs/views.md calls exact: associative
// and commutative bit for bit). Property: several seeds, event counts,
// micro-batch sizes and partition counts.
//
// Lives in serving/ because it is the one module that may include both
// layers (scripts/check-layers.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "archive/archiver.h"
#include "archive/dataset.h"
#include "archive/schema_source.h"
#include "avro/binary.h"
#include "base/coding.h"
#include "batch/batch_layer.h"
#include "io/memory_file_system.h"
#include "log/log.h"
#include "log/records.h"
#include "stream/speed_layer.h"
#include "views/cell_key.h"
#include "views/view_file.h"

namespace braid::serving {
namespace {

using namespace std::chrono_literals;
namespace chr = std::chrono;

const char* kSchema = R"({"type": "record", "name": "PageView", "namespace": "t", "fields": [
    {"name": "url", "type": "string"}, {"name": "user", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "bytes", "type": "long"}]})";

const char* kViews = R"(
views:
  - name: hits
    topic: pv
    key: url
    time: ts
    granularities: [hour, day, week, month, all]
    aggregate: count
  - name: users
    topic: pv
    key: normalize_url(url)
    time: ts
    granularities: [day, month]
    aggregate: hll(p=10)
    value: user
  - name: bytes
    topic: pv
    key: user
    time: ts
    granularities: [week, all]
    aggregate: sum_int64
    value: bytes
  - name: first_seen
    topic: pv
    key: user
    time: ts
    granularities: [month]
    aggregate: min_int64
    value: ts
  - name: biggest
    topic: pv
    key: url
    time: ts
    granularities: [day]
    aggregate: max_int64
    value: bytes
  - name: domains
    topic: pv
    key: domain(url)
    time: ts
    granularities: [hour, week, month, all]
    aggregate:
      type: tuple
      fields: {visits: count, people: hll(p=8), first: min_int64, most: max_int64}
    value: {people: user, first: ts, most: bytes}
)";

struct Event {
  std::string url, user;
  int64_t ts = 0;
  int64_t bytes = 0;
};

int64_t Ms(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int ms = 0) {
  const chr::sys_days day = chr::year(y) / chr::month(m) / chr::day(d);
  return chr::duration_cast<chr::milliseconds>(day.time_since_epoch()).count() +
         ((hh * 60 + mm) * 60 + ss) * 1000LL + ms;
}

// Events in a few event hours (the archive keeps one file per event hour per
// partition): boundaries and leap days, and random ones on the first and last
// hour of days from mid-January to March 2024, in random (late) order.
std::vector<Event> Events(int n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<int64_t> boundaries = {Ms(2024, 2, 28, 23, 59, 59, 999),
                                           Ms(2024, 2, 29),
                                           Ms(2024, 2, 29, 23, 59, 59, 999),
                                           Ms(2024, 3, 1),
                                           Ms(2024, 3, 3, 23, 59, 59, 999),
                                           Ms(2024, 3, 4),  // Sunday → Monday
                                           Ms(2024, 12, 29, 23, 59, 59, 999),
                                           Ms(2024, 12, 30),  // ISO week 1 of 2025
                                           Ms(2024, 12, 31, 23, 59, 59, 999),
                                           Ms(2025, 1, 1),
                                           Ms(2020, 2, 29, 6),
                                           Ms(1970, 1, 1)};
  const std::vector<std::string> urls = {"http://a.com/x", "HTTP://A.com:80/x",  "http://a.com/y",
                                         "https://b.org/", "http://b.org/p?q=1", "/rel"};
  std::vector<Event> out;
  for (int i = 0; i < n; ++i) {
    Event e;
    e.url = urls[rng() % urls.size()];
    if (rng() % 3 == 0) e.url = "http://c.net/" + std::to_string(rng() % 40);
    e.user = "u" + std::to_string(rng() % 200);
    if (rng() % 10 == 0) {
      e.ts = boundaries[rng() % boundaries.size()];
    } else {
      e.ts = Ms(2024, 1, 15) + static_cast<int64_t>(rng() % 65) * 86'400'000 +
             (rng() % 2 == 0 ? 0 : 23 * 3'600'000) + static_cast<int64_t>(rng() % 3'600'000);
    }
    e.bytes = static_cast<int64_t>(rng() % (uint64_t{1} << 40)) - (int64_t{1} << 39);
    out.push_back(std::move(e));
  }
  return out;
}

std::string Value(const Event& e) {
  std::string v(1, '\0');
  coding::PutBigEndian32(&v, 1);
  avro::Encoder enc(&v);
  enc.WriteString(e.url);
  enc.WriteString(e.user);
  enc.WriteLong(e.ts);
  enc.WriteLong(e.bytes);
  return v;
}

struct Case {
  uint32_t seed;
  int events;
  int partitions;
  size_t batch_records;  // the speed layer's micro-batch bound
};

class SpeedBatchTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("serving_speed_batch_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(GetParam().seed)))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    log::LogOptions lo;
    lo.fs = &mem_;
    log_ = log::Log::Open("/log", lo).value();
    ASSERT_TRUE(
        log_->CreateTopic("pv", GetParam().partitions, {{"braid.archive.time.field", "ts"}}).ok());
    schema_ = avro::ParseSchema(kSchema).value();
    schemas_.Add(SchemaId(1), schema_);
    auto file = views::ParseViewFile(kViews, "views.yaml");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    for (const auto& e : file->views) views_.push_back(e.view);
  }
  void TearDown() override {
    speed_.reset();
    layer_.reset();
    dataset_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Appends in batches of random sizes to random partitions.
  void Produce(const std::vector<Event>& events, std::mt19937* rng) {
    size_t i = 0;
    while (i < events.size()) {
      const int p = static_cast<int>((*rng)() % static_cast<uint32_t>(GetParam().partitions));
      const size_t n = 1 + (*rng)() % 300;
      log::BatchBuilder b;
      for (size_t j = 0; j < n && i < events.size(); ++j, ++i) {
        b.Add(events[i].ts, std::nullopt, Value(events[i]));
      }
      auto part = log_->GetPartition("pv", PartitionId(p)).value();
      ASSERT_TRUE(part->Append(b.Build().value()).ok());
    }
  }

  void StartSpeed() {
    stream::SpeedLayerOptions o;
    o.dir = dir_ + "/realtime";
    o.log = log_.get();
    o.views = views_;
    avro::Schema s = schema_;
    o.schemas = [s](SchemaId id) -> Result<avro::Schema> {
      if (id.value() != 1) return Status::NotFound("no schema");
      return s;
    };
    o.sync_seal = false;
    o.dead_letter_topic = "";
    o.topology.max_batch_records = GetParam().batch_records;
    o.topology.max_batch_delay = 2ms;
    auto sp = stream::SpeedLayer::Open(std::move(o));
    ASSERT_TRUE(sp.ok()) << sp.status().ToString();
    speed_ = std::move(*sp);
    ASSERT_TRUE(speed_->Start().ok());
  }

  log::Cut HighWatermarks() {
    log::Cut c;
    for (int p = 0; p < GetParam().partitions; ++p) {
      const Offset hw = (*log_->GetPartition("pv", PartitionId(p)))->high_watermark();
      if (hw.value() > 0) c.offsets[PartitionId(p)] = hw;
    }
    return c;
  }

  void WaitCaughtUp() {
    const log::Cut hw = HighWatermarks();
    for (const auto& v : views_) {
      auto consumed = [&] {
        log::Cut c = *speed_->Consumed(v->name());
        std::erase_if(c.offsets, [](const auto& kv) { return kv.second.value() == 0; });
        return c;
      };
      const auto deadline = chr::steady_clock::now() + 60s;
      while (!(consumed() == hw) && chr::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
      }
      ASSERT_EQ(consumed(), hw) << v->name() << ": " << consumed().ToString() << " vs "
                                << hw.ToString();
    }
  }

  void RunBatch() {
    archive::ArchiverOptions ao;
    ao.fs = &mem_;
    ao.root = "/archive";
    ao.codec = "null";
    ao.consolidate = false;
    archive::Archiver a(log_.get(), &schemas_, ao);
    ASSERT_TRUE(a.RunOnce().ok());
    archive::DatasetOptions d;
    d.fs = &mem_;
    d.root = "/archive";
    d.read_only = true;
    dataset_ = archive::Dataset::Open(d).value();
    batch::BatchOptions bo;
    bo.data_dir = dir_ + "/batch";
    bo.dataset = dataset_.get();
    auto l = batch::BatchLayer::Open(bo);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    layer_ = std::move(*l);
    batch::RunRequest req;
    req.views = views_;
    auto r = layer_->Run(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->views.size(), views_.size());
    for (const auto& v : r->views) {
      log::Cut cut = v.manifest.cuts.at("pv");  // empty partitions at 0
      std::erase_if(cut.offsets, [](const auto& kv) { return kv.second.value() == 0; });
      EXPECT_EQ(cut, HighWatermarks()) << v.view << ": " << cut.ToString();
      EXPECT_EQ(v.manifest.records, static_cast<uint64_t>(GetParam().events)) << v.view;
    }
  }

  // Encoded cell key → value bytes.
  using Cells = std::map<std::string, std::string>;

  Cells Realtime(const std::string& view) {
    Cells out;
    auto a = speed_->ReadRange(view, "", "", {});
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    if (!a.ok()) return out;
    for (const stream::Cell& c : a->cells) {
      out[views::EncodeCellKey(c.key, c.granularity, c.bucket_start)] = c.value;
    }
    return out;
  }
  Cells Batch(const std::string& view) {
    Cells out;
    auto h = layer_->OpenLive(view);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) return out;
    Status s = (*h)->Scan("", "", 0, [&](std::string_view k, std::string_view v) {
      out[std::string(k)] = std::string(v);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::string dir_;
  io::MemoryFileSystem mem_;
  std::unique_ptr<log::Log> log_;
  avro::Schema schema_;
  archive::MapSchemaSource schemas_;
  std::vector<std::shared_ptr<const views::ViewDefinition>> views_;
  std::unique_ptr<stream::SpeedLayer> speed_;
  std::unique_ptr<archive::Dataset> dataset_;
  std::unique_ptr<batch::BatchLayer> layer_;
};

TEST_P(SpeedBatchTest, SameCellsByteForByte) {
  std::mt19937 rng(GetParam().seed);
  const std::vector<Event> events = Events(GetParam().events, GetParam().seed);
  // Half before the speed layer starts (it catches up), half while it runs.
  const std::vector<Event> first(events.begin(), events.begin() + events.size() / 2);
  const std::vector<Event> second(events.begin() + events.size() / 2, events.end());
  Produce(first, &rng);
  StartSpeed();
  Produce(second, &rng);
  WaitCaughtUp();
  RunBatch();
  for (const auto& v : views_) {
    const Cells rt = Realtime(v->name());
    const Cells bt = Batch(v->name());
    EXPECT_GT(rt.size(), 10u) << v->name();
    EXPECT_EQ(rt.size(), bt.size()) << v->name();
    size_t differ = 0;
    for (const auto& [k, value] : rt) {
      auto it = bt.find(k);
      if (it == bt.end() || it->second != value) {
        if (++differ <= 3) {
          auto ck = views::DecodeCellKey(k);
          ADD_FAILURE() << v->name() << ": cell " << (ck.ok() ? ck->key : k) << " "
                        << (it == bt.end() ? "missing in the batch view" : "differs") << ": "
                        << v->monoid().ToJson(value).value_or("?") << " vs "
                        << (it == bt.end() ? "-" : v->monoid().ToJson(it->second).value_or("?"));
        }
      }
    }
    EXPECT_EQ(differ, 0u) << v->name();
  }
  // Not two equal wrong answers: the all-time count of every url.
  std::map<std::string, uint64_t> want;
  for (const Event& e : events) ++want[e.url];
  const Cells bt = Batch("hits");
  for (const auto& [url, n] : want) {
    auto it = bt.find(views::EncodeCellKey(url, views::Granularity::kAll, views::kAllTimeStart));
    ASSERT_NE(it, bt.end()) << url;
    EXPECT_EQ(views::CountMonoid::Decode(it->second).value(), n) << url;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, SpeedBatchTest,
                         ::testing::Values(Case{1, 3000, 3, 100'000}, Case{2, 5000, 4, 37},
                                           Case{3, 800, 1, 1}, Case{4, 4000, 8, 500}));

}  // namespace
}  // namespace braid::serving
