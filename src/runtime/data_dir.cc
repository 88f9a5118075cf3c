#include "runtime/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

#include "io/file_system.h"

namespace braid::runtime {
namespace {

std::string LockPath(const std::string& dir) { return io::JoinPath(dir, kLockFileName); }

// Reads at most 4 KiB of the lock file's text.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  if (n > 0) out.assign(buf, static_cast<size_t>(n));
  return out;
}

DataDirOwner ParseOwner(std::string_view text) {
  DataDirOwner o;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.substr(0, 4) == "pid ") {
      o.pid = std::strtoll(std::string(line.substr(4)).c_str(), nullptr, 10);
    } else if (line.substr(0, 5) == "http ") {
      o.http = std::string(line.substr(5));
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return o;
}

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& dir) {
  RETURN_IF_ERROR(io::DefaultFileSystem()->CreateDirs(dir));
  const std::string path = LockPath(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const DataDirOwner owner = ParseOwner(ReadAll(fd));
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition(
          "data directory " + dir + " is in use by braid process " +
          (owner.pid > 0 ? std::to_string(owner.pid) : std::string("(unknown pid)")) + " (lock " +
          path + "); stop it or use another --data");
    }
    return Status::FromErrno(err, "lock " + path);
  }
  std::unique_ptr<DataDirLock> lock(new DataDirLock(dir, fd));
  RETURN_IF_ERROR(lock->Write(""));
  return lock;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Status DataDirLock::Write(const std::string& http) {
  std::string text = "pid " + std::to_string(::getpid()) + "\n";
  if (!http.empty()) text += "http " + http + "\n";
  if (::ftruncate(fd_, 0) != 0) return Status::FromErrno(errno, "truncate lock file");
  if (::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return Status::FromErrno(errno, "write lock file");
  }
  return Status::OK();
}

Status DataDirLock::SetHttpAddress(const std::string& host_port) { return Write(host_port); }

Result<std::optional<DataDirOwner>> FindDataDirOwner(const std::string& dir) {
  const std::string path = LockPath(dir);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<DataDirOwner>();
    return Status::FromErrno(errno, "open " + path);
  }
  std::optional<DataDirOwner> owner;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) owner = ParseOwner(ReadAll(fd));
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return owner;
}

}  // namespace braid::runtime
