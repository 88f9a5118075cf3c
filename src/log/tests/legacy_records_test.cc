#include "log/legacy_records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc.h"
#include "log/record_batch.h"
#include "log/records.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace braid::log {
namespace {

std::string ReadTestData(const std::string& name) {
  std::ifstream f(std::string(BRAID_LOG_TEST_DATA) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* const kLegacyCodecs[] = {"none", "gzip", "snappy", "lz4"};

// The records of gen_legacy.py.
std::optional<std::string> GoldenKey(int i) {
  if (i == 2) return std::nullopt;
  return "key-" + std::to_string(i);
}
std::optional<std::string> GoldenValue(int i) {
  if (i == 4) return std::nullopt;
  std::string v;
  for (int k = 0; k < 8; ++k) v += "value-" + std::to_string(i) + "-";
  return v;
}

std::vector<Record> SampleRecords(int n, int64_t ts0 = 1700000000000) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp = ts0 + i;
    if (i != 1) r.key = std::string("k").append(std::to_string(i));
    if (i != 3) r.value = std::string(50 + i, static_cast<char>('a' + i));
    if (i % 2 == 0) r.headers = {{"h", "dropped"}};
    out.push_back(r);
  }
  return out;
}

std::string Build(const std::vector<Record>& records, BatchBuilderOptions opts) {
  BatchBuilder b(opts);
  for (const Record& r : records) b.Add(r);
  auto built = b.Build();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return built.ok() ? *built : std::string();
}

TEST(LegacyRecordsTest, DecodesKafkaPythonMessageSets) {
  for (int magic : {0, 1}) {
    for (const char* codec : kLegacyCodecs) {
      SCOPED_TRACE(std::string("magic ") + std::to_string(magic) + " " + codec);
      std::string set = ReadTestData("legacy_m" + std::to_string(magic) + "_" + codec + ".bin");
      ASSERT_FALSE(set.empty());
      EXPECT_EQ(*PeekMagic(set), magic);
      auto msgs = DecodeMessageSet(set);
      ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
      ASSERT_EQ(msgs->size(), 6u);
      for (int i = 0; i < 6; ++i) {
        const LegacyMessage& m = (*msgs)[i];
        // A producer's magic 1 wrapper carries offset 0 and relative inner
        // offsets 0..5 (the broker assigns the real ones): decoded as
        // absolute they are wrapper - 5 + i.
        const bool relative = magic == 1 && std::string(codec) != "none";
        EXPECT_EQ(m.offset.value(), relative ? i - 5 : i);
        EXPECT_EQ(m.magic, magic);
        EXPECT_EQ(m.key, GoldenKey(i));
        EXPECT_EQ(m.value, GoldenValue(i));
        EXPECT_EQ(m.timestamp, magic == 1 ? 1700000000000 + i : -1);
      }
    }
  }
}

TEST(LegacyRecordsTest, UpConvertsKafkaPythonMessageSets) {
  const Compression codecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                Compression::kLz4};
  for (int magic : {0, 1}) {
    for (int c = 0; c < 4; ++c) {
      SCOPED_TRACE(std::string("magic ") + std::to_string(magic) + " " + kLegacyCodecs[c]);
      std::string set =
          ReadTestData("legacy_m" + std::to_string(magic) + "_" + kLegacyCodecs[c] + ".bin");
      auto up = UpConvertMessageSet(set);
      ASSERT_TRUE(up.ok()) << up.status().ToString();
      EXPECT_EQ(up->magic, magic);
      EXPECT_EQ(up->compression, codecs[c]);
      EXPECT_EQ(up->record_count, 6);
      auto header = ValidateBatch(up->batch);
      ASSERT_TRUE(header.ok()) << header.status().ToString();
      EXPECT_EQ(header->compression(), codecs[c]);
      EXPECT_EQ(header->record_count, 6);
      EXPECT_EQ(header->producer_id.value(), -1);
      BatchView view{*header, up->batch};
      auto recs = DecodeRecords(view);
      ASSERT_TRUE(recs.ok()) << recs.status().ToString();
      ASSERT_EQ(recs->size(), 6u);
      for (int i = 0; i < 6; ++i) {
        EXPECT_EQ((*recs)[i].offset.value(), i);
        EXPECT_EQ((*recs)[i].key, GoldenKey(i));
        EXPECT_EQ((*recs)[i].value, GoldenValue(i));
        // Magic 0 has no timestamps: Kafka's NO_TIMESTAMP (-1).
        EXPECT_EQ((*recs)[i].timestamp, magic == 1 ? 1700000000000 + i : -1);
        EXPECT_TRUE((*recs)[i].headers.empty());
      }
    }
  }
}

