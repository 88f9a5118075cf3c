#include "kafka/group/producer_state.h"

#include <string_view>

#include "base/coding.h"
#include "base/crc.h"
#include "base/logging.h"

namespace braid::kafka {

Status CreateDirsDurably(io::FileSystem* fs, const std::string& dir) {
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  for (std::string d = dir;; d = io::DirName(d)) {
    RETURN_IF_ERROR(fs->SyncDir(d));
    std::string parent = io::DirName(d);
    if (parent == d || d == "." || d == "/") break;
  }
  return Status::OK();
}
namespace {

constexpr char kSnapshotMagic[] = "BPS1";
constexpr uint32_t kMaxSnapshotProducers = 10'000'000;

int32_t NextSeq(int32_t seq) { return seq == INT32_MAX ? 0 : seq + 1; }

int32_t LastSeq(const ProducerBatch& b) {
  int64_t last = int64_t{b.base_sequence} + b.last_offset_delta;
  return static_cast<int32_t>(last % (int64_t{INT32_MAX} + 1));
}

ProducerCheck Error(ErrorCode e) {
  ProducerCheck c;
  c.outcome = ProducerCheck::Outcome::kError;
  c.error = e;
  return c;
}

}  // namespace

ProducerStateManager::ProducerStateManager(io::FileSystem* fs, Clock* clock,
                                           ProducerStateOptions options)
    : fs_(fs), clock_(clock), options_(std::move(options)) {
  if (options_.max_cached_batches == 0) options_.max_cached_batches = 1;
}

ProducerStateManager::~ProducerStateManager() = default;

std::shared_ptr<ProducerStateManager::PartitionState> ProducerStateManager::GetState(
    const TopicPartition& tp) {
  auto& slot = partitions_[tp];
  if (!slot) slot = std::make_shared<PartitionState>();
  return slot;
}

ProducerCheck ProducerStateManager::CheckLocked(PartitionState* s, const ProducerBatch& b) const {
  if (b.producer_id.value() < 0 || b.is_control) return {};
  if (b.base_sequence < 0) return Error(ErrorCode::kOutOfOrderSequenceNumber);
  auto it = s->producers.find(b.producer_id);
  if (it == s->producers.end()) {
    if (b.base_sequence != 0) return Error(ErrorCode::kUnknownProducerId);
    return {};
  }
  const Producer& p = it->second;
  if (b.producer_epoch < p.epoch) return Error(ErrorCode::kInvalidProducerEpoch);
  if (b.producer_epoch > p.epoch) {
    if (b.base_sequence != 0) return Error(ErrorCode::kOutOfOrderSequenceNumber);
    return {};
  }
  int32_t last = LastSeq(b);
  for (const CachedBatch& c : p.batches) {
    if (c.first_seq == b.base_sequence && c.last_seq == last) {
      ProducerCheck d;
      d.outcome = ProducerCheck::Outcome::kDuplicate;
      d.duplicate_base_offset = c.base_offset;
      return d;
    }
  }
  if (b.base_sequence == NextSeq(p.last_seq)) return {};
  // A retry of a batch older than the cached window (no wrap-around between
  // it and the window): already in the log, original offset forgotten.
  if (!p.batches.empty() && last < p.batches.front().first_seq &&
      p.batches.front().first_seq <= p.last_seq) {
    ProducerCheck d;
    d.outcome = ProducerCheck::Outcome::kError;
    d.error = ErrorCode::kDuplicateSequenceNumber;
    return d;
  }
  return Error(ErrorCode::kOutOfOrderSequenceNumber);
}

void ProducerStateManager::ApplyLocked(PartitionState* s, const ProducerBatch& b,
                                       Offset base_offset) {
  s->next_offset = std::max(s->next_offset, Offset(base_offset.value() + b.last_offset_delta + 1));
  if (b.producer_id.value() < 0 || b.is_control) return;
  Producer& p = s->producers[b.producer_id];
  if (b.producer_epoch != p.epoch) {
    p.epoch = b.producer_epoch;
    p.batches.clear();
  }
  int32_t last = LastSeq(b);
  p.last_seq = last;
  p.last_timestamp = b.max_timestamp >= 0 ? b.max_timestamp : clock_->NowMillis();
  p.batches.push_back({b.base_sequence, last, base_offset});
  while (p.batches.size() > options_.max_cached_batches) p.batches.pop_front();
}

ProducerCheck ProducerStateManager::Check(const TopicPartition& tp, const ProducerBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  return CheckLocked(GetState(tp).get(), batch);
}

void ProducerStateManager::OnAppended(const TopicPartition& tp, const ProducerBatch& batch,
                                      Offset base_offset) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyLocked(GetState(tp).get(), batch, base_offset);
}

