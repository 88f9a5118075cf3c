// Idempotent producers: producer id allocation (InitProducerId) and the
// per-partition sequence check that turns producer retries into duplicates
// answered with the original offset (brief §3.5).
//
// Per (partition, producer id) the manager keeps the current epoch, the last
// sequence number and the (first seq, last seq, base offset) of the last
// `max_cached_batches` batches. For a batch from an idempotent producer
// (producer id >= 0):
//   epoch < current                          -> INVALID_PRODUCER_EPOCH (47)
//   epoch > current (or unknown producer):    base sequence must be 0, else
//                                               OUT_OF_ORDER_SEQUENCE_NUMBER (45)
//                                               (UNKNOWN_PRODUCER_ID (59) for an
//                                               unknown producer)
//   same seq range as a cached batch         -> duplicate: answer success with
//                                               the cached base offset, append
//                                               nothing
//   base sequence == last sequence + 1       -> append (sequences wrap at
//                                               INT32_MAX to 0)
//   entirely below the cached window         -> DUPLICATE_SEQUENCE_NUMBER (46)
//                                               (librdkafka: "already
//                                               delivered")
//   anything else                            -> OUT_OF_ORDER_SEQUENCE_NUMBER
//
// Durability: the state is a function of the log. After a restart it is
// rebuilt by LoadSnapshot (the snapshot file `<snapshot_dir>/<topic>-<p>
// .producers`, written by WriteSnapshot(s)) followed by ReplayBatch for
// every batch from the returned offset to the log end (RecoverFromLog in
// producer_state_log.h does both for a log::Partition). A retry that reaches
// the broker after a restart is therefore still recognised as a duplicate.
//
// Thread safety: thread-safe. Check + append + OnAppended must not interleave
// with another producer batch of the same partition: use CheckAndAppend
// (holds a per-partition mutex around the caller's append), or serialize
// yourself.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"
#include "kafka/group/offsets_topic_format.h"  // TopicPartition
#include "kafka/protocol/error_code.h"

namespace braid::kafka {

// Creates `dir` (and missing parents) and makes the entries durable by
// syncing every directory from `dir` up to the root.
Status CreateDirsDurably(io::FileSystem* fs, const std::string& dir);

// The producer fields of a RecordBatch v2 header.
struct ProducerBatch {
  ProducerId producer_id{-1};  // -1: not an idempotent producer
  ProducerEpoch producer_epoch{-1};
  int32_t base_sequence = -1;
  int32_t last_offset_delta = 0;  // record count - 1
  int64_t max_timestamp = -1;
  bool is_control = false;
};

struct ProducerCheck {
  enum class Outcome : uint8_t {
    kAppend,     // append the batch, then call OnAppended
    kDuplicate,  // do not append; answer success with duplicate_base_offset
    kError,      // do not append; answer `error`
  };
  Outcome outcome = Outcome::kAppend;
  ErrorCode error = ErrorCode::kNone;
  Offset duplicate_base_offset{-1};  // kDuplicate: the original base offset
                                     // (-1 with error 46 for old duplicates)
};

struct ProducerStateOptions {
  // Directory of the per-partition snapshot files; "" disables snapshots
  // (recovery then replays the whole log). Default: "".
  std::string snapshot_dir;
  // Batches remembered per producer for duplicate detection (librdkafka and
  // the Java client keep at most 5 in flight). Default: 5.
  size_t max_cached_batches = 5;
  // producer.id.expiration.ms: producers idle this long (by batch timestamp,
  // wall clock) are forgotten by ExpireProducers. Default: 86'400'000 (1 day).
  int64_t producer_expiration_ms = 86'400'000;
};

class ProducerStateManager {
 public:
  ProducerStateManager(io::FileSystem* fs, Clock* clock, ProducerStateOptions options);
  ~ProducerStateManager();
  ProducerStateManager(const ProducerStateManager&) = delete;
  ProducerStateManager& operator=(const ProducerStateManager&) = delete;

