#include "kafka/group/offset_store.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/memory_file_system.h"
#include "kafka/group/legacy_offsets_file.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

TopicPartition TP(std::string topic, int32_t partition) {
  return {std::move(topic), PartitionId(partition)};
}

CommittedOffset C(int64_t offset, std::optional<std::string> meta = "m") {
  CommittedOffset c;
  c.offset = Offset(offset);
  c.leader_epoch = 1;
  c.metadata = std::move(meta);
  c.commit_timestamp_ms = 1000 + offset;
  return c;
}

class OffsetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenLog(); }

  void OpenLog() {
    store_.reset();
    log_.reset();
    log::LogOptions lo;
    lo.fs = &fs_;
    lo.clock = &clock_;
    auto log = log::Log::Open("/data/log", lo);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
  }

  std::unique_ptr<OffsetStore> Open(OffsetStoreOptions o = {}) {
    if (o.num_partitions == 50) o.num_partitions = partitions_;
    o.legacy_fs = &fs_;
    auto s = OffsetStore::Open(log_.get(), &clock_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Restart: a crash drops what is not durable, then the log is reopened.
  void Crash() {
    store_.reset();
    log_.reset();
    fs_.SimulateCrash();
    OpenLog();
  }

  // Every record of the topic, decoded as a consumer would: (partition,
  // key, value-or-null).
  struct Rec {
    int32_t partition;
    OffsetsTopicKey key;
    std::optional<std::string> value;
  };
  std::vector<Rec> ReadTopic() {
    std::vector<Rec> out;
    auto info = log_->DescribeTopic(kConsumerOffsetsTopic);
    EXPECT_TRUE(info.ok());
    for (int32_t p = 0; p < info->partition_count; ++p) {
      auto part = *log_->GetPartition(kConsumerOffsetsTopic, PartitionId(p));
      auto batches = part->ReadBatches(part->log_start_offset(), 64 << 20);
      EXPECT_TRUE(batches.ok());
      for (const auto& b : *batches) {
        auto recs = log::DecodeRecords(log::BatchView{b.header, b.bytes});
        EXPECT_TRUE(recs.ok());
        for (auto& r : *recs) {
          auto key = DecodeOffsetsTopicKey(*r.key);
          EXPECT_TRUE(key.ok());
          out.push_back({p, *key, r.value});
        }
      }
    }
    return out;
  }

  io::MemoryFileSystem fs_;
  ManualClock clock_;
  int32_t partitions_ = 3;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<OffsetStore> store_;
};

TEST(OffsetsTopicFormatTest, KafkasPartitionerUsesJavaHashCode) {
  // Java: "hello".hashCode() == 99162322, "abc" == 96354, "é" == 233,
  // "\uD83D\uDE00" (U+1F600) == 0xD83D * 31 + 0xDE00 == 1772899.
  EXPECT_EQ(OffsetsPartitionFor("hello", 50).value(), 99162322 % 50);
  EXPECT_EQ(OffsetsPartitionFor("abc", 50).value(), 96354 % 50);
  EXPECT_EQ(OffsetsPartitionFor("\xc3\xa9", 50).value(), 233 % 50);
  EXPECT_EQ(OffsetsPartitionFor("\xf0\x9f\x98\x80", 1000).value(), 1772899 % 1000);
  // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs gives 0.
  EXPECT_EQ(OffsetsPartitionFor("polygenelubricants", 7).value(), 0);
  // Negative hash codes: "console-consumer-40".hashCode() < 0 in Java; abs.
  for (std::string g : {"console-consumer-40", "my-group", "g", ""}) {
    int32_t p = OffsetsPartitionFor(g, 50).value();
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 50);
  }
}

