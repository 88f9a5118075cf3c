// Crash recovery: torn and corrupt tails, lost unsynced data, bad indexes.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/clock.h"
#include "io/fault_injection_file_system.h"
#include "io/memory_file_system.h"
#include "log/log.h"
#include "log/tests/batch_builder.h"

namespace braid::log {
namespace {

using testing::MakeBatch;

constexpr char kDir[] = "/data/log";
constexpr char kActive[] = "/data/log/t-0/00000000000000000000.log";

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() : fault_(&mem_) {}
  void SetUp() override { Open(); }

  void Open() {
    LogOptions o;
    o.fs = &fault_;
    o.clock = &clock_;
    o.index_interval_bytes = 100;
    auto log = Log::Open(kDir, o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }
  // Simulates a power failure and restarts.
  void CrashAndReopen() {
    mem_.SimulateCrash();
    log_.reset();
    fault_.ClearFaults();
    Open();
  }
  void CleanReopen() {
    log_.reset();
    Open();
  }
  std::shared_ptr<Partition> P() { return *log_->GetPartition("t", PartitionId(0)); }

  // Reads every batch, checking offsets are contiguous; returns the count.
  size_t CheckAll() {
    auto p = P();
    size_t n = 0;
    Offset at = p->log_start_offset();
    while (at < p->log_end_offset()) {
      auto r = p->ReadBatches(at, 1 << 20);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->empty()) break;
      for (const auto& b : *r) {
        EXPECT_TRUE(ValidateBatch(b.bytes).ok());
        EXPECT_EQ(b.header.base_offset, at);
        at = b.header.next_offset();
        ++n;
      }
    }
    EXPECT_EQ(at, p->log_end_offset());
    return n;
  }

  io::MemoryFileSystem mem_;
  io::FaultInjectionFileSystem fault_;
  ManualClock clock_;
  std::unique_ptr<Log> log_;
};

TEST_F(RecoveryTest, UnflushedAppendsAreLostFlushedKept) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(P()->Append(MakeBatch(2, i)).ok());
  ASSERT_TRUE(P()->Flush().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(P()->Append(MakeBatch(2, i)).ok());
  CrashAndReopen();
  EXPECT_EQ(P()->log_end_offset(), Offset(10));
  EXPECT_EQ(CheckAll(), 5u);
  auto a = P()->Append(MakeBatch(1, 1));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->base_offset, Offset(10));
}

TEST_F(RecoveryTest, CleanCloseKeepsEverything) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "700"}}).ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(P()->Append(MakeBatch(1, i, 40)).ok());
  log_.reset();  // Close flushes
  mem_.SimulateCrash();
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(40));
  EXPECT_EQ(CheckAll(), 40u);
}

TEST_F(RecoveryTest, TornTailIsTruncated) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(P()->Append(MakeBatch(3, i)).ok());
  log_.reset();
  std::string bytes = *mem_.ReadRaw(kActive);
  std::string extra = MakeBatch(2, 9);
  for (size_t cut : {size_t{1}, size_t{11}, size_t{12}, size_t{40}, size_t{61}, extra.size() - 1}) {
    mem_.WriteRaw(kActive, bytes + extra.substr(0, cut));
    Open();
    EXPECT_EQ(P()->log_end_offset(), Offset(12)) << cut;
    EXPECT_EQ(CheckAll(), 4u);
    EXPECT_EQ(*mem_.GetFileSize(kActive), bytes.size());
    log_.reset();
  }
  Open();
  auto a = P()->Append(MakeBatch(1, 1));
  EXPECT_EQ(a->base_offset, Offset(12));
}

TEST_F(RecoveryTest, EveryTruncationPointRecoversToLastWholeBatch) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  std::vector<size_t> ends;   // byte end of each batch
  std::vector<int64_t> next;  // next offset after each batch
  size_t total = 0;
  int64_t off = 0;
  for (int i = 0; i < 4; ++i) {
    std::string b = MakeBatch(1 + i, i, 15);
    ASSERT_TRUE(P()->Append(b).ok());
    total += b.size();
    off += 1 + i;
    ends.push_back(total);
    next.push_back(off);
  }
  log_.reset();
  const std::string bytes = *mem_.ReadRaw(kActive);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    mem_.WriteRaw(kActive, bytes.substr(0, cut));
    Open();
    int64_t expect = 0;
    for (size_t i = 0; i < ends.size(); ++i) {
      if (ends[i] <= cut) expect = next[i];
    }
    ASSERT_EQ(P()->log_end_offset(), Offset(expect)) << "cut at " << cut;
    log_.reset();
  }
  Open();
}

TEST_F(RecoveryTest, CorruptMiddleOfTailCutsFromThere) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  std::vector<size_t> sizes;
  for (int i = 0; i < 5; ++i) {
    std::string b = MakeBatch(2, i, 20);
    sizes.push_back(b.size());
    ASSERT_TRUE(P()->Append(b).ok());
  }
  log_.reset();
  std::string bytes = *mem_.ReadRaw(kActive);
  // Flip a byte inside the third batch's records.
  size_t third = sizes[0] + sizes[1];
  bytes[third + 70] ^= 0x5a;
  mem_.WriteRaw(kActive, bytes);
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(4));
  EXPECT_EQ(CheckAll(), 2u);
  EXPECT_EQ(P()->Append(MakeBatch(1, 1))->base_offset, Offset(4));
}

TEST_F(RecoveryTest, GarbageActiveSegmentBecomesEmpty) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  log_.reset();
  mem_.WriteRaw(kActive, std::string(5000, '\xff'));
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(0));
  mem_.WriteRaw(kActive, "");
  CleanReopen();
  EXPECT_EQ(P()->log_end_offset(), Offset(0));
  ASSERT_TRUE(P()->Append(MakeBatch(1, 1)).ok());
}

