#include "kafka/group/producer_state.h"

#include <gtest/gtest.h>

#include <set>

#include "io/memory_file_system.h"
#include "kafka/group/producer_state_log.h"
#include "log/log.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

using Outcome = ProducerCheck::Outcome;

ProducerBatch B(int64_t pid, int16_t epoch, int32_t seq, int32_t count) {
  ProducerBatch b;
  b.producer_id = ProducerId(pid);
  b.producer_epoch = ProducerEpoch(epoch);
  b.base_sequence = seq;
  b.last_offset_delta = count - 1;
  b.max_timestamp = 1'700'000'000'000;
  return b;
}

class ProducerStateTest : public ::testing::Test {
 protected:
  ProducerStateTest() { Reset(); }
  void Reset() {
    ProducerStateOptions o;
    o.snapshot_dir = "/data/producers";
    m_ = std::make_unique<ProducerStateManager>(&fs_, &clock_, o);
  }
  // Simulates the broker's append: assigns offsets from a counter.
  ProducerCheck Produce(const ProducerBatch& b, int64_t* assigned = nullptr) {
    auto r = m_->CheckAndAppend(tp_, b, [&]() -> Result<Offset> {
      int64_t base = leo_;
      leo_ += b.last_offset_delta + 1;
      if (assigned) *assigned = base;
      return Offset(base);
    });
    EXPECT_TRUE(r.ok());
    return *r;
  }

  io::MemoryFileSystem fs_;
  ManualClock clock_;
  TopicPartition tp_{"t", PartitionId(0)};
  int64_t leo_ = 0;
  std::unique_ptr<ProducerStateManager> m_;
};

TEST_F(ProducerStateTest, NonIdempotentAlwaysAppends) {
  EXPECT_EQ(Produce(B(-1, -1, -1, 3)).outcome, Outcome::kAppend);
  EXPECT_EQ(Produce(B(-1, 0, 0, 3)).outcome, Outcome::kAppend);  // kafkajs style
  EXPECT_EQ(leo_, 6);
}

