// Produce (key 0): exactly one RecordBatch v2 per partition (v3+), or for
// v0-2 a magic 0/1 MessageSet that is up-converted to one RecordBatch v2 as
// Kafka 3.x does (log/legacy_records.h), answered after the batch is in the
// log. Each batch is first offered to BrokerOptions::validate_batch (schema
// validation), then, with BrokerOptions::producers, to the
// idempotent-producer sequence check.
//
// With ACLs (BrokerOptions::acls), as Kafka's KafkaApis.handleProduceRequest:
// a request carrying transactional batches needs WRITE on its
// transactional id, else every partition is answered
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED and nothing is appended; then each
// topic needs WRITE: the partitions of a denied topic are answered
// TOPIC_AUTHORIZATION_FAILED, the others are appended as usual.
#include "base/log_limiter.h"
#include "base/logging.h"
#include "kafka/group/producer_state_log.h"
#include "kafka/server/broker.h"
#include "log/legacy_records.h"
#include "log/record_batch.h"
#include "log/records.h"

namespace braid::kafka {

namespace {

// A Produce response waiting for the fsyncs its appends need (deferred
// syncs: LogOptions::fsync_every_append, flush.messages). Sent by whichever
// thread settles the last one: the log's sync thread, or the io thread when
// nothing had to wait.
struct PendingProduce {
  RequestContext ctx;
  RespondFn respond;
  bool acks0 = false;
  std::mutex mu;
  ProduceResponse resp;  // guarded by mu until the last sync settled
  int waiting = 1;       // guarded by mu; 1 for the handler itself
  bool any_error = false;

  // Called once per wait plus once by the handler when it is done.
  void Done() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (--waiting > 0) return;
    }
    if (acks0) {
      // No response; on an error Kafka closes the connection so that the
      // client refreshes its metadata.
      respond(any_error ? HandlerResult::Close() : HandlerResult::NoResponse());
      return;
    }
    SendResponse(ctx, resp, respond);
  }
};

}  // namespace

bool Broker::TransactionalProduceDenied(const RequestContext& ctx, const ProduceRequest& req) {
  if (options_.acls == nullptr) return false;
  bool transactional = false;
  for (const auto& topic : req.topics) {
    for (const auto& part : topic.partitions) {
      if (!part.records) continue;
      auto header = log::ParseBatchHeader(*part.records);
      if (header.ok() && header->is_transactional()) transactional = true;
    }
  }
  if (!transactional) return false;
  return !req.transactional_id ||
         !Authorized(ctx, security::AclOperation::kWrite, security::ResourceType::kTransactionalId,
                     *req.transactional_id);
}

