#include "log/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/coding.h"
#include "io/fault_injection_file_system.h"
#include "io/memory_file_system.h"
#include "log/tests/batch_builder.h"

namespace braid::log {
namespace {

using testing::BuildBatch;
using testing::MakeBatch;

class LogTest : public ::testing::Test {
 protected:
  LogTest() : fault_(&mem_) {}

  void Open() {
    LogOptions o;
    o.fs = &fault_;
    o.clock = &clock_;
    o.index_interval_bytes = 100;
    o.fsync_every_append = fsync_every_append_;
    auto log = Log::Open("/data/log", o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }
  void SetUp() override { Open(); }
  void Reopen() {
    log_.reset();
    Open();
  }

  std::shared_ptr<Partition> P(const std::string& topic = "t", int32_t p = 0) {
    auto r = log_->GetPartition(topic, PartitionId(p));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nullptr;
  }

  // Reads every batch from log start to log end.
  std::vector<StoredBatch> ReadAll(Partition* p, uint64_t max_bytes = 1 << 20) {
    std::vector<StoredBatch> all;
    Offset at = p->log_start_offset();
    while (at < p->log_end_offset()) {
      auto r = p->ReadBatches(at, max_bytes);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->empty()) break;
      for (auto& b : *r) {
        EXPECT_TRUE(ValidateBatch(b.bytes).ok());
        at = b.header.next_offset();
        all.push_back(std::move(b));
      }
    }
    return all;
  }

  io::MemoryFileSystem mem_;
  io::FaultInjectionFileSystem fault_;
  ManualClock clock_;
  bool fsync_every_append_ = false;
  std::unique_ptr<Log> log_;
};

TEST_F(LogTest, AppendAssignsOffsetsAndReads) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  auto a = p->Append(MakeBatch(3, 1000));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->base_offset, Offset(0));
  EXPECT_EQ(a->last_offset, Offset(2));
  EXPECT_EQ(a->log_append_time_ms, -1);
  EXPECT_EQ(a->log_start_offset, Offset(0));
  EXPECT_FALSE(a->flushed);
  a = p->Append(MakeBatch(2, 2000));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->base_offset, Offset(3));
  a = p->Append(MakeBatch(1, 3000));
  EXPECT_EQ(a->base_offset, Offset(5));
  EXPECT_EQ(p->log_end_offset(), Offset(6));
  EXPECT_EQ(p->high_watermark(), Offset(6));

  auto r = p->Read(Offset(0), 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->slice.first_offset, Offset(0));
  EXPECT_EQ(r->slice.next_offset, Offset(6));
  EXPECT_EQ(r->high_watermark, Offset(6));
  std::string bytes;
  ASSERT_TRUE(r->slice.AppendTo(&bytes).ok());
  EXPECT_EQ(bytes.size(), r->slice.size);

  // Starts at the batch containing the offset, whole.
  auto b = p->ReadBatches(Offset(4), 1 << 20);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].header.base_offset, Offset(3));
  EXPECT_EQ(static_cast<int64_t>(coding::DecodeBigEndian64((*b)[0].bytes.data())), 3);
  EXPECT_TRUE(ValidateBatch((*b)[0].bytes).ok());  // CRC still valid

  // KIP-74: at least one whole batch even when max_bytes is tiny.
  b = p->ReadBatches(Offset(0), 1);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].header.record_count, 3);

  // At LEO: empty. Beyond or below: OutOfRange.
  r = p->Read(Offset(6), 100);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->slice.empty());
  EXPECT_EQ(p->Read(Offset(7), 100).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(p->Read(Offset(-1), 100).status().code(), StatusCode::kOutOfRange);
}

TEST_F(LogTest, MaxBytesLimitsWholeBatches) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  std::string one = MakeBatch(1, 1, 50);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(p->Append(one).ok());
  for (uint64_t max : {one.size(), one.size() * 3 + 5, one.size() * 10, uint64_t{100000}}) {
    auto b = p->ReadBatches(Offset(7), max);
    ASSERT_TRUE(b.ok());
    size_t expect = std::min<size_t>(43, std::max<size_t>(1, max / one.size()));
    EXPECT_EQ(b->size(), expect) << max;
    EXPECT_EQ((*b)[0].header.base_offset, Offset(7));
  }
}

