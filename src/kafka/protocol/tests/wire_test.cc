#include "kafka/protocol/wire.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "kafka/protocol/api_versions.h"
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/header.h"

namespace braid::kafka {
namespace {

using std::string_literals::operator""s;

TEST(WireTest, FixedWidthRoundTrip) {
  std::string buf;
  Writer w(&buf);
  w.WriteBool(true);
  w.WriteInt8(-5);
  w.WriteInt16(-2);
  w.WriteInt32(0x12345678);
  w.WriteInt64(-1234567890123LL);
  w.WriteUint32(0xdeadbeef);
  w.WriteFloat64(2.5);
  Uuid u{};
  for (int i = 0; i < 16; ++i) u[i] = static_cast<uint8_t>(i * 7);
  w.WriteUuid(u);
  EXPECT_EQ(buf.substr(0, 8), "\x01\xfb\xff\xfe\x12\x34\x56\x78"s);

  Reader r(buf);
  bool b = false;
  int8_t i8 = 0;
  int16_t i16 = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  uint32_t u32 = 0;
  double d = 0;
  Uuid u2{};
  ASSERT_TRUE(r.ReadBool(&b).ok());
  ASSERT_TRUE(r.ReadInt8(&i8).ok());
  ASSERT_TRUE(r.ReadInt16(&i16).ok());
  ASSERT_TRUE(r.ReadInt32(&i32).ok());
  ASSERT_TRUE(r.ReadInt64(&i64).ok());
  ASSERT_TRUE(r.ReadUint32(&u32).ok());
  ASSERT_TRUE(r.ReadFloat64(&d).ok());
  ASSERT_TRUE(r.ReadUuid(&u2).ok());
  EXPECT_TRUE(b);
  EXPECT_EQ(i8, -5);
  EXPECT_EQ(i16, -2);
  EXPECT_EQ(i32, 0x12345678);
  EXPECT_EQ(i64, -1234567890123LL);
  EXPECT_EQ(u32, 0xdeadbeefu);
  EXPECT_EQ(d, 2.5);
  EXPECT_EQ(u2, u);
  EXPECT_TRUE(r.empty());
  Status st = r.ReadInt8(&i8);
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("at byte 44"), std::string_view::npos) << st.ToString();
}

TEST(WireTest, VarintsRoundTrip) {
  for (int64_t v : std::vector<int64_t>{0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN,
                                        INT64_MAX, INT64_MIN}) {
    std::string buf;
    Writer w(&buf);
    w.WriteVarlong(v);
    Reader r(buf);
    int64_t got = 0;
    ASSERT_TRUE(r.ReadVarlong(&got).ok());
    EXPECT_EQ(got, v);
    EXPECT_TRUE(r.empty());
    if (v >= INT32_MIN && v <= INT32_MAX) {
      buf.clear();
      w.WriteVarint(static_cast<int32_t>(v));
      Reader r2(buf);
      int32_t g32 = 0;
      ASSERT_TRUE(r2.ReadVarint(&g32).ok());
      EXPECT_EQ(g32, v);
    }
  }
  for (uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 0xffffffffu}) {
    std::string buf;
    Writer w(&buf);
    w.WriteUnsignedVarint(v);
    Reader r(buf);
    uint32_t got = 0;
    ASSERT_TRUE(r.ReadUnsignedVarint(&got).ok());
    EXPECT_EQ(got, v);
  }
  // Known encodings (Kafka docs): zigzag(-1) = 1, zigzag(1) = 2, 300 unsigned = ac 02.
  std::string buf;
  Writer w(&buf);
  w.WriteVarint(-1);
  w.WriteVarint(1);
  w.WriteUnsignedVarint(300);
  EXPECT_EQ(buf, "\x01\x02\xac\x02"s);
}

TEST(WireTest, MalformedVarintsAreErrors) {
  uint32_t u = 0;
  int32_t i = 0;
  int64_t l = 0;
  {
    std::string in_r = "\x80\x80"s;
    Reader r(in_r);  // truncated
    EXPECT_TRUE(r.ReadUnsignedVarint(&u).IsCorruption());
  }
  {
    std::string in_r = "\xff\xff\xff\xff\x7f"s;
    Reader r(in_r);  // 35 bits: exceeds uint32
    EXPECT_TRUE(r.ReadUnsignedVarint(&u).IsCorruption());
  }
  {
    std::string in_r = "\xff\xff\xff\xff\xff\x01"s;
    Reader r(in_r);  // 6 bytes
    EXPECT_TRUE(r.ReadVarint(&i).IsCorruption());
  }
  {
    std::string in_r(11, '\xff');
    Reader r(in_r);
    EXPECT_TRUE(r.ReadVarlong(&l).IsCorruption());
  }
}

