// Fetch at the edges clients hit, through the real server and sockets:
// max_bytes below one batch, a fetch offset inside a batch, segment
// boundaries, a retention cut while a response is being written, compressed
// batches, responses that mix copied and sendfile(2) records, and the copy
// fallback without sendfile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kafka/protocol/messages.h"
#include "kafka/server/broker.h"
#include "kafka/server/tests/test_client.h"
#include "log/record_batch.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

// A batch of `n` records whose values are "<tag>-<i>" padded to `value_size`.
std::string Batch(int n, size_t value_size = 10, log::Compression c = log::Compression::kNone,
                  const std::string& tag = "v") {
  log::BatchBuilder b(log::BatchBuilderOptions{.compression = c});
  for (int i = 0; i < n; ++i) {
    std::string v = tag;
    v += '-';
    v += std::to_string(i);
    if (v.size() < value_size) v.append(value_size - v.size(), static_cast<char>('a' + i % 26));
    b.Add(1700000000000 + i, std::nullopt, v);
  }
  auto built = b.Build();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return *built;
}

// prefix + i (no operator+ on temporaries: g++ 12 warns falsely there).
std::string Tag(std::string_view prefix, int64_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

ProduceRequest MakeProduce(const std::string& topic, std::string records, int32_t partition = 0) {
  ProduceRequest req;
  req.acks = 1;
  req.timeout_ms = 1000;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = PartitionId(partition);
  p.records = std::move(records);
  return req;
}

struct PartitionFetch {
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t max_bytes = 1 << 20;
};

FetchRequest MakeFetch(const std::string& topic, std::vector<PartitionFetch> parts,
                       int32_t max_bytes, int32_t max_wait_ms = 0, int32_t min_bytes = 1) {
  FetchRequest req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = max_bytes;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  for (const PartitionFetch& pf : parts) {
    auto& p = t.partitions.emplace_back();
    p.partition_index = PartitionId(pf.partition);
    p.fetch_offset = Offset(pf.offset);
    p.partition_max_bytes = pf.max_bytes;
  }
  return req;
}

struct Read {
  int64_t base = -1;  // base offset of the first batch
  int64_t next = -1;  // offset after the last batch
  int batches = 0;
  std::vector<std::string> values;  // of records at or above the fetch offset
};

// Splits and decodes a partition's records (CRC-checked); records below
// `from` are dropped, as clients do.
Read Decode(const std::string& records, int64_t from = 0) {
  Read r;
  auto batches = log::SplitBatches(records);
  EXPECT_TRUE(batches.ok()) << batches.status().ToString();
  if (!batches.ok()) return r;
  for (const auto& b : *batches) {
    EXPECT_TRUE(log::ValidateBatch(b.bytes).ok()) << "batch at " << b.header.base_offset.value();
    if (r.base < 0) r.base = b.header.base_offset.value();
    r.next = b.header.next_offset().value();
    ++r.batches;
  }
  log::RecordIterator it(records, {.start = Offset(from), .verify_crc = true});
  log::RecordView v;
  while (true) {
    auto more = it.Next(&v);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    r.values.emplace_back(v.value.value_or(""));
  }
  return r;
}

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(BrokerOptions{}); }
  void Start(BrokerOptions o) {
    dir_ = std::filesystem::temp_directory_path() /
           ("fetch_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto log = log::Log::Open(dir_.string());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    o.listen = "127.0.0.1:0";
    o.cluster_id = "test-cluster";
    o.max_frame_bytes = 64 << 20;
    broker_ = std::make_unique<Broker>(o, log_.get(), nullptr);
    ASSERT_TRUE(broker_->Start().ok());
  }
  void Restart(BrokerOptions o) {
    TearDown();
    Start(std::move(o));
  }
  void TearDown() override {
    broker_.reset();
    if (log_) {
      ASSERT_TRUE(log_->Close().ok());
    }
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Produce(TestClient* c, const std::string& topic, std::string batch, int32_t partition = 0) {
    auto pr = c->Call<ProduceResponse>(7, MakeProduce(topic, std::move(batch), partition));
    ASSERT_EQ(pr.responses.size(), 1u);
    ASSERT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
  }

  std::filesystem::path dir_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(FetchTest, MaxBytesBelowOneBatchStillReturnsTheFirstBatchWhole) {
  ASSERT_TRUE(log_->CreateTopic("t", 2).ok());
  TestClient c(broker_->port());
  Produce(&c, "t", Batch(200, 100));  // ~22 KB: sent with sendfile
  Produce(&c, "t", Batch(3, 10));
  Produce(&c, "t", Batch(50, 100), 1);
  // max_bytes and partition_max_bytes of 100 bytes: the first batch of the
  // first non-empty partition comes whole; nothing else fits.
  auto fr =
      c.Call<FetchResponse>(11, MakeFetch("t", {{0, 0, 100}, {1, 0, 100}}, /*max_bytes=*/100));
  ASSERT_EQ(fr.responses[0].partitions.size(), 2u);
  const auto& p0 = fr.responses[0].partitions[0];
  EXPECT_EQ(p0.error_code, ErrorCode::kNone);
  Read r = Decode(*p0.records);
  EXPECT_EQ(r.batches, 1);
  EXPECT_EQ(r.base, 0);
  EXPECT_EQ(r.values.size(), 200u);
  const auto& p1 = fr.responses[0].partitions[1];
  EXPECT_EQ(p1.error_code, ErrorCode::kNone);
  EXPECT_TRUE(p1.records->empty());
  EXPECT_EQ(p1.high_watermark, Offset(50));
  // A partition max below one batch for a later partition, with budget
  // left: still one whole batch (KIP-74 makes both limits soft).
  fr = c.Call<FetchResponse>(
      11, MakeFetch("t", {{0, 200, 1 << 20}, {1, 0, 10}}, /*max_bytes=*/1 << 20));
  r = Decode(*fr.responses[0].partitions[0].records, 200);
  EXPECT_EQ(r.values, (std::vector<std::string>{"v-0aaaaaaa", "v-1bbbbbbb", "v-2ccccccc"}));
  r = Decode(*fr.responses[0].partitions[1].records);
  EXPECT_EQ(r.batches, 1);
  EXPECT_EQ(r.values.size(), 50u);
}

TEST_F(FetchTest, FetchOffsetInsideABatchReturnsTheWholeBatch) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  TestClient c(broker_->port());
  Produce(&c, "t", Batch(5, 10));     // 0..4
  Produce(&c, "t", Batch(300, 100));  // 5..304, sendfile
  for (int64_t at : {0, 3, 4}) {
    auto fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, at, 1 << 20}}, 1 << 20));
    Read r = Decode(*fr.responses[0].partitions[0].records, at);
    EXPECT_EQ(r.base, 0) << at;
    EXPECT_EQ(r.next, 305) << at;
    ASSERT_EQ(r.values.size(), static_cast<size_t>(305 - at)) << at;
    EXPECT_EQ(r.values[0], Tag("v-", at).append(7, static_cast<char>('a' + at % 26)));
  }
  // Inside the large batch: it comes whole from its base offset.
  auto fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, 250, 1 << 20}}, 1 << 20));
  Read r = Decode(*fr.responses[0].partitions[0].records, 250);
  EXPECT_EQ(r.base, 5);
  EXPECT_EQ(r.next, 305);
  EXPECT_EQ(r.values.size(), 55u);
  // At the high watermark: empty, after max_wait.
  fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, 305, 1 << 20}}, 1 << 20, 50));
  EXPECT_TRUE(fr.responses[0].partitions[0].records->empty());
  EXPECT_EQ(fr.responses[0].partitions[0].high_watermark, Offset(305));
}

