// Schema resolution: cases modelled on the Avro project's suites (C++
// CodecTests data3/data4, python test_io promotion/default/projection/enum
// tests), each checked with both the generic ResolvingDecoder and the
// CompiledDecoder, plus randomized agreement of the two over many schema pairs.
#include "avro/resolve.h"

#include <gtest/gtest.h>

#include "avro/binary.h"
#include "avro/decoder_program.h"
#include "avro/json.h"
#include "avro/tests/random_schema.h"

namespace braid::avro {
namespace {

Schema Parse(const std::string& json) {
  Result<Schema> s = ParseSchema(json);
  EXPECT_TRUE(s.ok()) << s.status().ToString() << " in " << json;
  return s.ok() ? *s : Schema();
}

std::string Encode(const Schema& s, const std::string& value_json) {
  Result<Datum> d = DecodeJson(s, value_json);
  EXPECT_TRUE(d.ok()) << d.status().ToString() << " for " << value_json;
  if (!d.ok()) return "";
  Result<std::string> b = EncodeBinary(s, *d);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : "";
}

// Decodes `bytes` with both decoders; they must agree. Returns the generic one.
Result<Datum> ReadBoth(const Schema& writer, const Schema& reader, const std::string& bytes) {
  Result<Datum> generic = DecodeResolving(writer, reader, bytes);
  auto compiled = CompiledDecoder::Compile(writer, reader);
  EXPECT_EQ(generic.ok() || !generic.status().IsInvalidArgument(), compiled.ok())
      << generic.status().ToString() << " vs " << compiled.status().ToString();
  if (!compiled.ok()) return compiled.status();
  Result<Datum> fast = DecodeToDatum(**compiled, bytes);
  EXPECT_EQ(generic.ok(), fast.ok())
      << generic.status().ToString() << " vs " << fast.status().ToString();
  if (generic.ok() && fast.ok()) {
    EXPECT_EQ(*generic, *fast);
  }
  return generic;
}

// Writes `value` (JSON encoding) with `writer`, reads it with `reader`, and
// expects `expected` (JSON encoding under the reader).
void ExpectResolved(const std::string& writer_json, const std::string& reader_json,
                    const std::string& value, const std::string& expected) {
  SCOPED_TRACE(writer_json + " -> " + reader_json + " value " + value);
  Schema w = Parse(writer_json);
  Schema r = Parse(reader_json);
  Result<Datum> got = ReadBoth(w, r, Encode(w, value));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Result<Datum> want = DecodeJson(r, expected);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_EQ(*got, *want) << "got " << *EncodeJson(r, *got);
}

// The pair cannot be resolved at all (both decoders refuse to start).
void ExpectUnresolvable(const std::string& writer_json, const std::string& reader_json) {
  SCOPED_TRACE(writer_json + " -> " + reader_json);
  Schema w = Parse(writer_json);
  Schema r = Parse(reader_json);
  EXPECT_TRUE(ResolvingDecoder::Create(w, r).status().IsInvalidArgument());
  EXPECT_TRUE(CompiledDecoder::Compile(w, r).status().IsInvalidArgument());
}

// The pair resolves but this value cannot (both decoders fail on it).
void ExpectValueFails(const std::string& writer_json, const std::string& reader_json,
                      const std::string& value, const std::string& message_part) {
  SCOPED_TRACE(writer_json + " -> " + reader_json + " value " + value);
  Schema w = Parse(writer_json);
  Schema r = Parse(reader_json);
  std::string bytes = Encode(w, value);
  Result<Datum> generic = DecodeResolving(w, r, bytes);
  ASSERT_FALSE(generic.ok());
  EXPECT_NE(generic.status().message().find(message_part), std::string::npos)
      << generic.status().ToString();
  auto compiled = CompiledDecoder::Compile(w, r);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  Result<Datum> fast = DecodeToDatum(**compiled, bytes);
  ASSERT_FALSE(fast.ok());
  EXPECT_NE(fast.status().message().find(message_part), std::string::npos)
      << fast.status().ToString();
  EXPECT_NE(fast.status().message().find("byte offset"), std::string::npos);
}

TEST(ResolveTest, PrimitivePromotions) {
  ExpectResolved("\"int\"", "\"long\"", "-7", "-7");
  ExpectResolved("\"int\"", "\"float\"", "16777217", "16777216.0");
  ExpectResolved("\"int\"", "\"double\"", "2147483647", "2147483647.0");
  ExpectResolved("\"long\"", "\"float\"", "-5", "-5.0");
  ExpectResolved("\"long\"", "\"double\"", "9007199254740993", "9007199254740992.0");
  ExpectResolved("\"float\"", "\"double\"", "1.5", "1.5");
  ExpectResolved("\"string\"", "\"bytes\"", "\"abc\"", "\"abc\"");
  ExpectResolved("\"bytes\"", "\"string\"", "\"xyz\"", "\"xyz\"");
  for (const char* same :
       {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}) {
    Schema s = Parse(std::string("\"") + same + "\"");
    EXPECT_TRUE(ResolvingDecoder::Create(s, s).ok()) << same;
  }
}

TEST(ResolveTest, PromotionsInsideContainers) {
  ExpectResolved(R"({"type":"array","items":"int"})", R"({"type":"array","items":"double"})",
                 "[1,2,3]", "[1.0,2.0,3.0]");
  ExpectResolved(R"({"type":"map","values":"long"})", R"({"type":"map","values":"float"})",
                 R"({"a":1,"b":-2})", R"({"a":1.0,"b":-2.0})");
  ExpectResolved(R"({"type":"array","items":{"type":"map","values":"int"}})",
                 R"({"type":"array","items":{"type":"map","values":"long"}})",
                 R"([{"x":1},{},{"y":2,"z":3}])", R"([{"x":1},{},{"y":2,"z":3}])");
}

TEST(ResolveTest, IllegalPromotionsAreRejected) {
  ExpectUnresolvable("\"long\"", "\"int\"");
  ExpectUnresolvable("\"double\"", "\"float\"");
  ExpectUnresolvable("\"float\"", "\"long\"");
  ExpectUnresolvable("\"int\"", "\"string\"");
  ExpectUnresolvable("\"boolean\"", "\"int\"");
  ExpectUnresolvable("\"null\"", "\"int\"");
  ExpectUnresolvable(R"({"type":"array","items":"long"})", R"({"type":"array","items":"int"})");
  ExpectUnresolvable(R"({"type":"map","values":"int"})", R"({"type":"array","items":"int"})");
}

constexpr char kWriterRecord[] = R"({"type":"record","name":"R","fields":[
  {"name":"a","type":"int"},{"name":"b","type":"string"}]})";

