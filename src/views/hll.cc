#include "views/hll.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/check.h"
#include "base/coding.h"

namespace braid::views {

namespace {

constexpr uint8_t kTag = static_cast<uint8_t>(MonoidTag::kHll);
constexpr uint8_t kSparse = 0;
constexpr uint8_t kDense = 1;
constexpr size_t kHeader = 3;  // tag, p, representation
constexpr int kPp = HllSketch::kSparsePrecision;
constexpr uint32_t kMaxSparseRho = 64 - kPp + 1;  // 40

uint32_t EntryIndex(uint32_t e) { return e >> 6; }
uint32_t EntryRho(uint32_t e) { return e & 63; }

// Ertl's σ and τ (arXiv:1702.01284, as in Redis's hyperloglog.c).
double Sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0;
  double z = x;
  double prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev != z);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1 - x;
  double prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (prev != z);
  return z / 3;
}

// A parsed, validated encoding (views into the bytes).
struct Parsed {
  int p = 0;
  bool dense = false;
  uint32_t count = 0;          // sparse entries
  const char* body = nullptr;  // sparse: the entries; dense: the registers
};

uint32_t LoadEntry(const char* body, size_t i) {
  return coding::DecodeLittleEndian32(body + 4 * i);
}

Status Bad(std::string_view why) { return Status::Corruption("hll: " + std::string(why)); }

Result<Parsed> Parse(std::string_view e, int p) {
  if (e.size() < kHeader) return Bad("truncated header");
  if (static_cast<uint8_t>(e[0]) != kTag) return Bad("not an hll encoding (unknown tag)");
  Parsed r;
  r.p = static_cast<uint8_t>(e[1]);
  if (r.p != p) {
    return Bad("precision " + std::to_string(r.p) + ", the view's is " + std::to_string(p));
  }
  const size_t m = size_t{1} << p;
  const uint8_t rep = static_cast<uint8_t>(e[2]);
  if (rep == kDense) {
    if (e.size() != kHeader + m) return Bad("dense sketch of the wrong size");
    r.dense = true;
    r.body = e.data() + kHeader;
    // Registers hold at most 65 - p.
    const uint8_t max_rho = static_cast<uint8_t>(65 - p);
    uint8_t hi = 0;
    const auto* regs = reinterpret_cast<const uint8_t*>(r.body);
    for (size_t j = 0; j < m; ++j) hi = std::max(hi, regs[j]);
    if (hi > max_rho) return Bad("register out of range");
    return r;
  }
  if (rep != kSparse) return Bad("unknown representation");
  if (e.size() < kHeader + 4) return Bad("truncated sparse count");
  r.count = coding::DecodeLittleEndian32(e.data() + kHeader);
  if (r.count > m / 4) return Bad("sparse sketch above its entry limit");
  if (e.size() != kHeader + 4 + size_t{4} * r.count) return Bad("sparse sketch of the wrong size");
  r.body = e.data() + kHeader + 4;
  uint32_t prev_index = 0;
  for (uint32_t i = 0; i < r.count; ++i) {
    const uint32_t entry = LoadEntry(r.body, i);
    const uint32_t rho = EntryRho(entry);
    if (rho == 0 || rho > kMaxSparseRho || entry >= (uint32_t{1} << (kPp + 6))) {
      return Bad("sparse entry out of range");
    }
    if (i > 0 && EntryIndex(entry) <= prev_index) return Bad("sparse entries not increasing");
    prev_index = EntryIndex(entry);
  }
  return r;
}

void AppendHeader(std::string* out, int p, uint8_t rep) {
  out->push_back(static_cast<char>(kTag));
  out->push_back(static_cast<char>(p));
  out->push_back(static_cast<char>(rep));
}

// The dense encoding of registers `regs` (m bytes).
void AppendDense(std::string* out, int p, const uint8_t* regs) {
  AppendHeader(out, p, kDense);
  out->append(reinterpret_cast<const char*>(regs), size_t{1} << p);
}