TEST_F(FetchTest, ReadsNeverSpanSegmentsAndContinueAcrossBoundaries) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "40000"}}).ok());
  TestClient c(broker_->port());
  // 12 batches of ~11 KB: 3 per segment.
  for (int i = 0; i < 12; ++i)
    Produce(&c, "t", Batch(100, 100, log::Compression::kNone, Tag("b", i)));
  auto p = log_->GetPartition("t", PartitionId(0));
  ASSERT_TRUE(p.ok());
  ASSERT_GE((*p)->stats().segment_count, 4u);
  int64_t at = 0;
  std::vector<std::string> all;
  int fetches = 0;
  while (at < 1200) {
    auto fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, at, 1 << 20}}, 1 << 20));
    ASSERT_EQ(fr.responses[0].partitions[0].error_code, ErrorCode::kNone);
    Read r = Decode(*fr.responses[0].partitions[0].records, at);
    ASSERT_GT(r.batches, 0);
    EXPECT_LE(r.batches, 3);  // one segment at most
    all.insert(all.end(), r.values.begin(), r.values.end());
    at = r.next;
    ++fetches;
  }
  EXPECT_GE(fetches, 4);
  ASSERT_EQ(all.size(), 1200u);
  for (int i = 0; i < 12; ++i) {
    const std::string prefix = Tag("b", i).append("-0");
    EXPECT_EQ(all[static_cast<size_t>(i) * 100].rfind(prefix, 0), 0u) << prefix;
  }
  // A fetch offset that is the first offset of a later segment.
  auto fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, 300, 1 << 20}}, 1 << 20));
  Read r = Decode(*fr.responses[0].partitions[0].records, 300);
  EXPECT_EQ(r.base, 300);
}

