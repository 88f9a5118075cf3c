// Views through the batch layer: events produced to a log, archived into
// the master dataset, computed by BatchLayer::Run and read back from the
// live version, compared cell by cell with an independent brute-force
// computation (calendar arithmetic from <chrono>, not views/time_bucket.h):
// events on hour, day, ISO-week, month and year boundaries and leap days,
// forced spills with a tiny memory budget, cuts that end inside a file, time
// ranges, versions (swap, rollback, retention, readers of old versions) and
// failures (a corrupt master-dataset block, a full disk while spilling)
// that leave the live version untouched.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include "archive/archiver.h"
#include "avro/binary.h"
#include "avro/container.h"
#include "base/coding.h"
#include "batch/batch_layer.h"
#include "io/fault_injection_file_system.h"
#include "io/memory_file_system.h"
#include "log/log.h"
#include "log/records.h"
#include "views/cell_key.h"
#include "views/expr_view.h"
#include "views/session.h"

namespace braid::batch {
namespace {

using views::Granularity;
namespace chr = std::chrono;

const char* kSchema = R"({"type": "record", "name": "PageView", "namespace": "t", "fields": [
    {"name": "url", "type": "string"}, {"name": "user", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "bytes", "type": "long"}]})";

struct Event {
  std::string url, user;
  int64_t ts = 0;
  int64_t bytes = 0;
};

// A hand-written view: key = the value of path 0, event time = path `ts`,
// value = one (count) or the `bytes` field (sum).
class TestView final : public views::ViewDefinition {
 public:
  TestView(std::string name, std::string key_path, bool sum, std::vector<Granularity> g)
      : name_(std::move(name)), sum_(sum), granularities_(std::move(g)) {
    paths_ = {std::move(key_path), "ts", "bytes"};
    monoid_ = views::MakeMonoid(sum ? "sum_int64" : "count").value();
  }
  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return topic_; }
  const std::vector<Granularity>& granularities() const override { return granularities_; }
  const views::Monoid& monoid() const override { return *monoid_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  Status Map(const views::Event& e, std::vector<views::Emit>* out) const override {
    auto key = e.fields->GetString(0);
    auto ts = e.fields->GetTimestampMillis(1);
    if (!key || !ts) return Status::InvalidArgument("missing field");
    if (*key == "bad") return Status::InvalidArgument("rejected");
    views::Emit em;
    em.key.assign(*key);
    em.time_ms = *ts;
    RETURN_IF_ERROR(monoid_->Lift(Value::Long(e.fields->GetLong(2).value_or(0)), &em.value));
    out->push_back(std::move(em));
    return Status::OK();
  }
  std::string Fingerprint() const override { return name_ + (sum_ ? "/sum" : "/count"); }

 private:
  std::string name_;
  std::string topic_ = "pv";
  bool sum_;
  std::vector<Granularity> granularities_;
  std::vector<std::string> paths_;
  std::shared_ptr<const views::Monoid> monoid_;
};

int64_t Ms(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int ms = 0) {
  const chr::sys_days day = chr::year(y) / chr::month(m) / chr::day(d);
  return chr::duration_cast<chr::milliseconds>(day.time_since_epoch()).count() +
         ((hh * 60 + mm) * 60 + ss) * 1000LL + ms;
}

// The bucket start of `t` at `g`, with <chrono>'s calendar.
int64_t Bucket(Granularity g, int64_t t) {
  const chr::sys_time<chr::milliseconds> tp{chr::milliseconds(t)};
  const chr::sys_days day = chr::floor<chr::days>(tp);
  auto ms = [](chr::sys_days d) {
    return chr::duration_cast<chr::milliseconds>(d.time_since_epoch()).count();
  };
  switch (g) {
    case Granularity::kHour:
      return chr::floor<chr::hours>(tp).time_since_epoch() / chr::milliseconds(1);
    case Granularity::kDay:
      return ms(day);
    case Granularity::kWeek: {
      const chr::weekday wd{day};
      return ms(day - (wd - chr::Monday));
    }
    case Granularity::kMonth: {
      const chr::year_month_day ymd{day};
      return ms(chr::sys_days(ymd.year() / ymd.month() / 1));
    }
    case Granularity::kAll:
      return views::kAllTimeStart;
  }
  return 0;
}

class ViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("batch_views_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // The log and the master dataset in memory (fast: the archiver fsyncs
    // every file); the views (RocksDB) and spill files on disk.
    log::LogOptions lo;
    lo.fs = &mem_;
    log_ = log::Log::Open("/log", lo).value();
    ASSERT_TRUE(log_->CreateTopic("pv", 3, {{"braid.archive.time.field", "ts"}}).ok());
    schema_ = avro::ParseSchema(kSchema).value();
    schemas_.Add(SchemaId(1), schema_);
  }
  void TearDown() override {
    layer_.reset();
    dataset_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
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

  // Appends the events to the partitions round robin, in batches.
  void Produce(const std::vector<Event>& events) {
    for (int p = 0; p < 3; ++p) {
      log::BatchBuilder b;
      int n = 0;
      auto part = log_->GetPartition("pv", PartitionId(p)).value();
      for (size_t i = p; i < events.size(); i += 3) {
        b.Add(events[i].ts, std::nullopt, Value(events[i]));
        if (++n == 200) {
          ASSERT_TRUE(part->Append(b.Build().value()).ok());
          b = log::BatchBuilder();
          n = 0;
        }
      }
      if (n > 0) {
        ASSERT_TRUE(part->Append(b.Build().value()).ok());
      }
    }
  }

  void Archive(const std::string& codec = "null") {
    archive::ArchiverOptions o;
    o.fs = &mem_;
    o.root = "/archive";
    o.codec = codec;
    o.consolidate = false;
    archive::Archiver a(log_.get(), &schemas_, o);
    ASSERT_TRUE(a.RunOnce().ok());
  }

  void OpenLayer(BatchOptions o = {}) {
    layer_.reset();
    if (dataset_ == nullptr) {
      archive::DatasetOptions d;
      d.fs = &mem_;
      d.root = "/archive";
      d.read_only = true;
      dataset_ = archive::Dataset::Open(d).value();
    }
    o.data_dir = dir_;
    o.dataset = dataset_.get();
    auto l = BatchLayer::Open(o);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    layer_ = std::move(*l);
  }

  static std::vector<Event> BoundaryEvents() {
    std::vector<Event> ev;
    const std::vector<int64_t> times = {Ms(2024, 2, 28, 23, 59, 59, 999),
                                        Ms(2024, 2, 29),  // leap day
                                        Ms(2024, 2, 29, 12, 59, 59, 999),
                                        Ms(2024, 2, 29, 13),
                                        Ms(2024, 2, 29, 23, 59, 59, 999),
                                        Ms(2024, 3, 1),  // month
                                        Ms(2024, 3, 3, 23, 59, 59, 999),
                                        Ms(2024, 3, 4),  // Sunday → Monday
                                        Ms(2024, 12, 29, 23, 59, 59, 999),
                                        Ms(2024, 12, 30),  // ISO week 1 of 2025
                                        Ms(2024, 12, 31, 23, 59, 59, 999),
                                        Ms(2025, 1, 1),  // year
                                        Ms(2020, 2, 29, 6),
                                        Ms(2000, 2, 29, 18),
                                        Ms(1970, 1, 1),
                                        Ms(2100, 3, 1)};
    for (size_t i = 0; i < times.size(); ++i) {
      for (const char* url : {"/a", "/b"}) {
        ev.push_back({url, "u" + std::to_string(i % 3), times[i], static_cast<int64_t>(i)});
      }
    }
    return ev;
  }

  static std::vector<Event> RandomEvents(int n, uint32_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<Event> ev;
    // Days from mid-January to late March 2024 (the leap day, two month
    // ends, ten week starts); in each day the first and the last hour only,
    // to keep the number of archived files (one per event hour) small.
    const int64_t from = Ms(2024, 1, 15);
    for (int i = 0; i < n; ++i) {
      Event e;
      e.url = "/page/" + std::to_string(rng() % 150);
      e.user = "user" + std::to_string(rng() % 40);
      e.ts = from + static_cast<int64_t>(rng() % 65) * 86'400'000 +
             (rng() % 2 == 0 ? 0 : 23 * 3'600'000) + static_cast<int64_t>(rng() % 3'600'000);
      e.bytes = static_cast<int64_t>(rng() % 5000) - 100;
      if (i % 997 == 0) e.url = "bad";  // rejected by the map: counted, skipped
      ev.push_back(e);
    }
    return ev;
  }

  // Expected cells (cell key -> value) of `view` over `events`.
  static std::map<std::string, int64_t> Expected(const std::vector<Event>& events, bool by_user,
                                                 bool sum, const std::vector<Granularity>& gs,
                                                 int64_t from = INT64_MIN, int64_t to = INT64_MAX) {
    std::map<std::string, int64_t> cells;
    for (const Event& e : events) {
      if ((by_user ? e.user : e.url) == "bad" || e.ts < from || e.ts >= to) continue;
      for (Granularity g : gs) {
        cells[views::EncodeCellKey(by_user ? e.user : e.url, g, Bucket(g, e.ts))] +=
            sum ? e.bytes : 1;
      }
    }
    return cells;
  }

  std::map<std::string, int64_t> Actual(const std::string& view, bool sum) {
    std::map<std::string, int64_t> cells;
    auto h = layer_->OpenLive(view);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) return cells;
    Status s = (*h)->Scan("", "", 0, [&](std::string_view k, std::string_view v) {
      auto monoid = views::MakeMonoid(sum ? "sum_int64" : "count").value();
      auto j = monoid->ToJson(v);
      EXPECT_TRUE(j.ok());
      cells[std::string(k)] = j.ok() ? std::stoll(*j) : -1;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return cells;
  }

  std::string dir_;
  io::MemoryFileSystem mem_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<archive::Dataset> dataset_;
  avro::Schema schema_;
  archive::MapSchemaSource schemas_;
  std::unique_ptr<BatchLayer> layer_;
};

const std::vector<Granularity> kAllG = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                        Granularity::kMonth, Granularity::kAll};

