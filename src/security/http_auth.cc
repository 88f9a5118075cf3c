#include "security/http_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/logging.h"

namespace braid::security {

namespace {

// Longest Authorization header value looked at (a basic credential of a
// 256-byte name and a long password, or a token, is far shorter).
constexpr size_t kMaxAuthorizationBytes = 4096;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

HttpAuthDecision Refuse(int status, std::string message) {
  HttpAuthDecision d;
  d.status = status;
  d.message = std::move(message);
  return d;
}

}  // namespace

bool MatchPathPattern(std::string_view pattern, std::string_view path) {
  for (;;) {
    const size_t ps = pattern.find('/'), qs = path.find('/');
    if ((ps == std::string_view::npos) != (qs == std::string_view::npos)) return false;
    const std::string_view p = pattern.substr(0, ps), q = path.substr(0, qs);
    if (p == "*") {
      if (q.empty()) return false;
    } else if (p != q) {
      return false;
    }
    if (ps == std::string_view::npos) return true;
    pattern.remove_prefix(ps + 1);
    path.remove_prefix(qs + 1);
  }
}

HttpScope RequiredScope(std::string_view method, std::string_view raw_path,
                        const std::vector<HttpReadRule>& rules) {
  if (method == "GET" || method == "HEAD") return HttpScope::kRead;
  for (const HttpReadRule& r : rules) {
    if (r.method == method && MatchPathPattern(r.pattern, raw_path)) return HttpScope::kRead;
  }
  return HttpScope::kAdmin;
}

Result<std::unique_ptr<HttpAuthenticator>> HttpAuthenticator::Open(HttpAuthOptions options) {
  if (options.dir.empty()) return Status::InvalidArgument("HTTP auth needs a security directory");
  if (options.clock == nullptr) options.clock = SystemClock();
  ASSIGN_OR_RETURN(std::unique_ptr<UserStore> users, UserStore::Open(options.dir));
  ASSIGN_OR_RETURN(std::unique_ptr<TokenStore> tokens, TokenStore::Open(options.dir));
  ASSIGN_OR_RETURN(std::string key, RandomBytes(32));
  ASSIGN_OR_RETURN(std::string dummy_password, RandomBytes(16));
  ASSIGN_OR_RETURN(ScramCredential dummy,
                   MakeCredential(ScramMechanism::kSha512, dummy_password, kDefaultIterations));
  return std::unique_ptr<HttpAuthenticator>(new HttpAuthenticator(
      std::move(options), std::move(users), std::move(tokens), std::move(key), std::move(dummy)));
}

HttpAuthenticator::HttpAuthenticator(HttpAuthOptions options, std::unique_ptr<UserStore> users,
                                     std::unique_ptr<TokenStore> tokens, std::string cache_key,
                                     ScramCredential dummy)
    : options_(std::move(options)),
      users_(std::move(users)),
      tokens_(std::move(tokens)),
      cache_key_(std::move(cache_key)),
      dummy_(std::move(dummy)),
      limiter_(options_.max_failed_per_address, options_.failed_window_ms) {}

Result<bool> HttpAuthenticator::VerifyUser(const std::string& user, std::string_view password) {
  const int64_t now = options_.clock->NowMillis();
  std::string data = user;
  data.push_back('\0');
  data.append(password);
  const std::string key = Hmac(cache_key_, data);
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      const CacheEntry e = it->second;
      if (e.expires_ms > now && e.user == user) {
        // Still the credential the password was checked against?
        ASSIGN_OR_RETURN(std::optional<ScramCredential> cred, users_->Find(user, e.mechanism));
        if (cred && cred->stored_key == e.stored_key) return true;
      }
      cache_.erase(it);
    }
  }
  std::optional<ScramCredential> cred;
  ASSIGN_OR_RETURN(cred, users_->Find(user, ScramMechanism::kSha512));
  if (!cred) {
    ASSIGN_OR_RETURN(cred, users_->Find(user, ScramMechanism::kSha256));
  }
  ++verifications_;
  if (!cred) {
    (void)VerifyPassword(dummy_, password);  // the same cost as a known user
    return false;
  }
  if (!VerifyPassword(*cred, password)) return false;
  if (key.empty() || options_.cache_entries == 0) return true;
  std::lock_guard<std::mutex> l(cache_mu_);
  if (cache_.size() >= options_.cache_entries) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.expires_ms <= now ? cache_.erase(it) : std::next(it);
    }
    if (cache_.size() >= options_.cache_entries) {
      auto oldest = std::min_element(
          cache_.begin(), cache_.end(),
          [](const auto& a, const auto& b) { return a.second.expires_ms < b.second.expires_ms; });
      cache_.erase(oldest);
    }
  }
  cache_[key] = CacheEntry{user, cred->mechanism, cred->stored_key, now + options_.cache_ttl_ms};
  return true;
}

