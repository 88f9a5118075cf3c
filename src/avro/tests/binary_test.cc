#include "avro/binary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "avro/json.h"

namespace braid::avro {
namespace {

std::string Hex(std::string_view s) { return ToHex(s); }

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TestData(const std::string& rel) {
  const char* root = std::getenv("BRAID_TESTDATA");
  return std::string(root ? root : "/work/shared/testdata") + "/" + rel;
}

Schema MustParse(std::string_view json) {
  Result<Schema> s = ParseSchema(json);
  EXPECT_TRUE(s.ok()) << s.status().ToString() << " in " << json;
  return s.ok() ? *s : Schema();
}

TEST(DecoderTest, ZigZagVectors) {
  const std::pair<int64_t, const char*> kVectors[] = {
      {0, "00"},
      {-1, "01"},
      {1, "02"},
      {-2, "03"},
      {2, "04"},
      {-64, "7f"},
      {64, "8001"},
      {8192, "808001"},
      {-8193, "818001"},
      {INT64_MAX, "feffffffffffffffff01"},
      {INT64_MIN, "ffffffffffffffffff01"},
  };
  for (const auto& [value, hex] : kVectors) {
    std::string out;
    Encoder(&out).WriteLong(value);
    EXPECT_EQ(Hex(out), hex) << value;
    Decoder d(out);
    int64_t v;
    ASSERT_TRUE(d.ReadLong(&v).ok());
    EXPECT_EQ(v, value);
    EXPECT_TRUE(d.empty());
    if (value >= INT32_MIN && value <= INT32_MAX) {
      std::string out32;
      Encoder(&out32).WriteInt(static_cast<int32_t>(value));
      EXPECT_EQ(out32, out);
      Decoder d32(out32);
      int32_t v32;
      ASSERT_TRUE(d32.ReadInt(&v32).ok());
      EXPECT_EQ(v32, value);
    }
  }
  std::string out;
  Encoder(&out).WriteInt(INT32_MIN);
  EXPECT_EQ(Hex(out), "ffffffff0f");
}

TEST(DecoderTest, MalformedVarints) {
  int64_t l;
  int32_t i;
  // 11-byte long.
  std::string eleven = Unhex("8080808080808080808001");
  Status s = Decoder(eleven).ReadLong(&l);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  // Tenth byte with bits beyond 64.
  EXPECT_TRUE(Decoder(Unhex("ffffffffffffffffff7f")).ReadLong(&l).IsCorruption());
  // Truncated.
  s = Decoder(Unhex("8080")).ReadLong(&l);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("truncated long at byte offset 0"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Decoder("").ReadLong(&l).IsCorruption());
  // int: 6 bytes, value beyond 32 bits, truncated.
  EXPECT_TRUE(Decoder(Unhex("808080808001")).ReadInt(&i).IsCorruption());
  EXPECT_TRUE(Decoder(Unhex("8080808010")).ReadInt(&i).IsCorruption());
  EXPECT_TRUE(Decoder(Unhex("ff")).ReadInt(&i).IsCorruption());
  // The base offset shows up in messages.
  std::string two = Unhex("0280");
  Decoder d(two, 100);
  ASSERT_TRUE(d.ReadLong(&l).ok());
  s = d.ReadLong(&l);
  EXPECT_NE(s.message().find("byte offset 101"), std::string::npos) << s.ToString();
}

TEST(DecoderTest, Primitives) {
  std::string buf;
  Encoder e(&buf);
  e.WriteBool(true);
  e.WriteFloat(1.5f);
  e.WriteDouble(-2.25);
  e.WriteString("foo");
  e.WriteBytes(std::string("\0\1", 2));
  e.WriteFixed("abc");
  EXPECT_EQ(Hex(buf.substr(0, 1)), "01");
  EXPECT_EQ(Hex(buf.substr(13, 4)), "06666f6f");
  Decoder d(buf);
  bool b;
  float f;
  double x;
  std::string_view s, by, fx;
  ASSERT_TRUE(d.ReadBool(&b).ok());
  ASSERT_TRUE(d.ReadFloat(&f).ok());
  ASSERT_TRUE(d.ReadDouble(&x).ok());
  ASSERT_TRUE(d.ReadString(&s).ok());
  ASSERT_TRUE(d.ReadBytes(&by).ok());
  ASSERT_TRUE(d.ReadFixed(3, &fx).ok());
  EXPECT_TRUE(b);
  EXPECT_EQ(f, 1.5f);
  EXPECT_EQ(x, -2.25);
  EXPECT_EQ(s, "foo");
  EXPECT_EQ(s.data(), buf.data() + 14);  // a view, not a copy
  EXPECT_EQ(by, std::string_view("\0\1", 2));
  EXPECT_EQ(fx, "abc");
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.consumed(), buf.size());
}

TEST(DecoderTest, HostileLengthsAndIndexes) {
  std::string_view v;
  // Negative length.
  Status s = Decoder(Unhex("01")).ReadBytes(&v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("negative"), std::string::npos);
  // Length beyond the input (2^62) must not allocate.
  std::string huge;
  Encoder(&huge).WriteLong(int64_t{1} << 62);
  s = Decoder(huge).ReadString(&v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("exceeds"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("byte offset 0"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Decoder(Unhex("0661")).ReadString(&v).IsCorruption());  // 3 declared, 1 present
  bool b;
  EXPECT_TRUE(Decoder(Unhex("02")).ReadBool(&b).IsCorruption());
  float f;
  EXPECT_TRUE(Decoder(Unhex("000000")).ReadFloat(&f).IsCorruption());
  size_t idx;
  EXPECT_TRUE(Decoder(Unhex("06")).ReadEnum(3, &idx).IsCorruption());
  EXPECT_TRUE(Decoder(Unhex("01")).ReadEnum(3, &idx).IsCorruption());
  EXPECT_TRUE(Decoder(Unhex("04")).ReadUnionIndex(2, &idx).IsCorruption());
  EXPECT_TRUE(Decoder(Unhex("01")).ReadUnionIndex(2, &idx).IsCorruption());
  ASSERT_TRUE(Decoder(Unhex("02")).ReadUnionIndex(2, &idx).ok());
  EXPECT_EQ(idx, 1u);
  int64_t count, bytes;
  // INT64_MIN block count.
  EXPECT_TRUE(Decoder(Unhex("ffffffffffffffffff01")).ReadBlockCount(&count).IsCorruption());
  // Negative count with a byte size larger than the input.
  EXPECT_TRUE(Decoder(Unhex("0364")).ReadBlockCount(&count, &bytes).IsCorruption());
  // Negative count with a negative byte size.
  EXPECT_TRUE(Decoder(Unhex("0301")).ReadBlockCount(&count, &bytes).IsCorruption());
  std::string block = Unhex("03020000");
  Decoder ok(block);
  ASSERT_TRUE(ok.ReadBlockCount(&count, &bytes).ok());
  EXPECT_EQ(count, 2);
  EXPECT_EQ(bytes, 1);
}

TEST(BinaryTest, SpecExamples) {
  Schema rec = MustParse(R"({"type":"record","name":"test","fields":[{"name":"a","type":"long"},)"
                         R"({"name":"b","type":"string"}]})");
  Datum d = Datum::Record(rec.root(), {Datum::Long(27), Datum::String("foo")});
  Result<std::string> out = EncodeBinary(rec, d);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Hex(*out), "3606666f6f");
  Schema arr = MustParse(R"({"type":"array","items":"long"})");
  out = EncodeBinary(arr, Datum::Array({Datum::Long(3), Datum::Long(27)}));
  EXPECT_EQ(Hex(*out), "04063600");
  Schema uni = MustParse(R"(["null","string"])");
  EXPECT_EQ(Hex(*EncodeBinary(uni, Datum::Union(0, Datum()))), "00");
  EXPECT_EQ(Hex(*EncodeBinary(uni, Datum::Union(1, Datum::String("a")))), "020261");
}

const char* kAllTypes = R"({
  "type":"record","name":"All","namespace":"t","fields":[
    {"name":"n","type":"null"},
    {"name":"b","type":"boolean"},
    {"name":"i","type":"int"},
    {"name":"l","type":"long"},
    {"name":"f","type":"float"},
    {"name":"d","type":"double"},
    {"name":"by","type":"bytes"},
    {"name":"s","type":"string"},
    {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
    {"name":"fx","type":{"type":"fixed","name":"F","size":4}},
    {"name":"a","type":{"type":"array","items":"int"}},
    {"name":"m","type":{"type":"map","values":"string"}},
    {"name":"u","type":["null","int","string","F",{"type":"array","items":"E"}]},
    {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}},
    {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
    {"name":"next","type":["null","All"]}
  ]})";

class RandomDatum {
 public:
  explicit RandomDatum(uint32_t seed) : rng_(seed) {}
  Datum Make(const Node& n, int depth) {
    switch (n.type()) {
      case Type::kNull:
        return Datum();
      case Type::kBoolean:
        return Datum::Boolean(rng_() & 1);
      case Type::kInt:
        return Datum::Int(static_cast<int32_t>(rng_()) >> (rng_() % 32));
      case Type::kLong:
        return Datum::Long(static_cast<int64_t>((uint64_t{rng_()} << 32) | rng_()) >>
                           (rng_() % 64));
      case Type::kFloat:
        return Datum::Float(static_cast<float>(rng_()) / 7.0f - 1e8f);
      case Type::kDouble:
        return Datum::Double(static_cast<double>(rng_()) * 1e-3 - 3e6);
      case Type::kBytes:
        return Datum::Bytes(Str(true));
      case Type::kString:
        return Datum::String(Str(false));
      case Type::kEnum:
        return Datum::Enum(n, rng_() % n.symbols().size());
      case Type::kFixed: {
        std::string s;
        for (size_t i = 0; i < n.fixed_size(); ++i) s.push_back(static_cast<char>(rng_()));
        return Datum::Fixed(n, s);
      }
      case Type::kArray: {
        std::vector<Datum> items;
        size_t k = rng_() % 5;
        for (size_t i = 0; i < k; ++i) items.push_back(Make(n.items(), depth + 1));
        return Datum::Array(std::move(items));
      }
      case Type::kMap: {
        Datum m = Datum::Map({});
        size_t k = rng_() % 4;
        for (size_t i = 0; i < k; ++i) m.MapAppend("k" + std::to_string(i), Make(n.values(), 1));
        return m;
      }
      case Type::kUnion: {
        size_t b = depth > 3 ? 0 : rng_() % n.branches().size();
        return Datum::Union(b, Make(*n.branches()[b], depth + 1));
      }
      case Type::kRecord: {
        std::vector<Datum> f;
        for (const Field& field : n.fields()) f.push_back(Make(*field.type, depth + 1));
        return Datum::Record(n, std::move(f));
      }
    }
    return Datum();
  }

