// The speed layer end to end over braid's log in process and over
// librdkafka's mock cluster (a Kafka implementation that is not ours):
// exact counts per key and bucket across restarts, late events in their
// own bucket, dead letters with their coordinates, seal and drop-through
// with the real pipeline, two speed layers sharing the partitions of a
// consumer group with a hand-over, a raw topology over the record spout.
#include "stream/speed_layer.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "base/coding.h"
#include "log/records.h"
#include "source/log_source.h"
#include "views/cell_key.h"

namespace braid::stream {
namespace {

using namespace std::chrono_literals;
using views::CountMonoid;
using views::Granularity;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

const char* kSchema = R"({"type": "record", "name": "PageView", "fields": [
  {"name": "url", "type": "string"},
  {"name": "time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})";

std::string TempDir(const std::string& name) {
  std::string leaf = "braid-speed-";
  leaf += name;
  leaf += "-";
  leaf += std::to_string(::getpid());
  leaf += "-";
  leaf += std::to_string(std::random_device()());
  auto dir = std::filesystem::temp_directory_path() / leaf;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void PutZigZag(std::string* out, int64_t v) { coding::PutZigZag64(out, v); }

// A Confluent-framed PageView (schema id 1).
std::string PageView(const std::string& url, int64_t time_ms) {
  std::string v(1, '\0');
  coding::PutBigEndian32(&v, 1);
  PutZigZag(&v, static_cast<int64_t>(url.size()));
  v += url;
  PutZigZag(&v, time_ms);
  return v;
}

// count per (url, hour/day/week/month) of PageView records.
class PageViewsByUrl final : public views::ViewDefinition {
 public:
  explicit PageViewsByUrl(std::string name = "pageviews_by_url", std::string topic = "pageviews")
      : name_(std::move(name)), topic_(std::move(topic)) {}
  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return topic_; }
  const std::vector<Granularity>& granularities() const override { return grans_; }
  const views::Monoid& monoid() const override { return monoid_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  Status Map(const views::Event& e, std::vector<views::Emit>* out) const override {
    auto url = e.fields->GetString(0);
    auto t = e.fields->GetTimestampMillis(1);
    if (!url || !t) return Status::InvalidArgument("no url or time");
    if (url->empty()) return Status::InvalidArgument("an empty url");
    out->push_back({std::string(*url), *t, CountMonoid::One()});
    return Status::OK();
  }
  std::string Fingerprint() const override { return "pageviews_by_url/v1/" + topic_; }

 private:
  std::string name_, topic_;
  std::vector<Granularity> grans_ = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                     Granularity::kMonth};
  CountMonoid monoid_;
  std::vector<std::string> paths_ = {"url", "time"};
};

struct Event {
  std::string url;
  int64_t time_ms;
};

using Cells = std::map<std::tuple<std::string, Granularity, int64_t>, uint64_t>;

Cells BruteForce(const std::vector<Event>& events) {
  Cells c;
  for (const Event& e : events) {
    for (Granularity g :
         {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
      c[{e.url, g, views::BucketStart(g, e.time_ms)}]++;
    }
  }
  return c;
}

Cells ToCells(const CellsAnswer& a) {
  Cells c;
  for (const Cell& cell : a.cells) {
    c[{cell.key, cell.granularity, cell.bucket_start}] = *CountMonoid::Decode(cell.value);
  }
  return c;
}

views::SchemaLookup Schemas() {
  auto schema = avro::ParseSchema(kSchema);
  EXPECT_TRUE(schema.ok());
  avro::Schema s = *schema;
  return [s](SchemaId id) -> Result<avro::Schema> {
    if (id.value() != 1) return Status::NotFound("no schema " + std::to_string(id.value()));
    return s;
  };
}

bool WaitFor(const std::function<bool()>& f, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!f()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class SpeedLayerLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("log");
    log_ = std::move(log::Log::Open(dir_ + "/log")).value();
    ASSERT_TRUE(log_->CreateTopic("pageviews", kPartitions).ok());
  }
  void TearDown() override {
    speed_.reset();
    log_->Close().IgnoreError();
    std::filesystem::remove_all(dir_);
  }

  void Produce(int partition, const std::vector<Event>& events,
               log::Compression codec = log::Compression::kNone) {
    log::BatchBuilderOptions o;
    o.compression = codec;
    log::BatchBuilder b(o);
    for (const Event& e : events) b.Add(kT0, std::string("k"), PageView(e.url, e.time_ms));
    ProduceBatch(partition, b);
    produced_.insert(produced_.end(), events.begin(), events.end());
  }
  void ProduceRaw(int partition, const std::string& value) {
    log::BatchBuilder b;
    b.Add(kT0, std::nullopt, value);
    ProduceBatch(partition, b);
  }
  void ProduceBatch(int partition, const log::BatchBuilder& b) {
    auto batch = b.Build();
    ASSERT_TRUE(batch.ok());
    auto p = *log_->GetPartition("pageviews", PartitionId(partition));
    ASSERT_TRUE(p->Append(*batch).ok());
  }
  // Random events: `n` over `urls` urls and a few days around kT0.
  std::vector<Event> RandomEvents(int n, int urls, std::mt19937* rng) {
    std::vector<Event> out;
    for (int i = 0; i < n; ++i) {
      std::string url = "/page/";
      url += std::to_string((*rng)() % urls);
      out.push_back({std::move(url), kT0 + static_cast<int64_t>((*rng)() % (72 * kHour))});
    }
    return out;
  }

  void StartSpeed(SpeedLayerOptions extra = {}) {
    SpeedLayerOptions o = std::move(extra);
    o.dir = dir_ + "/realtime";
    o.log = log_.get();
    if (o.views.empty()) o.views = {std::make_shared<PageViewsByUrl>()};
    o.schemas = Schemas();
    o.sync_seal = false;
    o.metrics = &metrics_;
    o.topology.max_batch_delay = 2ms;
    auto s = SpeedLayer::Open(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    speed_ = std::move(*s);
    ASSERT_TRUE(speed_->Start().ok());
  }

  log::Cut HighWatermarks() {
    log::Cut c;
    for (int p = 0; p < kPartitions; ++p) {
      c.offsets[PartitionId(p)] =
          (*log_->GetPartition("pageviews", PartitionId(p)))->high_watermark();
    }
    return c;
  }

  // Waits until the speed layer consumed everything in the log.
  void WaitCaughtUp(const std::string& view = "pageviews_by_url") {
    const log::Cut hw = HighWatermarks();
    ASSERT_TRUE(WaitFor([&] { return *speed_->Consumed(view) == hw; }))
        << speed_->Consumed(view)->ToString() << " vs " << hw.ToString();
  }

  Cells ReadAll(const log::Cut& after = {}) {
    auto a = speed_->ReadRange("pageviews_by_url", "", "", after);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? ToCells(*a) : Cells{};
  }

  static constexpr int kPartitions = 4;
  std::string dir_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<SpeedLayer> speed_;
  std::vector<Event> produced_;
  metrics::Registry metrics_;
};

TEST_F(SpeedLayerLogTest, ExactCountsAcrossRestartsAndCodecs) {
  std::mt19937 rng(7);
  const log::Compression codecs[] = {log::Compression::kNone, log::Compression::kZstd,
                                     log::Compression::kLz4, log::Compression::kSnappy};
  for (int i = 0; i < 20; ++i) Produce(i % kPartitions, RandomEvents(50, 17, &rng), codecs[i % 4]);
  StartSpeed();
  WaitCaughtUp();
  EXPECT_EQ(ReadAll(), BruteForce(produced_));
  // More while it runs.
  for (int i = 0; i < 20; ++i) Produce(i % kPartitions, RandomEvents(30, 17, &rng));
  WaitCaughtUp();
  EXPECT_EQ(ReadAll(), BruteForce(produced_));
  // Stop, produce, restart: it resumes where its state ends.
  speed_->Stop();
  speed_.reset();
  for (int i = 0; i < 10; ++i) Produce(i % kPartitions, RandomEvents(40, 17, &rng));
  StartSpeed();
  WaitCaughtUp();
  EXPECT_EQ(ReadAll(), BruteForce(produced_));
  // Point and range reads.
  const Cells expected = BruteForce(produced_);
  auto point = speed_->ReadPoint("pageviews_by_url", "/page/3", Granularity::kDay, kT0 + 5, {});
  ASSERT_TRUE(point.ok());
  ASSERT_EQ(point->cells.size(), 1u);
  EXPECT_EQ(*CountMonoid::Decode(point->cells[0].value),
            (expected.at({"/page/3", Granularity::kDay, kT0})));
  auto range =
      speed_->ReadKey("pageviews_by_url", "/page/3", Granularity::kHour, kT0, kT0 + 24 * kHour, {});
  ASSERT_TRUE(range.ok());
  uint64_t sum = 0;
  for (const Cell& c : range->cells) {
    EXPECT_EQ(c.key, "/page/3");
    EXPECT_GE(c.bucket_start, kT0);
    EXPECT_LT(c.bucket_start, kT0 + 24 * kHour);
    sum += *CountMonoid::Decode(c.value);
  }
  EXPECT_EQ(sum, (expected.at({"/page/3", Granularity::kDay, kT0})));
}

TEST_F(SpeedLayerLogTest, LateEventsLandInTheirOwnBucket) {
  StartSpeed();
  const int64_t now = SystemClock()->NowMillis();
  const int64_t last_year = now - int64_t{100} * 24 * kHour;  // 100 days late
  Produce(0, {{"/late", last_year}, {"/late", now}, {"/late", last_year + 1}});
  WaitCaughtUp();
  const Cells cells = ReadAll();
  EXPECT_EQ(
      cells.at({"/late", Granularity::kHour, views::BucketStart(Granularity::kHour, last_year)}),
      2u);
  EXPECT_EQ(cells.at({"/late", Granularity::kMonth, views::BucketStart(Granularity::kMonth, now)}),
            1u);
  const std::string text = metrics_.RenderPrometheus();
  // Two events 100 days late (above 30 days, below a year), none dropped.
  EXPECT_NE(text.find("braid_speed_event_lag_seconds_bucket{le=\"2592000\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_speed_event_lag_seconds_bucket{le=\"31536000\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("braid_speed_event_lag_seconds_count 3"), std::string::npos);
}

TEST_F(SpeedLayerLogTest, UndecodableRecordsBecomeDeadLettersWithTheirCoordinates) {
  StartSpeed();
  Produce(1, {{"/a", kT0}});
  ProduceRaw(1, "not avro at all");  // offset 1
  std::string unknown_id = PageView("/b", kT0);
  unknown_id[4] = 9;          // schema id 9
  ProduceRaw(2, unknown_id);  // offset 0
  std::string truncated = PageView("/c", kT0);
  truncated.resize(truncated.size() - 3);
  ProduceRaw(2, truncated);          // offset 1
  ProduceRaw(3, PageView("", kT0));  // the map rejects it
  Produce(2, {{"/a", kT0 + 1}});
  WaitCaughtUp();
  EXPECT_EQ(ReadAll(), BruteForce(produced_));
  auto dlq = log_->GetPartition("braid-speed-dead-letters", PartitionId(0));
  ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return (*dlq)->high_watermark() == Offset(4); }));
  auto read = (*dlq)->Read(Offset(0), 1 << 20);
  ASSERT_TRUE(read.ok());
  std::string bytes;
  ASSERT_TRUE(read->slice.AppendTo(&bytes).ok());
  log::RecordIterator it(bytes);
  std::set<std::string> coords;
  log::RecordView r;
  while (*it.Next(&r)) {
    std::map<std::string, std::string> h;
    for (const auto& hv : r.headers) h[std::string(hv.key)] = std::string(hv.value.value_or(""));
    EXPECT_EQ(h["braid.source.topic"], "pageviews");
    EXPECT_EQ(h["braid.views"], "pageviews_by_url");
    EXPECT_FALSE(h["braid.error"].empty());
    coords.insert(h["braid.source.partition"] + "@" + h["braid.source.offset"]);
  }
  EXPECT_EQ(coords, (std::set<std::string>{"1@1", "2@0", "2@1", "3@0"}));
  EXPECT_NE(metrics_.RenderPrometheus().find("braid_speed_dead_letters_total 4"),
            std::string::npos);
}

TEST_F(SpeedLayerLogTest, SealAndDropThroughWithThePipeline) {
  std::mt19937 rng(3);
  StartSpeed();
  std::vector<Event> before;
  for (int p = 0; p < kPartitions; ++p) {
    auto e = RandomEvents(40, 5, &rng);
    Produce(p, e);
    before.insert(before.end(), e.begin(), e.end());
  }
  WaitCaughtUp();
  auto sealed = speed_->Seal();
  ASSERT_TRUE(sealed.ok());
  const log::Cut cut = sealed->cuts["pageviews_by_url"];
  EXPECT_EQ(cut, HighWatermarks());
  EXPECT_EQ(sealed->topic_cuts["pageviews"], cut);
  std::vector<Event> after;
  for (int p = 0; p < kPartitions; ++p) {
    auto e = RandomEvents(25, 5, &rng);
    Produce(p, e);
    after.insert(after.end(), e.begin(), e.end());
  }
  WaitCaughtUp();
  // Serving: batch(cut) ⊕ realtime after the cut. Realtime after the cut
  // is exactly the newer events.
  EXPECT_EQ(ReadAll(cut), BruteForce(after));
  EXPECT_EQ(ReadAll(), BruteForce(produced_));
  auto dropped = speed_->Drop("pageviews_by_url", cut);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->size(), 1u);
  EXPECT_EQ(ReadAll(), BruteForce(after));
  EXPECT_EQ(ReadAll(cut), BruteForce(after));
  // The sealed state survives a restart.
  speed_.reset();
  StartSpeed();
  EXPECT_EQ(ReadAll(cut), BruteForce(after));
  const auto gens = speed_->ListGenerations();
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_EQ(gens[0].start.at("pageviews_by_url"), cut);
}

// A raw topology over the record spout: counts per url, published on ticks.
class UrlCounter final : public Bolt {
 public:
  void Prepare(const TopologyContext& c) override { publish_ = c.publish; }
  void Execute(const Tuple& t, OutputCollector*) override {
    if (t.is_tick()) {
      std::string json = "{";
      for (const auto& [u, n] : counts_) {
        if (json.size() > 1) json += ",";
        json += "\"" + u + "\":" + std::to_string(n);
      }
      publish_("counts", json + "}");
      return;
    }
    counts_[std::string(t.GetString(static_cast<size_t>(t.FieldIndex("url"))))]++;
  }

