// Sessionised views: the gap syntax, the visits monoid's encoding, the
// secondary sort key's order, VisitCounter against a brute-force
// sessionisation on random data (gaps of exactly the gap, equal times,
// bucket boundaries, negative times, persons with 0x00 bytes), and
// `session:` in view files (parsing, errors with file:line:column, the
// map's emits, fingerprints).
#include "views/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "avro/binary.h"
#include "avro/json.h"
#include "base/coding.h"
#include "views/mapper.h"
#include "views/view_file.h"

namespace braid::views {
namespace {

constexpr int64_t kGap = 30 * 60 * 1000;

TEST(SessionGapTest, ParsesDurations) {
  EXPECT_EQ(ParseSessionGap("30m").value(), kGap);
  EXPECT_EQ(ParseSessionGap("1800s").value(), kGap);
  EXPECT_EQ(ParseSessionGap("1800000ms").value(), kGap);
  EXPECT_EQ(ParseSessionGap("1800000").value(), kGap);
  EXPECT_EQ(ParseSessionGap("2h").value(), 2 * 3'600'000);
  EXPECT_EQ(ParseSessionGap("30d").value(), kMaxSessionGapMs);
  EXPECT_EQ(ParseSessionGap("1ms").value(), 1);
  for (const char* bad : {"", "m", "0m", "-5m", "30 m", "30min", "1.5h", "31d",
                          "99999999999999999d", "30M", "ms", "0x10"}) {
    auto r = ParseSessionGap(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
  }
  EXPECT_EQ(FormatDuration(kGap), "30m");
  EXPECT_EQ(FormatDuration(90'000), "90s");
  EXPECT_EQ(FormatDuration(1500), "1500ms");
  EXPECT_EQ(FormatDuration(86'400'000), "1d");
  for (int64_t ms : {int64_t{1}, int64_t{999}, kGap, int64_t{7'200'000}, kMaxSessionGapMs}) {
    EXPECT_EQ(ParseSessionGap(FormatDuration(ms)).value(), ms);
  }
}

TEST(VisitsMonoidTest, EncodingsAreElementsOfTheTupleMonoid) {
  auto monoid = MakeMonoid(VisitsMonoidSpec()).value();
  EXPECT_EQ(monoid->spec(), "tuple(visits:count,bounces:sum_int64)");
  EXPECT_EQ(EncodeVisits(0, 0), monoid->Identity());
  std::mt19937_64 rng(5);
  uint64_t visits = 0;
  int64_t bounces = 0;
  std::string acc = monoid->Identity();
  for (int i = 0; i < 500; ++i) {
    const uint64_t v = rng() % 3;
    const int64_t b = static_cast<int64_t>(rng() % 5) - 2;  // speed-layer corrections included
    const std::string e = EncodeVisits(v, b);
    ASSERT_TRUE(monoid->Validate(e).ok());
    EXPECT_EQ(DecodeVisits(e).value(), std::make_pair(v, b));
    ASSERT_TRUE(monoid->Merge(&acc, e).ok());
    visits += v;
    bounces += b;
  }
  EXPECT_EQ(acc, EncodeVisits(visits, bounces));
  EXPECT_EQ(monoid->ToJson(EncodeVisits(12, -3)).value(), R"({"visits":12,"bounces":-3})");
  // Hostile bytes: Corruption, never a crash.
  const std::string good = EncodeVisits(300, -7);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeVisits(good.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeVisits(good + "x").ok());
  EXPECT_FALSE(
      DecodeVisits(MakeMonoid("tuple(visits:count,bounces:count)").value()->Identity()).ok());
}

TEST(SessionSortKeyTest, OrdersByPersonThenTime) {
  std::mt19937_64 rng(6);
  const std::vector<std::string> people = {
      "",   "a", std::string("a\0", 2),  std::string("a\0b", 3),
      "ab", "b", std::string(1, '\xff'), std::string("\0\x01", 2)};
  const std::vector<int64_t> times = {INT64_MIN, -kGap, -1, 0, 1, kGap, INT64_MAX};
  std::vector<std::pair<std::string, int64_t>> items;
  for (const auto& p : people) {
    for (int64_t t : times) items.emplace_back(p, t);
  }
  for (int round = 0; round < 20; ++round) {
    std::shuffle(items.begin(), items.end(), rng);
    std::vector<std::pair<std::string, std::pair<std::string, int64_t>>> keyed;
    for (const auto& it : items) {
      std::string k;
      AppendSessionSortKey(it.first, it.second, &k);
      keyed.emplace_back(k, it);
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<std::pair<std::string, int64_t>> got;
    for (const auto& k : keyed) got.push_back(k.second);
    auto want = items;
    std::sort(want.begin(), want.end());
    ASSERT_EQ(got, want);
    for (const auto& [k, it] : keyed) {
      std::string_view by;
      int64_t t = 0;
      ASSERT_TRUE(SplitSessionSortKey(k, &by, &t).ok());
      EXPECT_EQ(t, it.second);
      std::string other;
      AppendSessionSortKey(it.first, 0, &other);
      EXPECT_EQ(by, std::string_view(other).substr(0, other.size() - 8));
    }
  }
  std::string_view by;
  int64_t t;
  EXPECT_TRUE(SplitSessionSortKey("short", &by, &t).IsCorruption());
  EXPECT_TRUE(SplitSessionSortKey(std::string(12, 'x'), &by, &t).IsCorruption());
}

// Brute force: a person's times sorted; a new visit where the gap to the
// previous time exceeds kGap; cells by the visit's first time.
std::map<std::pair<Granularity, int64_t>, VisitStats> BruteForce(
    std::map<std::string, std::vector<int64_t>> by_person, const std::vector<Granularity>& gs) {
  std::map<std::pair<Granularity, int64_t>, VisitStats> cells;
  for (auto& [person, times] : by_person) {
    std::sort(times.begin(), times.end());
    size_t i = 0;
    while (i < times.size()) {
      size_t j = i + 1;
      while (j < times.size() && times[j] - times[j - 1] <= kGap) ++j;
      for (Granularity g : gs) {
        VisitStats& s = cells[{g, BucketStart(g, times[i])}];
        ++s.visits;
        if (j - i == 1) ++s.bounces;
      }
      i = j;
    }
  }
  return cells;
}

TEST(VisitCounterTest, EqualsBruteForceOnRandomData) {
  const std::vector<Granularity> gs = {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                                       Granularity::kMonth, Granularity::kAll};
  // 2024-03-31 23:00 UTC: hour, day, month (and a Sunday: ISO week) end
  // within the first hour.
  const int64_t base = 1'711'926'000'000;
  const std::vector<int64_t> steps = {0,        0,        1,           kGap,     kGap,
                                      kGap + 1, kGap - 1, 17 * 60'000, 3'600'000};
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    std::map<std::string, std::vector<int64_t>> by_person;
    const int people = 1 + static_cast<int>(rng() % 40);
    for (int p = 0; p < people; ++p) {
      std::string person = "p" + std::to_string(p);
      if (p % 7 == 3) person += std::string("\0x", 2);
      int64_t t = (seed % 5 == 0 ? -base : base) + static_cast<int64_t>(rng() % 7'200'000);
      const int n = 1 + static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) {
        by_person[person].push_back(t);
        t += steps[rng() % steps.size()];
      }
    }
    // The reducer's input: sorted by (person sort key, time).
    std::vector<std::string> keys;
    for (const auto& [person, times] : by_person) {
      for (int64_t t : times) {
        std::string k;
        AppendSessionSortKey(person, t, &k);
        keys.push_back(std::move(k));
      }
    }
    std::sort(keys.begin(), keys.end());
    VisitCounter c(kGap, gs);
    for (const std::string& k : keys) {
      std::string_view by;
      int64_t t = 0;
      ASSERT_TRUE(SplitSessionSortKey(k, &by, &t).ok());
      ASSERT_TRUE(c.Add(by, t).ok());
    }
    c.Finish();
    const auto want = BruteForce(by_person, gs);
    ASSERT_EQ(c.cells(), want) << "seed " << seed;
    uint64_t visits = 0, bounces = 0;
    for (const auto& [gb, s] : want) {
      if (gb.first != Granularity::kAll) continue;
      visits += s.visits;
      bounces += s.bounces;
    }
    EXPECT_EQ(c.visits(), visits);
    EXPECT_EQ(c.bounces(), bounces);
    c.Clear();
    EXPECT_TRUE(c.cells().empty());
  }
}

TEST(VisitCounterTest, GapBoundariesAndOrder) {
  VisitCounter c(kGap, {Granularity::kAll});
  // Exactly the gap: one visit; one more millisecond: two.
  ASSERT_TRUE(c.Add("a", 0).ok());
  ASSERT_TRUE(c.Add("a", kGap).ok());
  ASSERT_TRUE(c.Add("a", 2 * kGap + 1).ok());
  // The same millisecond twice: one visit of two events, not a bounce.
  ASSERT_TRUE(c.Add("b", 5).ok());
  ASSERT_TRUE(c.Add("b", 5).ok());
  // Extreme times do not overflow.
  ASSERT_TRUE(c.Add("c", INT64_MIN).ok());
  ASSERT_TRUE(c.Add("c", INT64_MAX).ok());
  EXPECT_TRUE(c.Add("c", 0).IsInvalidArgument());  // back in time
  c.Finish();
  EXPECT_EQ(c.visits(), 5u);   // a: 2, b: 1, c: 2
  EXPECT_EQ(c.bounces(), 3u);  // a's second, both of c's
}

// ---- view files ----

constexpr char kPageView[] = R"({"type":"record","name":"PageView","namespace":"braid.examples.swa",
  "fields":[{"name":"url","type":"string"},{"name":"person","type":"string"},
  {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"nonce","type":"long"},{"name":"referrer","type":["null","string"],"default":null}]})";

constexpr char kBounces[] = R"(views:
  - name: bounces
    topic: pageviews
    key: host(normalize_url(url))
    time: timestamp
    session: {by: person, gap: 30m}
    granularities: [day, week, month]
    aggregate: visits
)";

TEST(SessionViewFileTest, ParsesAndMaps) {
  auto file = ParseViewFile(kBounces, "views.yaml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const ViewDefinition& v = *file->views[0].view;
  ASSERT_NE(v.session(), nullptr);
  EXPECT_EQ(v.session()->by, "person");
  EXPECT_EQ(v.session()->gap_ms, kGap);
  EXPECT_EQ(v.monoid().spec(), "tuple(visits:count,bounces:sum_int64)");
  EXPECT_EQ(v.description(),
            "key host(normalize_url(url)), time timestamp, session by person gap 30m");
  // The map emits (domain, event time, person).
  auto schema = avro::ParseSchema(kPageView).value();
  Mapper m(file->views[0].view, [schema](SchemaId) -> Result<avro::Schema> { return schema; });
  auto body =
      avro::EncodeBinary(schema,
                         avro::DecodeJson(schema, R"({"url":"HTTP://Foo.com:80/a?x=1","person":"p1",
                      "timestamp":1234,"nonce":1,"referrer":null})")
                             .value())
          .value();
  std::string framed(1, '\0');
  coding::PutBigEndian32(&framed, 1);
  framed += body;
  RecordRef r;
  r.topic = "pageviews";
  r.value = framed;
  std::vector<Emit> out;
  ASSERT_TRUE(m.Map(r, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "foo.com");
  EXPECT_EQ(out[0].time_ms, 1234);
  EXPECT_EQ(out[0].value, "p1");
  // Equivalent spellings; the gap and the person are in the fingerprint.
  std::string same = kBounces;
  same.replace(same.find("aggregate: visits"), 17,
               "aggregate: \"tuple(visits:count,bounces:sum_int64)\"");
  same.replace(same.find("30m"), 3, "1800s");
  EXPECT_EQ(ParseViewFile(same, "v.yaml").value().views[0].view->Fingerprint(), v.Fingerprint());
  std::string no_agg = kBounces;
  no_agg.erase(no_agg.find("    aggregate: visits\n"));
  EXPECT_EQ(ParseViewFile(no_agg, "v.yaml").value().views[0].view->Fingerprint(), v.Fingerprint());
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"30m", "15m"}, {"by: person", "by: lower(person)"}}) {
    std::string other = kBounces;
    other.replace(other.find(from), from.size(), to);
    EXPECT_NE(ParseViewFile(other, "v.yaml").value().views[0].view->Fingerprint(), v.Fingerprint())
        << to;
  }
}

