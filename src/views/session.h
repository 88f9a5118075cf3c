// Sessionised views (a view file's `session: {by: EXPR, gap: 30m}`): per
// view key (e.g. a domain), the visits and bounces of the people (the `by`
// expression) who saw it:
//
//   a person's events of one view key, ordered by event time, form one visit
//   while consecutive events are at most `gap` apart (a gap of exactly `gap`
//   continues the visit; more than `gap` starts a new one); a visit of exactly
//   one event is a bounce. A visit belongs to the buckets (every granularity
//   the view keeps) of its first event's time.
//
// The value of a cell is an element of the monoid
// tuple(visits:count,bounces:sum_int64) (VisitsMonoidSpec; JSON
// {"visits": V, "bounces": B}). The batch layer computes it exactly with a
// secondary sort (key = view key, sort key = (by, time): VisitCounter over
// each view key's events); the speed layer approximates the part after the
// batch cut with bounded per-partition state and signed deltas (a visit's
// second event turns its bounce back: bounces -1), which is why bounces is a
// signed sum (stream/session_tracker.h, docs/views.md "Sessionised views").
//
// For a sessionised view, ViewDefinition::Map emits one Emit per event with
// `value` = the text of the `by` expression (NOT a monoid element): only
// engines that know sessions may run such a view (the batch view job, the
// speed layer's view topology); the Hadoop Streaming driver refuses them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "views/monoid.h"
#include "views/time_bucket.h"

namespace braid::views {

// What a sessionised view declares.
struct SessionSpec {
  // The expression whose text identifies a person (for listings; the view
  // evaluates it).
  std::string by;
  // Consecutive events at most this far apart (ms) are one visit; 1 ms ..
  // kMaxSessionGapMs.
  int64_t gap_ms = 30 * 60 * 1000;
};

inline constexpr int64_t kMaxSessionGapMs = int64_t{30} * 24 * 3600 * 1000;  // 30 days

// A duration: digits with a unit `ms`, `s`, `m`, `h` or `d` (`30m`, `1800s`,
// `1h`), or bare digits (milliseconds). InvalidArgument otherwise (naming
// the accepted forms), and for 0, negative or more than 30 days.
Result<int64_t> ParseSessionGap(std::string_view text);
// The shortest exact form: "30m", "90s", "1500ms", "2h", "1d".
std::string FormatDuration(int64_t ms);

// tuple(visits:count,bounces:sum_int64): the monoid of every sessionised
// view.
const MonoidSpec& VisitsMonoidSpec();
// The element (visits, bounces) of VisitsMonoidSpec; bounces may be negative
// (a speed-layer correction).
std::string EncodeVisits(uint64_t visits, int64_t bounces);
// The inverse; Corruption for anything EncodeVisits did not produce.
Result<std::pair<uint64_t, int64_t>> DecodeVisits(std::string_view encoded);

// The secondary sort key of an event of person `by` at `time_ms`: `by` with
// every 0x00 written as 0x00 0xFF, the terminator 0x00 0x01, then the time
// as 8 big-endian bytes with the sign bit flipped. Bytewise order = (by
// bytewise, time numerically); equal `by` iff equal by parts.
void AppendSessionSortKey(std::string_view by, int64_t time_ms, std::string* out);
// Splits a sort key into its by part (the escaped person and terminator:
// compare for equality only) and time. Corruption if it is not one.
Status SplitSessionSortKey(std::string_view sort_key, std::string_view* by_part, int64_t* time_ms);

// Visits and bounces of one cell.
struct VisitStats {
  uint64_t visits = 0;
  uint64_t bounces = 0;
  bool operator==(const VisitStats&) const = default;
};

// The exact sessionisation of one view key's events, fed in (person, time)
// order (the batch reducer's secondary sort). Memory: the view key's cells
// only, whatever the number of events.
class VisitCounter {
 public:
  VisitCounter(int64_t gap_ms, std::vector<Granularity> granularities);

  // One event. `person` identifies the person (compared for equality only);
  // events must come in nondecreasing (person, time) order, people
  // contiguous: InvalidArgument otherwise (detected for a time going back
  // within one person).
  Status Add(std::string_view person, int64_t time_ms);
  // Closes the open visit (if any); Add may start a new key's count after
  // Clear().
  void Finish();
  // (granularity, bucket start) → visits and bounces, after Finish.
  const std::map<std::pair<Granularity, int64_t>, VisitStats>& cells() const { return cells_; }
  uint64_t visits() const { return visits_; }
  uint64_t bounces() const { return bounces_; }
  void Clear();

 private:
  void CloseVisit();

  const int64_t gap_ms_;
  const std::vector<Granularity> granularities_;
  std::map<std::pair<Granularity, int64_t>, VisitStats> cells_;
  std::string person_;
  bool open_ = false;
  int64_t visit_start_ = 0;
  int64_t last_ = 0;
  uint64_t events_ = 0;  // of the open visit
  uint64_t visits_ = 0;
  uint64_t bounces_ = 0;
};

}  // namespace braid::views
