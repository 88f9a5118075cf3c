// RealtimeStore: the speed layer's realtime views, one RocksDB store under
// DIR/realtime/. It holds, per view, monoid cells in *realtime generations*
// and the offsets the speed layer has consumed, always written together:
//
//   * Commit() writes the cells a micro-batch of one partition produced
//     (RocksDB Merge with the view's monoid: the merge operator calls
//     Monoid::Merge on the encoded values) and the partition's new consumed
//     offset of every view in ONE atomic WriteBatch. After a crash (kill -9)
//     the store holds exactly the effect of the records below its consumed
//     offsets: the speed layer resumes there and never counts twice. Writes
//     are not fsynced (the WAL reaches the OS at once, which survives a
//     process crash); after a power failure the store comes back at an
//     earlier consistent point and the log is read again from there.
//   * Seal() closes the current generation at the cut of consumed offsets
//     (per view), recorded atomically with the state and fsynced: every
//     cell of the sealed generation comes from records below that cut and
//     at or above the previous one; later commits go to the next generation.
//   * Read() merges a view's cells over the generations after a given cut
//     (a batch view's cut): batch(cut) ⊕ Read(after cut) counts every
//     record once (DESIGN.md "The batch/realtime boundary is a log cut").
//   * Drop() removes the sealed generations at or below a cut (once a live
//     batch version covers them) and remembers the cut as the view's floor.
//
// Partition ownership (consumer groups, several speed processes): a store
// holds the state of the partitions it was assigned. AcquirePartition says
// where to resume (the stored consumed offsets, else the view's floor, else
// the log start); ReleasePartition deletes a partition's state (its cells in
// every generation, its offsets) when another process takes it over, which
// recomputes it from the log. Cells are kept per source partition for that
// reason (and merged over partitions when read).
//
// Key layout (one column family; integers big-endian):
//   'c' view_id:u32 generation:u64 cell_key partition:u32 → monoid value (Merge)
//   'o' view_id:u32 partition:u32                         → consumed offset:u64
//   'g' generation:u64                                    → generation record (JSON)
//   'v' view name                                         → {id, topic, fingerprint, monoid}
//   'm' "current"                                         → current generation:u64
// The cell key is views::EncodeCellKey (self-delimiting). See README.md.
//
// Views: Open() gets the definitions. A stored view whose fingerprint
// changed (a changed definition) or that is no longer defined loses its
// state (its cells were computed by another definition).
//
// Thread safety: thread-safe. Commits of different partitions may run
// concurrently; Seal(), Drop() and partition changes exclude commits for
// their short duration; reads run on a RocksDB snapshot beside everything.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "log/cut.h"
#include "views/monoid.h"
#include "views/view.h"

namespace rocksdb {
class DB;
class Snapshot;
}  // namespace rocksdb

