// Authentication and authorisation of braid's HTTP APIs (the schema
// registry, the runtime's /v1/..., /metrics, /console), without sockets: the
// caller (runtime, registry) hands over the parts of a request that matter
// and turns the decision into an HTTP answer.
//
// Credentials, from the Authorization header:
//   Basic BASE64(user:password)  the SASL users of DATA/security/users.json
//                                (what Confluent's clients send with
//                                basic.auth.user.info), checked with
//                                VerifyPassword (PBKDF2). Successful checks
//                                are cached (see HttpAuthOptions) so that a
//                                keep-alive client does not pay PBKDF2 per
//                                request; a cache hit still re-reads the
//                                user's credential, so deleting the user or
//                                changing the password takes effect at once.
//   Bearer TOKEN                 tokens of DATA/security/tokens.json
//                                (token_store.h, `braid tokens create`).
// Scopes: a token has the scope it was created with; a basic-auth user has
// kAdmin when it is one of `super_users` (or `super_users` is empty, the rule
// of KIP-554's user management), kRead otherwise.
//
// What a request needs: GET and HEAD need kRead, and so do the requests a
// caller lists as HttpReadRules (the POSTs that only read); everything else
// needs kAdmin. GET/HEAD of an `open_paths` entry need nothing.
//
// Refusals: no or malformed credentials, unknown user, wrong password or
// unknown token → 401 (the same message whether the user exists or not);
// authenticated but the scope is too small → 403; more than
// `max_failed_per_address` failed checks from one client address within
// `failed_window_ms` → 429 without checking the credentials (like the Kafka
// listener's FailedAuthLimiter); an unreadable users.json/tokens.json → 503.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "security/token_store.h"
#include "security/user_store.h"

namespace braid::security {

struct HttpAuthOptions {
  // The directory of users.json and tokens.json (DATA/security). Required.
  std::string dir;
  // Basic-auth users with the admin scope; empty: every user. Default: empty.
  std::vector<std::string> super_users;
  // Exact (decoded) paths whose GET/HEAD need no credentials. Default:
  // {"/health"}.
  std::vector<std::string> open_paths = {"/health"};
  // Failed checks from one address within `failed_window_ms` after which the
  // address gets 429 until the window passes. Default: 10 in 60 s (the
  // Kafka listener's defaults; the CLI passes the same flags to both).
  int max_failed_per_address = 10;
  int64_t failed_window_ms = 60'000;
  // Successful basic-auth checks remembered (keyed by the user and an HMAC
  // of user and password under a per-process random key, never the
  // password), each for `cache_ttl_ms`. Default: 4096 entries, 5 minutes.
  size_t cache_entries = 4096;
  int64_t cache_ttl_ms = 300'000;
  // Time source of the cache and the limiter. Default: SystemClock().
  Clock* clock = SystemClock();
};

// A request that needs only the read scope although its method is not GET or
// HEAD: `method` equals the request's, and `pattern` matches its raw path
// (see MatchPathPattern).
struct HttpReadRule {
  std::string method;
  std::string pattern;
};

// True if `path` (raw, not percent-decoded, without the query) matches
// `pattern`: the same number of '/'-separated segments, each equal, or '*'
// in the pattern matching exactly one non-empty segment. E.g.
// "/v1/views/*/values" matches "/v1/views/pageviews/values", not
// "/v1/views/a/b/values" nor "/v1/views//values".
bool MatchPathPattern(std::string_view pattern, std::string_view path);

// kRead for GET, HEAD and requests matching one of `rules`; kAdmin otherwise.
HttpScope RequiredScope(std::string_view method, std::string_view raw_path,
                        const std::vector<HttpReadRule>& rules);

struct HttpAuthRequest {
  std::string_view method;
  std::string_view path;           // percent-decoded, for open_paths
  std::string_view authorization;  // the Authorization header's value ("" if absent)
  std::string_view peer;           // client address, for the limiter ("" if unknown)
};

struct HttpAuthDecision {
  // 0: allowed; else the HTTP status to answer (401, 403, 429, 503).
  int status = 0;
  std::string message;    // why, safe to send to the client
  std::string principal;  // "User:NAME" or "Token:NAME" once authenticated, else ""
  bool allowed() const { return status == 0; }
};

class HttpAuthenticator {
 public:
  // Opens the user and token stores in options.dir (creating it, 0700).
  static Result<std::unique_ptr<HttpAuthenticator>> Open(HttpAuthOptions options);

  // Decides a request that needs `required`.
  HttpAuthDecision Check(const HttpAuthRequest& request, HttpScope required);

  // PBKDF2 verifications run so far (tests: cache hits run none).
  uint64_t password_verifications() const { return verifications_.load(); }

 private:
  HttpAuthenticator(HttpAuthOptions options, std::unique_ptr<UserStore> users,
                    std::unique_ptr<TokenStore> tokens, std::string cache_key,
                    ScramCredential dummy);
  // True if `password` is `user`'s; Status on an unreadable store.
  Result<bool> VerifyUser(const std::string& user, std::string_view password);

  struct CacheEntry {
    std::string user;
    ScramMechanism mechanism;
    std::string stored_key;  // of the credential the password was checked against
    int64_t expires_ms;
  };

  const HttpAuthOptions options_;
  std::unique_ptr<UserStore> users_;
  std::unique_ptr<TokenStore> tokens_;
  const std::string cache_key_;  // random, per process
  const ScramCredential dummy_;  // unknown users are checked against it (same cost)
  FailedAuthLimiter limiter_;
  std::atomic<uint64_t> verifications_{0};
  std::mutex cache_mu_;
  std::map<std::string, CacheEntry> cache_;  // by HMAC(user NUL password); guarded by cache_mu_
};

}  // namespace braid::security