TEST_F(LogTest, RejectsBadBatchesAndAppendsNothing) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"max.message.bytes", "200"}}).ok());
  auto p = P();
  ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok());
  std::string bad = MakeBatch(2, 1);
  bad[bad.size() - 1] ^= 0x40;
  EXPECT_TRUE(p->Append(bad).status().IsCorruption());
  // A good batch followed by a bad one: nothing appended.
  EXPECT_TRUE(p->Append(MakeBatch(1, 1) + bad).status().IsCorruption());
  EXPECT_TRUE(p->Append("").status().IsInvalidArgument());
  EXPECT_TRUE(p->Append("garbage").status().IsInvalidArgument());
  Status big = p->Append(MakeBatch(1, 1, 300)).status();
  EXPECT_TRUE(big.IsTooLarge()) << big.ToString();
  EXPECT_FALSE(Status::ResourceExhausted("disk full").IsTooLarge());
  EXPECT_EQ(p->log_end_offset(), Offset(1));
  EXPECT_EQ(ReadAll(p.get()).size(), 1u);
}

TEST_F(LogTest, MultipleBatchesInOneAppend) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  auto a = p->Append(MakeBatch(2, 1) + MakeBatch(3, 2));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->base_offset, Offset(0));
  EXPECT_EQ(a->last_offset, Offset(4));
  auto all = ReadAll(p.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].header.base_offset, Offset(2));
}

TEST_F(LogTest, RollsBySegmentBytesAndReadsAcrossSegments) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "1000"}}).ok());
  auto p = P();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p->Append(MakeBatch(1 + i % 3, i, 40)).ok());
  PartitionStats st = p->stats();
  EXPECT_GT(st.segment_count, 5u);
  auto all = ReadAll(p.get(), 300);
  ASSERT_EQ(all.size(), 100u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].header.base_offset, all[i - 1].header.next_offset());
  }
  // Every offset can be read directly.
  for (int64_t o = 0; o < p->log_end_offset().value(); ++o) {
    auto b = p->ReadBatches(Offset(o), 1);
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b->size(), 1u);
    EXPECT_LE((*b)[0].header.base_offset, Offset(o));
    EXPECT_GE((*b)[0].header.last_offset(), Offset(o));
  }
  // Still true after reopening (indexes from files).
  Reopen();
  p = P();
  EXPECT_EQ(ReadAll(p.get()).size(), 100u);
  EXPECT_EQ(p->stats().segment_count, st.segment_count);
}

TEST_F(LogTest, RollsBySegmentMs) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.ms", "1000"}, {"retention.ms", "-1"}}).ok());
  auto p = P();
  ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok());
  clock_.AdvanceMillis(500);
  ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(p->stats().segment_count, 1u);
  clock_.AdvanceMillis(600);
  ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(p->stats().segment_count, 2u);
  clock_.AdvanceMillis(1000);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_EQ(p->stats().segment_count, 3u);
  // An empty active segment is not rolled.
  clock_.AdvanceMillis(5000);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_EQ(p->stats().segment_count, 3u);
  EXPECT_EQ(ReadAll(p.get()).size(), 3u);
}

TEST_F(LogTest, RetentionByTime) {
  ASSERT_TRUE(
      log_->CreateTopic("t", 1, {{"segment.bytes", "500"}, {"retention.ms", "10000"}}).ok());
  auto p = P();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(p->Append(MakeBatch(1, clock_.NowMillis(), 100)).ok());
    clock_.AdvanceMillis(1000);
  }
  uint64_t before = p->stats().segment_count;
  ASSERT_GT(before, 4u);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_LT(p->stats().segment_count, before);
  EXPECT_GT(p->log_start_offset(), Offset(0));
  EXPECT_EQ(p->Read(Offset(0), 100).status().code(), StatusCode::kOutOfRange);
  // Far future: everything but the active segment goes.
  clock_.AdvanceMillis(1000000);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_EQ(p->stats().segment_count, 1u);
  EXPECT_EQ(p->log_end_offset(), Offset(20));
  auto all = ReadAll(p.get());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().header.next_offset(), Offset(20));
  Offset start = p->log_start_offset();
  Reopen();
  EXPECT_EQ(P()->log_start_offset(), start);
}

