#include "io/memory_file_system.h"

#include <algorithm>

namespace braid::io {

struct MemoryFileSystem::Inode {
  std::mutex mu;
  std::string data;
  size_t synced = 0;  // length of the durable prefix
};

namespace {

using Inode = MemoryFileSystem::Inode;

}  // namespace

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(MemoryFileSystem* fs, std::string path, std::shared_ptr<Inode> inode)
      : fs_(fs), path_(std::move(path)), inode_(std::move(inode)) {}

  Status Append(std::string_view data) override {
    if (closed_) return Status::FailedPrecondition(path_ + ": file is closed");
    std::lock_guard<std::mutex> l(inode_->mu);
    inode_->data.append(data);
    return Status::OK();
  }
  Status Sync() override {
    if (closed_) return Status::FailedPrecondition(path_ + ": file is closed");
    {
      std::lock_guard<std::mutex> l(inode_->mu);
      inode_->synced = inode_->data.size();
    }
    std::lock_guard<std::mutex> l(fs_->mu_);
    ++fs_->sync_count_;
    return Status::OK();
  }
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  uint64_t Size() const override {
    std::lock_guard<std::mutex> l(inode_->mu);
    return inode_->data.size();
  }
  Status Truncate(uint64_t size) override {
    if (closed_) return Status::FailedPrecondition(path_ + ": file is closed");
    std::lock_guard<std::mutex> l(inode_->mu);
    if (size > inode_->data.size()) {
      return Status::InvalidArgument(path_ + ": truncate beyond end");
    }
    inode_->data.resize(static_cast<size_t>(size));
    inode_->synced = std::min(inode_->synced, inode_->data.size());
    return Status::OK();
  }

 private:
  MemoryFileSystem* fs_;
  std::string path_;
  std::shared_ptr<Inode> inode_;
  bool closed_ = false;
};

namespace {

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::shared_ptr<Inode> inode) : inode_(std::move(inode)) {}
  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    std::lock_guard<std::mutex> l(inode_->mu);
    if (offset >= inode_->data.size()) return size_t{0};
    size_t len = std::min<uint64_t>(n, inode_->data.size() - offset);
    std::copy_n(inode_->data.data() + offset, len, scratch);
    return len;
  }
  Result<uint64_t> Size() const override {
    std::lock_guard<std::mutex> l(inode_->mu);
    return inode_->data.size();
  }

 private:
  std::shared_ptr<Inode> inode_;
};

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

}  // namespace

MemoryFileSystem::MemoryFileSystem() {
  dirs_.insert("/");
  durable_dirs_.insert("/");
}

MemoryFileSystem::~MemoryFileSystem() = default;

std::string MemoryFileSystem::Normalize(const std::string& path) const {
  std::string out = "/";
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view part(path.data() + i, j - i);
    if (!part.empty() && part != ".") {
      if (out.size() > 1) out += '/';
      out.append(part);
    }
    i = j + 1;
  }
  return out;
}

bool MemoryFileSystem::DirExistsLocked(const std::string& dir) const {
  return dirs_.count(dir) > 0;
}

Result<std::unique_ptr<WritableFile>> MemoryFileSystem::NewWritableFile(const std::string& p,
                                                                        OpenMode mode) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  if (!DirExistsLocked(DirName(path))) return Status::NotFound(path + ": no such directory");
  if (dirs_.count(path)) return Status::IOError(path + ": is a directory");
  auto it = files_.find(path);
  std::shared_ptr<Inode> inode;
  if (it == files_.end()) {
    inode = std::make_shared<Inode>();
    files_[path] = inode;
  } else {
    if (mode == OpenMode::kCreateNew) return Status::AlreadyExists(path + ": file exists");
    inode = it->second;
    if (mode == OpenMode::kTruncate) {
      std::lock_guard<std::mutex> il(inode->mu);
      inode->data.clear();
      inode->synced = 0;
    }
  }
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path, std::move(inode)));
}

Result<std::unique_ptr<RandomAccessFile>> MemoryFileSystem::NewRandomAccessFile(
    const std::string& p) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(it->second));
}

bool MemoryFileSystem::FileExists(const std::string& p) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  return files_.count(path) > 0 || dirs_.count(path) > 0;
}

Result<uint64_t> MemoryFileSystem::GetFileSize(const std::string& p) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  std::lock_guard<std::mutex> il(it->second->mu);
  return it->second->data.size();
}

Result<std::vector<std::string>> MemoryFileSystem::ListDir(const std::string& d) {
  std::string dir = Normalize(d);
  std::lock_guard<std::mutex> l(mu_);
  if (!DirExistsLocked(dir)) return Status::NotFound(dir + ": no such directory");
  std::vector<std::string> names;
  auto add = [&](const std::string& path) {
    if (IsUnder(path, dir) && DirName(path) == dir) {
      names.push_back(path.substr(dir == "/" ? 1 : dir.size() + 1));
    }
  };
  for (const auto& [path, inode] : files_) add(path);
  for (const std::string& path : dirs_) add(path);
  return names;
}

