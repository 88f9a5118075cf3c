// HyperLogLog: distinct counts, as the `hll(p=P)` monoid.
//
// Items are hashed to 64 bits with XXH3-64 (seed 0) of their bytes (a
// string's bytes; a long or a double as its 8 little-endian bytes). With
// precision p (m = 2^p registers, p in 4..18), register j = the top p bits
// of the hash, keeping ρ = 1 + the number of leading zeros of the other
// 64 - p bits (65 - p when they are all zero).
//
// Two representations (HLL++, Heule et al. 2013):
//  * sparse, for small sets: the sorted list of (index', ρ') at precision
//    p' = 25, one entry per index' (the largest ρ'); estimate: linear
//    counting with m' = 2^25, nearly exact for small sets. An entry converts
//    exactly to a register at precision p.
//  * dense: m one-byte registers; estimate: Ertl's improved estimator
//    (arXiv:1702.01284, the one Redis uses), nearly unbiased over the
//    whole range, no empirical tables. Relative standard error 1.04/√m
//    (0.81% at p = 14).
// A sketch is dense exactly when its sparse list would exceed m/4 entries
// (a dense sketch can only come from one), so the representation is a
// function of the merged items, and Merge (register-wise max, union of
// sparse entries) is associative, commutative and idempotent bit for bit.
//
// Encoding, version 1 (tag 0x08):
//   byte 0      0x08
//   byte 1      p
//   byte 2      0 = sparse, 1 = dense
//   sparse:     uint32 LE entry count n (0..m/4), then n uint32 LE entries
//               (index' << 6 | ρ', index' < 2^25, 1 <= ρ' <= 40), strictly
//               increasing
//   dense:      m bytes, register j at byte 3 + j, each <= 65 - p
// The identity is the empty sparse sketch (7 bytes).
//
// Thread safety: HllSketch is a value type (one thread at a time);
// HllMonoid is immutable.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "views/monoid.h"

namespace braid::views {

class HllSketch {
 public:
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 18;
  static constexpr int kSparsePrecision = 25;

  // Precondition: kMinPrecision <= p <= kMaxPrecision.
  explicit HllSketch(int p);

  static uint64_t Hash(std::string_view bytes);
  static uint64_t HashLong(int64_t v);
  // -0.0 hashes as 0.0.
  static uint64_t HashDouble(double v);

  int precision() const { return p_; }
  bool sparse() const { return dense_.empty(); }
  // Number of sparse entries (0 when dense).
  size_t sparse_size() const { return sparse_.size(); }
  // The sparse entry limit m/4: above it a sketch is dense.
  size_t sparse_limit() const { return (size_t{1} << p_) / 4; }

  void AddHash(uint64_t hash);
  // *this = *this ⊕ other. Precondition: same precision.
  void Merge(const HllSketch& other);
  // The estimated number of distinct items.
  double Estimate() const;

  void EncodeTo(std::string* out) const;
  std::string Encode() const;
  // Corruption for anything EncodeTo cannot produce, or another precision.
  static Result<HllSketch> Decode(std::string_view encoded, int p);

  // A sparse entry of a hash, and its register index and ρ at precision p.
  static uint32_t SparseEntry(uint64_t hash);
  static void EntryToRegister(uint32_t entry, int p, uint32_t* index, uint8_t* rho);

 private:
  void ToDense();

  int p_;
  std::vector<uint32_t> sparse_;  // sorted by index', unique
  std::vector<uint8_t> dense_;    // m registers when dense, else empty
};

// The `hll(p=P)` monoid over HllSketch encodings. Lift: a string (its
// bytes), a long, a double or a bool (as a long 0/1) is one item; null is
// the identity.
class HllMonoid final : public Monoid {
 public:
  explicit HllMonoid(const MonoidSpec& spec);

  const std::string& spec() const override { return spec_text_; }
  const MonoidSpec& parsed_spec() const { return spec_; }
  std::string Identity() const override;
  // In place: a dense accumulator takes another sketch's registers without
  // decoding; a sparse one takes a few entries by insertion.
  Status Merge(std::string* acc, std::string_view other) const override;
  Status MergeMany(std::string* acc, std::span<const std::string_view> others) const override;
  Status Lift(const Value& value, std::string* out) const override;
  // The estimate, rounded to an integer.
  Result<std::string> ToJson(std::string_view encoded) const override;
  Status Validate(std::string_view encoded) const override;

  int precision() const { return spec_.hll_precision; }

 private:
  MonoidSpec spec_;
  std::string spec_text_;
};

}  // namespace braid::views
