#include "source/kafka_source.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <utility>

#include "base/logging.h"

namespace braid::source {
namespace {

constexpr int kMetadataTimeoutMs = 10'000;

std::string Err(rd_kafka_resp_err_t e) { return rd_kafka_err2str(e); }

void RebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnRebalance(static_cast<int>(err), partitions);
}

std::vector<TopicPartition> ToPartitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back(TopicPartition{list->elems[i].topic, PartitionId(list->elems[i].partition)});
  }
  return out;
}

// librdkafka's offset for braid's: negative means the log start.
int64_t ToKafkaOffset(Offset o) { return o.value() < 0 ? RD_KAFKA_OFFSET_BEGINNING : o.value(); }

}  // namespace

Result<std::unique_ptr<KafkaSource>> KafkaSource::Create(KafkaSourceOptions options) {
  if (options.bootstrap.empty())
    return Status::InvalidArgument("a Kafka source needs bootstrap servers");
  std::unique_ptr<KafkaSource> s(new KafkaSource(std::move(options)));
  RETURN_IF_ERROR(s->Open());
  return s;
}

Status KafkaSource::Open() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options_.bootstrap},
      {"group.id", options_.group},
      {"client.id", options_.client_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      // An offset outside the log is reported (PartitionRecords::error), not
      // silently reset: the reader decides.
      {"auto.offset.reset", "error"},
      {"partition.assignment.strategy", "range,roundrobin"},
  };
  for (const auto& [k, v] : options_.config) props[k] = v;
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("librdkafka property " + k + ": " + err);
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(conf, RebalanceTrampoline);
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::Unavailable(std::string("librdkafka: ") + err);
  }
  rd_kafka_poll_set_consumer(rk_);
  return Status::OK();
}

KafkaSource::~KafkaSource() { Close(); }

void KafkaSource::Close() {
  if (rk_ == nullptr) return;
  // Leaves the group: the rebalance callback revokes through the listener.
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

Result<int32_t> KafkaSource::PartitionCount(const std::string& topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 0, rkt, &md, kMetadataTimeoutMs);
  rd_kafka_topic_destroy(rkt);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("Kafka metadata of topic " + topic + ": " + Err(e));
  }
  const rd_kafka_resp_err_t te =
      md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
  const int count = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  if (te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || te == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    return Status::NotFound("topic " + topic + " does not exist");
  }
  if (te != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("Kafka metadata of topic " + topic + ": " + Err(te));
  }
  return count;
}

Result<Watermarks> KafkaSource::GetWatermarks(const TopicPartition& tp) {
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
      rk_, tp.topic.c_str(), tp.partition.value(), &low, &high, kMetadataTimeoutMs);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("Kafka watermarks of " + tp.ToString() + ": " + Err(e));
  }
  return Watermarks{Offset(low), Offset(high)};
}

Status KafkaSource::Assign(const std::map<TopicPartition, Offset>& partitions) {
  if (subscribed_) return Status::FailedPrecondition("the source is subscribed");
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const auto& [tp, offset] : partitions) {
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition.value())->offset =
        ToKafkaOffset(offset);
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Unavailable("Kafka assign: " + Err(e));
  paused_.clear();
  positions_ = partitions;
  return Status::OK();
}

Status KafkaSource::Seek(const TopicPartition& tp, Offset offset) {
  auto it = positions_.find(tp);
  if (it == positions_.end()) return Status::NotFound(tp.ToString() + " is not assigned");
  it->second = offset;
  // Re-assigning restarts a partition stopped by an offset error; the other
  // partitions continue from their positions.
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(positions_.size()));
  for (const auto& [p, o] : positions_) {
    rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition.value())->offset =
        ToKafkaOffset(o);
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Unavailable("Kafka seek: " + Err(e));
  paused_.erase(tp);
  return Status::OK();
}

Status KafkaSource::Subscribe(const std::vector<std::string>& topics, RebalanceListener* listener) {
  if (listener == nullptr) return Status::InvalidArgument("Subscribe needs a listener");
  listener_ = listener;
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const std::string& t : topics) {
    rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Unavailable("Kafka subscribe: " + Err(e));
  subscribed_ = true;
  return Status::OK();
}

