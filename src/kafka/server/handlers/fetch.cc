// Fetch (key 1), v4-v11: whole batches starting with the one that contains
// the fetch offset, KIP-74 size limits, long poll woken by log appends.
// v0-3 take the same path; their reply is down-converted (fetch_legacy.cc),
// so their records are always copied.
// Records of a partition of at least BrokerOptions::fetch_zero_copy_min_bytes
// are not copied: the response carries the segment file range and the
// server writes it with sendfile(2) between the response's other bytes.
//
// With ACLs, as Kafka: a topic without READ is not read; its partitions are
// answered TOPIC_AUTHORIZATION_FAILED with no records (offsets -1), the
// other topics are served as usual (the long poll waits for them only).
#include <algorithm>
#include <limits>

#include "base/logging.h"
#include "kafka/server/broker.h"

namespace braid::kafka {

struct Broker::FetchOp {
  RequestContext ctx;
  FetchRequest req;
  RespondFn respond;
  // Fetch v0-3: sends the down-converted response instead of `respond`.
  std::function<void(const FetchResponse&)> legacy_reply;
  uint64_t zero_copy_min_bytes = 0;
  int64_t deadline_us = 0;
  // The topics READ was denied for (left out of `req`), answered
  // TOPIC_AUTHORIZATION_FAILED after the served ones.
  std::vector<FetchRequest::Topic> denied;

  void Send(FetchResponse resp) const;

  std::mutex mu;
  bool done = false;                   // guarded by mu
  bool parked = false;                 // guarded by mu
  std::function<void()> cancel_timer;  // guarded by mu
  std::vector<std::pair<std::shared_ptr<log::Partition>, log::Partition::WaiterId>>
      waiters;  // guarded by mu

  // Cancels waiters and the timer. Requires mu.
  void ReleaseLocked() {
    for (auto& [p, id] : waiters) p->CancelWaiter(id);
    waiters.clear();
    if (cancel_timer) {
      cancel_timer();
      cancel_timer = nullptr;
    }
  }
};

namespace {

struct FetchBuild {
  FetchResponse resp;
  int64_t bytes = 0;
  bool any_error = false;
  // Partitions to wait on, with the offset whose arrival should wake us.
  std::vector<std::pair<std::shared_ptr<log::Partition>, Offset>> wait_on;
};

ErrorCode FetchErrorCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOutOfRange:
      return ErrorCode::kOffsetOutOfRange;
    case StatusCode::kNotFound:
      return ErrorCode::kUnknownTopicOrPartition;
    default:
      return ErrorCode::kKafkaStorageError;
  }
}

// Reads what the request may return now. Slices of at least
// `zero_copy_min_bytes` stay file ranges (records_slice); smaller ones are
// copied into `records`.
FetchBuild BuildFetch(log::Log* log, const FetchRequest& req, uint64_t zero_copy_min_bytes) {
  FetchBuild b;
  const int64_t max_total = req.max_bytes > 0 ? req.max_bytes : std::numeric_limits<int32_t>::max();
  b.resp.responses.reserve(req.topics.size());
  for (const auto& topic : req.topics) {
    FetchResponse::Topic& rt = b.resp.responses.emplace_back();
    rt.name = topic.name;
    rt.partitions.reserve(topic.partitions.size());
    for (const auto& part : topic.partitions) {
      FetchResponse::Partition& rp = rt.partitions.emplace_back();
      rp.partition_index = part.partition_index;
      rp.records = std::string();
      auto partition = log->GetPartition(topic.name, part.partition_index);
      if (!partition.ok()) {
        rp.error_code = ErrorCode::kUnknownTopicOrPartition;
        b.any_error = true;
        continue;
      }
      const int64_t remaining = max_total - b.bytes;
      int64_t limit = part.partition_max_bytes > 0 ? part.partition_max_bytes : 1;
      limit = std::max<int64_t>(1, std::min(limit, remaining));
      auto read = (*partition)->Read(part.fetch_offset, static_cast<uint64_t>(limit));
      if (!read.ok()) {
        // Kafka reports -1 for the offsets of a partition in error.
        rp.error_code = FetchErrorCode(read.status());
        if (rp.error_code == ErrorCode::kKafkaStorageError) {
          LOG_WARN("kafka: fetch {}-{} at {}: {}", topic.name, part.partition_index.value(),
                   part.fetch_offset.value(), read.status().ToString());
        }
        b.any_error = true;
        continue;
      }
      rp.high_watermark = read->high_watermark;
      rp.last_stable_offset = read->high_watermark;
      rp.log_start_offset = read->log_start_offset;
      const log::FileSlice& slice = read->slice;
      // KIP-74: only the first non-empty partition may exceed the budget.
      if (!slice.empty() && (b.bytes == 0 || static_cast<int64_t>(slice.size) <= remaining)) {
        if (slice.size >= zero_copy_min_bytes && slice.file->fd() >= 0) {
          rp.records.reset();
          rp.records_slice = slice;
        } else {
          Status s = slice.AppendTo(&*rp.records);
          if (!s.ok()) {
            rp.records = std::string();
            rp.error_code = ErrorCode::kKafkaStorageError;
            LOG_WARN("kafka: fetch {}-{} read failed: {}", topic.name, part.partition_index.value(),
                     s.ToString());
            b.any_error = true;
            continue;
          }
        }
        b.bytes += static_cast<int64_t>(slice.size);
      }
      // Wake when anything beyond what we have (or the fetch offset) arrives.
      b.wait_on.emplace_back(*partition, std::max(part.fetch_offset, read->high_watermark));
    }
  }
  return b;
}

