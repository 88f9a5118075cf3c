#include "views/topk.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/coding.h"
#include "views/json_text.h"

namespace braid::views {

namespace {

constexpr uint8_t kTag = static_cast<uint8_t>(MonoidTag::kTopK);

struct CounterView {
  std::string_view item;
  uint64_t count = 0;
  uint64_t error = 0;
};

// Canonical order: count descending, then item bytes ascending.
bool Before(const CounterView& a, const CounterView& b) {
  if (a.count != b.count) return a.count > b.count;
  return a.item < b.item;
}

struct Parsed {
  uint64_t n = 0;
  std::vector<CounterView> counters;
};

Status Bad(std::string_view why) { return Status::Corruption("topk: " + std::string(why)); }

uint64_t MinCount(const std::vector<CounterView>& counters) {
  uint64_t m = UINT64_MAX;
  for (const CounterView& c : counters) m = std::min(m, c.count);
  return m;
}

Status Parse(std::string_view e, uint64_t capacity, Parsed* out) {
  out->counters.clear();
  const char* p = e.data();
  const char* end = e.data() + e.size();
  if (p == end || static_cast<uint8_t>(*p) != kTag) return Bad("not a topk encoding (unknown tag)");
  ++p;
  uint64_t cap = 0;
  uint64_t count = 0;
  if ((p = coding::GetVarint64(p, end, &cap)) == nullptr) return Bad("truncated capacity");
  if (cap != capacity) {
    return Bad("capacity " + std::to_string(cap) + ", the view's is " + std::to_string(capacity));
  }
  if ((p = coding::GetVarint64(p, end, &out->n)) == nullptr) return Bad("truncated n");
  if ((p = coding::GetVarint64(p, end, &count)) == nullptr) return Bad("truncated counter count");
  if (count > capacity) return Bad("more counters than the capacity");
  out->counters.reserve(count);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t len = 0;
    if ((p = coding::GetVarint64(p, end, &len)) == nullptr) return Bad("truncated item length");
    if (len > TopKMonoid::kMaxItemBytes || len > static_cast<uint64_t>(end - p)) {
      return Bad("item length out of range");
    }
    CounterView c;
    c.item = std::string_view(p, len);
    p += len;
    if ((p = coding::GetVarint64(p, end, &c.count)) == nullptr) return Bad("truncated count");
    if ((p = coding::GetVarint64(p, end, &c.error)) == nullptr) return Bad("truncated error");
    if (c.count == 0 || c.error > c.count || c.count > out->n) return Bad("counter out of range");
    if (!out->counters.empty() && !(out->counters.back().item < c.item)) {
      return Bad("counters not in item order");
    }
    if (c.count > out->n - sum) return Bad("counts sum above n");
    sum += c.count;
    out->counters.push_back(c);
  }
  if (p != end) return Bad("trailing bytes");
  return Status::OK();
}

void Encode(uint64_t capacity, uint64_t n, std::span<const CounterView> counters,
            std::string* out) {
  size_t size = 1 + coding::VarintLength(capacity) + coding::VarintLength(n) +
                coding::VarintLength(counters.size());
  for (const CounterView& c : counters) {
    size += coding::VarintLength(c.item.size()) + c.item.size() + coding::VarintLength(c.count) +
            coding::VarintLength(c.error);
  }
  out->resize(size);
  char* p = out->data();
  *p++ = static_cast<char>(kTag);
  p += coding::EncodeVarint64(p, capacity);
  p += coding::EncodeVarint64(p, n);
  p += coding::EncodeVarint64(p, counters.size());
  for (const CounterView& c : counters) {
    p += coding::EncodeVarint64(p, c.item.size());
    std::memcpy(p, c.item.data(), c.item.size());
    p += c.item.size();
    p += coding::EncodeVarint64(p, c.count);
    p += coding::EncodeVarint64(p, c.error);
  }
}

// The merge (see topk.h) of two parsed summaries into *out, in item order
// (views into their bytes).
void Combine(uint64_t capacity, const Parsed& a, const Parsed& b, std::vector<CounterView>* out) {
  const uint64_t a_min = a.counters.size() == capacity ? MinCount(a.counters) : 0;
  const uint64_t b_min = b.counters.size() == capacity ? MinCount(b.counters) : 0;
  out->clear();
  out->reserve(a.counters.size() + b.counters.size());
  if (b.counters.size() <= 4 && b_min == 0 && a.counters.size() > 8) {
    // A few counters (one event's) into a larger summary: each found by
    // binary search; the rest of `a` is copied as it is.
    size_t from = 0;
    for (const CounterView& c : b.counters) {
      auto it = std::lower_bound(
          a.counters.begin() + static_cast<ptrdiff_t>(from), a.counters.end(), c.item,
          [](const CounterView& x, std::string_view item) { return x.item < item; });
      const size_t at = static_cast<size_t>(it - a.counters.begin());
      out->insert(out->end(), a.counters.begin() + static_cast<ptrdiff_t>(from), it);
      if (it != a.counters.end() && it->item == c.item) {
        out->push_back({c.item, it->count + c.count, it->error + c.error});
        from = at + 1;
      } else {
        out->push_back({c.item, c.count + a_min, c.error + a_min});
        from = at;
      }
    }
    out->insert(out->end(), a.counters.begin() + static_cast<ptrdiff_t>(from), a.counters.end());
  } else {
    size_t i = 0;
    size_t j = 0;
    while (i < a.counters.size() || j < b.counters.size()) {
      if (j == b.counters.size() ||
          (i < a.counters.size() && a.counters[i].item < b.counters[j].item)) {
        const CounterView& c = a.counters[i++];
        out->push_back({c.item, c.count + b_min, c.error + b_min});
      } else if (i == a.counters.size() || b.counters[j].item < a.counters[i].item) {
        const CounterView& c = b.counters[j++];
        out->push_back({c.item, c.count + a_min, c.error + a_min});
      } else {
        const CounterView& x = a.counters[i++];
        const CounterView& y = b.counters[j++];
        out->push_back({x.item, x.count + y.count, x.error + y.error});
      }
    }
  }
  // Drop the counters past `capacity` in canonical order; few extra ones
  // (an event into a full summary): the last in canonical order each time,
  // the smallest count with the largest item, i.e. in item order the last
  // counter of the smallest count.
  while (out->size() > capacity && out->size() <= capacity + 4) {
    size_t drop = 0;
    for (size_t k = 1; k < out->size(); ++k) {
      if ((*out)[k].count <= (*out)[drop].count) drop = k;
    }
    out->erase(out->begin() + static_cast<ptrdiff_t>(drop));
  }
  if (out->size() <= capacity) return;
  // Keep the `capacity` first in canonical order, in item order.
  std::vector<uint32_t> idx(out->size());
  for (uint32_t k = 0; k < idx.size(); ++k) idx[k] = k;
  std::nth_element(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(capacity) - 1, idx.end(),
                   [&](uint32_t x, uint32_t y) { return Before((*out)[x], (*out)[y]); });
  std::vector<bool> keep(out->size(), false);
  for (size_t k = 0; k < capacity; ++k) keep[idx[k]] = true;
  size_t w = 0;
  for (size_t k = 0; k < out->size(); ++k) {
    if (keep[k]) (*out)[w++] = (*out)[k];
  }
  out->resize(w);
}

}  // namespace

