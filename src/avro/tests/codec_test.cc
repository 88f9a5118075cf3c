#include "avro/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace braid::avro {
namespace {

const std::vector<CodecKind> kAllCodecs = {
    CodecKind::kNull,  CodecKind::kDeflate, CodecKind::kSnappy, CodecKind::kZstandard,
    CodecKind::kBzip2, CodecKind::kXz,      CodecKind::kLzma};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string Compressible(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += "record-" + std::to_string(i % 97) + ";";
  s.resize(n);
  return s;
}

class CodecTest : public ::testing::TestWithParam<CodecKind> {};

TEST_P(CodecTest, RoundTrips) {
  auto codec = NewCodec(GetParam());
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  for (const std::string& input :
       {std::string(), std::string("a"), Compressible(100000), RandomBytes(70000, 7)}) {
    std::string compressed = "prefix";
    ASSERT_TRUE((*codec)->Compress(input, &compressed).ok());
    ASSERT_EQ(compressed.substr(0, 6), "prefix");
    std::string out;
    Status s = (*codec)->Decompress(std::string_view(compressed).substr(6), input.size(), &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(out, input);
  }
}

TEST_P(CodecTest, ReusesContexts) {
  auto codec = NewCodec(GetParam(), 1);
  ASSERT_TRUE(codec.ok());
  for (int i = 0; i < 5; ++i) {
    std::string input = Compressible(1000 * (i + 1));
    std::string c, out;
    ASSERT_TRUE((*codec)->Compress(input, &c).ok());
    ASSERT_TRUE((*codec)->Decompress(c, 1 << 20, &out).ok());
    EXPECT_EQ(out, input);
  }
}

TEST_P(CodecTest, OutputLimitIsEnforced) {
  auto codec = NewCodec(GetParam());
  ASSERT_TRUE(codec.ok());
  std::string input(1 << 20, 'x');  // a 1 MiB run: a "bomb" for every codec
  std::string c, out;
  ASSERT_TRUE((*codec)->Compress(input, &c).ok());
  Status s = (*codec)->Decompress(c, input.size() - 1, &out);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_LE(out.capacity(), 2 * input.size());  // bounded by the limit
  EXPECT_TRUE((*codec)->Decompress(c, input.size(), &out).ok());
}

TEST_P(CodecTest, TruncatedInputIsCorruption) {
  if (GetParam() == CodecKind::kNull) GTEST_SKIP();
  auto codec = NewCodec(GetParam());
  ASSERT_TRUE(codec.ok());
  std::string input = Compressible(50000) + RandomBytes(5000, 3);
  std::string c, out;
  ASSERT_TRUE((*codec)->Compress(input, &c).ok());
  for (size_t cut : {size_t{0}, size_t{1}, c.size() / 2, c.size() - 1}) {
    Status s = (*codec)->Decompress(std::string_view(c).substr(0, cut), 1 << 20, &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << CodecName(GetParam()) << " cut " << cut;
  }
}

TEST_P(CodecTest, GarbageNeverCrashes) {
  auto codec = NewCodec(GetParam());
  ASSERT_TRUE(codec.ok());
  std::string input = Compressible(20000);
  std::string c, out;
  ASSERT_TRUE((*codec)->Compress(input, &c).ok());
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    std::string bad = c;
    for (int j = 0; j < 3; ++j) bad[rng() % bad.size()] = static_cast<char>(rng());
    Status s = (*codec)->Decompress(bad, 1 << 20, &out);
    if (s.ok()) {
      EXPECT_LE(out.size(), size_t{1} << 20);
    }
  }
  Status s = (*codec)->Decompress(RandomBytes(1000, 5), 1 << 20, &out);
  if (GetParam() != CodecKind::kNull) {
    EXPECT_FALSE(s.ok());
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest, ::testing::ValuesIn(kAllCodecs),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

TEST(CodecNameTest, ParsesEveryName) {
  for (CodecKind k : kAllCodecs) {
    auto parsed = ParseCodecName(CodecName(k));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(*ParseCodecName(""), CodecKind::kNull);
}

TEST(CodecNameTest, UnknownCodecIsAClearError) {
  auto r = ParseCodecName("brotli");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("unknown Avro codec \"brotli\""), std::string_view::npos);
  EXPECT_NE(r.status().message().find("zstandard"), std::string_view::npos);
  EXPECT_FALSE(NewCodec("gzip").ok());
}

TEST(CodecNameTest, LevelsAreChecked) {
  EXPECT_FALSE(NewCodec(CodecKind::kDeflate, 10).ok());
  EXPECT_FALSE(NewCodec(CodecKind::kZstandard, 0).ok());
  EXPECT_FALSE(NewCodec(CodecKind::kBzip2, 0).ok());
  EXPECT_TRUE(NewCodec(CodecKind::kXz, 9).ok());
}

TEST(SnappyCodecTest, CrcMismatchIsCorruption) {
  auto codec = NewCodec(CodecKind::kSnappy);
  ASSERT_TRUE(codec.ok());
  std::string c, out;
  ASSERT_TRUE((*codec)->Compress("hello snappy", &c).ok());
  c.back() ^= 1;
  Status s = (*codec)->Decompress(c, 100, &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("CRC-32 mismatch"), std::string_view::npos) << s.ToString();
}

TEST(SnappyCodecTest, CrcIsBigEndianCrc32OfUncompressed) {
  auto codec = NewCodec(CodecKind::kSnappy);
  ASSERT_TRUE(codec.ok());
  std::string c;
  ASSERT_TRUE((*codec)->Compress("123456789", &c).ok());
  // CRC-32 check value of "123456789" is 0xcbf43926.
  EXPECT_EQ(c.substr(c.size() - 4), std::string("\xcb\xf4\x39\x26", 4));
}

TEST(DeflateCodecTest, IsRawDeflate) {
  auto codec = NewCodec(CodecKind::kDeflate);
  ASSERT_TRUE(codec.ok());
  std::string c;
  ASSERT_TRUE((*codec)->Compress(Compressible(1000), &c).ok());
  // A zlib stream would start with 0x78; raw deflate with a block header.
  EXPECT_NE(static_cast<unsigned char>(c[0]), 0x78);
}

TEST(ZstdCodecTest, FrameWithoutContentSizeDecodes) {
  // A zstd frame whose header has no content size (FHD byte 0x00): the
  // empty-content raw block frame as written by a streaming compressor.
  // magic, FHD=0 (window descriptor follows), window, last raw block of 3 bytes.
  std::string frame(
      "\x28\xb5\x2f\xfd\x00\x48\x19\x00\x00"
      "abc",
      12);
  auto codec = NewCodec(CodecKind::kZstandard);
  ASSERT_TRUE(codec.ok());
  std::string out;
  Status s = (*codec)->Decompress(frame, 100, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, "abc");
}

}  // namespace
}  // namespace braid::avro
