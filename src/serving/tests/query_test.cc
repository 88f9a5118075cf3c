#include "serving/query.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "views/cell_key.h"

namespace braid::serving {
namespace {

using views::Granularity;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

class MapSource : public CellSource {
 public:
  explicit MapSource(const std::map<std::string, std::string>* cells) : cells_(cells) {}
  Result<std::optional<std::string>> Get(std::string_view k) override {
    auto it = cells_->find(std::string(k));
    if (it == cells_->end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    for (auto it = cells_->lower_bound(std::string(begin));
         it != cells_->end() && (end.empty() || it->first < end); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return Status::OK();
  }

 private:
  const std::map<std::string, std::string>* cells_;
};

class CountView : public views::ViewDefinition {
 public:
  explicit CountView(std::vector<Granularity> g) : g_(std::move(g)) {}
  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return name_; }
  const std::vector<Granularity>& granularities() const override { return g_; }
  const views::Monoid& monoid() const override { return m_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  Status Map(const views::Event&, std::vector<views::Emit>*) const override { return Status::OK(); }
  std::string Fingerprint() const override { return "test"; }

 private:
  std::string name_ = "v";
  std::vector<Granularity> g_;
  views::CountMonoid m_;
  std::vector<std::string> paths_;
};

// Events (key, time) split at random between a "batch" and a "realtime"
// store, each holding count cells at every kept granularity.
class Fixture : public SnapshotProvider {
 public:
  explicit Fixture(std::vector<Granularity> g) : view_(std::make_shared<CountView>(std::move(g))) {}
  void Add(const std::string& key, int64_t t, bool batch) {
    auto& cells = batch ? batch_ : realtime_;
    for (Granularity g : view_->granularities()) {
      std::string& v = cells[views::EncodeCellKey(key, g, views::BucketStart(g, t))];
      if (v.empty()) v = view_->monoid().Identity();
      EXPECT_TRUE(view_->monoid().Merge(&v, views::CountMonoid::One()).ok());
    }
    events_.emplace_back(key, t);
  }
  uint64_t Exact(const std::string& key, int64_t from, int64_t to) const {
    uint64_t n = 0;
    for (const auto& [k, t] : events_) n += k == key && t >= from && t < to;
    return n;
  }
  Result<ViewSnapshot> Open(const std::string& view) override {
    if (view != "v") return Status::NotFound("no view " + view);
    ViewSnapshot s;
    s.view = view_;
    s.batch = std::make_unique<MapSource>(&batch_);
    s.realtime = std::make_unique<MapSource>(&realtime_);
    return s;
  }
  std::vector<std::shared_ptr<const views::ViewDefinition>> Views() override { return {view_}; }

 private:
  std::shared_ptr<CountView> view_;
  std::map<std::string, std::string> batch_, realtime_;
  std::vector<std::pair<std::string, int64_t>> events_;
};

uint64_t N(const std::string& encoded) { return *views::CountMonoid::Decode(encoded); }

TEST(QueryEngineTest, ValuesSeriesAndKeysEqualBruteForce) {
  std::mt19937_64 rng(11);
  for (const auto& kept : std::vector<std::vector<Granularity>>{
           {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth},
           {Granularity::kDay, Granularity::kAll},
           {Granularity::kWeek, Granularity::kMonth}}) {
    Fixture f(kept);
    const int64_t base = views::DaysFromCivil(2024, 1, 1) * kDay;
    const std::vector<std::string> keys = {"a", "b", std::string("a\0z", 3), "ab", "zz"};
    for (int i = 0; i < 3000; ++i) {
      f.Add(keys[rng() % keys.size()],
            base + static_cast<int64_t>(rng() % (120 * kDay)) - 30 * kDay, rng() % 2 == 0);
    }
    QueryEngine q(&f);
    const Granularity finest = FinestGranularity(kept);
    for (int i = 0; i < 300; ++i) {
      const std::string& key = keys[rng() % keys.size()];
      int64_t from = base + static_cast<int64_t>(rng() % (100 * kDay)) - 40 * kDay;
      int64_t to = from + 1 + static_cast<int64_t>(rng() % (60 * kDay));
      auto a = q.Value("v", key, TimeRange{from, to});
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      // Rounded outward to the finest granularity.
      EXPECT_EQ(a->range->from, views::BucketStart(finest, from));
      EXPECT_EQ(N(a->value), f.Exact(key, a->range->from, a->range->to));
      auto all = q.Value("v", key, std::nullopt);
      ASSERT_TRUE(all.ok());
      EXPECT_EQ(N(all->value), f.Exact(key, INT64_MIN, INT64_MAX));
      const Granularity g = kept[rng() % kept.size()];
      if (g == Granularity::kAll) continue;
      auto s = q.Series("v", key, g, TimeRange{from, to});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      for (const auto& [start, value] : s->buckets) {
        EXPECT_EQ(N(value), f.Exact(key, start, views::NextBucketStart(g, start)));
      }
    }
    auto k = q.Keys("v", "a", "", 2);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->keys, (std::vector<std::string>{"a", std::string("a\0z", 3)}));
    EXPECT_TRUE(k->more);
    k = q.Keys("v", "a", std::string("a\0z", 3), 10);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->keys, (std::vector<std::string>{"ab"}));
    EXPECT_FALSE(k->more);
    k = q.Keys("v", "", "", 100);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->keys.size(), 5u);
  }
}

TEST(QueryEngineTest, Errors) {
  Fixture f({Granularity::kDay});
  QueryEngine q(&f);
  EXPECT_TRUE(q.Value("nope", "k", std::nullopt).status().IsNotFound());
  EXPECT_TRUE(q.Series("v", "k", Granularity::kHour, {0, kDay}).status().IsInvalidArgument());
  EXPECT_TRUE(q.Value("v", "k", TimeRange{5, 5}).status().IsInvalidArgument());
  EXPECT_TRUE(q.Keys("v", "", "", 0).status().IsInvalidArgument());
  auto empty = q.Value("v", "missing", TimeRange{0, kDay});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(N(empty->value), 0u);  // the monoid's identity, not an error
}

}  // namespace
}  // namespace braid::serving