TEST_F(FetchTest, RetentionCutWhileAResponseIsBeingWritten) {
  // Segments of ~8 MB; the first one is deleted while its bytes are still
  // being sent to a client that does not read yet.
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"segment.bytes", "8000000"}}).ok());
  // A small receive buffer keeps the response in flight.
  TestClient c(broker_->port(), /*rcvbuf=*/32 << 10);
  const int kBatches = 12;  // ~900 KB each: 8 in the first segment
  for (int i = 0; i < kBatches; ++i) {
    Produce(&c, "t", Batch(900, 1000, log::Compression::kNone, Tag("r", i)));
  }
  auto p = log_->GetPartition("t", PartitionId(0));
  ASSERT_TRUE(p.ok());
  ASSERT_GE((*p)->stats().segment_count, 2u);
  c.Send(11, MakeFetch("t", {{0, 0, 64 << 20}}, 64 << 20));
  // The response (~7 MB) exceeds the socket buffers: the server is blocked
  // in the middle of it. Delete the segment under it.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto cut = (*p)->DeleteRecords(Offset(8 * 900));
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  ASSERT_EQ(*cut, Offset(8 * 900));
  EXPECT_EQ((*p)->log_start_offset(), Offset(8 * 900));
  auto fr = c.Receive<FetchResponse>(11);
  Read r = Decode(*fr.responses[0].partitions[0].records);
  EXPECT_EQ(r.base, 0);
  EXPECT_EQ(r.batches, 8);
  ASSERT_EQ(r.values.size(), 8u * 900);
  EXPECT_EQ(r.values.back().substr(0, 6), "r7-899");
  // Now below the log start: out of range, offsets -1 (as Kafka).
  fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, 0, 1 << 20}}, 1 << 20));
  EXPECT_EQ(fr.responses[0].partitions[0].error_code, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(fr.responses[0].partitions[0].high_watermark, Offset(-1));
  fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, 8 * 900, 1 << 20}}, 1 << 20));
  EXPECT_EQ(fr.responses[0].partitions[0].log_start_offset, Offset(8 * 900));
  r = Decode(*fr.responses[0].partitions[0].records);
  EXPECT_EQ(r.base, 8 * 900);
}

TEST_F(FetchTest, CompressedBatchesComeBackAsStored) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  TestClient c(broker_->port());
  const log::Compression codecs[] = {log::Compression::kGzip, log::Compression::kSnappy,
                                     log::Compression::kLz4, log::Compression::kZstd};
  std::vector<std::string> sent;
  for (log::Compression codec : codecs) {
    // Large compressed batches go through sendfile, small ones are copied.
    sent.push_back(Batch(2000, 50, codec, Tag("c", static_cast<int>(codec))));
    sent.push_back(Batch(4, 50, codec, Tag("s", static_cast<int>(codec))));
  }
  for (const std::string& b : sent) Produce(&c, "t", b);
  int64_t at = 0;
  std::vector<std::string> stored;
  std::vector<std::string> values;
  while (at < 4 * 2004) {
    auto fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, at, 1 << 20}}, 1 << 20));
    const std::string& records = *fr.responses[0].partitions[0].records;
    auto batches = log::SplitBatches(records);
    ASSERT_TRUE(batches.ok());
    for (const auto& b : *batches) stored.emplace_back(b.bytes);
    Read r = Decode(records, at);
    values.insert(values.end(), r.values.begin(), r.values.end());
    at = r.next;
  }
  ASSERT_EQ(stored.size(), sent.size());
  int64_t base = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    auto h = log::ParseBatchHeader(sent[i]);
    ASSERT_TRUE(h.ok());
    // Byte for byte as produced, except the assigned base offset.
    EXPECT_EQ(stored[i].substr(8), sent[i].substr(8)) << i;
    EXPECT_EQ(log::ParseBatchHeader(stored[i])->base_offset, Offset(base));
    base += h->record_count;
  }
  EXPECT_EQ(values.size(), 4u * 2004);
  // A fetch offset inside a compressed batch returns it whole.
  auto fr = c.Call<FetchResponse>(11, MakeFetch("t", {{0, 1000, 1 << 20}}, 1 << 20));
  Read r = Decode(*fr.responses[0].partitions[0].records, 1000);
  EXPECT_EQ(r.base, 0);
  EXPECT_EQ(r.values.front().substr(0, 8),
            Tag("c", static_cast<int>(log::Compression::kGzip)).append("-1000m"));
}

