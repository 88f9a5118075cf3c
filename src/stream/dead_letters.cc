#include "stream/dead_letters.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "log/records.h"

namespace braid::stream {

namespace {

std::vector<log::RecordHeader> Headers(const DeadLetter& d) {
  return {
      {"braid.source.topic", d.topic},
      {"braid.source.partition", std::to_string(d.partition.value())},
      {"braid.source.offset", std::to_string(d.offset.value())},
      {"braid.views", d.views},
      {"braid.error", d.error},
  };
}

class LogSink final : public DeadLetterSink {
 public:
  LogSink(log::Log* log, std::string topic) : log_(log), topic_(std::move(topic)) {}
  std::string name() const override { return "log topic " + topic_; }

  Status Write(const std::vector<DeadLetter>& letters) override {
    if (letters.empty()) return Status::OK();
    std::lock_guard<std::mutex> lock(mu_);
    if (!log_->HasTopic(topic_)) {
      Status s = log_->CreateTopic(topic_, 1);
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    }
    ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic_, PartitionId(0)));
    log::BatchBuilder b;
    for (const DeadLetter& d : letters) {
      const std::vector<log::RecordHeader> h = Headers(d);
      b.Add(d.timestamp_ms, d.key ? std::optional<std::string_view>(*d.key) : std::nullopt,
            d.value ? std::optional<std::string_view>(*d.value) : std::nullopt, h);
    }
    ASSIGN_OR_RETURN(std::string batch, b.Build());
    return part->Append(batch).status();
  }

 private:
  log::Log* const log_;
  const std::string topic_;
  std::mutex mu_;
};

class KafkaSink final : public DeadLetterSink {
 public:
  KafkaSink(std::string bootstrap, std::string topic)
      : bootstrap_(std::move(bootstrap)), topic_(std::move(topic)) {}
  ~KafkaSink() override {
    if (rk_ != nullptr) {
      rd_kafka_flush(rk_, 5000);
      rd_kafka_destroy(rk_);
    }
  }
  std::string name() const override { return "kafka " + bootstrap_ + " topic " + topic_; }

  Status Open(const std::map<std::string, std::string>& config) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::map<std::string, std::string> props = {
        {"bootstrap.servers", bootstrap_},
        {"client.id", "braid-speed-dead-letters"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "0"},
    };
    for (const auto& [k, v] : config) props[k] = v;
    for (const auto& [k, v] : props) {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return Status::InvalidArgument("librdkafka property " + k + ": " + err);
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::OnDelivery);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return Status::Unavailable(std::string("dead-letter producer: ") + err);
    }
    return Status::OK();
  }

  Status Write(const std::vector<DeadLetter>& letters) override {
    if (letters.empty()) return Status::OK();
    std::lock_guard<std::mutex> lock(mu_);
    // Delivery callbacks point at `outcome`; if they are not all in after
    // the flush below, it is leaked rather than freed under them.
    auto* outcome = new Outcome;
    outcome->pending = static_cast<int>(letters.size());
    for (const DeadLetter& d : letters) {
      rd_kafka_headers_t* hdrs = rd_kafka_headers_new(5);
      for (const log::RecordHeader& h : Headers(d)) {
        rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value->data(),
                            static_cast<ssize_t>(h.value->size()));
      }
      void* key = d.key ? const_cast<char*>(d.key->data()) : nullptr;
      const size_t key_len = d.key ? d.key->size() : 0;
      void* value = d.value ? const_cast<char*>(d.value->data()) : nullptr;
      const size_t value_len = d.value ? d.value->size() : 0;
      const int64_t ts = d.timestamp_ms;
      rd_kafka_resp_err_t e =
          rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic_.c_str()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                            RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_TIMESTAMP(ts),
                            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(outcome), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(hdrs);
        outcome->pending.fetch_sub(1);
        outcome->SetError(rd_kafka_err2str(e));
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (outcome->pending.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_poll(rk_, 100);
    }
    if (outcome->pending.load() > 0) {
      rd_kafka_flush(rk_, 60'000);
      if (outcome->pending.load() == 0) delete outcome;
      return Status::TimedOut("dead letters not acknowledged by " + bootstrap_);
    }
    Status s;
    {
      std::lock_guard<std::mutex> elock(outcome->mu);
      if (!outcome->error.empty()) {
        s = Status::Unavailable("dead letters to " + topic_ + ": " + outcome->error);
      }
    }
    delete outcome;
    return s;
  }

 private:
  struct Outcome {
    std::atomic<int> pending{0};
    std::mutex mu;
    std::string error;
    void SetError(const std::string& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (error.empty()) error = e;
    }
  };
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* o = static_cast<Outcome*>(m->_private);
    if (o == nullptr) return;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) o->SetError(rd_kafka_err2str(m->err));
    o->pending.fetch_sub(1);
  }

  const std::string bootstrap_;
  const std::string topic_;
  rd_kafka_t* rk_ = nullptr;
  std::mutex mu_;
};

}  // namespace

Result<std::unique_ptr<DeadLetterSink>> MakeLogDeadLetterSink(log::Log* log, std::string topic) {
  RETURN_IF_ERROR(log::Log::ValidateTopicName(topic));
  return std::unique_ptr<DeadLetterSink>(std::make_unique<LogSink>(log, std::move(topic)));
}

Result<std::unique_ptr<DeadLetterSink>> MakeKafkaDeadLetterSink(
    const std::string& bootstrap, std::string topic,
    const std::map<std::string, std::string>& config) {
  auto sink = std::make_unique<KafkaSink>(bootstrap, std::move(topic));
  RETURN_IF_ERROR(sink->Open(config));
  return std::unique_ptr<DeadLetterSink>(std::move(sink));
}

}  // namespace braid::stream
