#include "avro/schema.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace braid::avro {
namespace {

std::string TestData(const std::string& rel) {
  const char* root = std::getenv("BRAID_TESTDATA");
  std::string base = root ? root : "/work/shared/testdata";
  return base + "/" + rel;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct PcfCase {
  std::string id;
  std::string input;
  std::string canonical;
  bool has_fingerprint = false;
  int64_t fingerprint = 0;
};

// Parses the Avro project's schema-tests.txt format.
std::vector<PcfCase> LoadPcfCases() {
  std::istringstream in(ReadFile(TestData("avro/data/schema-tests.txt")));
  std::vector<PcfCase> cases;
  std::string line;
  std::string id;
  while (std::getline(in, line)) {
    if (line.rfind("// ", 0) == 0 && line.size() == 6) {
      id = line.substr(3);
      continue;
    }
    if (line.rfind("<<INPUT", 0) == 0) {
      PcfCase c;
      c.id = id;
      if (line.size() > 8) {
        c.input = line.substr(8);
      } else {
        std::string l;
        while (std::getline(in, l) && l != "INPUT") c.input += l + "\n";
      }
      cases.push_back(c);
    } else if (line.rfind("<<canonical ", 0) == 0) {
      cases.back().canonical = line.substr(12);
    } else if (line.rfind("<<fingerprint ", 0) == 0) {
      cases.back().has_fingerprint = true;
      cases.back().fingerprint = std::stoll(line.substr(14));
    }
  }
  return cases;
}

TEST(SchemaTest, CanonicalFormAndFingerprintVectors) {
  std::vector<PcfCase> cases = LoadPcfCases();
  ASSERT_EQ(cases.size(), 34u);  // 000..033
  int fingerprints = 0;
  for (const PcfCase& c : cases) {
    SCOPED_TRACE("case " + c.id + ": " + c.input);
    Result<Schema> s = ParseSchema(c.input);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->CanonicalForm(), c.canonical);
    EXPECT_EQ(s->root().CanonicalForm(), c.canonical);
    if (c.has_fingerprint) {
      ++fingerprints;
      EXPECT_EQ(s->Fingerprint64(), static_cast<uint64_t>(c.fingerprint));
      EXPECT_EQ(Crc64Avro(c.canonical), static_cast<uint64_t>(c.fingerprint));
    }
    // The PCF is itself a schema with the same PCF.
    Result<Schema> again = ParseSchema(s->CanonicalForm());
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->CanonicalForm(), c.canonical);
    // Full JSON output parses back to the same PCF.
    Result<Schema> printed = ParseSchema(s->ToJson());
    ASSERT_TRUE(printed.ok()) << s->ToJson() << " " << printed.status().ToString();
    EXPECT_EQ(printed->CanonicalForm(), c.canonical);
  }
  EXPECT_GE(fingerprints, 20);
}

TEST(SchemaTest, Crc64AvroKnownValues) {
  EXPECT_EQ(Crc64Avro(""), 0xc15d213aa4d7a795ull);
  EXPECT_EQ(Crc64Avro("\"null\""), 0x63dd24e7cc258f8aull);
  EXPECT_EQ(Crc64Avro("\"int\""), 0x7275d51a3f395c8full);
  EXPECT_EQ(Crc64Avro("\"string\""), 0x8f014872634503c7ull);
  Result<Schema> s = ParseSchema("\"int\"");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ToHex(s->Fingerprint64Bytes()), "8f5c393f1ad57572");
}

