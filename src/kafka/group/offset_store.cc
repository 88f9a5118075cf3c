#include "kafka/group/offset_store.h"

#include <string_view>

#include "base/coding.h"
#include "base/crc.h"
#include "base/logging.h"

namespace braid::kafka {
namespace {

constexpr char kFileName[] = "offsets.log";
constexpr size_t kFrameHeader = 8;
// A single record never exceeds this (group/topic names and metadata are
// bounded by the coordinator; this bounds what a corrupt length can ask for).
constexpr uint32_t kMaxRecordBytes = 16u << 20;

enum RecordType : uint8_t {
  kCommit = 1,
  kDeleteOffset = 2,
  kDeleteGroup = 3,
  kGroupState = 4,
};

void PutStr(std::string* dst, std::string_view s) {
  coding::PutBigEndian32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s);
}
void PutNullableStr(std::string* dst, const std::optional<std::string>& s) {
  if (!s) {
    coding::PutBigEndian32(dst, 0xffffffffu);
    return;
  }
  PutStr(dst, *s);
}

void Frame(std::string* out, const std::string& payload) {
  coding::PutBigEndian32(out, static_cast<uint32_t>(payload.size()));
  coding::PutBigEndian32(out, Crc32c(payload));
  out->append(payload);
}

std::string CommitPayload(const std::string& group, const TopicPartition& tp,
                          const CommittedOffset& c) {
  std::string p;
  p.push_back(static_cast<char>(kCommit));
  PutStr(&p, group);
  PutStr(&p, tp.topic);
  coding::PutBigEndian32(&p, static_cast<uint32_t>(tp.partition));
  coding::PutBigEndian64(&p, static_cast<uint64_t>(c.offset));
  coding::PutBigEndian32(&p, static_cast<uint32_t>(c.leader_epoch));
  PutNullableStr(&p, c.metadata);
  coding::PutBigEndian64(&p, static_cast<uint64_t>(c.commit_timestamp_ms));
  return p;
}

std::string GroupStatePayload(const std::string& group, const StoredGroup& g) {
  std::string p;
  p.push_back(static_cast<char>(kGroupState));
  PutStr(&p, group);
  PutStr(&p, g.protocol_type);
  coding::PutBigEndian64(&p, static_cast<uint64_t>(g.empty_since_ms));
  return p;
}

// Bounds-checked reader over one payload.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool U8(uint8_t* v) {
    if (pos_ + 1 > s_.size()) return false;
    *v = static_cast<uint8_t>(s_[pos_++]);
    return true;
  }
  bool I32(int32_t* v) {
    if (pos_ + 4 > s_.size()) return false;
    *v = static_cast<int32_t>(coding::DecodeBigEndian32(s_.data() + pos_));
    pos_ += 4;
    return true;
  }
  bool I64(int64_t* v) {
    if (pos_ + 8 > s_.size()) return false;
    *v = static_cast<int64_t>(coding::DecodeBigEndian64(s_.data() + pos_));
    pos_ += 8;
    return true;
  }
  bool Str(std::string* v) {
    int32_t n;
    if (!I32(&n) || n < 0 || static_cast<size_t>(n) > s_.size() - pos_) return false;
    v->assign(s_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool NullableStr(std::optional<std::string>* v) {
    int32_t n;
    if (!I32(&n)) return false;
    if (n == -1) {
      v->reset();
      return true;
    }
    if (n < 0 || static_cast<size_t>(n) > s_.size() - pos_) return false;
    v->emplace(s_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Applies one payload to `groups`. Returns false if the payload is malformed.
bool Apply(std::string_view payload, std::map<std::string, StoredGroup>* groups) {
  Reader r(payload);
  uint8_t type;
  std::string group;
  if (!r.U8(&type) || !r.Str(&group)) return false;
  switch (type) {
    case kCommit: {
      TopicPartition tp;
      CommittedOffset c;
      if (!r.Str(&tp.topic) || !r.I32(&tp.partition) || !r.I64(&c.offset) ||
          !r.I32(&c.leader_epoch) || !r.NullableStr(&c.metadata) ||
          !r.I64(&c.commit_timestamp_ms) || !r.done()) {
        return false;
      }
      (*groups)[group].offsets[tp] = std::move(c);
      return true;
    }
    case kDeleteOffset: {
      TopicPartition tp;
      if (!r.Str(&tp.topic) || !r.I32(&tp.partition) || !r.done()) return false;
      auto it = groups->find(group);
      if (it != groups->end()) it->second.offsets.erase(tp);
      return true;
    }
    case kDeleteGroup:
      if (!r.done()) return false;
      groups->erase(group);
      return true;
    case kGroupState: {
      StoredGroup& g = (*groups)[group];
      if (!r.Str(&g.protocol_type) || !r.I64(&g.empty_since_ms) || !r.done()) return false;
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

Status CreateDirsDurably(io::FileSystem* fs, const std::string& dir) {
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  for (std::string d = dir;; d = io::DirName(d)) {
    RETURN_IF_ERROR(fs->SyncDir(d));
    std::string parent = io::DirName(d);
    if (parent == d || d == "." || d == "/") break;
  }
  return Status::OK();
}

OffsetStore::OffsetStore(io::FileSystem* fs, std::string dir, OffsetStoreOptions options)
    : fs_(fs), dir_(std::move(dir)), path_(io::JoinPath(dir_, kFileName)), options_(options) {}

OffsetStore::~OffsetStore() {
  if (file_) file_->Close().IgnoreError();
}

Result<std::unique_ptr<OffsetStore>> OffsetStore::Open(io::FileSystem* fs, std::string dir,
                                                       OffsetStoreOptions options) {
  std::unique_ptr<OffsetStore> store(new OffsetStore(fs, std::move(dir), options));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status OffsetStore::Load() {
  RETURN_IF_ERROR(fs_->CreateDirs(dir_));
  uint64_t good = 0;
  if (fs_->FileExists(path_)) {
    ASSIGN_OR_RETURN(std::string data, io::ReadFileToString(fs_, path_, options_.max_file_bytes));
    while (good < data.size()) {
      if (data.size() - good < kFrameHeader) break;
      const char* p = data.data() + good;
      uint32_t len = coding::DecodeBigEndian32(p);
      uint32_t crc = coding::DecodeBigEndian32(p + 4);
      if (len > kMaxRecordBytes || len > data.size() - good - kFrameHeader) break;
      std::string_view payload(p + kFrameHeader, len);
      if (Crc32c(payload) != crc) break;
      if (!Apply(payload, &groups_)) {
        return Status::Corruption(path_ + ": malformed record at byte offset " +
                                  std::to_string(good));
      }
      good += kFrameHeader + len;
    }
    if (good < data.size()) {
      LOG_WARN("{}: cutting torn or corrupt tail at byte offset {} ({} bytes dropped)", path_, good,
               data.size() - good);
      RETURN_IF_ERROR(fs_->TruncateFile(path_, good));
    }
  }
  ASSIGN_OR_RETURN(file_, fs_->NewWritableFile(path_, io::OpenMode::kAppend));
  file_bytes_ = file_->Size();
  // Make the file's entry and every directory above it durable.
  RETURN_IF_ERROR(CreateDirsDurably(fs_, dir_));
  live_bytes_after_compaction_ = 0;
  return MaybeCompact();
}

const StoredGroup* OffsetStore::Find(const std::string& group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

Status OffsetStore::AppendRecords(const std::string& framed) {
  if (!file_) return Status::FailedPrecondition(path_ + ": store is not open");
  Status s = file_->Append(framed);
  if (s.ok() && options_.sync) s = file_->Sync();
  if (!s.ok()) {
    // Leave no half-written record behind the next append.
    file_->Truncate(file_bytes_).IgnoreError();
    return s.WithContext(path_);
  }
  file_bytes_ += framed.size();
  return Status::OK();
}

Status OffsetStore::Commit(const std::string& group,
                           const std::vector<std::pair<TopicPartition, CommittedOffset>>& commits) {
  if (commits.empty()) return Status::OK();
  std::string framed;
  for (const auto& [tp, c] : commits) Frame(&framed, CommitPayload(group, tp, c));
  RETURN_IF_ERROR(AppendRecords(framed));
  StoredGroup& g = groups_[group];
  for (const auto& [tp, c] : commits) g.offsets[tp] = c;
  return MaybeCompact();
}

Status OffsetStore::DeleteOffsets(const std::string& group,
                                  const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return Status::OK();
  std::string framed;
  for (const auto& tp : partitions) {
    std::string p;
    p.push_back(static_cast<char>(kDeleteOffset));
    PutStr(&p, group);
    PutStr(&p, tp.topic);
    coding::PutBigEndian32(&p, static_cast<uint32_t>(tp.partition));
    Frame(&framed, p);
  }
  RETURN_IF_ERROR(AppendRecords(framed));
  auto it = groups_.find(group);
  if (it != groups_.end()) {
    for (const auto& tp : partitions) it->second.offsets.erase(tp);
  }
  return MaybeCompact();
}

Status OffsetStore::DeleteGroup(const std::string& group) {
  std::string p;
  p.push_back(static_cast<char>(kDeleteGroup));
  PutStr(&p, group);
  std::string framed;
  Frame(&framed, p);
  RETURN_IF_ERROR(AppendRecords(framed));
  groups_.erase(group);
  return MaybeCompact();
}

Status OffsetStore::SetGroupState(const std::string& group, const std::string& protocol_type,
                                  int64_t empty_since_ms) {
  StoredGroup next;
  next.protocol_type = protocol_type;
  next.empty_since_ms = empty_since_ms;
  std::string framed;
  Frame(&framed, GroupStatePayload(group, next));
  RETURN_IF_ERROR(AppendRecords(framed));
  StoredGroup& g = groups_[group];
  g.protocol_type = protocol_type;
  g.empty_since_ms = empty_since_ms;
  return MaybeCompact();
}

Status OffsetStore::MaybeCompact() {
  uint64_t threshold = std::max(options_.compact_min_bytes, 2 * live_bytes_after_compaction_);
  if (file_bytes_ <= threshold) return Status::OK();
  return Compact();
}

Status OffsetStore::Compact() {
  std::string framed;
  for (const auto& [group, g] : groups_) {
    Frame(&framed, GroupStatePayload(group, g));
    for (const auto& [tp, c] : g.offsets) Frame(&framed, CommitPayload(group, tp, c));
  }
  if (file_) {
    file_->Close().IgnoreError();
    file_.reset();
  }
  Status s = io::WriteFileAtomically(fs_, path_, framed);
  // Reopen in any case: on failure the old file is still complete.
  ASSIGN_OR_RETURN(file_, fs_->NewWritableFile(path_, io::OpenMode::kAppend));
  file_bytes_ = file_->Size();
  RETURN_IF_ERROR(s.WithContext("compacting offsets"));
  live_bytes_after_compaction_ = file_bytes_;
  return Status::OK();
}

}  // namespace braid::kafka
