#include "security/token_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "security/private_file.h"
#include "security/scram.h"

namespace braid::security {

namespace {

using json = nlohmann::json;

constexpr std::string_view kTokenPrefix = "braid_";
constexpr size_t kTokenRandomBytes = 32;  // 256 bits
constexpr size_t kMaxTokenNameBytes = 64;

Status ValidateTokenName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTokenNameBytes) {
    return Status::InvalidArgument("a token name has 1 to 64 characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument(
          "a token name may contain only letters, digits, '.', '_' "
          "and '-': '" +
          std::string(name) + "'");
    }
  }
  return Status::OK();
}

Result<std::vector<TokenInfo>> Parse(const std::string& path, const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("tokens") ||
      !doc["tokens"].is_array()) {
    return Status::Corruption(path + ": not a braid token store");
  }
  std::vector<TokenInfo> out;
  for (const json& t : doc["tokens"]) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string() || !t.contains("name") ||
        !t["name"].is_string() || !t.contains("scope") || !t["scope"].is_string() ||
        !t.contains("created_ms") || !t["created_ms"].is_number_integer() ||
        !t.contains("sha256") || !t["sha256"].is_string()) {
      return Status::Corruption(path + ": a token is malformed");
    }
    TokenInfo info;
    info.id = t["id"].get<std::string>();
    info.name = t["name"].get<std::string>();
    auto scope = ParseHttpScope(t["scope"].get<std::string>());
    auto hash = Base64Decode(t["sha256"].get<std::string>());
    if (!scope || !hash.ok() || hash->size() != 32) {
      return Status::Corruption(path + ": token " + info.name + " has a bad scope or hash");
    }
    info.scope = *scope;
    info.created_ms = t["created_ms"].get<int64_t>();
    info.sha256 = std::move(hash).value();
    out.push_back(std::move(info));
  }
  return out;
}

std::string Serialize(const std::vector<TokenInfo>& tokens) {
  json arr = json::array();
  for (const TokenInfo& t : tokens) {
    arr.push_back({{"id", t.id},
                   {"name", t.name},
                   {"scope", std::string(HttpScopeName(t.scope))},
                   {"created_ms", t.created_ms},
                   {"sha256", Base64Encode(t.sha256)}});
  }
  json doc = {{"version", 1}, {"tokens", std::move(arr)}};
  return doc.dump(2) + "\n";
}

}  // namespace

std::string_view HttpScopeName(HttpScope s) { return s == HttpScope::kAdmin ? "admin" : "read"; }

std::optional<HttpScope> ParseHttpScope(std::string_view name) {
  if (name == "read") return HttpScope::kRead;
  if (name == "admin") return HttpScope::kAdmin;
  return std::nullopt;
}

std::string Sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1) {
    // Only on allocation failure inside OpenSSL; a hash that matches nothing.
    return std::string(32, '\0');
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string HexEncode(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (char c : data) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<std::unique_ptr<TokenStore>> TokenStore::Open(std::string dir) {
  RETURN_IF_ERROR(MakePrivateDir(dir));
  std::unique_ptr<TokenStore> s(new TokenStore(std::move(dir)));
  {
    std::lock_guard<std::mutex> l(s->mu_);
    RETURN_IF_ERROR(s->RefreshLocked());
  }
  return s;
}

Status TokenStore::RefreshLocked() {
  const std::string path = dir_ + "/" + kTokensFileName;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::FromErrno(errno, "stat " + path);
    tokens_.clear();
    ino_ = size_ = 0;
    mtime_ns_ = 0;
    loaded_ = true;
    return Status::OK();
  }
  const int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (loaded_ && ino_ == st.st_ino && size_ == static_cast<uint64_t>(st.st_size) &&
      mtime_ns_ == mtime) {
    return Status::OK();
  }
  auto text = ReadPrivateFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      tokens_.clear();
      ino_ = size_ = 0;
      mtime_ns_ = 0;
      loaded_ = true;
      return Status::OK();
    }
    return text.status();
  }
  ASSIGN_OR_RETURN(tokens_, Parse(path, *text));
  ino_ = st.st_ino;
  size_ = static_cast<uint64_t>(st.st_size);
  mtime_ns_ = mtime;
  loaded_ = true;
  return Status::OK();
}

Result<std::string> TokenStore::Create(HttpScope scope, const std::string& name, TokenInfo* info) {
  if (!name.empty()) RETURN_IF_ERROR(ValidateTokenName(name));
  ASSIGN_OR_RETURN(std::string secret, RandomBytes(kTokenRandomBytes));
  ASSIGN_OR_RETURN(std::string id_bytes, RandomBytes(8));
  const std::string token = std::string(kTokenPrefix) + HexEncode(secret);
  TokenInfo t;
  t.id = HexEncode(id_bytes);
  t.name = name.empty() ? t.id : name;
  t.scope = scope;
  t.created_ms = SystemClock()->NowMillis();
  t.sha256 = Sha256(token);

  std::lock_guard<std::mutex> l(mu_);
  ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(dir_ + "/tokens.lock"));
  loaded_ = false;  // re-read under the file lock: another process may have written
  RETURN_IF_ERROR(RefreshLocked());
  for (const TokenInfo& o : tokens_) {
    if (o.name == t.name || o.id == t.name || o.id == t.id) {
      return Status::AlreadyExists("a token named '" + t.name + "' exists");
    }
  }
  std::vector<TokenInfo> next = tokens_;
  next.push_back(t);
  RETURN_IF_ERROR(WritePrivateFile(dir_, dir_ + "/" + kTokensFileName, Serialize(next)));
  tokens_ = std::move(next);
  loaded_ = false;  // pick up the new file's identity on the next read
  RETURN_IF_ERROR(RefreshLocked());
  if (info != nullptr) *info = t;
  return token;
}

Result<std::vector<TokenInfo>> TokenStore::List() {
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  std::vector<TokenInfo> out = tokens_;
  std::stable_sort(out.begin(), out.end(), [](const TokenInfo& a, const TokenInfo& b) {
    return a.created_ms < b.created_ms;
  });
  return out;
}

Status TokenStore::Delete(const std::string& name_or_id) {
  std::lock_guard<std::mutex> l(mu_);
  ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(dir_ + "/tokens.lock"));
  loaded_ = false;
  RETURN_IF_ERROR(RefreshLocked());
  std::vector<TokenInfo> next;
  for (const TokenInfo& t : tokens_) {
    if (t.name != name_or_id && t.id != name_or_id) next.push_back(t);
  }
  if (next.size() == tokens_.size()) return Status::NotFound("no token '" + name_or_id + "'");
  RETURN_IF_ERROR(WritePrivateFile(dir_, dir_ + "/" + kTokensFileName, Serialize(next)));
  tokens_ = std::move(next);
  loaded_ = false;
  return RefreshLocked();
}

Result<std::optional<TokenInfo>> TokenStore::Find(std::string_view token) {
  const std::string hash = Sha256(token);
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  const TokenInfo* found = nullptr;
  for (const TokenInfo& t : tokens_) {
    // Every stored hash is compared, in constant time each.
    if (t.sha256.size() == hash.size() &&
        CRYPTO_memcmp(t.sha256.data(), hash.data(), hash.size()) == 0) {
      found = &t;
    }
  }
  if (found == nullptr) return std::optional<TokenInfo>();
  return std::optional<TokenInfo>(*found);
}

}  // namespace braid::security