HttpAuthDecision HttpAuthenticator::Check(const HttpAuthRequest& request, HttpScope required) {
  if (request.method == "GET" || request.method == "HEAD") {
    for (const std::string& p : options_.open_paths) {
      if (request.path == p) return HttpAuthDecision{};
    }
  }
  const std::string_view auth = Trim(request.authorization);
  if (auth.empty()) return Refuse(401, "authentication required");
  const std::string peer(request.peer);
  const int64_t now = options_.clock->NowMillis();
  if (limiter_.Blocked(peer, now)) {
    return Refuse(429, "too many failed authentications from this address; try again later");
  }
  const size_t space = auth.find(' ');
  const std::string_view scheme = auth.substr(0, space);
  const std::string_view value =
      space == std::string_view::npos ? std::string_view() : Trim(auth.substr(space + 1));
  if (auth.size() > kMaxAuthorizationBytes) {
    limiter_.RecordFailure(peer, now);
    return Refuse(401, "invalid credentials");
  }

  HttpAuthDecision d;
  HttpScope granted = HttpScope::kRead;
  if (EqualsIgnoreCase(scheme, "Basic")) {
    auto decoded = Base64Decode(value);
    const size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      limiter_.RecordFailure(peer, now);
      return Refuse(401, "malformed basic credentials");
    }
    const std::string user = decoded->substr(0, colon);
    const std::string_view password = std::string_view(*decoded).substr(colon + 1);
    Result<bool> ok = VerifyUser(user, password);
    if (!ok.ok()) {
      LOG_ERROR("http auth: cannot read the user store: {}", ok.status().ToString());
      return Refuse(503, "credentials cannot be checked now");
    }
    if (!*ok) {
      limiter_.RecordFailure(peer, now);
      return Refuse(401, "invalid credentials");
    }
    d.principal = "User:" + user;
    granted = options_.super_users.empty() ||
                      std::find(options_.super_users.begin(), options_.super_users.end(), user) !=
                          options_.super_users.end()
                  ? HttpScope::kAdmin
                  : HttpScope::kRead;
  } else if (EqualsIgnoreCase(scheme, "Bearer")) {
    Result<std::optional<TokenInfo>> t = tokens_->Find(value);
    if (!t.ok()) {
      LOG_ERROR("http auth: cannot read the token store: {}", t.status().ToString());
      return Refuse(503, "credentials cannot be checked now");
    }
    if (!t->has_value() || value.empty()) {
      limiter_.RecordFailure(peer, now);
      return Refuse(401, "invalid token");
    }
    d.principal = "Token:" + (*t)->name;
    granted = (*t)->scope;
  } else {
    return Refuse(401, "unsupported authentication scheme (use Basic or Bearer)");
  }
  if (static_cast<int>(granted) < static_cast<int>(required)) {
    d.status = 403;
    d.message = d.principal + " has the read scope; " + std::string(request.method) +
                " here needs the admin scope";
  }
  return d;
}

}  // namespace braid::security