 private:
  std::function<void(const std::string&, const std::string&)> publish_;
  std::map<std::string, int64_t> counts_;
};

TEST_F(SpeedLayerLogTest, RawTopologyOverTheRecordSpout) {
  Produce(0, {{"/x", kT0}, {"/y", kT0}, {"/x", kT0}});
  TopologyBuilder b("urls");
  b.SetRecordSpout("views", {.topics = {"pageviews"}, .paths = {"url"}, .from_beginning = true});
  b.SetBolt("count", [] { return std::make_unique<UrlCounter>(); })
      .GlobalGrouping("views")
      .TickInterval(20ms);
  SpeedLayerOptions o;
  o.topologies.push_back(std::move(b).Build());
  StartSpeed(std::move(o));
  ASSERT_TRUE(WaitFor([&] {
    auto p = speed_->Published("urls");
    return p.ok() && p->count("counts") && p->at("counts") == "{\"/x\":2,\"/y\":1}";
  }));
  EXPECT_EQ(speed_->Published("nope").status().code(), StatusCode::kNotFound);
  EXPECT_NE(speed_->StatusJson().find("\"name\":\"urls\""), std::string::npos);
}

// ---- librdkafka's mock cluster: a consumer group of two speed layers ----

class MockCluster {
 public:
  MockCluster() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    EXPECT_EQ(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err)),
              RD_KAFKA_CONF_OK);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    mock_ = rd_kafka_handle_mock_cluster(owner_);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_);
    conf = rd_kafka_conf_new();
    EXPECT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), err, sizeof(err)),
              RD_KAFKA_CONF_OK);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  }
  ~MockCluster() {
    rd_kafka_destroy(producer_);
    rd_kafka_destroy(owner_);
  }
  void CreateTopic(const std::string& t, int partitions) {
    ASSERT_EQ(rd_kafka_mock_topic_create(mock_, t.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void Produce(const std::string& topic, int partition, const std::string& value) {
    ASSERT_EQ(rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()),
                                RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void Flush() { ASSERT_EQ(rd_kafka_flush(producer_, 10000), RD_KAFKA_RESP_ERR_NO_ERROR); }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstrap_;
};

std::unique_ptr<SpeedLayer> StartKafkaSpeed(const std::string& dir, const std::string& bootstrap) {
  SpeedLayerOptions o;
  o.dir = dir;
  o.kafka.bootstrap = bootstrap;
  o.kafka.group = "speed-test";
  o.kafka.config = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "200"}};
  o.views = {std::make_shared<PageViewsByUrl>()};
  o.schemas = Schemas();
  o.sync_seal = false;
  o.topology.max_batch_delay = 2ms;
  auto s = SpeedLayer::Open(std::move(o));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  EXPECT_TRUE((*s)->Start().ok());
  return std::move(*s);
}

uint64_t ConsumedTotal(SpeedLayer* s) {
  uint64_t n = 0;
  const log::Cut c = *s->Consumed("pageviews_by_url");
  for (const auto& [p, o] : c.offsets) n += o.value();
  return n;
}

TEST(SpeedLayerKafkaTest, TwoProcessesShareAGroupAndTheSurvivorTakesOver) {
  if (std::getenv("BRAID_TSAN") != nullptr) GTEST_SKIP() << "mock cluster under TSan";
  MockCluster cluster;
  constexpr int kParts = 8;
  cluster.CreateTopic("pageviews", kParts);
  cluster.CreateTopic("braid-speed-dead-letters", 1);
  std::mt19937 rng(11);
  std::vector<Event> produced;
  auto produce = [&](int n) {
    for (int i = 0; i < n; ++i) {
      std::string url = "/u";
      url += std::to_string(rng() % 13);
      const Event e{url, kT0 + static_cast<int64_t>(rng() % (48 * kHour))};
      cluster.Produce("pageviews", static_cast<int>(rng() % kParts), PageView(e.url, e.time_ms));
      produced.push_back(e);
    }
    cluster.Flush();
  };
  const std::string dir = TempDir("group");
  auto a = StartKafkaSpeed(dir + "/a", cluster.bootstrap());
  auto b = StartKafkaSpeed(dir + "/b", cluster.bootstrap());
  ASSERT_TRUE(a && b);
  produce(2000);
  // Both consumed, together, everything, each its own partitions.
  ASSERT_TRUE(WaitFor([&] { return ConsumedTotal(a.get()) + ConsumedTotal(b.get()) == 2000; }, 60s))
      << ConsumedTotal(a.get()) << " + " << ConsumedTotal(b.get());
  const auto pa = a->Consumed("pageviews_by_url")->offsets;
  const auto pb = b->Consumed("pageviews_by_url")->offsets;
  EXPECT_EQ(pa.size() + pb.size(), static_cast<size_t>(kParts));
  EXPECT_FALSE(pa.empty());
  EXPECT_FALSE(pb.empty());
  Cells together = ToCells(*a->ReadRange("pageviews_by_url", "", "", {}));
  for (const auto& [k, n] : ToCells(*b->ReadRange("pageviews_by_url", "", "", {})))
    together[k] += n;
  EXPECT_EQ(together, BruteForce(produced));
  // One leaves; the survivor takes its partitions over and recomputes them.
  b->Stop();
  b.reset();
  produce(1000);
  ASSERT_TRUE(WaitFor([&] { return ConsumedTotal(a.get()) == 3000; }, 60s))
      << ConsumedTotal(a.get());
  EXPECT_EQ(a->Consumed("pageviews_by_url")->offsets.size(), static_cast<size_t>(kParts));
  EXPECT_EQ(ToCells(*a->ReadRange("pageviews_by_url", "", "", {})), BruteForce(produced));
  a.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace braid::stream
