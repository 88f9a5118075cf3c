#include "security/user_store.h"

#include "security/private_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <nlohmann/json.hpp>

namespace braid::security {

namespace {

using json = nlohmann::json;

std::string Join(const std::string& dir, const char* name) { return dir + "/" + name; }

}  // namespace

Status MakePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return Status::OK();
  if (errno != EEXIST) return Status::FromErrno(errno, "mkdir " + dir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + dir);
  if (!S_ISDIR(st.st_mode)) return Status::IOError(dir + " is not a directory");
  return Status::OK();
}

Result<std::string> ReadPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path);
    return Status::FromErrno(errno, "open " + path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (size_t{64} << 20)) {
      ::close(fd);
      return Status::Corruption(path + " is larger than 64 MiB");
    }
  }
  ::close(fd);
  return out;
}

Status WritePrivateFile(const std::string& dir, const std::string& path,
                        const std::string& contents) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "create " + tmp);
  ::fchmod(fd, 0600);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::FromErrno(err, "write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::FromErrno(err, "fsync " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::FromErrno(err, "rename " + tmp);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::FromErrno(errno, "open " + dir);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return Status::FromErrno(err, "fsync " + dir);
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "flock " + path);
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() { ::close(fd_); }

namespace {

Result<std::map<std::string, std::map<ScramMechanism, ScramCredential>>> Parse(
    const std::string& path, const std::string& text) {
  std::map<std::string, std::map<ScramMechanism, ScramCredential>> users;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("users") ||
      !doc["users"].is_object()) {
    return Status::Corruption(path + ": not a braid user store");
  }
  for (const auto& [name, mechs] : doc["users"].items()) {
    if (!mechs.is_object()) return Status::Corruption(path + ": user " + name + " is malformed");
    for (const auto& [mech, c] : mechs.items()) {
      auto m = ParseMechanism(mech);
      if (!m || !c.is_object() || !c.contains("salt") || !c.contains("iterations") ||
          !c.contains("stored_key") || !c.contains("server_key") || !c["salt"].is_string() ||
          !c["iterations"].is_number_integer() || !c["stored_key"].is_string() ||
          !c["server_key"].is_string()) {
        return Status::Corruption(path + ": credential " + mech + " of user " + name +
                                  " is malformed");
      }
      ScramCredential cred;
      cred.mechanism = *m;
      cred.iterations = c["iterations"].get<int32_t>();
      auto salt = Base64Decode(c["salt"].get<std::string>());
      auto stored = Base64Decode(c["stored_key"].get<std::string>());
      auto server = Base64Decode(c["server_key"].get<std::string>());
      if (!salt.ok() || !stored.ok() || !server.ok() || stored->size() != DigestSize(*m) ||
          server->size() != DigestSize(*m)) {
        return Status::Corruption(path + ": credential " + mech + " of user " + name +
                                  " has bad keys");
      }
      cred.salt = std::move(salt).value();
      cred.stored_key = std::move(stored).value();
      cred.server_key = std::move(server).value();
      users[name][*m] = std::move(cred);
    }
  }
  return users;
}

std::string Serialize(const std::map<std::string, std::map<ScramMechanism, ScramCredential>>& u) {
  json users = json::object();
  for (const auto& [name, mechs] : u) {
    json j = json::object();
    for (const auto& [m, c] : mechs) {
      j[std::string(MechanismName(m))] = {{"salt", Base64Encode(c.salt)},
                                          {"iterations", c.iterations},
                                          {"stored_key", Base64Encode(c.stored_key)},
                                          {"server_key", Base64Encode(c.server_key)}};
    }
    users[name] = std::move(j);
  }
  json doc = {{"version", 1}, {"users", std::move(users)}};
  return doc.dump(2) + "\n";
}

}  // namespace

Result<std::unique_ptr<UserStore>> UserStore::Open(std::string dir) {
  RETURN_IF_ERROR(MakePrivateDir(dir));
  std::unique_ptr<UserStore> s(new UserStore(std::move(dir)));
  {
    std::lock_guard<std::mutex> l(s->mu_);
    RETURN_IF_ERROR(s->RefreshLocked());
  }
  return s;
}

