#include "log/partition.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "base/check.h"
#include "base/coding.h"
#include "base/logging.h"
#include "log/log_internal.h"

namespace braid::log {

namespace {

constexpr std::string_view kLogStartFile = "log-start-offset";

Status TooLarge(uint64_t size, int32_t max) {
  return Status::TooLarge("record batch too large: " + std::to_string(size) +
                          " bytes exceeds max.message.bytes " + std::to_string(max));
}

}  // namespace

Status FileSlice::AppendTo(std::string* out) const {
  if (size == 0) return Status::OK();
  size_t old = out->size();
  out->resize(old + size);
  Result<size_t> n = file->Read(position, size, out->data() + old);
  if (!n.ok() || *n != size) {
    out->resize(old);
    if (!n.ok()) return n.status();
    return Status::IOError("short read of a log segment: " + std::to_string(*n) + " of " +
                           std::to_string(size) + " bytes");
  }
  return Status::OK();
}

Partition::Partition(std::shared_ptr<PartitionEnv> env, std::string topic, PartitionId id,
                     std::string dir, TopicConfig config)
    : env_(std::move(env)),
      topic_(std::move(topic)),
      id_(id),
      dir_(std::move(dir)),
      config_(std::move(config)) {}

Partition::~Partition() {
  if (state_.load() == State::kOpen || state_.load() == State::kOffline) Close(false).IgnoreError();
}

Result<std::shared_ptr<Partition>> Partition::Open(std::shared_ptr<PartitionEnv> env,
                                                   std::string topic, PartitionId id,
                                                   std::string dir, TopicConfig config,
                                                   bool create) {
  std::shared_ptr<Partition> p(
      new Partition(std::move(env), std::move(topic), id, std::move(dir), std::move(config)));
  RETURN_IF_ERROR(p->Recover(create).WithContext(p->dir_));
  return p;
}

Status Partition::Recover(bool create) {
  std::lock_guard<std::mutex> l(append_mu_);
  io::FileSystem* fs = env_->fs;
  if (create) {
    RETURN_IF_ERROR(fs->CreateDirs(dir_));
    RETURN_IF_ERROR(env_->SyncDir(io::DirName(dir_)));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir_));
  std::vector<Offset> bases;
  std::vector<std::string> index_files;
  for (const std::string& name : names) {
    Offset base;
    if (Segment::ParseLogFileName(name, &base)) {
      bases.push_back(base);
    } else if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      RETURN_IF_ERROR(fs->DeleteFile(io::JoinPath(dir_, name)));
    } else if (name.size() > 6 &&
               (name.substr(name.size() - 6) == ".index" ||
                (name.size() > 10 && name.substr(name.size() - 10) == ".timeindex"))) {
      index_files.push_back(name);
    }
  }
  std::sort(bases.begin(), bases.end());
  // Index files without a segment are leftovers of an interrupted deletion.
  for (const std::string& name : index_files) {
    std::string stem = name.substr(0, name.find('.'));
    Offset base;
    if (!Segment::ParseLogFileName(stem + ".log", &base) ||
        !std::binary_search(bases.begin(), bases.end(), base)) {
      RETURN_IF_ERROR(fs->DeleteFile(io::JoinPath(dir_, name)));
    }
  }

  int64_t start = -1;
  std::string start_path = io::JoinPath(dir_, kLogStartFile);
  if (fs->FileExists(start_path)) {
    ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs, start_path, 64));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() && v >= 0) {
      start = v;
    } else {
      LOG_WARN("{}: ignoring unreadable {} file", dir_, kLogStartFile);
    }
  }

  for (size_t i = 0; i < bases.size(); ++i) {
    auto seg = std::make_shared<Segment>(env_.get(), dir_, bases[i]);
    uint64_t cut = 0;
    RETURN_IF_ERROR(seg->Load(i + 1 == bases.size(), &cut));
    if (!segments_.empty() && segments_.back()->next_offset() > seg->base_offset()) {
      return Status::Corruption(segments_.back()->path() + " holds offsets up to " +
                                std::to_string(segments_.back()->next_offset().value() - 1) +
                                ", overlapping the next segment " + seg->path());
    }
    segments_.push_back(std::move(seg));
  }
  int64_t end =
      segments_.empty() ? std::max<int64_t>(start, 0) : segments_.back()->next_offset().value();
  if (segments_.empty() || start > end) {
    // Empty partition, or the data below the persisted log start was lost.
    if (!segments_.empty()) {
      LOG_WARN("{}: log start offset {} is beyond the recovered log end {}; starting empty at {}",
               dir_, start, end, start);
      for (auto& seg : segments_) RETURN_IF_ERROR(seg->DeleteFiles());
      segments_.clear();
      end = start;
    }
    auto seg = std::make_shared<Segment>(env_.get(), dir_, Offset(end));
    RETURN_IF_ERROR(seg->CreateNew());
    segments_.push_back(std::move(seg));
  } else {
    RETURN_IF_ERROR(segments_.back()->OpenForAppend());
    RETURN_IF_ERROR(segments_.back()->SyncLog());
    flush_count_.fetch_add(1);
  }
  start = std::max(start, segments_.front()->base_offset().value());
  log_start_.store(start);
  log_end_.store(end);
  flushed_.store(end);
  PublishLocked();
  return Status::OK();
}

