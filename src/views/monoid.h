// Monoid: how a view aggregates. Both the batch layer (combine, reduce) and
// the speed layer (RocksDB merge operators) merge *encoded* values, so that
// a cell is the same bytes whichever layer produced it, and serving merges a
// batch cell with realtime cells with the same function.
//
// Contract of every implementation (tested for each): Merge is associative
// and Identity() is its neutral element, on every valid encoding; an
// encoding it did not produce (another monoid's, wrong version or
// parameters, truncated, hostile) gives Corruption, never a crash or an
// allocation from an unchecked length. The exact monoids (count, sums of
// integers, min, max, HyperLogLog, tuples of these) are associative and
// commutative bit for bit; sum_double up to floating-point rounding; top-k
// and quantiles only up to their error guarantee (a different merge tree
// gives a different, equally valid sketch: research/avro-registry-sketches.md
// §4). Merge is deterministic: the same inputs give the same bytes.
//
// Encodings (docs/views.md "Monoid encodings" has the byte layouts): the
// first byte of every encoding is a tag naming the monoid and the version of
// its encoding; a new version gets a new tag and the old one stays readable.
//
//   0x01 count        0x02 sum_int64    0x03 sum_double
//   0x04 min_int64    0x05 max_int64    0x06 min_double   0x07 max_double
//   0x08 hll          0x09 topk         0x0A quantiles    0x0B tuple
//
// Specs (MonoidSpec, ParseMonoidSpec): `count`, `sum_int64`, `sum_double`,
// `min_int64`, `max_int64`, `min_double`, `max_double`, `hll(p=14)`,
// `topk(k=10,capacity=100)`, `quantiles(k=200)`,
// `tuple(visits:count,bounces:sum_int64)`.
//
// Thread safety: a Monoid is immutable; every method may run on many
// threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "braid/value.h"

namespace braid::views {

// Encoding tags (the first byte of an encoded value). Serialized: never
// change or reuse a value.
enum class MonoidTag : uint8_t {
  kCount = 0x01,
  kSumInt64 = 0x02,
  kSumDouble = 0x03,
  kMinInt64 = 0x04,
  kMaxInt64 = 0x05,
  kMinDouble = 0x06,
  kMaxDouble = 0x07,
  kHll = 0x08,
  kTopK = 0x09,
  kQuantiles = 0x0A,
  kTuple = 0x0B,
};

// A parsed monoid spec.
struct MonoidSpec {
  enum class Kind : uint8_t {
    kCount,
    kSumInt64,
    kSumDouble,
    kMinInt64,
    kMaxInt64,
    kMinDouble,
    kMaxDouble,
    kHll,
    kTopK,
    kQuantiles,
    kTuple,
  };
  Kind kind = Kind::kCount;
  // hll: the precision p (m = 2^p registers), 4..18. Default: 14 (0.81%
  // standard error).
  int hll_precision = 14;
  // topk: the number of items reported (ToJson), 1..10,000. Default: 10.
  uint32_t topk_k = 10;
  // topk: the counters kept (Space-Saving capacity), k..100,000; a count is
  // at most n/capacity too high. 0 means 10 * k (at least 100).
  // Default: 0.
  uint32_t topk_capacity = 0;
  // quantiles: KLL's k (top-level compactor size), 8..65,535; rank error
  // about 1.65% (99% confidence) at 200. Default: 200.
  uint32_t quantiles_k = 200;
  // tuple: the named fields, in order (names [A-Za-z_][A-Za-z0-9_]*,
  // unique; at least one).
  std::vector<std::pair<std::string, MonoidSpec>> fields;

  // The canonical text, e.g. "hll(p=14)", "topk(k=10,capacity=100)",
  // "tuple(visits:count,bounces:sum_int64)". ParseMonoidSpec(ToString())
  // gives the same spec.
  std::string ToString() const;
  // topk_capacity with its default applied.
  uint32_t EffectiveTopKCapacity() const;
};

// Parses a spec (see the file comment). Accepted besides the canonical form:
// positional parameters (`hll(14)`, `topk(10,100)`, `quantiles(200)`),
// `hll(precision=14)`, aliases `hyperloglog` (hll) and `kll` (quantiles),
// spaces anywhere between tokens. InvalidArgument naming the column (1-based)
// and what was expected; parameters are range-checked.
Result<MonoidSpec> ParseMonoidSpec(std::string_view text);
// Checks the ranges of a spec built by hand (ParseMonoidSpec does this).
Status ValidateMonoidSpec(const MonoidSpec& spec);

class Monoid {
 public:
  virtual ~Monoid() = default;

  // The canonical spec, e.g. "count", "sum_int64", "hll(p=14)": part of a
  // view definition's fingerprint, so a changed monoid makes new batch views.
  virtual const std::string& spec() const = 0;
  // The encoding of the neutral element.
  virtual std::string Identity() const = 0;
  // *acc = *acc ⊕ other. Errors: Corruption for a malformed encoding (then
  // *acc is unchanged).
  virtual Status Merge(std::string* acc, std::string_view other) const = 0;
  // *acc = *acc ⊕ others[0] ⊕ others[1] ... Default: repeated Merge;
  // the monoids override it to decode *acc once. On error *acc is
  // unchanged.
  virtual Status MergeMany(std::string* acc, std::span<const std::string_view> others) const;
  // The element of one input value (a view's emitted value), written to
  // *out: count ignores the value (one event); a null value (a missing
  // field) is the identity for every other monoid. InvalidArgument for a
  // value the monoid cannot take (its message names the monoid and the
  // kinds it takes). Default: InvalidArgument (a monoid without typed
  // inputs).
  virtual Status Lift(const Value& value, std::string* out) const;
  // The value as JSON for the serving API: a number for counts and sums
  // (null for min/max of nothing), an estimate (a number) for HyperLogLog,
  // documented objects for the others (docs/views.md).
  virtual Result<std::string> ToJson(std::string_view encoded) const = 0;
  // Checks that `encoded` is a valid encoding of this monoid (Corruption
  // otherwise). Default: merges it into the identity.
  virtual Status Validate(std::string_view encoded) const;
};

// Builds the monoid of a spec. InvalidArgument for an invalid spec.
Result<std::shared_ptr<const Monoid>> MakeMonoid(const MonoidSpec& spec);
Result<std::shared_ptr<const Monoid>> MakeMonoid(std::string_view spec);

// count: the number of events. Encoding: tag 0x01, then the count as an
// unsigned LEB128 varint (Identity: 0). One event is One().
class CountMonoid final : public Monoid {
 public:
  const std::string& spec() const override;
  std::string Identity() const override { return Encode(0); }
  Status Merge(std::string* acc, std::string_view other) const override;
  Status MergeMany(std::string* acc, std::span<const std::string_view> others) const override;
  Status Lift(const Value& value, std::string* out) const override;
  Result<std::string> ToJson(std::string_view encoded) const override;
  Status Validate(std::string_view encoded) const override { return Decode(encoded).status(); }

  static std::string Encode(uint64_t n);
  static Result<uint64_t> Decode(std::string_view encoded);
  static const std::string& One();
};

}  // namespace braid::views
