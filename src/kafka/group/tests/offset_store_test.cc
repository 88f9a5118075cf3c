#include "kafka/group/offset_store.h"

#include <gtest/gtest.h>

#include "io/fault_injection_file_system.h"
#include "io/memory_file_system.h"

namespace braid::kafka {
namespace {

CommittedOffset C(int64_t offset, std::optional<std::string> meta = "m") {
  CommittedOffset c;
  c.offset = offset;
  c.leader_epoch = 1;
  c.metadata = std::move(meta);
  c.commit_timestamp_ms = 1000 + offset;
  return c;
}

TEST(OffsetStoreTest, ReplayHasCompactedSemantics) {
  io::MemoryFileSystem fs;
  {
    auto s = *OffsetStore::Open(&fs, "/d");
    ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(1)}, {{"t", 1}, C(2, std::nullopt)}}).ok());
    ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(5)}}).ok());
    ASSERT_TRUE(s->Commit("h", {{{"t", 0}, C(7)}}).ok());
    ASSERT_TRUE(s->DeleteOffsets("g", {{"t", 1}}).ok());
    ASSERT_TRUE(s->SetGroupState("g", "consumer", 1234).ok());
    ASSERT_TRUE(s->DeleteGroup("h").ok());
  }
  auto s = *OffsetStore::Open(&fs, "/d");
  ASSERT_EQ(s->groups().size(), 1u);
  const StoredGroup* g = s->Find("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->protocol_type, "consumer");
  EXPECT_EQ(g->empty_since_ms, 1234);
  ASSERT_EQ(g->offsets.size(), 1u);
  const CommittedOffset& c = g->offsets.at({"t", 0});
  EXPECT_EQ(c.offset, 5);
  EXPECT_EQ(c.leader_epoch, 1);
  EXPECT_EQ(c.metadata, "m");
  EXPECT_EQ(c.commit_timestamp_ms, 1005);
}

TEST(OffsetStoreTest, NullMetadataStaysNull) {
  io::MemoryFileSystem fs;
  {
    auto s = *OffsetStore::Open(&fs, "/d");
    ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(1, std::nullopt)}}).ok());
  }
  auto s = *OffsetStore::Open(&fs, "/d");
  EXPECT_FALSE(s->Find("g")->offsets.at({"t", 0}).metadata.has_value());
}

TEST(OffsetStoreTest, TornTailIsCut) {
  io::MemoryFileSystem fs;
  {
    auto s = *OffsetStore::Open(&fs, "/d");
    ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(1)}}).ok());
    ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(2)}}).ok());
  }
  std::string data = *fs.ReadRaw("/d/offsets.log");
  size_t one = data.size() / 2;
  // Cut in the middle of the second record, and flip a byte in a copy.
  for (size_t cut : {data.size() - 1, one + 3, one + 9}) {
    fs.WriteRaw("/d/offsets.log", data.substr(0, cut));
    auto s = OffsetStore::Open(&fs, "/d");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->Find("g")->offsets.at({"t", 0}).offset, 1);
    EXPECT_EQ(fs.ReadRaw("/d/offsets.log")->size(), one);
    // Appending after the cut works and is replayed.
    ASSERT_TRUE((*s)->Commit("g", {{{"t", 0}, C(3)}}).ok());
    s = OffsetStore::Open(&fs, "/d");
    EXPECT_EQ((*s)->Find("g")->offsets.at({"t", 0}).offset, 3);
  }
  std::string bad = data;
  bad[bad.size() - 2] ^= 0x55;
  fs.WriteRaw("/d/offsets.log", bad);
  auto s = OffsetStore::Open(&fs, "/d");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Find("g")->offsets.at({"t", 0}).offset, 1);
}

TEST(OffsetStoreTest, HostileLengthDoesNotAllocate) {
  io::MemoryFileSystem fs;
  fs.WriteRaw("/d/offsets.log", std::string("\x7f\xff\xff\xff\x00\x00\x00\x00xyz", 11));
  auto s = OffsetStore::Open(&fs, "/d");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->groups().empty());
}

TEST(OffsetStoreTest, CompactionKeepsLiveStateOnly) {
  io::MemoryFileSystem fs;
  OffsetStoreOptions o;
  o.compact_min_bytes = 4096;
  auto s = *OffsetStore::Open(&fs, "/d", o);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(s->Commit("g", {{{"t", i % 4}, C(i)}}).ok());
    ASSERT_LE(s->file_bytes(), 8192u) << i;
  }
  s.reset();
  fs.SimulateCrash();
  auto r = *OffsetStore::Open(&fs, "/d", o);
  ASSERT_EQ(r->Find("g")->offsets.size(), 4u);
  EXPECT_EQ(r->Find("g")->offsets.at({"t", 3}).offset, 1999);
  EXPECT_EQ(r->Find("g")->offsets.at({"t", 0}).offset, 1996);
}

TEST(OffsetStoreTest, FailedWriteChangesNothing) {
  io::MemoryFileSystem mem;
  io::FaultInjectionFileSystem fs(&mem);
  auto s = *OffsetStore::Open(&fs, "/d");
  ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(1)}}).ok());
  fs.FailNthSync(1);
  EXPECT_FALSE(s->Commit("g", {{{"t", 0}, C(2)}}).ok());
  EXPECT_EQ(s->Find("g")->offsets.at({"t", 0}).offset, 1);
  ASSERT_TRUE(s->Commit("g", {{{"t", 0}, C(3)}}).ok());
  fs.TearNthAppend(1, 5);  // a torn write is rolled back before the next one
  EXPECT_FALSE(s->Commit("g", {{{"t", 0}, C(4)}}).ok());
  ASSERT_TRUE(s->Commit("g", {{{"t", 1}, C(5)}}).ok());
  s.reset();
  auto r = *OffsetStore::Open(&mem, "/d");
  EXPECT_EQ(r->Find("g")->offsets.at({"t", 0}).offset, 3);
  EXPECT_EQ(r->Find("g")->offsets.at({"t", 1}).offset, 5);
}

}  // namespace
}  // namespace braid::kafka
