// Partition: one partition of a topic: an append-only sequence of Kafka
// RecordBatch v2 batches with offsets, stored as segment files.
//
// Offsets: every record has an offset; a batch holding n records at base
// offset b covers [b, b+n-1]. log start offset = first readable offset;
// log end offset (LEO) = the offset the next record gets. With one replica,
// high watermark = LEO: a batch is visible to readers as soon as Append has
// written it (before any fsync), as in Kafka with one replica.
//
// Durability: see LogOptions and README.md. In short: appended bytes are in
// the OS page cache when Append returns; they are durable once a flush has
// covered them (flush.messages, flush.ms, LogOptions::fsync_every_append, a
// segment roll, Flush() or Log::Close()). AppendResult::flushed tells.
//
// Thread safety: all methods are thread-safe. Appends (and DeleteRecords,
// retention, flush) on one partition are serialized by a mutex; reads run
// concurrently with them and with each other and see only whole appended
// batches. Partitions are independent: different partitions append in
// parallel. A Partition is owned by shared_ptr; after its topic is deleted
// it stays valid but every call fails with NotFound.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"
#include "log/record_batch.h"
#include "log/topic_config.h"

namespace braid::log {

class Segment;
struct PartitionEnv;

struct AppendResult {
  Offset base_offset;               // offset of the first record appended
  Offset last_offset;               // offset of the last record appended
  int64_t log_append_time_ms = -1;  // broker time stamped (LogAppendTime topics), else -1
  Offset log_start_offset;          // after the append
  bool flushed = false;             // true if the batch was fsynced before returning
  // Only with AppendOptions::defer_sync: the append must be made durable
  // before it is acknowledged (fsync_every_append, or flush.messages was
  // reached) and was not synced yet: call SyncAsync(last_offset, ...).
  bool needs_sync = false;
};

struct AppendOptions {
  // Never fsync on the calling thread. When the append needs an fsync
  // (LogOptions::fsync_every_append, flush.messages), Append returns at once
  // with AppendResult::needs_sync set, and the caller makes it durable with
  // Partition::SyncAsync, which shares one fsync among every append made
  // before it starts (group commit on the log's sync thread). For network
  // threads, which must not block on a disk flush. Default: false (Append
  // fsyncs before returning when needed).
  bool defer_sync = false;
};

// A byte range of one segment file holding whole batches, ready for
// sendfile(2) (file->fd() >= 0 on the POSIX file system) or for copying.
// `file` keeps the segment open even if retention deletes it meanwhile.
struct FileSlice {
  std::shared_ptr<io::RandomAccessFile> file;  // null when empty
  uint64_t position = 0;                       // byte offset in the file
  uint64_t size = 0;                           // bytes; 0 = no batches
  Offset first_offset{0};                      // base offset of the first batch in the slice
  Offset next_offset{0};                       // offset after the last batch in the slice

  bool empty() const { return size == 0; }
  // Appends the slice's bytes to *out.
  Status AppendTo(std::string* out) const;
};

struct ReadResult {
  FileSlice slice;
  Offset high_watermark;
  Offset log_start_offset;
};

// One stored batch, copied out (for in-process consumers).
struct StoredBatch {
  BatchHeader header;
  std::string bytes;  // the whole batch, base offset field already assigned
};

struct TimestampLookup {
  Offset offset{-1};       // -1 if no record has timestamp >= t
  int64_t timestamp = -1;  // that record's timestamp (-1 if none)
};

struct PartitionStats {
  std::string topic;
  PartitionId partition;
  Offset log_start_offset;
  Offset log_end_offset;
  Offset high_watermark;
  Offset flushed_offset;  // every offset below is durable
  uint64_t size_bytes = 0;
  uint64_t segment_count = 0;
  uint64_t flush_count = 0;  // fsyncs of this partition's files
  uint64_t appended_batches = 0;
};

class Partition : public std::enable_shared_from_this<Partition> {
 public:
  using WaiterId = uint64_t;

  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  const std::string& topic() const { return topic_; }
  PartitionId id() const { return id_; }

