#include "log/records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc.h"
#include "log/compression.h"
#include "log/record_batch.h"

namespace braid::log {
namespace {

using std::string_literals::operator""s;
// Reads src/log/tests/data/<name>.
std::string ReadTestData(const std::string& name) {
  std::ifstream f(std::string(BRAID_LOG_TEST_DATA) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

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

std::string Build(const std::vector<Record>& records, BatchBuilderOptions opts = {}) {
  BatchBuilder b(opts);
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
    EXPECT_EQ(got[i].offset, Offset(base_offset + static_cast<int64_t>(i)));
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
    BatchBuilderOptions opts;
    opts.compression = c;
    opts.base_offset = Offset(1000);
    opts.producer_id = ProducerId(77);
    opts.producer_epoch = ProducerEpoch(2);
    opts.base_sequence = 5;
    std::string batch = Build(records, opts);
    auto split = SplitBatches(batch);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    ASSERT_EQ(split->size(), 1u);
    const BatchHeader& h = (*split)[0].header;
    EXPECT_EQ(h.base_offset, Offset(1000));
    EXPECT_EQ(h.magic, 2);
    EXPECT_EQ(h.compression(), c);
    EXPECT_EQ(h.record_count, 10);
    EXPECT_EQ(h.last_offset_delta, 9);
    EXPECT_EQ(h.last_offset(), Offset(1009));
    EXPECT_EQ(h.first_timestamp, records[0].timestamp);
    EXPECT_EQ(h.max_timestamp, records[9].timestamp);
    EXPECT_EQ(h.producer_id, ProducerId(77));
    EXPECT_EQ(h.producer_epoch, ProducerEpoch(2));
    EXPECT_EQ(h.base_sequence, 5);
    EXPECT_EQ(h.total_size(), batch.size());
    EXPECT_FALSE(h.is_transactional());
    EXPECT_FALSE(h.is_control());
    if (c != Compression::kNone) {
      EXPECT_LT(batch.size(), 1500u);
    }
    EXPECT_TRUE(VerifyBatchRecords((*split)[0]).ok());
    auto decoded = DecodeRecords((*split)[0]);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSameRecords(*decoded, records, 1000);
  }
}

TEST(RecordBatchTest, RawSnappyAsLibrdkafkaWritesIt) {
  BatchBuilderOptions opts;
  opts.compression = Compression::kSnappy;
  opts.compress_options.snappy_xerial_framing = false;
  auto records = SampleRecords(5);
  std::string batch = Build(records, opts);
  EXPECT_NE(batch.substr(61, 8), "\x82SNAPPY\0"s);
  auto split = SplitBatches(batch);
  ASSERT_TRUE(split.ok());
  auto decoded = DecodeRecords((*split)[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecords(*decoded, records, 0);
}

TEST(RecordBatchTest, MatchesKafkaPythonBytesUncompressed) {
  // kafka-python writes partition leader epoch 0 and the record layout we do.
  std::string golden = ReadTestData("batch_none.bin");
  ASSERT_FALSE(golden.empty());
  BatchBuilderOptions opts;
  opts.partition_leader_epoch = 0;
  BatchBuilder b(opts);
  for (int i = 0; i < 10; ++i) {
    std::optional<std::string> key, value;
    if (i != 3) key = "key-" + std::to_string(i);
    if (i != 4) {
      value.emplace();
      for (int k = 0; k < 20; ++k) *value += "value-" + std::to_string(i) + "-";
    }
    std::vector<RecordHeader> headers;
    if (i % 2 == 0) headers.push_back({"h", "v" + std::to_string(i)});
    b.Add(Record{Offset(0), 1700000000000 + i, key, value, headers});
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
    auto split = SplitBatches(data);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    ASSERT_EQ(split->size(), 1u);
    const BatchView& b = (*split)[0];
    EXPECT_EQ(CompressionName(b.header.compression()), name);
    ASSERT_TRUE(VerifyBatchRecords(b).ok());
    auto recs = DecodeRecords(b);
    ASSERT_TRUE(recs.ok()) << recs.status().ToString();
    ASSERT_EQ(recs->size(), 10u);
    for (int i = 0; i < 10; ++i) {
      const Record& r = (*recs)[i];
      EXPECT_EQ(r.offset, Offset(i));
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
  auto split = SplitBatches(batch);
  ASSERT_FALSE(split.ok());
  EXPECT_TRUE(split.status().IsCorruption());
  EXPECT_NE(split.status().message().find("CRC"), std::string_view::npos);
  EXPECT_TRUE(split.status().IsCorruption());  // Kafka: CORRUPT_MESSAGE
  SplitOptions no_crc;
  no_crc.verify_crc = false;
  auto lenient = SplitBatches(batch, no_crc);
  ASSERT_TRUE(lenient.ok());
  EXPECT_TRUE(VerifyBatchRecords((*lenient)[0]).IsCorruption());
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
  auto h = ParseBatchHeader(legacy);
  ASSERT_FALSE(h.ok());
  EXPECT_TRUE(h.status().IsInvalidArgument());
  EXPECT_NE(h.status().message().find("magic 1"), std::string_view::npos);
  EXPECT_TRUE(h.status().IsInvalidArgument());  // Kafka: INVALID_RECORD
  legacy[16] = 0;
  EXPECT_TRUE(SplitBatches(legacy).status().IsInvalidArgument());
  legacy[16] = 7;
  EXPECT_TRUE(SplitBatches(legacy).status().IsInvalidArgument());
}

TEST(RecordBatchTest, TruncationAndPartialTail) {
  std::string a = Build(SampleRecords(3));
  std::string b = Build(SampleRecords(4));
  std::string both = a + b;
  auto split = SplitBatches(both);
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ((*split)[1].bytes, b);
  for (size_t cut = 1; cut < b.size(); cut += 7) {
    std::string partial = both.substr(0, a.size() + cut);
    auto strict = SplitBatches(partial);
    EXPECT_TRUE(strict.status().IsCorruption()) << cut << " " << strict.status().ToString();
    SplitOptions lenient;
    lenient.allow_partial_tail = true;
    auto tail = SplitBatches(partial, lenient);
    ASSERT_TRUE(tail.ok()) << cut << " " << tail.status().ToString();
    EXPECT_EQ(tail->size(), 1u);
  }
  EXPECT_TRUE(SplitBatches("").ok());
}

// Rewrites the CRC after tampering with covered bytes.
void FixCrc(std::string* batch) {
  coding::EncodeBigEndian32(batch->data() + kCrcPos, ComputeBatchCrc(*batch));
}

TEST(RecordBatchTest, RecordCountMismatchesAreCaught) {
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    BatchBuilderOptions opts;
    opts.compression = c;
    std::string batch = Build(SampleRecords(4), opts);
    for (int32_t count : {3, 5, 0}) {
      std::string t = batch;
      coding::EncodeBigEndian32(t.data() + 57, static_cast<uint32_t>(count));
      FixCrc(&t);
      auto split = SplitBatches(t);
      ASSERT_TRUE(split.ok());
      Status st = VerifyBatchRecords((*split)[0]);
      EXPECT_FALSE(st.ok()) << count;
    }
    // last offset delta disagreeing with the records.
    std::string t = batch;
    coding::EncodeBigEndian32(t.data() + 23, 7);
    FixCrc(&t);
    auto split = SplitBatches(t);
    ASSERT_TRUE(split.ok());
    EXPECT_TRUE(VerifyBatchRecords((*split)[0]).IsCorruption());
  }
}

TEST(RecordBatchTest, EveryTruncatedRecordSectionFails) {
  std::string batch = Build(SampleRecords(3));
  auto split = SplitBatches(batch);
  ASSERT_TRUE(split.ok());
  for (size_t n = kBatchHeaderSize; n < batch.size(); ++n) {
    BatchView v{(*split)[0].header, std::string_view(batch).substr(0, n)};
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
    BatchBuilderOptions opts;
    opts.compression = c;
    BatchBuilder b(opts);
    b.Add(0, std::nullopt, std::string(4 << 20, '\0'));
    auto batch = b.Build();
    ASSERT_TRUE(batch.ok());
    EXPECT_LT(batch->size(), 400u * 1024);
    auto split = SplitBatches(*batch);
    ASSERT_TRUE(split.ok());
    VerifyOptions vo;
    vo.max_decompressed_size = 1 << 20;
    Status st = VerifyBatchRecords((*split)[0], vo);
    EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
    EXPECT_TRUE(st.IsTooLarge());                       // Kafka: MESSAGE_TOO_LARGE
    EXPECT_TRUE(VerifyBatchRecords((*split)[0]).ok());  // default limit 64 MiB
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
  auto h = ParseBatchHeader(batch);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kUnimplemented);
}

TEST(RecordBatchTest, AttributesAndLogAppendTime) {
  BatchBuilderOptions opts;
  opts.transactional = true;
  opts.log_append_time = true;
  opts.log_append_time_ms = 1234;
  std::string batch = Build(SampleRecords(2), opts);
  auto split = SplitBatches(batch);
  ASSERT_TRUE(split.ok());
  const auto& h = (*split)[0].header;
  EXPECT_TRUE(h.is_transactional());
  EXPECT_EQ(h.timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h.max_timestamp, 1234);
  auto recs = DecodeRecords((*split)[0]);
  ASSERT_TRUE(recs.ok());
  for (const Record& r : *recs) EXPECT_EQ(r.timestamp, 1234);
}

TEST(RecordBatchTest, StampingBaseOffsetKeepsCrcValid) {
  std::string batch = Build(SampleRecords(2));
  coding::EncodeBigEndian64(batch.data(), 5000);
  coding::EncodeBigEndian32(batch.data() + 12, 3);  // partition leader epoch
  auto split = SplitBatches(batch);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ((*split)[0].header.base_offset, Offset(5000));
  auto recs = DecodeRecords((*split)[0]);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ((*recs)[1].offset, Offset(5001));
}

TEST(RecordBatchTest, ExtremeOffsetsAndTimestampsDoNotOverflow) {
  BatchBuilderOptions opts;
  opts.base_offset = Offset(INT64_MAX);
  BatchBuilder b(opts);
  b.Add(INT64_MIN, "a", "b");
  b.Add(INT64_MAX, "c", "d");
  auto batch = b.Build();
  ASSERT_TRUE(batch.ok());
  auto split = SplitBatches(*batch);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ((*split)[0].header.last_offset(), Offset(INT64_MIN));  // wraps, no UB
  auto recs = DecodeRecords((*split)[0]);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  EXPECT_EQ((*recs)[0].timestamp, INT64_MIN);
  EXPECT_EQ((*recs)[1].timestamp, INT64_MAX);
}

TEST(RecordBatchTest, EmptyBuilderFails) {
  BatchBuilder b;
  EXPECT_TRUE(b.Build().status().IsInvalidArgument());
}

// ---------------------------------------------------------- RecordIterator

namespace iter {

// Three batches at offsets 10.., 13.. (a control batch at 15), 16.., back to
// back as the log stores them.
std::string Stored(Compression c = Compression::kNone) {
  std::string out;
  auto add = [&](Offset base, int n, bool control) {
    BatchBuilderOptions o;
    o.base_offset = base;
    o.compression = c;
    o.control = control;
    BatchBuilder b(o);
    for (int i = 0; i < n; ++i)
      b.Add(1000 + base.value() + i, "k", std::string("v").append(std::to_string(i)));
    out += *b.Build();
  };
  add(Offset(10), 3, false);
  add(Offset(13), 2, false);
  add(Offset(15), 1, true);
  add(Offset(16), 4, false);
  return out;
}

std::vector<int64_t> Offsets(std::string_view bytes, RecordIteratorOptions o,
                             Offset* next = nullptr) {
  RecordIterator it(bytes, o);
  RecordView r;
  std::vector<int64_t> got;
  for (;;) {
    auto more = it.Next(&r);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    got.push_back(r.offset.value());
    EXPECT_EQ(r.timestamp, 1000 + r.offset.value());
  }
  if (next != nullptr) *next = it.next_offset();
  return got;
}

TEST(RecordIteratorTest, AcrossBatchesFromAnOffsetInsideABatch) {
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(std::string(CompressionName(c)));
    const std::string bytes = Stored(c);
    Offset next;
    EXPECT_EQ(Offsets(bytes, {}, &next),
              (std::vector<int64_t>{10, 11, 12, 13, 14, 16, 17, 18, 19}));
    EXPECT_EQ(next, Offset(20));
    RecordIteratorOptions o;
    o.start = Offset(12);
    EXPECT_EQ(Offsets(bytes, o), (std::vector<int64_t>{12, 13, 14, 16, 17, 18, 19}));
    o.start = Offset(15);  // the control batch: skipped, not yielded
    EXPECT_EQ(Offsets(bytes, o, &next), (std::vector<int64_t>{16, 17, 18, 19}));
    o.include_control = true;
    EXPECT_EQ(Offsets(bytes, o), (std::vector<int64_t>{15, 16, 17, 18, 19}));
    o.start = Offset(20);
    EXPECT_TRUE(Offsets(bytes, o, &next).empty());
    EXPECT_EQ(next, Offset(20));
  }
}

TEST(RecordIteratorTest, PartialTailIsIgnoredOrAnError) {
  const std::string bytes = Stored();
  Offset next;
  for (size_t cut = 1; cut < 40; ++cut) {
    std::string_view part = std::string_view(bytes).substr(0, bytes.size() - cut);
    EXPECT_EQ(Offsets(part, {}, &next), (std::vector<int64_t>{10, 11, 12, 13, 14}));
    EXPECT_EQ(next, Offset(16));  // through the control batch
    RecordIteratorOptions strict;
    strict.allow_partial_tail = false;
    RecordIterator it(part, strict);
    RecordView r;
    Status last;
    for (int i = 0; i < 20; ++i) {
      auto more = it.Next(&r);
      if (!more.ok()) {
        last = more.status();
        break;
      }
      if (!*more) break;
    }
    EXPECT_TRUE(last.IsCorruption()) << cut << " " << last.ToString();
  }
}

TEST(RecordIteratorTest, CorruptBatchIsNamedAndSkipped) {
  std::string bytes = Stored(Compression::kGzip);
  // Damage the compressed records of the second batch (offset 13).
  const size_t second = static_cast<size_t>(ParseBatchHeader(bytes)->total_size());
  bytes[second + kBatchHeaderSize + 12] ^= 0x5a;
  bytes[second + kBatchHeaderSize + 13] ^= 0x5a;
  RecordIterator it(bytes);
  RecordView r;
  std::vector<int64_t> got;
  int errors = 0;
  for (;;) {
    auto more = it.Next(&r);
    if (!more.ok()) {
      ++errors;
      EXPECT_EQ(it.batch().base_offset, Offset(13));
      EXPECT_EQ(it.next_offset(), Offset(15));
      EXPECT_NE(more.status().message().find("offset 13"), std::string_view::npos)
          << more.status().ToString();
      continue;
    }
    if (!*more) break;
    got.push_back(r.offset.value());
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(got, (std::vector<int64_t>{10, 11, 12, 16, 17, 18, 19}));
  EXPECT_EQ(it.next_offset(), Offset(20));
}

TEST(RecordIteratorTest, VerifiesCrcWhenAsked) {
  std::string bytes = Stored();
  bytes[kBatchHeaderSize + 5] ^= 1;  // a record byte of the first batch
  RecordIteratorOptions o;
  o.verify_crc = true;
  RecordIterator it(bytes, o);
  RecordView r;
  auto more = it.Next(&r);
  ASSERT_FALSE(more.ok());
  EXPECT_TRUE(more.status().IsCorruption());
  EXPECT_EQ(it.next_offset(), Offset(13));
  more = it.Next(&r);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(r.offset, Offset(13));
}

TEST(RecordIteratorTest, HostileBytesNeverCrash) {
  const std::string good = Stored(Compression::kLz4);
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string b = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
    if (round % 3 == 0) b.resize(rng() % b.size());
    RecordIterator it(b);
    RecordView r;
    for (int i = 0; i < 100; ++i) {
      auto more = it.Next(&r);
      if (more.ok() && !*more) break;
    }
  }
}

}  // namespace iter

}  // namespace
}  // namespace braid::log