void AppendSparse(std::string* out, int p, std::span<const uint32_t> entries) {
  AppendHeader(out, p, kSparse);
  coding::PutLittleEndian32(out, static_cast<uint32_t>(entries.size()));
  for (uint32_t e : entries) coding::PutLittleEndian32(out, e);
}

// regs[index] = max(regs[index], ρ) for each sparse entry.
void ApplyEntries(const char* body, uint32_t count, int p, uint8_t* regs) {
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t index;
    uint8_t rho;
    HllSketch::EntryToRegister(LoadEntry(body, i), p, &index, &rho);
    if (regs[index] < rho) regs[index] = rho;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// HllSketch

HllSketch::HllSketch(int p) : p_(p) { CHECK(p >= kMinPrecision && p <= kMaxPrecision); }

uint64_t HllSketch::Hash(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

uint64_t HllSketch::HashLong(int64_t v) {
  char buf[8];
  const auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(u >> (8 * i));
  return XXH3_64bits(buf, 8);
}

uint64_t HllSketch::HashDouble(double v) {
  if (v == 0) v = 0.0;  // -0.0 and 0.0 are one item
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  return HashLong(static_cast<int64_t>(bits));
}

uint32_t HllSketch::SparseEntry(uint64_t hash) {
  const auto index = static_cast<uint32_t>(hash >> (64 - kPp));
  const uint64_t w = hash << kPp;
  const uint32_t rho = w == 0 ? kMaxSparseRho : static_cast<uint32_t>(std::countl_zero(w)) + 1;
  return index << 6 | rho;
}

void HllSketch::EntryToRegister(uint32_t entry, int p, uint32_t* index, uint8_t* rho) {
  const uint32_t idx = EntryIndex(entry);
  const int shift = kPp - p;
  *index = idx >> shift;
  const uint32_t low = idx & ((uint32_t{1} << shift) - 1);
  if (low != 0) {
    *rho = static_cast<uint8_t>(std::countl_zero(low) - (32 - shift) + 1);
  } else {
    *rho = static_cast<uint8_t>(shift + EntryRho(entry));
  }
}

void HllSketch::ToDense() {
  dense_.assign(size_t{1} << p_, 0);
  for (uint32_t e : sparse_) {
    uint32_t index;
    uint8_t rho;
    EntryToRegister(e, p_, &index, &rho);
    if (dense_[index] < rho) dense_[index] = rho;
  }
  sparse_.clear();
  sparse_.shrink_to_fit();
}

void HllSketch::AddHash(uint64_t hash) {
  const uint32_t entry = SparseEntry(hash);
  if (!sparse()) {
    uint32_t index;
    uint8_t rho;
    EntryToRegister(entry, p_, &index, &rho);
    if (dense_[index] < rho) dense_[index] = rho;
    return;
  }
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), entry & ~uint32_t{63});
  if (it != sparse_.end() && EntryIndex(*it) == EntryIndex(entry)) {
    if (EntryRho(*it) < EntryRho(entry)) *it = entry;
    return;
  }
  sparse_.insert(it, entry);
  if (sparse_.size() > sparse_limit()) ToDense();
}

void HllSketch::Merge(const HllSketch& other) {
  DCHECK_EQ(p_, other.p_);
  if (!other.sparse()) {
    if (sparse()) {
      std::vector<uint32_t> mine = std::move(sparse_);
      dense_ = other.dense_;
      sparse_.clear();
      for (uint32_t e : mine) {
        uint32_t index;
        uint8_t rho;
        EntryToRegister(e, p_, &index, &rho);
        if (dense_[index] < rho) dense_[index] = rho;
      }
      return;
    }
    for (size_t j = 0; j < dense_.size(); ++j) dense_[j] = std::max(dense_[j], other.dense_[j]);
    return;
  }
  if (!sparse()) {
    for (uint32_t e : other.sparse_) {
      uint32_t index;
      uint8_t rho;
      EntryToRegister(e, p_, &index, &rho);
      if (dense_[index] < rho) dense_[index] = rho;
    }
    return;
  }
  std::vector<uint32_t> merged;
  merged.reserve(sparse_.size() + other.sparse_.size());
  size_t i = 0;
  size_t j = 0;
  while (i < sparse_.size() || j < other.sparse_.size()) {
    if (j == other.sparse_.size() ||
        (i < sparse_.size() && EntryIndex(sparse_[i]) < EntryIndex(other.sparse_[j]))) {
      merged.push_back(sparse_[i++]);
    } else if (i == sparse_.size() || EntryIndex(other.sparse_[j]) < EntryIndex(sparse_[i])) {
      merged.push_back(other.sparse_[j++]);
    } else {
      merged.push_back(std::max(sparse_[i++], other.sparse_[j++]));  // same index: larger ρ
    }
  }
  sparse_ = std::move(merged);
  if (sparse_.size() > sparse_limit()) ToDense();
}

