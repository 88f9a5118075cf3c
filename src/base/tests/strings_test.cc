#include "base/strings.h"

#include <gtest/gtest.h>

namespace braid {
namespace {

TEST(StringsTest, ParseHostPort) {
  auto r = ParseHostPort("127.0.0.1:9092");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "127.0.0.1");
  EXPECT_EQ(r->port, 9092);
  EXPECT_EQ(r->ToString(), "127.0.0.1:9092");
  EXPECT_FALSE(ParseHostPort("nope").ok());
  EXPECT_FALSE(ParseHostPort("h:99999").ok());
  EXPECT_FALSE(ParseHostPort("h:").ok());
  EXPECT_FALSE(ParseHostPort("h:9x").ok());
  EXPECT_EQ(ParseHostPort("[::1]:80")->host, "::1");
  EXPECT_EQ(ParseHostPort("[::1]:80")->ToString(), "[::1]:80");
  EXPECT_EQ(ParseHostPort(":0")->host, "0.0.0.0");
}

TEST(StringsTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("%zz%2"), "%zz%2");
  EXPECT_EQ(PercentDecode("%41%61"), "Aa");
}

}  // namespace
}  // namespace braid