TEST(ResolveTest, DefaultsOfEveryType) {
  const std::string reader = R"({"type":"record","name":"R","fields":[
    {"name":"a","type":"int"},{"name":"b","type":"string"},
    {"name":"n","type":"null","default":null},
    {"name":"t","type":"boolean","default":true},
    {"name":"i","type":"int","default":-3},
    {"name":"l","type":"long","default":12345678901},
    {"name":"f","type":"float","default":1.25},
    {"name":"d","type":"double","default":-2.5},
    {"name":"by","type":"bytes","default":"\u00ff\u0000a"},
    {"name":"s","type":"string","default":"hi"},
    {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y","Z"]},"default":"Z"},
    {"name":"fx","type":{"type":"fixed","name":"F","size":3},"default":"abc"},
    {"name":"ar","type":{"type":"array","items":"int"},"default":[1,2]},
    {"name":"mp","type":{"type":"map","values":"string"},"default":{"k":"v"}},
    {"name":"rec","type":{"type":"record","name":"Inner","fields":[
       {"name":"x","type":"long"},{"name":"y","type":{"type":"array","items":"string"}}]},
     "default":{"x":7,"y":["p","q"]}},
    {"name":"u1","type":["null","string"],"default":null},
    {"name":"u2","type":["int","null"],"default":5}
  ]})";
  ExpectResolved(kWriterRecord, reader, R"({"a":1,"b":"bee"})",
                 R"({"a":1,"b":"bee","n":null,"t":true,"i":-3,"l":12345678901,"f":1.25,
                     "d":-2.5,"by":"\u00ff\u0000a","s":"hi","e":"Z","fx":"abc","ar":[1,2],
                     "mp":{"k":"v"},"rec":{"x":7,"y":["p","q"]},"u1":null,"u2":{"int":5}})");
}

