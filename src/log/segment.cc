// Segment: one .log file and its sparse indexes. Index file formats (all
// big-endian, documented in README.md):
//   .index      8 bytes per entry: int32 offset - base, uint32 position
//   .timeindex 12 bytes per entry: int64 timestamp, int32 offset - base
#include <algorithm>
#include <cstdio>
#include <string>

#include "base/coding.h"
#include "base/crc.h"
#include "base/logging.h"
#include "log/log_internal.h"

namespace braid::log {

namespace {
constexpr size_t kIndexEntrySize = 8;
constexpr size_t kTimeIndexEntrySize = 12;
constexpr size_t kScanChunk = 64 * 1024;
}  // namespace

Segment::Segment(PartitionEnv* env, std::string dir, Offset base)
    : env_(env),
      dir_(std::move(dir)),
      base_(base),
      log_path_(io::JoinPath(dir_, FileName(base, ".log"))),
      index_path_(io::JoinPath(dir_, FileName(base, ".index"))),
      time_index_path_(io::JoinPath(dir_, FileName(base, ".timeindex"))),
      next_offset_(base.value()) {}

Segment::~Segment() = default;

std::string Segment::FileName(Offset base, std::string_view ext) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(base.value()));
  std::string name(buf);
  name.append(ext);
  return name;
}

bool Segment::ParseLogFileName(std::string_view name, Offset* base) {
  if (name.size() != 24 || name.substr(20) != ".log") return false;
  int64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    if (v > (INT64_MAX - (c - '0')) / 10) return false;
    v = v * 10 + (c - '0');
  }
  *base = Offset(v);
  return true;
}

Status Segment::CreateNew() {
  ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> w,
                   env_->fs->NewWritableFile(log_path_, io::OpenMode::kTruncate));
  {
    std::lock_guard<std::mutex> l(writer_mu_);
    writer_ = std::move(w);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> f,
                   env_->fs->NewRandomAccessFile(log_path_));
  file_ = std::move(f);
  // Stale index files of an earlier segment with this base would be wrong.
  for (const std::string& p : {index_path_, time_index_path_}) {
    if (env_->fs->FileExists(p)) RETURN_IF_ERROR(env_->fs->DeleteFile(p));
  }
  return env_->SyncDir(dir_);
}

Status Segment::OpenForAppend() {
  ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> w,
                   env_->fs->NewWritableFile(log_path_, io::OpenMode::kAppend));
  {
    std::lock_guard<std::mutex> l(writer_mu_);
    writer_ = std::move(w);
  }
  if (writer_->Size() != size()) {
    return Status::Internal(log_path_ + ": size changed during recovery");
  }
  return Status::OK();
}