void Partition::PublishLocked() {
  auto snap = std::make_shared<const SegmentList>(segments_);
  std::lock_guard<std::mutex> l(snapshot_mu_);
  snapshot_ = std::move(snap);
}

std::shared_ptr<const Partition::SegmentList> Partition::Snapshot() const {
  std::lock_guard<std::mutex> l(snapshot_mu_);
  return snapshot_;
}

Status Partition::CheckUsable() const {
  switch (state_.load()) {
    case State::kOpen:
      return Status::OK();
    case State::kOffline:
      return Status::FailedPrecondition("partition " + topic_ + "-" + std::to_string(id_.value()) +
                                        " is offline after an I/O error");
    case State::kClosed:
      return Status::FailedPrecondition("partition " + topic_ + "-" + std::to_string(id_.value()) +
                                        " is closed");
    case State::kDeleted:
      return Status::NotFound("partition " + topic_ + "-" + std::to_string(id_.value()) +
                              " was deleted");
  }
  return Status::Internal("bad state");
}

Status Partition::RollLocked(Offset base, int64_t now_ms) {
  std::shared_ptr<Segment> active = segments_.back();
  RETURN_IF_ERROR(active->Seal());
  flush_count_.fetch_add(1);
  RETURN_IF_ERROR(active->CloseWriter());
  auto seg = std::make_shared<Segment>(env_.get(), dir_, base);
  RETURN_IF_ERROR(seg->CreateNew());
  segments_.push_back(std::move(seg));
  AdvanceFlushed(base.value());
  unflushed_records_ = 0;
  oldest_unflushed_ms_ = -1;
  PublishLocked();
  (void)now_ms;
  return Status::OK();
}

void Partition::AdvanceFlushed(int64_t to) {
  int64_t cur = flushed_.load();
  while (cur < to && !flushed_.compare_exchange_weak(cur, to)) {
  }
}

Status Partition::FlushLocked() {
  if (flushed_.load() >= log_end_.load()) return Status::OK();
  RETURN_IF_ERROR(segments_.back()->SyncLog());
  flush_count_.fetch_add(1);
  AdvanceFlushed(log_end_.load());
  unflushed_records_ = 0;
  oldest_unflushed_ms_ = -1;
  return Status::OK();
}

Status Partition::SyncTo(int64_t target) {
  std::lock_guard<std::mutex> s(sync_mu_);
  if (flushed_.load() >= target) return Status::OK();  // a concurrent fsync covered it
  std::shared_ptr<Segment> active;
  int64_t end;
  {
    std::lock_guard<std::mutex> l(append_mu_);
    RETURN_IF_ERROR(CheckUsable());
    active = segments_.back();
    end = log_end_.load();
  }
  // Older segments were fsynced when rolled; if `active` is rolled meanwhile,
  // SyncLog is a no-op and the roll's seal made it durable.
  Status st = active->SyncLog();
  if (!st.ok()) {
    state_.store(State::kOffline);
    return st;
  }
  flush_count_.fetch_add(1);
  AdvanceFlushed(end);
  return Status::OK();
}