Status MemoryFileSystem::CreateDirs(const std::string& d) {
  std::string dir = Normalize(d);
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> chain;
  for (std::string cur = dir; cur != "/"; cur = DirName(cur)) chain.push_back(cur);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (files_.count(*it)) return Status::AlreadyExists(*it + ": exists and is not a directory");
    dirs_.insert(*it);
  }
  return Status::OK();
}

Status MemoryFileSystem::DeleteFile(const std::string& p) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  if (files_.erase(path) == 0) return Status::NotFound(path + ": no such file");
  return Status::OK();
}

Status MemoryFileSystem::DeleteDirRecursive(const std::string& d) {
  std::string dir = Normalize(d);
  std::lock_guard<std::mutex> l(mu_);
  if (dir == "/") return Status::InvalidArgument("cannot delete /");
  files_.erase(dir);
  for (auto it = files_.begin(); it != files_.end();) {
    it = IsUnder(it->first, dir) ? files_.erase(it) : std::next(it);
  }
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    it = (*it == dir || IsUnder(*it, dir)) ? dirs_.erase(it) : std::next(it);
  }
  return Status::OK();
}

Status MemoryFileSystem::RenameFile(const std::string& f, const std::string& t) {
  std::string from = Normalize(f);
  std::string to = Normalize(t);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return Status::NotFound(from + ": no such file");
  if (!DirExistsLocked(DirName(to))) return Status::NotFound(to + ": no such directory");
  if (dirs_.count(to)) return Status::IOError(to + ": is a directory");
  std::shared_ptr<Inode> inode = it->second;
  files_.erase(it);
  files_[to] = std::move(inode);
  return Status::OK();
}

Status MemoryFileSystem::TruncateFile(const std::string& p, uint64_t size) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  std::lock_guard<std::mutex> il(it->second->mu);
  Inode& inode = *it->second;
  inode.data.resize(static_cast<size_t>(size), '\0');
  inode.synced = std::min(inode.synced, inode.data.size());
  return Status::OK();
}

Status MemoryFileSystem::SyncDir(const std::string& d) {
  std::string dir = Normalize(d);
  std::lock_guard<std::mutex> l(mu_);
  if (!DirExistsLocked(dir)) return Status::NotFound(dir + ": no such directory");
  auto direct_child = [&](const std::string& path) {
    return IsUnder(path, dir) && DirName(path) == dir;
  };
  // Durable entries of `dir` := live entries of `dir`.
  for (auto it = durable_files_.begin(); it != durable_files_.end();) {
    it = direct_child(it->first) ? durable_files_.erase(it) : std::next(it);
  }
  for (const auto& [path, inode] : files_) {
    if (direct_child(path)) durable_files_[path] = inode;
  }
  for (auto it = durable_dirs_.begin(); it != durable_dirs_.end();) {
    it = direct_child(*it) ? durable_dirs_.erase(it) : std::next(it);
  }
  for (const std::string& path : dirs_) {
    if (direct_child(path)) durable_dirs_.insert(path);
  }
  ++dir_sync_count_;
  return Status::OK();
}

void MemoryFileSystem::SimulateCrash() {
  std::lock_guard<std::mutex> l(mu_);
  // A durable entry whose parent directory is not durable is lost with it.
  std::set<std::string> dirs;
  for (const std::string& d : durable_dirs_) {
    bool reachable = true;
    for (std::string cur = d; cur != "/"; cur = DirName(cur)) {
      if (!durable_dirs_.count(cur)) {
        reachable = false;
        break;
      }
    }
    if (reachable) dirs.insert(d);
  }
  std::map<std::string, std::shared_ptr<Inode>> files;
  for (const auto& [path, inode] : durable_files_) {
    if (!dirs.count(DirName(path))) continue;
    auto fresh = std::make_shared<Inode>();
    std::lock_guard<std::mutex> il(inode->mu);
    fresh->data = inode->data.substr(0, inode->synced);
    fresh->synced = fresh->data.size();
    files[path] = std::move(fresh);
  }
  files_ = files;
  durable_files_ = std::move(files);
  dirs_ = dirs;
  durable_dirs_ = std::move(dirs);
}

Result<std::string> MemoryFileSystem::ReadRaw(const std::string& p) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  std::lock_guard<std::mutex> il(it->second->mu);
  return it->second->data;
}

void MemoryFileSystem::WriteRaw(const std::string& p, std::string contents) {
  std::string path = Normalize(p);
  std::lock_guard<std::mutex> l(mu_);
  for (std::string cur = DirName(path); cur != "/"; cur = DirName(cur)) {
    dirs_.insert(cur);
    durable_dirs_.insert(cur);
  }
  auto it = files_.find(path);
  std::shared_ptr<Inode> inode;
  if (it != files_.end()) {
    inode = it->second;
  } else {
    inode = std::make_shared<Inode>();
    files_[path] = inode;
  }
  durable_files_[path] = inode;
  std::lock_guard<std::mutex> il(inode->mu);
  inode->data = std::move(contents);
  inode->synced = inode->data.size();
}

uint64_t MemoryFileSystem::sync_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return sync_count_;
}

uint64_t MemoryFileSystem::dir_sync_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return dir_sync_count_;
}

}  // namespace braid::io