TEST_F(LogTest, RetentionBySize) {
  ASSERT_TRUE(
      log_->CreateTopic("t", 1, {{"segment.bytes", "1000"}, {"retention.bytes", "3000"}}).ok());
  auto p = P();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(p->Append(MakeBatch(1, clock_.NowMillis(), 100)).ok());
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  PartitionStats st = p->stats();
  EXPECT_GE(st.size_bytes, 3000u - 1000u);
  EXPECT_LE(st.size_bytes, 3000u + 1000u);
  EXPECT_GT(st.log_start_offset, Offset(0));
}

TEST_F(LogTest, CompactOnlyTopicsAreNotDeleted) {
  ASSERT_TRUE(
      log_->CreateTopic(
              "t", 1,
              {{"segment.bytes", "500"}, {"retention.ms", "1"}, {"cleanup.policy", "compact"}})
          .ok());
  auto p = P();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p->Append(MakeBatch(1, 0, 100)).ok());
  clock_.AdvanceMillis(100000);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_EQ(p->log_start_offset(), Offset(0));
}

TEST_F(LogTest, DeleteRecordsMovesLogStartDurably) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "500"}}).ok());
  auto p = P();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(p->Append(MakeBatch(2, 1, 100)).ok());
  EXPECT_EQ(p->DeleteRecords(Offset(41)).status().code(), StatusCode::kOutOfRange);
  auto r = p->DeleteRecords(Offset(15));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Offset(15));
  EXPECT_EQ(p->log_start_offset(), Offset(15));
  EXPECT_EQ(p->Read(Offset(14), 100).status().code(), StatusCode::kOutOfRange);
  // Reading at the start offset returns the batch containing it.
  auto b = p->ReadBatches(Offset(15), 1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].header.base_offset, Offset(14));
  EXPECT_EQ(*p->DeleteRecords(Offset(3)), Offset(15));  // never moves back
  mem_.SimulateCrash();
  log_.reset();
  Open();
  p = P();
  EXPECT_EQ(p->log_start_offset(), Offset(15));
  // DeleteRecords made everything below 15 durable; the rest may be lost.
  EXPECT_GE(p->log_end_offset(), Offset(15));
  const Offset end = p->log_end_offset();
  ASSERT_TRUE(p->DeleteRecords(end).ok());
  ASSERT_TRUE(p->Read(end, 10).ok());
  auto a = p->Append(MakeBatch(1, 1));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->base_offset, end);
  EXPECT_EQ(a->log_start_offset, end);
}

TEST_F(LogTest, LookupTimestamp) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "400"}}).ok());
  auto p = P();
  // Batches of 2 records with timestamps 100i, 100i+1; one out-of-order batch.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(p->Append(MakeBatch(2, 100 * i, 20)).ok());
  ASSERT_TRUE(p->Append(BuildBatch({{"x", "y", 5}, {"x", "y", 5000}})).ok());
  auto l = p->LookupTimestamp(0);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->offset, Offset(0));
  l = p->LookupTimestamp(501);  // second record of batch 5
  EXPECT_EQ(l->offset, Offset(11));
  EXPECT_EQ(l->timestamp, 501);
  l = p->LookupTimestamp(502);
  EXPECT_EQ(l->offset, Offset(12));
  l = p->LookupTimestamp(1902);  // only in the last batch's second record
  EXPECT_EQ(l->offset, Offset(41));
  EXPECT_EQ(l->timestamp, 5000);
  l = p->LookupTimestamp(6000);
  EXPECT_EQ(l->offset, Offset(-1));
  EXPECT_EQ(l->timestamp, -1);
  ASSERT_TRUE(p->DeleteRecords(Offset(13)).ok());
  l = p->LookupTimestamp(0);
  EXPECT_EQ(l->offset, Offset(13));
}

TEST_F(LogTest, LogAppendTimeStampsBatches) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"message.timestamp.type", "LogAppendTime"}}).ok());
  auto p = P();
  auto a = p->Append(MakeBatch(2, 5));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->log_append_time_ms, clock_.NowMillis());
  auto b = p->ReadBatches(Offset(0), 1000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].header.max_timestamp, clock_.NowMillis());
  EXPECT_EQ((*b)[0].header.timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_TRUE(ValidateBatch((*b)[0].bytes).ok());
}