Status Partition::Flush() {
  std::lock_guard<std::mutex> l(append_mu_);
  RETURN_IF_ERROR(CheckUsable());
  Status s = FlushLocked();
  if (!s.ok()) state_.store(State::kOffline);
  return s;
}

Status Partition::AppendValidated(std::string_view batch, const BatchHeader& h, int64_t now_ms,
                                  AppendResult* result, int64_t* records) {
  std::shared_ptr<Segment> active = segments_.back();
  const int64_t base = log_end_.load();
  const int64_t next = base + h.last_offset_delta + 1;
  bool roll = false;
  if (active->size() > 0) {
    if (active->size() + batch.size() > static_cast<uint64_t>(config_.segment_bytes)) roll = true;
    int64_t rb = active->roll_base_ms();
    if (rb >= 0 && now_ms - rb >= config_.segment_ms) roll = true;
    if (next - active->base_offset().value() > std::numeric_limits<int32_t>::max()) roll = true;
  }
  if (roll) {
    Status s = RollLocked(Offset(base), now_ms);
    if (!s.ok()) {
      state_.store(State::kOffline);
      return s;
    }
    active = segments_.back();
  }
  BatchHeader stored = h;
  stored.base_offset = Offset(base);
  // The batch is written as received after its base offset field (8 bytes,
  // which the CRC does not cover), without copying it, unless the broker
  // time must be stamped into it.
  char base_field[8];
  coding::EncodeBigEndian64(base_field, static_cast<uint64_t>(base));
  std::string_view rest = batch.substr(kBaseOffsetPos + 8);
  std::string copy;
  if (config_.message_timestamp_type == TimestampType::kLogAppendTime) {
    copy.assign(batch);
    coding::EncodeBigEndian64(copy.data() + kBaseOffsetPos, static_cast<uint64_t>(base));
    int16_t attrs = static_cast<int16_t>(h.attributes | 0x8);
    copy[kAttributesPos] = static_cast<char>((attrs >> 8) & 0xff);
    copy[kAttributesPos + 1] = static_cast<char>(attrs & 0xff);
    coding::EncodeBigEndian64(copy.data() + kMaxTimestampPos, static_cast<uint64_t>(now_ms));
    UpdateBatchCrc(&copy);
    stored.attributes = attrs;
    stored.max_timestamp = now_ms;
    result->log_append_time_ms = now_ms;
    rest = std::string_view(copy).substr(kBaseOffsetPos + 8);
  }
  const uint64_t before = active->size();
  Status s = active->Append(std::string_view(base_field, 8), rest, stored, now_ms);
  if (!s.ok()) {
    Status rb = active->RollbackTo(before);
    if (!rb.ok()) {
      LOG_ERROR("{}: cannot roll back a failed append ({}); partition offline", dir_,
                rb.ToString());
      state_.store(State::kOffline);
    }
    return s;
  }
  if (result->base_offset.value() < 0) result->base_offset = Offset(base);
  result->last_offset = Offset(next - 1);
  log_end_.store(next, std::memory_order_release);
  appended_batches_.fetch_add(1);
  *records += h.record_count;
  return Status::OK();
}

Result<AppendResult> Partition::Append(std::string_view batches) {
  return Append(batches, AppendOptions{});
}

Result<AppendResult> Partition::Append(std::string_view batches, const AppendOptions& options) {
  // Validate everything before taking the lock.
  std::vector<AppendItem> items;
  size_t pos = 0;
  while (pos < batches.size()) {
    if (batches.size() - pos < kBatchLogOverhead) {
      return Status::InvalidArgument("truncated record batch at byte " + std::to_string(pos));
    }
    int32_t len = static_cast<int32_t>(coding::DecodeBigEndian32(batches.data() + pos + 8));
    if (len < kMinBatchLength || static_cast<uint64_t>(len) > batches.size() - pos - 12) {
      return Status::InvalidArgument("record batch at byte " + std::to_string(pos) +
                                     " has length " + std::to_string(len) + " but " +
                                     std::to_string(batches.size() - pos - 12) + " bytes follow");
    }
    std::string_view b = batches.substr(pos, static_cast<size_t>(len) + 12);
    Result<BatchHeader> h = ValidateBatch(b);
    if (!h.ok()) return h.status().WithContext("batch at byte " + std::to_string(pos));
    items.push_back({b, *h});
    pos += b.size();
  }
  if (items.empty()) return Status::InvalidArgument("no record batch to append");

  int64_t sync_to = 0;
  Result<AppendResult> result = AppendLocked(items.data(), items.size(), &sync_to);
  NotifyWaiters();
  if (result.ok() && sync_to > 0) {
    if (options.defer_sync) {
      result->needs_sync = flushed_.load() < sync_to;
      result->flushed = !result->needs_sync;
      return result;
    }
    RETURN_IF_ERROR(SyncTo(sync_to));
    result->flushed = true;
  }
  return result;
}

