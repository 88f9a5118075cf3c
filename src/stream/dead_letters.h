// Dead letters of the speed layer: records a view could not map (not
// Confluent-framed Avro, an unknown schema id, a malformed value, a writer
// schema without the view's fields, an error of the view's map) go, with
// their original key, value and timestamp, to a dead-letter topic, and
// processing goes on. Each carries its coordinates as record headers:
//
//   braid.source.topic       the topic it was read from
//   braid.source.partition   its partition (decimal)
//   braid.source.offset      its offset (decimal)
//   braid.views              the views that could not map it (comma-separated)
//   braid.error              the first error
//
// Dead letters of a micro-batch are written (and acknowledged) before the
// batch's consumed offsets are committed: none is lost; after a crash the
// batch is read again and its dead letters may be written twice (the
// coordinates identify the repeats).
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "log/log.h"

namespace braid::stream {

struct DeadLetter {
  std::string topic;
  PartitionId partition{0};
  Offset offset{0};
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::string views;  // comma-separated
  std::string error;
};

class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // Where they go, for messages ("log topic T", "kafka B topic T").
  virtual std::string name() const = 0;
  // Writes `letters`; returns once they are stored (appended to the log, or
  // acknowledged by Kafka). Errors are transient (the caller retries).
  virtual Status Write(const std::vector<DeadLetter>& letters) = 0;
};

// Appends to `topic` of braid's log (created with one partition if missing).
// `log` must outlive the sink.
Result<std::unique_ptr<DeadLetterSink>> MakeLogDeadLetterSink(log::Log* log, std::string topic);

// Produces to `topic` of a Kafka cluster through librdkafka (acks=all,
// idempotent). `config`: extra producer properties.
Result<std::unique_ptr<DeadLetterSink>> MakeKafkaDeadLetterSink(
    const std::string& bootstrap, std::string topic,
    const std::map<std::string, std::string>& config);

}  // namespace braid::stream
