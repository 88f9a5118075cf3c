#include "kafka/protocol/record_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc.h"
#include "kafka/protocol/compression.h"
#include "kafka/protocol/tests/test_util.h"

namespace braid::kafka {
namespace {

using std::string_literals::operator""s;
using testing::ReadTestData;

constexpr Compression kAllCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                      Compression::kLz4, Compression::kZstd};

std::vector<Record> SampleRecords(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp = 1700000000000 + i * 3 - (i == 2 ? 50 : 0);  // not monotonic
    if (i != 3) r.key = "key-" + std::to_string(i);
    if (i != 4) {
      std::string v;
      for (int k = 0; k < 20; ++k) v += "value-" + std::to_string(i) + "-";
      r.value = v;
    }
    if (i % 2 == 0) r.headers = {{"h", "v" + std::to_string(i)}, {"null", std::nullopt}};
    out.push_back(r);
  }
  return out;
}

std::string Build(const std::vector<Record>& records, RecordBatchBuilderOptions opts = {}) {
  RecordBatchBuilder b(opts);
  for (const Record& r : records) b.Add(r);
  auto built = b.Build();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return built.ok() ? *built : std::string();
}

void ExpectSameRecords(const std::vector<Record>& got, const std::vector<Record>& want,
                       int64_t base_offset) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].offset, base_offset + static_cast<int64_t>(i));
    EXPECT_EQ(got[i].timestamp, want[i].timestamp);
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_EQ(got[i].value, want[i].value);
    ASSERT_EQ(got[i].headers.size(), want[i].headers.size());
    for (size_t h = 0; h < got[i].headers.size(); ++h) {
      EXPECT_EQ(got[i].headers[h].key, want[i].headers[h].key);
      EXPECT_EQ(got[i].headers[h].value, want[i].headers[h].value);
    }
  }
}

TEST(RecordBatchTest, BuildParseRoundTripEveryCodec) {
  auto records = SampleRecords(10);
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(std::string(CompressionName(c)));
    RecordBatchBuilderOptions opts;
    opts.compression = c;
    opts.base_offset = 1000;
    opts.producer_id = 77;
    opts.producer_epoch = 2;
    opts.base_sequence = 5;
    std::string batch = Build(records, opts);
    auto split = SplitRecordBatches(batch);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    ASSERT_EQ(split->size(), 1u);
    const RecordBatchHeader& h = (*split)[0].header;
    EXPECT_EQ(h.base_offset, 1000);
    EXPECT_EQ(h.magic, 2);
    EXPECT_EQ(h.compression(), c);
    EXPECT_EQ(h.record_count, 10);
    EXPECT_EQ(h.last_offset_delta, 9);
    EXPECT_EQ(h.last_offset(), 1009);
    EXPECT_EQ(h.base_timestamp, records[0].timestamp);
    EXPECT_EQ(h.max_timestamp, records[9].timestamp);
    EXPECT_EQ(h.producer_id, 77);
    EXPECT_EQ(h.producer_epoch, 2);
    EXPECT_EQ(h.base_sequence, 5);
    EXPECT_EQ(h.size_in_bytes(), batch.size());
    EXPECT_FALSE(h.is_transactional());
    EXPECT_FALSE(h.is_control());
    if (c != Compression::kNone) {
      EXPECT_LT(batch.size(), 1500u);
    }
    EXPECT_TRUE(ValidateRecordBatch((*split)[0]).ok());
    auto decoded = DecodeRecords((*split)[0]);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSameRecords(*decoded, records, 1000);
  }
}