void ProducerStateManager::ReplayBatch(const TopicPartition& tp, const ProducerBatch& batch,
                                       Offset base_offset) {
  OnAppended(tp, batch, base_offset);
}

Result<ProducerCheck> ProducerStateManager::CheckAndAppend(
    const TopicPartition& tp, const ProducerBatch& batch,
    const std::function<Result<Offset>()>& append) {
  std::shared_ptr<PartitionState> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = GetState(tp);
  }
  std::lock_guard<std::mutex> append_lock(s->append_mu);
  ProducerCheck check;
  {
    std::lock_guard<std::mutex> lock(mu_);
    check = CheckLocked(s.get(), batch);
  }
  if (check.outcome != ProducerCheck::Outcome::kAppend) return check;
  ASSIGN_OR_RETURN(Offset base_offset, append());
  {
    std::lock_guard<std::mutex> lock(mu_);
    ApplyLocked(s.get(), batch, base_offset);
  }
  return check;
}

std::string ProducerStateManager::SnapshotPath(const TopicPartition& tp) const {
  return io::JoinPath(options_.snapshot_dir,
                      tp.topic + "-" + std::to_string(tp.partition.value()) + ".producers");
}

// Snapshot format (big-endian): "BPS1" | u32 crc32c(rest) | rest, where
// rest := i64 next_offset | u32 n | n x (i64 pid | i16 epoch | i32 last_seq |
//         i64 last_timestamp | u8 k | k x (i32 first_seq | i32 last_seq |
//         i64 base_offset)).
Status ProducerStateManager::WriteSnapshotLocked(const TopicPartition& tp,
                                                 const PartitionState& s) {
  std::string rest;
  coding::PutBigEndian64(&rest, static_cast<uint64_t>(s.next_offset.value()));
  coding::PutBigEndian32(&rest, static_cast<uint32_t>(s.producers.size()));
  for (const auto& [pid, p] : s.producers) {
    coding::PutBigEndian64(&rest, static_cast<uint64_t>(pid.value()));
    coding::PutBigEndian16(&rest, static_cast<uint16_t>(p.epoch.value()));
    coding::PutBigEndian32(&rest, static_cast<uint32_t>(p.last_seq));
    coding::PutBigEndian64(&rest, static_cast<uint64_t>(p.last_timestamp));
    rest.push_back(static_cast<char>(p.batches.size()));
    for (const CachedBatch& c : p.batches) {
      coding::PutBigEndian32(&rest, static_cast<uint32_t>(c.first_seq));
      coding::PutBigEndian32(&rest, static_cast<uint32_t>(c.last_seq));
      coding::PutBigEndian64(&rest, static_cast<uint64_t>(c.base_offset.value()));
    }
  }
  std::string file(kSnapshotMagic, 4);
  coding::PutBigEndian32(&file, Crc32c(rest));
  file += rest;
  RETURN_IF_ERROR(CreateDirsDurably(fs_, options_.snapshot_dir));
  return io::WriteFileAtomically(fs_, SnapshotPath(tp), file);
}