double HllSketch::Estimate() const {
  if (sparse()) {
    // Linear counting at precision p' (every entry is one occupied register).
    const double mp = static_cast<double>(uint64_t{1} << kPp);
    const double n = static_cast<double>(sparse_.size());
    return mp * std::log(mp / (mp - n));
  }
  const int q = 64 - p_;
  std::vector<uint32_t> hist(q + 2, 0);
  for (uint8_t r : dense_) ++hist[std::min<int>(r, q + 1)];
  const double m = static_cast<double>(dense_.size());
  double z = m * Tau((m - hist[q + 1]) / m);
  for (int k = q; k >= 1; --k) {
    z += hist[k];
    z *= 0.5;
  }
  z += m * Sigma(hist[0] / m);
  constexpr double kAlphaInf = 0.5 / 0.6931471805599453;  // 1 / (2 ln 2)
  return kAlphaInf * m * m / z;
}

void HllSketch::EncodeTo(std::string* out) const {
  if (sparse()) {
    AppendSparse(out, p_, sparse_);
  } else {
    AppendDense(out, p_, dense_.data());
  }
}

std::string HllSketch::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

Result<HllSketch> HllSketch::Decode(std::string_view encoded, int p) {
  ASSIGN_OR_RETURN(Parsed parsed, Parse(encoded, p));
  HllSketch s(p);
  if (parsed.dense) {
    s.dense_.assign(reinterpret_cast<const uint8_t*>(parsed.body),
                    reinterpret_cast<const uint8_t*>(parsed.body) + (size_t{1} << p));
  } else {
    s.sparse_.resize(parsed.count);
    for (uint32_t i = 0; i < parsed.count; ++i) s.sparse_[i] = LoadEntry(parsed.body, i);
  }
  return s;
}

// ---------------------------------------------------------------------------
// HllMonoid

HllMonoid::HllMonoid(const MonoidSpec& spec) : spec_(spec), spec_text_(spec.ToString()) {}

std::string HllMonoid::Identity() const {
  std::string out;
  AppendSparse(&out, precision(), {});
  return out;
}

Status HllMonoid::Validate(std::string_view encoded) const {
  return Parse(encoded, precision()).status();
}

