// FieldExtractor: path syntax and errors, every scalar type, unions (branch
// selectors, pass-through, branches not taken), nested and recursive records,
// logical-type units, schema evolution (per writer, and writer -> reader with
// defaults, aliases and promotions), hostile input, and randomized agreement
// with the generic Datum decoders on random schemas and data.
#include "avro/field_extractor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

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
  EXPECT_TRUE(d.ok()) << d.status().ToString() << " for " << value_json;
  if (!d.ok()) return "";
  Result<std::string> b = EncodeBinary(s, *d);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : "";
}

std::shared_ptr<const FieldExtractor> MustCompile(const Schema& w, const Schema& r,
                                                  const std::vector<std::string>& paths,
                                                  const ExtractorOptions& o = {}) {
  auto e = FieldExtractor::Compile(w, r, paths, o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? *e : nullptr;
}
std::shared_ptr<const FieldExtractor> MustCompile(const Schema& w,
                                                  const std::vector<std::string>& paths,
                                                  const ExtractorOptions& o = {}) {
  return MustCompile(w, w, paths, o);
}

// "kind:value" of one extracted value, for compact expectations.
std::string Show(const ExtractedFields& f, size_t i) {
  std::string out(ValueKindName(f.kind(i)));
  switch (f.kind(i)) {
    case ValueKind::kAbsent:
    case ValueKind::kNull:
      return out;
    case ValueKind::kBool:
      return out + ":" + (*f.GetBool(i) ? "true" : "false");
    case ValueKind::kLong:
      return out + ":" + std::to_string(*f.GetLong(i));
    case ValueKind::kTimestamp:
      return out + ":" + std::to_string(*f.GetTimestampMillis(i));
    case ValueKind::kDouble: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%g", *f.GetDouble(i));
      return out + ":" + buf;
    }
    case ValueKind::kString:
      return out + ":" + std::string(*f.GetString(i));
  }
  return out;
}

std::string ShowAll(const ExtractedFields& f) {
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (i > 0) out += ' ';
    out += Show(f, i);
  }
  return out;
}

constexpr char kPageView[] = R"({"type":"record","name":"PageView","fields":[
  {"name":"url","type":"string"},{"name":"user","type":"string"},
  {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"ip","type":"string"},{"name":"status","type":"int"},
  {"name":"referrer","type":["null","string"],"default":null}]})";

TEST(FieldExtractorTest, PageViewFieldsAreViewsIntoTheInput) {
  Schema s = Parse(kPageView);
  auto ex = MustCompile(s, {"url", "user", "timestamp", "referrer", "status"});
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ(ex->path_count(), 5u);
  EXPECT_EQ(ex->leaf_type(2)->logical_type(), LogicalType::kTimestampMillis);
  std::string b1 = Encode(s, R"({"url":"https://x/a","user":"u1","timestamp":1700000000123,
      "ip":"10.0.0.1","status":200,"referrer":null})");
  ExtractedFields f;
  ASSERT_TRUE(ex->Extract(b1, &f).ok());
  EXPECT_EQ(ShowAll(f), "string:https://x/a string:u1 timestamp:1700000000123 null long:200");
  const std::string_view url = *f.GetString(0);
  EXPECT_GE(url.data(), b1.data());
  EXPECT_LE(url.data() + url.size(), b1.data() + b1.size());
  EXPECT_EQ(f.type(4), Type::kInt);
  EXPECT_EQ(f.type(2), Type::kLong);
  EXPECT_EQ(f.logical_type(2), LogicalType::kTimestampMillis);
  EXPECT_TRUE(f.is_null(3));
  EXPECT_TRUE(f.present(3));
  // The same ExtractedFields, next record.
  std::string b2 = Encode(s, R"({"url":"u","user":"","timestamp":-5,"ip":"","status":-1,
      "referrer":{"string":"https://ref"}})");
  ASSERT_TRUE(ex->Extract(b2, &f).ok());
  EXPECT_EQ(ShowAll(f), "string:u string: timestamp:-5 string:https://ref long:-1");
  EXPECT_EQ(f.type(3), Type::kString);
  // Unwanted fields are skipped, not decoded: only the 3 wanted values have
  // value ops; the ip is a skip op.
  auto only_time = MustCompile(s, {"timestamp"});
  const std::string listing = only_time->program().DebugString();
  EXPECT_EQ(listing.find("kString"), std::string::npos) << listing;
  EXPECT_NE(listing.find("kSkipLengthPrefixed"), std::string::npos) << listing;
  EXPECT_NE(listing.find("kLong 0 0 field=0"), std::string::npos) << listing;
}