TEST_F(LogTest, FlushPolicies) {
  ASSERT_TRUE(log_->CreateTopic("never", 1).ok());
  ASSERT_TRUE(log_->CreateTopic("every3", 1, {{"flush.messages", "3"}}).ok());
  ASSERT_TRUE(log_->CreateTopic("ms", 1, {{"flush.ms", "1000"}}).ok());
  auto never = P("never");
  auto every3 = P("every3");
  auto ms = P("ms");
  uint64_t syncs = fault_.sync_count();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(never->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(fault_.sync_count(), syncs);
  EXPECT_EQ(never->flushed_offset(), Offset(0));
  ASSERT_TRUE(every3->Append(MakeBatch(2, 1)).ok());
  EXPECT_EQ(every3->flushed_offset(), Offset(0));
  auto a = every3->Append(MakeBatch(1, 1));
  EXPECT_TRUE(a->flushed);
  EXPECT_EQ(every3->flushed_offset(), Offset(3));
  EXPECT_EQ(fault_.sync_count(), syncs + 1);
  ASSERT_TRUE(ms->Append(MakeBatch(1, 1)).ok());
  clock_.AdvanceMillis(999);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_EQ(ms->flushed_offset(), Offset(0));
  clock_.AdvanceMillis(1);
  ASSERT_TRUE(log_->RunMaintenance(clock_.NowMillis()).ok());
  EXPECT_EQ(ms->flushed_offset(), Offset(1));
  EXPECT_EQ(never->flushed_offset(), Offset(0));
  uint64_t before = log_->fsync_count();
  ASSERT_TRUE(log_->FlushAll().ok());
  EXPECT_EQ(never->flushed_offset(), Offset(5));
  EXPECT_GT(log_->fsync_count(), before);
}

TEST_F(LogTest, FsyncEveryAppendOption) {
  fsync_every_append_ = true;
  Reopen();
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  uint64_t syncs = fault_.sync_count();
  for (int i = 0; i < 4; ++i) {
    auto a = p->Append(MakeBatch(1, 1));
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->flushed);
  }
  EXPECT_EQ(fault_.sync_count(), syncs + 4);
  mem_.SimulateCrash();
  log_.reset();
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(4));
}

TEST_F(LogTest, GroupCommitSharesFsyncs) {
  fsync_every_append_ = true;
  Reopen();
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  uint64_t syncs = fault_.sync_count();
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto a = p->Append(MakeBatch(1, 1));
        ASSERT_TRUE(a.ok());
        ASSERT_TRUE(a->flushed);
        ASSERT_GE(p->flushed_offset(), a->last_offset);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(fault_.sync_count() - syncs, 200u);
  EXPECT_EQ(p->flushed_offset(), Offset(200));
  mem_.SimulateCrash();
  log_.reset();
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(200));
}

// Collects SyncAsync results.
struct SyncWaiter {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> results;  // guarded by mu
  std::function<void(Status)> Callback() {
    return [this](Status s) {
      std::lock_guard<std::mutex> l(mu);
      results.push_back(std::move(s));
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), [&] { return results.size() >= n; });
  }
};