TEST(ResolveTest, MissingFieldWithoutDefaultIsRejected) {
  ExpectUnresolvable(kWriterRecord, R"({"type":"record","name":"R","fields":[
    {"name":"a","type":"int"},{"name":"c","type":"int"}]})");
}

TEST(ResolveTest, RemovedFieldsOfEveryShapeAreSkipped) {
  const std::string writer = R"({"type":"record","name":"R","fields":[
    {"name":"a","type":"int"},
    {"name":"x1","type":{"type":"array","items":{"type":"record","name":"P","fields":[
       {"name":"p","type":"string"},{"name":"q","type":["null","double"]}]}}},
    {"name":"x2","type":{"type":"map","values":{"type":"fixed","name":"F4","size":4}}},
    {"name":"x3","type":["null","string",{"type":"enum","name":"E","symbols":["A","B"]}]},
    {"name":"x4","type":"boolean"},{"name":"x5","type":"float"},{"name":"x6","type":"double"},
    {"name":"x7","type":"bytes"},{"name":"x8","type":"long"},{"name":"x9","type":"P"},
    {"name":"b","type":"string"}]})";
  const std::string reader = R"({"type":"record","name":"R","fields":[
    {"name":"b","type":"string"},{"name":"a","type":"long"}]})";
  ExpectResolved(writer, reader,
                 R"({"a":5,"x1":[{"p":"u","q":null},{"p":"v","q":{"double":1.5}}],
                     "x2":{"k":"abcd"},"x3":{"E":"B"},"x4":true,"x5":1.0,"x6":2.0,
                     "x7":"zz","x8":99,"x9":{"p":"w","q":null},"b":"end"})",
                 R"({"b":"end","a":5})");
}

TEST(ResolveTest, ReorderedFields) {
  ExpectResolved(kWriterRecord, R"({"type":"record","name":"R","fields":[
    {"name":"b","type":"bytes"},{"name":"a","type":"double"}]})",
                 R"({"a":3,"b":"x"})", R"({"b":"x","a":3.0})");
}

TEST(ResolveTest, FieldAndRecordAliases) {
  ExpectResolved(kWriterRecord, R"({"type":"record","name":"Renamed","aliases":["R"],"fields":[
    {"name":"alpha","type":"int","aliases":["a"]},{"name":"b","type":"string"}]})",
                 R"({"a":3,"b":"x"})", R"({"alpha":3,"b":"x"})");
  // Namespaced writer: an alias names the writer's full name.
  ExpectResolved(R"({"type":"record","name":"old.R","fields":[{"name":"a","type":"int"}]})",
                 R"({"type":"record","name":"New","namespace":"n","aliases":["old.R"],
                     "fields":[{"name":"a","type":"int"}]})",
                 R"({"a":1})", R"({"a":1})");
  // Same unqualified name in another namespace matches.
  ExpectResolved(R"({"type":"record","name":"a.R","fields":[{"name":"a","type":"int"}]})",
                 R"({"type":"record","name":"b.R","fields":[{"name":"a","type":"int"}]})",
                 R"({"a":1})", R"({"a":1})");
  ExpectUnresolvable(kWriterRecord, R"({"type":"record","name":"Other","fields":[]})");
}

TEST(ResolveTest, Enums) {
  const std::string w = R"({"type":"enum","name":"E","symbols":["A","B","C","D"]})";
  // Symbols map by name, not position.
  ExpectResolved(w, R"({"type":"enum","name":"E","symbols":["D","C","B","A"]})", "\"B\"", "\"B\"");
  // Unknown symbol with a reader default.
  ExpectResolved(w, R"({"type":"enum","name":"E","symbols":["A","B","X"],"default":"X"})", "\"D\"",
                 "\"X\"");
  // Unknown symbol without default: only that value fails, at decode time.
  const std::string r = R"({"type":"enum","name":"E","symbols":["A","B"]})";
  ExpectResolved(w, r, "\"A\"", "\"A\"");
  ExpectValueFails(w, r, "\"C\"", "'C'");
  ExpectUnresolvable(w, R"({"type":"enum","name":"Other","symbols":["A"]})");
  // Inside an array, the failure is reported at the offending item's offset.
  ExpectValueFails(R"({"type":"array","items":)" + w + "}", R"({"type":"array","items":)" + r + "}",
                   R"(["A","B","D"])", "'D'");
}