 private:
  std::string Str(bool binary) {
    std::string s;
    size_t k = rng_() % 12;
    for (size_t i = 0; i < k; ++i) {
      s.push_back(binary ? static_cast<char>(rng_()) : static_cast<char>('a' + rng_() % 26));
    }
    if (!binary && (rng_() & 1)) s += "\xc3\xa9\xe2\x82\xac";  // é€
    return s;
  }
  std::mt19937 rng_;
};

TEST(BinaryTest, RoundTripEveryType) {
  Schema s = MustParse(kAllTypes);
  RandomDatum gen(42);
  Datum reused;  // decoding into the same Datum reuses its storage
  for (int i = 0; i < 300; ++i) {
    Datum d = gen.Make(s.root(), 0);
    Result<std::string> bytes = EncodeBinary(s, d);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<Datum> back = DecodeBinary(s, *bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, d) << d;
    Decoder rd(*bytes);
    ASSERT_TRUE(DecodeBinary(s.root(), &rd, &reused).ok());
    EXPECT_EQ(reused, d) << d;
    EXPECT_EQ(reused.DebugString(), d.DebugString());
    // Skipping consumes exactly the value.
    std::string twice = *bytes + *bytes;
    Decoder dec(twice);
    ASSERT_TRUE(SkipBinary(s.root(), &dec).ok());
    EXPECT_EQ(dec.consumed(), bytes->size());
    // JSON round trip too.
    Result<std::string> json = EncodeJson(s, d);
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    Result<Datum> from_json = DecodeJson(s, *json);
    ASSERT_TRUE(from_json.ok()) << from_json.status().ToString() << " " << *json;
    EXPECT_EQ(*from_json, d) << *json;
    // Every strict prefix fails cleanly (never crashes).
    if (i < 40) {
      for (size_t cut = 0; cut < bytes->size(); ++cut) {
        Result<Datum> r = DecodeBinary(s, std::string_view(*bytes).substr(0, cut));
        EXPECT_FALSE(r.ok());
        if (!r.ok()) {
          EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
        }
        Decoder sd(std::string_view(*bytes).substr(0, cut));
        EXPECT_FALSE(SkipBinary(s.root(), &sd).ok());
      }
    }
  }
}

TEST(BinaryTest, NumericLimits) {
  Schema s = MustParse(
      R"({"type":"record","name":"N","fields":[{"name":"i","type":"int"},)"
      R"({"name":"l","type":"long"},{"name":"f","type":"float"},{"name":"d","type":"double"}]})");
  for (auto [i, l, f, d] : std::vector<std::tuple<int32_t, int64_t, float, double>>{
           {INT32_MIN, INT64_MIN, std::numeric_limits<float>::lowest(),
            std::numeric_limits<double>::lowest()},
           {INT32_MAX, INT64_MAX, std::numeric_limits<float>::max(),
            std::numeric_limits<double>::max()},
           {0, 0, std::numeric_limits<float>::denorm_min(), -0.0},
           {1, -1, std::numeric_limits<float>::infinity(),
            std::numeric_limits<double>::quiet_NaN()}}) {
    Datum v =
        Datum::Record(s.root(), {Datum::Int(i), Datum::Long(l), Datum::Float(f), Datum::Double(d)});
    Result<Datum> back = DecodeBinary(s, *EncodeBinary(s, v));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, v);
    Result<Datum> json_back = DecodeJson(s, *EncodeJson(s, v));
    ASSERT_TRUE(json_back.ok()) << *EncodeJson(s, v);
    EXPECT_EQ(*json_back, v) << *EncodeJson(s, v);
  }
}