TopKMonoid::TopKMonoid(const MonoidSpec& spec)
    : spec_(spec), spec_text_(spec.ToString()), capacity_(spec.EffectiveTopKCapacity()) {}

std::string TopKMonoid::Identity() const {
  std::string out;
  Encode(capacity_, 0, {}, &out);
  return out;
}

Status TopKMonoid::Validate(std::string_view encoded) const {
  Parsed p;
  return Parse(encoded, capacity_, &p);
}

Status TopKMonoid::Merge(std::string* acc, std::string_view other) const {
  Parsed a;
  Parsed b;
  RETURN_IF_ERROR(Parse(*acc, capacity_, &a));
  RETURN_IF_ERROR(Parse(other, capacity_, &b));
  if (b.n == 0) return Status::OK();
  if (a.n + b.n < a.n) return Bad("n overflows");
  std::vector<CounterView> merged;
  Combine(capacity_, a, b, &merged);
  std::string out;
  Encode(capacity_, a.n + b.n, merged, &out);
  *acc = std::move(out);
  return Status::OK();
}

Status TopKMonoid::MergeMany(std::string* acc, std::span<const std::string_view> others) const {
  // Every view points into *acc or `others` until the one Encode at the end.
  Parsed a;
  RETURN_IF_ERROR(Parse(*acc, capacity_, &a));
  Parsed b;
  std::vector<CounterView> merged;
  for (std::string_view o : others) {
    RETURN_IF_ERROR(Parse(o, capacity_, &b));
    if (b.n == 0) continue;
    if (a.n + b.n < a.n) return Bad("n overflows");
    Combine(capacity_, a, b, &merged);
    a.n += b.n;
    std::swap(a.counters, merged);
  }
  std::string out;
  Encode(capacity_, a.n, a.counters, &out);
  *acc = std::move(out);
  return Status::OK();
}