void Segment::AddIndexEntriesLocked(const BatchHeader& h, uint64_t pos) {
  int64_t max_ts = max_timestamp_.load(std::memory_order_relaxed);
  if (h.max_timestamp > max_ts) {
    max_ts = h.max_timestamp;
    offset_of_max_timestamp_ = h.base_offset.value();
    max_timestamp_.store(max_ts, std::memory_order_release);
  }
  if (bytes_since_index_ > env_->options.index_interval_bytes) {
    std::lock_guard<std::mutex> l(index_mu_);
    index_.push_back({h.base_offset.value(), pos});
    if (max_ts > (time_index_.empty() ? -1 : time_index_.back().timestamp)) {
      time_index_.push_back({max_ts, offset_of_max_timestamp_});
    }
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += h.total_size();
}

Status Segment::Scan(uint64_t from, uint64_t file_size, bool full, uint64_t* valid_end) {
  std::string chunk;
  uint64_t pos = from;
  char hdr[kBatchHeaderSize];
  while (file_size - pos >= kBatchHeaderSize) {
    ASSIGN_OR_RETURN(size_t n, file_->Read(pos, kBatchHeaderSize, hdr));
    if (n < kBatchHeaderSize) break;
    Result<BatchHeader> parsed = ParseBatchHeader(std::string_view(hdr, kBatchHeaderSize));
    if (!parsed.ok()) {
      LOG_WARN("{}: bad batch header at byte {}: {}", log_path_, pos, parsed.status().ToString());
      break;
    }
    const BatchHeader& h = *parsed;
    if (h.total_size() > file_size - pos) {
      LOG_WARN("{}: batch at byte {} of {} bytes runs past the end of the file ({} bytes)",
               log_path_, pos, h.total_size(), file_size);
      break;
    }
    if (h.base_offset.value() != next_offset_.load(std::memory_order_relaxed) ||
        h.last_offset_delta < 0) {
      LOG_WARN("{}: batch at byte {} has base offset {} / last offset delta {}, expected offset {}",
               log_path_, pos, h.base_offset.value(), h.last_offset_delta,
               next_offset_.load(std::memory_order_relaxed));
      break;
    }
    if (full) {
      uint32_t crc = 0;
      uint64_t at = pos + kAttributesPos;
      uint64_t end = pos + h.total_size();
      chunk.resize(kScanChunk);
      while (at < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(kScanChunk, end - at));
        ASSIGN_OR_RETURN(size_t got, file_->Read(at, want, chunk.data()));
        if (got != want) break;
        crc = Crc32c(chunk.data(), got, crc);
        at += got;
      }
      if (at != end || crc != h.crc) {
        LOG_WARN("{}: batch at byte {} (offset {}) fails its CRC-32C check", log_path_, pos,
                 h.base_offset.value());
        break;
      }
      AddIndexEntriesLocked(h, pos);
    } else if (h.max_timestamp > max_timestamp_.load(std::memory_order_relaxed)) {
      max_timestamp_.store(h.max_timestamp, std::memory_order_release);
    }
    if (roll_base_ms_.load(std::memory_order_relaxed) < 0) {
      roll_base_ms_.store(h.max_timestamp, std::memory_order_release);
    }
    pos += h.total_size();
    next_offset_.store(h.next_offset().value(), std::memory_order_release);
  }
  *valid_end = pos;
  return Status::OK();
}

Status Segment::LoadIndexFiles(uint64_t file_size, bool* valid) {
  *valid = false;
  if (!env_->fs->FileExists(index_path_) || !env_->fs->FileExists(time_index_path_)) {
    return Status::OK();
  }
  ASSIGN_OR_RETURN(std::string idx, io::ReadFileToString(env_->fs, index_path_));
  ASSIGN_OR_RETURN(std::string tidx, io::ReadFileToString(env_->fs, time_index_path_));
  if (idx.size() % kIndexEntrySize != 0 || tidx.size() % kTimeIndexEntrySize != 0)
    return Status::OK();
  std::vector<IndexEntry> index;
  std::vector<TimeIndexEntry> time_index;
  for (size_t i = 0; i < idx.size(); i += kIndexEntrySize) {
    int64_t rel = static_cast<int32_t>(coding::DecodeBigEndian32(idx.data() + i));
    uint64_t pos = coding::DecodeBigEndian32(idx.data() + i + 4);
    if (rel < 0 || pos >= file_size) return Status::OK();
    if (!index.empty() &&
        (rel + base_.value() <= index.back().offset || pos <= index.back().position)) {
      return Status::OK();
    }
    index.push_back({base_.value() + rel, pos});
  }
  for (size_t i = 0; i < tidx.size(); i += kTimeIndexEntrySize) {
    int64_t ts = static_cast<int64_t>(coding::DecodeBigEndian64(tidx.data() + i));
    int64_t rel = static_cast<int32_t>(coding::DecodeBigEndian32(tidx.data() + i + 8));
    if (rel < 0) return Status::OK();
    if (!time_index.empty() &&
        (ts < time_index.back().timestamp || rel + base_.value() < time_index.back().offset)) {
      return Status::OK();
    }
    time_index.push_back({ts, base_.value() + rel});
  }
  // The last offset index entry must point at a batch with that base offset.
  if (!index.empty()) {
    Result<BatchHeader> h = ReadHeaderAt(index.back().position, file_size);
    if (!h.ok() || h->base_offset.value() != index.back().offset) return Status::OK();
  }
  std::lock_guard<std::mutex> l(index_mu_);
  index_ = std::move(index);
  time_index_ = std::move(time_index);
  *valid = true;
  return Status::OK();
}

