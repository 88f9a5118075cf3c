#include "base/coding.h"

#include <gtest/gtest.h>

#include "base/crc.h"

namespace braid::coding {
namespace {

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

TEST(CodingTest, ZigZagVectorsFromAvroSpec) {
  struct {
    int64_t v;
    const char* hex;
  } cases[] = {{0, "00"},   {-1, "01"},   {1, "02"},        {-2, "03"},       {2, "04"},
               {-64, "7f"}, {64, "8001"}, {8192, "808001"}, {-8193, "818001"}};
  for (auto& c : cases) {
    std::string s;
    PutZigZag64(&s, c.v);
    EXPECT_EQ(Hex(s), c.hex) << c.v;
    int64_t back;
    ASSERT_EQ(GetZigZag64(s.data(), s.data() + s.size(), &back), s.data() + s.size());
    EXPECT_EQ(back, c.v);
  }
}

TEST(CodingTest, RejectsTruncatedAndOverlongVarints) {
  std::string eleven(10, '\x80');
  eleven += '\x01';
  uint64_t v;
  EXPECT_EQ(GetVarint64(eleven.data(), eleven.data() + eleven.size(), &v), nullptr);
  std::string trunc = "\x80\x80";
  EXPECT_EQ(GetVarint64(trunc.data(), trunc.data() + trunc.size(), &v), nullptr);
  // An int must fit 32 bits.
  std::string big;
  PutZigZag64(&big, int64_t{1} << 40);
  int32_t i32;
  EXPECT_EQ(GetZigZag32(big.data(), big.data() + big.size(), &i32), nullptr);
  int64_t mn = INT64_MIN, back;
  std::string m;
  PutZigZag64(&m, mn);
  ASSERT_NE(GetZigZag64(m.data(), m.data() + m.size(), &back), nullptr);
  EXPECT_EQ(back, mn);
}

TEST(CodingTest, BigEndian) {
  std::string s;
  PutBigEndian32(&s, 0x01020304);
  PutBigEndian64(&s, 0x0102030405060708ull);
  EXPECT_EQ(Hex(s), "010203040102030405060708");
  EXPECT_EQ(DecodeBigEndian32(s.data()), 0x01020304u);
  EXPECT_EQ(DecodeBigEndian64(s.data() + 4), 0x0102030405060708ull);
}

TEST(CrcTest, KnownValues) {
  // CRC-32C check value for "123456789" is 0xE3069283; CRC-32 is 0xCBF43926.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32Ieee("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), 0xE3069283u);
  std::string big(1000, 'x');
  EXPECT_EQ(Crc32c(big), Crc32c(big.substr(500), Crc32c(big.substr(0, 500))));
}

}  // namespace
}  // namespace braid::coding
