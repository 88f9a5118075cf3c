// MemoryFileSystem: a FileSystem held in memory, for tests.
//
// It models the POSIX durability contract of file_system.h exactly enough to
// test crash recovery deterministically:
//   * bytes appended to a file are durable once Sync() on a handle of that
//     file returns OK (the durable prefix; a Truncate below it shortens it);
//   * a directory entry (file or subdirectory created, renamed or deleted) is
//     durable once SyncDir() of its parent directory returns OK.
// SimulateCrash() drops everything that is not durable: files and
// directories whose entries were never synced disappear (or reappear, for
// deletions and renames), and every file is cut to its durable prefix. Handles
// opened before the crash keep working on detached copies, so whatever a
// dying process still writes through them never reaches the "disk".
//
// The root directory "/" always exists. Paths are absolute ('/'-separated);
// relative paths are taken as relative to "/".
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "io/file_system.h"

namespace braid::io {

class MemoryFileSystem final : public FileSystem {
 public:
  MemoryFileSystem();
  ~MemoryFileSystem() override;

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

  // Drops every byte and directory entry not made durable (see above).
  void SimulateCrash();

  // Test helpers: read or overwrite a whole file directly (the new content
  // counts as durable, entry included). WriteRaw creates missing parents.
  Result<std::string> ReadRaw(const std::string& path);
  void WriteRaw(const std::string& path, std::string contents);

  // Number of successful WritableFile::Sync() and SyncDir() calls.
  uint64_t sync_count() const;
  uint64_t dir_sync_count() const;

  struct Inode;

 private:
  std::string Normalize(const std::string& path) const;
  bool DirExistsLocked(const std::string& dir) const;

  mutable std::mutex mu_;
  // Live namespace (what a running process sees).
  std::map<std::string, std::shared_ptr<Inode>> files_;
  std::set<std::string> dirs_;
  // Durable namespace (what survives SimulateCrash()).
  std::map<std::string, std::shared_ptr<Inode>> durable_files_;
  std::set<std::string> durable_dirs_;
  uint64_t sync_count_ = 0;
  uint64_t dir_sync_count_ = 0;
  friend class MemWritableFile;
};

}  // namespace braid::io