void Partition::SyncAsync(Offset offset, std::function<void(Status)> done) {
  if (flushed_.load() > offset.value()) {
    done(Status::OK());
    return;
  }
  Status usable;
  {
    // Close() changes the state before it settles the waiters under
    // durable_mu_, so a waiter added here is always settled.
    std::lock_guard<std::mutex> l(durable_mu_);
    usable = CheckUsable();
    if (usable.ok()) durable_waiters_.emplace_back(offset.value(), std::move(done));
  }
  if (!usable.ok()) {
    done(usable);
    return;
  }
  if (!sync_scheduled_.exchange(true) && !env_->syncer.Schedule(shared_from_this())) {
    // Only after Log::Close, which closed this partition first: Close()
    // settles the waiters.
    sync_scheduled_.store(false);
  }
}

void Partition::RunDeferredSync() {
  sync_scheduled_.store(false);
  int64_t target = -1;
  {
    std::lock_guard<std::mutex> l(durable_mu_);
    for (const auto& w : durable_waiters_) target = std::max(target, w.first + 1);
  }
  if (target < 0) return;
  Status s = flushed_.load() >= target ? Status::OK() : SyncTo(target);
  SettleDurableWaiters(s);
}

void Partition::SettleDurableWaiters(const Status& s) {
  std::vector<std::function<void(Status)>> ok, failed;
  {
    std::lock_guard<std::mutex> l(durable_mu_);
    const int64_t flushed = flushed_.load();
    auto it = std::partition(durable_waiters_.begin(), durable_waiters_.end(),
                             [&](const auto& w) { return w.first >= flushed && s.ok(); });
    for (auto j = it; j != durable_waiters_.end(); ++j) {
      (j->first < flushed ? ok : failed).push_back(std::move(j->second));
    }
    durable_waiters_.erase(it, durable_waiters_.end());
  }
  for (auto& cb : ok) cb(Status::OK());
  for (auto& cb : failed) cb(s);
}

Result<AppendResult> Partition::AppendLocked(const AppendItem* items, size_t n, int64_t* sync_to) {
  AppendResult result;
  result.base_offset = Offset(-1);
  std::lock_guard<std::mutex> l(append_mu_);
  RETURN_IF_ERROR(CheckUsable());
  for (size_t i = 0; i < n; ++i) {
    if (items[i].bytes.size() > static_cast<uint64_t>(config_.max_message_bytes)) {
      return TooLarge(items[i].bytes.size(), config_.max_message_bytes);
    }
  }
  const int64_t now = env_->clock->NowMillis();
  const int64_t end_before = log_end_.load();
  int64_t records = 0;
  for (size_t i = 0; i < n; ++i) {
    Status s = AppendValidated(items[i].bytes, items[i].header, now, &result, &records);
    if (!s.ok()) {
      if (log_end_.load() != end_before) {
        // Part of a multi-batch append landed; it stays (offsets are
        // assigned) but the caller sees the error.
        LOG_WARN("{}: append failed after {} offsets: {}", dir_, log_end_.load() - end_before,
                 s.ToString());
      }
      return s;
    }
  }
  unflushed_records_ += records;
  if (oldest_unflushed_ms_ < 0) oldest_unflushed_ms_ = now;
  if (env_->options.fsync_every_append || unflushed_records_ >= config_.flush_messages) {
    // fsync after unlocking, so that concurrent appends share it.
    *sync_to = log_end_.load();
    unflushed_records_ = 0;
    oldest_unflushed_ms_ = -1;
  }
  result.flushed = flushed_.load() >= log_end_.load();
  result.log_start_offset = Offset(log_start_.load());
  return result;
}