Status UserStore::RefreshLocked() {
  const std::string path = Join(dir_, kUsersFileName);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::FromErrno(errno, "stat " + path);
    users_.clear();
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
      users_.clear();
      loaded_ = true;
      return Status::OK();
    }
    return text.status();
  }
  ASSIGN_OR_RETURN(users_, Parse(path, *text));
  ino_ = st.st_ino;
  size_ = static_cast<uint64_t>(st.st_size);
  mtime_ns_ = mtime;
  loaded_ = true;
  return Status::OK();
}

Result<std::optional<ScramCredential>> UserStore::Find(const std::string& user, ScramMechanism m) {
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  auto it = users_.find(user);
  if (it == users_.end()) return std::optional<ScramCredential>();
  auto c = it->second.find(m);
  if (c == it->second.end()) return std::optional<ScramCredential>();
  return std::optional<ScramCredential>(c->second);
}

Result<std::vector<UserInfo>> UserStore::List() {
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  std::vector<UserInfo> out;
  for (const auto& [name, mechs] : users_) {
    UserInfo u;
    u.name = name;
    for (const auto& [m, c] : mechs) u.credentials.push_back(c);
    out.push_back(std::move(u));
  }
  return out;
}

Result<bool> UserStore::HasUsers() {
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return !users_.empty();
}

Status UserStore::Modify(const std::function<Status(Users*)>& fn) {
  std::lock_guard<std::mutex> l(mu_);
  ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(Join(dir_, "users.lock")));
  loaded_ = false;  // re-read under the file lock: another process may have written
  RETURN_IF_ERROR(RefreshLocked());
  Users next = users_;
  RETURN_IF_ERROR(fn(&next));
  const std::string path = Join(dir_, kUsersFileName);
  RETURN_IF_ERROR(WritePrivateFile(dir_, path, Serialize(next)));
  users_ = std::move(next);
  loaded_ = false;  // pick up the new file's identity on the next read
  return RefreshLocked();
}

Status UserStore::Upsert(const std::string& user, const ScramCredential& cred) {
  RETURN_IF_ERROR(ValidateUserName(user));
  if (cred.iterations < kMinIterations || cred.iterations > kMaxIterations) {
    return Status::InvalidArgument("iterations must be in [" + std::to_string(kMinIterations) +
                                   ", " + std::to_string(kMaxIterations) + "]");
  }
  if (cred.stored_key.size() != DigestSize(cred.mechanism) ||
      cred.server_key.size() != DigestSize(cred.mechanism) || cred.salt.empty()) {
    return Status::InvalidArgument("malformed credential");
  }
  return Modify([&](Users* u) {
    (*u)[user][cred.mechanism] = cred;
    return Status::OK();
  });
}

Status UserStore::Delete(const std::string& user, std::optional<ScramMechanism> m) {
  return Modify([&](Users* u) {
    auto it = u->find(user);
    if (it == u->end()) return Status::NotFound("no user '" + user + "'");
    if (m) {
      if (it->second.erase(*m) == 0) {
        return Status::NotFound("user '" + user + "' has no " + std::string(MechanismName(*m)) +
                                " credential");
      }
      if (it->second.empty()) u->erase(it);
    } else {
      u->erase(it);
    }
    return Status::OK();
  });
}

bool FailedAuthLimiter::Blocked(const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = failures_.find(address);
  if (it == failures_.end()) return false;
  auto& v = it->second;
  v.erase(std::remove_if(v.begin(), v.end(), [&](int64_t t) { return t <= now_ms - window_ms_; }),
          v.end());
  if (v.empty()) {
    failures_.erase(it);
    return false;
  }
  return static_cast<int>(v.size()) >= max_failures_;
}

void FailedAuthLimiter::RecordFailure(const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> l(mu_);
  if (failures_.size() >= 10000 && failures_.find(address) == failures_.end()) {
    // Forget the address whose last failure is oldest.
    auto oldest = failures_.begin();
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->second.empty() ||
          (!oldest->second.empty() && it->second.back() < oldest->second.back())) {
        oldest = it;
      }
    }
    failures_.erase(oldest);
  }
  auto& v = failures_[address];
  v.push_back(now_ms);
  if (v.size() > static_cast<size_t>(max_failures_) + 1) v.erase(v.begin());
}

}  // namespace braid::security