TEST_F(ViewsTest, ViewsEqualBruteForceOnBoundaries) {
  std::vector<Event> events = BoundaryEvents();
  for (const Event& e : RandomEvents(6000, 1)) events.push_back(e);
  Produce(events);
  Archive();
  OpenLayer();
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  const std::vector<Granularity> wm = {Granularity::kWeek, Granularity::kMonth};
  auto bytes = std::make_shared<TestView>("user_bytes", "user", true, wm);
  auto all = std::make_shared<TestView>("user_total", "user", true,
                                        std::vector<Granularity>{Granularity::kAll});
  RunRequest req;
  req.views = {count, bytes, all};
  auto r = layer_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->views.size(), 3u);
  EXPECT_EQ(Actual("pageviews", false), Expected(events, false, false, kAllG));
  EXPECT_EQ(Actual("user_bytes", true), Expected(events, true, true, wm));
  EXPECT_EQ(Actual("user_total", true), Expected(events, true, true, {Granularity::kAll}));
  // The manifest: cut = the archived high-water marks, counts.
  const VersionManifest& m = r->views[0].manifest;
  EXPECT_EQ(m.version, 1u);
  EXPECT_EQ(m.records, events.size());
  EXPECT_EQ(m.events, events.size());
  EXPECT_EQ(m.map_errors, 7u);  // the "bad" events
  EXPECT_EQ(m.cells, Expected(events, false, false, kAllG).size());
  int64_t below = 0;
  for (const auto& [p, o] : m.cuts.at("pv").offsets) below += o.value();
  EXPECT_EQ(below, static_cast<int64_t>(events.size()));
  EXPECT_EQ(m.fingerprint, "pageviews/count");
  EXPECT_EQ(m.monoid, "count");
  EXPECT_EQ(layer_->store()->Live("pageviews").value(), 1u);
  // Point read through the cell key.
  auto h = layer_->OpenLive("pageviews").value();
  auto v = h->Get(views::EncodeCellKey("/a", Granularity::kDay, Ms(2024, 2, 29))).value();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(
      views::CountMonoid::Decode(*v).value(), 4u + [&] {
        uint64_t n = 0;
        for (const Event& e : RandomEvents(6000, 1)) {
          if (e.url == "/a" && e.ts >= Ms(2024, 2, 29) && e.ts < Ms(2024, 3, 1)) ++n;
        }
        return n;
      }());
}