TEST(LegacyRecordsTest, DownConvertsEveryCodecToBothMagics) {
  const Compression codecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                Compression::kLz4};
  std::vector<Record> records = SampleRecords(8);
  for (Compression codec : codecs) {
    for (int8_t magic : {kMagicV0, kMagicV1}) {
      SCOPED_TRACE(std::string(CompressionName(codec)) + " magic " + std::to_string(magic));
      BatchBuilderOptions bo;
      bo.compression = codec;
      bo.base_offset = Offset(100);
      std::string batches = Build(records, bo);
      bo.base_offset = Offset(108);
      batches += Build(SampleRecords(2, 1800000000000), bo);
      DownConvertOptions o;
      o.first_offset = Offset(103);  // inside the first batch
      auto down = DownConvertBatches(batches, magic, o);
      ASSERT_TRUE(down.ok()) << down.status().ToString();
      EXPECT_EQ(down->records, 7);
      auto msgs = DecodeMessageSet(down->message_set);
      ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
      ASSERT_EQ(msgs->size(), 7u);
      const std::vector<Record> second = SampleRecords(2, 1800000000000);
      for (size_t i = 0; i < msgs->size(); ++i) {
        const LegacyMessage& m = (*msgs)[i];
        const Record& want = i < 5 ? records[i + 3] : second[i - 5];
        EXPECT_EQ(m.offset.value(), 103 + static_cast<int64_t>(i));
        EXPECT_EQ(m.magic, magic);
        EXPECT_EQ(m.key, want.key);
        EXPECT_EQ(m.value, want.value);
        EXPECT_EQ(m.timestamp, magic == kMagicV1 ? want.timestamp : -1);
        EXPECT_FALSE(m.log_append_time);
      }
      // Compressed batches stay compressed: one wrapper each, same codec.
      int8_t first_attrs = static_cast<int8_t>(down->message_set[kLegacyLogOverhead + 5]);
      EXPECT_EQ(first_attrs & 0x07, static_cast<int>(codec));
      // And back: the up-conversion of a down-converted uncompressed set (or
      // of each single wrapper) gives the same records.
      if (codec == Compression::kNone) {
        auto up = UpConvertMessageSet(down->message_set);
        ASSERT_TRUE(up.ok()) << up.status().ToString();
        EXPECT_EQ(up->record_count, 7);
      }
    }
  }
}

TEST(LegacyRecordsTest, MagicOneWrapperUsesRelativeInnerOffsets) {
  BatchBuilderOptions bo;
  bo.compression = Compression::kGzip;
  bo.base_offset = Offset(1000);
  std::string batch = Build(SampleRecords(4), bo);
  DownConvertOptions o;
  o.first_offset = Offset(1001);
  auto down = DownConvertBatches(batch, kMagicV1, o);
  ASSERT_TRUE(down.ok());
  // Wrapper offset = absolute offset of the last inner message (Kafka's rule
  // that kafka-go 0.2.1 and the Java client rely on).
  EXPECT_EQ(static_cast<int64_t>(coding::DecodeBigEndian64(down->message_set.data())), 1003);
  std::string inner;
  const std::string& s = down->message_set;
  // Value of the wrapper: after crc(4) magic(1) attrs(1) ts(8) key(-1: 4).
  size_t vpos = kLegacyLogOverhead + 4 + 1 + 1 + 8 + 4;
  uint32_t vlen = coding::DecodeBigEndian32(s.data() + vpos);
  ASSERT_TRUE(Decompress(Compression::kGzip, s.substr(vpos + 4, vlen), 1 << 20, &inner).ok());
  EXPECT_EQ(coding::DecodeBigEndian64(inner.data()), 0u);  // first inner: relative 0
  // Magic 0: absolute inner offsets.
  auto down0 = DownConvertBatches(batch, kMagicV0, o);
  ASSERT_TRUE(down0.ok());
  vpos = kLegacyLogOverhead + 4 + 1 + 1 + 4;
  vlen = coding::DecodeBigEndian32(down0->message_set.data() + vpos);
  inner.clear();
  ASSERT_TRUE(
      Decompress(Compression::kGzip, down0->message_set.substr(vpos + 4, vlen), 1 << 20, &inner)
          .ok());
  EXPECT_EQ(coding::DecodeBigEndian64(inner.data()), 1001u);
}

