// Owner-only files of the security module (users.json, acls.json,
// tokens.json).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace braid::security {

// Creates `dir` with mode 0700 if it does not exist.
Status MakePrivateDir(const std::string& dir);
// The whole file; NotFound if it does not exist; Corruption above 64 MiB.
Result<std::string> ReadPrivateFile(const std::string& path);
// Replaces `path` (inside `dir`) atomically with `contents`, mode 0600:
// temporary file, fsync, rename, fsync of `dir`.
Status WritePrivateFile(const std::string& dir, const std::string& path,
                        const std::string& contents);

// An exclusive flock(2) on `path` (created 0600 if missing), held for the
// object's lifetime: serializes read-modify-writes across processes.
class FileLock {
 public:
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace braid::security
