// RecordSource: the one way the lambda layers read records, whether from
// braid's own log in this process (log_source.h) or from any Kafka cluster
// through librdkafka (kafka_source.h). The archiver reads through it; the
// speed layer does too.
//
// A source reads a set of partitions, each from a position: either assigned
// explicitly (Assign, Seek: the reader keeps its own offsets, as the
// archiver's manifest and the speed layer's state do), or by subscribing to
// topics (Subscribe): then partitions come and go through the listener, as
// Kafka's consumer-group protocol assigns them (on the in-process log, one
// subscriber gets every partition).
//
// Poll() hands out the records available now, partition by partition, in
// offset order, and waits up to a timeout when there are none. Records are
// views (log::RecordView): valid only during the callback.
//
// Thread safety: a source is used by one thread, except Wakeup(), which any
// thread may call to make a Poll() in progress return.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "log/records.h"

namespace braid::source {

struct TopicPartition {
  std::string topic;
  PartitionId partition{0};

  auto operator<=>(const TopicPartition&) const = default;
  // "topic-3", as Kafka names partitions in logs.
  std::string ToString() const { return topic + "-" + std::to_string(partition.value()); }
};

struct Watermarks {
  Offset log_start{0};       // the first offset the partition still holds
  Offset high_watermark{0};  // the offset the next record will get
};

// The records of one partition delivered by one Poll().
struct PartitionRecords {
  const TopicPartition* partition = nullptr;
  // In offset order, each at or above the position the partition was read
  // from. Views: valid during the callback only.
  std::span<const log::RecordView> records;
  // The position after these records: where reading continues (past control
  // records and gaps the source could see).
  Offset next_offset{0};
  // The partition's high watermark as last seen; -1 if unknown.
  Offset high_watermark{-1};
  // OK, or OutOfRange when the position is outside the partition's log
  // (below its log start: retention deleted those records; or above its
  // high watermark): `log_start` says where the data begins, `records` is
  // empty, and the partition is not read again until Seek().
  Status error;
  Offset log_start{-1};
};

// Receives partition assignment changes of Subscribe().
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Partitions assigned to this reader. For each, returns the offset to
  // start from; a negative value means "the log start". Runs inside Poll().
  virtual std::vector<Offset> OnAssigned(const std::vector<TopicPartition>& partitions) = 0;
  // Partitions taken away (another reader gets them, or the reader closes).
  // The reader must persist what it owes for them before returning; no more
  // records of them are delivered. Runs inside Poll() (or Close()).
  virtual void OnRevoked(const std::vector<TopicPartition>& partitions) = 0;
};

struct PollOptions {
  // How long Poll() waits when no record is available. Default: 100 ms.
  std::chrono::milliseconds timeout{100};
  // Bytes read per partition and call (whole batches; at least one).
  // Default: 4 MiB.
  uint64_t max_bytes_per_partition = uint64_t{4} << 20;
  // At most this many records per partition and call. Default: 100,000.
  size_t max_records_per_partition = 100'000;
};

// Called for each partition that has records (or an error) in a Poll(),
// possibly several times per partition (a chunk per compressed batch on the
// in-process log), always in offset order. A non-OK Status stops the Poll(),
// which returns it.
using PartitionRecordsFn = std::function<Status(const PartitionRecords&)>;

class RecordSource {
 public:
  virtual ~RecordSource() = default;

  // "log" or "kafka BOOTSTRAP", for messages.
  virtual std::string name() const = 0;

  // The partition count of `topic`; NotFound if the topic does not exist.
  virtual Result<int32_t> PartitionCount(const std::string& topic) = 0;
  // The partition's log start and high watermark, asked now.
  virtual Result<Watermarks> GetWatermarks(const TopicPartition& tp) = 0;

  // Reads exactly these partitions from these offsets (replacing any
  // earlier assignment). A negative offset means the log start.
  virtual Status Assign(const std::map<TopicPartition, Offset>& partitions) = 0;
  // Moves the position of an assigned partition (and resumes it after an
  // OutOfRange).
  virtual Status Seek(const TopicPartition& tp, Offset offset) = 0;

  // Reads the partitions of `topics` that `listener` is given (on Kafka,
  // as the consumer group of the source's options assigns them; on the
  // in-process log, every partition, including partitions added later).
  // `listener` must outlive the source.
  virtual Status Subscribe(const std::vector<std::string>& topics, RebalanceListener* listener) = 0;

  // Delivers the records available now, one call of `fn` per partition that
  // has some; if there are none, waits up to options.timeout for more (or a
  // Wakeup()). Returns the number of records delivered.
  virtual Result<size_t> Poll(const PollOptions& options, const PartitionRecordsFn& fn) = 0;

  // Makes a Poll() in progress (or the next one) return promptly. Any thread.
  virtual void Wakeup() = 0;

  // Leaves the group (revoking partitions through the listener) and
  // releases resources. Called by the destructor if not before.
  virtual void Close() = 0;
};

}  // namespace braid::source