TEST_F(LogTest, DeferredSyncIsAGroupCommitOffTheCallingThread) {
  fsync_every_append_ = true;
  Reopen();
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  const uint64_t syncs = fault_.sync_count();
  std::vector<Offset> last;
  for (int i = 0; i < 20; ++i) {
    auto a = p->Append(MakeBatch(2, 1), AppendOptions{.defer_sync = true});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_TRUE(a->needs_sync);
    EXPECT_FALSE(a->flushed);
    last.push_back(a->last_offset);
  }
  EXPECT_EQ(fault_.sync_count(), syncs);  // nothing synced on this thread
  EXPECT_EQ(p->flushed_offset(), Offset(0));
  SyncWaiter w;
  for (Offset o : last) p->SyncAsync(o, w.Callback());
  ASSERT_TRUE(w.WaitFor(last.size()));
  for (const Status& s : w.results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(p->flushed_offset(), Offset(40));
  // One fsync covered the 20 appends made before it (a second one at most,
  // if the sync thread started its round before the last SyncAsync).
  EXPECT_GE(fault_.sync_count() - syncs, 1u);
  EXPECT_LE(fault_.sync_count() - syncs, 2u);
  // Already durable: answered at once, on this thread, without an fsync.
  bool called = false;
  p->SyncAsync(Offset(39), [&](Status s) {
    EXPECT_TRUE(s.ok());
    called = true;
  });
  EXPECT_TRUE(called);
  mem_.SimulateCrash();
  log_.reset();
  Open();
  EXPECT_EQ(P()->log_end_offset(), Offset(40));
}

TEST_F(LogTest, DeferredSyncFollowsFlushMessages) {
  ASSERT_TRUE(log_->CreateTopic("every3", 1, {{"flush.messages", "3"}}).ok());
  auto p = P("every3");
  auto a = p->Append(MakeBatch(2, 1), AppendOptions{.defer_sync = true});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->needs_sync);
  a = p->Append(MakeBatch(1, 1), AppendOptions{.defer_sync = true});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->needs_sync);
  SyncWaiter w;
  p->SyncAsync(a->last_offset, w.Callback());
  ASSERT_TRUE(w.WaitFor(1));
  EXPECT_TRUE(w.results[0].ok());
  EXPECT_EQ(p->flushed_offset(), Offset(3));
}

TEST_F(LogTest, DeferredSyncFailureTakesThePartitionOffline) {
  fsync_every_append_ = true;
  Reopen();
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  auto a = p->Append(MakeBatch(1, 1), AppendOptions{.defer_sync = true});
  ASSERT_TRUE(a.ok());
  fault_.FailNthSync(1);
  SyncWaiter w;
  p->SyncAsync(a->last_offset, w.Callback());
  ASSERT_TRUE(w.WaitFor(1));
  EXPECT_FALSE(w.results[0].ok());
  // Offline now: refused at once.
  SyncWaiter w2;
  p->SyncAsync(a->last_offset, w2.Callback());
  ASSERT_TRUE(w2.WaitFor(1));
  EXPECT_TRUE(w2.results[0].code() == StatusCode::kFailedPrecondition) << w2.results[0].ToString();
  fault_.ClearFaults();
}

TEST_F(LogTest, DeferredSyncOnADeletedOrClosedPartition) {
  fsync_every_append_ = true;
  Reopen();
  ASSERT_TRUE(log_->CreateTopic("gone", 1).ok());
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto gone = P("gone");
  auto a = gone->Append(MakeBatch(1, 1), AppendOptions{.defer_sync = true});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(log_->DeleteTopic("gone").ok());
  SyncWaiter w;
  gone->SyncAsync(a->last_offset, w.Callback());
  ASSERT_TRUE(w.WaitFor(1));
  EXPECT_TRUE(w.results[0].IsNotFound()) << w.results[0].ToString();
  // Close flushes: what was appended before is durable, later calls fail.
  auto p = P();
  a = p->Append(MakeBatch(1, 1), AppendOptions{.defer_sync = true});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(log_->Close().ok());
  SyncWaiter w2;
  p->SyncAsync(a->last_offset, w2.Callback());
  ASSERT_TRUE(w2.WaitFor(1));
  EXPECT_TRUE(w2.results[0].ok()) << w2.results[0].ToString();
  SyncWaiter w3;
  p->SyncAsync(Offset(5), w3.Callback());
  ASSERT_TRUE(w3.WaitFor(1));
  EXPECT_TRUE(w3.results[0].code() == StatusCode::kFailedPrecondition) << w3.results[0].ToString();
}

