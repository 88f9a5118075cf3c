// MapBuffer: a map task's output buffer. Without a Merger it appends every
// (partition, key, sort key, value) to an arena; Drain sorts them by
// (partition, key, sort key, emission order), runs the combiner over each
// key's group and writes a run. With a Merger it keeps one accumulated value
// per (partition, key) in a hash table, merging as values arrive (in-mapper
// combining); keys the Merger does not merge (ValueMerger::Merges) go to the
// arena as without one; Drain writes both in key order.
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "batch/job.h"
#include "batch/run_file.h"

namespace braid::batch {

class MapBuffer {
 public:
  // `merger` may be null. The buffer reports full() once it holds about
  // `limit_bytes`.
  MapBuffer(const ValueMerger* merger, uint64_t limit_bytes);
  ~MapBuffer();

  Status Add(uint32_t partition, std::string_view key, std::string_view sort_key,
             std::string_view value);
  bool empty() const { return count_ == 0; }
  bool full() const { return memory_ >= limit_; }
  // Approximate bytes held.
  uint64_t memory() const { return memory_; }
  uint64_t entries() const { return count_; }

  // Writes the content, sorted (and combined by `combiner` if not null and
  // there is no merger), to `out`, and empties the buffer. `counters` gets
  // the combiner's Count() calls (may be null).
  Status Drain(GroupReducer* combiner, RunWriter* out, std::map<std::string, int64_t>* counters);

 private:
  struct Entry {
    uint32_t partition;
    uint32_t seq;
    uint64_t offset;  // in arena_: key, then sort key, then value
    uint32_t key_size;
    uint32_t sort_size;
    uint32_t value_size;
  };
  class Group;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  const ValueMerger* merger_;
  const uint64_t limit_;
  uint64_t memory_ = 0;
  uint64_t count_ = 0;
  // Without a merger.
  std::string arena_;
  std::vector<Entry> entries_;
  // With a merger: key = 4-byte big-endian partition + key; the value
  // merged so far, and values not merged yet (varint-length-prefixed),
  // merged kMergeBatch at a time with ValueMerger::MergeMany (a sketch
  // decodes its accumulator once per batch, not once per value).
  struct Cell {
    std::string acc;
    std::string pending;
    uint32_t npending = 0;
  };
  static constexpr uint32_t kMergeBatch = 32;
  Status MergePending(std::string_view key, Cell* cell);
  std::unordered_map<std::string, Cell, Hash, Eq> table_;
  std::vector<std::string_view> views_;
  std::string scratch_;
};

}  // namespace braid::batch
