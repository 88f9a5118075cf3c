// Which buckets answer a time range: the fewest bucket reads that cover
// [from, to) exactly, coarsest buckets inside the range and finer ones at its
// edges (a year of a view kept at hour/day/month is ~12 month reads plus a
// few days and hours at the edges, not 8760 hour reads).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "views/time_bucket.h"

namespace braid::serving {

struct BucketRead {
  views::Granularity granularity;
  int64_t start = 0;  // bucket start, ms
  friend bool operator==(const BucketRead&, const BucketRead&) = default;
};

struct RangePlan {
  // The range actually answered: [from, to) rounded outward to the finest
  // granularity the view keeps.
  int64_t from = 0;
  int64_t to = 0;
  bool rounded = false;  // true if the request was not aligned
  std::vector<BucketRead> reads;
};

// Plans [from, to) over the granularities a view keeps (kAll is ignored:
// it has no range). InvalidArgument if from >= to or the view keeps no
// time granularity; at most `max_reads` reads (InvalidArgument beyond: a
// range of centuries at hour granularity).
Result<RangePlan> PlanRange(const std::vector<views::Granularity>& kept, int64_t from, int64_t to,
                            size_t max_reads = 100'000);

// The finest time granularity of `kept` (kAll if it keeps none).
views::Granularity FinestGranularity(const std::vector<views::Granularity>& kept);

}  // namespace braid::serving