  // Appends one or more whole RecordBatch v2 batches (`batches` holds them
  // back to back, exactly). Validates every batch first (ValidateBatch, and
  // size <= max.message.bytes); on any error nothing is appended. Assigns
  // offsets by rewriting each batch's base offset field (and, for
  // LogAppendTime topics, the timestamp type bit, max timestamp and CRC).
  // Errors: Corruption (CRC; Kafka CORRUPT_MESSAGE), InvalidArgument (Kafka
  // INVALID_RECORD), ResourceExhausted with s.IsTooLarge() (MESSAGE_TOO_LARGE),
  // IOError/ResourceExhausted (KAFKA_STORAGE_ERROR; after a failed write
  // the partition rolls back the partial batch, or goes offline with
  // FailedPrecondition until reopened if even that fails).
  Result<AppendResult> Append(std::string_view batches);
  Result<AppendResult> Append(std::string_view batches, const AppendOptions& options);

  // Runs `done` once every offset <= `offset` is durable: at once, on the
  // calling thread, if it already is (or the partition is closed/deleted:
  // then with FailedPrecondition/NotFound); otherwise on the log's sync
  // thread after the fsync that covers it (OK), or with the fsync's error
  // (the partition is then offline). Concurrent callers share fsyncs: one
  // fsync covers every append made before it started. `done` must be quick
  // (e.g. encode and hand over a response); it runs without partition locks.
  void SyncAsync(Offset offset, std::function<void(Status)> done);

  // Returns whole batches starting with the one containing `offset`, from one
  // segment, up to `max_bytes` in total but always at least one whole batch
  // (KIP-74). offset == LEO gives an empty slice. offset < log start or
  // > LEO → OutOfRange.
  Result<ReadResult> Read(Offset offset, uint64_t max_bytes) const;

  // Like Read, but copies the batches out and parses their headers.
  Result<std::vector<StoredBatch>> ReadBatches(Offset offset, uint64_t max_bytes) const;

  // Kafka ListOffsets with a timestamp t >= 0: the first record (in offset
  // order, at or after log start) whose timestamp is >= t. Batches with max
  // timestamp < t are skipped; in the first other batch the record is found
  // by scanning its records, decompressed if needed (if they cannot be
  // read, the batch's base offset and max timestamp are returned).
  Result<TimestampLookup> LookupTimestamp(int64_t t) const;

  Offset log_start_offset() const { return Offset(log_start_.load()); }
  Offset log_end_offset() const { return Offset(log_end_.load()); }
  Offset high_watermark() const { return log_end_offset(); }
  // Every offset below this has been fsynced.
  Offset flushed_offset() const { return Offset(flushed_.load()); }

  // Kafka DeleteRecords: moves the log start offset up to `offset` (no-op if
  // already >= offset; OutOfRange if offset > high watermark). Persisted
  // atomically before returning; segments entirely below it are deleted.
  // Returns the new log start offset.
  Result<Offset> DeleteRecords(Offset offset);

  // fsyncs everything appended so far.
  Status Flush();

  // Seals the active segment (fsync, indexes written) and starts a new one
  // at the log end offset, if the active segment holds any batch; no-op
  // otherwise. Afterwards every offset below the log end offset is in sealed
  // segments, which DeleteRecords and retention can delete. An error takes
  // the partition offline, as a failed roll on append does.
  Status Roll();

  PartitionStats stats() const;

  // Blocks until LEO > offset (true) or the deadline passes (false). Also
  // returns (false) when the partition is deleted or closed.
  bool WaitForData(Offset offset, std::chrono::steady_clock::time_point deadline) const;

  // Registers a one-shot callback, invoked once LEO > offset (immediately,
  // on the calling thread, if that already holds), or when the partition is
  // deleted or closed. Otherwise it runs on the appending thread right after
  // the append, without partition locks held: it must be quick (e.g. post
  // to an executor) and may call CancelWaiter/RegisterWaiter. Returns an id
  // for CancelWaiter.
  WaiterId RegisterWaiter(Offset offset, std::function<void()> callback);
  // Removes a waiter that has not fired. Returns false if it has fired or is
  // unknown. After it returns, the callback is not running and will not run
  // (unless it is running on this very thread).
  bool CancelWaiter(WaiterId id);

