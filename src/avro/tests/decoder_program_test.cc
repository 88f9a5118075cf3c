// CompiledDecoder: handler protocol, zero-copy views, hostile input, and
// agreement with the generic decoder on garbage bytes.
#include "avro/decoder_program.h"

#include <gtest/gtest.h>

#include <random>

#include "avro/json.h"
#include "avro/resolve.h"
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
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  Result<std::string> b = EncodeBinary(s, *d);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : "";
}

// Records the handler calls as text.
struct TraceHandler {
  std::string out;
  const char* lo = nullptr;
  const char* hi = nullptr;
  int views_in_input = 0;
  void View(std::string_view v) {
    if (!v.empty() && v.data() >= lo && v.data() + v.size() <= hi) ++views_in_input;
  }
  void Null() { out += "null "; }
  void Bool(bool v) { out += v ? "true " : "false "; }
  void Int(int32_t v) { out.append("i").append(std::to_string(v)).append(" "); }
  void Long(int64_t v) { out.append("l").append(std::to_string(v)).append(" "); }
  void Float(float v) { out.append("f").append(std::to_string(v)).append(" "); }
  void Double(double v) { out.append("d").append(std::to_string(v)).append(" "); }
  void String(std::string_view v) {
    View(v);
    out += "s'" + std::string(v) + "' ";
  }
  void Bytes(std::string_view v) {
    View(v);
    out += "b'" + std::string(v) + "' ";
  }
  void Fixed(const Node& n, std::string_view v) {
    View(v);
    out += n.name() + "'" + std::string(v) + "' ";
  }
  void Enum(const Node& n, size_t i) { out += n.name() + "#" + std::to_string(i) + " "; }
  void StartRecord(const Node& n) { out += n.name() + "{ "; }
  void Field(size_t i) { out += std::to_string(i) + ": "; }
  void EndRecord() { out += "} "; }
  void StartArray() { out += "[ "; }
  void EndArray() { out += "] "; }
  void StartMap() { out += "< "; }
  void MapKey(std::string_view k) {
    View(k);
    out += "k'" + std::string(k) + "' ";
  }
  void EndMap() { out += "> "; }
  void Branch(size_t b) { out.append("|").append(std::to_string(b)).append(" "); }
};

TEST(CompiledDecoderTest, HandlerProtocolAndZeroCopyViews) {
  Schema w = Parse(R"({"type":"record","name":"W","fields":[
    {"name":"url","type":"string"},{"name":"drop","type":{"type":"array","items":"string"}},
    {"name":"n","type":"int"},{"name":"ref","type":["null","string"]},
    {"name":"m","type":{"type":"map","values":"bytes"}}]})");
  Schema r = Parse(R"({"type":"record","name":"W","fields":[
    {"name":"extra","type":"string","default":"dflt"},
    {"name":"m","type":{"type":"map","values":"string"}},
    {"name":"n","type":"long"},{"name":"url","type":"string"},
    {"name":"ref","type":["null","string"]}]})");
  auto p = CompiledDecoder::Compile(w, r);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::string bytes = Encode(w, R"({"url":"u1","drop":["x","y"],"n":7,"ref":null,"m":{"k":"v"}})");
  TraceHandler h;
  h.lo = bytes.data();
  h.hi = bytes.data() + bytes.size();
  DecodeState state;
  ASSERT_TRUE((*p)->DecodeAll(bytes, h, &state).ok());
  // Writer order; the skipped array produces nothing; the default comes last.
  EXPECT_EQ(h.out, "W{ 3: s'u1' 2: l7 4: |0 null 1: < k'k' s'v' > 0: s'dflt' } ");
  EXPECT_EQ(h.views_in_input, 3);  // "u1", "k", "v" point into the input
  // The state is reusable.
  h.out.clear();
  std::string bytes2 = Encode(w, R"({"url":"u2","drop":[],"n":-1,"ref":{"string":"r"},"m":{}})");
  h.lo = bytes2.data();
  h.hi = bytes2.data() + bytes2.size();
  ASSERT_TRUE((*p)->DecodeAll(bytes2, h, &state).ok());
  EXPECT_EQ(h.out, "W{ 3: s'u2' 2: l-1 4: |1 s'r' 1: < > 0: s'dflt' } ");
  EXPECT_NE((*p)->DebugString().find("kSkipArrayStart"), std::string::npos);
}

TEST(CompiledDecoderTest, FlatRecordProgramIsSmall) {
  Schema s = Parse(R"({"type":"record","name":"PageView","fields":[
    {"name":"url","type":"string"},{"name":"user","type":"string"},
    {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
    {"name":"ip","type":"string"},{"name":"status","type":"int"},
    {"name":"referrer","type":["null","string"],"default":null}]})");
  auto p = CompiledDecoder::Compile(s, s);
  ASSERT_TRUE(p.ok());
  // start, 6 x (field + value), union dispatch, 2 branch markers, jump, end, halt.
  EXPECT_LE((*p)->op_count(), 20u) << (*p)->DebugString();
}

