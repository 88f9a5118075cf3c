// Bearer tokens of braid's HTTP APIs: one JSON file, DIR/tokens.json (DIR
// is <data>/security), holding per token its id, name, scope, creation time
// and the SHA-256 of the token, never the token itself.
//
// A token is "braid_" + 64 hex digits: 256 bits from OpenSSL's CSPRNG
// (RAND_bytes). Create() returns it once; only its hash is stored. Lookup
// hashes the presented token and compares it with every stored hash in
// constant time (CRYPTO_memcmp, no early exit).
//
// Durability and concurrency as the user store: read-modify-write under an
// flock on DIR/tokens.lock, atomic replace (temporary file 0600, fsync,
// rename, directory fsync), DIR 0700. Readers reload the file when it
// changed on disk (inode, size or mtime), so a running braid sees tokens
// created or deleted by `braid tokens` at the next request.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace braid::security {

inline constexpr const char* kTokensFileName = "tokens.json";

// What a credential may do on braid's HTTP APIs. kAdmin includes kRead.
enum class HttpScope : int8_t { kRead = 1, kAdmin = 2 };
// "read" / "admin".
std::string_view HttpScopeName(HttpScope s);
std::optional<HttpScope> ParseHttpScope(std::string_view name);

struct TokenInfo {
  std::string id;    // 16 hex digits, random, unique
  std::string name;  // unique; the id when none was given
  HttpScope scope = HttpScope::kRead;
  int64_t created_ms = 0;  // wall clock
  std::string sha256;      // raw 32 bytes: SHA-256 of the token
};

class TokenStore {
 public:
  // Opens (creating DIR if needed) the store; a missing tokens.json is an
  // empty store. Corruption if the file does not parse.
  static Result<std::unique_ptr<TokenStore>> Open(std::string dir);

  // Creates a token with `scope` and `name` ("" = its id); AlreadyExists if
  // a token has that name; InvalidArgument for a malformed name. Returns the
  // token (shown once) and stores its hash.
  Result<std::string> Create(HttpScope scope, const std::string& name, TokenInfo* info = nullptr);
  // Every token, sorted by creation time. Reloads the file if it changed.
  Result<std::vector<TokenInfo>> List();
  // Deletes the token whose name or id is `name_or_id`; NotFound if none.
  Status Delete(const std::string& name_or_id);
  // The token `token` (as sent by a client), or nullopt if it is unknown.
  // Reloads the file if it changed.
  Result<std::optional<TokenInfo>> Find(std::string_view token);

  const std::string& dir() const { return dir_; }

 private:
  explicit TokenStore(std::string dir) : dir_(std::move(dir)) {}
  Status RefreshLocked();

  const std::string dir_;
  std::mutex mu_;
  std::vector<TokenInfo> tokens_;  // guarded by mu_
  uint64_t ino_ = 0, size_ = 0;
  int64_t mtime_ns_ = 0;
  bool loaded_ = false;
};

// SHA-256 of `data` (raw 32 bytes).
std::string Sha256(std::string_view data);
// Lower-case hex of `data`.
std::string HexEncode(std::string_view data);

}  // namespace braid::security
