// SessionTracker: the speed layer's approximation of a sessionised view
// (views/session.h) over one source partition, in the order its records
// are read. State per (view key, person): the time of the open visit's
// first event (the bucket it was counted in), its earliest and latest event
// times, and whether it has more than one event. Each event yields at most
// one delta of (visits, bounces) at the visit's start:
//
//   no state, or more than `gap` after the latest event  → +1 visit, +1 bounce
//     (a new visit, a bounce until a second event comes)
//   at most `gap` after the latest event (or inside / up to `gap` before the
//     open visit: a late event) and the visit had one event → 0, -1 (the
//     bounce is taken back), counted at the visit's first event's buckets
//   any other event of the open visit                    → nothing
//   more than `gap` before the open visit (a late event) → +1 visit, +1 bounce
//     at its own time (a separate visit as far as the state knows)
//
// Exactly the batch answer (VisitCounter) for a person whose events of a
// view key all reach this tracker, in event-time order, while their state is
// kept. Where it differs (docs/views.md "Sessionised views"):
//   * state lost: a restart, a partition handed to another process, an entry
//     evicted by `max_entries` (least recently seen first) or, if enabled,
//     expired (its latest event more than gap + late_allowance behind the
//     newest event time seen): the person's next event starts a new visit (one visit too
//     many, and a bounce too many if the true visit already had two events);
//   * a person's events on several partitions: each partition sessionises its
//     share (visits counted once per partition they touch);
//   * late events: one that would bridge two visits does not merge them;
//     one that becomes the first event of the open visit does not move the
//     visit to its bucket; one more than gap + allowance late is a new visit.
// The error lasts until the next batch run covers the events: serving
// answers batch (exact) ⊕ the deltas after the batch's cut.
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace braid::stream {

struct SessionTrackerOptions {
  // The view's session gap (ms). Required (> 0).
  int64_t gap_ms = 30 * 60 * 1000;
  // Most (view key, person) entries kept; beyond, the least recently seen
  // is evicted. Default: 200,000 (about 30 MB).
  size_t max_entries = 200'000;
  // If positive, an entry is also dropped once its latest event is more
  // than gap + late_allowance_ms behind the newest event time seen (its
  // visit is over unless later events arrive that late). Off by default:
  // one event dated in the future would expire every open visit of the
  // partition; the bound above keeps the memory. Default: 0 (off).
  int64_t late_allowance_ms = 0;
};

// What one event changes: `visits` and `bounces` at the visit's first
// event's time `visit_start_ms`. visits is 0 or 1; bounces -1, 0 or 1.
struct VisitDelta {
  bool any = false;
  int64_t visit_start_ms = 0;
  int64_t visits = 0;
  int64_t bounces = 0;
};

class SessionTracker {
 public:
  explicit SessionTracker(SessionTrackerOptions options);

  // One event of `person` under view key `key`, in the order read.
  VisitDelta Add(std::string_view key, std::string_view person, int64_t time_ms);

  size_t size() const { return index_.size(); }
  // Entries dropped by max_entries, and by expiry, so far.
  uint64_t evicted() const { return evicted_; }
  uint64_t expired() const { return expired_; }
  void Clear();

 private:
  struct Entry {
    std::string id;  // key (escaped, terminated) + person
    int64_t start = 0;
    int64_t first = 0;
    int64_t last = 0;
    bool multi = false;  // more than one event
  };
  void Expire();

  const SessionTrackerOptions options_;
  const int64_t horizon_ms_;  // gap + late allowance
  std::list<Entry> lru_;      // least recently seen first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // by Entry::id
  bool any_time_ = false;
  int64_t newest_ = 0;  // the newest event time seen
  std::string scratch_;
  uint64_t evicted_ = 0;
  uint64_t expired_ = 0;
};

}  // namespace braid::stream