// Encodes `resp` for `ctx` with its records slices as file parts.
void SendFetchResponse(const RequestContext& ctx, const FetchResponse& resp,
                       const RespondFn& respond) {
  auto frame = EncodeFetchResponseFrame(ctx.header.correlation_id, ctx.header.api_version, resp);
  if (!frame.ok()) {
    LOG_ERROR("kafka: cannot encode Fetch v{} response: {}", ctx.header.api_version,
              frame.status().ToString());
    respond(HandlerResult::Close());
    return;
  }
  std::vector<HandlerResult::FilePart> parts;
  parts.reserve(frame->splices.size());
  for (const RecordsSplice& s : frame->splices) {
    parts.push_back({s.position, s.slice.file, s.slice.position, s.slice.size});
  }
  HandlerResult result = HandlerResult::Response(std::move(frame->bytes), std::move(parts));
  result.error_code = static_cast<int16_t>(FirstErrorCode(resp));
  respond(std::move(result));
}

}  // namespace

void Broker::FetchOp::Send(FetchResponse resp) const {
  for (const FetchRequest::Topic& t : denied) {
    FetchResponse::Topic& rt = resp.responses.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      FetchResponse::Partition& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = ErrorCode::kTopicAuthorizationFailed;
      rp.records = std::string();  // empty, as Kafka: librdkafka refuses a null one
    }
  }
  if (legacy_reply) {
    legacy_reply(resp);
  } else {
    SendFetchResponse(ctx, resp, respond);
  }
}

void Broker::HandleFetch(const RequestContext& ctx, FetchRequest& req, RespondFn respond) {
  auto op = std::make_shared<FetchOp>();
  op->ctx = ctx;
  if (ctx.header.api_version < 4) {
    // Fetch v0-3 carry magic 0/1 MessageSets (handlers/fetch_legacy.cc): the
    // records are built in memory and down-converted before they are sent.
    op->zero_copy_min_bytes = std::numeric_limits<uint64_t>::max();
    op->legacy_reply = DownConvertingFetchReply(
        ctx.header.api_version, req,
        [ctx, respond](const FetchResponse& resp) { SendFetchResponse(ctx, resp, respond); });
  }
  op->respond = std::move(respond);
  const int64_t wait_ms =
      std::clamp<int64_t>(req.max_wait_ms, 0, std::max(0, options_.max_fetch_wait_ms));
  op->deadline_us = ctx.received_us + wait_ms * 1000;
  if (options_.acls != nullptr) {
    std::vector<FetchRequest::Topic> allowed;
    for (FetchRequest::Topic& t : req.topics) {
      (Authorized(ctx, security::AclOperation::kRead, security::ResourceType::kTopic, t.name)
           ? allowed
           : op->denied)
          .push_back(std::move(t));
    }
    req.topics = std::move(allowed);
  }
  op->req = std::move(req);
  EvaluateFetch(op, /*final=*/false);
}

void Broker::EvaluateFetch(const std::shared_ptr<FetchOp>& op, bool final) {
  std::unique_lock<std::mutex> lock(op->mu);
  if (op->done) return;
  FetchBuild b = BuildFetch(log_, op->req,
                            std::min(op->zero_copy_min_bytes, options_.fetch_zero_copy_min_bytes));
  const int64_t now_us = clock_->MonotonicMicros();
  const bool ready = final || b.any_error || b.bytes >= op->req.min_bytes ||
                     now_us >= op->deadline_us || b.wait_on.empty() || stopped_.load();
  if (ready) {
    op->done = true;
    op->ReleaseLocked();
    const bool was_parked = op->parked;
    lock.unlock();
    if (was_parked) {
      std::lock_guard<std::mutex> g(fetch_mu_);
      parked_fetches_.erase(op);
    }
    op->Send(std::move(b.resp));
    return;
  }
  // Park: wake on an append to any of the partitions, or at the deadline.
  for (auto& [p, id] : op->waiters) p->CancelWaiter(id);
  op->waiters.clear();
  Executor* executor = server_->executor();
  if (!op->parked) {
    op->parked = true;
    {
      std::lock_guard<std::mutex> g(fetch_mu_);
      parked_fetches_.insert(op);
    }
    const int64_t delay_ms = (op->deadline_us - now_us + 999) / 1000;
    op->cancel_timer =
        executor->RunAfter(delay_ms, [this, op] { EvaluateFetch(op, /*final=*/true); });
  }
  const uint64_t conn_id = op->ctx.conn.id;
  for (auto& [p, offset] : b.wait_on) {
    // Re-evaluated on the consumer's own io thread, which writes the answer.
    auto id =
        p->RegisterWaiter(offset, [this, executor, conn_id, weak = std::weak_ptr<FetchOp>(op)] {
          executor->PostToConnection(conn_id, [this, weak] {
            if (auto o = weak.lock()) EvaluateFetch(o, /*final=*/false);
          });
        });
    op->waiters.emplace_back(p, id);
  }
}

uint64_t Broker::FetchConnectionId(const FetchOp& op) { return op.ctx.conn.id; }

void Broker::FinishFetch(const std::shared_ptr<FetchOp>& op, FetchResponse resp) {
  {
    std::lock_guard<std::mutex> lock(op->mu);
    if (op->done) return;
    op->done = true;
    op->ReleaseLocked();
  }
  op->Send(std::move(resp));
}

}  // namespace braid::kafka