TEST(SessionViewFileTest, ErrorsNameFileLineAndField) {
  const std::string head =
      "views:\n  - name: b\n    topic: t\n    key: host(url)\n";  // the session is on line 5
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + "    session: person\n",
       "views.yaml:5:14: views[0] (b).session: expected a map {by: person, gap: 30m}, got a "
       "scalar"},
      {head + "    session: {gap: 30m}\n", "views.yaml:5:14: views[0] (b).session: no by"},
      {head + "    session: {by: person}\n", "views.yaml:5:14: views[0] (b).session: no gap"},
      {head + "    session: {by: person, gap: 30 minutes}\n",
       "views.yaml:5:32: views[0] (b).session.gap: gap \"30 minutes\": not a duration"},
      {head + "    session: {by: person, gap: 0s}\n",
       "views.yaml:5:32: views[0] (b).session.gap: gap \"0s\": must be positive"},
      {head + "    session: {by: person, gap: 30m, timeout: 1h}\n",
       "views.yaml:5:37: views[0] (b).session: unknown field \"timeout\""},
      {head + "    session: {by: \"lower(person\", gap: 30m}\n",
       "views.yaml:5:19: views[0] (b).session.by: at character 13: expected ',' or ')'"},
      {head + "    session: {by: person, gap: 30m}\n    aggregate: count\n",
       "views.yaml:6:16: views[0] (b).aggregate: a view with a session aggregates visits"},
      {head + "    session: {by: person, gap: 30m}\n    value: person\n",
       "views.yaml:6:12: views[0] (b).value: a view with a session counts visits: it takes no "
       "value"},
      {head + "    aggregate: visits\n",
       "views.yaml:5:16: views[0] (b).aggregate: visits needs a session"},
  };
  for (const auto& [text, want] : cases) {
    auto r = ParseViewFile(text, "views.yaml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(r.status().message().substr(0, want.size()), want) << text;
  }
}

}  // namespace
}  // namespace braid::views