TEST(FieldExtractorTest, EveryScalarType) {
  Schema s = Parse(R"({"type":"record","name":"All","fields":[
    {"name":"n","type":"null"},{"name":"b","type":"boolean"},{"name":"i","type":"int"},
    {"name":"l","type":"long"},{"name":"f","type":"float"},{"name":"d","type":"double"},
    {"name":"by","type":"bytes"},{"name":"s","type":"string"},
    {"name":"fx","type":{"type":"fixed","name":"F3","size":3}},
    {"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
    {"name":"u","type":["null","boolean","int","long","float","double","bytes","string","F3","Color"]}]})");
  auto ex = MustCompile(s, {"n", "b", "i", "l", "f", "d", "by", "s", "fx", "e", "u"});
  ASSERT_NE(ex, nullptr);
  const std::string base = R"("n":null,"b":true,"i":-7,"l":9007199254740993,"f":1.5,"d":-0.25,)"
                           R"("by":"\u0000\u00ff","s":"hé","fx":"abc","e":"BLUE")";
  ExtractedFields f;
  std::string b = Encode(s, "{" + base + R"(,"u":null})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(f.kind(0), ValueKind::kNull);
  EXPECT_EQ(f.GetBool(1), true);
  EXPECT_EQ(f.GetLong(2), -7);
  EXPECT_EQ(f.type(2), Type::kInt);
  EXPECT_EQ(f.GetLong(3), 9007199254740993);
  EXPECT_EQ(f.GetDouble(4), 1.5);
  EXPECT_EQ(f.type(4), Type::kFloat);
  EXPECT_EQ(f.GetDouble(5), -0.25);
  EXPECT_EQ(f.GetString(6), std::string_view("\0\xff", 2));
  EXPECT_EQ(f.type(6), Type::kBytes);
  EXPECT_EQ(f.GetString(7), "hé");
  EXPECT_EQ(f.GetString(8), "abc");
  EXPECT_EQ(f.type(8), Type::kFixed);
  EXPECT_EQ(f.GetString(9), "BLUE");
  EXPECT_EQ(f.GetEnumIndex(9), 2u);
  EXPECT_EQ(f.type(9), Type::kEnum);
  EXPECT_EQ(f.kind(10), ValueKind::kNull);
  // Getters of another kind give nullopt.
  EXPECT_FALSE(f.GetString(2).has_value());
  EXPECT_FALSE(f.GetLong(7).has_value());
  EXPECT_FALSE(f.GetDouble(2).has_value());  // no implicit int -> double
  EXPECT_FALSE(f.GetBool(2).has_value());
  EXPECT_FALSE(f.GetTimestampMillis(5).has_value());
  EXPECT_FALSE(f.GetEnumIndex(7).has_value());
  EXPECT_FALSE(f.GetTimestampMillis(0).has_value());
  // Every branch of the union leaf.
  const std::vector<std::pair<std::string, std::string>> branches = {
      {R"({"boolean":false})", "bool:false"},  {R"({"int":3})", "long:3"},
      {R"({"long":-4})", "long:-4"},           {R"({"float":0.5})", "double:0.5"},
      {R"({"double":2.5})", "double:2.5"},     {R"({"bytes":"xy"})", "string:xy"},
      {R"({"string":"st"})", "string:st"},     {R"({"F3":"fff"})", "string:fff"},
      {R"({"Color":"GREEN"})", "string:GREEN"}};
  for (const auto& [json, want] : branches) {
    b = Encode(s, "{" + base + R"(,"u":)" + json + "}");
    ASSERT_TRUE(ex->Extract(b, &f).ok());
    EXPECT_EQ(Show(f, 10), want) << json;
  }
}

TEST(FieldExtractorTest, LogicalTypeUnitsNormalizeToMillis) {
  Schema s = Parse(R"({"type":"record","name":"T","fields":[
    {"name":"ms","type":{"type":"long","logicalType":"timestamp-millis"}},
    {"name":"us","type":{"type":"long","logicalType":"timestamp-micros"}},
    {"name":"ns","type":{"type":"long","logicalType":"timestamp-nanos"}},
    {"name":"lms","type":{"type":"long","logicalType":"local-timestamp-millis"}},
    {"name":"lus","type":{"type":"long","logicalType":"local-timestamp-micros"}},
    {"name":"lns","type":{"type":"long","logicalType":"local-timestamp-nanos"}},
    {"name":"date","type":{"type":"int","logicalType":"date"}},
    {"name":"tms","type":{"type":"int","logicalType":"time-millis"}},
    {"name":"tus","type":{"type":"long","logicalType":"time-micros"}},
    {"name":"plain","type":"long"},{"name":"plain_int","type":"int"},
    {"name":"opt","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
    {"name":"neg","type":{"type":"long","logicalType":"timestamp-micros"}}]})");
  auto ex = MustCompile(s, {"ms", "us", "ns", "lms", "lus", "lns", "date", "tms", "tus", "plain",
                            "plain_int", "opt", "neg", "opt.long"});
  ASSERT_NE(ex, nullptr);
  std::string b = Encode(s, R"({"ms":1700000000123,"us":1700000000123456,
    "ns":1700000000123456789,"lms":1,"lus":2999,"lns":3999999,"date":19000,"tms":45000000,
    "tus":45000000123,"plain":1700000000999,"plain_int":77,"opt":{"long":5000},"neg":-1})");
  ExtractedFields f;
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f),
            "timestamp:1700000000123 timestamp:1700000000123 timestamp:1700000000123 "
            "timestamp:1 timestamp:2 timestamp:3 timestamp:1641600000000 long:45000000 "
            "long:45000000123 long:1700000000999 long:77 timestamp:5 timestamp:-1 timestamp:5");
  // GetLong keeps the raw number in its unit.
  EXPECT_EQ(f.GetLong(1), 1700000000123456);
  EXPECT_EQ(f.GetLong(6), 19000);
  EXPECT_EQ(f.logical_type(6), LogicalType::kDate);
  EXPECT_EQ(f.logical_type(8), LogicalType::kTimeMicros);
  // Plain and time-of-day longs are taken as milliseconds by GetTimestampMillis.
  EXPECT_EQ(f.GetTimestampMillis(9), 1700000000999);
  EXPECT_EQ(f.GetTimestampMillis(7), 45000000);
  // Floor, not truncation, for negative sub-millisecond values.
  EXPECT_EQ(f.GetTimestampMillis(12), -1);
  b = Encode(s, R"({"ms":0,"us":-1000,"ns":-1000001,"lms":0,"lus":0,"lns":0,"date":-1,
    "tms":0,"tus":0,"plain":0,"plain_int":0,"opt":null,"neg":-1001})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(f.GetTimestampMillis(1), -1);
  EXPECT_EQ(f.GetTimestampMillis(2), -2);
  EXPECT_EQ(f.GetTimestampMillis(6), -86400000);
  EXPECT_EQ(f.kind(11), ValueKind::kNull);
  EXPECT_FALSE(f.GetTimestampMillis(11).has_value());
  EXPECT_EQ(f.kind(13), ValueKind::kAbsent);  // "opt.long": branch not taken
  EXPECT_EQ(f.GetTimestampMillis(12), -2);
}

