#include "avro/single_object.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace braid::avro {
namespace {

std::string ReadFile(const std::string& rel) {
  const char* root = std::getenv("BRAID_TESTDATA");
  std::ifstream in(std::string(root ? root : "/work/shared/testdata") + "/" + rel,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SingleObjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Schema> s = ParseSchema(ReadFile("avro/data/messageV1/test_schema.avsc"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    schema_ = *s;
    message_ = ReadFile("avro/data/messageV1/test_message.bin");
    ASSERT_EQ(message_.size(), 38u);
    store_.Add(schema_);
  }
  Schema schema_;
  std::string message_;
  SchemaStore store_;
};

TEST_F(SingleObjectTest, DecodesReferenceMessage) {
  Result<SingleObjectView> view = ParseSingleObject(message_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->fingerprint, 0x3df542a2f8e12da9ull);
  EXPECT_EQ(view->body.size(), 28u);
  Result<DecodedObject> d = DecodeSingleObject(message_, store_.AsLookup());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const Datum& v = d->datum;
  EXPECT_EQ(v.FindField("id")->long_value(), 42);
  EXPECT_EQ(v.FindField("name")->bytes(), "Bill");
  ASSERT_EQ(v.FindField("tags")->items().size(), 2u);
  EXPECT_EQ(v.FindField("tags")->items()[0].bytes(), "dog_lover");
  EXPECT_EQ(v.FindField("tags")->items()[1].bytes(), "cat_hater");
  EXPECT_TRUE(d->schema.SameCanonicalForm(schema_));
}

TEST_F(SingleObjectTest, EncodesReferenceMessage) {
  const Node& r = schema_.root();
  Datum v =
      Datum::Record(r, {Datum::Long(42), Datum::String("Bill"),
                        Datum::Array({Datum::String("dog_lover"), Datum::String("cat_hater")})});
  std::string out;
  ASSERT_TRUE(EncodeSingleObject(schema_, v, &out).ok());
  EXPECT_EQ(out, message_);
  EXPECT_EQ(SingleObjectHeader(schema_), message_.substr(0, 10));
}

TEST_F(SingleObjectTest, Errors) {
  std::string bad = message_;
  bad[0] = '\xC2';
  Result<DecodedObject> d = DecodeSingleObject(bad, store_.AsLookup());
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsCorruption());
  EXPECT_NE(d.status().message().find("marker"), std::string::npos);
  bad = message_;
  bad[1] = '\x02';
  EXPECT_TRUE(DecodeSingleObject(bad, store_.AsLookup()).status().IsCorruption());
  EXPECT_TRUE(DecodeSingleObject(message_.substr(0, 9), store_.AsLookup()).status().IsCorruption());
  EXPECT_TRUE(DecodeSingleObject("", store_.AsLookup()).status().IsCorruption());
  // Unknown fingerprint.
  bad = message_;
  bad[2] ^= 1;
  d = DecodeSingleObject(bad, store_.AsLookup());
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsNotFound()) << d.status().ToString();
  // Marker checked before any lookup.
  int lookups = 0;
  SchemaLookup counting = [&](uint64_t) -> std::optional<Schema> {
    ++lookups;
    return std::nullopt;
  };
  bad = message_;
  bad[0] = 0;
  EXPECT_FALSE(DecodeSingleObject(bad, counting).ok());
  EXPECT_EQ(lookups, 0);
  // Truncated body: Corruption with an offset counted from the message start.
  d = DecodeSingleObject(message_.substr(0, 20), store_.AsLookup());
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsCorruption());
  EXPECT_NE(d.status().message().find("byte offset 1"), std::string::npos) << d.status().ToString();
  // Trailing bytes.
  EXPECT_TRUE(DecodeSingleObject(message_ + "x", store_.AsLookup()).status().IsCorruption());
}

TEST_F(SingleObjectTest, StoreLookup) {
  EXPECT_TRUE(store_.Find(schema_.Fingerprint64()).has_value());
  EXPECT_FALSE(store_.Find(1).has_value());
}

}  // namespace
}  // namespace braid::avro