TEST_F(ViewsTest, TinyBudgetSpillsGiveTheSameCells) {
  std::vector<Event> events = RandomEvents(20000, 2);
  for (const Event& e : BoundaryEvents()) events.push_back(e);
  Produce(events);
  Archive("deflate");
  BatchOptions o;
  o.memory_budget = 32 << 10;  // buffers of 64 KiB (the floor), runs spill
  o.task_bytes = 30000;
  OpenLayer(o);
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  uint64_t spilled = 0;
  RunRequest req;
  req.views = {count};
  req.progress_interval_ms = 5;
  req.progress = [&](const JobStatus& s) { spilled = std::max(spilled, s.spill_files); };
  auto r = layer_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->jobs[0].spill_files, 3u);
  EXPECT_GT(r->jobs[0].spilled_bytes, 0u);
  EXPECT_GT(r->jobs[0].reduce_tasks, 1u);
  EXPECT_EQ(Actual("pageviews", false), Expected(events, false, false, kAllG));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/spill"));
}

TEST_F(ViewsTest, CutAndTimeRangeLimitTheRecords) {
  std::vector<Event> events = RandomEvents(3000, 3);
  Produce(events);
  Archive();
  OpenLayer();
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  // Below offset 400 of partition 0, 0 of partition 1, everything of 2.
  log::Cut cut;
  cut.offsets[PartitionId(0)] = Offset(400);
  cut.offsets[PartitionId(2)] = Offset(1000);
  RunRequest req;
  req.views = {count};
  req.cuts["pv"] = cut;
  req.time = archive::TimeRange{Ms(2024, 1, 1), Ms(2024, 3, 1)};
  auto r = layer_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<Event> below;
  for (size_t i = 0; i < events.size(); ++i) {
    const int p = static_cast<int>(i % 3);
    const int64_t offset = static_cast<int64_t>(i / 3);
    if ((p == 0 && offset < 400) || p == 2) below.push_back(events[i]);
  }
  EXPECT_EQ(Actual("pageviews", false),
            Expected(below, false, false, kAllG, Ms(2024, 1, 1), Ms(2024, 3, 1)));
  EXPECT_EQ(r->views[0].manifest.cuts.at("pv"), cut);
  // A cut above the archive is refused.
  cut.offsets[PartitionId(1)] = Offset(5000);
  req.cuts["pv"] = cut;
  auto bad = layer_->Run(req);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition) << bad.status().ToString();
}