constexpr char kEvent[] = R"({"type":"record","name":"Event","namespace":"com.acme","fields":[
  {"name":"id","type":"long"},
  {"name":"person","type":["null",{"type":"record","name":"Person","fields":[
    {"name":"id","type":"long"},{"name":"name","type":"string"},
    {"name":"address","type":{"type":"record","name":"Address","fields":[
      {"name":"city","type":"string"},{"name":"zip","type":["null","int"]}]}}]}]},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"payload","type":["null",
    {"type":"record","name":"Click","fields":[{"name":"x","type":"int"},{"name":"url","type":"string"}]},
    {"type":"record","name":"View","namespace":"org.other","fields":[
      {"name":"x","type":"double"},{"name":"page","type":"string"}]}]},
  {"name":"referrer","type":["null","string"]},
  {"name":"attrs","type":{"type":"map","values":"long"}}]})";

TEST(FieldExtractorTest, NestedRecordsAndUnionBranches) {
  Schema s = Parse(kEvent);
  const std::vector<std::string> paths = {
      "id",                                   // 0
      "person.id",                            // 1: through ["null", Person]
      "person.Person.name",                   // 2: simple-name selector
      "person.com.acme.Person.address.city",  // 3: full-name selector
      "person.address.zip",                   // 4: union leaf
      "payload.com.acme.Click.x",             // 5
      "payload.Click.url",                    // 6
      "payload.org.other.View.x",             // 7
      "payload.View.page",                    // 8
      "referrer",                             // 9
      "referrer.string",                      // 10
      "referrer.null",                        // 11
      "person.address.zip.int",               // 12
      "id",                                   // 13: a duplicate
  };
  auto ex = MustCompile(s, paths);
  ASSERT_NE(ex, nullptr);
  ExtractedFields f;
  std::string b = Encode(s, R"({"id":1,"person":{"com.acme.Person":{"id":2,"name":"Ann",
    "address":{"city":"Oslo","zip":{"int":150}}}},"tags":["a","b"],
    "payload":{"com.acme.Click":{"x":3,"url":"/c"}},"referrer":{"string":"r"},"attrs":{"k":1}})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f),
            "long:1 long:2 string:Ann string:Oslo long:150 long:3 string:/c absent absent "
            "string:r string:r absent long:150 long:1");
  b = Encode(s, R"({"id":-1,"person":null,"tags":[],
    "payload":{"org.other.View":{"x":0.5,"page":"/v"}},"referrer":null,"attrs":{}})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f),
            "long:-1 absent absent absent absent absent absent double:0.5 string:/v null "
            "absent null absent long:-1");
  b = Encode(s, R"({"id":0,"person":{"com.acme.Person":{"id":2,"name":"B",
    "address":{"city":"","zip":null}}},"tags":["x"],"payload":null,"referrer":null,"attrs":{}})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f),
            "long:0 long:2 string:B string: null absent absent absent absent null absent null "
            "absent long:0");
}

TEST(FieldExtractorTest, BranchesWithTheSameSimpleName) {
  Schema s = Parse(R"({"type":"record","name":"W","fields":[{"name":"u","type":["null",
    {"type":"record","name":"Click","namespace":"a","fields":[{"name":"x","type":"int"}]},
    {"type":"record","name":"Click","namespace":"b","fields":[{"name":"x","type":"string"}]}]}]})");
  auto ex = MustCompile(s, {"u.a.Click.x", "u.b.Click.x"});
  ASSERT_NE(ex, nullptr);
  ExtractedFields f;
  std::string b = Encode(s, R"({"u":{"b.Click":{"x":"bee"}}})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f), "absent string:bee");
  b = Encode(s, R"({"u":{"a.Click":{"x":7}}})");
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f), "long:7 absent");
  // The simple name is ambiguous here.
  auto amb = FieldExtractor::Compile(s, {"u.Click.x"});
  ASSERT_FALSE(amb.ok());
  EXPECT_NE(amb.status().message().find("matches record a.Click and record b.Click"),
            std::string::npos)
      << amb.status().ToString();
}

TEST(FieldExtractorTest, RecursiveRecordsUnrollToThePathDepth) {
  Schema s = Parse(R"({"type":"record","name":"Node","fields":[
    {"name":"value","type":"long"},{"name":"next","type":["null","Node"]}]})");
  auto ex = MustCompile(s, {"value", "next.value", "next.next.next.value"});
  ASSERT_NE(ex, nullptr);
  ExtractedFields f;
  std::string b;  // the encoded record: string values are views into it
  ASSERT_TRUE(ex->Extract(b = Encode(s, R"({"value":1,"next":null})"), &f).ok());
  EXPECT_EQ(ShowAll(f), "long:1 absent absent");
  ASSERT_TRUE(ex->Extract(b = Encode(s, R"({"value":1,"next":{"Node":{"value":2,"next":{"Node":
      {"value":3,"next":{"Node":{"value":4,"next":{"Node":{"value":5,"next":null}}}}}}}}})"),
                          &f)
                  .ok());
  EXPECT_EQ(ShowAll(f), "long:1 long:2 long:4");
}