TEST(OffsetsTopicFormatTest, KeysAndValuesRoundTripInKafkasLayout) {
  std::string k = EncodeOffsetCommitKey("grp", TP("topic", 7));
  // int16 version 1, string "grp", string "topic", int32 7.
  EXPECT_EQ(k, std::string("\x00\x01\x00\x03grp\x00\x05topic\x00\x00\x00\x07", 2 + 5 + 7 + 4));
  auto dk = DecodeOffsetsTopicKey(k);
  ASSERT_TRUE(dk.ok());
  EXPECT_EQ(dk->kind, OffsetsTopicKey::Kind::kOffsetCommit);
  EXPECT_EQ(dk->group, "grp");
  EXPECT_EQ(dk->tp.partition.value(), 7);
  std::string v = EncodeOffsetCommitValue(C(42));
  EXPECT_EQ(v.substr(0, 2), std::string("\x00\x03", 2));  // version 3
  EXPECT_EQ(v.size(), 2u + 8 + 4 + 2 + 1 + 8);
  auto dv = DecodeOffsetCommitValue(v);
  ASSERT_TRUE(dv.ok());
  EXPECT_EQ(dv->offset.value(), 42);
  EXPECT_EQ(dv->leader_epoch, 1);
  EXPECT_EQ(dv->metadata, "m");
  EXPECT_EQ(dv->commit_timestamp_ms, 1042);
  // Version 1 (expire timestamp) as older Kafka wrote it.
  std::string v1(
      "\x00\x01\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x06",
      2 + 8 + 2 + 8 + 8);
  auto d1 = DecodeOffsetCommitValue(v1);
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(d1->offset.value(), 9);
  EXPECT_EQ(d1->commit_timestamp_ms, 5);
  GroupMetadata md;
  md.protocol_type = "consumer";
  md.generation = GenerationId(3);
  md.protocol = "range";
  md.leader = "m1";
  md.current_state_timestamp_ms = 77;
  md.members.push_back({"m1", std::string("inst"), "cid", "/1.2.3.4", 300000, 10000, "sub", "asg"});
  auto dg = DecodeGroupMetadataValue(EncodeGroupMetadataValue(md));
  ASSERT_TRUE(dg.ok());
  EXPECT_EQ(dg->generation.value(), 3);
  EXPECT_EQ(dg->protocol, "range");
  ASSERT_EQ(dg->members.size(), 1u);
  EXPECT_EQ(dg->members[0].group_instance_id, "inst");
  EXPECT_EQ(dg->members[0].assignment, "asg");
  // Hostile input: every prefix is an error, never a crash.
  std::string g = EncodeGroupMetadataValue(md);
  for (size_t n = 0; n < g.size(); ++n) {
    EXPECT_FALSE(DecodeGroupMetadataValue(g.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeOffsetsTopicKey(std::string("\x00\x07", 2)).ok());
  EXPECT_FALSE(DecodeOffsetCommitValue(std::string("\x00\x09", 2)).ok());
}

TEST_F(OffsetStoreTest, ReplayGivesTheLastValuePerKey) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Commit("g", {{TP("t", 0), C(1)}, {TP("t", 1), C(2, std::nullopt)}}).ok());
    ASSERT_TRUE(s->Commit("g", {{TP("t", 0), C(5)}}).ok());
    ASSERT_TRUE(s->Commit("h", {{TP("t", 0), C(7)}}).ok());
    ASSERT_TRUE(s->DeleteOffsets("g", {TP("t", 1)}).ok());
    GroupMetadata md;
    md.protocol_type = "consumer";
    md.generation = GenerationId(4);
    md.current_state_timestamp_ms = 1234;
    ASSERT_TRUE(s->StoreGroupMetadata("g", md).ok());
    ASSERT_TRUE(s->DeleteGroup("h").ok());
  }
  Crash();  // every write was fsynced
  auto s = Open();
  ASSERT_EQ(s->groups().size(), 1u);
  const StoredGroup* g = s->Find("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->protocol_type(), "consumer");
  EXPECT_EQ(g->metadata->generation.value(), 4);
  EXPECT_EQ(g->empty_since_ms(), 1234);
  ASSERT_EQ(g->offsets.size(), 1u);
  const CommittedOffset& c = g->offsets.at(TP("t", 0));
  EXPECT_EQ(c.offset.value(), 5);
  EXPECT_EQ(c.leader_epoch, 1);
  EXPECT_EQ(c.metadata, "m");
  EXPECT_EQ(c.commit_timestamp_ms, 1005);
}

TEST_F(OffsetStoreTest, TopicHoldsKafkaRecordsInTheGroupsPartition) {
  auto s = Open();
  ASSERT_TRUE(s->Commit("grp-a", {{TP("t", 0), C(10)}}).ok());
  ASSERT_TRUE(s->DeleteOffsets("grp-a", {TP("t", 0)}).ok());
  auto info = log_->DescribeTopic(kConsumerOffsetsTopic);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->partition_count, 3);
  EXPECT_EQ(info->config.cleanup_policy, "compact");
  auto recs = ReadTopic();
  ASSERT_EQ(recs.size(), 2u);
  for (const auto& r : recs) EXPECT_EQ(r.partition, OffsetsPartitionFor("grp-a", 3).value());
  EXPECT_EQ(recs[0].key.version, 1);
  EXPECT_EQ(recs[0].key.tp.topic, "t");
  ASSERT_TRUE(recs[0].value.has_value());
  EXPECT_EQ(DecodeOffsetCommitValue(*recs[0].value)->offset.value(), 10);
  EXPECT_FALSE(recs[1].value.has_value());  // the tombstone
}