TEST(WireTest, StringsAndBytes) {
  std::string buf;
  Writer w(&buf);
  w.WriteString("abc");
  w.WriteNullableString(std::nullopt);
  w.WriteCompactString("de");
  w.WriteCompactNullableString(std::nullopt);
  w.WriteBytes("xyz");
  w.WriteNullableBytes(std::nullopt);
  w.WriteCompactBytes("");
  w.WriteCompactNullableBytes(std::string("q"));
  EXPECT_EQ(buf,
            "\x00\x03"
            "abc"
            "\xff\xff"
            "\x03"
            "de"
            "\x00"
            "\x00\x00\x00\x03"
            "xyz"
            "\xff\xff\xff\xff"
            "\x01"
            "\x02q"s);
  Reader r(buf);
  std::string s;
  std::optional<std::string> o;
  ASSERT_TRUE(r.ReadString(&s).ok());
  EXPECT_EQ(s, "abc");
  ASSERT_TRUE(r.ReadNullableString(&o).ok());
  EXPECT_FALSE(o);
  ASSERT_TRUE(r.ReadCompactString(&s).ok());
  EXPECT_EQ(s, "de");
  ASSERT_TRUE(r.ReadCompactNullableString(&o).ok());
  EXPECT_FALSE(o);
  ASSERT_TRUE(r.ReadBytes(&s).ok());
  EXPECT_EQ(s, "xyz");
  ASSERT_TRUE(r.ReadNullableBytes(&o).ok());
  EXPECT_FALSE(o);
  ASSERT_TRUE(r.ReadCompactBytes(&s).ok());
  EXPECT_EQ(s, "");
  ASSERT_TRUE(r.ReadCompactNullableBytes(&o).ok());
  EXPECT_EQ(o, "q");
  EXPECT_TRUE(r.empty());
}

TEST(WireTest, BadLengthsAreErrorsNotAllocations) {
  std::string s;
  std::optional<std::string> o;
  {
    std::string in_r = "\xff\xff"s;
    Reader r(in_r);  // null for non-nullable
    EXPECT_TRUE(r.ReadString(&s).IsCorruption());
  }
  {
    std::string in_r = "\xff\xfe"s;
    Reader r(in_r);  // -2
    EXPECT_TRUE(r.ReadNullableString(&o).IsCorruption());
  }
  {
    std::string in_r =
        "\x7f\xff"
        "abc"s;
    Reader r(in_r);  // 32767 bytes claimed, 3 present
    Status st = r.ReadString(&s);
    EXPECT_TRUE(st.IsCorruption());
    EXPECT_NE(st.message().find("at byte 2"), std::string_view::npos) << st.ToString();
  }
  {
    std::string in_r = "\x7f\xff\xff\xff"s;
    Reader r(in_r);  // 2 GiB of bytes claimed
    EXPECT_TRUE(r.ReadBytes(&s).IsCorruption());
  }
  {
    std::string in_r = "\x00"s;
    Reader r(in_r);  // compact null for non-nullable
    EXPECT_TRUE(r.ReadCompactString(&s).IsCorruption());
  }
  {
    std::string in_r = "\xff\xff\xff\xff\x0f"s;
    Reader r(in_r);  // compact length 2^32-2
    EXPECT_TRUE(r.ReadCompactBytes(&s).IsCorruption());
  }
}

TEST(WireTest, ArrayCountsAreBoundedByRemainingBytes) {
  int32_t n = 0;
  {
    std::string in_r =
        "\x7f\xff\xff\xff"
        "abcdefgh"s;
    Reader r(in_r);
    Status st = r.ReadArrayCount(&n, 4);
    EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("exceeds remaining"), std::string_view::npos);
  }
  {
    std::string in_r =
        "\x00\x00\x00\x02"
        "abcdefgh"s;
    Reader r(in_r);  // 2 elements of >= 4 bytes: fits
    ASSERT_TRUE(r.ReadArrayCount(&n, 4).ok());
    EXPECT_EQ(n, 2);
  }
  {
    std::string in_r =
        "\x00\x00\x00\x03"
        "abcdefgh"s;
    Reader r(in_r);  // 3 x 4 > 8
    EXPECT_TRUE(r.ReadArrayCount(&n, 4).IsCorruption());
  }
  {
    std::string in_r = "\xff\xff\xff\xff"s;
    Reader r(in_r);
    ASSERT_TRUE(r.ReadArrayCount(&n, 4).ok());
    EXPECT_EQ(n, -1);
  }
  {
    std::string in_r = "\xff\xff\xff\xfe"s;
    Reader r(in_r);
    EXPECT_TRUE(r.ReadArrayCount(&n, 1).IsCorruption());
  }
  {
    std::string in_r = "\x00"s;
    Reader r(in_r);
    ASSERT_TRUE(r.ReadCompactArrayCount(&n, 1).ok());
    EXPECT_EQ(n, -1);
  }
  {
    std::string in_r = "\xff\xff\xff\xff\x0f"s;
    Reader r(in_r);
    EXPECT_TRUE(r.ReadCompactArrayCount(&n, 1).IsCorruption());
  }
}