TEST_F(ProducerStateTest, SequenceAndDuplicate) {
  int64_t off;
  EXPECT_EQ(Produce(B(7, 0, 0, 5), &off).outcome, Outcome::kAppend);
  EXPECT_EQ(off, 0);
  EXPECT_EQ(Produce(B(7, 0, 5, 5), &off).outcome, Outcome::kAppend);
  EXPECT_EQ(off, 5);
  // Retry of the second batch: duplicate with the original offset.
  auto d = Produce(B(7, 0, 5, 5));
  EXPECT_EQ(d.outcome, Outcome::kDuplicate);
  EXPECT_EQ(d.duplicate_base_offset, Offset(5));
  auto d0 = Produce(B(7, 0, 0, 5));
  EXPECT_EQ(d0.outcome, Outcome::kDuplicate);
  EXPECT_EQ(d0.duplicate_base_offset, Offset(0));
  EXPECT_EQ(leo_, 10);
  // Gap.
  auto g = Produce(B(7, 0, 11, 1));
  EXPECT_EQ(g.outcome, Outcome::kError);
  EXPECT_EQ(g.error, ErrorCode::kOutOfOrderSequenceNumber);
  // Overlapping but different range.
  EXPECT_EQ(Produce(B(7, 0, 7, 3)).error, ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(Produce(B(7, 0, 10, 1)).outcome, Outcome::kAppend);
}

TEST_F(ProducerStateTest, OldDuplicateBeyondCache) {
  for (int i = 0; i < 8; ++i) ASSERT_EQ(Produce(B(1, 0, i, 1)).outcome, Outcome::kAppend);
  auto r = Produce(B(1, 0, 1, 1));
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_EQ(r.error, ErrorCode::kDuplicateSequenceNumber);
  EXPECT_EQ(Produce(B(1, 0, 4, 1)).outcome, Outcome::kDuplicate);  // still cached
}

TEST_F(ProducerStateTest, EpochFencing) {
  ASSERT_EQ(Produce(B(3, 1, 0, 2)).outcome, Outcome::kAppend);
  EXPECT_EQ(Produce(B(3, 0, 2, 1)).error, ErrorCode::kInvalidProducerEpoch);
  // A new epoch must start at 0.
  EXPECT_EQ(Produce(B(3, 2, 2, 1)).error, ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(Produce(B(3, 2, 0, 1)).outcome, Outcome::kAppend);
  EXPECT_EQ(Produce(B(3, 1, 2, 1)).error, ErrorCode::kInvalidProducerEpoch);
}

TEST_F(ProducerStateTest, UnknownProducerWithNonZeroSequence) {
  EXPECT_EQ(Produce(B(9, 0, 17, 1)).error, ErrorCode::kUnknownProducerId);
}

TEST_F(ProducerStateTest, SequenceWrapsAtInt32Max) {
  ASSERT_EQ(Produce(B(4, 0, 0, 3)).outcome, Outcome::kAppend);
  // Pretend the producer got near the end by replaying a batch.
  m_->ReplayBatch(tp_, B(4, 0, INT32_MAX - 1, 2), Offset(100));
  EXPECT_EQ(Produce(B(4, 0, 0, 1)).outcome, Outcome::kAppend);
}

TEST_F(ProducerStateTest, PartitionsAreIndependent) {
  ASSERT_EQ(Produce(B(5, 0, 0, 1)).outcome, Outcome::kAppend);
  TopicPartition other{"t", PartitionId(1)};
  EXPECT_EQ(m_->Check(other, B(5, 0, 0, 1)).outcome, Outcome::kAppend);
  EXPECT_EQ(m_->Check(other, B(5, 0, 1, 1)).error, ErrorCode::kUnknownProducerId);
}

TEST_F(ProducerStateTest, AppendErrorRecordsNothing) {
  auto r = m_->CheckAndAppend(tp_, B(6, 0, 0, 1),
                              []() -> Result<Offset> { return Status::IOError("disk"); });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Produce(B(6, 0, 0, 1)).outcome, Outcome::kAppend);  // the retry appends
}

TEST_F(ProducerStateTest, SnapshotRoundTrip) {
  ASSERT_EQ(Produce(B(7, 0, 0, 5)).outcome, Outcome::kAppend);
  ASSERT_EQ(Produce(B(7, 0, 5, 5)).outcome, Outcome::kAppend);
  ASSERT_TRUE(m_->WriteSnapshots().ok());
  fs_.SimulateCrash();
  Reset();
  auto from = m_->LoadSnapshot(tp_, Offset(0), Offset(leo_));
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(*from, Offset(10));
  auto d = m_->Check(tp_, B(7, 0, 5, 5));
  EXPECT_EQ(d.outcome, Outcome::kDuplicate);
  EXPECT_EQ(d.duplicate_base_offset, Offset(5));
  // A log truncated below the snapshot invalidates it.
  Reset();
  from = m_->LoadSnapshot(tp_, Offset(0), Offset(4));
  EXPECT_EQ(*from, Offset(0));
  EXPECT_EQ(m_->ProducerCount(tp_), 0u);
}

TEST_F(ProducerStateTest, CorruptSnapshotIsIgnored) {
  fs_.WriteRaw("/data/producers/t-0.producers", "BPS1garbage-garbage");
  auto from = m_->LoadSnapshot(tp_, Offset(3), Offset(10));
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(*from, Offset(3));
}

TEST_F(ProducerStateTest, ExpireIdleProducers) {
  ProducerBatch b = B(8, 0, 0, 1);
  b.max_timestamp = clock_.NowMillis();
  ASSERT_EQ(Produce(b).outcome, Outcome::kAppend);
  clock_.AdvanceMillis(86'400'001);
  m_->ExpireProducers();
  EXPECT_EQ(m_->ProducerCount(tp_), 0u);
}

TEST(ProducerIdManagerTest, IdsAreNeverReused) {
  io::MemoryFileSystem fs;
  std::set<ProducerId> seen;
  for (int round = 0; round < 3; ++round) {
    auto m = ProducerIdManager::Open(&fs, "/data/producer_ids", 10);
    ASSERT_TRUE(m.ok());
    for (int i = 0; i < 15; ++i) {
      auto id = (*m)->Next();
      ASSERT_TRUE(id.ok());
      EXPECT_GE(id->value(), 0);
      EXPECT_TRUE(seen.insert(*id).second) << *id;
    }
    fs.SimulateCrash();
  }
  fs.WriteRaw("/data/producer_ids", "junk");
  EXPECT_FALSE(ProducerIdManager::Open(&fs, "/data/producer_ids").ok());
}

// Recovery from the real log: the batches a producer wrote before a restart
// are recognised as duplicates afterwards, with and without a snapshot.
TEST(ProducerStateLogTest, RecoverFromLogBatches) {
  io::MemoryFileSystem fs;
  ManualClock clock;
  auto make_batch = [](int32_t seq, int n) {
    log::BatchBuilderOptions o;
    o.producer_id = ProducerId(42);
    o.producer_epoch = ProducerEpoch(0);
    o.base_sequence = seq;
    log::BatchBuilder b(o);
    for (int i = 0; i < n; ++i) b.Add(1'700'000'000'000 + i, std::nullopt, "v");
    return *b.Build();
  };
  log::LogOptions lo;
  lo.fs = &fs;
  lo.clock = &clock;
  ProducerStateOptions po;
  po.snapshot_dir = "/data/producer-state";
  TopicPartition tp{"events", PartitionId(0)};
  {
    auto lg = log::Log::Open("/data/log", lo);
    ASSERT_TRUE(lg.ok()) << lg.status().ToString();
    ASSERT_TRUE((*lg)->CreateTopic("events", 1).ok());
    auto part = *(*lg)->GetPartition("events", PartitionId(0));
    ProducerStateManager m(&fs, &clock, po);
    ASSERT_TRUE(RecoverFromLog(&m, *part).ok());
    for (int i = 0; i < 3; ++i) {
      std::string batch = make_batch(i * 4, 4);
      auto h = log::ParseBatchHeader(batch);
      ASSERT_TRUE(h.ok());
      ProducerBatch pb;
      pb.producer_id = h->producer_id;
      pb.producer_epoch = h->producer_epoch;
      pb.base_sequence = h->base_sequence;
      pb.last_offset_delta = h->last_offset_delta;
      auto r = m.CheckAndAppend(tp, pb, [&]() -> Result<Offset> {
        ASSIGN_OR_RETURN(auto ar, part->Append(batch));
        return ar.base_offset;
      });
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->outcome, Outcome::kAppend);
      if (i == 0) {
        ASSERT_TRUE(m.WriteSnapshots().ok());  // snapshot after the first batch
      }
    }
    ASSERT_TRUE((*lg)->Close().ok());
  }
  // Restart: snapshot (1 batch) + replay of the log tail (2 batches).
  auto lg = log::Log::Open("/data/log", lo);
  ASSERT_TRUE(lg.ok());
  auto part = *(*lg)->GetPartition("events", PartitionId(0));
  for (bool with_snapshot : {true, false}) {
    if (!with_snapshot) {
      ASSERT_TRUE(fs.DeleteFile("/data/producer-state/events-0.producers").ok());
    }
    ProducerStateManager m(&fs, &clock, po);
    ASSERT_TRUE(RecoverFromLog(&m, *part).ok());
    for (int i = 0; i < 3; ++i) {
      auto d = m.Check(tp, B(42, 0, i * 4, 4));
      EXPECT_EQ(d.outcome, Outcome::kDuplicate) << i;
      EXPECT_EQ(d.duplicate_base_offset, Offset(i * 4));
    }
    EXPECT_EQ(m.Check(tp, B(42, 0, 12, 1)).outcome, Outcome::kAppend);
    EXPECT_EQ(m.Check(tp, B(42, 0, 13, 1)).error, ErrorCode::kOutOfOrderSequenceNumber);
  }
}

}  // namespace
}  // namespace braid::kafka