TEST(LegacyRecordsTest, MagicZeroLz4HasKafkasOldHeaderChecksum) {
  BatchBuilderOptions bo;
  bo.compression = Compression::kLz4;
  std::string batch = Build(SampleRecords(3), bo);
  auto down = DownConvertBatches(batch, kMagicV0);
  ASSERT_TRUE(down.ok());
  const std::string& s = down->message_set;
  size_t vpos = kLegacyLogOverhead + 4 + 1 + 1 + 4;
  uint32_t vlen = coding::DecodeBigEndian32(s.data() + vpos);
  std::string frame = s.substr(vpos + 4, vlen);
  // Frame: magic(4) FLG BD HC: HC over magic + FLG + BD (KAFKA-3160).
  ASSERT_GE(frame.size(), 7u);
  uint8_t broken = static_cast<uint8_t>((XXH32(frame.data(), 6, 0) >> 8) & 0xff);
  EXPECT_EQ(static_cast<uint8_t>(frame[6]), broken);
  auto msgs = DecodeMessageSet(s);
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  EXPECT_EQ(msgs->size(), 3u);
}

TEST(LegacyRecordsTest, LogAppendTimeAndControlBatches) {
  BatchBuilderOptions bo;
  bo.log_append_time = true;
  bo.log_append_time_ms = 1234567;
  std::string batches = Build(SampleRecords(2), bo);
  BatchBuilderOptions ctl;
  ctl.control = true;
  ctl.transactional = true;
  ctl.base_offset = Offset(2);
  BatchBuilder cb(ctl);
  cb.Add(0, std::string_view("\0\0\0\1", 4), std::string_view("\0\0\0\0\0\0", 6));
  batches += *cb.Build();
  auto down = DownConvertBatches(batches, kMagicV1);
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  auto msgs = DecodeMessageSet(down->message_set);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 2u);  // the control batch is skipped
  for (const auto& m : *msgs) {
    EXPECT_TRUE(m.log_append_time);
    EXPECT_EQ(m.timestamp, 1234567);
  }
}

TEST(LegacyRecordsTest, ZstdCannotBeDownConverted) {
  BatchBuilderOptions bo;
  bo.compression = Compression::kZstd;
  std::string batch = Build(SampleRecords(2), bo);
  auto down = DownConvertBatches(batch, kMagicV1);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnimplemented);
  // Records below first_offset only: nothing to convert, no error.
  DownConvertOptions o;
  o.first_offset = Offset(2);
  auto none = DownConvertBatches(batch, kMagicV1, o);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->message_set.empty());
}

TEST(LegacyRecordsTest, DownConvertIgnoresATruncatedLastBatch) {
  BatchBuilderOptions bo;
  std::string batches = Build(SampleRecords(2), bo);
  bo.base_offset = Offset(2);
  std::string second = Build(SampleRecords(2), bo);
  batches += second.substr(0, second.size() - 5);
  auto down = DownConvertBatches(batches, kMagicV1);
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->records, 2);
}

std::string OneMessage(int8_t magic, int8_t attrs, std::optional<std::string_view> value,
                       int64_t offset = 0) {
  std::string s;
  AppendLegacyMessage(&s, magic, offset, attrs, 42, std::string_view("k"), value);
  return s;
}