void KafkaSource::OnRebalance(int err, void* opaque_list) {
  auto* list = static_cast<rd_kafka_topic_partition_list_t*>(opaque_list);
  const auto e = static_cast<rd_kafka_resp_err_t>(err);
  if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<TopicPartition> parts = ToPartitions(list);
    std::vector<Offset> offsets;
    if (listener_ != nullptr) offsets = listener_->OnAssigned(parts);
    for (int i = 0; i < list->cnt; ++i) {
      list->elems[i].offset =
          ToKafkaOffset(static_cast<size_t>(i) < offsets.size() ? offsets[i] : Offset(-1));
    }
    rd_kafka_assign(rk_, list);
    positions_.clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      paused_.erase(parts[i]);
      positions_[parts[i]] = i < offsets.size() ? offsets[i] : Offset(-1);
    }
  } else {
    if (listener_ != nullptr) listener_->OnRevoked(ToPartitions(list));
    rd_kafka_assign(rk_, nullptr);
    paused_.clear();
    positions_.clear();
  }
}

Result<size_t> KafkaSource::Poll(const PollOptions& options, const PartitionRecordsFn& fn) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options.timeout;
  // Messages of this poll, grouped by partition in arrival (offset) order.
  std::map<TopicPartition, std::vector<rd_kafka_message_t*>> by_partition;
  std::vector<std::pair<TopicPartition, Status>> errors;
  size_t count = 0;
  int timeout_ms = static_cast<int>(options.timeout.count());
  for (;;) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_, timeout_ms);
    if (msg == nullptr) break;  // timeout, or Wakeup()
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->rkt != nullptr && (msg->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                                  msg->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)) {
        TopicPartition tp{rd_kafka_topic_name(msg->rkt), PartitionId(msg->partition)};
        if (!paused_[tp]) {
          paused_[tp] = true;
          errors.emplace_back(
              tp, Status::OutOfRange(tp.ToString() + ": " + rd_kafka_message_errstr(msg)));
        }
      } else {
        LOG_WARN("{}: {}", name(), rd_kafka_message_errstr(msg));
      }
      rd_kafka_message_destroy(msg);
    } else {
      TopicPartition tp{rd_kafka_topic_name(msg->rkt), PartitionId(msg->partition)};
      auto& v = by_partition[std::move(tp)];
      v.push_back(msg);
      ++count;
    }
    // After the first message, take only what is already there.
    if (count >= options.max_records_per_partition || Clock::now() >= deadline) break;
    timeout_ms =
        count > 0 || !errors.empty()
            ? 0
            : static_cast<int>(std::max<int64_t>(
                  0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                         .count()));
  }
  Status st;
  for (auto& [tp, status] : errors) {
    PartitionRecords out;
    out.partition = &tp;
    out.error = status;
    auto wm = GetWatermarks(tp);
    if (wm.ok()) {
      out.log_start = wm->log_start;
      out.high_watermark = wm->high_watermark;
    }
    st = fn(out);
    if (!st.ok()) break;
  }
  for (auto& [tp, msgs] : by_partition) {
    if (!st.ok()) break;
    if (views_.size() < msgs.size()) views_.resize(msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i) {
      const rd_kafka_message_t* m = msgs[i];
      log::RecordView& r = views_[i];
      r.offset = Offset(m->offset);
      r.offset_delta = 0;
      rd_kafka_timestamp_type_t type;
      r.timestamp = rd_kafka_message_timestamp(m, &type);
      r.key = m->key != nullptr ? std::optional<std::string_view>(std::string_view(
                                      static_cast<const char*>(m->key), m->key_len))
                                : std::nullopt;
      r.value = m->payload != nullptr ? std::optional<std::string_view>(std::string_view(
                                            static_cast<const char*>(m->payload), m->len))
                                      : std::nullopt;
      r.headers.clear();
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* hname = nullptr;
        const void* val = nullptr;
        size_t size = 0;
        for (size_t h = 0;
             rd_kafka_header_get_all(hdrs, h, &hname, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++h) {
          r.headers.push_back({hname, val != nullptr
                                          ? std::optional<std::string_view>(std::string_view(
                                                static_cast<const char*>(val), size))
                                          : std::nullopt});
        }
      }
    }
    PartitionRecords out;
    out.partition = &tp;
    out.records = std::span<const log::RecordView>(views_.data(), msgs.size());
    out.next_offset = Offset(msgs.back()->offset + 1);
    positions_[tp] = out.next_offset;
    int64_t low = 0, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_, tp.topic.c_str(), tp.partition.value(), &low, &high) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.high_watermark = Offset(high);
    }
    st = fn(out);
  }
  for (auto& [tp, msgs] : by_partition) {
    for (rd_kafka_message_t* m : msgs) rd_kafka_message_destroy(m);
  }
  RETURN_IF_ERROR(st);
  return count;
}

void KafkaSource::Wakeup() {
  if (rk_ == nullptr) return;
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk_);
  if (q != nullptr) {
    rd_kafka_queue_yield(q);
    rd_kafka_queue_destroy(q);
  }
}

}  // namespace braid::source