TEST(FieldExtractorTest, RootThatIsNotARecord) {
  Schema u = Parse(
      R"(["null","string",{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}])");
  auto ex = MustCompile(u, {"string", "R.a", "null"});
  ASSERT_NE(ex, nullptr);
  ExtractedFields f;
  std::string b;  // the encoded record: string values are views into it
  ASSERT_TRUE(ex->Extract(b = Encode(u, R"({"string":"s"})"), &f).ok());
  EXPECT_EQ(ShowAll(f), "string:s absent absent");
  ASSERT_TRUE(ex->Extract(b = Encode(u, R"({"R":{"a":4}})"), &f).ok());
  EXPECT_EQ(ShowAll(f), "absent long:4 absent");
  Schema l = Parse(R"({"type":"long","logicalType":"timestamp-micros"})");
  auto whole = MustCompile(l, {""});
  ASSERT_NE(whole, nullptr);
  ASSERT_TRUE(whole->Extract(b = Encode(l, "5000"), &f).ok());
  EXPECT_EQ(ShowAll(f), "timestamp:5");
  // No paths: the value is only checked.
  auto none = MustCompile(Parse(kPageView), {});
  ASSERT_NE(none, nullptr);
  ASSERT_TRUE(none->Extract(b = Encode(Parse(kPageView), R"({"url":"u","user":"","timestamp":1,
      "ip":"","status":1,"referrer":null})"),
                            &f)
                  .ok());
  EXPECT_EQ(f.size(), 0u);
  EXPECT_FALSE(none->Extract(std::string("\x02", 1), &f).ok());
}

TEST(FieldExtractorTest, CompileErrorsNameThePathAndTheStep) {
  Schema s = Parse(kEvent);
  struct Case {
    std::string path;
    std::string want;  // substring of the message
  };
  const std::vector<Case> cases = {
      {"nope", R"(path "nope": step 1 "nope": record com.acme.Event has no field "nope")"},
      {"id.x", R"(path "id.x": step 2 "x": cannot look up a field in a long)"},
      {"person.idx", R"(step 2 "idx": record com.acme.Person has no field "idx")"},
      {"payload.x", R"(path "payload.x": step 2 "x": no branch of union)"},
      {"payload.x", "several non-null branches"},
      {"tags", R"(step 1 "tags": the path ends at a array, not a scalar)"},
      {"tags.x", "cannot look up a field in a array"},
      {"attrs", "the path ends at a map"},
      {"attrs.k", "cannot look up a field in a map"},
      {"person", "the path ends at a union whose branch 1 (record com.acme.Person)"},
      {"person.Person", "ends at a record com.acme.Person"},
      {"person.address", "ends at a record com.acme.Address"},
      {"", R"(path "" (the whole value): the path ends at a record com.acme.Event)"},
      {"person..id", R"(step 2 "": empty step)"},
      {"id.", R"(step 2 "": empty step)"},
      {"payload.com.acme.View.x", R"(step 2 "com")"},
      {"referrer.int", R"(step 2 "int": no branch of union ["null","string"] is named "int")"},
  };
  for (const Case& c : cases) {
    auto ex = FieldExtractor::Compile(s, {"id", c.path});
    ASSERT_FALSE(ex.ok()) << c.path;
    EXPECT_TRUE(ex.status().IsInvalidArgument()) << ex.status().ToString();
    EXPECT_NE(ex.status().message().find(c.want), std::string::npos)
        << c.path << ": " << ex.status().ToString();
  }
  // An ambiguous branch selector: "a.B" is the full name of one branch, and
  // "a" the full name of another.
  Schema amb = Parse(R"({"type":"record","name":"W","fields":[{"name":"u","type":[
    {"type":"record","name":"a","fields":[{"name":"B","type":
      {"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}}]},
    {"type":"record","name":"B","namespace":"a","fields":[{"name":"x","type":"int"}]}]}]})");
  auto ex = FieldExtractor::Compile(amb, {"u.a.B.x"});
  ASSERT_FALSE(ex.ok());
  EXPECT_NE(ex.status().message().find("ambiguous union branch selector: it matches record a "
                                       "and record a.B"),
            std::string::npos)
      << ex.status().ToString();
  // Lenient: the bad paths are always absent, the others work.
  ExtractorOptions lenient;
  lenient.strict_paths = false;
  auto le = MustCompile(s, {"nope", "id", "tags", "payload.x"}, lenient);
  ASSERT_NE(le, nullptr);
  EXPECT_TRUE(le->path_status(0).IsInvalidArgument());
  EXPECT_TRUE(le->path_status(1).ok());
  EXPECT_FALSE(le->path_status(2).ok());
  EXPECT_EQ(le->leaf_type(0), nullptr);
  EXPECT_EQ(le->leaf_type(1)->type(), Type::kLong);
  ExtractedFields f;
  std::string b;  // the encoded record: string values are views into it
  ASSERT_TRUE(le->Extract(b = Encode(s, R"({"id":9,"person":null,"tags":[],"payload":null,
      "referrer":null,"attrs":{}})"),
                          &f)
                  .ok());
  EXPECT_EQ(ShowAll(f), "absent long:9 absent absent");
}

TEST(FieldExtractorTest, ExtraAndReorderedWriterFields) {
  // Each writer gets its own extractor; the same paths give the same values.
  Schema v1 = Parse(R"({"type":"record","name":"PV","fields":[
    {"name":"url","type":"string"},{"name":"user","type":"string"},
    {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}}]})");
  Schema v2 = Parse(R"({"type":"record","name":"PV","fields":[
    {"name":"extra","type":{"type":"array","items":{"type":"map","values":"string"}}},
    {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
    {"name":"blob","type":["null","bytes",{"type":"record","name":"X","fields":[
      {"name":"q","type":"double"}]}]},
    {"name":"user","type":"string"},{"name":"url","type":"string"},
    {"name":"more","type":{"type":"fixed","name":"F","size":4}}]})");
  const std::vector<std::string> paths = {"url", "user", "ts"};
  auto e1 = MustCompile(v1, paths);
  auto e2 = MustCompile(v2, paths);
  ASSERT_NE(e1, nullptr);
  ASSERT_NE(e2, nullptr);
  ExtractedFields f;
  std::string b;  // the encoded record: string values are views into it
  ASSERT_TRUE(
      e1->Extract(b = Encode(v1, R"({"url":"/a","user":"u","ts":1700000000000000})"), &f).ok());
  EXPECT_EQ(ShowAll(f), "string:/a string:u timestamp:1700000000000");
  ASSERT_TRUE(e2->Extract(b = Encode(v2, R"({"extra":[{"a":"b"},{}],"ts":1700000000000,
      "blob":{"X":{"q":1.0}},"user":"u","url":"/a","more":"abcd"})"),
                          &f)
                  .ok());
  EXPECT_EQ(ShowAll(f), "string:/a string:u timestamp:1700000000000");
  // A writer without the path: an error, or an always-absent path.
  Schema v0 = Parse(R"({"type":"record","name":"PV","fields":[{"name":"url","type":"string"}]})");
  auto strict = FieldExtractor::Compile(v0, paths);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find(R"(path "user": step 1 "user": record PV has no field)"),
            std::string::npos)
      << strict.status().ToString();
  ExtractorOptions lenient;
  lenient.strict_paths = false;
  auto e0 = MustCompile(v0, paths, lenient);
  ASSERT_NE(e0, nullptr);
  ASSERT_TRUE(e0->Extract(b = Encode(v0, R"({"url":"/z"})"), &f).ok());
  EXPECT_EQ(ShowAll(f), "string:/z absent absent");
}