TEST(WireTest, TaggedFields) {
  // Two tags (1: "ab", 5: ""), in order.
  std::string buf =
      "\x02\x01\x02"
      "ab"
      "\x05\x00"s;
  {
    Reader r(buf);
    std::vector<std::pair<uint32_t, std::string>> seen;
    ASSERT_TRUE(r.ReadTaggedFields([&](uint32_t tag, std::string_view b) {
                   seen.emplace_back(tag, std::string(b));
                   return Status::OK();
                 }).ok());
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].first, 1u);
    EXPECT_EQ(seen[0].second, "ab");
    EXPECT_EQ(seen[1].first, 5u);
    EXPECT_TRUE(r.empty());
  }
  {
    Reader r(buf);
    EXPECT_TRUE(r.SkipTaggedFields().ok());
    EXPECT_TRUE(r.empty());
  }
  {
    std::string in_r = "\x02\x05\x00\x01\x00"s;
    Reader r(in_r);  // out of order
    EXPECT_TRUE(r.SkipTaggedFields().IsCorruption());
  }
  {
    std::string in_r =
        "\x01\x01\x09"
        "ab"s;
    Reader r(in_r);  // size past the end
    EXPECT_TRUE(r.SkipTaggedFields().IsCorruption());
  }
  {
    std::string in_r = "\xff\xff\xff\x7f"s;
    Reader r(in_r);  // absurd count
    EXPECT_TRUE(r.SkipTaggedFields().IsCorruption());
  }
}

TEST(WireTest, WriterPatch) {
  std::string buf;
  Writer w(&buf);
  size_t pos = w.ReserveInt32();
  w.WriteInt16(7);
  w.PatchInt32(pos, 2);
  EXPECT_EQ(buf, "\x00\x00\x00\x02\x00\x07"s);
}

TEST(ApiVersionsTableTest, RangesAndHeaderVersions) {
  const ApiInfo* produce = FindApi(ApiKey::kProduce);
  ASSERT_NE(produce, nullptr);
  // Min 0: librdkafka only compresses with gzip/snappy/lz4 if Produce v0 is
  // advertised (see api_versions.cc).
  EXPECT_EQ(produce->min_version, 0);
  EXPECT_EQ(produce->max_version, 7);
  EXPECT_TRUE(IsSupportedVersion(0, 2));
  // Fetch v0-3 (old message formats, down-converted) and v12+ (flexible).
  EXPECT_TRUE(IsSupportedVersion(1, 0));
  EXPECT_TRUE(IsSupportedVersion(1, 3));
  EXPECT_FALSE(IsSupportedVersion(1, 12));
  EXPECT_TRUE(IsSupportedVersion(0, 7));
  EXPECT_FALSE(IsSupportedVersion(0, 8));
  // librdkafka's group/LZ4 features need FindCoordinator min 0 (brief §1.1).
  EXPECT_EQ(FindApi(ApiKey::kFindCoordinator)->min_version, 0);
  EXPECT_EQ(FindApi(ApiKey::kSaslHandshake)->max_version, 1);
  EXPECT_EQ(FindApi(ApiKey::kSaslAuthenticate)->max_version, 2);
  EXPECT_EQ(FindApi(ApiKey::kDescribeUserScramCredentials)->first_flexible, 0);
  EXPECT_EQ(FindApi(ApiKey::kCreateAcls)->max_version, 1);
  EXPECT_EQ(FindApi(ApiKey::kAddPartitionsToTxn), nullptr);
  for (const ApiInfo& a : SupportedApis()) {
    EXPECT_LE(a.min_version, a.max_version) << a.name;
    EXPECT_EQ(FirstFlexibleVersion(static_cast<int16_t>(a.key)), a.first_flexible) << a.name;
    EXPECT_EQ(ApiKeyName(static_cast<int16_t>(a.key)), a.name);
  }
  // Flexible versions: request header v2, response header v1, except ApiVersions.
  EXPECT_EQ(RequestHeaderVersion(18, 3), 2);
  EXPECT_EQ(ResponseHeaderVersion(18, 3), 0);
  EXPECT_EQ(RequestHeaderVersion(18, 2), 1);
  EXPECT_EQ(RequestHeaderVersion(3, 9), 2);
  EXPECT_EQ(ResponseHeaderVersion(3, 9), 1);
  EXPECT_EQ(ResponseHeaderVersion(3, 7), 0);
  EXPECT_EQ(RequestHeaderVersion(17, 1), 1);    // SaslHandshake: never flexible
  EXPECT_EQ(RequestHeaderVersion(1000, 5), 1);  // unknown key
  EXPECT_EQ(ApiKeyName(1000), "Unknown");
}