TEST(BinaryTest, InteropDatumMatchesPython) {
  Schema s = MustParse(ReadFile(TestData("avro/schemas/interop.avsc")));
  // Bytes written by python3-avro 1.11.1's DatumWriter for the interop datum.
  std::string expected = Unhex(
      "18a8d4c30e066865790100409a4400000000004893c010313233313261646606000000000000144000000000"
      "000000000000000000002840000402610261066265650663656500020000000000002840043130313931383137"
      "313631353134313308626c6168020a696e6e65720000");
  Result<Datum> d = DecodeBinary(s, expected);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->FindField("intField")->int_value(), 12);
  EXPECT_EQ(d->FindField("longField")->long_value(), 15234324);
  EXPECT_EQ(d->FindField("stringField")->bytes(), "hey");
  EXPECT_EQ(d->FindField("enumField")->enum_symbol(), "C");
  EXPECT_EQ(d->FindField("unionField")->branch(), 1u);
  EXPECT_EQ(d->FindField("unionField")->union_value().double_value(), 12.0);
  EXPECT_EQ(d->FindField("mapField")->map_key(1), "bee");
  EXPECT_EQ(d->FindField("mapField")->map_value(1).FindField("label")->bytes(), "cee");
  EXPECT_EQ(d->FindField("recordField")->FindField("children")->items()[0].field(0).bytes(),
            "inner");
  Result<std::string> again = EncodeBinary(s, *d);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Hex(*again), Hex(expected));
}