TEST_F(OffsetStoreTest, CompactionBoundsTheTopicAndKeepsTheImage) {
  partitions_ = 1;
  OffsetStoreOptions o;
  o.compact_min_bytes = 64 * 1024;
  auto s = Open(o);
  std::string meta(200, 'x');
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(s->Commit("g", {{TP("t", i % 5), C(i, meta)}}).ok());
    if (i % 7 == 0) {
      ASSERT_TRUE(s->DeleteOffsets("g", {TP("t", 4)}).ok());
    }
  }
  EXPECT_GT(s->compactions(), 0u);
  auto part = *log_->GetPartition(kConsumerOffsetsTopic, PartitionId(0));
  // Bounded: at most about twice the threshold plus one record batch.
  EXPECT_LT(part->stats().size_bytes, 3u * 64 * 1024);
  EXPECT_GT(part->log_start_offset().value(), 0);
  std::map<int32_t, int64_t> want;
  for (const auto& [tp, c] : s->Find("g")->offsets) want[tp.partition.value()] = c.offset.value();
  Crash();
  auto again = Open(o);
  std::map<int32_t, int64_t> got;
  for (const auto& [tp, c] : again->Find("g")->offsets)
    got[tp.partition.value()] = c.offset.value();
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.at(3), 2998);
}

TEST_F(OffsetStoreTest, MigratesTheLegacyFileOnce) {
  std::map<std::string, LegacyGroup> legacy;
  legacy["g"].protocol_type = "consumer";
  legacy["g"].empty_since_ms = 555;
  legacy["g"].offsets[TP("t", 0)] = C(11);
  legacy["g"].offsets[TP("t", 1)] = C(12, std::nullopt);
  legacy["simple"].offsets[TP("u", 3)] = C(99);
  fs_.WriteRaw("/data/__consumer_offsets/offsets.log", EncodeLegacyOffsetsFile(legacy));
  OffsetStoreOptions o;
  o.legacy_dir = "/data/__consumer_offsets";
  {
    auto s = Open(o);
    ASSERT_EQ(s->groups().size(), 2u);
  }
  EXPECT_FALSE(fs_.FileExists("/data/__consumer_offsets/offsets.log"));
  EXPECT_TRUE(fs_.FileExists("/data/__consumer_offsets/offsets.log.migrated"));
  Crash();
  auto s = Open(o);
  ASSERT_EQ(s->groups().size(), 2u);
  EXPECT_EQ(s->Find("g")->offsets.at(TP("t", 0)).offset.value(), 11);
  EXPECT_EQ(s->Find("g")->offsets.at(TP("t", 1)).metadata, "");
  EXPECT_EQ(s->Find("g")->empty_since_ms(), 555);
  EXPECT_EQ(s->Find("simple")->protocol_type(), "");
  EXPECT_EQ(s->Find("simple")->offsets.at(TP("u", 3)).offset.value(), 99);
}

TEST_F(OffsetStoreTest, ForeignRecordsAreSkippedAndAnOrdinaryTopicIsAdopted) {
  // An older braid auto-created `__consumer_offsets` as an ordinary topic,
  // and something wrote a non-Kafka record into it.
  ASSERT_TRUE(log_->CreateTopic(kConsumerOffsetsTopic, 2).ok());
  log::BatchBuilder b;
  b.Add(0, std::string_view("garbage"), std::string_view("value"));
  b.Add(0, std::nullopt, std::string_view("no key"));
  auto batch = b.Build();
  ASSERT_TRUE((*log_->GetPartition(kConsumerOffsetsTopic, PartitionId(0)))->Append(*batch).ok());
  auto s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->partition_count(), 2);  // the existing count is kept
  EXPECT_TRUE(s->groups().empty());
  EXPECT_EQ(log_->DescribeTopic(kConsumerOffsetsTopic)->config.cleanup_policy, "compact");
  ASSERT_TRUE(s->Commit("g", {{TP("t", 0), C(3)}}).ok());
}

TEST_F(OffsetStoreTest, TooLargeCommitIsRefusedAndNothingChanges) {
  auto s = Open();
  std::vector<std::pair<TopicPartition, CommittedOffset>> commits;
  for (int i = 0; i < 400; ++i) commits.push_back({TP("t", i), C(i, std::string(4000, 'm'))});
  Status st = s->Commit("g", commits);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.IsTooLarge()) << st.ToString();
  EXPECT_EQ(s->Find("g"), nullptr);
}

}  // namespace
}  // namespace braid::kafka