TEST(FieldExtractorTest, ReaderSchemaDefaultsAliasesPromotions) {
  Schema w = Parse(R"({"type":"record","name":"Old","fields":[
    {"name":"a","type":"int"},{"name":"b","type":"string"},
    {"name":"c","type":["null","long","string"]},
    {"name":"inner","type":{"type":"record","name":"In","fields":[
      {"name":"x","type":"int"},{"name":"gone","type":"string"}]}},
    {"name":"day","type":{"type":"int","logicalType":"date"}},
    {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}]})");
  Schema r = Parse(R"({"type":"record","name":"New","aliases":["Old"],"fields":[
    {"name":"e","type":{"type":"enum","name":"E","symbols":["C","A","Z"],"default":"Z"}},
    {"name":"bb","aliases":["b"],"type":"bytes"},
    {"name":"a","type":"long"},
    {"name":"c","type":"long"},
    {"name":"d","type":"string","default":"dflt"},
    {"name":"t","type":{"type":"long","logicalType":"timestamp-micros"},"default":5000},
    {"name":"opt","type":["null","string"],"default":null},
    {"name":"nodefault","type":"string"},
    {"name":"inner","type":{"type":"record","name":"In","fields":[
      {"name":"x","type":"double"},{"name":"y","type":"int","default":7}]}},
    {"name":"added","type":{"type":"record","name":"Added","fields":[
      {"name":"p","type":"string"},{"name":"q","type":["int","null"]}]},
      "default":{"p":"pp","q":3}},
    {"name":"day","type":{"type":"long","logicalType":"date"}}]})");
  auto ex = MustCompile(w, r,
                        {"a", "bb", "c", "d", "t", "opt", "nodefault", "inner.x", "inner.y",
                         "added.p", "added.q", "day", "e"});
  ASSERT_NE(ex, nullptr);
  ExtractedFields f;
  std::string b;  // the encoded record: string values are views into it
  ASSERT_TRUE(ex->Extract(b = Encode(w, R"({"a":5,"b":"bee","c":{"long":6},
      "inner":{"x":8,"gone":"g"},"day":2,"e":"B"})"),
                          &f)
                  .ok());
  EXPECT_EQ(ShowAll(f),
            "long:5 string:bee long:6 string:dflt timestamp:5 null absent double:8 long:7 "
            "string:pp long:3 timestamp:172800000 string:Z");
  EXPECT_EQ(f.type(0), Type::kLong);   // promoted
  EXPECT_EQ(f.type(1), Type::kBytes);  // string read as bytes
  EXPECT_EQ(f.type(7), Type::kDouble);
  EXPECT_EQ(f.GetEnumIndex(12), 2u);
  // The writer union's string branch cannot be read as long: absent (where
  // CompiledDecoder would fail); null too.
  ASSERT_TRUE(ex->Extract(b = Encode(w, R"({"a":5,"b":"","c":{"string":"s"},
      "inner":{"x":8,"gone":"g"},"day":2,"e":"A"})"),
                          &f)
                  .ok());
  EXPECT_EQ(f.kind(2), ValueKind::kAbsent);
  EXPECT_EQ(f.GetString(12), "A");
  EXPECT_EQ(f.GetEnumIndex(12), 1u);
  ASSERT_TRUE(ex->Extract(b = Encode(w, R"({"a":5,"b":"","c":null,
      "inner":{"x":8,"gone":"g"},"day":2,"e":"C"})"),
                          &f)
                  .ok());
  EXPECT_EQ(f.kind(2), ValueKind::kAbsent);
  // A non-union writer type that cannot be read as the reader's: an error
  // naming the path, or an always-absent path.
  Schema bad = Parse(R"({"type":"record","name":"Old","fields":[
    {"name":"a","type":"string"},{"name":"inner","type":"long"}]})");
  Schema rbad = Parse(R"({"type":"record","name":"Old","fields":[
    {"name":"a","type":"long"},{"name":"inner","type":{"type":"record","name":"In","fields":[
      {"name":"x","type":"int"}]}}]})");
  auto strict = FieldExtractor::Compile(bad, rbad, {"inner.x", "a"});
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find(
                R"(path "a": writer type string cannot be read as long (writer schema))"),
            std::string::npos)
      << strict.status().ToString();
  ExtractorOptions lenient;
  lenient.strict_paths = false;
  auto le = MustCompile(bad, rbad, {"inner.x", "a"}, lenient);
  ASSERT_NE(le, nullptr);
  EXPECT_NE(le->path_status(0).message().find("writer type long cannot be read as record In"),
            std::string::npos)
      << le->path_status(0).ToString();
  ASSERT_TRUE(le->Extract(b = Encode(bad, R"({"a":"s","inner":4})"), &f).ok());
  EXPECT_EQ(ShowAll(f), "absent absent");
}