Result<ReadResult> Partition::Read(Offset offset, uint64_t max_bytes) const {
  RETURN_IF_ERROR(CheckUsable());
  const int64_t end = log_end_.load(std::memory_order_acquire);
  std::shared_ptr<const SegmentList> snap = Snapshot();
  const int64_t start = log_start_.load();
  ReadResult r;
  r.log_start_offset = Offset(start);
  r.high_watermark = Offset(end);
  if (offset.value() < start || offset.value() > end) {
    return Status::OutOfRange("offset " + std::to_string(offset.value()) + " is outside [" +
                              std::to_string(start) + ", " + std::to_string(end) + "] of " +
                              topic_ + "-" + std::to_string(id_.value()));
  }
  r.slice.first_offset = offset;
  r.slice.next_offset = offset;
  if (offset.value() == end) return r;
  // The last segment with base <= offset.
  auto it = std::upper_bound(
      snap->begin(), snap->end(), offset,
      [](Offset o, const std::shared_ptr<Segment>& s) { return o < s->base_offset(); });
  size_t i = it == snap->begin() ? 0 : static_cast<size_t>(it - snap->begin()) - 1;
  for (; i < snap->size(); ++i) {
    const Segment& seg = *(*snap)[i];
    const uint64_t limit = seg.size();
    uint64_t pos = seg.LookupPosition(offset);
    BatchHeader first;
    bool found = false;
    while (true) {
      Result<BatchHeader> h = seg.ReadHeaderAt(pos, limit);
      if (!h.ok()) {
        if (h.status().IsNotFound()) break;
        return h.status();
      }
      if (h->last_offset() >= offset) {
        first = *h;
        found = true;
        break;
      }
      pos += h->total_size();
    }
    if (!found) continue;
    uint64_t slice_end = pos + first.total_size();
    Offset next = first.next_offset();
    const uint64_t budget_end =
        max_bytes > limit - pos ? limit : pos + std::max<uint64_t>(max_bytes, first.total_size());
    IndexEntry e;
    if (seg.LastEntryWithin(slice_end, std::min(budget_end, limit), &e)) {
      slice_end = e.position;
      next = Offset(e.offset);
    }
    while (true) {
      Result<BatchHeader> h = seg.ReadHeaderAt(slice_end, limit);
      if (!h.ok()) {
        if (h.status().IsNotFound()) break;
        return h.status();
      }
      if (slice_end + h->total_size() > budget_end) break;
      slice_end += h->total_size();
      next = h->next_offset();
    }
    r.slice.file = seg.file();
    r.slice.position = pos;
    r.slice.size = slice_end - pos;
    r.slice.first_offset = first.base_offset;
    r.slice.next_offset = next;
    r.high_watermark = Offset(std::max(log_end_.load(), next.value()));
    return r;
  }
  return r;
}

Result<std::vector<StoredBatch>> Partition::ReadBatches(Offset offset, uint64_t max_bytes) const {
  ASSIGN_OR_RETURN(ReadResult r, Read(offset, max_bytes));
  std::vector<StoredBatch> out;
  std::string bytes;
  RETURN_IF_ERROR(r.slice.AppendTo(&bytes));
  std::string_view rest(bytes);
  while (!rest.empty()) {
    ASSIGN_OR_RETURN(BatchHeader h, ParseBatchHeader(rest));
    if (h.total_size() > rest.size()) return Status::Internal("read a partial batch");
    out.push_back({h, std::string(rest.substr(0, h.total_size()))});
    rest.remove_prefix(h.total_size());
  }
  return out;
}

