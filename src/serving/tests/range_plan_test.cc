#include "serving/range_plan.h"

#include <gtest/gtest.h>

#include <random>

namespace braid::serving {
namespace {

using views::Granularity;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

int64_t Ms(int64_t y, unsigned m, unsigned d, int64_t h = 0) {
  return views::DaysFromCivil(y, m, d) * kDay + h * kHour;
}

const std::vector<Granularity> kAllFour = {Granularity::kHour, Granularity::kDay,
                                           Granularity::kWeek, Granularity::kMonth};

TEST(RangePlanTest, CoarsestInsideFinerAtTheEdges) {
  // 2024-01-30 22:00 to 2024-03-02 03:00.
  auto plan = PlanRange(kAllFour, Ms(2024, 1, 30, 22), Ms(2024, 3, 2, 3));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(plan->rounded);
  std::vector<BucketRead> want = {
      {Granularity::kHour, Ms(2024, 1, 30, 22)}, {Granularity::kHour, Ms(2024, 1, 30, 23)},
      {Granularity::kDay, Ms(2024, 1, 31)},      {Granularity::kMonth, Ms(2024, 2, 1)},
      {Granularity::kDay, Ms(2024, 3, 1)},       {Granularity::kHour, Ms(2024, 3, 2, 0)},
      {Granularity::kHour, Ms(2024, 3, 2, 1)},   {Granularity::kHour, Ms(2024, 3, 2, 2)}};
  EXPECT_EQ(plan->reads, want);
}

TEST(RangePlanTest, RoundsOutwardAndSaysSo) {
  auto plan = PlanRange(kAllFour, Ms(2024, 5, 1, 10) + 1, Ms(2024, 5, 1, 11) + 5);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->rounded);
  EXPECT_EQ(plan->from, Ms(2024, 5, 1, 10));
  EXPECT_EQ(plan->to, Ms(2024, 5, 1, 12));
  EXPECT_EQ(plan->reads.size(), 2u);
}

TEST(RangePlanTest, AYearOfDaysIsAFewReads) {
  auto plan = PlanRange(kAllFour, Ms(2023, 1, 1), Ms(2024, 1, 1));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->reads.size(), 12u);  // twelve months
  auto weeks =
      PlanRange({Granularity::kWeek, Granularity::kMonth}, Ms(2024, 1, 3), Ms(2024, 3, 20));
  ASSERT_TRUE(weeks.ok());
  for (const BucketRead& r : weeks->reads) EXPECT_EQ(r.granularity, Granularity::kWeek);
}

TEST(RangePlanTest, RandomRangesAreTiledExactly) {
  std::mt19937_64 rng(3);
  const std::vector<std::vector<Granularity>> sets = {kAllFour,
                                                      {Granularity::kDay},
                                                      {Granularity::kHour, Granularity::kMonth},
                                                      {Granularity::kDay, Granularity::kWeek},
                                                      {Granularity::kWeek, Granularity::kMonth},
                                                      {Granularity::kMonth, Granularity::kAll}};
  for (int i = 0; i < 5000; ++i) {
    const auto& kept = sets[rng() % sets.size()];
    const int64_t from = static_cast<int64_t>(rng() % (60LL * 365 * kDay)) - 30LL * 365 * kDay;
    const int64_t to = from + 1 + static_cast<int64_t>(rng() % (400LL * kDay));
    auto plan = PlanRange(kept, from, to);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ASSERT_LE(plan->from, from);
    ASSERT_GE(plan->to, to);
    int64_t at = plan->from;
    for (const BucketRead& r : plan->reads) {
      ASSERT_EQ(r.start, at);
      ASSERT_EQ(views::BucketStart(r.granularity, r.start), r.start);
      at = views::NextBucketStart(r.granularity, r.start);
    }
    ASSERT_EQ(at, plan->to);
  }
}

TEST(RangePlanTest, Errors) {
  EXPECT_FALSE(PlanRange(kAllFour, 10, 10).ok());
  EXPECT_FALSE(PlanRange({Granularity::kAll}, 0, 10).ok());
  EXPECT_FALSE(PlanRange({Granularity::kHour}, 0, 1000LL * 365 * kDay, 1000).ok());
}

}  // namespace
}  // namespace braid::serving
