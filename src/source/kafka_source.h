// KafkaSource: a RecordSource over any Kafka cluster (Apache Kafka,
// Redpanda, braid's own broker, librdkafka's mock cluster) through
// librdkafka's consumer. Offsets are never committed to Kafka: the reader
// keeps its own (the archiver's manifest, the speed layer's state), and
// assigns or is assigned partitions with them.
//
// Subscribe() joins consumer group KafkaSourceOptions::group with the eager
// protocol: Kafka's
// coordinator spreads the partitions over the group's members, and the
// listener learns of every assignment and revocation (inside Poll()), so
// that a reader can hand its partitions' state over.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "source/record_source.h"

struct rd_kafka_s;  // rd_kafka_t

namespace braid::source {

struct KafkaSourceOptions {
  // bootstrap.servers. Required.
  std::string bootstrap;
  // group.id: the consumer group of Subscribe() (also set, unused, for
  // Assign()). Default: "braid".
  std::string group = "braid";
  // client.id. Default: "braid".
  std::string client_id = "braid";
  // Extra librdkafka consumer properties (they win over braid's). Default:
  // none.
  std::map<std::string, std::string> config;
};

class KafkaSource final : public RecordSource {
 public:
  // Errors: InvalidArgument (a librdkafka property), Unavailable.
  static Result<std::unique_ptr<KafkaSource>> Create(KafkaSourceOptions options);
  ~KafkaSource() override;

  std::string name() const override { return "kafka " + options_.bootstrap; }
  Result<int32_t> PartitionCount(const std::string& topic) override;
  Result<Watermarks> GetWatermarks(const TopicPartition& tp) override;
  Status Assign(const std::map<TopicPartition, Offset>& partitions) override;
  Status Seek(const TopicPartition& tp, Offset offset) override;
  Status Subscribe(const std::vector<std::string>& topics, RebalanceListener* listener) override;
  Result<size_t> Poll(const PollOptions& options, const PartitionRecordsFn& fn) override;
  void Wakeup() override;
  void Close() override;

  // librdkafka's rebalance callback (internal).
  void OnRebalance(int err, void* partitions);

 private:
  explicit KafkaSource(KafkaSourceOptions options) : options_(std::move(options)) {}
  Status Open();

  KafkaSourceOptions options_;
  rd_kafka_s* rk_ = nullptr;
  RebalanceListener* listener_ = nullptr;
  bool subscribed_ = false;
  std::map<TopicPartition, bool> paused_;       // partitions stopped by an out-of-range error
  std::map<TopicPartition, Offset> positions_;  // next offset to read, per assigned partition
  std::vector<log::RecordView> views_;          // reused per partition in Poll
};

}  // namespace braid::source