Result<TimestampLookup> Partition::LookupTimestamp(int64_t t) const {
  RETURN_IF_ERROR(CheckUsable());
  std::shared_ptr<const SegmentList> snap = Snapshot();
  const Offset start(log_start_.load());
  TimestampLookup result;
  std::string batch;
  for (const std::shared_ptr<Segment>& seg : *snap) {
    if (seg->next_offset() <= start || seg->max_timestamp() < t) continue;
    const uint64_t limit = seg->size();
    Offset from = std::max(seg->LookupTimestampStart(t), start);
    uint64_t pos = seg->LookupPosition(from);
    while (true) {
      Result<BatchHeader> h = seg->ReadHeaderAt(pos, limit);
      if (!h.ok()) {
        if (h.status().IsNotFound()) break;
        return h.status();
      }
      if (h->last_offset() < start || h->max_timestamp < t) {
        pos += h->total_size();
        continue;
      }
      batch.resize(h->total_size());
      ASSIGN_OR_RETURN(size_t n, seg->file()->Read(pos, batch.size(), batch.data()));
      if (n != batch.size()) return Status::IOError(seg->path() + ": short read");
      auto found = internal::FindRecordByTimestamp(BatchView{*h, batch}, t, start, &result.offset,
                                                   &result.timestamp);
      if (!found.ok()) {
        // Unreadable records (the batch passed append validation, so only a
        // codec failure): answer with the batch itself.
        result.offset = std::max(h->base_offset, start);
        result.timestamp = h->max_timestamp;
        return result;
      }
      if (*found) return result;
      pos += h->total_size();
    }
  }
  return result;
}

Status Partition::WriteLogStartLocked(Offset start) {
  return env_->WriteAtomically(io::JoinPath(dir_, kLogStartFile),
                               std::to_string(start.value()) + "\n");
}

Status Partition::DeleteSegmentsLocked(size_t count) {
  if (count == 0) return Status::OK();
  CHECK_LT(count, segments_.size()) << "never delete the active segment";
  std::vector<std::shared_ptr<Segment>> doomed(segments_.begin(), segments_.begin() + count);
  segments_.erase(segments_.begin(), segments_.begin() + count);
  const int64_t new_start = segments_.front()->base_offset().value();
  if (new_start > log_start_.load()) {
    // Persist first: after a crash the log must not resurrect deleted offsets.
    RETURN_IF_ERROR(WriteLogStartLocked(Offset(new_start)));
    log_start_.store(new_start);
  }
  PublishLocked();
  for (const auto& seg : doomed) {
    LOG_INFO("{}: deleting segment {}", dir_, seg->path());
    RETURN_IF_ERROR(seg->DeleteFiles());
  }
  return env_->SyncDir(dir_);
}

Status Partition::RetentionLocked(int64_t now_ms, bool only_log_start) {
  size_t count = 0;
  uint64_t total = 0;
  for (const auto& seg : segments_) total += seg->size();
  int64_t remaining = static_cast<int64_t>(total);
  const int64_t start = log_start_.load();
  while (count + 1 < segments_.size()) {
    const Segment& seg = *segments_[count];
    bool remove = segments_[count + 1]->base_offset().value() <= start;
    if (config_.deletes() && !only_log_start) {
      if (config_.retention_ms >= 0 && now_ms - seg.max_timestamp() > config_.retention_ms) {
        remove = true;
      }
      if (config_.retention_bytes >= 0 &&
          remaining - static_cast<int64_t>(seg.size()) >= config_.retention_bytes) {
        remove = true;
      }
    }
    if (!remove) break;
    remaining -= static_cast<int64_t>(seg.size());
    ++count;
  }
  return DeleteSegmentsLocked(count);
}

Status Partition::Roll() {
  std::lock_guard<std::mutex> l(append_mu_);
  RETURN_IF_ERROR(CheckUsable());
  if (segments_.back()->size() == 0) return Status::OK();
  Status s = RollLocked(Offset(log_end_.load()), env_->clock->NowMillis());
  if (!s.ok()) state_.store(State::kOffline);
  return s;
}

Result<Offset> Partition::DeleteRecords(Offset offset) {
  std::lock_guard<std::mutex> l(append_mu_);
  RETURN_IF_ERROR(CheckUsable());
  if (offset.value() > log_end_.load() || offset.value() < 0) {
    return Status::OutOfRange("DeleteRecords offset " + std::to_string(offset.value()) +
                              " is beyond the high watermark " + std::to_string(log_end_.load()));
  }
  if (offset.value() <= log_start_.load()) return Offset(log_start_.load());
  // The new start must not be beyond what survives a crash.
  if (flushed_.load() < offset.value()) RETURN_IF_ERROR(FlushLocked());
  RETURN_IF_ERROR(WriteLogStartLocked(offset));
  log_start_.store(offset.value());
  RETURN_IF_ERROR(RetentionLocked(env_->clock->NowMillis(), /*only_log_start=*/true));
  return Offset(log_start_.load());
}

