#include "source/log_source.h"

#include <algorithm>

namespace braid::source {

LogSource::LogSource(log::Log* log) : log_(log) {}

LogSource::~LogSource() { Close(); }

Result<int32_t> LogSource::PartitionCount(const std::string& topic) {
  ASSIGN_OR_RETURN(log::TopicInfo info, log_->DescribeTopic(topic));
  return info.partition_count;
}

Result<Watermarks> LogSource::GetWatermarks(const TopicPartition& tp) {
  ASSIGN_OR_RETURN(std::shared_ptr<log::Partition> p, log_->GetPartition(tp.topic, tp.partition));
  return Watermarks{p->log_start_offset(), p->high_watermark()};
}

Status LogSource::AddPartition(const TopicPartition& tp, Offset offset) {
  ASSIGN_OR_RETURN(std::shared_ptr<log::Partition> p, log_->GetPartition(tp.topic, tp.partition));
  auto part = std::make_unique<Part>();
  part->tp = tp;
  part->position = offset.value() < 0 ? p->log_start_offset() : offset;
  part->partition = std::move(p);
  parts_[tp] = std::move(part);
  return Status::OK();
}

Status LogSource::Assign(const std::map<TopicPartition, Offset>& partitions) {
  parts_.clear();
  topics_.clear();
  listener_ = nullptr;
  for (const auto& [tp, offset] : partitions) RETURN_IF_ERROR(AddPartition(tp, offset));
  return Status::OK();
}

Status LogSource::Seek(const TopicPartition& tp, Offset offset) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return Status::NotFound(tp.ToString() + " is not assigned");
  it->second->position = offset.value() < 0 ? it->second->partition->log_start_offset() : offset;
  it->second->paused = false;
  return Status::OK();
}

Status LogSource::Subscribe(const std::vector<std::string>& topics, RebalanceListener* listener) {
  if (listener == nullptr) return Status::InvalidArgument("Subscribe needs a listener");
  parts_.clear();
  topics_ = topics;
  listener_ = listener;
  next_discovery_ = {};
  return Status::OK();
}

Status LogSource::DiscoverPartitions() {
  const auto now = std::chrono::steady_clock::now();
  if (listener_ == nullptr || now < next_discovery_) return Status::OK();
  next_discovery_ = now + std::chrono::seconds(1);
  std::vector<TopicPartition> added;
  for (const std::string& topic : topics_) {
    auto info = log_->DescribeTopic(topic);
    if (!info.ok()) continue;  // not created yet
    for (int32_t p = 0; p < info->partition_count; ++p) {
      TopicPartition tp{topic, PartitionId(p)};
      if (parts_.count(tp) == 0) added.push_back(std::move(tp));
    }
  }
  if (added.empty()) return Status::OK();
  std::vector<Offset> offsets = listener_->OnAssigned(added);
  for (size_t i = 0; i < added.size(); ++i) {
    RETURN_IF_ERROR(AddPartition(added[i], i < offsets.size() ? offsets[i] : Offset(-1)));
  }
  return Status::OK();
}

Result<size_t> LogSource::Poll(const PollOptions& options, const PartitionRecordsFn& fn) {
  RETURN_IF_ERROR(DiscoverPartitions());
  size_t delivered = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool any = false;
    for (auto& [tp, part] : parts_) {
      if (part->paused) continue;
      PartitionRecords out;
      out.partition = &part->tp;
      auto read = part->partition->Read(part->position, options.max_bytes_per_partition);
      if (!read.ok()) {
        if (read.status().code() != StatusCode::kOutOfRange) return read.status();
        const Offset start = part->partition->log_start_offset();
        const Offset end = part->partition->high_watermark();
        if (part->position >= start && part->position <= end) continue;  // raced; next time
        part->paused = true;
        out.error = Status::OutOfRange(tp.ToString() + ": offset " +
                                       std::to_string(part->position.value()) +
                                       " is outside the log [" + std::to_string(start.value()) +
                                       ", " + std::to_string(end.value()) + ")");
        out.log_start = start;
        out.next_offset = part->position;
        out.high_watermark = part->partition->high_watermark();
        any = true;
        RETURN_IF_ERROR(fn(out));
        continue;
      }
      if (read->slice.empty()) continue;
      part->bytes.clear();
      RETURN_IF_ERROR(read->slice.AppendTo(&part->bytes));
      log::RecordIteratorOptions io;
      io.start = part->position;
      log::RecordIterator it(part->bytes, io);
      out.high_watermark = read->high_watermark;
      // Hands out the records gathered so far, continuing after `next`.
      size_t n = 0, total = 0;
      auto deliver = [&](Offset next) -> Status {
        out.records = std::span<const log::RecordView>(part->views.data(), n);
        out.next_offset = next;
        part->position = next;
        delivered += n;
        total += n;
        n = 0;
        any = true;
        return fn(out);
      };
      bool limited = false;
      for (;;) {
        if (total + n == options.max_records_per_partition) {
          limited = true;
          break;
        }
        if (n == part->views.size()) part->views.emplace_back();
        auto more = it.Next(&part->views[n]);
        if (!more.ok()) return more.status().WithContext(tp.ToString());
        if (!*more) break;
        ++n;
        // The views into a compressed batch's records die when the iterator
        // moves on: hand them out first.
        if (it.at_batch_end() && it.batch().compression() != log::Compression::kNone) {
          RETURN_IF_ERROR(deliver(it.batch().next_offset()));
        }
      }
      // Stopped by the record limit: continue after the last record given;
      // otherwise after everything read (control batches included).
      if (limited && total + n > 0) {
        const Offset after = n > 0 ? Offset(part->views[n - 1].offset.value() + 1) : part->position;
        RETURN_IF_ERROR(deliver(after));
      } else if (n > 0 || total == 0) {
        RETURN_IF_ERROR(deliver(std::max(it.next_offset(), read->slice.next_offset)));
      } else {
        part->position = std::max(it.next_offset(), read->slice.next_offset);
      }
    }
    if (any || attempt == 1) break;
    WaitForData(options.timeout);
  }
  return delivered;
}

void LogSource::WaitForData(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (signalled_) {
      signalled_ = false;
      return;
    }
  }
  std::vector<std::pair<log::Partition*, log::Partition::WaiterId>> waiters;
  for (auto& [tp, part] : parts_) {
    if (part->paused) continue;
    waiters.emplace_back(part->partition.get(),
                         part->partition->RegisterWaiter(part->position, [this] {
                           std::lock_guard<std::mutex> lock(mu_);
                           signalled_ = true;
                           cv_.notify_all();
                         }));
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return signalled_; });
    signalled_ = false;
  }
  for (auto& [p, id] : waiters) p->CancelWaiter(id);
}

void LogSource::Wakeup() {
  std::lock_guard<std::mutex> lock(mu_);
  signalled_ = true;
  cv_.notify_all();
}

void LogSource::Close() {
  if (listener_ != nullptr && !parts_.empty()) {
    std::vector<TopicPartition> revoked;
    for (const auto& [tp, part] : parts_) revoked.push_back(tp);
    listener_->OnRevoked(revoked);
  }
  parts_.clear();
  listener_ = nullptr;
}

}  // namespace braid::source