void Broker::HandleProduce(const RequestContext& ctx, Reader* body, const RespondFn& respond) {
  ProduceRequest req;
  Status s = req.Decode(body, ctx.header.api_version);
  if (!s.ok()) {
    WarnClientInput("bad request", ctx.conn.peer,
                    "kafka: closing connection {} ({}): bad Produce v{} request: {}", ctx.conn.id,
                    ctx.conn.peer, ctx.header.api_version, EscapeForLog(s.ToString()));
    respond(HandlerResult::Close());
    return;
  }
  const bool acks_valid = req.acks == 0 || req.acks == 1 || req.acks == -1;
  auto pending = std::make_shared<PendingProduce>();
  pending->ctx = ctx;
  pending->respond = respond;
  pending->acks0 = req.acks == 0;
  bool& any_error = pending->any_error;
  ProduceResponse& resp = pending->resp;
  // Partitions whose appends must be durable before the answer:
  // (topic index, partition index, partition, offset).
  struct SyncWait {
    size_t topic;
    size_t partition;
    std::shared_ptr<log::Partition> log_partition;
    Offset offset;
  };
  std::vector<SyncWait> syncs;
  const log::AppendOptions append_options{.defer_sync = true};
  const bool txn_denied = TransactionalProduceDenied(ctx, req);
  resp.responses.reserve(req.topics.size());
  for (auto& topic : req.topics) {
    ProduceResponse::Topic& rt = resp.responses.emplace_back();
    rt.name = topic.name;
    ErrorCode topic_error =
        txn_denied ? ErrorCode::kTransactionalIdAuthorizationFailed
        : !Authorized(ctx, security::AclOperation::kWrite, security::ResourceType::kTopic,
                      topic.name)
            ? ErrorCode::kTopicAuthorizationFailed
        : !acks_valid ? ErrorCode::kInvalidRequiredAcks
        : IsReservedTopicName(topic.name)
            ? ErrorCode::kInvalidTopicException  // internal: no client writes
            : EnsureTopic(topic.name, MayCreateTopic(ctx, topic.name));
    for (auto& part : topic.partitions) {
      ProduceResponse::Partition& rp = rt.partitions.emplace_back();
      rp.partition_index = part.partition_index;
      rp.error_code = topic_error;
      if (rp.error_code != ErrorCode::kNone) {
        any_error = true;
        continue;
      }
      auto partition = log_->GetPartition(topic.name, part.partition_index);
      if (!partition.ok()) {
        rp.error_code = ErrorCode::kUnknownTopicOrPartition;
        any_error = true;
        continue;
      }
      // Produce v3+ carries exactly one magic-2 batch per partition.
      std::string_view records = part.records ? std::string_view(*part.records) : "";
      std::string converted;
      if (ctx.header.api_version < 3) {
        auto magic = log::PeekMagic(records);
        if (magic.ok() && (*magic == log::kMagicV0 || *magic == log::kMagicV1)) {
          // Old MessageSet: one RecordBatch v2 with the same records, as
          // Kafka's LogValidator converts it on append.
          auto up = log::UpConvertMessageSet(records);
          if (!up.ok()) {
            rp.error_code = ErrorCodeForStatus(up.status());
            rp.log_start_offset = (*partition)->log_start_offset();
            LOG_DEBUG("kafka: produce v{} to {}-{}: {}", ctx.header.api_version, topic.name,
                      part.partition_index.value(), up.status().ToString());
            any_error = true;
            continue;
          }
          converted = std::move(up->batch);
          records = converted;
        }
      }
      auto header = log::ParseBatchHeader(records);
      if (!header.ok()) {
        // A magic-2 batch that is cut or malformed is CORRUPT_MESSAGE; old
        // formats, other magics and unknown codecs are INVALID_RECORD.
        rp.error_code = header.status().IsCorruption() && records.size() > log::kMagicPos &&
                                static_cast<int8_t>(records[log::kMagicPos]) == log::kBatchMagic
                            ? ErrorCode::kCorruptMessage
                            : ErrorCode::kInvalidRecord;
        rp.log_start_offset = (*partition)->log_start_offset();
        any_error = true;
        continue;
      }
      if (header->total_size() != records.size()) {
        rp.error_code = ErrorCode::kInvalidRecord;  // zero, several or a cut batch
        rp.log_start_offset = (*partition)->log_start_offset();
        any_error = true;
        continue;
      }
      if (header->compression() == log::Compression::kZstd && ctx.header.api_version < 7) {
        rp.error_code = ErrorCode::kUnsupportedCompressionType;
        rp.log_start_offset = (*partition)->log_start_offset();
        any_error = true;
        continue;
      }
      if (options_.validate_batch) {
        Status valid = options_.validate_batch(topic.name, records);
        if (!valid.ok()) {
          rp.error_code = ErrorCode::kInvalidRecord;
          rp.log_start_offset = (*partition)->log_start_offset();
          LOG_DEBUG("kafka: produce to {}-{} failed validation: {}", topic.name,
                    part.partition_index.value(), valid.ToString());
          any_error = true;
          continue;
        }
      }
      Result<log::AppendResult> appended = Status(StatusCode::kInternal, "not appended");
      if (options_.producers == nullptr) {
        appended = (*partition)->Append(records, append_options);
      } else {
        Status recovered = EnsureProducerState(**partition);
        if (!recovered.ok()) {
          rp.error_code = ErrorCode::kKafkaStorageError;
          rp.log_start_offset = (*partition)->log_start_offset();
          LOG_WARN("kafka: producer state of {}-{}: {}", topic.name, part.partition_index.value(),
                   recovered.ToString());
          any_error = true;
          continue;
        }
        auto checked = options_.producers->CheckAndAppend(
            TopicPartition{topic.name, part.partition_index}, ProducerBatchFromHeader(*header),
            [&]() -> Result<Offset> {
              appended = (*partition)->Append(records, append_options);
              if (!appended.ok()) return appended.status();
              return appended->base_offset;
            });
        if (!checked.ok()) {
          appended = checked.status();
        } else if (checked->outcome == ProducerCheck::Outcome::kDuplicate) {
          // What librdkafka expects for a retried batch: success with the
          // offset the batch got the first time.
          rp.error_code = ErrorCode::kNone;
          rp.base_offset = checked->duplicate_base_offset;
          rp.log_append_time_ms = -1;
          rp.log_start_offset = (*partition)->log_start_offset();
          LOG_DEBUG("kafka: duplicate batch to {}-{} (producer {}, seq {}) answered with offset {}",
                    topic.name, part.partition_index.value(), header->producer_id.value(),
                    header->base_sequence, checked->duplicate_base_offset);
          // The original may still wait for its fsync: so does its retry.
          if (log_->options().fsync_every_append &&
              (*partition)->flushed_offset() <= checked->duplicate_base_offset) {
            syncs.push_back({resp.responses.size() - 1, rt.partitions.size() - 1, *partition,
                             checked->duplicate_base_offset});
          }
          continue;
        } else if (checked->outcome == ProducerCheck::Outcome::kError) {
          rp.error_code = checked->error;  // 45, 46, 47 or 59
          rp.log_start_offset = (*partition)->log_start_offset();
          LOG_DEBUG("kafka: produce to {}-{} rejected by the sequence check: error {}", topic.name,
                    part.partition_index.value(), static_cast<int>(checked->error));
          any_error = true;
          continue;
        }
      }
      if (!appended.ok()) {
        rp.error_code = ErrorCodeForStatus(appended.status());
        if (rp.error_code == ErrorCode::kUnknownServerError) {
          // A write that failed for a reason the map does not know is still
          // a failure of the storage (Kafka: KAFKA_STORAGE_ERROR).
          rp.error_code = ErrorCode::kKafkaStorageError;
        }
        NoteWriteOutcome(topic.name, part.partition_index.value(), rp.error_code,
                         appended.status());
        rp.log_start_offset = (*partition)->log_start_offset();
        LOG_DEBUG("kafka: produce to {}-{} rejected: {}", topic.name, part.partition_index.value(),
                  appended.status().ToString());
        any_error = true;
        continue;
      }
      NoteWriteOutcome(topic.name, part.partition_index.value(), ErrorCode::kNone, Status::OK());
      rp.base_offset = appended->base_offset;
      rp.log_append_time_ms = appended->log_append_time_ms;
      rp.log_start_offset = appended->log_start_offset;
      if (appended->needs_sync) {
        syncs.push_back({resp.responses.size() - 1, rt.partitions.size() - 1, *partition,
                         appended->last_offset});
      }
    }
  }
  // Answer once every append that must be durable is: the fsyncs run on the
  // log's sync thread (one fsync for every append made before it started),
  // never on this io thread.
  if (!syncs.empty()) {
    {
      std::lock_guard<std::mutex> l(pending->mu);
      pending->waiting += static_cast<int>(syncs.size());
    }
    for (SyncWait& w : syncs) {
      w.log_partition->SyncAsync(w.offset, [pending, w, broker = this](Status s) {
        if (!s.ok()) {
          std::lock_guard<std::mutex> l(pending->mu);
          ProduceResponse::Partition& rp = pending->resp.responses[w.topic].partitions[w.partition];
          rp.error_code = ErrorCodeForStatus(s);
          rp.base_offset = Offset(-1);
          pending->any_error = true;
          broker->NoteWriteOutcome(w.log_partition->topic(), w.log_partition->id().value(),
                                   rp.error_code, s);
        }
        pending->Done();
      });
    }
  }
  pending->Done();
}

}  // namespace braid::kafka