TEST(SchemaTest, Md5AndSha256Fingerprints) {
  // python3-avro's FINGERPRINT_EXAMPLES for "int".
  Result<Schema> s = ParseSchema("{\"type\": \"int\"}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ToHex(s->FingerprintMd5()), "ef524ea1b91e73173d938ade36c1db32");
  std::string sha = ToHex(s->FingerprintSha256());
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(sha, "3f2b87a9fe7cc9b13835598c3981cd45e3e355309e5090aa0933d7becb6fba45");
  EXPECT_EQ(ToHex(Md5Digest("")), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(SchemaTest, SingleObjectVectorFingerprint) {
  Result<Schema> s = ParseSchema(ReadFile(TestData("avro/data/messageV1/test_schema.avsc")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->Fingerprint64(), 0x3df542a2f8e12da9ull);
}

TEST(SchemaTest, InteropSchemaParses) {
  Result<Schema> s = ParseSchema(ReadFile(TestData("avro/schemas/interop.avsc")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Node& r = s->root();
  EXPECT_EQ(r.fullname(), "org.apache.avro.Interop");
  const Field* rec = r.FindField("recordField");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->type->fullname(), "org.apache.avro.Node");
  // Recursive: children is array<Node> pointing back at the same node.
  const Field* children = rec->type->FindField("children");
  ASSERT_NE(children, nullptr);
  EXPECT_EQ(&children->type->items(), rec->type);
  Result<Schema> again = ParseSchema(s->ToJson(true));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->CanonicalForm(), s->CanonicalForm());
  // Oracle: python3-avro 1.11.1 to_canonical_json() with compact separators.
  EXPECT_EQ(s->CanonicalForm(),
            R"({"name":"org.apache.avro.Interop","type":"record","fields":[{"name":"intField",)"
            R"("type":"int"},{"name":"longField","type":"long"},{"name":"stringField","type":)"
            R"("string"},{"name":"boolField","type":"boolean"},{"name":"floatField","type":)"
            R"("float"},{"name":"doubleField","type":"double"},{"name":"bytesField","type":)"
            R"("bytes"},{"name":"nullField","type":"null"},{"name":"arrayField","type":{"type":)"
            R"("array","items":"double"}},{"name":"mapField","type":{"type":"map","values":)"
            R"({"name":"org.apache.avro.Foo","type":"record","fields":[{"name":"label","type":)"
            R"("string"}]}}},{"name":"unionField","type":["boolean","double",{"type":"array",)"
            R"("items":"bytes"}]},{"name":"enumField","type":{"name":"org.apache.avro.Kind",)"
            R"("type":"enum","symbols":["A","B","C"]}},{"name":"fixedField","type":{"name":)"
            R"("org.apache.avro.MD5","type":"fixed","size":16}},{"name":"recordField","type":)"
            R"({"name":"org.apache.avro.Node","type":"record","fields":[{"name":"label","type":)"
            R"("string"},{"name":"children","type":{"type":"array","items":)"
            R"("org.apache.avro.Node"}}]}}]})");
}

TEST(SchemaTest, InvalidSchemas) {
  const char* kBad[] = {
      // From avro-cpp basicSchemaErrors.
      R"({"type":"record","name":"LongList"})",
      R"({"type":"record","name":"LongList","fields":"hi"})",
      R"({"type":"record","name":"LongList","fields":[{"name":"value","type":"long"},)"
      R"({"name":"next","type":["LongListA","null"]}]})",
      R"({"type":"enum","name":"Status","symbols":"Normal Caution Critical"})",
      R"({"type":"enum","name":[0,1,1,2,3,5,8],"symbols":["Golden","Mean"]})",
      R"({"type":"enum","symbols":["I","will","fail","no","name"]})",
      R"({"type":"enum","name":"Test","symbols":["AA","AA"]})",
      R"(["int","int"])",
      R"([{"type":"array","items":"int"},{"type":"array","items":"string"}])",
      R"([{"type":"map","values":"int"},{"type":"map","values":"string"}])",
      R"({"type":"fixed","name":"MyFixed"})",
      R"({"type":"fixed","size":314})",
      R"({"type":"record","name":"r","fields":[{"name":"f","type":"double","default":null}]})",
      R"({"type":"record","name":"r","fields":[{"name":"f","type":"double","default":"s"}]})",
      // More.
      "",
      "{",
      "42",
      "\"nosuchtype\"",
      R"({"type":"nosuch"})",
      R"({"name":"x"})",
      R"(["int",["string"]])",
      R"({"type":"array"})",
      R"({"type":"map"})",
      R"({"type":"record","name":"1bad","fields":[]})",
      R"({"type":"record","name":"r","namespace":"a..b","fields":[]})",
      R"({"type":"record","name":"int","fields":[]})",
      R"({"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]})",
      R"({"type":"record","name":"r","fields":[{"name":"a"}]})",
      R"({"type":"record","name":"r","fields":[{"name":"a","type":"int","order":"up"}]})",
      R"({"type":"enum","name":"e","symbols":["A","B"],"default":"C"})",
      R"({"type":"enum","name":"e","symbols":["A-B"]})",
      R"({"type":"fixed","name":"f","size":-1})",
      R"({"type":"fixed","name":"f","size":1.5})",
      R"({"type":"fixed","name":"f","size":"4"})",
      R"([{"type":"fixed","name":"f","size":1},{"type":"fixed","name":"f","size":2}])",
      R"({"type":"record","name":"r","fields":[{"name":"a","type":{"type":"fixed","name":"r","size":1}}]})",
  };
  for (const char* text : kBad) {
    Result<Schema> s = ParseSchema(text);
    EXPECT_FALSE(s.ok()) << "accepted: " << text;
    if (!s.ok()) {
      EXPECT_TRUE(s.status().IsInvalidArgument()) << s.status().ToString();
    }
  }
}

TEST(SchemaTest, ErrorMessageNamesLocation) {
  Result<Schema> s = ParseSchema(
      R"({"type":"record","name":"R","namespace":"x","fields":[{"name":"b","type":"Foo"}]})");
  ASSERT_FALSE(s.ok());
  std::string msg(s.status().message());
  EXPECT_NE(msg.find("field 'b'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'x.R'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'Foo'"), std::string::npos) << msg;
}

TEST(SchemaTest, ValidSchemasAndAccessors) {
  const char* kGood[] = {
      "[]",
      R"({"type":"record","name":"r","fields":[]})",
      R"({"type":"error","name":"r","fields":[]})",
      R"({"type":"fixed","name":"f","size":0})",
      R"(["null",{"type":"fixed","name":"a","size":1},{"type":"fixed","name":"b","size":1}])",
      R"({"type":"record","name":"record","fields":[{"name":"a","type":"record"}, )"
      R"({"name":"m","type":{"type":"map","values":"long"}}]})",
      R"({"type":{"type":"int"}})",
  };
  for (const char* text : kGood) {
    Result<Schema> s = ParseSchema(text);
    EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  }
}

TEST(SchemaTest, NamespacesAndFullnames) {
  Result<Schema> s = ParseSchema(R"({
    "type":"record","name":"Outer","namespace":"a.b",
    "aliases":["Old","z.Older"],
    "fields":[
      {"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},
      {"name":"f","type":{"type":"fixed","name":"c.F","size":2}},
      {"name":"g","type":{"type":"record","name":"G","namespace":"","fields":[
         {"name":"h","type":{"type":"fixed","name":"H","size":1}}]}},
      {"name":"e2","type":"E"},
      {"name":"e3","type":"a.b.E"},
      {"name":"f2","type":"c.F"},
      {"name":"h2","type":"H"}
    ]})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Node& r = s->root();
  EXPECT_EQ(r.fullname(), "a.b.Outer");
  EXPECT_EQ(r.name(), "Outer");
  EXPECT_EQ(r.name_space(), "a.b");
  EXPECT_EQ(r.aliases(), (std::vector<std::string>{"a.b.Old", "z.Older"}));
  EXPECT_EQ(r.FindField("e")->type->fullname(), "a.b.E");
  EXPECT_EQ(r.FindField("f")->type->fullname(), "c.F");
  EXPECT_EQ(r.FindField("f")->type->name_space(), "c");
  EXPECT_EQ(r.FindField("g")->type->fullname(), "G");
  EXPECT_EQ(r.FindField("g")->type->fields()[0].type->fullname(), "H");
  EXPECT_EQ(r.FindField("e2")->type, r.FindField("e")->type);
  EXPECT_EQ(r.FindField("e3")->type, r.FindField("e")->type);
  EXPECT_EQ(r.FindField("f2")->type, r.FindField("f")->type);
  EXPECT_EQ(r.FindField("h2")->type->fullname(), "H");
  EXPECT_NE(s->FindNamed("a.b.E"), nullptr);
  EXPECT_EQ(s->FindNamed("E"), nullptr);
  EXPECT_EQ(s->CanonicalForm(),
            R"({"name":"a.b.Outer","type":"record","fields":[)"
            R"({"name":"e","type":{"name":"a.b.E","type":"enum","symbols":["X"]}},)"
            R"({"name":"f","type":{"name":"c.F","type":"fixed","size":2}},)"
            R"({"name":"g","type":{"name":"G","type":"record","fields":[)"
            R"({"name":"h","type":{"name":"H","type":"fixed","size":1}}]}},)"
            R"({"name":"e2","type":"a.b.E"},{"name":"e3","type":"a.b.E"},)"
            R"({"name":"f2","type":"c.F"},{"name":"h2","type":"H"}]})");
  // Printing keeps the names resolvable (namespace reset to "" for G).
  Result<Schema> again = ParseSchema(s->ToJson());
  ASSERT_TRUE(again.ok()) << s->ToJson() << " " << again.status().ToString();
  EXPECT_EQ(again->CanonicalForm(), s->CanonicalForm());
}

TEST(SchemaTest, RecursiveTypes) {
  Result<Schema> s = ParseSchema(R"({"type":"record","name":"LongList","fields":[
      {"name":"value","type":"long"},
      {"name":"next","type":["null","LongList"]}]})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Node& r = s->root();
  EXPECT_EQ(r.fields()[1].type->branches()[1], &r);
  EXPECT_EQ(s->CanonicalForm(),
            R"({"name":"LongList","type":"record","fields":[{"name":"value","type":"long"},)"
            R"({"name":"next","type":["null","LongList"]}]})");
  EXPECT_EQ(r.min_encoded_size(), 2u);
  // The shared root keeps the schema alive after the Schema goes away.
  NodePtr root;
  {
    Result<Schema> t = ParseSchema(s->ToJson());
    ASSERT_TRUE(t.ok());
    root = t->root_ptr();
  }
  EXPECT_EQ(root->fullname(), "LongList");
  EXPECT_EQ(root->fields()[1].type->branches()[1], root.get());
}

