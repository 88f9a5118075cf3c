// Monoid: how a view aggregates. Both the batch layer (combine, reduce) and
// the speed layer (RocksDB merge operators) merge *encoded* values, so that
// a cell is the same bytes whichever layer produced it, and serving merges a
// batch cell with realtime cells with the same function.
//
// Contract of every implementation (tested for each): Merge is associative
// and Identity() is its neutral element, on every valid encoding; an
// encoding it did not produce (wrong version, truncated, hostile) gives
// Corruption, never a crash or an allocation from an unchecked length. The
// encoding of each monoid is documented and versioned (its first byte).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace braid::views {

class Monoid {
 public:
  virtual ~Monoid() = default;

  // The canonical spec, e.g. "count", "sum_int64", "hll(14)": part of a view
  // definition's fingerprint, so a changed monoid makes new batch views.
  virtual const std::string& spec() const = 0;
  // The encoding of the neutral element.
  virtual std::string Identity() const = 0;
  // *acc = *acc ⊕ other. Errors: Corruption for a malformed encoding (then
  // *acc is unchanged).
  virtual Status Merge(std::string* acc, std::string_view other) const = 0;
  // *acc = *acc ⊕ others[0] ⊕ others[1] ... Default: repeated Merge;
  // sketches override it to merge many at once.
  virtual Status MergeMany(std::string* acc, std::span<const std::string_view> others) const;
  // The value as JSON for the serving API: a number for counts and sums, an
  // estimate (a number) for HyperLogLog, documented objects for the others.
  virtual Result<std::string> ToJson(std::string_view encoded) const = 0;
};

// count: the number of events. Encoding: version byte 1, then the count as
// an unsigned LEB128 varint (Identity: 0). One event is Count::One().
class CountMonoid final : public Monoid {
 public:
  const std::string& spec() const override;
  std::string Identity() const override { return Encode(0); }
  Status Merge(std::string* acc, std::string_view other) const override;
  Result<std::string> ToJson(std::string_view encoded) const override;

  static std::string Encode(uint64_t n);
  static Result<uint64_t> Decode(std::string_view encoded);
  static const std::string& One();
};

}  // namespace braid::views