namespace braid::stream {

struct RealtimeStoreOptions {
  // The store's directory (DIR/realtime). Required.
  std::string dir;
  // Time source for generation timestamps. Default: SystemClock().
  Clock* clock = nullptr;
  // RocksDB's max_successive_merges: a cell with this many merge operands
  // in the memtable is collapsed on the next write (a read per write: it
  // halves the write rate), keeping reads of hot cells cheap. 0: never (a
  // read merges the operands of the memtable; flushes merge them).
  // Default: 0.
  size_t max_successive_merges = 0;
  // RocksDB write buffer size. Default: 8 MiB: at a steady rate every
  // micro-batch inserts hundreds of merge operands at scattered keys, and a
  // small memtable's skip list stays in cache (bench/speed: p99 latency at
  // 100,000 events/s fell from 0.3-1.3 s with 64 MiB to 50-75 ms).
  size_t write_buffer_size = size_t{8} << 20;
  // fsync the WAL on Seal() and Drop(). Default: true (tests turn it off).
  bool sync_seal = true;
};

// A view as the store knows it.
struct StoreView {
  std::string name;
  std::string topic;
  std::string fingerprint;
  std::shared_ptr<const views::Monoid> monoid;
};

// One realtime generation as listed.
struct GenerationInfo {
  RealtimeGeneration id{0};
  bool sealed = false;
  int64_t opened_ms = 0;
  int64_t sealed_ms = 0;
  // Per view: where its cells in this generation begin (per partition)...
  std::map<std::string, log::Cut> start;
  // ...and, once sealed, where they end (the consumed offsets at the seal).
  std::map<std::string, log::Cut> end;
};

struct SealedGeneration {
  RealtimeGeneration id{0};
  // Per view: the cut the generation was sealed at.
  std::map<std::string, log::Cut> cuts;
  // Per source topic: the cut, when every view of the topic was sealed at
  // the same one (views of a topic read it together; only a view that is
  // still catching up differs).
  std::map<std::string, log::Cut> topic_cuts;
};

// The cells of one partition's micro-batch for one view.
struct ViewDelta {
  size_t view = 0;        // index in views()
  Offset next_offset{0};  // the view's consumed offset after this batch
  // (cell key, encoded monoid value); any order, keys may repeat.
  std::vector<std::pair<std::string, std::string>> cells;
};

// What one micro-batch of one partition produced, for every view of its topic.
struct PartitionCommit {
  PartitionId partition{0};
  std::vector<ViewDelta> views;
};

// A read's answer.
struct RealtimeCells {
  // (cell key, value merged over partitions and generations), in key order.
  std::vector<std::pair<std::string, std::string>> cells;
  // The generations merged.
  std::vector<RealtimeGeneration> generations;
  // The view's consumed offsets the answer reflects (same snapshot).
  log::Cut consumed;
};

// A consistent read of one view's realtime cells after a cut: a RocksDB
// snapshot and the generations to merge, fixed when opened. Commits, seals
// and drops that run meanwhile do not change what it reads (a drop-through
// deletes cells the snapshot still sees). What the serving layer reads
// through (its realtime CellSource). Must not outlive its store.
//
// Thread safety: const methods may run on several threads.
class RealtimeSnapshot {
 public:
  ~RealtimeSnapshot();
  RealtimeSnapshot(const RealtimeSnapshot&) = delete;
  RealtimeSnapshot& operator=(const RealtimeSnapshot&) = delete;

  // The view's consumed offsets in this snapshot: the records below them
  // (and above the cut it was opened after) are in its cells.
  const log::Cut& consumed() const { return consumed_; }
  // The generations merged, oldest first.
  const std::vector<RealtimeGeneration>& generations() const { return ids_; }
  // One cell (an encoded cell key) merged over the partitions and the
  // generations, or nullopt if none has it.
  Result<std::optional<std::string>> Get(std::string_view cell_key) const;
  // The cells with keys in [begin, end) (end empty: no bound), merged, in
  // key order; `fn` returns false to stop.
  Status Scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

 private:
  friend class RealtimeStore;
  struct Gen {
    RealtimeGeneration id{0};
    std::set<int32_t> partitions;  // whose cells it merges
  };
  RealtimeSnapshot() = default;
  std::string Prefix(RealtimeGeneration g) const;

  rocksdb::DB* db_ = nullptr;
  const rocksdb::Snapshot* snap_ = nullptr;
  const views::Monoid* monoid_ = nullptr;
  uint32_t view_id_ = 0;
  std::vector<Gen> gens_;
  std::vector<RealtimeGeneration> ids_;
  log::Cut consumed_;
};

class RealtimeStore {
 public:
  // Opens (creating) the store and reconciles the stored views with `views`
  // (see the file comment). Errors: IOError, Corruption, InvalidArgument
  // (two views with one name).
  static Result<std::unique_ptr<RealtimeStore>> Open(RealtimeStoreOptions options,
                                                     std::vector<StoreView> views);
  ~RealtimeStore();
  RealtimeStore(const RealtimeStore&) = delete;
  RealtimeStore& operator=(const RealtimeStore&) = delete;

  const std::vector<StoreView>& views() const { return views_; }
  // The index of view `name` in views(), or NotFound.
  Result<size_t> ViewIndex(const std::string& name) const;