TEST(ResolveTest, Fixed) {
  ExpectResolved(R"({"type":"fixed","name":"F","size":2})",
                 R"({"type":"fixed","name":"G","aliases":["F"],"size":2})", "\"ab\"", "\"ab\"");
  ExpectUnresolvable(R"({"type":"fixed","name":"F","size":2})",
                     R"({"type":"fixed","name":"F","size":3})");
  ExpectUnresolvable(R"({"type":"fixed","name":"F","size":2})",
                     R"({"type":"fixed","name":"G","size":2})");
}

TEST(ResolveTest, ReaderUnionWriterNot) {
  ExpectResolved("\"int\"", R"(["null","long"])", "4", R"({"long":4})");
  // An exact type match wins over an earlier promotable branch.
  ExpectResolved("\"int\"", R"(["string","long","int"])", "4", R"({"int":4})");
  ExpectResolved("\"string\"", R"(["null","bytes"])", "\"s\"", R"({"bytes":"s"})");
  ExpectResolved(kWriterRecord, R"(["null",{"type":"record","name":"R","fields":[
    {"name":"a","type":"int"}]}])",
                 R"({"a":1,"b":"x"})", R"({"R":{"a":1}})");
  ExpectUnresolvable("\"int\"", R"(["null","string"])");
}

TEST(ResolveTest, UnionBranchesWithTheSameSimpleNameResolveByFullName) {
  // Two records named Click in different namespaces: each writer branch is
  // read as the reader branch of the same full name, not the first "Click".
  const std::string u = R"(["null",
    {"type":"record","name":"Click","namespace":"a","fields":[{"name":"x","type":"int"}]},
    {"type":"record","name":"Click","namespace":"b","fields":[{"name":"y","type":"string"}]}])";
  ExpectResolved(u, u, R"({"b.Click":{"y":"s"}})", R"({"b.Click":{"y":"s"}})");
  ExpectResolved(u, u, R"({"a.Click":{"x":1}})", R"({"a.Click":{"x":1}})");
  // Without a full-name match the simple name still selects a branch.
  ExpectResolved(R"({"type":"record","name":"Click","namespace":"c","fields":[
    {"name":"x","type":"int"}]})",
                 u, R"({"x":5})", R"({"a.Click":{"x":5}})");
}

TEST(ResolveTest, WriterUnionReaderNot) {
  const std::string w = R"(["null","int","string"])";
  ExpectResolved(w, "\"long\"", R"({"int":3})", "3");
  ExpectValueFails(w, "\"long\"", "null", "branch 0");
  ExpectValueFails(w, "\"long\"", R"({"string":"x"})", "branch 2");
}

TEST(ResolveTest, UnionsOnBothSides) {
  const std::string w = R"(["null","int","string"])";
  const std::string r = R"(["double","null","bytes"])";
  ExpectResolved(w, r, "null", "null");
  ExpectResolved(w, r, R"({"int":-2})", R"({"double":-2.0})");
  ExpectResolved(w, r, R"({"string":"q"})", R"({"bytes":"q"})");
  ExpectValueFails(w, R"(["null","int"])", R"({"string":"q"})", "branch 2");
}

constexpr char kIntList[] = R"({"type":"record","name":"List","fields":[
  {"name":"value","type":"int"},{"name":"next","type":["null","List"]}]})";

TEST(ResolveTest, RecursiveTypes) {
  const std::string reader = R"({"type":"record","name":"List","fields":[
    {"name":"label","type":"string","default":"none"},
    {"name":"value","type":"long"},
    {"name":"next","type":["null","List"],"default":null}]})";
  ExpectResolved(
      kIntList, reader,
      R"({"value":1,"next":{"List":{"value":2,"next":{"List":{"value":3,"next":null}}}}})",
      R"({"label":"none","value":1,"next":{"List":{"label":"none","value":2,
                     "next":{"List":{"label":"none","value":3,"next":null}}}}})");
  // Recursion through arrays and maps, with a writer-only recursive field.
  const std::string tree_w = R"({"type":"record","name":"Node","fields":[
    {"name":"label","type":"string"},
    {"name":"kids","type":{"type":"array","items":"Node"}},
    {"name":"index","type":{"type":"map","values":"Node"}}]})";
  const std::string tree_r = R"({"type":"record","name":"Node","fields":[
    {"name":"kids","type":{"type":"array","items":"Node"}},
    {"name":"label","type":"bytes"}]})";
  ExpectResolved(tree_w, tree_r,
                 R"({"label":"root","kids":[{"label":"a","kids":[],"index":{}},
                     {"label":"b","kids":[{"label":"c","kids":[],"index":{}}],"index":{}}],
                     "index":{"x":{"label":"i","kids":[],"index":{}}}})",
                 R"({"kids":[{"kids":[],"label":"a"},{"kids":[{"kids":[],"label":"c"}],
                     "label":"b"}],"label":"root"})");
}

