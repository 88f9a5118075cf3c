#include "avro/json.h"

#include <gtest/gtest.h>

#include <cmath>

#include "avro/binary.h"

namespace braid::avro {
namespace {

Schema MustParse(std::string_view json) {
  Result<Schema> s = ParseSchema(json);
  EXPECT_TRUE(s.ok()) << s.status().ToString() << " in " << json;
  return s.ok() ? *s : Schema();
}

const char* kSchema = R"({
  "type":"record","name":"R","namespace":"com.acme","fields":[
    {"name":"id","type":"long"},
    {"name":"name","type":["null","string"]},
    {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
    {"name":"raw","type":"bytes"},
    {"name":"hash","type":{"type":"fixed","name":"H","size":2}},
    {"name":"tags","type":{"type":"map","values":"int"}},
    {"name":"any","type":["null","Kind",{"type":"array","items":"float"},"H",
       {"type":"map","values":"boolean"},"double"]}
  ]})";

TEST(JsonTest, EncodingRules) {
  Schema s = MustParse(kSchema);
  const Node& r = s.root();
  Datum tags = Datum::Map({});
  tags.MapAppend("z", Datum::Int(1));
  tags.MapAppend("a", Datum::Int(-2));
  Datum d =
      Datum::Record(r, {Datum::Long(9007199254740993), Datum::Union(1, Datum::String("é\"\n")),
                        Datum::Enum(*s.FindNamed("com.acme.Kind"), 1),
                        Datum::Bytes(std::string("\x00\xff\x41", 3)),
                        Datum::Fixed(*s.FindNamed("com.acme.H"), "\x01\x80"), tags,
                        Datum::Union(1, Datum::Enum(*s.FindNamed("com.acme.Kind"), 0))});
  Result<std::string> json = EncodeJson(s, d);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"({"id":9007199254740993,"name":{"string":"é\"\n"},"kind":"B",)"
                   R"("raw":"\u0000\u00ffA","hash":"\u0001\u0080","tags":{"z":1,"a":-2},)"
                   R"("any":{"com.acme.Kind":"A"}})");
  Result<Datum> back = DecodeJson(s, *json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, d);
  EXPECT_EQ(back->FindField("tags")->map_key(0), "z");  // order kept

  // Null branch is bare null; other branches are wrapped with their names.
  d.field(1) = Datum::Union(0, Datum());
  d.field(6) = Datum::Union(0, Datum());
  EXPECT_NE(EncodeJson(s, d)->find(R"("name":null)"), std::string::npos);
  const std::pair<Datum, const char*> kBranches[] = {
      {Datum::Union(2, Datum::Array({Datum::Float(1.5f)})), R"({"array":[1.5]})"},
      {Datum::Union(3, Datum::Fixed(*s.FindNamed("com.acme.H"), "ab")), R"({"com.acme.H":"ab"})"},
      {Datum::Union(4, Datum::Map({{"k", Datum::Boolean(true)}})), R"({"map":{"k":true}})"},
      {Datum::Union(5, Datum::Double(std::nan(""))), R"({"double":"NaN"})"},
      {Datum::Union(5, Datum::Double(-INFINITY)), R"({"double":"-Infinity"})"},
  };
  const Node& any = *r.fields()[6].type;
  for (const auto& [value, text] : kBranches) {
    std::string out;
    ASSERT_TRUE(EncodeJson(any, value, &out).ok());
    EXPECT_EQ(out, text);
    Result<Datum> v = DecodeJson(any, text);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, value);
  }
  // The simple name of a named branch is accepted when reading.
  Result<Datum> simple = DecodeJson(any, R"({"Kind":"B"})");
  ASSERT_TRUE(simple.ok());
  EXPECT_EQ(simple->branch(), 1u);
}

TEST(JsonTest, PrettyOutputParses) {
  Schema s = MustParse(kSchema);
  Datum d = Datum::ZeroOf(s.root());
  JsonWriteOptions o;
  o.pretty = true;
  Result<std::string> json = EncodeJson(s, d, o);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\n  \"id\": 0"), std::string::npos) << *json;
  Result<Datum> back = DecodeJson(s, *json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, d);
}

TEST(JsonTest, InvalidUtf8IsReplaced) {
  Schema s = MustParse(R"("string")");
  std::string out;
  ASSERT_TRUE(EncodeJson(s.root(),
                         Datum::String("a\xff"
                                       "b"),
                         &out)
                  .ok());
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\"");
}

