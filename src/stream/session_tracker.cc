#include "stream/session_tracker.h"

#include <algorithm>

namespace braid::stream {

namespace {

// b - a <= d for a <= b, without overflow.
bool WithinAfter(int64_t a, int64_t b, int64_t d) {
  return b >= a && static_cast<uint64_t>(b) - static_cast<uint64_t>(a) <= static_cast<uint64_t>(d);
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

}  // namespace

SessionTracker::SessionTracker(SessionTrackerOptions options)
    : options_(options),
      horizon_ms_(
          options.late_allowance_ms > 0
              ? SaturatingAdd(std::max<int64_t>(1, options.gap_ms), options.late_allowance_ms)
              : 0) {}

void SessionTracker::Clear() {
  index_.clear();
  lru_.clear();
  any_time_ = false;
  newest_ = 0;
}

VisitDelta SessionTracker::Add(std::string_view key, std::string_view person, int64_t t) {
  const int64_t gap = std::max<int64_t>(1, options_.gap_ms);
  if (!any_time_ || t > newest_) {
    newest_ = t;
    any_time_ = true;
  }
  scratch_.clear();
  for (char c : key) {
    scratch_.push_back(c);
    if (c == '\0') scratch_.push_back('\xff');
  }
  scratch_.push_back('\0');
  scratch_.push_back('\x01');
  scratch_.append(person);
  VisitDelta d;
  auto it = index_.find(std::string_view(scratch_));
  if (it == index_.end()) {
    Entry e;
    e.id = scratch_;
    e.start = e.first = e.last = t;
    lru_.push_back(std::move(e));
    auto node = std::prev(lru_.end());
    index_.emplace(std::string_view(node->id), node);
    d = {true, t, 1, 1};
  } else {
    auto node = it->second;
    lru_.splice(lru_.end(), lru_, node);  // most recently seen
    Entry& e = *node;
    if (t >= e.last) {
      if (WithinAfter(e.last, t, gap)) {
        if (!e.multi) d = {true, e.start, 0, -1};
        e.multi = true;
        e.last = t;
      } else {
        e.start = e.first = e.last = t;
        e.multi = false;
        d = {true, t, 1, 1};
      }
    } else if (t >= e.first || WithinAfter(t, e.first, gap)) {
      // Late, inside the open visit or up to a gap before it.
      if (!e.multi) d = {true, e.start, 0, -1};
      e.multi = true;
      e.first = std::min(e.first, t);
    } else {
      // Late, more than a gap before the open visit: a visit of its own.
      d = {true, t, 1, 1};
    }
  }
  Expire();
  return d;
}

void SessionTracker::Expire() {
  while (index_.size() > std::max<size_t>(1, options_.max_entries)) {
    index_.erase(std::string_view(lru_.front().id));
    lru_.pop_front();
    ++evicted_;
  }
  // Least recently seen first: stop at the first entry still in reach.
  while (horizon_ms_ > 0 && !lru_.empty()) {
    const Entry& e = lru_.front();
    if (e.last >= newest_ || WithinAfter(e.last, newest_, horizon_ms_)) break;
    index_.erase(std::string_view(e.id));
    lru_.pop_front();
    ++expired_;
  }
}

}  // namespace braid::stream