TEST_F(ViewsTest, VersionsSwapRollbackAndRetention) {
  Produce(RandomEvents(500, 4));
  Archive();
  OpenLayer();
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  RunRequest req;
  req.views = {count};
  ASSERT_TRUE(layer_->Run(req).ok());
  auto v1 = layer_->OpenLive("pageviews").value();  // a reader of version 1
  const auto cells_v1 = Actual("pageviews", false);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(layer_->Run(req).ok());
  // 5 versions built, the last 3 kept; version 1 is deleted but still read.
  auto versions = layer_->Versions("pageviews").value();
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0].manifest.version, 3u);
  EXPECT_TRUE(versions[2].live);
  EXPECT_EQ(v1->version(), 1u);
  size_t n = 0;
  ASSERT_TRUE(v1->Scan("", "", 0, [&](std::string_view, std::string_view) { return ++n; }).ok());
  EXPECT_EQ(n, cells_v1.size());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/views/pageviews/000001"));
  v1.reset();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/views/pageviews/000001"));
  // Rollback goes back one, twice; then there is nothing older.
  EXPECT_EQ(layer_->Rollback("pageviews").value(), 4u);
  EXPECT_EQ(layer_->OpenLive("pageviews").value()->version(), 4u);
  EXPECT_EQ(layer_->Rollback("pageviews").value(), 3u);
  EXPECT_FALSE(layer_->Rollback("pageviews").ok());
  // Swap to any kept version; an unknown one is NotFound.
  ASSERT_TRUE(layer_->Swap("pageviews", 5).ok());
  EXPECT_EQ(layer_->OpenLive("pageviews").value()->version(), 5u);
  EXPECT_TRUE(layer_->Swap("pageviews", 9).IsNotFound());
  // Built but not published.
  req.publish = false;
  auto r = layer_->Run(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->views[0].version, 6u);
  EXPECT_FALSE(r->views[0].published);
  EXPECT_EQ(layer_->store()->Live("pageviews").value(), 5u);
  EXPECT_EQ(Actual("pageviews", false), cells_v1);  // the same input: the same cells
  // A crash while building leaves a hidden directory: the next open drops it.
  std::filesystem::create_directories(dir_ + "/views/pageviews/.build-000007-1/x");
  std::filesystem::create_directories(dir_ + "/spill/job-1-0");
  OpenLayer();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/views/pageviews/.build-000007-1"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/spill"));
  EXPECT_EQ(layer_->store()->Live("pageviews").value(), 5u);
}

TEST_F(ViewsTest, CorruptBlockLeavesTheLiveVersion) {
  Produce(RandomEvents(3000, 5));
  Archive();
  OpenLayer();
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  RunRequest req;
  req.views = {count};
  ASSERT_TRUE(layer_->Run(req).ok());
  const auto before = Actual("pageviews", false);
  // Damage one block of one archived file.
  auto plan = layer_->dataset()->Plan("pv", layer_->ArchivedCut("pv").value()).value();
  const std::string file = plan.files[0].path;
  avro::ReaderOptions ro;
  ro.fs = &mem_;
  auto blocks = avro::ContainerReader::Open(file, ro).value()->ListBlocks().value();
  const avro::BlockInfo& b = blocks[blocks.size() / 2];
  {
    std::string bytes = io::ReadFileToString(&mem_, file).value();
    for (int i = 0; i < 8; ++i) bytes[b.data_offset + 2 + i] = '\xff';
    ASSERT_TRUE(io::WriteFileAtomically(&mem_, file, bytes).ok());
  }
  auto r = layer_->Run(req);
  ASSERT_FALSE(r.ok());
  const std::string msg = r.status().ToString();
  EXPECT_NE(msg.find(file), std::string::npos) << msg;
  EXPECT_NE(msg.find("block at byte offset " + std::to_string(b.offset)), std::string::npos) << msg;
  EXPECT_EQ(layer_->store()->Live("pageviews").value(), 1u);
  EXPECT_EQ(layer_->Versions("pageviews").value().size(), 1u);
  EXPECT_EQ(Actual("pageviews", false), before);
  EXPECT_EQ(layer_->status().last_error, msg);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/spill"));
}