Status HllMonoid::Merge(std::string* acc, std::string_view other) const {
  const int p = precision();
  ASSIGN_OR_RETURN(Parsed a, Parse(*acc, p));
  ASSIGN_OR_RETURN(Parsed b, Parse(other, p));
  const size_t m = size_t{1} << p;
  if (a.dense) {
    auto* regs = reinterpret_cast<uint8_t*>(acc->data() + kHeader);
    if (b.dense) {
      const auto* theirs = reinterpret_cast<const uint8_t*>(b.body);
      for (size_t j = 0; j < m; ++j) regs[j] = std::max(regs[j], theirs[j]);
    } else {
      ApplyEntries(b.body, b.count, p, regs);
    }
    return Status::OK();
  }
  if (b.dense) {
    std::string out;
    out.reserve(kHeader + m);
    AppendDense(&out, p, reinterpret_cast<const uint8_t*>(b.body));
    ApplyEntries(a.body, a.count, p, reinterpret_cast<uint8_t*>(out.data() + kHeader));
    *acc = std::move(out);
    return Status::OK();
  }
  // Both sparse. A few entries (one event's) go in by insertion; if that
  // would pass the sparse limit, the general path below merges `other`
  // again (merging is idempotent, so the entries already in do no harm).
  if (b.count <= 4) {
    bool done = true;
    for (uint32_t i = 0; i < b.count; ++i) {
      const uint32_t entry = LoadEntry(b.body, i);
      const uint32_t n = coding::DecodeLittleEndian32(acc->data() + kHeader);
      const char* body = acc->data() + kHeader + 4;
      uint32_t lo = 0;
      uint32_t hi = n;
      while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (EntryIndex(LoadEntry(body, mid)) < EntryIndex(entry)) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      if (lo < n && EntryIndex(LoadEntry(body, lo)) == EntryIndex(entry)) {
        if (EntryRho(LoadEntry(body, lo)) < EntryRho(entry)) {
          std::memcpy(acc->data() + kHeader + 4 + size_t{4} * lo, &entry, 4);
        }
        continue;
      }
      if (n + 1 > m / 4) {
        done = false;
        break;
      }
      acc->insert(kHeader + 4 + size_t{4} * lo, reinterpret_cast<const char*>(&entry), 4);
      const uint32_t n1 = n + 1;
      std::memcpy(acc->data() + kHeader, &n1, 4);
    }
    if (done) return Status::OK();
  }
  ASSIGN_OR_RETURN(HllSketch s, HllSketch::Decode(*acc, p));
  ASSIGN_OR_RETURN(HllSketch t, HllSketch::Decode(other, p));
  s.Merge(t);
  acc->clear();
  s.EncodeTo(acc);
  return Status::OK();
}

Status HllMonoid::MergeMany(std::string* acc, std::span<const std::string_view> others) const {
  const int p = precision();
  ASSIGN_OR_RETURN(Parsed a, Parse(*acc, p));
  if (a.dense) {
    // In place: every input is checked first (on error *acc is unchanged),
    // then applied register by register.
    std::vector<Parsed> parsed;
    parsed.reserve(others.size());
    for (std::string_view o : others) {
      ASSIGN_OR_RETURN(Parsed b, Parse(o, p));
      parsed.push_back(b);
    }
    const size_t m = size_t{1} << p;
    auto* regs = reinterpret_cast<uint8_t*>(acc->data() + kHeader);
    for (const Parsed& b : parsed) {
      if (b.dense) {
        const auto* theirs = reinterpret_cast<const uint8_t*>(b.body);
        for (size_t j = 0; j < m; ++j) regs[j] = std::max(regs[j], theirs[j]);
      } else {
        ApplyEntries(b.body, b.count, p, regs);
      }
    }
    return Status::OK();
  }
  ASSIGN_OR_RETURN(HllSketch s, HllSketch::Decode(*acc, p));
  for (std::string_view o : others) {
    ASSIGN_OR_RETURN(HllSketch t, HllSketch::Decode(o, p));
    s.Merge(t);
  }
  acc->clear();
  s.EncodeTo(acc);
  return Status::OK();
}

Status HllMonoid::Lift(const Value& value, std::string* out) const {
  uint64_t hash;
  switch (value.kind()) {
    case Value::Kind::kNull:
      *out = Identity();
      return Status::OK();
    case Value::Kind::kString:
      hash = HllSketch::Hash(value.string_value());
      break;
    case Value::Kind::kLong:
      hash = HllSketch::HashLong(value.long_value());
      break;
    case Value::Kind::kBool:
      hash = HllSketch::HashLong(value.bool_value() ? 1 : 0);
      break;
    case Value::Kind::kDouble:
      hash = HllSketch::HashDouble(value.double_value());
      break;
    default:
      return Status::InvalidArgument(spec_text_ + " takes a string, long, double or bool, not a " +
                                     ValueKindName(value.kind()));
  }
  out->clear();
  const uint32_t entry = HllSketch::SparseEntry(hash);
  AppendSparse(out, precision(), std::span<const uint32_t>(&entry, 1));
  return Status::OK();
}

Result<std::string> HllMonoid::ToJson(std::string_view encoded) const {
  ASSIGN_OR_RETURN(HllSketch s, HllSketch::Decode(encoded, precision()));
  return std::to_string(static_cast<uint64_t>(std::llround(s.Estimate())));
}

}  // namespace braid::views