TEST_F(LogTest, TopicAdminAndPersistence) {
  EXPECT_TRUE(Log::ValidateTopicName("a.b_c-D9").ok());
  for (const char* bad : {"", ".", "..", "a b", "a/b", "ü"}) {
    EXPECT_TRUE(Log::ValidateTopicName(bad).IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(Log::ValidateTopicName(std::string(249, 'a')).ok());
  EXPECT_TRUE(Log::ValidateTopicName(std::string(250, 'a')).IsInvalidArgument());
  EXPECT_TRUE(log_->CreateTopic("x", 0).IsInvalidArgument());
  EXPECT_TRUE(log_->CreateTopic("x", 1, {{"nonsense.key", "1"}}).IsInvalidArgument());
  EXPECT_TRUE(log_->CreateTopic("x", 1, {{"retention.ms", "abc"}}).IsInvalidArgument());
  EXPECT_TRUE(log_->CreateTopic("x", 1, {{"message.timestamp.type", "Now"}}).IsInvalidArgument());
  ASSERT_TRUE(log_->CreateTopic("events", 3,
                                {{"retention.ms", "3600000"},
                                 {"braid.schema.subject", "events-value"},
                                 {"min.insync.replicas", "1"}})
                  .ok());
  ASSERT_TRUE(log_->CreateTopic("dflt", -1).ok());
  EXPECT_EQ(log_->CreateTopic("events", 1).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(P("events", 2)->Append(MakeBatch(2, 1)).ok());
  TopicId id = log_->DescribeTopic("events")->id;

  mem_.SimulateCrash();  // topic creation is durable
  log_.reset();
  Open();
  auto t = log_->DescribeTopic("events");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->partition_count, 3);
  EXPECT_EQ(t->id, id);
  EXPECT_EQ(t->config.retention_ms, 3600000);
  EXPECT_EQ(t->config.segment_bytes, 1073741824);
  EXPECT_EQ(t->config.ToMap().at("braid.schema.subject"), "events-value");
  EXPECT_EQ(t->overrides.size(), 3u);
  EXPECT_EQ(log_->DescribeTopic("dflt")->partition_count, 1);
  EXPECT_EQ(log_->ListTopics().size(), 2u);

  ASSERT_TRUE(
      log_->UpdateTopicConfigs("events", {{"retention.bytes", "1000"}}, {"retention.ms"}).ok());
  t = log_->DescribeTopic("events");
  EXPECT_EQ(t->config.retention_ms, 604800000);
  EXPECT_EQ(t->config.retention_bytes, 1000);
  EXPECT_TRUE(log_->UpdateTopicConfigs("events", {{"segment.bytes", "1"}}, {}).IsInvalidArgument());
  ASSERT_TRUE(log_->SetTopicConfigs("events", {{"flush.messages", "1"}}).ok());
  t = log_->DescribeTopic("events");
  EXPECT_EQ(t->overrides.size(), 1u);
  EXPECT_EQ(t->config.flush_messages, 1);
  EXPECT_TRUE(P("events", 0)->Append(MakeBatch(1, 1))->flushed);

  EXPECT_TRUE(log_->CreatePartitions("events", 3).IsInvalidArgument());
  ASSERT_TRUE(log_->CreatePartitions("events", 5).ok());
  EXPECT_TRUE(P("events", 4)->Append(MakeBatch(1, 1)).ok());
  EXPECT_TRUE(log_->GetPartition("events", PartitionId(5)).status().IsNotFound());

  auto old = P("events", 2);
  ASSERT_TRUE(log_->DeleteTopic("events").ok());
  EXPECT_TRUE(log_->DeleteTopic("events").IsNotFound());
  EXPECT_TRUE(old->Append(MakeBatch(1, 1)).status().IsNotFound());
  EXPECT_FALSE(mem_.FileExists("/data/log/events-2"));
  // Recreated: empty.
  ASSERT_TRUE(log_->CreateTopic("events", 3).ok());
  EXPECT_EQ(P("events", 2)->log_end_offset(), Offset(0));
  Reopen();
  EXPECT_EQ(log_->DescribeTopic("events")->partition_count, 3);
  EXPECT_EQ(log_->DescribeTopic("events")->overrides.size(), 0u);
  EXPECT_EQ(P("events", 2)->log_end_offset(), Offset(0));
}

TEST_F(LogTest, StatsAndFsyncCounter) {
  ASSERT_TRUE(log_->CreateTopic("t", 2, {{"segment.bytes", "300"}}).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(P("t", 1)->Append(MakeBatch(1, 1, 50)).ok());
  PartitionStats st = P("t", 1)->stats();
  EXPECT_EQ(st.log_end_offset, Offset(10));
  EXPECT_EQ(st.appended_batches, 10u);
  EXPECT_GT(st.segment_count, 1u);
  EXPECT_GT(st.size_bytes, 500u);
  LogStats ls = log_->stats();
  EXPECT_EQ(ls.topic_count, 1u);
  EXPECT_EQ(ls.partition_count, 2u);
  EXPECT_EQ(ls.size_bytes, st.size_bytes);
  EXPECT_GT(ls.fsync_count, 0u);
  EXPECT_EQ(log_->AllPartitionStats().size(), 2u);
}

TEST_F(LogTest, WaitersFireOnAppend) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  int fired = 0;
  p->RegisterWaiter(Offset(0), [&] { ++fired; });
  auto id2 = p->RegisterWaiter(Offset(1), [&] { fired += 100; });
  EXPECT_EQ(fired, 0);
  ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(p->CancelWaiter(id2));
  ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok());
  EXPECT_EQ(fired, 1);
  // Already satisfied: runs immediately.
  p->RegisterWaiter(Offset(0), [&] { fired += 10; });
  EXPECT_EQ(fired, 11);
  // Deleting the topic wakes waiters.
  p->RegisterWaiter(Offset(99), [&] { fired += 1000; });
  ASSERT_TRUE(log_->DeleteTopic("t").ok());
  EXPECT_EQ(fired, 1011);
}

TEST_F(LogTest, WaitForDataBlocksUntilAppend) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto p = P();
  auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(p->WaitForData(Offset(0), now + std::chrono::milliseconds(10)));
  std::thread writer([&] { ASSERT_TRUE(p->Append(MakeBatch(1, 1)).ok()); });
  EXPECT_TRUE(
      p->WaitForData(Offset(0), std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  writer.join();
}

TEST_F(LogTest, ConcurrentAppendAndRead) {
  ASSERT_TRUE(log_->CreateTopic("t", 2, {{"segment.bytes", "2000"}, {"retention.ms", "-1"}}).ok());
  constexpr int kWriters = 3;
  constexpr int kBatches = 150;
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kBatches; ++i) {
        ASSERT_TRUE(P("t", w % 2)->Append(MakeBatch(1 + i % 4, i, 30)).ok());
      }
    });
  }
  std::thread reader([&] {
    auto p = P("t", 0);
    Offset at(0);
    while (!done.load() || at < p->log_end_offset()) {
      auto b = p->ReadBatches(at, 500);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      for (const auto& x : *b) {
        ASSERT_TRUE(ValidateBatch(x.bytes).ok());
        ASSERT_LE(x.header.base_offset, at);
        at = x.header.next_offset();
      }
      if (b->empty())
        p->WaitForData(at, std::chrono::steady_clock::now() + std::chrono::milliseconds(5));
    }
  });
  std::thread maint([&] {
    while (!done.load()) {
      log_->RunMaintenance(clock_.NowMillis()).IgnoreError();
      P("t", 1)->stats();
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  maint.join();
  int64_t total = 0;
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kBatches; ++i) total += 1 + i % 4;
  }
  EXPECT_EQ(P("t", 0)->log_end_offset().value() + P("t", 1)->log_end_offset().value(), total);
  EXPECT_EQ(ReadAll(P("t", 0).get()).size() + ReadAll(P("t", 1).get()).size(),
            static_cast<size_t>(kWriters * kBatches));
}

TEST_F(LogTest, PosixFileSystemEndToEnd) {
  char tmpl[] = "/tmp/braid_log_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/log";
  {
    LogOptions o;
    auto log = Log::Open(dir, o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->CreateTopic("t", 1, {{"segment.bytes", "1000"}}).ok());
    auto p = *(*log)->GetPartition("t", PartitionId(0));
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(p->Append(MakeBatch(2, i, 50)).ok());
    auto r = p->Read(Offset(7), 10000);
    ASSERT_TRUE(r.ok());
    EXPECT_GE(r->slice.file->fd(), 0);
  }
  {
    auto log = Log::Open(dir, {});
    ASSERT_TRUE(log.ok());
    auto p = *(*log)->GetPartition("t", PartitionId(0));
    EXPECT_EQ(p->log_end_offset(), Offset(60));
    auto b = p->ReadBatches(Offset(59), 100);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ((*b)[0].header.base_offset, Offset(58));
  }
  ASSERT_TRUE(io::DefaultFileSystem()->DeleteDirRecursive(tmpl).ok());
}

}  // namespace
}  // namespace braid::log