TEST_F(ViewsTest, FullDiskWhileSpillingLeavesTheLiveVersion) {
  Produce(RandomEvents(20000, 6));
  Archive();
  io::FaultInjectionFileSystem fs(io::DefaultFileSystem());
  BatchOptions o;
  o.fs = &fs;
  o.memory_budget = 32 << 10;
  o.task_bytes = 30000;
  OpenLayer(o);
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  RunRequest req;
  req.views = {count};
  ASSERT_TRUE(layer_->Run(req).ok());
  const auto before = Actual("pageviews", false);
  fs.SetNoSpace(true);
  auto r = layer_->Run(req);
  fs.SetNoSpace(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("spill"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(layer_->store()->Live("pageviews").value(), 1u);
  EXPECT_EQ(layer_->Versions("pageviews").value().size(), 1u);
  EXPECT_EQ(Actual("pageviews", false), before);
  // Space is back: the next run works.
  ASSERT_TRUE(layer_->Run(req).ok());
  EXPECT_EQ(layer_->store()->Live("pageviews").value(), 2u);
}

// ---- sessionised views: exact after a batch run ----

constexpr int64_t kGap = 30 * 60 * 1000;

// Events built to hit the session rules: per (site, user) runs of events
// whose gaps are 0 (the same millisecond), 1 ms, exactly 30 min, 30 min + 1
// ms, a few minutes or hours; visits starting just before day, ISO week and
// month ends (their later events after the boundary); `url` is the site,
// `user` the person. Produce() spreads them round robin over 3 partitions,
// so a person's events reach the job out of order.
std::vector<Event> SessionEvents(int runs, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<int64_t> starts = {Ms(2024, 2, 29, 23, 40),  Ms(2024, 3, 3, 23, 50),
                                       Ms(2024, 3, 31, 23, 45),  Ms(2024, 3, 10, 12),
                                       Ms(2023, 12, 31, 23, 59), Ms(1969, 12, 31, 23, 50)};
  const std::vector<int64_t> gaps = {0, 1, kGap, kGap + 1, kGap - 1, 5 * 60'000, 3 * 3'600'000};
  std::vector<Event> ev;
  for (int r = 0; r < runs; ++r) {
    const std::string site = "site" + std::to_string(rng() % 6);
    const std::string user = "u" + std::to_string(rng() % 25);
    int64_t t = starts[rng() % starts.size()] + static_cast<int64_t>(rng() % 600'000);
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      ev.push_back({site, user, t, 0});
      t += gaps[rng() % gaps.size()];
    }
  }
  std::shuffle(ev.begin(), ev.end(), rng);  // input order is not time order
  return ev;
}

// Brute force: per (site, user) the events sorted by time, cut where the
// next event is more than the gap after the previous one; a visit counts in
// the buckets of its first event; one event: a bounce.
std::map<std::string, std::pair<uint64_t, int64_t>> ExpectedVisits(
    const std::vector<Event>& events, const std::vector<Granularity>& gs) {
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> by;
  for (const Event& e : events) by[{e.url, e.user}].push_back(e.ts);
  std::map<std::string, std::pair<uint64_t, int64_t>> cells;
  for (auto& [ku, times] : by) {
    std::sort(times.begin(), times.end());
    size_t i = 0;
    while (i < times.size()) {
      size_t j = i + 1;
      while (j < times.size() && times[j] - times[j - 1] <= kGap) ++j;
      for (Granularity g : gs) {
        auto& c = cells[views::EncodeCellKey(ku.first, g, Bucket(g, times[i]))];
        c.first += 1;
        c.second += j - i == 1 ? 1 : 0;
      }
      i = j;
    }
  }
  return cells;
}

std::shared_ptr<const views::ViewDefinition> SessionView(std::vector<Granularity> gs) {
  views::ExprViewBuilder b("bounces", "pv");
  EXPECT_TRUE(b.SetKey("url").ok());
  EXPECT_TRUE(b.SetTime("ts").ok());
  EXPECT_TRUE(b.SetSession("user", kGap).ok());
  EXPECT_TRUE(b.SetMonoid(views::VisitsMonoidSpec()).ok());
  EXPECT_TRUE(b.SetGranularities(std::move(gs)).ok());
  auto v = b.Build();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return *v;
}

class SessionViewsTest : public ViewsTest {
 protected:
  std::map<std::string, std::pair<uint64_t, int64_t>> ActualVisits(const std::string& view) {
    std::map<std::string, std::pair<uint64_t, int64_t>> cells;
    auto h = layer_->OpenLive(view);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) return cells;
    auto monoid = views::MakeMonoid(views::VisitsMonoidSpec()).value();
    Status s = (*h)->Scan("", "", 0, [&](std::string_view k, std::string_view v) {
      EXPECT_TRUE(monoid->Validate(v).ok());
      auto d = views::DecodeVisits(v);
      EXPECT_TRUE(d.ok());
      if (d.ok()) cells[std::string(k)] = *d;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return cells;
  }
};

TEST_F(SessionViewsTest, VisitsEqualBruteForce) {
  const std::vector<Event> events = SessionEvents(1500, 7);
  Produce(events);
  Archive();
  OpenLayer();
  const std::vector<Granularity> gs = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                       Granularity::kMonth, Granularity::kAll};
  // With an ordinary view of the same topic in the same job (one pass).
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  RunRequest req;
  req.views = {count, SessionView(gs)};
  auto r = layer_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto expected = ExpectedVisits(events, gs);
  EXPECT_EQ(ActualVisits("bounces"), expected);
  EXPECT_EQ(Actual("pageviews", false), Expected(events, false, false, kAllG));
  uint64_t visits = 0, bounces = 0;
  for (const auto& [k, c] : expected) {
    if (views::DecodeCellKey(k)->granularity != Granularity::kAll) continue;
    visits += c.first;
    bounces += static_cast<uint64_t>(c.second);
  }
  ASSERT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->jobs[0].counters.at("view.bounces.visits"), static_cast<int64_t>(visits));
  EXPECT_EQ(r->jobs[0].counters.at("view.bounces.bounces"), static_cast<int64_t>(bounces));
  // The data has every kind of visit.
  EXPECT_GT(bounces, 100u);
  EXPECT_LT(bounces, visits);
  EXPECT_EQ(r->views[1].manifest.monoid, "tuple(visits:count,bounces:sum_int64)");
}

TEST_F(SessionViewsTest, SpillsMergesAndManyReduceTasksGiveTheSameVisits) {
  std::vector<Event> events = SessionEvents(6000, 8);
  Produce(events);
  Archive("deflate");
  BatchOptions o;
  o.memory_budget = 32 << 10;  // tiny buffers: many runs, spilled
  o.task_bytes = 20000;
  o.merge_factor = 3;  // merged in groups before the reduce
  o.threads = 3;
  OpenLayer(o);
  const std::vector<Granularity> gs = {Granularity::kDay, Granularity::kWeek, Granularity::kMonth};
  auto count = std::make_shared<TestView>("pageviews", "url", false, kAllG);
  RunRequest req;
  req.views = {SessionView(gs), count};
  auto r = layer_->Run(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->jobs[0].spill_files, 3u);
  EXPECT_GT(r->jobs[0].reduce_tasks, 1u);
  EXPECT_EQ(ActualVisits("bounces"), ExpectedVisits(events, gs));
  EXPECT_EQ(Actual("pageviews", false), Expected(events, false, false, kAllG));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/spill"));
}

TEST_F(SessionViewsTest, TimeRangeSessionisesTheEventsInside) {
  const std::vector<Event> events = SessionEvents(800, 9);
  Produce(events);
  Archive();
  OpenLayer();
  const std::vector<Granularity> gs = {Granularity::kDay};
  RunRequest req;
  req.views = {SessionView(gs)};
  req.time = archive::TimeRange{Ms(2024, 1, 1), Ms(2024, 3, 15)};
  ASSERT_TRUE(layer_->Run(req).ok());
  std::vector<Event> inside;
  for (const Event& e : events) {
    if (e.ts >= Ms(2024, 1, 1) && e.ts < Ms(2024, 3, 15)) inside.push_back(e);
  }
  EXPECT_EQ(ActualVisits("bounces"), ExpectedVisits(inside, gs));
}

}  // namespace
}  // namespace braid::batch