TEST(RecordBatchTest, RawSnappyAsLibrdkafkaWritesIt) {
  RecordBatchBuilderOptions opts;
  opts.compression = Compression::kSnappy;
  opts.compress_options.snappy_xerial_framing = false;
  auto records = SampleRecords(5);
  std::string batch = Build(records, opts);
  EXPECT_NE(batch.substr(61, 8), "\x82SNAPPY\0"s);
  auto split = SplitRecordBatches(batch);
  ASSERT_TRUE(split.ok());
  auto decoded = DecodeRecords((*split)[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecords(*decoded, records, 0);
}

TEST(RecordBatchTest, MatchesKafkaPythonBytesUncompressed) {
  // kafka-python writes partition leader epoch 0 and the record layout we do.
  std::string golden = ReadTestData("batch_none.bin");
  ASSERT_FALSE(golden.empty());
  RecordBatchBuilderOptions opts;
  opts.partition_leader_epoch = 0;
  RecordBatchBuilder b(opts);
  for (int i = 0; i < 10; ++i) {
    std::optional<std::string> key, value;
    if (i != 3) key = "key-" + std::to_string(i);
    if (i != 4) {
      value.emplace();
      for (int k = 0; k < 20; ++k) *value += "value-" + std::to_string(i) + "-";
    }
    std::vector<RecordHeader> headers;
    if (i % 2 == 0) headers.push_back({"h", "v" + std::to_string(i)});
    b.Add(Record{0, 1700000000000 + i, key, value, headers});
  }
  auto built = b.Build();
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(*built, golden);
}

TEST(RecordBatchTest, KafkaPythonGoldenBatchesEveryCodec) {
  for (const char* name : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    SCOPED_TRACE(name);
    std::string data = ReadTestData(std::string("batch_") + name + ".bin");
    ASSERT_FALSE(data.empty());
    auto split = SplitRecordBatches(data);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    ASSERT_EQ(split->size(), 1u);
    const RecordBatchView& b = (*split)[0];
    EXPECT_EQ(CompressionName(b.header.compression()), name);
    ASSERT_TRUE(ValidateRecordBatch(b).ok());
    auto recs = DecodeRecords(b);
    ASSERT_TRUE(recs.ok()) << recs.status().ToString();
    ASSERT_EQ(recs->size(), 10u);
    for (int i = 0; i < 10; ++i) {
      const Record& r = (*recs)[i];
      EXPECT_EQ(r.offset, i);
      EXPECT_EQ(r.timestamp, 1700000000000 + i);
      if (i == 3) {
        EXPECT_FALSE(r.key);
      } else {
        EXPECT_EQ(r.key, "key-" + std::to_string(i));
      }
      if (i == 4) {
        EXPECT_FALSE(r.value);
      } else {
        ASSERT_TRUE(r.value);
        EXPECT_EQ(r.value->size(), 20 * (std::string("value-") + std::to_string(i) + "-").size());
      }
      EXPECT_EQ(r.headers.size(), i % 2 == 0 ? 1u : 0u);
    }
  }
}

TEST(RecordBatchTest, CrcMismatchIsCorruptMessage) {
  std::string batch = Build(SampleRecords(3));
  batch[batch.size() - 3] ^= 0x40;
  auto split = SplitRecordBatches(batch);
  ASSERT_FALSE(split.ok());
  EXPECT_TRUE(split.status().IsCorruption());
  EXPECT_NE(split.status().message().find("CRC"), std::string_view::npos);
  EXPECT_EQ(ErrorCodeForBatchStatus(split.status()), ErrorCode::kCorruptMessage);
  SplitOptions no_crc;
  no_crc.verify_crc = false;
  auto lenient = SplitRecordBatches(batch, no_crc);
  ASSERT_TRUE(lenient.ok());
  EXPECT_TRUE(ValidateRecordBatch((*lenient)[0]).IsCorruption());
}

TEST(RecordBatchTest, OldMessageFormatsAreRejectedClearly) {
  // A magic-1 MessageSet entry: offset, size, crc, magic 1, attributes,
  // timestamp, key -1, value "v".
  std::string legacy;
  coding::PutBigEndian64(&legacy, 0);
  coding::PutBigEndian32(&legacy, 4 + 1 + 1 + 8 + 4 + 4 + 1);
  coding::PutBigEndian32(&legacy, 0x12345678);
  legacy += "\x01\x00"s;
  coding::PutBigEndian64(&legacy, 0);
  coding::PutBigEndian32(&legacy, 0xffffffff);
  coding::PutBigEndian32(&legacy, 1);
  legacy += "v";
  auto h = ParseRecordBatchHeader(legacy);
  ASSERT_FALSE(h.ok());
  EXPECT_TRUE(h.status().IsInvalidArgument());
  EXPECT_NE(h.status().message().find("magic 1"), std::string_view::npos);
  EXPECT_EQ(ErrorCodeForBatchStatus(h.status()), ErrorCode::kInvalidRecord);
  legacy[16] = 0;
  EXPECT_TRUE(SplitRecordBatches(legacy).status().IsInvalidArgument());
  legacy[16] = 7;
  EXPECT_TRUE(SplitRecordBatches(legacy).status().IsInvalidArgument());
}

TEST(RecordBatchTest, TruncationAndPartialTail) {
  std::string a = Build(SampleRecords(3));
  std::string b = Build(SampleRecords(4));
  std::string both = a + b;
  auto split = SplitRecordBatches(both);
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ((*split)[1].bytes, b);
  for (size_t cut = 1; cut < b.size(); cut += 7) {
    std::string partial = both.substr(0, a.size() + cut);
    auto strict = SplitRecordBatches(partial);
    EXPECT_TRUE(strict.status().IsCorruption()) << cut << " " << strict.status().ToString();
    SplitOptions lenient;
    lenient.allow_partial_tail = true;
    auto tail = SplitRecordBatches(partial, lenient);
    ASSERT_TRUE(tail.ok()) << cut << " " << tail.status().ToString();
    EXPECT_EQ(tail->size(), 1u);
  }
  EXPECT_TRUE(SplitRecordBatches("").ok());
}

// Rewrites the CRC after tampering with covered bytes.
void FixCrc(std::string* batch) {
  coding::EncodeBigEndian32(batch->data() + kRecordBatchCrcOffset, ComputeRecordBatchCrc(*batch));
}

TEST(RecordBatchTest, RecordCountMismatchesAreCaught) {
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    RecordBatchBuilderOptions opts;
    opts.compression = c;
    std::string batch = Build(SampleRecords(4), opts);
    for (int32_t count : {3, 5, 0}) {
      std::string t = batch;
      coding::EncodeBigEndian32(t.data() + 57, static_cast<uint32_t>(count));
      FixCrc(&t);
      auto split = SplitRecordBatches(t);
      ASSERT_TRUE(split.ok());
      Status st = ValidateRecordBatch((*split)[0]);
      EXPECT_FALSE(st.ok()) << count;
    }
    // last offset delta disagreeing with the records.
    std::string t = batch;
    coding::EncodeBigEndian32(t.data() + 23, 7);
    FixCrc(&t);
    auto split = SplitRecordBatches(t);
    ASSERT_TRUE(split.ok());
    EXPECT_TRUE(ValidateRecordBatch((*split)[0]).IsCorruption());
  }
}

TEST(RecordBatchTest, EveryTruncatedRecordSectionFails) {
  std::string batch = Build(SampleRecords(3));
  auto split = SplitRecordBatches(batch);
  ASSERT_TRUE(split.ok());
  for (size_t n = kRecordBatchHeaderSize; n < batch.size(); ++n) {
    RecordBatchView v{(*split)[0].header, std::string_view(batch).substr(0, n)};
    auto reader = RecordReader::Create(v);
    ASSERT_TRUE(reader.ok());
    RecordView rec;
    Status st;
    for (;;) {
      auto more = reader->Next(&rec);
      if (!more.ok()) {
        st = more.status();
        break;
      }
      if (!*more) break;
    }
    EXPECT_TRUE(st.IsCorruption()) << n;
  }
}

TEST(RecordBatchTest, DecompressionBombIsResourceExhausted) {
  for (Compression c :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(std::string(CompressionName(c)));
    RecordBatchBuilderOptions opts;
    opts.compression = c;
    RecordBatchBuilder b(opts);
    b.Add(0, std::nullopt, std::string(4 << 20, '\0'));
    auto batch = b.Build();
    ASSERT_TRUE(batch.ok());
    EXPECT_LT(batch->size(), 400u * 1024);
    auto split = SplitRecordBatches(*batch);
    ASSERT_TRUE(split.ok());
    ValidateOptions vo;
    vo.max_decompressed_size = 1 << 20;
    Status st = ValidateRecordBatch((*split)[0], vo);
    EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
    EXPECT_EQ(ErrorCodeForBatchStatus(st), ErrorCode::kMessageTooLarge);
    EXPECT_TRUE(ValidateRecordBatch((*split)[0]).ok());  // default limit 64 MiB
  }
}

TEST(RecordBatchTest, GarbageCompressedPayloadsAreCorruption) {
  for (Compression c :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(std::string(CompressionName(c)));
    std::string out;
    for (std::string junk :
         {""s, "x"s, "\x82SNAPPY\0\0\0\0\1\0\0\0\1\0\0\0\xff"s, std::string(100, '\xee')}) {
      Status st = Decompress(c, junk, 1 << 20, &out);
      EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    }
  }
  std::string out;
  EXPECT_EQ(Decompress(static_cast<Compression>(6), "x", 10, &out).code(),
            StatusCode::kUnimplemented);
}

TEST(RecordBatchTest, CompressionRoundTripLarge) {
  std::string data;
  for (int i = 0; i < 200000; ++i) data += std::to_string(i * 7919 % 1000);
  for (Compression c :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(std::string(CompressionName(c)));
    std::string z;
    ASSERT_TRUE(Compress(c, data, {}, &z).ok());
    std::string back;
    ASSERT_TRUE(Decompress(c, z, data.size(), &back).ok());
    EXPECT_EQ(back, data);
    std::string small;
    EXPECT_EQ(Decompress(c, z, data.size() - 1, &small).code(), StatusCode::kResourceExhausted);
  }
}

TEST(RecordBatchTest, UnknownCodecInHeader) {
  std::string batch = Build(SampleRecords(1));
  batch[22] = 6;  // attributes low byte: codec 6
  FixCrc(&batch);
  auto h = ParseRecordBatchHeader(batch);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(ErrorCodeForBatchStatus(h.status()), ErrorCode::kUnsupportedCompressionType);
}

TEST(RecordBatchTest, AttributesAndLogAppendTime) {
  RecordBatchBuilderOptions opts;
  opts.transactional = true;
  opts.log_append_time = true;
  opts.log_append_time_ms = 1234;
  std::string batch = Build(SampleRecords(2), opts);
  auto split = SplitRecordBatches(batch);
  ASSERT_TRUE(split.ok());
  const auto& h = (*split)[0].header;
  EXPECT_TRUE(h.is_transactional());
  EXPECT_TRUE(h.log_append_time());
  EXPECT_EQ(h.max_timestamp, 1234);
  auto recs = DecodeRecords((*split)[0]);
  ASSERT_TRUE(recs.ok());
  for (const Record& r : *recs) EXPECT_EQ(r.timestamp, 1234);
}

TEST(RecordBatchTest, StampingBaseOffsetKeepsCrcValid) {
  std::string batch = Build(SampleRecords(2));
  coding::EncodeBigEndian64(batch.data(), 5000);
  coding::EncodeBigEndian32(batch.data() + 12, 3);  // partition leader epoch
  auto split = SplitRecordBatches(batch);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ((*split)[0].header.base_offset, 5000);
  auto recs = DecodeRecords((*split)[0]);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ((*recs)[1].offset, 5001);
}

TEST(RecordBatchTest, ExtremeOffsetsAndTimestampsDoNotOverflow) {
  RecordBatchBuilderOptions opts;
  opts.base_offset = INT64_MAX;
  RecordBatchBuilder b(opts);
  b.Add(INT64_MIN, "a", "b");
  b.Add(INT64_MAX, "c", "d");
  auto batch = b.Build();
  ASSERT_TRUE(batch.ok());
  auto split = SplitRecordBatches(*batch);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ((*split)[0].header.last_offset(), INT64_MIN);  // wraps, no UB
  auto recs = DecodeRecords((*split)[0]);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  EXPECT_EQ((*recs)[0].timestamp, INT64_MIN);
  EXPECT_EQ((*recs)[1].timestamp, INT64_MAX);
}

TEST(RecordBatchTest, EmptyBuilderFails) {
  RecordBatchBuilder b;
  EXPECT_TRUE(b.Build().status().IsInvalidArgument());
}

}  // namespace
}  // namespace braid::kafka
