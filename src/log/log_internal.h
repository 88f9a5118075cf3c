// Internal to src/log: the environment shared by a Log's partitions and the
// Segment class. Not a public header.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"
#include "log/log.h"
#include "log/record_batch.h"

namespace braid::log {

// The log's background fsync thread: runs Partition::RunDeferredSync for
// partitions with pending SyncAsync callers (group commit). Started on first
// use; Stop() (Log::Close) joins it, and later Schedule calls are ignored.
class SyncThread {
 public:
  SyncThread() = default;
  ~SyncThread() { Stop(); }
  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;

  // Queues `p` for the next round. Returns false after Stop().
  bool Schedule(std::shared_ptr<Partition> p);
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Partition>> queue_;  // guarded by mu_
  bool stopped_ = false;                           // guarded by mu_
  std::thread thread_;                             // started under mu_
};

// Shared by a Log and its partitions.
struct PartitionEnv {
  io::FileSystem* fs = nullptr;
  Clock* clock = nullptr;
  LogOptions options;
  std::atomic<uint64_t> fsyncs{0};
  SyncThread syncer;

  Status Sync(io::WritableFile* f) {
    fsyncs.fetch_add(1, std::memory_order_relaxed);
    return f->Sync();
  }
  Status SyncDir(const std::string& dir) {
    fsyncs.fetch_add(1, std::memory_order_relaxed);
    return fs->SyncDir(dir);
  }
  // WriteFileAtomically, counting its two fsyncs.
  Status WriteAtomically(const std::string& path, std::string_view contents) {
    fsyncs.fetch_add(2, std::memory_order_relaxed);
    return io::WriteFileAtomically(fs, path, contents);
  }
};

namespace internal {

// Finds, among the records of `batch` (decompressing it if needed), the
// first record with timestamp >= t and offset >= min_offset. Returns false
// if there is none; errors: the batch's records cannot be read.
Result<bool> FindRecordByTimestamp(const BatchView& batch, int64_t t, Offset min_offset,
                                   Offset* offset, int64_t* timestamp);

}  // namespace internal

struct IndexEntry {
  int64_t offset;     // absolute base offset of the batch
  uint64_t position;  // byte position of the batch in the .log file
};
struct TimeIndexEntry {
  int64_t timestamp;  // max timestamp of all batches up to and including `offset`'s
  int64_t offset;     // absolute base offset of the batch holding that timestamp
};

// One segment: <base>.log plus its sparse indexes, kept in memory and
// written to <base>.index / <base>.timeindex when the segment is sealed
// (rolled) or the log is closed.
//
// Thread safety: mutators are called with the partition's append mutex
// held; the reader methods may run concurrently with them.
class Segment {
 public:
  Segment(PartitionEnv* env, std::string dir, Offset base);
  ~Segment();

  static std::string FileName(Offset base, std::string_view ext);
  // Parses "<20 digits>.log"; false otherwise.
  static bool ParseLogFileName(std::string_view name, Offset* base);

  // ---- Mutators (partition append mutex held). ----
  // Creates empty files for a new segment and opens it for appends.
  Status CreateNew();
  // Loads an existing segment. active: scans the whole file (length, CRC,
  // offset continuity), cuts a torn/corrupt tail and rebuilds the index in
  // memory. Otherwise loads the index files, validates them and rebuilds if
  // needed. *truncated_bytes: bytes cut off.
  Status Load(bool active, uint64_t* truncated_bytes);
  // Opens the .log for appending (after Load of the active segment).
  Status OpenForAppend();
  // Appends one batch, given as its first bytes and the rest (written
  // together, uncopied); the base offset field already holds the assigned
  // offset.
  Status Append(std::string_view head, std::string_view rest, const BatchHeader& h, int64_t now_ms);
  // Cuts the file back to `size` after a failed append.
  Status RollbackTo(uint64_t size);
  // fsyncs the .log; OK and no-op once the writer is closed (sealed).
  // May run concurrently with Append (group commit).
  Status SyncLog();
  // Writes the index files (atomically, synced) and syncs the log. Called on
  // roll and close.
  Status Seal();
  Status CloseWriter();
  Status DeleteFiles();

  // ---- Readers (any thread). ----
  Offset base_offset() const { return base_; }
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  Offset next_offset() const { return Offset(next_offset_.load(std::memory_order_acquire)); }
  // Largest batch max timestamp in the segment; -1 if empty.
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
  // Broker time of the first append (or the first batch's max timestamp
  // after recovery); -1 if empty. For segment.ms.
  int64_t roll_base_ms() const { return roll_base_ms_.load(std::memory_order_acquire); }
  const std::shared_ptr<io::RandomAccessFile>& file() const { return file_; }
  const std::string& path() const { return log_path_; }

  // Reads the header of the batch at `pos`; NotFound if fewer than a whole
  // batch's bytes are below `limit`.
  Result<BatchHeader> ReadHeaderAt(uint64_t pos, uint64_t limit) const;
  // Position of the batch containing the largest indexed offset <= target
  // (0 if none).
  uint64_t LookupPosition(Offset target) const;
  // The last index entry with start_pos < position <= max_pos, if any.
  bool LastEntryWithin(uint64_t start_pos, uint64_t max_pos, IndexEntry* out) const;
  // Offset to start a timestamp search for t: the offset of the last time
  // index entry with timestamp < t, or base offset.
  Offset LookupTimestampStart(int64_t t) const;

 private:
  struct ScanState;
  Status Scan(uint64_t from, uint64_t file_size, bool verify_crc, uint64_t* valid_end);
  void AddIndexEntriesLocked(const BatchHeader& h, uint64_t pos);
  Status LoadIndexFiles(uint64_t file_size, bool* valid);
  std::string EncodeIndex() const;
  std::string EncodeTimeIndex() const;

  PartitionEnv* const env_;
  const std::string dir_;
  const Offset base_;
  const std::string log_path_;
  const std::string index_path_;
  const std::string time_index_path_;

  // Guards the writer_ pointer against SyncLog() from a group-commit thread
  // racing CloseWriter(); Append() runs under the partition append mutex,
  // which also serializes every change of writer_.
  mutable std::mutex writer_mu_;
  std::unique_ptr<io::WritableFile> writer_;  // active segment only
  std::shared_ptr<io::RandomAccessFile> file_;

  std::atomic<uint64_t> size_{0};
  std::atomic<int64_t> next_offset_;
  std::atomic<int64_t> max_timestamp_{-1};
  std::atomic<int64_t> roll_base_ms_{-1};

  // Index building state (append mutex).
  uint64_t bytes_since_index_ = 0;
  int64_t offset_of_max_timestamp_ = -1;

  mutable std::mutex index_mu_;
  std::vector<IndexEntry> index_;           // guarded by index_mu_
  std::vector<TimeIndexEntry> time_index_;  // guarded by index_mu_
};

}  // namespace braid::log
