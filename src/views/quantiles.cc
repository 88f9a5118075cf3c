#include "views/quantiles.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "base/coding.h"
#include "views/json_text.h"

namespace braid::views {

namespace {

constexpr uint8_t kTag = static_cast<uint8_t>(MonoidTag::kQuantiles);
constexpr size_t kMaxLevels = 64;
constexpr uint32_t kMinWidth = 8;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

void PutDouble(std::string* out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  coding::PutLittleEndian64(out, bits);
}

double LoadDouble(const char* p) {
  const uint64_t bits = coding::DecodeLittleEndian64(p);
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

Status Bad(std::string_view why) { return Status::Corruption("quantiles: " + std::string(why)); }

}  // namespace

KllSketch::KllSketch(uint32_t k) : k_(k) { CHECK(k >= kMinK && k <= kMaxK); }

uint32_t KllSketch::LevelCapacity(uint32_t k, size_t levels, size_t h) {
  const size_t depth = levels - 1 - h;
  if (depth > 30) return kMinWidth;
  // ceil(k 2^depth / 3^depth), exactly.
  uint64_t num = uint64_t{k} << depth;
  uint64_t den = 1;
  for (size_t i = 0; i < depth; ++i) den *= 3;
  const uint64_t cap = (num + den - 1) / den;
  return static_cast<uint32_t>(std::max<uint64_t>(kMinWidth, cap));
}

size_t KllSketch::TotalCapacity() const {
  size_t total = 0;
  for (size_t h = 0; h < levels_.size(); ++h) total += LevelCapacity(k_, levels_.size(), h);
  return total;
}

size_t KllSketch::retained() const {
  size_t total = 0;
  for (const auto& l : levels_) total += l.size();
  return total;
}

void KllSketch::Add(double v) {
  if (n_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++n_;
  if (levels_.empty()) levels_.emplace_back();
  auto& l0 = levels_[0];
  l0.insert(std::upper_bound(l0.begin(), l0.end(), v), v);
  Compress();
}

void KllSketch::Merge(const KllSketch& other) {
  DCHECK_EQ(k_, other.k_);
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  n_ += other.n_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  if (levels_.size() < other.levels_.size()) levels_.resize(other.levels_.size());
  for (size_t h = 0; h < other.levels_.size(); ++h) {
    auto& mine = levels_[h];
    const size_t mid = mine.size();
    mine.insert(mine.end(), other.levels_[h].begin(), other.levels_[h].end());
    std::inplace_merge(mine.begin(), mine.begin() + static_cast<ptrdiff_t>(mid), mine.end());
  }
  Compress();
}

void KllSketch::Compress() {
  while (retained() > TotalCapacity()) {
    size_t h = 0;
    while (levels_[h].size() < LevelCapacity(k_, levels_.size(), h)) ++h;
    if (h + 1 == levels_.size()) levels_.emplace_back();
    auto& level = levels_[h];
    const size_t keep = level.size() % 2;  // an odd level keeps its smallest item
    const uint64_t coin =
        SplitMix64(n_ * 0x9E3779B97F4A7C15ULL ^ (uint64_t{h} << 32) ^ level.size()) & 1;
    std::vector<double> up;
    up.reserve(level.size() / 2);
    for (size_t i = keep + coin; i < level.size(); i += 2) up.push_back(level[i]);
    level.resize(keep);
    auto& next = levels_[h + 1];
    const size_t mid = next.size();
    next.insert(next.end(), up.begin(), up.end());
    std::inplace_merge(next.begin(), next.begin() + static_cast<ptrdiff_t>(mid), next.end());
  }
}

double KllSketch::Quantile(double q) const {
  DCHECK(n_ > 0);
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  std::vector<std::pair<double, uint64_t>> items;
  items.reserve(retained());
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) items.emplace_back(v, uint64_t{1} << h);
  }
  std::sort(items.begin(), items.end());
  const double target = q * static_cast<double>(n_);
  uint64_t cum = 0;
  for (const auto& [v, w] : items) {
    cum += w;
    if (static_cast<double>(cum) >= target) return v;
  }
  return max_;
}

void KllSketch::EncodeTo(std::string* out) const {
  out->push_back(static_cast<char>(kTag));
  coding::PutVarint64(out, k_);
  coding::PutVarint64(out, n_);
  if (n_ == 0) return;
  PutDouble(out, min_);
  PutDouble(out, max_);
  // Every level, empty ones included: the level count sets the capacities.
  coding::PutVarint64(out, levels_.size());
  for (const auto& level : levels_) {
    coding::PutVarint64(out, level.size());
    for (double v : level) PutDouble(out, v);
  }
}

std::string KllSketch::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

Result<KllSketch> KllSketch::Decode(std::string_view e, uint32_t k) {
  const char* p = e.data();
  const char* end = e.data() + e.size();
  if (p == end || static_cast<uint8_t>(*p) != kTag) return Bad("not a quantiles encoding");
  ++p;
  uint64_t kk = 0;
  uint64_t n = 0;
  if ((p = coding::GetVarint64(p, end, &kk)) == nullptr) return Bad("truncated k");
  if (kk != k) return Bad("k " + std::to_string(kk) + ", the view's is " + std::to_string(k));
  if ((p = coding::GetVarint64(p, end, &n)) == nullptr) return Bad("truncated n");
  KllSketch s(k);
  if (n == 0) {
    if (p != end) return Bad("trailing bytes");
    return s;
  }
  if (end - p < 16) return Bad("truncated min/max");
  s.n_ = n;
  s.min_ = LoadDouble(p);
  s.max_ = LoadDouble(p + 8);
  p += 16;
  if (!std::isfinite(s.min_) || !std::isfinite(s.max_) || s.min_ > s.max_) {
    return Bad("bad min/max");
  }
  uint64_t levels = 0;
  if ((p = coding::GetVarint64(p, end, &levels)) == nullptr) return Bad("truncated level count");
  if (levels == 0 || levels > kMaxLevels) return Bad("level count out of range");
  s.levels_.resize(levels);
  uint64_t weight = 0;
  for (uint64_t h = 0; h < levels; ++h) {
    uint64_t count = 0;
    if ((p = coding::GetVarint64(p, end, &count)) == nullptr) return Bad("truncated level");
    if (count > static_cast<uint64_t>(end - p) / 8) return Bad("level longer than the input");
    auto& level = s.levels_[h];
    level.resize(count);
    for (uint64_t i = 0; i < count; ++i, p += 8) {
      const double v = LoadDouble(p);
      if (!(v >= s.min_ && v <= s.max_)) return Bad("item outside [min, max]");
      if (i > 0 && v < level[i - 1]) return Bad("level not sorted");
      level[i] = v;
    }
    if (count > ((UINT64_MAX - weight) >> h)) return Bad("level weights overflow");
    weight += count << h;
  }
  if (p != end) return Bad("trailing bytes");
  if (weight != n) return Bad("level weights do not sum to n");
  if (s.retained() > s.TotalCapacity()) return Bad("more items than the capacity");
  return s;
}

// ---------------------------------------------------------------------------

QuantilesMonoid::QuantilesMonoid(const MonoidSpec& spec)
    : spec_(spec), spec_text_(spec.ToString()) {}

std::string QuantilesMonoid::Identity() const { return KllSketch(k()).Encode(); }

Status QuantilesMonoid::Validate(std::string_view encoded) const {
  return KllSketch::Decode(encoded, k()).status();
}

Status QuantilesMonoid::Merge(std::string* acc, std::string_view other) const {
  ASSIGN_OR_RETURN(KllSketch a, KllSketch::Decode(*acc, k()));
  ASSIGN_OR_RETURN(KllSketch b, KllSketch::Decode(other, k()));
  if (b.empty()) return Status::OK();
  if (a.n() + b.n() < a.n()) return Bad("n overflows");
  a.Merge(b);
  acc->clear();
  a.EncodeTo(acc);
  return Status::OK();
}

Status QuantilesMonoid::MergeMany(std::string* acc,
                                  std::span<const std::string_view> others) const {
  ASSIGN_OR_RETURN(KllSketch a, KllSketch::Decode(*acc, k()));
  for (std::string_view o : others) {
    ASSIGN_OR_RETURN(KllSketch b, KllSketch::Decode(o, k()));
    if (a.n() + b.n() < a.n()) return Bad("n overflows");
    a.Merge(b);
  }
  acc->clear();
  a.EncodeTo(acc);
  return Status::OK();
}

Status QuantilesMonoid::Lift(const Value& value, std::string* out) const {
  double v;
  switch (value.kind()) {
    case Value::Kind::kNull:
      *out = Identity();
      return Status::OK();
    case Value::Kind::kLong:
      v = static_cast<double>(value.long_value());
      break;
    case Value::Kind::kDouble:
      v = value.double_value();
      if (!std::isfinite(v)) return Status::InvalidArgument(spec_text_ + ": not a finite number");
      break;
    default:
      return Status::InvalidArgument(spec_text_ + " takes a long or a double, not a " +
                                     std::string(ValueKindName(value.kind())));
  }
  if (v == 0) v = 0.0;
  KllSketch s(k());
  s.Add(v);
  out->clear();
  s.EncodeTo(out);
  return Status::OK();
}

Result<std::string> QuantilesMonoid::ToJson(std::string_view encoded) const {
  ASSIGN_OR_RETURN(KllSketch s, KllSketch::Decode(encoded, k()));
  if (s.empty()) return std::string("{\"n\":0}");
  std::string out = "{\"n\":" + std::to_string(s.n()) + ",\"min\":" + JsonNumber(s.min()) +
                    ",\"max\":" + JsonNumber(s.max()) + ",\"quantiles\":{";
  static constexpr std::pair<const char*, double> kReported[] = {
      {"0.25", 0.25}, {"0.5", 0.5}, {"0.75", 0.75}, {"0.9", 0.9}, {"0.95", 0.95}, {"0.99", 0.99}};
  bool first = true;
  for (const auto& [name, q] : kReported) {
    if (!first) out += ',';
    first = false;
    out += std::string("\"") + name + "\":" + JsonNumber(s.Quantile(q));
  }
  out += "}}";
  return out;
}

}  // namespace braid::views