TEST(SchemaTest, FieldAttributes) {
  Result<Schema> s = ParseSchema(R"({"type":"record","name":"R","fields":[
      {"name":"a","type":"int","doc":"the a","default":7,"order":"descending",
       "aliases":["x","y"],"custom":{"k":1}},
      {"name":"b","type":["null","string"],"default":null,"order":"ignore"},
      {"name":"c","type":"string"}]})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Node& r = s->root();
  ASSERT_EQ(r.fields().size(), 3u);
  const Field& a = r.fields()[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.doc, "the a");
  EXPECT_TRUE(a.has_default);
  EXPECT_EQ(a.default_json, Json(7));
  EXPECT_EQ(a.default_binary, std::string("\x0e", 1));
  EXPECT_EQ(a.order, SortOrder::kDescending);
  EXPECT_EQ(a.aliases, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(a.props["custom"]["k"], 1);
  const Field& b = r.fields()[1];
  EXPECT_TRUE(b.has_default);
  EXPECT_TRUE(b.default_json.is_null());
  EXPECT_EQ(b.default_binary, std::string("\x00", 1));
  EXPECT_EQ(b.order, SortOrder::kIgnore);
  EXPECT_FALSE(r.fields()[2].has_default);
  EXPECT_EQ(r.FindField("c")->index, 2u);
  EXPECT_EQ(r.FindField("zz"), nullptr);
  // Full JSON keeps everything.
  Result<Schema> again = ParseSchema(s->ToJson());
  ASSERT_TRUE(again.ok());
  const Field& a2 = again->root().fields()[0];
  EXPECT_EQ(a2.doc, "the a");
  EXPECT_EQ(a2.default_json, Json(7));
  EXPECT_EQ(a2.order, SortOrder::kDescending);
  EXPECT_EQ(a2.aliases, a.aliases);
  EXPECT_EQ(a2.props, a.props);
}