TEST(FieldExtractorTest, TruncatedCorruptAndTrailingInput) {
  Schema s = Parse(kEvent);
  auto ex = MustCompile(s, {"person.address.city", "payload.Click.url", "referrer"});
  ASSERT_NE(ex, nullptr);
  const std::string b = Encode(s, R"({"id":123456,"person":{"com.acme.Person":{"id":2,
    "name":"Ann","address":{"city":"Oslo","zip":{"int":150}}}},"tags":["a","bcd"],
    "payload":{"com.acme.Click":{"x":3,"url":"/c"}},"referrer":{"string":"r"},
    "attrs":{"k":1,"l":300}})");
  ExtractedFields f;
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  for (size_t n = 0; n < b.size(); ++n) {
    Status st = ex->Extract(std::string_view(b.data(), n), &f);
    ASSERT_FALSE(st.ok()) << n;
    EXPECT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("byte offset"), std::string::npos) << st.ToString();
  }
  // Trailing bytes: Corruption unless allowed.
  const std::string longer = b + "xyz";
  Status st = ex->Extract(longer, &f);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("3 trailing bytes after the value at byte offset"), std::string::npos)
      << st.ToString();
  ExtractorOptions trailing;
  trailing.allow_trailing_bytes = true;
  auto tex = MustCompile(s, {"person.address.city"}, trailing);
  ASSERT_TRUE(tex->Extract(longer, &f).ok());
  EXPECT_EQ(ShowAll(f), "string:Oslo");
  // Values back to back through a Decoder; errors name the absolute offset.
  const std::string two = b + b;
  Decoder d(two, 1000);
  ASSERT_TRUE(ex->Extract(&d, &f).ok());
  EXPECT_EQ(d.consumed(), b.size());
  ASSERT_TRUE(ex->Extract(&d, &f).ok());
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(ShowAll(f), "string:Oslo string:/c string:r");
  Decoder d2(std::string_view(two.data(), b.size() + 3), 1000);
  ASSERT_TRUE(ex->Extract(&d2, &f).ok());
  st = ex->Extract(&d2, &f);
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("at byte offset 10"), std::string::npos) << st.ToString();
  // Hostile bytes in an unwanted field (a huge array count).
  Schema arr = Parse(R"({"type":"record","name":"R","fields":[
    {"name":"junk","type":{"type":"array","items":"null"}},{"name":"v","type":"int"}]})");
  auto aex = MustCompile(arr, {"v"});
  st = aex->Extract(std::string("\xfe\xff\xff\xff\x0f\x02", 6), &f);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  // Garbage never crashes.
  std::mt19937 rng(3);
  for (int k = 0; k < 2000; ++k) {
    std::string g(rng() % 40, '\0');
    for (char& c : g) c = static_cast<char>(rng());
    ex->Extract(g, &f).IgnoreError();
  }
}

TEST(FieldExtractorTest, ReadToEndFalseStopsAfterTheLastWantedField) {
  Schema s = Parse(kPageView);
  ExtractorOptions o;
  o.read_to_end = false;
  auto ex = MustCompile(s, {"user", "url"}, o);
  ASSERT_NE(ex, nullptr);
  const std::string b = Encode(s, R"({"url":"/u","user":"bob","timestamp":1,"ip":"ip",
      "status":200,"referrer":null})");
  ExtractedFields f;
  ASSERT_TRUE(ex->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f), "string:bob string:/u");
  // Only the first 2 fields (1 + 3 + 1 + 2 bytes) are read: garbage after them is ignored.
  std::string cut = b.substr(0, 7) + "\xff\xff\xff";
  ASSERT_TRUE(ex->Extract(cut, &f).ok());
  EXPECT_EQ(ShowAll(f), "string:bob string:/u");
  EXPECT_FALSE(ex->Extract(b.substr(0, 6), &f).ok());
  Decoder d(b);
  EXPECT_TRUE(ex->Extract(&d, &f).IsInvalidArgument());
}

TEST(FieldExtractorTest, ValidateSkippedBlocks) {
  Schema s = Parse(R"({"type":"record","name":"R","fields":[
    {"name":"flags","type":{"type":"array","items":"boolean"}},{"name":"s","type":"string"}]})");
  // A block of -1 items (count -1, byte size 1) holding the invalid boolean 5,
  // the end of the array, then the string "ok".
  const std::string b("\x01\x02\x05\x00\x04ok", 7);
  auto fast = MustCompile(s, {"s"});
  ExtractedFields f;
  ASSERT_TRUE(fast->Extract(b, &f).ok());
  EXPECT_EQ(ShowAll(f), "string:ok");
  ExtractorOptions o;
  o.decode.validate_skipped_blocks = true;
  auto strict = MustCompile(s, {"s"}, o);
  Status st = strict->Extract(b, &f);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_FALSE(DecodeBinary(s, b).ok());
  DecodeOptions dopts;
  dopts.validate_skipped_blocks = true;
  Decoder d(b);
  EXPECT_FALSE(SkipBinary(s.root(), &d, dopts).ok());
  Decoder d2(b);
  EXPECT_TRUE(SkipBinary(s.root(), &d2).ok());
}

