// FileSystem: the only way braid touches files. Three implementations:
//   PosixFileSystem          the real one (Default()).
//   MemoryFileSystem         in memory; can simulate a crash that drops every
//                            byte not yet made durable by Sync().
//   FaultInjectionFileSystem wraps another and fails the Nth write or sync,
//                            tears writes, or reports ENOSPC, deterministically.
// Every module that persists data takes a FileSystem* so that its crash and
// I/O-error behaviour is tested without real disks failing.
//
// Durability contract: data appended to a WritableFile is durable only after
// Sync() returns OK. A created, renamed or deleted directory entry is durable
// only after SyncDir() on its parent returns OK.
//
// Thread safety: a FileSystem is thread-safe. A WritableFile is used by one
// thread at a time; a RandomAccessFile may be read concurrently.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace braid::io {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends `data` at the end of the file.
  virtual Status Append(std::string_view data) = 0;
  // Appends the concatenation of `parts` as one Append, without the caller
  // copying them together (writev(2) on the POSIX file system). Default:
  // concatenates them and calls Append once.
  virtual Status AppendParts(std::initializer_list<std::string_view> parts);
  // Makes all appended data durable (fdatasync).
  virtual Status Sync() = 0;
  // Flushes and closes; further calls fail. The destructor closes too.
  virtual Status Close() = 0;
  // Current size in bytes, including data not yet synced.
  virtual uint64_t Size() const = 0;
  // Cuts the file to `size` bytes (size <= Size()).
  virtual Status Truncate(uint64_t size) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch` (at least n bytes).
  // Returns the bytes read (fewer only at end of file).
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual Result<uint64_t> Size() const = 0;
  // The OS file descriptor when the file is a real file (for sendfile), else -1.
  virtual int fd() const { return -1; }
};

enum class OpenMode : uint8_t {
  kTruncate,  // create or empty the file
  kAppend,    // create if missing, keep existing content, write at the end
  kCreateNew  // fail with AlreadyExists if the file exists
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                OpenMode mode) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, unordered; no "." or "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` and missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual Status DeleteFile(const std::string& path) = 0;
  // Deletes a directory and everything below it; OK if missing.
  virtual Status DeleteDirRecursive(const std::string& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes directory entry changes in `dir` durable (fsync on the directory).
  virtual Status SyncDir(const std::string& dir) = 0;
};

// The process-wide POSIX file system. Never null.
FileSystem* DefaultFileSystem();

// Reads a whole file. Fails with ResourceExhausted if it exceeds max_bytes.
Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path,
                                     uint64_t max_bytes = uint64_t{1} << 32);

// Writes `contents` to `path` so that a crash leaves either the old or the new
// file, never a mix: write `path.tmp`, Sync, rename over `path`, SyncDir.
Status WriteFileAtomically(FileSystem* fs, const std::string& path, std::string_view contents);

// Joins two path components with one '/'.
std::string JoinPath(std::string_view a, std::string_view b);
// The directory part of a path ("." if none).
std::string DirName(std::string_view path);

}  // namespace braid::io