TEST(SchemaTest, DefaultsValidated) {
  struct Case {
    const char* type;
    const char* def;
    bool ok;
  };
  const Case kCases[] = {
      {R"("null")", "null", true},
      {R"("null")", "0", false},
      {R"("boolean")", "true", true},
      {R"("boolean")", "1", false},
      {R"("int")", "2147483647", true},
      {R"("int")", "2147483648", false},
      {R"("int")", "1.5", false},
      {R"("int")", "\"1\"", false},
      {R"("long")", "-9223372036854775808", true},
      {R"("long")", "9223372036854775808", false},
      {R"("float")", "1", true},
      {R"("double")", "1.5e300", true},
      {R"("double")", "\"NaN\"", true},
      {R"("double")", "null", false},
      {R"("bytes")", R"("\u00ff\u0000a")", true},
      {R"("bytes")", R"("\u0100")", false},
      {R"("string")", R"("héllo")", true},
      {R"("string")", "1", false},
      {R"({"type":"fixed","name":"F","size":2})", R"("ab")", true},
      {R"({"type":"fixed","name":"F","size":2})", R"("abc")", false},
      {R"({"type":"enum","name":"E","symbols":["A","B"]})", R"("B")", true},
      {R"({"type":"enum","name":"E","symbols":["A","B"]})", R"("C")", false},
      {R"({"type":"array","items":"int"})", "[1,2,3]", true},
      {R"({"type":"array","items":"int"})", "[1,\"2\"]", false},
      {R"({"type":"map","values":"long"})", R"({"a":1,"b":2})", true},
      {R"({"type":"map","values":"long"})", "[]", false},
      {R"(["null","int"])", "null", true},
      {R"(["null","int"])", "1", false},  // must match the first branch
      {R"(["int","null"])", "1", true},
      {R"(["int","null"])", R"({"int":1})", false},
      {R"({"type":"record","name":"S","fields":[{"name":"x","type":"int"},)"
       R"({"name":"y","type":"string","default":"d"}]})",
       R"({"x":1})", true},
      {R"({"type":"record","name":"S","fields":[{"name":"x","type":"int"}]})", "{}", false},
      {R"({"type":"int","logicalType":"date"})", "0", true},
  };
  for (const Case& c : kCases) {
    std::string text = std::string(R"({"type":"record","name":"R","fields":[{"name":"f","type":)") +
                       c.type + R"(,"default":)" + c.def + "}]}";
    Result<Schema> s = ParseSchema(text);
    EXPECT_EQ(s.ok(), c.ok) << text << " " << s.status().ToString();
  }
  // Avro 1.12: any branch when asked.
  ParseOptions any;
  any.union_default_any_branch = true;
  Result<Schema> s =
      ParseSchema(R"({"type":"record","name":"R","fields":[{"name":"f","type":["null","int"],)"
                  R"("default":5}]})",
                  any);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->root().fields()[0].default_binary, std::string("\x02\x0a", 2));
}

