#include "io/fault_injection_file_system.h"

#include <algorithm>

namespace braid::io {
namespace {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionFileSystem* fs, std::string path,
                    std::unique_ptr<WritableFile> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    FaultInjectionFileSystem::AppendDecision d = fs_->NextAppend(data.size());
    switch (d.kind) {
      case FaultInjectionFileSystem::AppendDecision::kOk:
        return base_->Append(data);
      case FaultInjectionFileSystem::AppendDecision::kFail:
        return Status::IOError(path_ + ": injected write failure");
      case FaultInjectionFileSystem::AppendDecision::kNoSpace:
        return Status::ResourceExhausted(path_ + ": injected ENOSPC (No space left on device)",
                                         StatusSubcode::kNoSpace);
      case FaultInjectionFileSystem::AppendDecision::kTear:
        RETURN_IF_ERROR(base_->Append(data.substr(0, std::min(d.prefix, data.size()))));
        return Status::IOError(path_ + ": injected torn write");
    }
    return Status::Internal("unreachable");
  }
  Status Sync() override {
    if (fs_->NextSyncFails()) return Status::IOError(path_ + ": injected sync failure");
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }

 private:
  FaultInjectionFileSystem* fs_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

void FaultInjectionFileSystem::FailNthAppend(int64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  fail_append_in_ = n;
}

void FaultInjectionFileSystem::TearNthAppend(int64_t n, size_t prefix_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  tear_append_in_ = n;
  tear_prefix_ = prefix_bytes;
}

void FaultInjectionFileSystem::FailNthSync(int64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  fail_sync_in_ = n;
}

void FaultInjectionFileSystem::SetNoSpace(bool on) {
  std::lock_guard<std::mutex> l(mu_);
  no_space_ = on;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  fail_append_in_ = tear_append_in_ = fail_sync_in_ = 0;
  no_space_ = false;
}

FaultInjectionFileSystem::AppendDecision FaultInjectionFileSystem::NextAppend(size_t size) {
  std::lock_guard<std::mutex> l(mu_);
  ++appends_;
  AppendDecision d;
  if (no_space_) {
    d.kind = AppendDecision::kNoSpace;
  }
  if (fail_append_in_ > 0 && --fail_append_in_ == 0) d.kind = AppendDecision::kFail;
  if (tear_append_in_ > 0 && --tear_append_in_ == 0) {
    d.kind = AppendDecision::kTear;
    d.prefix = tear_prefix_;
  }
  if (d.kind == AppendDecision::kOk) {
    bytes_ += size;
  } else {
    ++failures_;
  }
  return d;
}

bool FaultInjectionFileSystem::NextSyncFails() {
  std::lock_guard<std::mutex> l(mu_);
  if (fail_sync_in_ > 0 && --fail_sync_in_ == 0) {
    ++failures_;
    return true;
  }
  ++syncs_;
  return false;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path, OpenMode mode) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (no_space_) {
      ++failures_;
      return Status::ResourceExhausted(path + ": injected ENOSPC (No space left on device)",
                                       StatusSubcode::kNoSpace);
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base, base_->NewWritableFile(path, mode));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(base)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::NewRandomAccessFile(
    const std::string& path) {
  return base_->NewRandomAccessFile(path);
}
bool FaultInjectionFileSystem::FileExists(const std::string& path) {
  return base_->FileExists(path);
}
Result<uint64_t> FaultInjectionFileSystem::GetFileSize(const std::string& path) {
  return base_->GetFileSize(path);
}
Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}
Status FaultInjectionFileSystem::CreateDirs(const std::string& dir) {
  return base_->CreateDirs(dir);
}
Status FaultInjectionFileSystem::DeleteFile(const std::string& path) {
  return base_->DeleteFile(path);
}
Status FaultInjectionFileSystem::DeleteDirRecursive(const std::string& dir) {
  return base_->DeleteDirRecursive(dir);
}
Status FaultInjectionFileSystem::RenameFile(const std::string& from, const std::string& to) {
  return base_->RenameFile(from, to);
}
Status FaultInjectionFileSystem::TruncateFile(const std::string& path, uint64_t size) {
  return base_->TruncateFile(path, size);
}
Status FaultInjectionFileSystem::SyncDir(const std::string& dir) {
  ++dir_syncs_;
  return base_->SyncDir(dir);
}

}  // namespace braid::io