TEST(LegacyRecordsTest, RejectsBadMessageSets) {
  std::string good = ReadTestData("legacy_m1_gzip.bin");
  ASSERT_TRUE(UpConvertMessageSet(good).ok());
  // Every strict prefix fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = UpConvertMessageSet(std::string_view(good).substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
  }
  // A flipped byte anywhere: CRC mismatch (Corruption) or a structural error,
  // never a crash.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    auto r = UpConvertMessageSet(bad);
    if (!r.ok()) continue;
    EXPECT_LT(i, 12u);  // only the offset field is not covered by a CRC
  }
  std::string crc_bad = OneMessage(kMagicV1, 0, std::string_view("v"));
  crc_bad[kLegacyLogOverhead] ^= 1;
  EXPECT_EQ(UpConvertMessageSet(crc_bad).status().code(), StatusCode::kCorruption);
  // Empty.
  EXPECT_EQ(UpConvertMessageSet("").status().code(), StatusCode::kInvalidArgument);
  // Mixed magics.
  EXPECT_EQ(UpConvertMessageSet(OneMessage(0, 0, std::string_view("a")) +
                                OneMessage(1, 0, std::string_view("b")))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  // Two compressed wrappers (Kafka: exactly one).
  std::string inner = OneMessage(kMagicV1, 0, std::string_view("x"));
  std::string gz;
  ASSERT_TRUE(Compress(Compression::kGzip, inner, {}, &gz).ok());
  std::string wrapper = OneMessage(kMagicV1, 1, gz);
  ASSERT_TRUE(UpConvertMessageSet(wrapper).ok());
  EXPECT_EQ(UpConvertMessageSet(wrapper + wrapper).status().code(), StatusCode::kInvalidArgument);
  // Nested compression.
  std::string gz2;
  ASSERT_TRUE(Compress(Compression::kGzip, wrapper, {}, &gz2).ok());
  EXPECT_EQ(UpConvertMessageSet(OneMessage(kMagicV1, 1, gz2)).status().code(),
            StatusCode::kInvalidArgument);
  // Inner magic differs from the wrapper's.
  std::string gz0;
  ASSERT_TRUE(Compress(Compression::kGzip, OneMessage(0, 0, std::string_view("x")), {}, &gz0).ok());
  EXPECT_EQ(UpConvertMessageSet(OneMessage(kMagicV1, 1, gz0)).status().code(),
            StatusCode::kInvalidArgument);
  // zstd and unknown codecs with magic 0/1.
  EXPECT_EQ(UpConvertMessageSet(OneMessage(kMagicV1, 4, gz)).status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(UpConvertMessageSet(OneMessage(kMagicV1, 6, gz)).status().code(),
            StatusCode::kUnimplemented);
  // A wrapper whose value is not what its codec says.
  EXPECT_EQ(
      UpConvertMessageSet(OneMessage(kMagicV1, 1, std::string_view("not gzip"))).status().code(),
      StatusCode::kCorruption);
  // A RecordBatch v2 inside a MessageSet.
  BatchBuilder b;
  b.Add(0, std::nullopt, std::string_view("v"));
  std::string v2 = *b.Build();
  EXPECT_EQ(
      UpConvertMessageSet(OneMessage(kMagicV1, 0, std::string_view("a")) + v2).status().code(),
      StatusCode::kInvalidArgument);
  // Absurd message size.
  std::string huge = OneMessage(kMagicV1, 0, std::string_view("a"));
  coding::EncodeBigEndian32(huge.data() + 8, 0x7fffffff);
  EXPECT_EQ(UpConvertMessageSet(huge).status().code(), StatusCode::kCorruption);
  // Decompression bomb bounded.
  std::string big_inner;
  for (int i = 0; i < 1000; ++i) big_inner += OneMessage(kMagicV1, 0, std::string(1000, 'z'), i);
  std::string bomb;
  ASSERT_TRUE(Compress(Compression::kGzip, big_inner, {}, &bomb).ok());
  UpConvertOptions small;
  small.max_decompressed_size = 10000;
  auto r = UpConvertMessageSet(OneMessage(kMagicV1, 1, bomb), small);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsTooLarge()) << r.status().ToString();
}

TEST(LegacyRecordsTest, HostileOffsetsDoNotOverflow) {
  // Relative inner offsets resolved against an extreme wrapper offset
  // (found by the fuzzer): two's-complement, no undefined behaviour.
  std::string inner = OneMessage(kMagicV1, 0, std::string_view("a"), INT64_MAX) +
                      OneMessage(kMagicV1, 0, std::string_view("b"), INT64_MIN);
  std::string gz;
  ASSERT_TRUE(Compress(Compression::kGzip, inner, {}, &gz).ok());
  auto msgs = DecodeMessageSet(OneMessage(kMagicV1, 1, gz, INT64_MIN + 1));
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  EXPECT_EQ(msgs->size(), 2u);
  BatchBuilderOptions bo;
  bo.compression = Compression::kGzip;
  bo.base_offset = Offset(INT64_MAX - 1);
  BatchBuilder b(bo);
  b.Add(0, std::nullopt, std::string_view("x"));
  b.Add(0, std::nullopt, std::string_view("y"));
  b.Add(0, std::nullopt, std::string_view("z"));
  DownConvertOptions o;
  o.first_offset = Offset(INT64_MIN);
  EXPECT_TRUE(DownConvertBatches(*b.Build(), kMagicV1, o).ok());
}

TEST(LegacyRecordsTest, AcceptsBothLz4HeaderChecksumsForMagicZero) {
  std::string inner = OneMessage(kMagicV0, 0, std::string_view("payload"));
  std::string frame;
  ASSERT_TRUE(Compress(Compression::kLz4, inner, {}, &frame).ok());  // correct checksum
  auto ok = UpConvertMessageSet(OneMessage(kMagicV0, 3, frame));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->record_count, 1);
}

}  // namespace
}  // namespace braid::log
