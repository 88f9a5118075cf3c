// The SCRAM user store: one JSON file, DIR/users.json (DIR is
// <data>/security for braid broker/up), holding per user and mechanism the
// salt, iteration count, StoredKey and ServerKey (never a password).
//
// Durability and safety: every change is a read-modify-write under an
// exclusive flock(2) on DIR/users.lock (so `braid users` and a running
// broker's AlterUserScramCredentials never lose each other's changes),
// written to a temporary file with mode 0600, fsynced, renamed over
// users.json and the directory fsynced. DIR is created with mode 0700.
// Readers (authentication) reload the file when it changed on disk (its
// inode, size or mtime), so users added by `braid users add` are seen by a
// running broker at its next authentication.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "security/scram.h"

namespace braid::security {

inline constexpr const char* kUsersFileName = "users.json";

// The store's directory inside a braid data directory: DATA/security.
inline std::string SecurityDir(const std::string& data_dir) { return data_dir + "/security"; }

struct UserInfo {
  std::string name;
  std::vector<ScramCredential> credentials;  // by mechanism, at most one each
};

class UserStore {
 public:
  // Opens (creating DIR if needed) the store; a missing users.json is an
  // empty store. Corruption if the file does not parse.
  static Result<std::unique_ptr<UserStore>> Open(std::string dir);

  // The user's credential for `m` (nullopt: unknown user or no credential
  // of that mechanism). Reloads the file if it changed.
  Result<std::optional<ScramCredential>> Find(const std::string& user, ScramMechanism m);
  // Every user, sorted by name. Reloads the file if it changed.
  Result<std::vector<UserInfo>> List();
  // Adds or replaces the user's credential of cred.mechanism.
  Status Upsert(const std::string& user, const ScramCredential& cred);
  // Deletes the user's credential of `m`, or all of them (nullopt).
  // NotFound if there was nothing to delete.
  Status Delete(const std::string& user, std::optional<ScramMechanism> m);
  // True if the store has at least one user (reloads).
  Result<bool> HasUsers();

  const std::string& dir() const { return dir_; }

 private:
  using Users = std::map<std::string, std::map<ScramMechanism, ScramCredential>>;
  explicit UserStore(std::string dir) : dir_(std::move(dir)) {}
  // Reloads under mu_ when the file changed.
  Status RefreshLocked();
  // Read-modify-write under the file lock.
  Status Modify(const std::function<Status(Users*)>& fn);

  const std::string dir_;
  std::mutex mu_;
  Users users_;  // guarded by mu_
  // Identity of the loaded file (inode, size, mtime ns); all 0: no file.
  uint64_t ino_ = 0, size_ = 0;
  int64_t mtime_ns_ = 0;
  bool loaded_ = false;
};

// Per-address limiter of failed authentications: an address with
// `max_failures` failures within `window_ms` is blocked (every further
// attempt fails without its credentials being checked) until the oldest of
// them leaves the window. Thread-safe; remembers at most 10000 addresses
// (the oldest entries are forgotten first).
class FailedAuthLimiter {
 public:
  FailedAuthLimiter(int max_failures, int64_t window_ms)
      : max_failures_(max_failures), window_ms_(window_ms) {}
  bool Blocked(const std::string& address, int64_t now_ms);
  void RecordFailure(const std::string& address, int64_t now_ms);

 private:
  const int max_failures_;
  const int64_t window_ms_;
  std::mutex mu_;
  std::map<std::string, std::vector<int64_t>> failures_;  // guarded by mu_
};

}  // namespace braid::security
