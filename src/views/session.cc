#include "views/session.h"

#include <charconv>

#include "base/coding.h"

namespace braid::views {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t ms;
};
// Longest suffixes first ("ms" before "s").
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};

}  // namespace

Result<int64_t> ParseSessionGap(std::string_view text) {
  const std::string_view original = text;
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("gap \"" + std::string(original) + "\": " + std::string(why) +
                                   " (a duration like 30m, 1800s, 1h or 1800000ms; 1 ms .. 30 d)");
  };
  int64_t unit = 1;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      text.remove_suffix(u.suffix.size());
      unit = u.ms;
      break;
    }
  }
  if (text.empty()) return bad("no number");
  for (char c : text) {
    if (c < '0' || c > '9') return bad("not a duration");
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size()) return bad("out of range");
  if (n == 0) return bad("must be positive");
  if (n > kMaxSessionGapMs / unit) return bad("more than 30 days");
  return n * unit;
}

std::string FormatDuration(int64_t ms) {
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (ms != 0 && ms % it->ms == 0) return std::to_string(ms / it->ms) + std::string(it->suffix);
  }
  return std::to_string(ms) + "ms";
}

const MonoidSpec& VisitsMonoidSpec() {
  static const MonoidSpec spec = [] {
    MonoidSpec s;
    s.kind = MonoidSpec::Kind::kTuple;
    MonoidSpec count;
    count.kind = MonoidSpec::Kind::kCount;
    MonoidSpec sum;
    sum.kind = MonoidSpec::Kind::kSumInt64;
    s.fields.push_back({"visits", count});
    s.fields.push_back({"bounces", sum});
    return s;
  }();
  return spec;
}

std::string EncodeVisits(uint64_t visits, int64_t bounces) {
  // The tuple encoding (monoid.cc): tag, field count, then per field its
  // length and encoding (count: tag 0x01 + varint; sum_int64: tag 0x02 +
  // zig-zag varint).
  std::string count(1, static_cast<char>(MonoidTag::kCount));
  coding::PutVarint64(&count, visits);
  std::string sum(1, static_cast<char>(MonoidTag::kSumInt64));
  coding::PutZigZag64(&sum, bounces);
  std::string out(1, static_cast<char>(MonoidTag::kTuple));
  coding::PutVarint64(&out, 2);
  coding::PutVarint64(&out, count.size());
  out += count;
  coding::PutVarint64(&out, sum.size());
  out += sum;
  return out;
}

Result<std::pair<uint64_t, int64_t>> DecodeVisits(std::string_view e) {
  const auto corrupt = [] {
    return Status::Corruption("not a tuple(visits:count,bounces:sum_int64) encoding");
  };
  const char* p = e.data();
  const char* end = p + e.size();
  uint64_t n = 0;
  if (p == end || static_cast<uint8_t>(*p++) != static_cast<uint8_t>(MonoidTag::kTuple)) {
    return corrupt();
  }
  if ((p = coding::GetVarint64(p, end, &n)) == nullptr || n != 2) return corrupt();
  std::pair<uint64_t, int64_t> out;
  for (int field = 0; field < 2; ++field) {
    uint64_t len = 0;
    if ((p = coding::GetVarint64(p, end, &len)) == nullptr) return corrupt();
    if (len < 2 || len > static_cast<uint64_t>(end - p)) return corrupt();
    const char* fend = p + len;
    const auto tag = static_cast<uint8_t>(*p++);
    if (field == 0) {
      if (tag != static_cast<uint8_t>(MonoidTag::kCount)) return corrupt();
      p = coding::GetVarint64(p, fend, &out.first);
    } else {
      if (tag != static_cast<uint8_t>(MonoidTag::kSumInt64)) return corrupt();
      p = coding::GetZigZag64(p, fend, &out.second);
    }
    if (p != fend) return corrupt();
  }
  if (p != end) return corrupt();
  return out;
}

void AppendSessionSortKey(std::string_view by, int64_t time_ms, std::string* out) {
  for (char c : by) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
  coding::PutBigEndian64(out, static_cast<uint64_t>(time_ms) ^ (uint64_t{1} << 63));
}

Status SplitSessionSortKey(std::string_view sort_key, std::string_view* by_part, int64_t* time_ms) {
  if (sort_key.size() < 10 || sort_key[sort_key.size() - 10] != '\0' ||
      sort_key[sort_key.size() - 9] != '\x01') {
    return Status::Corruption("not a session sort key");
  }
  *by_part = sort_key.substr(0, sort_key.size() - 8);
  *time_ms = static_cast<int64_t>(coding::DecodeBigEndian64(sort_key.data() + sort_key.size() - 8) ^
                                  (uint64_t{1} << 63));
  return Status::OK();
}

VisitCounter::VisitCounter(int64_t gap_ms, std::vector<Granularity> granularities)
    : gap_ms_(gap_ms), granularities_(std::move(granularities)) {}

Status VisitCounter::Add(std::string_view person, int64_t time_ms) {
  if (open_ && person == person_) {
    if (time_ms < last_) {
      return Status::InvalidArgument("session events out of order: time " +
                                     std::to_string(time_ms) + " after " + std::to_string(last_));
    }
    // time_ms - last_ <= gap, without overflow (time_ms >= last_).
    if (static_cast<uint64_t>(time_ms) - static_cast<uint64_t>(last_) <=
        static_cast<uint64_t>(gap_ms_)) {
      ++events_;
      last_ = time_ms;
      return Status::OK();
    }
    CloseVisit();
  } else {
    CloseVisit();
    person_.assign(person);
  }
  open_ = true;
  visit_start_ = time_ms;
  last_ = time_ms;
  events_ = 1;
  return Status::OK();
}

void VisitCounter::CloseVisit() {
  if (!open_) return;
  open_ = false;
  const bool bounce = events_ == 1;
  ++visits_;
  if (bounce) ++bounces_;
  for (Granularity g : granularities_) {
    VisitStats& s = cells_[{g, BucketStart(g, visit_start_)}];
    ++s.visits;
    if (bounce) ++s.bounces;
  }
}

void VisitCounter::Finish() { CloseVisit(); }

void VisitCounter::Clear() {
  cells_.clear();
  person_.clear();
  open_ = false;
  events_ = 0;
  visits_ = 0;
  bounces_ = 0;
}

}  // namespace braid::views