TEST(ErrorCodeTest, Names) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kNone), "NONE");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnknownServerError), "UNKNOWN_SERVER_ERROR");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kMessageTooLarge), "MESSAGE_TOO_LARGE");
  EXPECT_EQ(ErrorCodeName(int16_t{87}), "INVALID_RECORD");
  EXPECT_EQ(ErrorCodeName(int16_t{43}), "UNSUPPORTED_FOR_MESSAGE_FORMAT");
  EXPECT_EQ(ErrorCodeName(int16_t{79}), "MEMBER_ID_REQUIRED");
  EXPECT_EQ(ErrorCodeName(int16_t{5000}), "UNKNOWN_ERROR_CODE");
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kFencedInstanceId), 82);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kGroupIdNotFound), 69);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kNonEmptyGroup), 68);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kUnknownProducerId), 59);
  EXPECT_EQ(ToWire(ErrorCode::kRebalanceInProgress), 27);
}

TEST(HeaderTest, RequestHeaderV1AndV2) {
  RequestHeader h;
  h.api_key = 3;
  h.api_version = 1;
  h.correlation_id = 42;
  h.client_id = "cli";
  h.header_version = 1;
  std::string buf;
  Writer w(&buf);
  EncodeRequestHeader(h, &w);
  EXPECT_EQ(buf,
            "\x00\x03\x00\x01\x00\x00\x00\x2a\x00\x03"
            "cli"s);
  Reader r(buf);
  RequestHeader got;
  ASSERT_TRUE(DecodeRequestHeader(&r, &got).ok());
  EXPECT_EQ(got.api_key, 3);
  EXPECT_EQ(got.correlation_id, 42);
  EXPECT_EQ(got.client_id, "cli");
  EXPECT_EQ(got.header_version, 1);

  // v2 (ApiVersions v3) with a null client id and unknown header tags.
  std::string v2 = "\x00\x12\x00\x03\x00\x00\x00\x07\xff\xff\x01\x00\x02zz"s;
  Reader r2(v2);
  ASSERT_TRUE(DecodeRequestHeader(&r2, &got).ok());
  EXPECT_EQ(got.header_version, 2);
  EXPECT_FALSE(got.client_id);
  EXPECT_TRUE(r2.empty());

  // Truncated at every length.
  for (size_t n = 0; n < buf.size(); ++n) {
    Reader rt(std::string_view(buf).substr(0, n));
    EXPECT_FALSE(DecodeRequestHeader(&rt, &got).ok()) << n;
  }
}

TEST(HeaderTest, ResponseHeadersAndFrameSize) {
  std::string buf;
  Writer w(&buf);
  EncodeResponseHeader(9, 0, &w);
  EncodeResponseHeader(9, 1, &w);
  EXPECT_EQ(buf, "\x00\x00\x00\x09\x00\x00\x00\x09\x00"s);
  Reader r(buf);
  int32_t c = 0;
  ASSERT_TRUE(DecodeResponseHeader(&r, 0, &c).ok());
  ASSERT_TRUE(DecodeResponseHeader(&r, 1, &c).ok());
  EXPECT_EQ(c, 9);

  auto ok = DecodeFrameSize("\x00\x00\x01\x00"s, 1 << 20);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 256);
  EXPECT_FALSE(DecodeFrameSize("\xff\xff\xff\xff"s, 1 << 20).ok());
  EXPECT_FALSE(DecodeFrameSize("\x7f\x00\x00\x00"s, kDefaultMaxFrameSize).ok());
}

}  // namespace
}  // namespace braid::kafka