// Copied (small) and sendfile (large) records and empty and failed
// partitions in one response, with sendfile and with the copy fallback.
void MixedResponse(FetchTest* t, TestClient* c) {
  auto fr = c->Call<FetchResponse>(
      11, MakeFetch(
              "m",
              {{0, 0, 1 << 20}, {1, 0, 1 << 20}, {2, 0, 1 << 20}, {3, 5, 1 << 20}, {9, 0, 1 << 20}},
              8 << 20));
  const auto& ps = fr.responses[0].partitions;
  ASSERT_EQ(ps.size(), 5u);
  EXPECT_EQ(Decode(*ps[0].records).values.size(), 1000u);
  EXPECT_EQ(Decode(*ps[1].records).values.size(), 2u);
  EXPECT_TRUE(ps[2].records->empty());
  EXPECT_EQ(ps[3].error_code, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(ps[4].error_code, ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(FetchTest, MixedResponseWithAndWithoutSendfile) {
  for (bool sendfile : {true, false}) {
    BrokerOptions o;
    o.sendfile = sendfile;
    Restart(o);
    ASSERT_TRUE(log_->CreateTopic("m", 4).ok());
    TestClient c(broker_->port());
    Produce(&c, "m", Batch(1000, 100), 0);
    Produce(&c, "m", Batch(2, 10), 1);
    Produce(&c, "m", Batch(2, 10), 3);
    MixedResponse(this, &c);
    // Pipelined: responses stay in order.
    for (int i = 0; i < 3; ++i) {
      c.Send(11, MakeFetch("m", {{0, 0, 1 << 20}}, 1 << 20));
      c.Send(11, MakeFetch("m", {{1, 0, 1 << 20}}, 1 << 20));
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(
          Decode(*c.Receive<FetchResponse>(11).responses[0].partitions[0].records).values.size(),
          1000u);
      EXPECT_EQ(
          Decode(*c.Receive<FetchResponse>(11).responses[0].partitions[0].records).values.size(),
          2u);
    }
  }
}

TEST_F(FetchTest, OlderFetchVersionsGetTheSameRecords) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  TestClient c(broker_->port());
  Produce(&c, "t", Batch(500, 100));
  for (int16_t v : {4, 5, 7, 11}) {
    auto fr = c.Call<FetchResponse>(v, MakeFetch("t", {{0, 0, 1 << 20}}, 1 << 20));
    EXPECT_EQ(Decode(*fr.responses[0].partitions[0].records).values.size(), 500u) << v;
  }
}

TEST_F(FetchTest, MinBytesWaitsForEnoughDataAcrossPartitions) {
  ASSERT_TRUE(log_->CreateTopic("t", 2).ok());
  TestClient consumer(broker_->port());
  TestClient producer(broker_->port());
  Produce(&producer, "t", Batch(1, 10), 0);
  // 1 small record available, min_bytes 5000: parked until partition 1
  // receives enough.
  const auto start = std::chrono::steady_clock::now();
  consumer.Send(11, MakeFetch("t", {{0, 1, 1 << 20}, {1, 0, 1 << 20}}, 1 << 20,
                              /*max_wait_ms=*/20000, /*min_bytes=*/5000));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Produce(&producer, "t", Batch(2, 10), 1);  // not enough yet
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Produce(&producer, "t", Batch(100, 100), 1);
  auto fr = consumer.Receive<FetchResponse>(11);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Decode(*fr.responses[0].partitions[1].records).values.size(), 102u);
}

}  // namespace
}  // namespace braid::kafka