  // Writes one micro-batch atomically (see the file comment) into the
  // current generation. FailedPrecondition if the partition is not held
  // (never acquired, or released meanwhile): nothing is written.
  Status Commit(const PartitionCommit& commit);
  // The same with the views' deltas given by pointer (some may live
  // outside a PartitionCommit).
  Status Commit(PartitionId partition, std::span<const ViewDelta* const> views);

  // Takes partition `p` of `topic`: returns, per view of the topic (index in
  // views()), the offset to resume from (negative: the log start). A
  // partition without stored state starts at the view's floor in the
  // current generation.
  Result<std::map<size_t, Offset>> AcquirePartition(const std::string& topic, PartitionId p);
  // Deletes the state of partition `p` of `topic` (every view, every
  // generation), as when another process takes it over.
  Status ReleasePartition(const std::string& topic, PartitionId p);

  // The consumed offsets of a view (the partitions it holds).
  log::Cut Consumed(size_t view) const;
  // The floor of a view: the cut of its last Drop().
  log::Cut Floor(size_t view) const;

  // Seals the current generation at the consumed offsets; fsynced.
  Result<SealedGeneration> Seal();
  // Every live generation, oldest first (the last one is the open one).
  std::vector<GenerationInfo> ListGenerations() const;
  RealtimeGeneration current_generation() const;

  // Deletes the cells of `view` in every sealed generation whose end cut is
  // covered by `cut`, and raises the view's floor to `cut`. Returns the
  // generations dropped.
  Result<std::vector<RealtimeGeneration>> Drop(const std::string& view, const log::Cut& cut);

  // A snapshot of `view` merging the generations after `after` (a batch
  // view's cut): those whose start covers it; generations whose end it
  // covers are skipped. FailedPrecondition when a generation straddles
  // `after` (it is not a cut the store was sealed or dropped at); NotFound
  // for an unknown view.
  Result<std::unique_ptr<RealtimeSnapshot>> OpenSnapshot(const std::string& view,
                                                         const log::Cut& after) const;
  // The cells of `view` with keys in [begin, end) (encoded cell keys; end
  // empty: no bound) of OpenSnapshot(view, after), at most `limit` (0: no
  // limit). Errors: OpenSnapshot's, Corruption.
  Result<RealtimeCells> Read(const std::string& view, std::string_view begin, std::string_view end,
                             const log::Cut& after, size_t limit = 0) const;

  // Approximate bytes on disk.
  uint64_t ApproximateSize() const;

  struct MergeState;

 private:
  struct ViewState {
    uint32_t id = 0;
    log::Cut floor;
    std::map<PartitionId, Offset> consumed;  // guarded by consumed_mu_
  };
  struct Generation {
    GenerationInfo info;
  };
  RealtimeStore(RealtimeStoreOptions options, std::vector<StoreView> views);
  Status Load();
  Status WriteGeneration(const GenerationInfo& g, void* batch) const;  // rocksdb::WriteBatch*
  std::string CellPrefix(uint32_t view_id, RealtimeGeneration g) const;
  // Exclusive access (seal, drop, partition changes) against shared access
  // (commits). Writer-preferring, so that a seal is never starved.
  void LockShared() const;
  void UnlockShared() const;
  void LockExclusive() const;
  void UnlockExclusive() const;

  const RealtimeStoreOptions options_;
  const std::vector<StoreView> views_;
  std::vector<ViewState> state_;
  std::shared_ptr<MergeState> merge_state_;
  std::unique_ptr<rocksdb::DB> db_;

  mutable std::mutex lock_mu_;
  mutable std::condition_variable lock_cv_;
  mutable int readers_ = 0;          // guarded by lock_mu_
  mutable bool writer_ = false;      // guarded by lock_mu_
  mutable int writers_waiting_ = 0;  // guarded by lock_mu_

  // Guarded by the exclusive lock for writes, the shared lock for reads.
  std::map<uint64_t, GenerationInfo> generations_;
  uint64_t current_ = 1;
  mutable std::mutex consumed_mu_;  // guards ViewState::consumed
};

}  // namespace braid::stream