Status Partition::RunMaintenance(int64_t now_ms) {
  std::lock_guard<std::mutex> l(append_mu_);
  if (state_.load() != State::kOpen) return Status::OK();
  Status s;
  std::shared_ptr<Segment> active = segments_.back();
  if (active->size() > 0 && active->roll_base_ms() >= 0 &&
      now_ms - active->roll_base_ms() >= config_.segment_ms) {
    s = RollLocked(Offset(log_end_.load()), now_ms);
    if (!s.ok()) {
      state_.store(State::kOffline);
      return s;
    }
  }
  if (oldest_unflushed_ms_ >= 0 && now_ms - oldest_unflushed_ms_ >= config_.flush_ms) {
    s = FlushLocked();
    if (!s.ok()) {
      state_.store(State::kOffline);
      return s;
    }
  }
  return RetentionLocked(now_ms, /*only_log_start=*/false);
}

void Partition::SetConfig(const TopicConfig& config) {
  std::lock_guard<std::mutex> l(append_mu_);
  config_ = config;
}

Status Partition::Close(bool deleted) {
  Status s;
  {
    std::lock_guard<std::mutex> l(append_mu_);
    State st = state_.load();
    if (st == State::kClosed || st == State::kDeleted) return Status::OK();
    if (!deleted && st == State::kOpen && !segments_.empty()) {
      s = segments_.back()->Seal();
      if (s.ok()) flush_count_.fetch_add(1);
      if (s.ok()) AdvanceFlushed(log_end_.load());
    }
    for (auto& seg : segments_) seg->CloseWriter().IgnoreError();
    state_.store(deleted ? State::kDeleted : State::kClosed);
  }
  NotifyWaiters();
  SettleDurableWaiters(CheckUsable());
  return s;
}

PartitionStats Partition::stats() const {
  PartitionStats st;
  st.topic = topic_;
  st.partition = id_;
  std::shared_ptr<const SegmentList> snap = Snapshot();
  st.log_start_offset = log_start_offset();
  st.log_end_offset = log_end_offset();
  st.high_watermark = high_watermark();
  st.flushed_offset = flushed_offset();
  if (snap) {
    for (const auto& seg : *snap) st.size_bytes += seg->size();
    st.segment_count = snap->size();
  }
  st.flush_count = flush_count_.load();
  st.appended_batches = appended_batches_.load();
  return st;
}

// ---- Waiters ----

bool Partition::WaitForData(Offset offset, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock<std::mutex> l(wait_mu_);
  return wait_cv_.wait_until(l, deadline, [&] {
    return log_end_.load() > offset.value() || state_.load() != State::kOpen;
  }) && log_end_.load() > offset.value();
}

Partition::WaiterId Partition::RegisterWaiter(Offset offset, std::function<void()> callback) {
  WaiterId id;
  {
    std::lock_guard<std::mutex> l(wait_mu_);
    id = next_waiter_id_++;
    if (log_end_.load() <= offset.value() && state_.load() == State::kOpen) {
      waiters_.emplace(id, std::make_pair(offset, std::move(callback)));
      return id;
    }
  }
  callback();
  return id;
}

bool Partition::CancelWaiter(WaiterId id) {
  std::unique_lock<std::mutex> l(wait_mu_);
  if (waiters_.erase(id) > 0) return true;
  if (running_waiter_ == id && running_thread_ != std::this_thread::get_id()) {
    waiter_done_cv_.wait(l, [&] { return running_waiter_ != id; });
  }
  return false;
}

void Partition::NotifyWaiters() {
  std::unique_lock<std::mutex> l(wait_mu_);
  wait_cv_.notify_all();
  while (true) {
    const int64_t end = log_end_.load();
    const bool all = state_.load() != State::kOpen;
    auto it = waiters_.begin();
    for (; it != waiters_.end(); ++it) {
      if (all || it->second.first.value() < end) break;
    }
    if (it == waiters_.end()) return;
    WaiterId id = it->first;
    std::function<void()> cb = std::move(it->second.second);
    waiters_.erase(it);
    running_waiter_ = id;
    running_thread_ = std::this_thread::get_id();
    l.unlock();
    cb();
    l.lock();
    running_waiter_ = 0;
    waiter_done_cv_.notify_all();
  }
}

}  // namespace braid::log