TEST(JsonTest, DecodeErrorsNamePath) {
  Schema s = MustParse(kSchema);
  struct Case {
    const char* json;
    const char* path;
  };
  const Case kCases[] = {
      {R"({"id":"x"})", "$.id"},
      {R"({"id":1,"name":"bare"})", "$.name"},
      {R"({"id":1,"name":{"int":1}})", "$.name"},
      {R"({"id":1,"name":null,"kind":"C"})", "$.kind"},
      {R"({"id":1,"name":null,"kind":"A","raw":"\u0100"})", "$.raw"},
      {R"({"id":1,"name":null,"kind":"A","raw":"","hash":"abc"})", "$.hash"},
      {R"({"id":1,"name":null,"kind":"A","raw":"","hash":"ab","tags":{"t":1.5}})", "$.tags.t"},
      {R"({"id":1,"name":null,"kind":"A","raw":"","hash":"ab","tags":{}})", "$.any"},
      {R"({"id":1,"name":null,"kind":"A","raw":"","hash":"ab","tags":{},)"
       R"("any":{"array":[1,"x"]}})",
       "$.any[1]"},
      {"[1]", "$"},
  };
  for (const Case& c : kCases) {
    Result<Datum> d = DecodeJson(s, c.json);
    ASSERT_FALSE(d.ok()) << c.json;
    EXPECT_TRUE(d.status().IsInvalidArgument());
    EXPECT_NE(d.status().message().find(std::string(c.path) + ":"), std::string::npos)
        << c.json << " -> " << d.status().ToString();
  }
  EXPECT_FALSE(DecodeJson(s, "{not json").ok());
  Schema i = MustParse(R"("int")");
  EXPECT_FALSE(DecodeJson(i, "2147483648").ok());
  EXPECT_FALSE(DecodeJson(i, "1.0").ok());
  EXPECT_TRUE(DecodeJson(i, "-2147483648").ok());
  // Deeply nested input fails cleanly.
  std::string deep = std::string(20000, '[') + std::string(20000, ']');
  Schema ai = MustParse(R"({"type":"array","items":"int"})");
  EXPECT_FALSE(DecodeJson(ai, deep).ok());
  Schema nested = MustParse(R"({"type":"array","items":{"type":"array","items":"int"}})");
  EXPECT_FALSE(DecodeJson(nested, deep).ok());
  Schema l = MustParse(R"("long")");
  EXPECT_FALSE(DecodeJson(l, "18446744073709551615").ok());
}

TEST(JsonTest, MissingFieldsTakeDefaults) {
  Schema s = MustParse(R"({"type":"record","name":"R","fields":[
      {"name":"a","type":"int"},
      {"name":"b","type":["null","string"],"default":null},
      {"name":"c","type":{"type":"array","items":"long"},"default":[7]}]})");
  Result<Datum> d = DecodeJson(s, R"({"a":1})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->field(1), Datum::Union(0, Datum()));
  EXPECT_EQ(d->field(2), Datum::Array({Datum::Long(7)}));
  EXPECT_FALSE(DecodeJson(s, R"({"b":null})").ok());
}

TEST(JsonTest, DefaultToDatum) {
  Schema u = MustParse(R"(["string","null"])");
  Result<Datum> d = DefaultToDatum(u.root(), Json("x"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Datum::Union(0, Datum::String("x")));
  EXPECT_FALSE(DefaultToDatum(u.root(), Json(nullptr)).ok());
  d = DefaultToDatum(u.root(), Json(nullptr), /*any_branch=*/true);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Datum::Union(1, Datum()));
  // Nested unions in defaults are bare too.
  Schema arr = MustParse(R"({"type":"array","items":["int","null"]})");
  d = DefaultToDatum(arr.root(), Json::parse("[1,2]"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->items()[1], Datum::Union(0, Datum::Int(2)));
  Schema b = MustParse(R"("bytes")");
  d = DefaultToDatum(b.root(), Json("\u00ff"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->bytes(), "\xff");
}

TEST(JsonTest, LogicalTypeSpecExample) {
  // Noon 2000-01-01 in Helsinki (UTC+2): timestamp-millis 946720800000,
  // local-timestamp-millis 946728000000. Logical types do not change the
  // encodings: both are plain longs.
  Schema s = MustParse(R"({"type":"record","name":"T","fields":[
      {"name":"utc","type":{"type":"long","logicalType":"timestamp-millis"}},
      {"name":"local","type":{"type":"long","logicalType":"local-timestamp-millis"}}]})");
  Result<Datum> d = DecodeJson(s, R"({"utc":946720800000,"local":946728000000})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->field(1).long_value() - d->field(0).long_value(), 2 * 3600 * 1000);
  std::string bin;
  ASSERT_TRUE(EncodeBinary(s.root(), *d, &bin).ok());
  std::string plain;
  Encoder(&plain).WriteLong(946720800000);
  Encoder(&plain).WriteLong(946728000000);
  EXPECT_EQ(bin, plain);
}

TEST(DatumTest, AccessorsAndEquality) {
  Schema s = MustParse(kSchema);
  Datum z = Datum::ZeroOf(s.root());
  EXPECT_EQ(z.type(), Type::kRecord);
  EXPECT_EQ(z.field_count(), 7u);
  EXPECT_EQ(z.FindField("kind")->enum_symbol(), "A");
  EXPECT_EQ(z.FindField("hash")->bytes(), std::string(2, '\0'));
  EXPECT_EQ(z.FindField("nope"), nullptr);
  Datum other = z;
  EXPECT_EQ(z, other);
  *other.FindField("id") = Datum::Long(1);
  EXPECT_NE(z, other);
  EXPECT_NE(Datum::Int(1), Datum::Long(1));
  EXPECT_EQ(Datum::Double(std::nan("")), Datum::Double(std::nan("")));
  EXPECT_NE(Datum::Double(0.0), Datum::Double(-0.0));
  Datum m = Datum::Map({{"a", Datum::Int(1)}, {"a", Datum::Int(2)}});
  EXPECT_EQ(m.FindMapValue("a")->int_value(), 2);
  EXPECT_EQ(m.FindMapValue("b"), nullptr);
  EXPECT_EQ(Datum::Union(1, Datum::Bytes("\x01")).DebugString(), "{\"#1\":0x01}");
  // Recursive schemas stop at null.
  Schema rec = MustParse(R"({"type":"record","name":"X","fields":[{"name":"x","type":"X"}]})");
  Datum deep = Datum::ZeroOf(rec.root());
  EXPECT_EQ(deep.type(), Type::kRecord);
}

}  // namespace
}  // namespace braid::avro
