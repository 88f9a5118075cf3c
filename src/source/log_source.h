// LogSource: a RecordSource over braid's own log, in process (no sockets, no
// copies beyond one read of each segment range). Reads whole batches from the
// segment files (Partition::Read), iterates their records from the position
// (log::RecordIterator: decompressing, skipping control batches), and waits
// for new data with the partitions' waiters (Partition::RegisterWaiter).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "log/log.h"
#include "source/record_source.h"

namespace braid::source {

class LogSource final : public RecordSource {
 public:
  // `log` must outlive the source.
  explicit LogSource(log::Log* log);
  ~LogSource() override;

  std::string name() const override { return "log"; }
  Result<int32_t> PartitionCount(const std::string& topic) override;
  Result<Watermarks> GetWatermarks(const TopicPartition& tp) override;
  Status Assign(const std::map<TopicPartition, Offset>& partitions) override;
  Status Seek(const TopicPartition& tp, Offset offset) override;
  Status Subscribe(const std::vector<std::string>& topics, RebalanceListener* listener) override;
  Result<size_t> Poll(const PollOptions& options, const PartitionRecordsFn& fn) override;
  void Wakeup() override;
  void Close() override;

 private:
  struct Part {
    TopicPartition tp;
    std::shared_ptr<log::Partition> partition;
    Offset position{0};
    bool paused = false;                 // after OutOfRange, until Seek()
    std::string bytes;                   // the last read range (reused)
    std::vector<log::RecordView> views;  // records of the last read (reused)
  };
  Status AddPartition(const TopicPartition& tp, Offset offset);
  // Subscribe mode: assigns partitions of the subscribed topics not yet read.
  Status DiscoverPartitions();
  // Waits until a partition has data beyond its position, Wakeup() or the
  // deadline.
  void WaitForData(std::chrono::milliseconds timeout);

  log::Log* const log_;
  std::map<TopicPartition, std::unique_ptr<Part>> parts_;
  std::vector<std::string> topics_;        // Subscribe mode
  RebalanceListener* listener_ = nullptr;  // Subscribe mode
  std::chrono::steady_clock::time_point next_discovery_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool signalled_ = false;  // guarded by mu_: data arrived or Wakeup()
};

}  // namespace braid::source