TEST_F(RecoveryTest, BadIndexesAreRebuilt) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "1500"}}).ok());
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(P()->Append(MakeBatch(1 + i % 2, 1000 + i, 40)).ok());
  ASSERT_GT(P()->stats().segment_count, 3u);
  log_.reset();
  auto names = *mem_.ListDir("/data/log/t-0");
  std::sort(names.begin(), names.end());
  int n = 0;
  for (const std::string& name : names) {
    std::string path = std::string("/data/log/t-0/") + name;
    if (name.find(".index") != std::string::npos) {
      switch (n++ % 3) {
        case 0:
          ASSERT_TRUE(mem_.DeleteFile(path).ok());
          break;
        case 1:
          mem_.WriteRaw(path, "garbage");  // not a multiple of 8
          break;
        default:
          mem_.WriteRaw(path, std::string(16, '\x01'));  // positions wrong
      }
    } else if (name.find(".timeindex") != std::string::npos && n % 2 == 0) {
      mem_.WriteRaw(path, std::string(24, '\x7f'));
    }
  }
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(90));
  EXPECT_EQ(CheckAll(), 60u);
  for (int64_t o = 0; o < 90; ++o) {
    auto b = P()->ReadBatches(Offset(o), 1);
    ASSERT_TRUE(b.ok());
    EXPECT_LE((*b)[0].header.base_offset, Offset(o));
    EXPECT_GE((*b)[0].header.last_offset(), Offset(o));
  }
  auto l = P()->LookupTimestamp(1030);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->timestamp, 1030);
  // Rebuilt index files are valid on the next open.
  CleanReopen();
  EXPECT_EQ(CheckAll(), 60u);
}

TEST_F(RecoveryTest, TornWriteIsRolledBack) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  ASSERT_TRUE(P()->Append(MakeBatch(2, 1)).ok());
  fault_.TearNthAppend(1, 30);
  EXPECT_EQ(P()->Append(MakeBatch(3, 1)).status().code(), StatusCode::kIOError);
  EXPECT_EQ(P()->log_end_offset(), Offset(2));
  ASSERT_TRUE(P()->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(CheckAll(), 2u);
  ASSERT_TRUE(P()->Flush().ok());
  CrashAndReopen();
  EXPECT_EQ(P()->log_end_offset(), Offset(3));
  EXPECT_EQ(CheckAll(), 2u);
}

TEST_F(RecoveryTest, TornWriteThenCrashBeforeRollback) {
  // The torn prefix reaches the disk (synced by a later flush of a
  // zombie process is impossible, so plant it directly): recovery cuts it.
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  ASSERT_TRUE(P()->Append(MakeBatch(2, 1)).ok());
  ASSERT_TRUE(P()->Flush().ok());
  std::string durable = *mem_.ReadRaw(kActive);
  fault_.TearNthAppend(1, 30);
  EXPECT_FALSE(P()->Append(MakeBatch(3, 1)).ok());
  mem_.SimulateCrash();
  log_.reset();
  mem_.WriteRaw(kActive, durable + MakeBatch(3, 1).substr(0, 30));
  fault_.ClearFaults();
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(2));
  EXPECT_EQ(CheckAll(), 1u);
}

TEST_F(RecoveryTest, NoSpaceFailsAppendCleanly) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  ASSERT_TRUE(P()->Append(MakeBatch(1, 1)).ok());
  fault_.SetNoSpace(true);
  Status s = P()->Append(MakeBatch(1, 1)).status();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(s.IsTooLarge());
  fault_.SetNoSpace(false);
  ASSERT_TRUE(P()->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(CheckAll(), 2u);
}

TEST_F(RecoveryTest, FailedSyncTakesPartitionOffline) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"flush.messages", "1"}}).ok());
  fault_.FailNthSync(1);
  EXPECT_FALSE(P()->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(P()->Append(MakeBatch(1, 1)).status().code(), StatusCode::kFailedPrecondition);
  // An offline partition refuses reads too; reopening recovers.
  EXPECT_EQ(P()->Read(Offset(0), 100).status().code(), StatusCode::kFailedPrecondition);
  CleanReopen();
  EXPECT_TRUE(P()->Append(MakeBatch(1, 1)).ok());
}

TEST_F(RecoveryTest, CrashDuringRollKeepsData) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "500"}}).ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(P()->Append(MakeBatch(1, i, 60)).ok());
  // Rolls flushed every sealed segment; only the active tail can be lost.
  uint64_t segs = P()->stats().segment_count;
  Offset active_base = P()->flushed_offset();
  CrashAndReopen();
  EXPECT_EQ(P()->stats().segment_count, segs);
  EXPECT_EQ(P()->log_end_offset(), active_base);
  CheckAll();
}

TEST_F(RecoveryTest, BadMetadataAndStartFileDoNotCrash) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  ASSERT_TRUE(P()->Append(MakeBatch(1, 1)).ok());
  log_.reset();
  mem_.WriteRaw("/data/log/t-0/log-start-offset", "banana");
  Open();
  EXPECT_EQ(P()->log_start_offset(), Offset(0));
  log_.reset();
  for (const char* junk : {"", "{", "[]", "{\"version\":1}", "{\"version\":1,\"topics\":[{}]}",
                           "{\"version\":1,\"topics\":[{\"name\":\"../x\",\"id\":\"00\","
                           "\"partitions\":1,\"configs\":{}}]}"}) {
    mem_.WriteRaw("/data/log/topics.json", junk);
    LogOptions o;
    o.fs = &mem_;
    auto log = Log::Open(kDir, o);
    EXPECT_FALSE(log.ok()) << junk;
  }
}

}  // namespace
}  // namespace braid::log
