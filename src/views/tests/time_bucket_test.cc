#include "views/time_bucket.h"

#include <gtest/gtest.h>

#include <random>

#include "views/cell_key.h"
#include "views/monoid.h"

namespace braid::views {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

int64_t Ms(int64_t y, unsigned m, unsigned d, int64_t h = 0) {
  return DaysFromCivil(y, m, d) * kDay + h * kHour;
}

TEST(TimeBucketTest, Boundaries) {
  // 2024-02-29 (leap day) 13:45 UTC.
  const int64_t t = Ms(2024, 2, 29, 13) + 45 * 60'000;
  EXPECT_EQ(BucketStart(Granularity::kHour, t), Ms(2024, 2, 29, 13));
  EXPECT_EQ(BucketStart(Granularity::kDay, t), Ms(2024, 2, 29));
  EXPECT_EQ(BucketStart(Granularity::kWeek, t), Ms(2024, 2, 26));  // Monday
  EXPECT_EQ(BucketStart(Granularity::kMonth, t), Ms(2024, 2, 1));
  EXPECT_EQ(NextBucketStart(Granularity::kMonth, Ms(2024, 2, 1)), Ms(2024, 3, 1));
  EXPECT_EQ(NextBucketStart(Granularity::kMonth, Ms(2023, 12, 1)), Ms(2024, 1, 1));
  EXPECT_EQ(NextBucketStart(Granularity::kWeek, Ms(2024, 2, 26)), Ms(2024, 3, 4));
  // Exactly on a boundary, and one millisecond before it.
  EXPECT_EQ(BucketStart(Granularity::kWeek, Ms(2024, 3, 4)), Ms(2024, 3, 4));
  EXPECT_EQ(BucketStart(Granularity::kWeek, Ms(2024, 3, 4) - 1), Ms(2024, 2, 26));
  EXPECT_EQ(BucketStart(Granularity::kMonth, Ms(2024, 3, 1) - 1), Ms(2024, 2, 1));
  // Before 1970: 1969-12-31 23:30 is in the week of Monday 1969-12-29.
  EXPECT_EQ(BucketStart(Granularity::kHour, -30 * 60'000), -kHour);
  EXPECT_EQ(BucketStart(Granularity::kDay, -1), -kDay);
  EXPECT_EQ(BucketStart(Granularity::kWeek, -1), Ms(1969, 12, 29));
  EXPECT_EQ(BucketStart(Granularity::kMonth, -1), Ms(1969, 12, 1));
  EXPECT_EQ(BucketStart(Granularity::kAll, 12345), kAllTimeStart);
}

TEST(TimeBucketTest, RandomTimesLieInTheirBucket) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    const int64_t t = static_cast<int64_t>(rng() % (400LL * 365 * kDay)) - 200LL * 365 * kDay;
    for (Granularity g :
         {Granularity::kHour, Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
      const int64_t s = BucketStart(g, t);
      ASSERT_LE(s, t);
      ASSERT_LT(t, NextBucketStart(g, s));
      ASSERT_EQ(BucketStart(g, s), s);
    }
    // ISO weeks start on Monday: day-of-week of the start (1970-01-01 was a Thursday).
    const int64_t days = BucketStart(Granularity::kWeek, t) / kDay;
    ASSERT_EQ(((days % 7) + 7 + 3) % 7, 0);
  }
}

TEST(CellKeyTest, OrderAndRoundTrip) {
  const std::vector<std::tuple<std::string, Granularity, int64_t>> cells = {
      {"", Granularity::kHour, -5},         {"", Granularity::kHour, 7},
      {"a", Granularity::kHour, INT64_MIN}, {"a", Granularity::kHour, 0},
      {"a", Granularity::kDay, -100},       {std::string("a\0b", 3), Granularity::kHour, 1},
      {"a\1", Granularity::kHour, 1},       {"ab", Granularity::kAll, kAllTimeStart}};
  std::string prev;
  for (const auto& [k, g, t] : cells) {
    const std::string e = EncodeCellKey(k, g, t);
    EXPECT_LT(prev, e) << k;
    prev = e;
    auto d = DecodeCellKey(e);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->key, k);
    EXPECT_EQ(d->granularity, g);
    EXPECT_EQ(d->bucket_start, t);
    EXPECT_EQ(e.rfind(CellKeyPrefix(k, g), 0), 0u);
  }
  EXPECT_FALSE(DecodeCellKey("abc").ok());
  EXPECT_FALSE(DecodeCellKey(std::string("a\0\x02", 3)).ok());
}

TEST(CountMonoidTest, AssociativeWithIdentity) {
  CountMonoid m;
  std::string acc = m.Identity();
  ASSERT_TRUE(m.Merge(&acc, CountMonoid::One()).ok());
  ASSERT_TRUE(m.Merge(&acc, CountMonoid::Encode(41)).ok());
  EXPECT_EQ(*m.ToJson(acc), "42");
  EXPECT_FALSE(m.Merge(&acc, "\x02").ok());
  EXPECT_EQ(*m.ToJson(acc), "42");
}

}  // namespace
}  // namespace braid::views