Status ProducerStateManager::WriteSnapshot(const TopicPartition& tp) {
  if (options_.snapshot_dir.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return Status::OK();
  return WriteSnapshotLocked(tp, *it->second);
}

Status ProducerStateManager::WriteSnapshots() {
  if (options_.snapshot_dir.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  for (const auto& [tp, s] : partitions_) {
    Status st = WriteSnapshotLocked(tp, *s);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Result<Offset> ProducerStateManager::LoadSnapshot(const TopicPartition& tp, Offset log_start,
                                                  Offset log_end) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = GetState(tp);
  s->producers.clear();
  s->next_offset = log_start;
  if (options_.snapshot_dir.empty()) return log_start;
  std::string path = SnapshotPath(tp);
  if (!fs_->FileExists(path)) return log_start;
  ASSIGN_OR_RETURN(std::string data, io::ReadFileToString(fs_, path, uint64_t{1} << 30));
  auto bad = [&](size_t at) -> Result<Offset> {
    LOG_WARN("{}: unusable producer snapshot (byte offset {}); replaying the log from {}", path, at,
             log_start);
    s->producers.clear();
    s->next_offset = log_start;
    return log_start;
  };
  if (data.size() < 8 || data.compare(0, 4, kSnapshotMagic) != 0) return bad(0);
  std::string_view rest(data.data() + 8, data.size() - 8);
  if (Crc32c(rest) != coding::DecodeBigEndian32(data.data() + 4)) return bad(4);
  const char* p = rest.data();
  const char* end = p + rest.size();
  auto need = [&](size_t n) { return static_cast<size_t>(end - p) >= n; };
  if (!need(12)) return bad(8);
  Offset next_offset(static_cast<int64_t>(coding::DecodeBigEndian64(p)));
  uint32_t n = coding::DecodeBigEndian32(p + 8);
  p += 12;
  if (n > kMaxSnapshotProducers) return bad(16);
  std::map<ProducerId, Producer> producers;
  for (uint32_t i = 0; i < n; ++i) {
    if (!need(23)) return bad(8 + static_cast<size_t>(p - rest.data()));
    ProducerId pid(static_cast<int64_t>(coding::DecodeBigEndian64(p)));
    Producer pr;
    pr.epoch = ProducerEpoch(static_cast<int16_t>(coding::DecodeBigEndian16(p + 8)));
    pr.last_seq = static_cast<int32_t>(coding::DecodeBigEndian32(p + 10));
    pr.last_timestamp = static_cast<int64_t>(coding::DecodeBigEndian64(p + 14));
    uint8_t k = static_cast<uint8_t>(p[22]);
    p += 23;
    if (!need(size_t{k} * 16)) return bad(8 + static_cast<size_t>(p - rest.data()));
    for (uint8_t j = 0; j < k; ++j) {
      pr.batches.push_back({static_cast<int32_t>(coding::DecodeBigEndian32(p)),
                            static_cast<int32_t>(coding::DecodeBigEndian32(p + 4)),
                            Offset(static_cast<int64_t>(coding::DecodeBigEndian64(p + 8)))});
      p += 16;
    }
    producers[pid] = std::move(pr);
  }
  if (next_offset > log_end) {
    LOG_WARN("{}: snapshot at offset {} is beyond the log end {}; replaying from {}", path,
             next_offset, log_end, log_start);
    return log_start;
  }
  s->producers = std::move(producers);
  s->next_offset = std::max(next_offset, log_start);
  return s->next_offset;
}

void ProducerStateManager::RemovePartition(const TopicPartition& tp) {
  std::lock_guard<std::mutex> lock(mu_);
  partitions_.erase(tp);
  if (!options_.snapshot_dir.empty()) {
    std::string path = SnapshotPath(tp);
    if (fs_->FileExists(path)) fs_->DeleteFile(path).IgnoreError();
  }
}

void ProducerStateManager::ExpireProducers() {
  int64_t now = clock_->NowMillis();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [tp, s] : partitions_) {
    for (auto it = s->producers.begin(); it != s->producers.end();) {
      bool idle = it->second.last_timestamp + options_.producer_expiration_ms < now;
      it = idle ? s->producers.erase(it) : std::next(it);
    }
  }
}

size_t ProducerStateManager::ProducerCount(const TopicPartition& tp) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? 0 : it->second->producers.size();
}

// ------------------------------------------------------------ ids

ProducerIdManager::ProducerIdManager(io::FileSystem* fs, std::string path, int64_t block_size)
    : fs_(fs), path_(std::move(path)), block_size_(block_size > 0 ? block_size : 1000) {}

Result<std::unique_ptr<ProducerIdManager>> ProducerIdManager::Open(io::FileSystem* fs,
                                                                   std::string path,
                                                                   int64_t block_size) {
  std::unique_ptr<ProducerIdManager> m(new ProducerIdManager(fs, std::move(path), block_size));
  int64_t start = 0;
  if (fs->FileExists(m->path_)) {
    ASSIGN_OR_RETURN(std::string data, io::ReadFileToString(fs, m->path_, 64));
    if (data.size() != 12 ||
        Crc32c(std::string_view(data.data(), 8)) != coding::DecodeBigEndian32(data.data() + 8)) {
      return Status::Corruption(m->path_ + ": bad producer id block file (byte offset 0)");
    }
    start = static_cast<int64_t>(coding::DecodeBigEndian64(data.data()));
    if (start < 0) return Status::Corruption(m->path_ + ": negative producer id block");
  }
  std::lock_guard<std::mutex> lock(m->mu_);
  m->next_ = start;
  m->block_end_ = start;
  return m;
}

Status ProducerIdManager::ReserveBlockLocked() {
  int64_t end = next_ + block_size_;
  std::string data;
  coding::PutBigEndian64(&data, static_cast<uint64_t>(end));
  coding::PutBigEndian32(&data, Crc32c(data));
  RETURN_IF_ERROR(CreateDirsDurably(fs_, io::DirName(path_)));
  RETURN_IF_ERROR(io::WriteFileAtomically(fs_, path_, data));
  block_end_ = end;
  return Status::OK();
}

Result<ProducerId> ProducerIdManager::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_ >= block_end_) RETURN_IF_ERROR(ReserveBlockLocked());
  return ProducerId(next_++);
}

}  // namespace braid::kafka