TEST(FieldExtractorTest, SharedAcrossThreads) {
  Schema s = Parse(kPageView);
  auto ex = MustCompile(s, {"url", "timestamp", "referrer"});
  ASSERT_NE(ex, nullptr);
  std::vector<std::string> records;
  for (int i = 0; i < 64; ++i) {
    records.push_back(Encode(s, R"({"url":"/p)" + std::to_string(i) +
                                    R"(","user":"u","timestamp":)" + std::to_string(1000 + i) +
                                    R"(,"ip":"","status":1,"referrer":)" +
                                    (i % 2 ? R"({"string":"r"})" : "null") + "}"));
  }
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ExtractedFields f;
      for (int round = 0; round < 200; ++round) {
        for (int i = 0; i < 64; ++i) {
          if (!ex->Extract(records[static_cast<size_t>(i)], &f).ok() ||
              f.GetString(0) != "/p" + std::to_string(i) || f.GetTimestampMillis(1) != 1000 + i ||
              f.is_null(2) != (i % 2 == 0)) {
            ++bad[static_cast<size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

// ---------------------------------------------------------------------------
// Randomized agreement with the generic Datum decoders.

// Gives some int and long types of a random schema a logical type.
Json AddLogicalTypes(const Json& j, std::mt19937& rng) {
  if (j.is_string()) {
    const std::string t = j.get<std::string>();
    if (t == "long" && rng() % 2 == 0) {
      static const char* kLong[] = {"timestamp-millis",
                                    "timestamp-micros",
                                    "timestamp-nanos",
                                    "local-timestamp-millis",
                                    "local-timestamp-micros",
                                    "local-timestamp-nanos",
                                    "time-micros"};
      return {{"type", "long"}, {"logicalType", kLong[rng() % 7]}};
    }
    if (t == "int" && rng() % 2 == 0) {
      return {{"type", "int"}, {"logicalType", rng() % 2 ? "date" : "time-millis"}};
    }
    return j;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& b : j) out.push_back(AddLogicalTypes(b, rng));
    return out;
  }
  Json out = j;
  if (j.contains("items")) out["items"] = AddLogicalTypes(j["items"], rng);
  if (j.contains("values")) out["values"] = AddLogicalTypes(j["values"], rng);
  if (j.contains("fields")) {
    for (auto& f : out["fields"]) f["type"] = AddLogicalTypes(f["type"], rng);
  }
  return out;
}

struct Candidate {
  std::string path;
  std::vector<std::pair<bool, size_t>> steps;  // (is union branch, index)
  const Node* leaf = nullptr;
};

bool IsScalarNode(const Node& n) {
  return n.type() != Type::kRecord && n.type() != Type::kArray && n.type() != Type::kMap &&
         n.type() != Type::kUnion;
}

// Every scalar path of `n`, with a random choice of selector syntax.
void Enumerate(const Node& n, const std::string& prefix, std::vector<std::pair<bool, size_t>> steps,
               int depth, std::mt19937& rng, std::vector<Candidate>* out) {
  if (depth > 6) return;
  auto join = [&](const std::string& step) { return prefix.empty() ? step : prefix + "." + step; };
  bool scalar_union = n.type() == Type::kUnion;
  for (const Node* b : n.branches()) scalar_union = scalar_union && IsScalarNode(*b);
  if (!prefix.empty() && (IsScalarNode(n) || scalar_union)) out->push_back({prefix, steps, &n});
  if (n.type() == Type::kRecord) {
    for (const Field& f : n.fields()) {
      auto s = steps;
      s.emplace_back(false, f.index);
      Enumerate(*f.type, join(f.name), s, depth + 1, rng, out);
    }
  } else if (n.type() == Type::kUnion) {
    size_t non_null = 0;
    for (const Node* b : n.branches()) non_null += b->type() != Type::kNull;
    for (size_t j = 0; j < n.branches().size(); ++j) {
      const Node& b = *n.branches()[j];
      auto s = steps;
      s.emplace_back(true, j);
      // Pass-through (no step) into the only non-null branch when it is a
      // record, else a selector by type name or (full) name.
      if (non_null == 1 && b.type() == Type::kRecord && rng() % 2 == 0) {
        Enumerate(b, prefix, s, depth + 1, rng, out);
      } else {
        Enumerate(b, join(std::string(b.is_named() ? b.fullname() : TypeName(b.type()))), s,
                  depth + 1, rng, out);
      }
    }
  }
}

// The expected "kind:value" for candidate `c` in `value` (a Datum of the
// schema the candidate was enumerated on).
std::string Expected(const Datum& value, const Candidate& c) {
  const Datum* d = &value;
  for (const auto& [branch, index] : c.steps) {
    if (branch) {
      if (d->branch() != index) return "absent";
      d = &d->union_value();
    } else {
      d = &d->field(index);
    }
  }
  const Node* n = c.leaf;
  if (n->type() == Type::kUnion) {
    n = n->branches()[d->branch()];
    d = &d->union_value();
  }
  auto integral = [&](int64_t v) {
    int64_t ms = v;
    bool ts = true;
    switch (n->logical_type()) {
      case LogicalType::kTimestampMillis:
      case LogicalType::kLocalTimestampMillis:
        break;
      case LogicalType::kTimestampMicros:
      case LogicalType::kLocalTimestampMicros:
        ms = v / 1000 - (v % 1000 < 0 ? 1 : 0);
        break;
      case LogicalType::kTimestampNanos:
      case LogicalType::kLocalTimestampNanos:
        ms = v / 1000000 - (v % 1000000 < 0 ? 1 : 0);
        break;
      case LogicalType::kDate:
        ms = v * 86400000;
        break;
      default:
        ts = false;
    }
    return ts ? "timestamp:" + std::to_string(ms) : "long:" + std::to_string(v);
  };
  char buf[64];
  switch (n->type()) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return d->boolean() ? "bool:true" : "bool:false";
    case Type::kInt:
      return integral(d->int_value());
    case Type::kLong:
      return integral(d->long_value());
    case Type::kFloat:
      std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(d->float_value()));
      return std::string("double:") + buf;
    case Type::kDouble:
      std::snprintf(buf, sizeof(buf), "%g", d->double_value());
      return std::string("double:") + buf;
    case Type::kBytes:
    case Type::kString:
    case Type::kFixed:
      return "string:" + d->bytes();
    case Type::kEnum:
      return "string:" + d->enum_symbol();
    default:
      return "?";
  }
}

// A random record schema: a root record with random fields.
Json RandomRecord(testing::RandomSchemas& gen, int fields) {
  Json r = {{"type", "record"}, {"name", "Root"}};
  Json fs = Json::array();
  for (int i = 0; i < fields; ++i)
    fs.push_back({{"name", testing::Numbered("top", i)}, {"type", gen.Writer(3)}});
  r["fields"] = fs;
  return r;
}

TEST(FieldExtractorTest, RandomSchemasAgreeWithDatumDecode) {
  testing::RandomSchemas gen(2024);
  std::mt19937 rng(11);
  ExtractorOptions opts;
  opts.decode.max_zero_size_items = 10000;
  opts.decode.validate_skipped_blocks = true;
  int compared = 0, present = 0, garbage_ok = 0, schemas = 0;
  for (int iter = 0; iter < 400; ++iter) {
    Json wj = AddLogicalTypes(RandomRecord(gen, gen.Uniform(1, 6)), rng);
    Result<Schema> w = ParseSchema(wj.dump());
    if (!w.ok()) continue;
    std::vector<Candidate> all;
    Enumerate(w->root(), "", {}, 0, rng, &all);
    if (all.empty()) continue;
    std::shuffle(all.begin(), all.end(), rng);
    if (all.size() > 8) all.resize(8);
    std::vector<std::string> paths;
    for (const auto& c : all) paths.push_back(c.path);
    SCOPED_TRACE(wj.dump());
    auto ex = FieldExtractor::Compile(*w, paths, opts);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    ++schemas;
    ExtractedFields f;
    for (int k = 0; k < 20; ++k) {
      Datum v = gen.Value(w->root());
      Result<std::string> bytes = EncodeBinary(*w, v);
      ASSERT_TRUE(bytes.ok());
      Result<Datum> decoded = DecodeBinary(*w, *bytes, opts.decode);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      ASSERT_TRUE((*ex)->Extract(*bytes, &f).ok());
      for (size_t i = 0; i < all.size(); ++i) {
        ASSERT_EQ(Show(f, i), Expected(*decoded, all[i])) << all[i].path;
        ++compared;
        present += f.present(i);
      }
      // Truncations and mutations: the extractor accepts exactly what the
      // generic decoder accepts, with the same values.
      std::string m = *bytes;
      if (!m.empty()) {
        const size_t cut = rng() % m.size();
        Result<Datum> g = DecodeBinary(*w, std::string_view(m.data(), cut), opts.decode);
        ASSERT_EQ(g.ok(), (*ex)->Extract(std::string_view(m.data(), cut), &f).ok()) << cut;
        m[rng() % m.size()] = static_cast<char>(rng());
      }
      Result<Datum> g = DecodeBinary(*w, m, opts.decode);
      Status st = (*ex)->Extract(m, &f);
      ASSERT_EQ(g.ok(), st.ok()) << g.status().ToString() << " vs " << st.ToString();
      if (g.ok()) {
        ++garbage_ok;
        for (size_t i = 0; i < all.size(); ++i) {
          ASSERT_EQ(Show(f, i), Expected(*g, all[i])) << all[i].path;
        }
      } else {
        EXPECT_TRUE(st.IsCorruption()) << st.ToString();
      }
    }
  }
  std::printf("random: %d schemas, %d values compared (%d present), %d mutated inputs decoded\n",
              schemas, compared, present, garbage_ok);
  EXPECT_GT(schemas, 300);
  EXPECT_GT(present, 5000);
}

TEST(FieldExtractorTest, RandomEvolvedPairsAgreeWithResolvingDecoder) {
  testing::RandomSchemas gen(99);
  std::mt19937 rng(12);
  ExtractorOptions opts;
  opts.strict_paths = false;
  opts.decode.max_zero_size_items = 10000;
  int compared = 0, pairs = 0, defaulted = 0;
  for (int iter = 0; iter < 400; ++iter) {
    Json wj = RandomRecord(gen, gen.Uniform(1, 6));
    Json rj = gen.Evolve(wj);
    Result<Schema> w = ParseSchema(wj.dump());
    Result<Schema> r = ParseSchema(rj.dump());
    if (!w.ok() || !r.ok()) continue;
    auto resolver = ResolvingDecoder::Create(*w, *r, opts.decode);
    if (!resolver.ok()) continue;
    std::vector<Candidate> all;
    Enumerate(r->root(), "", {}, 0, rng, &all);
    if (all.empty()) continue;
    std::shuffle(all.begin(), all.end(), rng);
    if (all.size() > 8) all.resize(8);
    std::vector<std::string> paths;
    for (const auto& c : all) paths.push_back(c.path);
    SCOPED_TRACE(wj.dump() + "\n -> " + rj.dump());
    auto ex = FieldExtractor::Compile(*w, *r, paths, opts);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    for (size_t i = 0; i < all.size(); ++i) {
      // The pair resolves as a whole, so every path resolves.
      ASSERT_TRUE((*ex)->path_status(i).ok()) << (*ex)->path_status(i).ToString();
    }
    ++pairs;
    ExtractedFields f;
    for (int k = 0; k < 20; ++k) {
      Result<std::string> bytes = EncodeBinary(*w, gen.Value(w->root()));
      ASSERT_TRUE(bytes.ok());
      Result<Datum> want = resolver->Decode(*bytes);
      Status st = (*ex)->Extract(*bytes, &f);
      if (!want.ok()) continue;  // e.g. an enum symbol the reader lacks, or a bad branch
      ASSERT_TRUE(st.ok()) << st.ToString();
      for (size_t i = 0; i < all.size(); ++i) {
        ASSERT_EQ(Show(f, i), Expected(*want, all[i])) << all[i].path;
        ++compared;
      }
    }
    defaulted += rj.dump().find("added") != std::string::npos;
  }
  std::printf("evolved: %d pairs (%d with added defaulted fields), %d values compared\n", pairs,
              defaulted, compared);
  EXPECT_GT(pairs, 200);
  EXPECT_GT(compared, 10000);
}

}  // namespace
}  // namespace braid::avro