TEST(ResolveTest, RecursionDepthIsBounded) {
  Schema s = Parse(kIntList);
  // 150 nested list cells: value 0, branch 1 ... then branch 0.
  std::string bytes;
  for (int i = 0; i < 150; ++i) bytes += std::string("\x00\x02", 2);
  bytes += std::string("\x00\x00", 2);
  DecodeOptions opts;
  opts.max_depth = 100;
  Result<Datum> g = DecodeResolving(s, s, bytes, opts);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("byte offset"), std::string::npos);
  auto c = CompiledDecoder::Compile(s, s, opts);
  ASSERT_TRUE(c.ok());
  Result<Datum> f = DecodeToDatum(**c, bytes);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("nested"), std::string::npos) << f.status().ToString();
  // The default limit accepts it.
  EXPECT_TRUE(DecodeResolving(s, s, bytes).ok());
}

TEST(ResolveTest, RandomizedAgreementOfGenericAndCompiledDecoders) {
  testing::RandomSchemas gen(20261126);
  int pairs = 0, values = 0, lazy_failures = 0, truncations = 0;
  for (int iter = 0; iter < 400; ++iter) {
    Json wj = gen.Writer(3);
    Json rj = gen.Evolve(wj);
    Result<Schema> w = ParseSchema(wj.dump());
    ASSERT_TRUE(w.ok()) << w.status().ToString() << wj.dump();
    Result<Schema> r = ParseSchema(rj.dump());
    if (!r.ok()) continue;  // an evolution the parser refuses (rare)
    auto generic = ResolvingDecoder::Create(*w, *r);
    auto compiled = CompiledDecoder::Compile(*w, *r);
    ASSERT_EQ(generic.ok(), compiled.ok()) << wj.dump() << "\n" << rj.dump();
    if (!generic.ok()) continue;
    ++pairs;
    SCOPED_TRACE(wj.dump() + "\n -> " + rj.dump());
    for (int k = 0; k < 20; ++k) {
      Datum v = gen.Value(w->root());
      Result<std::string> bytes = EncodeBinary(*w, v);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      Result<Datum> a = generic->Decode(*bytes);
      Result<Datum> b = DecodeToDatum(**compiled, *bytes);
      ASSERT_EQ(a.ok(), b.ok()) << a.status().ToString() << " vs " << b.status().ToString();
      ++values;
      if (!a.ok()) {
        ++lazy_failures;
        continue;
      }
      ASSERT_EQ(*a, *b) << *a << "\n" << *b;
      // Identity resolution returns the value itself.
      if (k == 0) {
        Result<Datum> same = DecodeResolving(*w, *w, *bytes);
        ASSERT_TRUE(same.ok());
        EXPECT_EQ(*same, v);
      }
      // Every strict prefix fails in both (never crashes).
      if (k < 3) {
        for (size_t cut = 0; cut < bytes->size(); ++cut) {
          std::string prefix = bytes->substr(0, cut);
          Result<Datum> pa = generic->Decode(prefix);
          Result<Datum> pb = DecodeToDatum(**compiled, prefix);
          ASSERT_EQ(pa.ok(), pb.ok()) << cut;
          ++truncations;
        }
      }
    }
  }
  EXPECT_GT(pairs, 300);
  EXPECT_GT(values, 6000);
  EXPECT_GT(lazy_failures, 10);
  RecordProperty("pairs", pairs);
  std::printf("agreement: %d pairs, %d values (%d lazily failing), %d truncations\n", pairs, values,
              lazy_failures, truncations);
}

}  // namespace
}  // namespace braid::avro
