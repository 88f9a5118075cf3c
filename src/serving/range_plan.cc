#include "serving/range_plan.h"

#include <algorithm>
#include <string>

namespace braid::serving {

using views::Granularity;

views::Granularity FinestGranularity(const std::vector<Granularity>& kept) {
  Granularity finest = Granularity::kAll;
  for (Granularity g : kept) {
    if (g != Granularity::kAll && static_cast<int>(g) < static_cast<int>(finest)) finest = g;
  }
  return finest;
}

Result<RangePlan> PlanRange(const std::vector<Granularity>& kept, int64_t from, int64_t to,
                            size_t max_reads) {
  if (from >= to) return Status::InvalidArgument("the range is empty: from must be before to");
  const Granularity finest = FinestGranularity(kept);
  if (finest == Granularity::kAll) {
    return Status::InvalidArgument("the view keeps no time granularity: only all-time queries");
  }
  RangePlan plan;
  plan.from = views::BucketStart(finest, from);
  const int64_t last = views::BucketStart(finest, to - 1);
  plan.to = views::NextBucketStart(finest, last);
  plan.rounded = plan.from != from || plan.to != to;
  // Coarsest first, among those whose every bucket boundary is one of the
  // finest granularity (weeks and months do not nest: with both kept and no
  // finer one, a range is read in weeks).
  auto nests = [finest](Granularity g) {
    if (g == Granularity::kAll) return false;
    if (finest == Granularity::kHour || finest == Granularity::kDay) return true;
    return g == finest;
  };
  std::vector<Granularity> order;
  for (Granularity g : kept) {
    if (nests(g)) order.push_back(g);
  }
  std::sort(order.begin(), order.end(),
            [](Granularity a, Granularity b) { return static_cast<int>(a) > static_cast<int>(b); });
  order.erase(std::unique(order.begin(), order.end()), order.end());
  int64_t at = plan.from;
  while (at < plan.to) {
    for (Granularity g : order) {
      if (views::BucketStart(g, at) != at) continue;
      const int64_t next = views::NextBucketStart(g, at);
      if (next > plan.to) continue;
      if (plan.reads.size() == max_reads) {
        return Status::InvalidArgument("the range needs more than " + std::to_string(max_reads) +
                                       " bucket reads");
      }
      plan.reads.push_back({g, at});
      at = next;
      break;  // the finest granularity always fits: `at` is aligned to it
    }
  }
  return plan;
}

}  // namespace braid::serving