Status Segment::Load(bool active, uint64_t* truncated_bytes) {
  *truncated_bytes = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> f,
                   env_->fs->NewRandomAccessFile(log_path_));
  file_ = std::move(f);
  ASSIGN_OR_RETURN(uint64_t file_size, file_->Size());
  uint64_t valid_end = 0;
  bool rebuilt = false;
  bool index_ok = false;
  if (!active) {
    RETURN_IF_ERROR(LoadIndexFiles(file_size, &index_ok));
    if (index_ok) {
      uint64_t from = 0;
      {
        std::lock_guard<std::mutex> l(index_mu_);
        if (!index_.empty()) {
          from = index_.back().position;
          next_offset_.store(index_.back().offset);
        }
        if (!time_index_.empty()) max_timestamp_.store(time_index_.back().timestamp);
      }
      RETURN_IF_ERROR(Scan(from, file_size, /*full=*/false, &valid_end));
      if (valid_end == from && from != 0) index_ok = false;
    }
  }
  if (!index_ok) {
    {
      std::lock_guard<std::mutex> l(index_mu_);
      index_.clear();
      time_index_.clear();
    }
    next_offset_.store(base_.value());
    max_timestamp_.store(-1);
    roll_base_ms_.store(-1);
    bytes_since_index_ = 0;
    offset_of_max_timestamp_ = -1;
    RETURN_IF_ERROR(Scan(0, file_size, /*full=*/true, &valid_end));
    rebuilt = true;
  }
  if (valid_end < file_size) {
    LOG_WARN("{}: truncating {} invalid bytes at byte {} (torn or corrupt tail)", log_path_,
             file_size - valid_end, valid_end);
    RETURN_IF_ERROR(env_->fs->TruncateFile(log_path_, valid_end));
    *truncated_bytes = file_size - valid_end;
  }
  size_.store(valid_end, std::memory_order_release);
  if (rebuilt && !active) {
    LOG_INFO("{}: rebuilt indexes", log_path_);
    RETURN_IF_ERROR(Seal());
  }
  return Status::OK();
}

Status Segment::Append(std::string_view head, std::string_view rest, const BatchHeader& h,
                       int64_t now_ms) {
  uint64_t pos = size_.load(std::memory_order_relaxed);
  RETURN_IF_ERROR(writer_->AppendParts({head, rest}));
  AddIndexEntriesLocked(h, pos);
  if (roll_base_ms_.load(std::memory_order_relaxed) < 0) {
    roll_base_ms_.store(now_ms, std::memory_order_release);
  }
  next_offset_.store(h.next_offset().value(), std::memory_order_release);
  size_.store(pos + head.size() + rest.size(), std::memory_order_release);
  return Status::OK();
}

Status Segment::RollbackTo(uint64_t size) {
  if (writer_ == nullptr) return Status::FailedPrecondition(log_path_ + ": not open for append");
  return writer_->Truncate(size);
}

Status Segment::SyncLog() {
  std::lock_guard<std::mutex> l(writer_mu_);
  if (writer_ == nullptr) return Status::OK();
  return env_->Sync(writer_.get());
}

std::string Segment::EncodeIndex() const {
  std::string out;
  std::lock_guard<std::mutex> l(index_mu_);
  out.reserve(index_.size() * kIndexEntrySize);
  for (const IndexEntry& e : index_) {
    coding::PutBigEndian32(&out, static_cast<uint32_t>(e.offset - base_.value()));
    coding::PutBigEndian32(&out, static_cast<uint32_t>(e.position));
  }
  return out;
}

