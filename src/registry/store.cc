#include "registry/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "base/coding.h"
#include "base/crc.h"

namespace braid::registry {

Status MemoryStore::Append(const std::vector<StoreRecord>& records) {
  if (!fail_.ok()) return fail_;
  records_.insert(records_.end(), records.begin(), records.end());
  return Status::OK();
}

Status MemoryStore::Replay(const std::function<Status(const StoreRecord&)>& fn) {
  for (const StoreRecord& r : records_) RETURN_IF_ERROR(fn(r));
  return Status::OK();
}

namespace {

constexpr size_t kHeader = 8;
// A single record larger than this is treated as corruption.
constexpr uint32_t kMaxPayload = 64u << 20;

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write schemas.log");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Result<std::string> ReadAll(int fd) {
  std::string out;
  char buf[1 << 16];
  off_t pos = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read schemas.log");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    pos += n;
  }
  return out;
}

// Parses one payload; false if malformed.
bool ParsePayload(std::string_view p, StoreRecord* rec) {
  const char* cur = p.data();
  const char* end = p.data() + p.size();
  uint64_t klen = 0;
  cur = coding::GetVarint64(cur, end, &klen);
  if (cur == nullptr || klen > static_cast<uint64_t>(end - cur)) return false;
  rec->key.assign(cur, klen);
  cur += klen;
  if (cur == end) return false;
  const char has_value = *cur++;
  if (has_value == 0) {
    rec->value.reset();
    return cur == end;
  }
  uint64_t vlen = 0;
  cur = coding::GetVarint64(cur, end, &vlen);
  if (cur == nullptr || vlen != static_cast<uint64_t>(end - cur)) return false;
  rec->value = std::string(cur, vlen);
  return true;
}

// Walks the frames of `data`, calling fn for each; returns the length of the
// valid prefix.
template <typename Fn>
size_t ScanFrames(std::string_view data, Fn&& fn) {
  size_t pos = 0;
  while (data.size() - pos >= kHeader) {
    const uint32_t len = coding::DecodeBigEndian32(data.data() + pos);
    const uint32_t crc = coding::DecodeBigEndian32(data.data() + pos + 4);
    if (len > kMaxPayload || len > data.size() - pos - kHeader) break;
    std::string_view payload = data.substr(pos + kHeader, len);
    if (Crc32c(payload) != crc) break;
    StoreRecord rec;
    if (!ParsePayload(payload, &rec)) break;
    if (!fn(rec)) return pos;
    pos += kHeader + len;
  }
  return pos;
}

}  // namespace

Result<std::unique_ptr<FileStore>> FileStore::Open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno, "mkdir " + dir);
  }
  std::string path = dir + "/schemas.log";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  std::unique_ptr<FileStore> store(new FileStore(path, fd));
  ASSIGN_OR_RETURN(std::string data, ReadAll(fd));
  const size_t valid = ScanFrames(data, [](const StoreRecord&) { return true; });
  if (valid != data.size()) {
    if (::ftruncate(fd, static_cast<off_t>(valid)) != 0) {
      return Status::FromErrno(errno, "truncate torn tail of " + path);
    }
    if (::fsync(fd) != 0) return Status::FromErrno(errno, "fsync " + path);
  }
  if (::lseek(fd, 0, SEEK_END) < 0) return Status::FromErrno(errno, "seek " + path);
  return store;
}

FileStore::~FileStore() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileStore::Append(const std::vector<StoreRecord>& records) {
  std::string out;
  for (const StoreRecord& r : records) {
    std::string payload;
    coding::PutVarint64(&payload, r.key.size());
    payload += r.key;
    payload.push_back(r.value ? 1 : 0);
    if (r.value) {
      coding::PutVarint64(&payload, r.value->size());
      payload += *r.value;
    }
    coding::PutBigEndian32(&out, static_cast<uint32_t>(payload.size()));
    coding::PutBigEndian32(&out, Crc32c(payload));
    out += payload;
  }
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  if (before < 0) return Status::FromErrno(errno, "seek " + path_);
  Status st = WriteAll(fd_, out);
  if (st.ok() && ::fdatasync(fd_) != 0) st = Status::FromErrno(errno, "fdatasync " + path_);
  if (!st.ok()) {
    // Cut a partial append so that later appends stay readable.
    if (::ftruncate(fd_, before) == 0) ::lseek(fd_, 0, SEEK_END);
  }
  return st;
}

Status FileStore::Replay(const std::function<Status(const StoreRecord&)>& fn) {
  ASSIGN_OR_RETURN(std::string data, ReadAll(fd_));
  Status st;
  ScanFrames(data, [&](const StoreRecord& r) {
    st = fn(r);
    return st.ok();
  });
  return st;
}

}  // namespace braid::registry
