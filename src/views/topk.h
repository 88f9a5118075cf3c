// Top-k: the most frequent items, as the `topk(k=K,capacity=C)` monoid: a
// Space-Saving summary (Metwally et al.) of at most C counters, reporting
// the K largest.
//
// Each counter holds an item, its count (an overestimate: true f <= count)
// and its error (count - error <= f). An item without a counter has
// f <= min, the smallest count, when the summary is full (C counters), and
// f = 0 otherwise. Guarantees, for n events: count - f <= error <= n/C, and
// every item with f > n/C has a counter.
//
// Merge (the parallel Space-Saving merge, Cafaro et al.): for every item of
// either summary, count = count_A + count_B and error = error_A + error_B,
// where a side without the item contributes its min if it is full (0
// otherwise) to both; then the C largest counts are kept (ties: the
// smaller item bytes). Every guarantee above holds after any merge tree
// (the kept counts sum to at most n_A + n_B, so min <= n/C); one event
// merged into a summary is exactly the Space-Saving update. Merge is
// commutative bit for bit, associative only up to the guarantees once
// counters are evicted (exactly otherwise).
//
// Encoding, version 1 (tag 0x09):
//   0x09, varint capacity C, varint n, varint counter count (<= C), then
//   per counter in item order (item bytes strictly ascending): varint item
//   length (<= kMaxItemBytes), item bytes, varint count (>= 1), varint
//   error (<= count); the counts sum to at most n.
// Item order makes a merge one linear pass over both summaries (and one
// event's merge a search and an insertion).
// The identity is the empty summary.
//
// Thread safety: TopKMonoid is immutable.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "views/monoid.h"

namespace braid::views {

struct TopKCounter {
  std::string item;
  uint64_t count = 0;
  uint64_t error = 0;
};

struct TopKSummary {
  uint64_t capacity = 0;
  uint64_t n = 0;
  std::vector<TopKCounter> counters;  // in item order
};

class TopKMonoid final : public Monoid {
 public:
  // Items longer than this are refused by Lift (and by decoding).
  static constexpr size_t kMaxItemBytes = 16 * 1024;

  explicit TopKMonoid(const MonoidSpec& spec);

  const std::string& spec() const override { return spec_text_; }
  const MonoidSpec& parsed_spec() const { return spec_; }
  std::string Identity() const override;
  Status Merge(std::string* acc, std::string_view other) const override;
  Status MergeMany(std::string* acc, std::span<const std::string_view> others) const override;
  // A string is one occurrence of it; a long, a double or a bool one of its
  // text ("42", "true"); null is the identity.
  Status Lift(const Value& value, std::string* out) const override;
  // {"n": N, "items": [{"item": "...", "count": c, "error": e}, ...]}: the k
  // largest counters, largest first (count - error is a lower bound of the
  // item's true count).
  Result<std::string> ToJson(std::string_view encoded) const override;
  Status Validate(std::string_view encoded) const override;

  uint32_t k() const { return spec_.topk_k; }
  uint32_t capacity() const { return capacity_; }
  // The summary in an encoding (Corruption as for Merge).
  Result<TopKSummary> Decode(std::string_view encoded) const;

 private:
  MonoidSpec spec_;
  std::string spec_text_;
  uint32_t capacity_;
};

}  // namespace braid::views
