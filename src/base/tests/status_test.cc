#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/clock.h"
#include "base/strong_type.h"

namespace braid {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int x) {
  RETURN_IF_ERROR(Half(x));
  return Status::OK();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::OK().ok());
  Status s = Status::Corruption("bad crc at 12");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.ToString(), "Corruption: bad crc at 12");
  EXPECT_EQ(s.WithContext("segment 0").message(), "segment 0: bad crc at 12");
  EXPECT_EQ(Status::FromErrno(ENOSPC, "write").code(), StatusCode::kResourceExhausted);
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Check(4).ok());
  EXPECT_FALSE(Check(3).ok());
  Result<int> r = Status::OK();  // misuse becomes an error, not a fake value
  EXPECT_FALSE(r.ok());
}

TEST(StrongTypeTest, ComparesAndHashes) {
  Offset a(5), b(7);
  EXPECT_LT(a, b);
  EXPECT_EQ(Offset(5), a);
  EXPECT_EQ(std::hash<Offset>()(a), std::hash<int64_t>()(5));
}

TEST(ClockTest, ManualClockAdvances) {
  ManualClock c(1000);
  c.AdvanceMillis(5);
  EXPECT_EQ(c.NowMillis(), 1005);
  EXPECT_EQ(c.MonotonicMicros(), 5000);
  EXPECT_GT(SystemClock()->NowMillis(), 1'600'000'000'000);
}

}  // namespace
}  // namespace braid