TEST(SchemaTest, RecursiveDefaultDoesNotLoop) {
  Result<Schema> s = ParseSchema(R"({"type":"record","name":"R","fields":[
      {"name":"a","type":"R","default":{}}]})");
  EXPECT_FALSE(s.ok());
}

TEST(SchemaTest, LogicalTypes) {
  struct Case {
    const char* schema;
    LogicalType expected;
  };
  const Case kCases[] = {
      {R"({"type":"bytes","logicalType":"decimal","precision":9,"scale":2})",
       LogicalType::kDecimal},
      {R"({"type":"bytes","logicalType":"decimal","precision":9})", LogicalType::kDecimal},
      {R"({"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":9})",
       LogicalType::kDecimal},
      {R"({"type":"string","logicalType":"uuid"})", LogicalType::kUuid},
      {R"({"type":"fixed","name":"U","size":16,"logicalType":"uuid"})", LogicalType::kUuid},
      {R"({"type":"int","logicalType":"date"})", LogicalType::kDate},
      {R"({"type":"int","logicalType":"time-millis"})", LogicalType::kTimeMillis},
      {R"({"type":"long","logicalType":"time-micros"})", LogicalType::kTimeMicros},
      {R"({"type":"long","logicalType":"timestamp-millis"})", LogicalType::kTimestampMillis},
      {R"({"type":"long","logicalType":"timestamp-micros"})", LogicalType::kTimestampMicros},
      {R"({"type":"long","logicalType":"timestamp-nanos"})", LogicalType::kTimestampNanos},
      {R"({"type":"long","logicalType":"local-timestamp-millis"})",
       LogicalType::kLocalTimestampMillis},
      {R"({"type":"long","logicalType":"local-timestamp-micros"})",
       LogicalType::kLocalTimestampMicros},
      {R"({"type":"long","logicalType":"local-timestamp-nanos"})",
       LogicalType::kLocalTimestampNanos},
      {R"({"type":"fixed","name":"Dur","size":12,"logicalType":"duration"})",
       LogicalType::kDuration},
      {R"({"type":"bytes","logicalType":"big-decimal"})", LogicalType::kBigDecimal},
      // Malformed: degrade to the base type.
      {R"({"type":"bytes","logicalType":"decimal"})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":0})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":-1})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":"5"})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":2,"scale":3})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":2,"scale":-1})", LogicalType::kNone},
      {R"({"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":10})",
       LogicalType::kNone},
      {R"({"type":"string","logicalType":"decimal","precision":5})", LogicalType::kNone},
      {R"({"type":"fixed","name":"U","size":15,"logicalType":"uuid"})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"uuid"})", LogicalType::kNone},
      {R"({"type":"long","logicalType":"date"})", LogicalType::kNone},
      {R"({"type":"int","logicalType":"time-micros"})", LogicalType::kNone},
      {R"({"type":"int","logicalType":"timestamp-millis"})", LogicalType::kNone},
      {R"({"type":"fixed","name":"Dur","size":8,"logicalType":"duration"})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"big-decimal","precision":3})", LogicalType::kNone},
      {R"({"type":"int","logicalType":"nonexistent"})", LogicalType::kNone},
  };
  for (const Case& c : kCases) {
    Result<Schema> s = ParseSchema(c.schema);
    ASSERT_TRUE(s.ok()) << c.schema << " " << s.status().ToString();
    EXPECT_EQ(s->root().logical_type(), c.expected) << c.schema;
    // The logical type never changes the canonical form.
    std::string base(TypeName(s->root().type()));
    if (!s->root().is_named()) {
      EXPECT_EQ(s->CanonicalForm(), "\"" + base + "\"") << c.schema;
    }
    // Printing and reparsing keeps the logical type (or the degraded attrs).
    Result<Schema> again = ParseSchema(s->ToJson());
    ASSERT_TRUE(again.ok()) << s->ToJson();
    EXPECT_EQ(again->root().logical_type(), c.expected) << s->ToJson();
    if (c.expected == LogicalType::kNone) {
      EXPECT_TRUE(s->root().props().contains("logicalType")) << c.schema;
    }
  }
  Result<Schema> d =
      ParseSchema(R"({"type":"bytes","logicalType":"decimal","precision":9,"scale":2})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->root().precision(), 9);
  EXPECT_EQ(d->root().scale(), 2);
  EXPECT_TRUE(d->root().props().empty());
  // Max precision of fixed(n) is floor(log10(2^(8n-1) - 1)): 2 for n=1, 38 for n=16.
  EXPECT_EQ(ParseSchema(R"({"type":"fixed","name":"a","size":1,"logicalType":"decimal",)"
                        R"("precision":2})")
                ->root()
                .logical_type(),
            LogicalType::kDecimal);
  EXPECT_EQ(ParseSchema(R"({"type":"fixed","name":"a","size":1,"logicalType":"decimal",)"
                        R"("precision":3})")
                ->root()
                .logical_type(),
            LogicalType::kNone);
  EXPECT_EQ(ParseSchema(R"({"type":"fixed","name":"a","size":16,"logicalType":"decimal",)"
                        R"("precision":38})")
                ->root()
                .logical_type(),
            LogicalType::kDecimal);
  EXPECT_EQ(ParseSchema(R"({"type":"fixed","name":"a","size":16,"logicalType":"decimal",)"
                        R"("precision":39})")
                ->root()
                .logical_type(),
            LogicalType::kNone);
}