TEST(BinaryTest, NegativeBlockCountsAndMultipleBlocks) {
  Schema s = MustParse(R"({"type":"array","items":"long"})");
  // Block 1: -2 items, 2 bytes: [3, 27]; block 2: 1 item [5]; end.
  std::string bytes = Unhex(
      "0304063602"
      "0a"
      "00");
  Result<Datum> d = DecodeBinary(s, bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, Datum::Array({Datum::Long(3), Datum::Long(27), Datum::Long(5)}));
  Decoder skip(bytes);
  ASSERT_TRUE(SkipBinary(s.root(), &skip).ok());
  EXPECT_TRUE(skip.empty());
  Schema m = MustParse(R"({"type":"map","values":"int"})");
  // -1 entries, 4 bytes: "ab" -> 1, end.
  Result<Datum> md = DecodeBinary(m, Unhex("01080461620200"));
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->map_size(), 1u);
  EXPECT_EQ(md->map_key(0), "ab");
  EXPECT_EQ(md->FindMapValue("ab")->int_value(), 1);
}

TEST(BinaryTest, HostileCollections) {
  Schema longs = MustParse(R"({"type":"array","items":"long"})");
  // Count 2^40 with 3 bytes of input: rejected before allocating.
  std::string bytes;
  Encoder(&bytes).WriteLong(int64_t{1} << 40);
  bytes += "\x02\x02";
  Result<Datum> r = DecodeBinary(longs, bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("byte offset"), std::string::npos);
  Decoder sd(bytes);
  EXPECT_FALSE(SkipBinary(longs.root(), &sd).ok());
  // 200,000,000 nulls in 6 bytes.
  Schema nulls = MustParse(R"({"type":"array","items":"null"})");
  std::string many;
  Encoder(&many).WriteLong(200000000);
  many.push_back(0);
  r = DecodeBinary(nulls, many);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("zero-size"), std::string::npos) << r.status().ToString();
  Decoder sn(many);
  EXPECT_FALSE(SkipBinary(nulls.root(), &sn).ok());
  // Many small blocks of nulls add up to the cap too.
  std::string blocks;
  for (int i = 0; i < 20; ++i) Encoder(&blocks).WriteLong(90000);
  blocks.push_back(0);
  DecodeOptions opts;
  opts.max_zero_size_items = 100000;
  Decoder bd(blocks);
  Datum out;
  EXPECT_FALSE(DecodeBinary(nulls.root(), &bd, &out, opts).ok());
  // Within the cap it works.
  std::string few;
  Encoder(&few).WriteLong(1000);
  few.push_back(0);
  r = DecodeBinary(nulls, few);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items().size(), 1000u);
  // Map count bounded too.
  Schema map = MustParse(R"({"type":"map","values":"null"})");
  EXPECT_FALSE(DecodeBinary(map, many).ok());
  // Union and enum indexes out of range.
  Schema u = MustParse(R"(["null","int"])");
  r = DecodeBinary(u, Unhex("04"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("union branch 2 out of range"), std::string::npos);
  Schema e = MustParse(R"({"type":"enum","name":"E","symbols":["A"]})");
  r = DecodeBinary(e, Unhex("02"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("enum index 1 out of range"), std::string::npos);
  // Trailing bytes.
  r = DecodeBinary(u, Unhex("0000"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos);
  // Empty union has no values.
  Schema empty = MustParse("[]");
  EXPECT_FALSE(DecodeBinary(empty, Unhex("00")).ok());
}

TEST(BinaryTest, DeepRecursionIsBounded) {
  Schema list = MustParse(R"({"type":"record","name":"L","fields":[{"name":"next",)"
                          R"("type":["null","L"]}]})");
  // 100,000 levels of "branch 1" then branch 0.
  std::string deep(100000, '\x02');
  deep.push_back('\0');
  Result<Datum> r = DecodeBinary(list, deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deeply"), std::string::npos);
  Decoder sd(deep);
  EXPECT_FALSE(SkipBinary(list.root(), &sd).ok());
  // 100 levels is fine.
  std::string ok(100, '\x02');
  ok.push_back('\0');
  EXPECT_TRUE(DecodeBinary(list, ok).ok());
}

TEST(BinaryTest, RandomGarbageNeverCrashes) {
  Schema s = MustParse(kAllTypes);
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    Result<Datum> r = DecodeBinary(s, junk);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    }
    Decoder d(junk);
    SkipBinary(s.root(), &d).IgnoreError();
  }
}

TEST(BinaryTest, EncodeRejectsMismatches) {
  Schema s = MustParse(kAllTypes);
  Datum d = Datum::ZeroOf(s.root());
  ASSERT_TRUE(EncodeBinary(s, d).ok());
  Datum bad = d;
  *bad.FindField("i") = Datum::Long(1);
  Result<std::string> r = EncodeBinary(s, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("$.i"), std::string::npos) << r.status().ToString();
  bad = d;
  bad.FindField("fx")->mutable_bytes() = "toolong";
  EXPECT_FALSE(EncodeBinary(s, bad).ok());
  bad = d;
  *bad.FindField("u") = Datum::Union(9, Datum());
  EXPECT_FALSE(EncodeBinary(s, bad).ok());
  bad = d;
  *bad.FindField("e") = Datum::Enum(*s.FindNamed("t.E"), 3);
  EXPECT_FALSE(EncodeBinary(s, bad).ok());
  bad = d;
  bad.FindField("a")->mutable_items().push_back(Datum::String("x"));
  r = EncodeBinary(s, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("$.a[0]"), std::string::npos) << r.status().ToString();
}

TEST(BinaryTest, FieldDefaultBinaryDecodes) {
  Schema s = MustParse(R"({"type":"record","name":"R","fields":[
    {"name":"a","type":{"type":"array","items":"int"},"default":[1,2]},
    {"name":"u","type":["string","null"],"default":"x"},
    {"name":"r","type":{"type":"record","name":"S","fields":[{"name":"q","type":"long",
      "default":5}]},"default":{}}]})");
  const auto& f = s.root().fields();
  Decoder d(f[0].default_binary);
  Datum a;
  ASSERT_TRUE(DecodeBinary(*f[0].type, &d, &a).ok());
  EXPECT_EQ(a, Datum::Array({Datum::Int(1), Datum::Int(2)}));
  EXPECT_EQ(Hex(f[1].default_binary), "000278");
  EXPECT_EQ(Hex(f[2].default_binary), "0a");
}

}  // namespace
}  // namespace braid::avro
