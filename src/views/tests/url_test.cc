// normalize_url and host: the SuperWebAnalytics rules (issue 13), and
// hostile inputs.
#include "braid/url.h"

#include <gtest/gtest.h>

#include <random>

namespace braid {
namespace {

TEST(UrlTest, NormalizeUrlFollowsTheSuperWebAnalyticsRules) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // The example of the issue.
      {"HTTP://Foo.com:80/a?x=1#y", "http://foo.com/a"},
      // Scheme and host lower-cased, path case kept.
      {"hTTpS://WWW.Example.COM/Path/To/Page", "https://www.example.com/Path/To/Page"},
      // Default ports removed (80 for http, 443 for https), others kept.
      {"https://foo.com:443/a", "https://foo.com/a"},
      {"http://foo.com:443/a", "http://foo.com:443/a"},
      {"https://foo.com:80/a", "https://foo.com:80/a"},
      {"http://foo.com:8080/a", "http://foo.com:8080/a"},
      {"http://foo.com:0080/a", "http://foo.com/a"},
      {"http://foo.com:08080/a", "http://foo.com:8080/a"},
      {"http://foo.com:/a", "http://foo.com/a"},
      {"ftp://foo.com:21/a", "ftp://foo.com:21/a"},
      // Query and fragment removed; an empty path becomes "/".
      {"http://foo.com", "http://foo.com/"},
      {"http://foo.com?x=1", "http://foo.com/"},
      {"http://foo.com#top", "http://foo.com/"},
      {"http://foo.com/?x=1#y", "http://foo.com/"},
      {"http://foo.com/a#b?c", "http://foo.com/a"},
      {"http://foo.com/a/?", "http://foo.com/a/"},
      // Nothing else changes: percent escapes, dot segments, trailing slashes.
      {"http://foo.com/a%2Fb/../C/", "http://foo.com/a%2Fb/../C/"},
      {"http://foo.com//a", "http://foo.com//a"},
      // User information dropped.
      {"http://user:Secret@Foo.com/a", "http://foo.com/a"},
      {"http://a@b@Foo.com:80/", "http://foo.com/"},
      // IPv6 literals.
      {"http://[::1]:80/x", "http://[::1]/x"},
      {"http://[2001:DB8::1]:8080", "http://[2001:db8::1]:8080/"},
      // Surrounding whitespace ignored.
      {"  http://foo.com/a \n", "http://foo.com/a"},
      // Non-ASCII bytes of an IDN host are kept as they are.
      {"http://B\xC3\xBC"
       "cher.de/x",
       "http://b\xC3\xBC"
       "cher.de/x"},
      {"custom+scheme.v1://Host/x", "custom+scheme.v1://host/x"},
  };
  for (const auto& [in, want] : cases) {
    const std::optional<std::string> got = NormalizeUrl(in);
    ASSERT_TRUE(got.has_value()) << in;
    EXPECT_EQ(*got, want) << in;
    // Normalizing again changes nothing.
    EXPECT_EQ(NormalizeUrl(*got), got) << in;
  }
}

TEST(UrlTest, HostIsTheNormalizedHostWithoutPort) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"HTTP://Foo.com:80/a?x=1#y", "foo.com"},
      {"https://WWW.Example.com:8443/x", "www.example.com"},
      {"http://user@Sub.Foo.com", "sub.foo.com"},
      {"http://[2001:DB8::1]:8080/", "2001:db8::1"},
      {"http://127.0.0.1:9/", "127.0.0.1"},
  };
  for (const auto& [in, want] : cases) {
    const std::optional<std::string> got = UrlHost(in);
    ASSERT_TRUE(got.has_value()) << in;
    EXPECT_EQ(*got, want) << in;
  }
}

TEST(UrlTest, NotAUrlIsNull) {
  const std::vector<std::string> bad = {
      "",
      "   ",
      "foo.com/a",               // no scheme
      "/a/b",                    // a path
      "://foo.com/",             // empty scheme
      "1http://foo.com/",        // scheme must start with a letter
      "ht tp://foo.com/",        // space in the scheme
      "http:/foo.com",           // one slash
      "http://",                 // no host
      "http:///a",               // empty host
      "http://:80/a",            // empty host
      "http://user@/a",          // empty host after user information
      "http://foo.com:8x/",      // port not a number
      "http://foo.com:-1/",      // port not a number
      "http://foo.com:65536/",   // port out of range
      "http://foo.com:999999/",  // port out of range
      "http://foo.com:1:2/",     // two colons
      "http://fo o.com/",        // space in the host
      "http://foo\x01.com/",     // control character
      "http://foo<b>.com/",      // forbidden characters
      "http://foo\\bar.com/",
      "http://[::1/",         // unterminated IPv6 literal
      "http://[zz::1]/",      // not hex
      "http://[1.2.3.4]/",    // no colon
      "http://[::1]x/",       // text after the literal
      "http://[::1]:99999/",  // port out of range
  };
  for (const std::string& s : bad) {
    EXPECT_FALSE(NormalizeUrl(s).has_value()) << s;
    EXPECT_FALSE(UrlHost(s).has_value()) << s;
  }
  EXPECT_FALSE(NormalizeUrl("http://a.com/" + std::string(kMaxUrlBytes, 'x')).has_value());
  EXPECT_TRUE(NormalizeUrl("http://a.com/" + std::string(kMaxUrlBytes - 20, 'x')).has_value());
}

TEST(UrlTest, RandomBytesNeverCrashAndResultsAreStable) {
  std::mt19937_64 rng(17);
  const std::string alphabet = "hHtTpPsS:/?#@[]%.-_aZ09 \t\x01\xff\\<>";
  for (int i = 0; i < 200'000; ++i) {
    std::string s;
    if (i % 2 == 0) s = (i % 4 == 0) ? "http://" : "HTTPS://";
    const size_t n = rng() % 40;
    for (size_t j = 0; j < n; ++j) s += alphabet[rng() % alphabet.size()];
    const std::optional<std::string> u = NormalizeUrl(s);
    const std::optional<std::string> h = UrlHost(s);
    ASSERT_EQ(u.has_value(), h.has_value()) << s;
    if (!u) continue;
    ASSERT_EQ(NormalizeUrl(*u), u) << s;
    ASSERT_EQ(UrlHost(*u), h) << s;
    ASSERT_NE(u->find(*h), std::string::npos) << s;
    ASSERT_EQ(u->find_first_of("?#"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace braid