Status TopKMonoid::Lift(const Value& value, std::string* out) const {
  std::string text;
  switch (value.kind()) {
    case Value::Kind::kNull:
      *out = Identity();
      return Status::OK();
    case Value::Kind::kString:
      text = value.string_value();
      break;
    case Value::Kind::kLong:
      text = std::to_string(value.long_value());
      break;
    case Value::Kind::kBool:
      text = value.bool_value() ? "true" : "false";
      break;
    case Value::Kind::kDouble:
      if (!std::isfinite(value.double_value())) {
        return Status::InvalidArgument(spec_text_ + ": not a finite number");
      }
      text = JsonNumber(value.double_value());
      break;
    default:
      return Status::InvalidArgument(spec_text_ + " takes a string, long, double or bool, not a " +
                                     ValueKindName(value.kind()));
  }
  if (text.size() > kMaxItemBytes) {
    return Status::InvalidArgument(spec_text_ + ": item of " + std::to_string(text.size()) +
                                   " bytes, above the limit of " + std::to_string(kMaxItemBytes));
  }
  const CounterView one{text, 1, 0};
  Encode(capacity_, 1, std::span<const CounterView>(&one, 1), out);
  return Status::OK();
}

Result<TopKSummary> TopKMonoid::Decode(std::string_view encoded) const {
  Parsed p;
  RETURN_IF_ERROR(Parse(encoded, capacity_, &p));
  TopKSummary s;
  s.capacity = capacity_;
  s.n = p.n;
  for (const CounterView& c : p.counters)
    s.counters.push_back({std::string(c.item), c.count, c.error});
  return s;
}

Result<std::string> TopKMonoid::ToJson(std::string_view encoded) const {
  Parsed p;
  RETURN_IF_ERROR(Parse(encoded, capacity_, &p));
  const size_t shown = std::min<size_t>(p.counters.size(), spec_.topk_k);
  std::partial_sort(p.counters.begin(), p.counters.begin() + static_cast<ptrdiff_t>(shown),
                    p.counters.end(), Before);
  std::string out = "{\"n\":" + std::to_string(p.n) + ",\"items\":[";
  for (size_t i = 0; i < shown; ++i) {
    const CounterView& c = p.counters[i];
    if (i > 0) out += ',';
    out += "{\"item\":" + JsonQuote(c.item) + ",\"count\":" + std::to_string(c.count) +
           ",\"error\":" + std::to_string(c.error) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace braid::views
