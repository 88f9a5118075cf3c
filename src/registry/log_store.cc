#include "registry/log_store.h"

#include <chrono>
#include <utility>

#include "log/records.h"
#include "registry/service.h"

namespace braid::registry {

namespace {
constexpr uint64_t kReadChunk = 1u << 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::Open(log::Log* log, std::string topic) {
  if (!log->HasTopic(topic)) {
    Status st = log->CreateTopic(topic, 1, {{"cleanup.policy", "compact"}});
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) {
      return st.WithContext("create registry topic " + topic);
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<log::Partition> p, log->GetPartition(topic, PartitionId(0)));
  return std::unique_ptr<LogStore>(new LogStore(std::move(p)));
}

Status LogStore::Append(const std::vector<StoreRecord>& records) {
  if (records.empty()) return Status::OK();
  log::BatchBuilder builder;
  const int64_t now = NowMs();
  for (const StoreRecord& r : records) {
    std::optional<std::string_view> value;
    if (r.value) value = std::string_view(*r.value);
    builder.Add(now, std::string_view(r.key), value);
  }
  ASSIGN_OR_RETURN(std::string batch, builder.Build());
  ASSIGN_OR_RETURN(log::AppendResult res, partition_->Append(batch));
  if (!res.flushed) RETURN_IF_ERROR(partition_->Flush());
  return Status::OK();
}

Status LogStore::Replay(const std::function<Status(const StoreRecord&)>& fn) {
  Offset next = partition_->log_start_offset();
  const Offset end = partition_->log_end_offset();
  std::string bytes;
  while (next < end) {
    ASSIGN_OR_RETURN(log::ReadResult read, partition_->Read(next, kReadChunk));
    if (read.slice.empty()) break;
    bytes.clear();
    RETURN_IF_ERROR(read.slice.AppendTo(&bytes));
    log::RecordIteratorOptions options;
    options.start = next;
    log::RecordIterator it(bytes, options);
    log::RecordView rec;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, it.Next(&rec));
      if (!more) break;
      if (!rec.key) continue;
      StoreRecord out;
      out.key = std::string(*rec.key);
      if (rec.value) out.value = std::string(*rec.value);
      RETURN_IF_ERROR(fn(out));
    }
    next = std::max(next, std::max(read.slice.next_offset, it.next_offset()));
  }
  return Status::OK();
}

Result<std::unique_ptr<Registry>> OpenRegistryOnLog(log::Log* log, RegistryOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<LogStore> store, LogStore::Open(log));
  return Registry::Open(options, std::move(store));
}

}  // namespace braid::registry
