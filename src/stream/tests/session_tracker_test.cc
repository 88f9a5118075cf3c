// The speed layer's approximation of sessionised views (SessionTracker):
// exact when a person's events arrive in time order and their state is
// kept (also across a batch cut: batch(events before the cut) ⊕ the deltas
// of the events after it = the whole answer), and the documented
// differences otherwise (late events, eviction, state lost).
#include "stream/session_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "views/session.h"

namespace braid::stream {
namespace {

using views::Granularity;
constexpr int64_t kGap = 30 * 60 * 1000;

struct Ev {
  std::string key, person;
  int64_t t;
};

using Cells = std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>>;

// The batch answer (views::VisitCounter, itself tested against brute
// force) per (key, day bucket).
Cells Batch(std::vector<Ev> events) {
  std::sort(events.begin(), events.end(), [](const Ev& a, const Ev& b) {
    return std::tie(a.key, a.person, a.t) < std::tie(b.key, b.person, b.t);
  });
  Cells cells;
  size_t i = 0;
  while (i < events.size()) {
    size_t j = i;
    views::VisitCounter c(kGap, {Granularity::kDay});
    while (j < events.size() && events[j].key == events[i].key) {
      EXPECT_TRUE(c.Add(events[j].person, events[j].t).ok());
      ++j;
    }
    c.Finish();
    for (const auto& [gb, s] : c.cells()) {
      auto& cell = cells[{events[i].key, gb.second}];
      cell.first += static_cast<int64_t>(s.visits);
      cell.second += static_cast<int64_t>(s.bounces);
    }
    i = j;
  }
  return cells;
}

void Apply(const VisitDelta& d, const std::string& key, Cells* cells) {
  if (!d.any) return;
  auto& c = (*cells)[{key, views::BucketStart(Granularity::kDay, d.visit_start_ms)}];
  c.first += d.visits;
  c.second += d.bounces;
}

void Prune(Cells* cells) {
  for (auto it = cells->begin(); it != cells->end();) {
    it = it->second == std::make_pair(int64_t{0}, int64_t{0}) ? cells->erase(it) : std::next(it);
  }
}

// Events in time order (a partition read as produced), interleaving people
// and keys, with gaps of 0, exactly the gap, the gap + 1 ms, and day
// boundaries (2024-03-31 23:00 UTC onwards).
std::vector<Ev> InOrderEvents(uint32_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::map<std::pair<int, int>, int64_t> next;  // (key, person) → next time
  const std::vector<int64_t> steps = {0, 1, kGap, kGap + 1, 10 * 60'000, 3 * 3'600'000};
  std::vector<Ev> ev;
  for (int i = 0; i < n; ++i) {
    const int k = static_cast<int>(rng() % 4);
    const int p = static_cast<int>(rng() % 30);
    auto [it, fresh] = next.try_emplace({k, p}, 1'711'926'000'000 + (rng() % 3'600'000));
    ev.push_back({"site" + std::to_string(k), "p" + std::to_string(p), it->second});
    it->second += steps[rng() % steps.size()];
  }
  std::stable_sort(ev.begin(), ev.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  return ev;
}

TEST(SessionTrackerTest, InOrderEventsGiveTheBatchAnswer) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const std::vector<Ev> events = InOrderEvents(seed, 2000);
    // Also with expiry on: in event-time order, an expired visit is over.
    SessionTracker t({.gap_ms = kGap, .max_entries = 1000, .late_allowance_ms = kGap});
    Cells got;
    for (const Ev& e : events) Apply(t.Add(e.key, e.person, e.t), e.key, &got);
    Prune(&got);
    ASSERT_EQ(got, Batch(events)) << "seed " << seed;
    EXPECT_EQ(t.evicted(), 0u);
    EXPECT_GT(t.expired(), 0u);  // idle visits are dropped as time passes
  }
}

TEST(SessionTrackerTest, BatchBeforeTheCutPlusDeltasAfterItIsExact) {
  // What serving answers after a batch run at cut C: the batch view of the
  // events below C ⊕ the realtime deltas of the events from C on (the
  // tracker saw the events below C too: its state spans the cut).
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const std::vector<Ev> events = InOrderEvents(seed, 1500);
    const size_t cut = (seed * 97) % events.size();
    SessionTracker t({.gap_ms = kGap});
    Cells served = Batch({events.begin(), events.begin() + static_cast<ptrdiff_t>(cut)});
    for (size_t i = 0; i < events.size(); ++i) {
      const VisitDelta d = t.Add(events[i].key, events[i].person, events[i].t);
      if (i >= cut) Apply(d, events[i].key, &served);
    }
    Prune(&served);
    ASSERT_EQ(served, Batch(events)) << "seed " << seed << " cut " << cut;
  }
}

TEST(SessionTrackerTest, LateEventsWithinAVisitTakeTheBounceBack) {
  SessionTracker t({.gap_ms = kGap});
  VisitDelta d = t.Add("d", "p", 10 * kGap);
  EXPECT_EQ(d.visits, 1);
  EXPECT_EQ(d.bounces, 1);
  // Late, up to a gap before the visit: the visit has two events now.
  d = t.Add("d", "p", 9 * kGap);
  EXPECT_TRUE(d.any);
  EXPECT_EQ(d.visit_start_ms, 10 * kGap);  // counted where the visit was counted
  EXPECT_EQ(d.visits, 0);
  EXPECT_EQ(d.bounces, -1);
  // Inside the visit: nothing changes.
  EXPECT_FALSE(t.Add("d", "p", 9 * kGap + 5).any);
  // More than a gap before the visit: a visit of its own.
  d = t.Add("d", "p", 7 * kGap);
  EXPECT_EQ(d.visit_start_ms, 7 * kGap);
  EXPECT_EQ(d.visits, 1);
  EXPECT_EQ(d.bounces, 1);
}

TEST(SessionTrackerTest, DocumentedDifferences) {
  // A late event that bridges two visits does not merge them: the batch
  // answer is one visit, the tracker keeps two.
  {
    SessionTracker t({.gap_ms = kGap});
    Cells got;
    const std::vector<Ev> ev = {{"d", "p", 0}, {"d", "p", 2 * kGap}, {"d", "p", kGap}};
    for (const Ev& e : ev) Apply(t.Add(e.key, e.person, e.t), e.key, &got);
    Prune(&got);
    EXPECT_EQ(Batch(ev).begin()->second, std::make_pair(int64_t{1}, int64_t{0}));
    EXPECT_EQ(got.begin()->second, std::make_pair(int64_t{2}, int64_t{1}));
  }
  // Eviction (state bound): the evicted person's next event is a new visit.
  {
    SessionTracker t({.gap_ms = kGap, .max_entries = 1});
    Cells got;
    const std::vector<Ev> ev = {{"d", "a", 0}, {"d", "b", 1}, {"d", "a", 2}};
    for (const Ev& e : ev) Apply(t.Add(e.key, e.person, e.t), e.key, &got);
    EXPECT_EQ(t.evicted(), 2u);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(Batch(ev).begin()->second, std::make_pair(int64_t{2}, int64_t{1}));
    EXPECT_EQ(got.begin()->second, std::make_pair(int64_t{3}, int64_t{3}));
  }
  // State lost (a restart): the same.
  {
    SessionTracker t({.gap_ms = kGap});
    EXPECT_EQ(t.Add("d", "a", 0).visits, 1);
    t.Clear();
    EXPECT_EQ(t.Add("d", "a", 1).visits, 1);
  }
  // Expiry: an entry more than gap + allowance behind the newest event time
  // is dropped; an event that late starts a new visit (as it would have).
  {
    SessionTracker t({.gap_ms = kGap, .late_allowance_ms = kGap});
    t.Add("d", "a", 0);
    t.Add("d", "b", 2 * kGap + 1);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.expired(), 1u);
  }
}

TEST(SessionTrackerTest, ExtremeTimesDoNotOverflow) {
  SessionTracker t({.gap_ms = views::kMaxSessionGapMs});
  EXPECT_EQ(t.Add("k", "p", INT64_MIN).visits, 1);
  EXPECT_EQ(t.Add("k", "p", INT64_MAX).visits, 1);
  EXPECT_EQ(t.Add("k", "p", INT64_MIN + 1).visits, 1);  // long before: its own visit
  EXPECT_EQ(t.Add(std::string("k\0", 2), "p", 0).visits, 1);
}

}  // namespace
}  // namespace braid::stream