TEST(SchemaTest, CustomPropertiesSurvive) {
  const char* text = R"({"type":"record","name":"R","zeta":1,"alpha":{"x":[1,2]},"fields":[)"
                     R"({"name":"f","type":{"type":"string","avro.java.string":"String"}}]})";
  Result<Schema> s = ParseSchema(text);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->root().props().size(), 2u);
  EXPECT_EQ(s->root().props().begin().key(), "zeta");  // input order kept
  EXPECT_EQ(s->root().fields()[0].type->props()["avro.java.string"], "String");
  Result<Schema> again = ParseSchema(s->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->root().props(), s->root().props());
  EXPECT_EQ(again->ToJson(), s->ToJson());
  EXPECT_EQ(s->CanonicalForm(),
            R"({"name":"R","type":"record","fields":[{"name":"f","type":"string"}]})");
}

TEST(SchemaTest, EnumAndUnionAccessors) {
  Result<Schema> s =
      ParseSchema(R"(["null",{"type":"enum","name":"n.E","symbols":["A","B","C"],"default":"B"},)"
                  R"({"type":"array","items":"int"},"string"])");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Node& u = s->root();
  ASSERT_EQ(u.type(), Type::kUnion);
  ASSERT_EQ(u.branches().size(), 4u);
  const Node& e = *u.branches()[1];
  EXPECT_EQ(e.symbols().size(), 3u);
  EXPECT_EQ(e.SymbolIndex("C"), 2u);
  EXPECT_EQ(e.SymbolIndex("D"), std::nullopt);
  EXPECT_EQ(e.enum_default(), 1u);
  EXPECT_EQ(u.FindBranch(Type::kString), 3u);
  EXPECT_EQ(u.FindBranch(Type::kEnum, "n.E"), 1u);
  EXPECT_EQ(u.FindBranch(Type::kEnum, "n.F"), std::nullopt);
  EXPECT_EQ(u.FindBranch(Type::kMap), std::nullopt);
  EXPECT_EQ(e.JsonBranchName(), "n.E");
  EXPECT_EQ(u.branches()[2]->JsonBranchName(), "array");
  EXPECT_EQ(u.branches()[2]->items().type(), Type::kInt);
}

