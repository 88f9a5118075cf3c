// FaultInjectionFileSystem: wraps another FileSystem (usually a
// MemoryFileSystem) and injects failures deterministically:
//   * the N-th WritableFile::Append from now fails (nothing lands);
//   * the N-th Append from now is torn: only its first K bytes land, then it
//     fails (what a crash in the middle of write(2) leaves behind);
//   * the N-th WritableFile::Sync from now fails;
//   * "no space" mode: every Append and every file creation fails with
//     ResourceExhausted (ENOSPC) until switched off.
// Counters of appends, bytes and syncs let tests assert on fsync policy.
//
// N counts from 1 ("the next call" is N = 1). Each armed fault fires once.
// Thread-safe; the wrapped FileSystem must outlive this object and every
// file opened through it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/file_system.h"

namespace braid::io {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  explicit FaultInjectionFileSystem(FileSystem* base);

  // Arms a fault. n >= 1.
  void FailNthAppend(int64_t n);
  void TearNthAppend(int64_t n, size_t prefix_bytes);
  void FailNthSync(int64_t n);
  // ENOSPC mode: Append and NewWritableFile fail with ResourceExhausted.
  void SetNoSpace(bool on);
  // Disarms every fault and leaves ENOSPC mode (counters are kept).
  void ClearFaults();

  // Counters since construction.
  uint64_t append_count() const { return appends_.load(); }
  uint64_t bytes_appended() const { return bytes_.load(); }
  uint64_t sync_count() const { return syncs_.load(); }
  uint64_t dir_sync_count() const { return dir_syncs_.load(); }
  uint64_t injected_failures() const { return failures_.load(); }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        OpenMode mode) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Status DeleteFile(const std::string& path) override;
  Status DeleteDirRecursive(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;

  // Called by the file wrappers. What to do with the next append/sync.
  struct AppendDecision {
    enum Kind { kOk, kFail, kTear, kNoSpace } kind = kOk;
    size_t prefix = 0;
  };
  AppendDecision NextAppend(size_t size);
  bool NextSyncFails();

 private:
  FileSystem* base_;
  std::mutex mu_;
  int64_t fail_append_in_ = 0;  // 0 = disarmed; counts down
  int64_t tear_append_in_ = 0;
  size_t tear_prefix_ = 0;
  int64_t fail_sync_in_ = 0;
  bool no_space_ = false;
  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> dir_syncs_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace braid::io