std::string Segment::EncodeTimeIndex() const {
  std::string out;
  std::lock_guard<std::mutex> l(index_mu_);
  out.reserve(time_index_.size() * kTimeIndexEntrySize);
  for (const TimeIndexEntry& e : time_index_) {
    coding::PutBigEndian64(&out, static_cast<uint64_t>(e.timestamp));
    coding::PutBigEndian32(&out, static_cast<uint32_t>(e.offset - base_.value()));
  }
  return out;
}

Status Segment::Seal() {
  int64_t max_ts = max_timestamp_.load();
  {
    std::lock_guard<std::mutex> l(index_mu_);
    if (max_ts >= 0 && max_ts > (time_index_.empty() ? -1 : time_index_.back().timestamp)) {
      time_index_.push_back(
          {max_ts, offset_of_max_timestamp_ >= 0 ? offset_of_max_timestamp_ : base_.value()});
    }
  }
  RETURN_IF_ERROR(SyncLog());
  RETURN_IF_ERROR(env_->WriteAtomically(index_path_, EncodeIndex()));
  return env_->WriteAtomically(time_index_path_, EncodeTimeIndex());
}

Status Segment::CloseWriter() {
  std::lock_guard<std::mutex> l(writer_mu_);
  if (writer_ == nullptr) return Status::OK();
  Status s = writer_->Close();
  writer_.reset();
  return s;
}

Status Segment::DeleteFiles() {
  CloseWriter().IgnoreError();
  for (const std::string& p : {log_path_, index_path_, time_index_path_}) {
    Status s = env_->fs->DeleteFile(p);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::OK();
}

Result<BatchHeader> Segment::ReadHeaderAt(uint64_t pos, uint64_t limit) const {
  if (pos >= limit || limit - pos < kBatchHeaderSize) {
    return Status::NotFound(log_path_ + ": no batch at byte " + std::to_string(pos));
  }
  char hdr[kBatchHeaderSize];
  ASSIGN_OR_RETURN(size_t n, file_->Read(pos, kBatchHeaderSize, hdr));
  if (n < kBatchHeaderSize) {
    return Status::NotFound(log_path_ + ": no batch at byte " + std::to_string(pos));
  }
  Result<BatchHeader> h = ParseBatchHeader(std::string_view(hdr, kBatchHeaderSize));
  if (!h.ok()) return h.status().WithContext(log_path_ + " at byte " + std::to_string(pos));
  if (h->total_size() > limit - pos) {
    return Status::NotFound(log_path_ + ": batch at byte " + std::to_string(pos) +
                            " is not complete");
  }
  return h;
}

uint64_t Segment::LookupPosition(Offset target) const {
  std::lock_guard<std::mutex> l(index_mu_);
  auto it = std::upper_bound(index_.begin(), index_.end(), target.value(),
                             [](int64_t t, const IndexEntry& e) { return t < e.offset; });
  if (it == index_.begin()) return 0;
  return std::prev(it)->position;
}

bool Segment::LastEntryWithin(uint64_t start_pos, uint64_t max_pos, IndexEntry* out) const {
  std::lock_guard<std::mutex> l(index_mu_);
  auto it = std::upper_bound(index_.begin(), index_.end(), max_pos,
                             [](uint64_t p, const IndexEntry& e) { return p < e.position; });
  if (it == index_.begin()) return false;
  --it;
  if (it->position <= start_pos) return false;
  *out = *it;
  return true;
}

Offset Segment::LookupTimestampStart(int64_t t) const {
  std::lock_guard<std::mutex> l(index_mu_);
  auto it = std::lower_bound(time_index_.begin(), time_index_.end(), t,
                             [](const TimeIndexEntry& e, int64_t v) { return e.timestamp < v; });
  if (it == time_index_.begin()) return base_;
  return Offset(std::prev(it)->offset);
}

}  // namespace braid::log