TEST(SchemaTest, NamedTypesFromOtherSchemas) {
  Result<Schema> dep = ParseSchema(R"({"type":"fixed","name":"com.x.Hash","size":4})");
  ASSERT_TRUE(dep.ok());
  ParseOptions o;
  o.named_types.push_back(*dep);
  Result<Schema> s = ParseSchema(
      R"({"type":"record","name":"R","namespace":"com.x","fields":[{"name":"h","type":"Hash"}]})",
      o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->root().fields()[0].type, &dep->root());
  EXPECT_FALSE(
      ParseSchema(R"({"type":"record","name":"R","fields":[{"name":"h","type":"com.x.Hash"}]})")
          .ok());
}

TEST(SchemaTest, ParseFromJsonValueAndShareNodes) {
  Json j = Json::parse(R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})");
  Result<Schema> s = ParseSchemaJson(j);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  NodePtr field_type = s->Share(s->root().fields()[0].type);
  Schema copy = *s;
  EXPECT_EQ(&copy.root(), &s->root());
  EXPECT_EQ(field_type->type(), Type::kInt);
  EXPECT_EQ(s->root().ToJson(),
            R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})");
  EXPECT_EQ(s->root().fields()[0].type->CanonicalForm(), "\"int\"");
  EXPECT_FALSE(ParseSchemaJson(Json(42)).ok());
}

TEST(SchemaTest, CanonicalFormUsesFullnamesEverywhere) {
  // A null-namespace type nested in a namespaced one: the PCF writes the
  // definition as "G" (spec: fullnames, namespace dropped), while ToJson
  // keeps "namespace": "" so that printing round-trips exactly.
  Result<Schema> s =
      ParseSchema(R"({"type":"record","name":"a.R","fields":[{"name":"g","type":{"type":"record",)"
                  R"("name":"G","namespace":"","fields":[]}}]})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->CanonicalForm(),
            R"({"name":"a.R","type":"record","fields":[{"name":"g","type":{"name":"G",)"
            R"("type":"record","fields":[]}}]})");
  EXPECT_NE(s->ToJson().find(R"("namespace":"")"), std::string::npos) << s->ToJson();
  EXPECT_EQ(ParseSchema(s->ToJson())->CanonicalForm(), s->CanonicalForm());
}

TEST(SchemaTest, DefaultSchemaIsNull) {
  Schema s;
  EXPECT_EQ(s.root().type(), Type::kNull);
  EXPECT_EQ(s.CanonicalForm(), "\"null\"");
  EXPECT_EQ(s.Fingerprint64(), 0x63dd24e7cc258f8aull);
}

TEST(SchemaTest, DeeplyNestedSchemaIsRejected) {
  std::string deep;
  for (int i = 0; i < 2000; ++i) deep += R"({"type":"array","items":)";
  deep += "\"int\"";
  for (int i = 0; i < 2000; ++i) deep += "}";
  Result<Schema> s = ParseSchema(deep);
  EXPECT_FALSE(s.ok());
  // Deep JSON anywhere (unions, props, defaults) is rejected without
  // exhausting the stack.
  std::string brackets(20000, '[');
  EXPECT_FALSE(ParseSchema(brackets).ok());
  brackets += std::string(20000, ']');
  EXPECT_FALSE(ParseSchema(brackets).ok());
  std::string deep_prop =
      R"({"type":"int","x":)" + std::string(20000, '[') + std::string(20000, ']') + "}";
  EXPECT_FALSE(ParseSchema(deep_prop).ok());
  std::string deep_default =
      R"({"type":"record","name":"R","fields":[{"name":"f","type":"int","default":)" +
      std::string(20000, '[') + std::string(20000, ']') + "}]}";
  s = ParseSchema(deep_default);
  ASSERT_FALSE(s.ok());
}

}  // namespace
}  // namespace braid::avro
