#include "views/time_bucket.h"

#include <string>

namespace braid::views {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

// Floor division (C++ division truncates toward zero).
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::string_view GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kHour:
      return "hour";
    case Granularity::kDay:
      return "day";
    case Granularity::kWeek:
      return "week";
    case Granularity::kMonth:
      return "month";
    case Granularity::kAll:
      return "all";
  }
  return "?";
}

Result<Granularity> ParseGranularity(std::string_view name) {
  for (Granularity g : {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                        Granularity::kMonth, Granularity::kAll}) {
    if (name == GranularityName(g)) return g;
  }
  return Status::InvalidArgument("unknown granularity '" + std::string(name) +
                                 "' (hour, day, week, month, all)");
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t BucketStart(Granularity g, int64_t t) {
  switch (g) {
    case Granularity::kHour:
      return FloorDiv(t, kHourMs) * kHourMs;
    case Granularity::kDay:
      return FloorDiv(t, kDayMs) * kDayMs;
    case Granularity::kWeek: {
      // 1970-01-01 was a Thursday: Monday 1969-12-29 is day -3.
      const int64_t days = FloorDiv(t, kDayMs);
      return (FloorDiv(days + 3, 7) * 7 - 3) * kDayMs;
    }
    case Granularity::kMonth: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(FloorDiv(t, kDayMs), &y, &m, &d);
      return DaysFromCivil(y, m, 1) * kDayMs;
    }
    case Granularity::kAll:
      return kAllTimeStart;
  }
  return t;
}

int64_t NextBucketStart(Granularity g, int64_t start) {
  switch (g) {
    case Granularity::kHour:
      return start + kHourMs;
    case Granularity::kDay:
      return start + kDayMs;
    case Granularity::kWeek:
      return start + 7 * kDayMs;
    case Granularity::kMonth: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(FloorDiv(start, kDayMs), &y, &m, &d);
      return (m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1)) * kDayMs;
    }
    case Granularity::kAll:
      return INT64_MAX;
  }
  return start;
}

}  // namespace braid::views