// Hostile inputs: errors name the byte offset; nothing is allocated from
// unchecked counts; zero-size items are capped.
TEST(CompiledDecoderTest, HostileInput) {
  DecodeOptions opts;
  opts.max_zero_size_items = 1000;
  struct Case {
    const char* schema;
    std::string bytes;
    const char* what;
  };
  std::vector<Case> cases = {
      {R"({"type":"array","items":"long"})", std::string("\xfe\xff\xff\xff\x0f", 5), "count"},
      {R"({"type":"array","items":"null"})", std::string("\x80\x80\x80\x80\x80\x01", 6),
       "zero-size"},
      {R"({"type":"map","values":"null"})", std::string("\x80\x80\x80\x80\x80\x01", 6), "map"},
      {R"("string")", std::string("\x03", 1), "negative length"},
      {R"("string")",
       std::string("\x7e"
                   "ab",
                   3),
       "length beyond input"},
      {R"(["null","int"])", std::string("\x04", 1), "union index"},
      {R"({"type":"enum","name":"E","symbols":["A"]})", std::string("\x02", 1), "enum index"},
      {R"("long")", std::string(11, '\x80'), "overlong varint"},
      {R"("int")", std::string("\x80\x80\x80\x80\x10", 5), "int out of range"},
      {R"("boolean")", std::string("\x02", 1), "bad bool"},
      {R"({"type":"array","items":"int"})",
       std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10), "INT64_MIN count"},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":"string"},
          {"name":"b","type":{"type":"array","items":"null"}}]})",
       std::string("\x00\x80\x80\x80\x80\x80\x01", 7), "skipped zero-size"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Schema s = Parse(c.schema);
    auto p = CompiledDecoder::Compile(s, s, opts);
    ASSERT_TRUE(p.ok());
    NullHandler h;
    Status st = (*p)->DecodeAll(c.bytes, h);
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("byte offset"), std::string::npos) << st.ToString();
    Result<Datum> g = DecodeResolving(s, s, c.bytes, opts);
    EXPECT_FALSE(g.ok());
  }
  // A writer-only zero-size array is capped too (reader drops the field).
  Schema w = Parse(R"({"type":"record","name":"R","fields":[
    {"name":"b","type":{"type":"array","items":"null"}}]})");
  Schema r = Parse(R"({"type":"record","name":"R","fields":[]})");
  auto p = CompiledDecoder::Compile(w, r, opts);
  ASSERT_TRUE(p.ok());
  NullHandler h;
  EXPECT_FALSE((*p)->DecodeAll(std::string("\x80\x80\x80\x80\x80\x01", 6), h).ok());
}

// Garbage bytes over random schema pairs: never a crash, and the two decoders
// agree on whether (and what) the bytes decode to.
TEST(CompiledDecoderTest, GarbageAgreesWithGenericDecoder) {
  testing::RandomSchemas gen(77);
  std::mt19937 rng(5);
  DecodeOptions opts;
  opts.max_zero_size_items = 10000;
  int decoded = 0, total = 0;
  for (int iter = 0; iter < 200; ++iter) {
    Json wj = gen.Writer(3);
    Json rj = gen.Evolve(wj);
    Result<Schema> w = ParseSchema(wj.dump());
    Result<Schema> r = ParseSchema(rj.dump());
    if (!w.ok() || !r.ok()) continue;
    auto generic = ResolvingDecoder::Create(*w, *r, opts);
    auto compiled = CompiledDecoder::Compile(*w, *r, opts);
    if (!generic.ok() || !compiled.ok()) continue;
    SCOPED_TRACE(wj.dump() + "\n -> " + rj.dump());
    for (int k = 0; k < 30; ++k) {
      // Mutate a valid encoding, or use pure noise.
      std::string bytes;
      if (k % 2 == 0) {
        bytes = *EncodeBinary(*w, gen.Value(w->root()));
        if (!bytes.empty()) {
          for (int m = 0; m < 2; ++m) {
            bytes[rng() % bytes.size()] = static_cast<char>(rng());
          }
        }
      } else {
        bytes.resize(rng() % 24);
        for (char& c : bytes) c = static_cast<char>(rng());
      }
      Result<Datum> a = generic->Decode(bytes);
      Result<Datum> b = DecodeToDatum(**compiled, bytes);
      ASSERT_EQ(a.ok(), b.ok()) << a.status().ToString() << " vs " << b.status().ToString();
      if (a.ok()) {
        ASSERT_EQ(*a, *b);
        ++decoded;
      }
      ++total;
    }
  }
  std::printf("garbage: %d inputs, %d decoded\n", total, decoded);
  EXPECT_GT(total, 3000);
}

}  // namespace
}  // namespace braid::avro