  // Decides what to do with a batch (see the table above). Non-idempotent
  // batches (producer id < 0) and control batches always get kAppend.
  ProducerCheck Check(const TopicPartition& tp, const ProducerBatch& batch);
  // Records a batch that was appended at `base_offset`.
  void OnAppended(const TopicPartition& tp, const ProducerBatch& batch, Offset base_offset);

  // Check, then (only for kAppend) `append()` which appends the batch and
  // returns its base offset, then OnAppended; all under the partition's
  // mutex. Returns the check (with kDuplicate/kError the append is skipped)
  // or the append's error.
  Result<ProducerCheck> CheckAndAppend(const TopicPartition& tp, const ProducerBatch& batch,
                                       const std::function<Result<Offset>()>& append);

  // Recovery, step 1: loads the partition's snapshot, if any and usable.
  // Returns the offset from which the log must be replayed (ReplayBatch for
  // every batch at or after it, in order): the snapshot's end offset, or
  // `log_start` without a usable snapshot. A snapshot beyond `log_end` (the
  // log was truncated) is discarded.
  Result<Offset> LoadSnapshot(const TopicPartition& tp, Offset log_start, Offset log_end);
  // Recovery, step 2: applies a batch read back from the log (no checks).
  void ReplayBatch(const TopicPartition& tp, const ProducerBatch& batch, Offset base_offset);

  // Writes the partition's snapshot (atomically). Cheap to call on shutdown
  // and periodically (it bounds replay after a restart).
  Status WriteSnapshot(const TopicPartition& tp);
  Status WriteSnapshots();
  // Forgets a deleted partition (state and snapshot file).
  void RemovePartition(const TopicPartition& tp);
  // Forgets producers idle longer than producer_expiration_ms.
  void ExpireProducers();

  // For tests and metrics.
  size_t ProducerCount(const TopicPartition& tp) const;

 private:
  struct CachedBatch {
    int32_t first_seq;
    int32_t last_seq;
    Offset base_offset;
  };
  struct Producer {
    ProducerEpoch epoch{-1};
    int32_t last_seq = -1;
    int64_t last_timestamp = -1;
    std::deque<CachedBatch> batches;
  };
  struct PartitionState {
    std::mutex append_mu;                      // held by CheckAndAppend across the append
    std::map<ProducerId, Producer> producers;  // guarded by ProducerStateManager::mu_
    Offset next_offset{0};                     // offset after the last batch seen
  };

  std::shared_ptr<PartitionState> GetState(const TopicPartition& tp);  // creates; mu_ held
  ProducerCheck CheckLocked(PartitionState* s, const ProducerBatch& batch) const;
  void ApplyLocked(PartitionState* s, const ProducerBatch& batch, Offset base_offset);
  std::string SnapshotPath(const TopicPartition& tp) const;
  Status WriteSnapshotLocked(const TopicPartition& tp, const PartitionState& s);

  io::FileSystem* fs_;
  Clock* clock_;
  ProducerStateOptions options_;
  mutable std::mutex mu_;
  std::map<TopicPartition, std::shared_ptr<PartitionState>> partitions_;
};

// Hands out producer ids that are never reused, also across restarts: ids are
// reserved in blocks whose end is persisted (atomically) in `path` before
// any id of the block is used. Thread-safe.
class ProducerIdManager {
 public:
  // Default block: 1000 ids per persisted reservation.
  static Result<std::unique_ptr<ProducerIdManager>> Open(io::FileSystem* fs, std::string path,
                                                         int64_t block_size = 1000);
  Result<ProducerId> Next();

 private:
  ProducerIdManager(io::FileSystem* fs, std::string path, int64_t block_size);
  Status ReserveBlockLocked();

  io::FileSystem* fs_;
  std::string path_;
  int64_t block_size_;
  std::mutex mu_;
  int64_t next_ = 0;       // guarded by mu_
  int64_t block_end_ = 0;  // guarded by mu_; persisted
};

}  // namespace braid::kafka
