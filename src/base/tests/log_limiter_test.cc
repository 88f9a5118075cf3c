#include "base/log_limiter.h"

#include <gtest/gtest.h>

namespace braid {
namespace {

TEST(LogLimiterTest, BurstPerKeyThenCountsSuppressed) {
  ManualClock clock;
  LogLimiter limiter(3, 1000, &clock);
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Allow("bad frame 10.0.0.1", &suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Allow("bad frame 10.0.0.1", &suppressed));
  // Another key has its own budget.
  EXPECT_TRUE(limiter.Allow("bad frame 10.0.0.2", &suppressed));
  clock.AdvanceMillis(1000);
  ASSERT_TRUE(limiter.Allow("bad frame 10.0.0.1", &suppressed));
  EXPECT_EQ(suppressed, 5u);  // reported once, with the next line let through
  ASSERT_TRUE(limiter.Allow("bad frame 10.0.0.1", &suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST(LogLimiterTest, IdleKeysAreForgotten) {
  ManualClock clock;
  LogLimiter limiter(1, 100, &clock);
  uint64_t suppressed = 0;
  for (int i = 0; i < 1000; ++i) {
    clock.AdvanceMillis(1);
    EXPECT_TRUE(limiter.Allow(std::string("k").append(std::to_string(i)), &suppressed));
  }
  clock.AdvanceMillis(1000);
  EXPECT_TRUE(limiter.Allow("k0", &suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST(EscapeForLogTest, KeepsPrintableAsciiOnly) {
  EXPECT_EQ(EscapeForLog("rdkafka"), "rdkafka");
  EXPECT_EQ(EscapeForLog(std::string("a\nb\x01\\\xff", 6)), "a\\x0ab\\x01\\\\\\xff");
  EXPECT_EQ(EscapeForLog(std::string(300, 'x'), 4), "xxxx...");
}

}  // namespace
}  // namespace braid

namespace braid {
namespace {

TEST(LogLimiterTest, ManyKeysShareOneEntryBeyondTheCap) {
  LogLimiter limiter(1, 1000, nullptr, 2);
  uint64_t suppressed = 0;
  EXPECT_TRUE(limiter.Allow("a", &suppressed));
  EXPECT_TRUE(limiter.Allow("b", &suppressed));
  EXPECT_TRUE(limiter.Allow("c", &suppressed));   // as "*"
  EXPECT_FALSE(limiter.Allow("d", &suppressed));  // "*" again: over its burst
  EXPECT_FALSE(limiter.Allow("a", &suppressed));  // a's own burst is spent
}

TEST(HostOfPeerTest, StripsThePort) {
  EXPECT_EQ(HostOfPeer("127.0.0.1:9092"), "127.0.0.1");
  EXPECT_EQ(HostOfPeer("[::1]:9092"), "::1");
  EXPECT_EQ(HostOfPeer("?"), "?");
}

}  // namespace
}  // namespace braid
