// Event-time buckets of a view: hour, day, ISO week (Monday 00:00 UTC),
// calendar month (UTC) and all time. Every bucket is identified by its start,
// in milliseconds since the epoch (UTC); times of any year (before 1970
// included) are bucketed.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace braid::views {

// Serialized (cell keys, manifests): the values must not change.
enum class Granularity : uint8_t {
  kHour = 0,
  kDay = 1,
  kWeek = 2,   // ISO week: starts Monday 00:00 UTC
  kMonth = 3,  // calendar month, UTC
  kAll = 4,    // one bucket for all time, start kAllTimeStart
};

inline constexpr int64_t kAllTimeStart = INT64_MIN;

// "hour", "day", "week", "month", "all".
std::string_view GranularityName(Granularity g);
// The inverse of GranularityName; InvalidArgument otherwise.
Result<Granularity> ParseGranularity(std::string_view name);

// The start of the bucket of granularity `g` holding time `t_ms`.
int64_t BucketStart(Granularity g, int64_t t_ms);
// The start of the bucket after the one starting at `start_ms` (a bucket
// start of `g`). For kAll: INT64_MAX.
int64_t NextBucketStart(Granularity g, int64_t start_ms);

// Days since 1970-01-01 of a proleptic Gregorian civil date, and back
// (H. Hinnant's algorithms; exact for every int32 year).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

}  // namespace braid::views