  // ---- Used by Log only. ----
  static Result<std::shared_ptr<Partition>> Open(std::shared_ptr<PartitionEnv> env,
                                                 std::string topic, PartitionId id, std::string dir,
                                                 TopicConfig config, bool create);
  void SetConfig(const TopicConfig& config);
  // Retention, time-based roll, flush.ms.
  Status RunMaintenance(int64_t now_ms);
  // Called by the log's sync thread: fsyncs what pending SyncAsync callers
  // wait for and runs their callbacks.
  void RunDeferredSync();
  // Flushes and closes files; later calls fail with FailedPrecondition
  // (deleted = true: NotFound). Wakes every waiter.
  Status Close(bool deleted);
  const std::string& dir() const { return dir_; }

 private:
  Partition(std::shared_ptr<PartitionEnv> env, std::string topic, PartitionId id, std::string dir,
            TopicConfig config);
  using SegmentList = std::vector<std::shared_ptr<Segment>>;

  Status Recover(bool create);
  Status CheckUsable() const;
  Status RollLocked(Offset base, int64_t now_ms);
  Status FlushLocked();
  // Group commit: makes every offset below `target` durable, sharing one
  // fsync among concurrent callers. Called without append_mu_.
  Status SyncTo(int64_t target);
  void AdvanceFlushed(int64_t to);
  Status WriteLogStartLocked(Offset start);
  Status DeleteSegmentsLocked(size_t count);
  // Deletes leading segments per retention.ms/retention.bytes (unless
  // only_log_start) and those entirely below the log start offset.
  Status RetentionLocked(int64_t now_ms, bool only_log_start);
  struct AppendItem {
    std::string_view bytes;
    BatchHeader header;
  };
  // *sync_to: > 0 if the caller must SyncTo(*sync_to) after unlocking.
  Result<AppendResult> AppendLocked(const AppendItem* items, size_t n, int64_t* sync_to);
  // Runs the SyncAsync callbacks that `s` settles: OK for offsets below
  // flushed_offset(); if !s.ok(), every other one with `s`.
  void SettleDurableWaiters(const Status& s);
  Status AppendValidated(std::string_view batch, const BatchHeader& h, int64_t now_ms,
                         AppendResult* result, int64_t* records);
  std::shared_ptr<const SegmentList> Snapshot() const;
  void PublishLocked();
  void NotifyWaiters();
  Result<std::vector<StoredBatch>> ReadBatchesImpl(Offset offset, uint64_t max_bytes) const;

  const std::shared_ptr<PartitionEnv> env_;
  const std::string topic_;
  const PartitionId id_;
  const std::string dir_;

  // Serializes appends, rolls, retention, flushes and config changes.
  mutable std::mutex append_mu_;
  TopicConfig config_;                // guarded by append_mu_
  SegmentList segments_;              // guarded by append_mu_; the last is active
  int64_t unflushed_records_ = 0;     // guarded by append_mu_
  int64_t oldest_unflushed_ms_ = -1;  // guarded by append_mu_
  enum class State : uint8_t { kOpen, kOffline, kClosed, kDeleted };
  std::atomic<State> state_{State::kOpen};

  // Serializes group-commit fsyncs. Lock order: sync_mu_ before append_mu_.
  std::mutex sync_mu_;

  // Published view for readers.
  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const SegmentList> snapshot_;  // guarded by snapshot_mu_

  std::atomic<int64_t> log_start_{0};
  std::atomic<int64_t> log_end_{0};
  std::atomic<int64_t> flushed_{0};
  std::atomic<uint64_t> flush_count_{0};
  std::atomic<uint64_t> appended_batches_{0};

  // Waiters.
  mutable std::mutex wait_mu_;
  mutable std::condition_variable wait_cv_;
  std::map<WaiterId, std::pair<Offset, std::function<void()>>> waiters_;  // guarded by wait_mu_
  WaiterId next_waiter_id_ = 1;                                           // guarded by wait_mu_
  WaiterId running_waiter_ = 0;                                           // guarded by wait_mu_
  std::thread::id running_thread_;                                        // guarded by wait_mu_
  mutable std::condition_variable waiter_done_cv_;

  // SyncAsync callers: (offset, callback), settled by RunDeferredSync/Close.
  std::mutex durable_mu_;
  std::vector<std::pair<int64_t, std::function<void(Status)>>>
      durable_waiters_;                      // guarded by durable_mu_
  std::atomic<bool> sync_scheduled_{false};  // queued on the sync thread
};

}  // namespace braid::log
