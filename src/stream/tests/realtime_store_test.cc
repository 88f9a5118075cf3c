// The realtime store: atomic commits of cells and offsets, merge operators,
// generations sealed at cuts, reads after a cut, drop-through, partition
// hand-over, view reconciliation; and the property that for any
// interleaving of produce, commit, seal, drop and reopen, the cells read
// after the dropped cut equal the exact count of the events above it.
#include "stream/realtime_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include <unistd.h>

#include "views/cell_key.h"

namespace braid::stream {
namespace {

using views::CountMonoid;
using views::Granularity;

std::string TempDir(const std::string& name) {
  std::string leaf = "braid-rt-";
  leaf += name;
  leaf += "-";
  leaf += std::to_string(::getpid());
  leaf += "-";
  leaf += std::to_string(std::random_device()());
  auto dir = std::filesystem::temp_directory_path() / leaf;
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::vector<StoreView> Views(const std::string& fingerprint = "f1") {
  auto count = std::make_shared<CountMonoid>();
  return {{"clicks", "events", fingerprint, count}, {"other", "more", "o1", count}};
}

std::unique_ptr<RealtimeStore> OpenStore(const std::string& dir,
                                         std::vector<StoreView> views = Views()) {
  RealtimeStoreOptions o;
  o.dir = dir;
  o.sync_seal = false;
  auto s = RealtimeStore::Open(o, std::move(views));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::string Cell(const std::string& key, int64_t hour) {
  return views::EncodeCellKey(key, Granularity::kHour, hour * 3'600'000);
}

uint64_t Count(const std::string& v) {
  auto n = CountMonoid::Decode(v);
  EXPECT_TRUE(n.ok());
  return n.ok() ? *n : 0;
}

std::map<std::string, uint64_t> ReadAll(RealtimeStore* s, const log::Cut& after,
                                        const std::string& view = "clicks") {
  auto r = s->Read(view, "", "", after);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::map<std::string, uint64_t> out;
  if (!r.ok()) return out;
  for (const auto& [k, v] : r->cells) out[k] = Count(v);
  return out;
}

log::Cut CutOf(std::initializer_list<std::pair<int32_t, int64_t>> l) {
  log::Cut c;
  for (auto [p, o] : l) c.offsets[PartitionId(p)] = Offset(o);
  return c;
}

PartitionCommit Commit(int32_t p, int64_t next,
                       std::vector<std::pair<std::string, uint64_t>> cells) {
  PartitionCommit c;
  c.partition = PartitionId(p);
  ViewDelta d;
  d.view = 0;
  d.next_offset = Offset(next);
  for (auto& [k, n] : cells) d.cells.emplace_back(k, CountMonoid::Encode(n));
  c.views.push_back(std::move(d));
  return c;
}

TEST(RealtimeStoreTest, CommitsMergeWithTheMonoidAndSurviveReopen) {
  const std::string dir = TempDir("merge");
  {
    auto s = OpenStore(dir);
    ASSERT_TRUE(s);
    auto r = s->AcquirePartition("events", PartitionId(0));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);  // only the view of topic "events"
    EXPECT_EQ(r->at(0), Offset(0));
    ASSERT_TRUE(s->Commit(Commit(0, 3, {{Cell("a", 1), 2}, {Cell("b", 1), 1}})).ok());
    ASSERT_TRUE(s->Commit(Commit(0, 5, {{Cell("a", 1), 1}, {Cell("a", 2), 1}})).ok());
    auto all = ReadAll(s.get(), {});
    EXPECT_EQ(all[Cell("a", 1)], 3u);
    EXPECT_EQ(all[Cell("a", 2)], 1u);
    EXPECT_EQ(all[Cell("b", 1)], 1u);
    EXPECT_EQ(s->Consumed(0), CutOf({{0, 5}}));
  }
  auto s = OpenStore(dir);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->Consumed(0), CutOf({{0, 5}}));
  auto r = s->AcquirePartition("events", PartitionId(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0), Offset(5));  // resumes where its state ends
  ASSERT_TRUE(s->Commit(Commit(0, 6, {{Cell("a", 1), 1}})).ok());
  EXPECT_EQ(ReadAll(s.get(), {})[Cell("a", 1)], 4u);
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(RealtimeStoreTest, CommitNeedsAHeldPartition) {
  const std::string dir = TempDir("held");
  auto s = OpenStore(dir);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->Commit(Commit(1, 3, {{Cell("a", 1), 1}})).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ReadAll(s.get(), {}).empty());
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(RealtimeStoreTest, AChangedDefinitionLosesItsState) {
  const std::string dir = TempDir("fp");
  {
    auto s = OpenStore(dir);
    ASSERT_TRUE(s->AcquirePartition("events", PartitionId(0)).ok());
    ASSERT_TRUE(s->Commit(Commit(0, 3, {{Cell("a", 1), 3}})).ok());
  }
  {
    auto s = OpenStore(dir);  // same definition: kept
    EXPECT_EQ(ReadAll(s.get(), {})[Cell("a", 1)], 3u);
  }
  auto s = OpenStore(dir, Views("f2"));  // changed: recomputed from the log
  EXPECT_TRUE(ReadAll(s.get(), {}).empty());
  EXPECT_TRUE(s->Consumed(0).offsets.empty());
  auto r = s->AcquirePartition("events", PartitionId(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0), Offset(0));
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(RealtimeStoreTest, SealDropAndReadAfterACut) {
  const std::string dir = TempDir("seal");
  auto s = OpenStore(dir);
  ASSERT_TRUE(s->AcquirePartition("events", PartitionId(0)).ok());
  ASSERT_TRUE(s->AcquirePartition("events", PartitionId(1)).ok());
  ASSERT_TRUE(s->Commit(Commit(0, 4, {{Cell("a", 1), 4}})).ok());
  ASSERT_TRUE(s->Commit(Commit(1, 2, {{Cell("a", 1), 2}})).ok());
  auto sealed = s->Seal();
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->id, RealtimeGeneration(1));
  EXPECT_EQ(sealed->cuts["clicks"], CutOf({{0, 4}, {1, 2}}));
  EXPECT_EQ(sealed->topic_cuts["events"], CutOf({{0, 4}, {1, 2}}));
  EXPECT_EQ(s->current_generation(), RealtimeGeneration(2));
  ASSERT_TRUE(s->Commit(Commit(0, 5, {{Cell("a", 1), 1}, {Cell("b", 1), 1}})).ok());

  // Everything, before any batch view.
  EXPECT_EQ(ReadAll(s.get(), {})[Cell("a", 1)], 7u);
  // After the sealed cut: only generation 2.
  auto after = s->Read("clicks", "", "", sealed->cuts["clicks"]);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->generations.size(), 1u);
  EXPECT_EQ(after->generations[0], RealtimeGeneration(2));
  EXPECT_EQ(ReadAll(s.get(), sealed->cuts["clicks"])[Cell("a", 1)], 1u);
  EXPECT_EQ(after->consumed, CutOf({{0, 5}, {1, 2}}));
  // A cut inside generation 1 cannot be answered exactly.
  EXPECT_EQ(s->Read("clicks", "", "", CutOf({{0, 2}})).status().code(),
            StatusCode::kFailedPrecondition);
  // Key ranges.
  auto a_only = s->Read("clicks", views::CellKeyPrefix("a"), views::CellKeyPrefix("b"), {});
  ASSERT_TRUE(a_only.ok());
  EXPECT_EQ(a_only->cells.size(), 1u);

  // Drop through the sealed cut: generation 1 goes, the floor is the cut.
  auto dropped = s->Drop("clicks", sealed->cuts["clicks"]);
  ASSERT_TRUE(dropped.ok());
  ASSERT_EQ(dropped->size(), 1u);
  EXPECT_EQ((*dropped)[0], RealtimeGeneration(1));
  EXPECT_EQ(s->Floor(0), sealed->cuts["clicks"]);
  EXPECT_EQ(ReadAll(s.get(), {})[Cell("a", 1)], 1u);  // generation 1 is gone
  auto gens = s->ListGenerations();
  ASSERT_EQ(gens.size(), 1u);  // the other view has no cells in generation 1 either
  EXPECT_EQ(gens[0].id, RealtimeGeneration(2));
  EXPECT_FALSE(gens[0].sealed);
  EXPECT_EQ(gens[0].end["clicks"], CutOf({{0, 5}, {1, 2}}));
  EXPECT_EQ(s->Drop("nope", {}).status().code(), StatusCode::kNotFound);
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(RealtimeStoreTest, SnapshotsReadConsistentlyWhileDropsAndCommitsRun) {
  const std::string dir = TempDir("snap");
  auto s = OpenStore(dir);
  ASSERT_TRUE(s->AcquirePartition("events", PartitionId(0)).ok());
  ASSERT_TRUE(s->AcquirePartition("events", PartitionId(1)).ok());
  ASSERT_TRUE(s->Commit(Commit(0, 2, {{Cell("a", 1), 2}, {Cell("c", 1), 1}})).ok());
  ASSERT_TRUE(s->Commit(Commit(1, 1, {{Cell("a", 1), 1}})).ok());
  auto sealed = s->Seal();
  ASSERT_TRUE(sealed.ok());
  ASSERT_TRUE(s->Commit(Commit(1, 3, {{Cell("a", 1), 1}, {Cell("b", 1), 1}})).ok());

  auto snap = s->OpenSnapshot("clicks", {});
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->generations().size(), 2u);
  EXPECT_EQ((*snap)->consumed(), CutOf({{0, 2}, {1, 3}}));
  // Changes after the snapshot: a drop-through and a commit.
  ASSERT_TRUE(s->Drop("clicks", sealed->cuts["clicks"]).ok());
  ASSERT_TRUE(s->Commit(Commit(0, 4, {{Cell("a", 1), 5}})).ok());

  auto a = (*snap)->Get(Cell("a", 1));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(Count(**a), 4u);
  auto none = (*snap)->Get(Cell("zz", 1));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::vector<std::pair<std::string, uint64_t>> scanned;
  ASSERT_TRUE((*snap)
                  ->Scan("", "",
                         [&](std::string_view k, std::string_view v) {
                           scanned.emplace_back(std::string(k), Count(std::string(v)));
                           return true;
                         })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<std::pair<std::string, uint64_t>>{
                         {Cell("a", 1), 4}, {Cell("b", 1), 1}, {Cell("c", 1), 1}}));
  // Stopping early, and a bounded range.
  scanned.clear();
  ASSERT_TRUE((*snap)
                  ->Scan(views::CellKeyPrefix("b"), "",
                         [&](std::string_view k, std::string_view v) {
                           scanned.emplace_back(std::string(k), Count(std::string(v)));
                           return false;
                         })
                  .ok());
  EXPECT_EQ(scanned.size(), 1u);
  EXPECT_EQ(scanned[0].first, Cell("b", 1));
  snap->reset();
  // A new snapshot sees the drop and the commit.
  EXPECT_EQ(ReadAll(s.get(), {})[Cell("a", 1)], 6u);
  s.reset();
  std::filesystem::remove_all(dir);
}

TEST(RealtimeStoreTest, ReleasedPartitionsLoseTheirStateAndRestartAtTheFloor) {
  const std::string dir = TempDir("release");
  auto s = OpenStore(dir);
  ASSERT_TRUE(s->AcquirePartition("events", PartitionId(0)).ok());
  ASSERT_TRUE(s->AcquirePartition("events", PartitionId(1)).ok());
  ASSERT_TRUE(s->Commit(Commit(0, 4, {{Cell("a", 1), 4}})).ok());
  ASSERT_TRUE(s->Commit(Commit(1, 6, {{Cell("a", 1), 6}})).ok());
  auto sealed = s->Seal();
  ASSERT_TRUE(sealed.ok());
  ASSERT_TRUE(s->Drop("clicks", sealed->cuts["clicks"]).ok());
  ASSERT_TRUE(s->Commit(Commit(1, 8, {{Cell("a", 1), 2}})).ok());
  ASSERT_TRUE(s->Commit(Commit(0, 5, {{Cell("a", 1), 1}})).ok());
  ASSERT_TRUE(s->ReleasePartition("events", PartitionId(1)).ok());
  EXPECT_EQ(ReadAll(s.get(), sealed->cuts["clicks"])[Cell("a", 1)], 1u);
  EXPECT_EQ(s->Consumed(0), CutOf({{0, 5}}));
  EXPECT_EQ(s->Commit(Commit(1, 9, {{Cell("a", 1), 1}})).code(), StatusCode::kFailedPrecondition);
  // Taken again: it restarts at the floor (what the batch view covers).
  auto r = s->AcquirePartition("events", PartitionId(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0), Offset(6));
  ASSERT_TRUE(s->Commit(Commit(1, 8, {{Cell("a", 1), 2}})).ok());
  EXPECT_EQ(ReadAll(s.get(), sealed->cuts["clicks"])[Cell("a", 1)], 3u);
  s.reset();
  std::filesystem::remove_all(dir);
}

// The property: random interleavings of produce, consume (commit), seal,
// drop-through at a sealed cut (what the batch scheduler does after a batch
// view covering that cut went live), reopen (a crash loses nothing: commits
// are atomic), partition hand-over and recompute. After every step, the
// cells read after the dropped cut (the live batch view's cut), and after
// every live sealed cut, equal the brute-force count of the events in
// [that cut, consumed).
TEST(RealtimeStoreTest, PropertySealDropReadEqualsBruteForce) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const std::string dir = TempDir("prop");
    auto s = OpenStore(dir);
    constexpr int kParts = 3;
    // The log: per partition, the cell each event lands in.
    std::vector<std::vector<std::string>> log(kParts);
    log::Cut dropped;                   // the live batch view's cut
    std::vector<log::Cut> sealed_cuts;  // live sealed cuts, oldest first
    std::vector<int64_t> consumed(kParts, 0);
    std::vector<bool> held(kParts, false);
    auto acquire = [&](int p) {
      auto r = s->AcquirePartition("events", PartitionId(p));
      ASSERT_TRUE(r.ok());
      consumed[p] = r->at(0).value();
      held[p] = true;
    };
    for (int p = 0; p < kParts; ++p) acquire(p);
    auto expected = [&](const log::Cut& after) {
      std::map<std::string, uint64_t> m;
      for (int p = 0; p < kParts; ++p) {
        if (!held[p]) continue;
        for (int64_t o = after.at(PartitionId(p)).value(); o < consumed[p]; ++o) m[log[p][o]]++;
      }
      return m;
    };
    for (int step = 0; step < 150; ++step) {
      const int op = static_cast<int>(rng() % 100);
      if (op < 40) {  // produce
        const int p = static_cast<int>(rng() % kParts);
        const int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) {
          std::string key = "k";
          key += std::to_string(rng() % 4);
          log[p].push_back(Cell(key, rng() % 3));
        }
      } else if (op < 75) {  // consume a micro-batch of one partition
        const int p = static_cast<int>(rng() % kParts);
        if (!held[p]) continue;
        const int64_t end =
            std::min<int64_t>(static_cast<int64_t>(log[p].size()), consumed[p] + 1 + rng() % 6);
        std::map<std::string, uint64_t> cells;
        for (int64_t o = consumed[p]; o < end; ++o) cells[log[p][o]]++;
        std::vector<std::pair<std::string, uint64_t>> v(cells.begin(), cells.end());
        ASSERT_TRUE(s->Commit(Commit(p, end, v)).ok());
        consumed[p] = end;
      } else if (op < 85) {  // seal
        auto sealed = s->Seal();
        ASSERT_TRUE(sealed.ok());
        sealed_cuts.push_back(sealed->cuts["clicks"]);
      } else if (op < 92) {  // a batch view covers the oldest live sealed cut: drop through it
        if (sealed_cuts.empty()) continue;
        const size_t i = rng() % sealed_cuts.size();
        ASSERT_TRUE(s->Drop("clicks", sealed_cuts[i]).ok());
        dropped = sealed_cuts[i];
        sealed_cuts.erase(sealed_cuts.begin(), sealed_cuts.begin() + static_cast<long>(i) + 1);
      } else if (op < 96) {  // crash and restart
        s.reset();
        s = OpenStore(dir);
        ASSERT_TRUE(s);
        for (int p = 0; p < kParts; ++p) {
          if (!held[p]) continue;
          auto r = s->AcquirePartition("events", PartitionId(p));
          ASSERT_TRUE(r.ok());
          ASSERT_EQ(r->at(0).value(), consumed[p]);
        }
      } else {  // a partition moves away and back: recomputed from the floor
        const int p = static_cast<int>(rng() % kParts);
        ASSERT_TRUE(s->ReleasePartition("events", PartitionId(p)).ok());
        held[p] = false;
        acquire(p);
        EXPECT_EQ(consumed[p], dropped.at(PartitionId(p)).value());
        // Sealed cuts taken before no longer describe partition p's state
        // (it restarted at the floor): a scheduler uses only newer ones.
        sealed_cuts.clear();
      }
      ASSERT_EQ(ReadAll(s.get(), dropped), expected(dropped)) << "step " << step;
      for (const log::Cut& c : sealed_cuts) {
        auto r = s->Read("clicks", "", "", c);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        std::map<std::string, uint64_t> got;
        for (const auto& [k, v] : r->cells) got[k] = Count(v);
        ASSERT_EQ(got, expected(c)) << "step " << step << " after " << c.ToString();
      }
    }
    s.reset();
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace braid::stream
