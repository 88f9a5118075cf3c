// The lock of a data directory. Every process that opens a data directory
// for writing holds an exclusive flock(2) on DIR/LOCK for as long as it runs
// (LevelDB's LOCK, Kafka's .lock); a second process gets a clear error naming
// the directory and the PID that holds it, and changes nothing. The kernel
// drops the lock when the process dies (also on kill -9), so a stale LOCK
// file never blocks a restart.
//
// The file's text says who holds it, for commands meant to run beside a live
// process (status, verify, ...), which talk to it over its HTTP API:
//   pid 1234
//   http 127.0.0.1:8080        (only when the holder serves HTTP;
//                               "https://127.0.0.1:8080" when it serves TLS)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace braid::runtime {

inline constexpr const char* kLockFileName = "LOCK";

struct DataDirOwner {
  int64_t pid = 0;
  // "host:port" of its HTTP API ("https://host:port" with TLS: use
  // http::UrlOf), empty if none.
  std::string http;
};

class DataDirLock {
 public:
  // Creates `dir` if needed and locks it. FailedPrecondition ("data directory
  // DIR is in use by braid process PID") if another process holds it; IOError
  // on other failures.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();  // releases the lock (the file stays)
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Records the HTTP address in the lock file (for commands run beside us).
  Status SetHttpAddress(const std::string& host_port);
  const std::string& dir() const { return dir_; }

 private:
  DataDirLock(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}
  Status Write(const std::string& http);
  std::string dir_;
  int fd_;
};

// The live process that holds `dir`'s lock, or nullopt if none does (no
// LOCK file, or nobody holds it).
Result<std::optional<DataDirOwner>> FindDataDirOwner(const std::string& dir);

}  // namespace braid::runtime
