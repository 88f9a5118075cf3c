// The topology every view runs as (built by the speed layer, not by
// plugins):
//
//   records (spout, 1 task)         reads the views' topics through a RecordSource
//     │ shuffle                      (Subscribe: the partitions this process owns),
//     ▼                              cuts micro-batches per partition (max_batch_records
//   map (bolt, map_parallelism)      or max_batch_delay, whichever first)
//     │ fields(topic, partition)     decodes and maps each record for every view of its
//     ▼                              topic (views::Mapper, the map step
//     ▼                              the batch layer runs too), groups the emits by cell key
//   commit (bolt, commit_parallelism) and merges them with the view's monoid (a
//                                    combiner); undecodable records → dead letters
//                                    writes each partition's batches in order: dead
//                                    letters, then one atomic RealtimeStore::Commit of
//                                    the cells (RocksDB merges) and the offsets
//
// Exactly once: the offsets of a partition advance only in the write that
// stores the effect of the records below them, batches of a partition are
// committed in order (a fields grouping on the partition sends them to one
// task, which puts them back in sequence), and a restart resumes at the
// stored offsets. Partitions taken away (a consumer-group rebalance) are
// drained first: their emitted batches are committed before the spout lets
// them go; then their state is released (RealtimeStore::ReleasePartition)
// for the new owner to recompute. Sessionised views (views/session.h) are
// mapped like the others but sessionised in the commit task, which sees a
// partition's batches in order: a SessionTracker per view and partition
// turns the events into signed (visits, bounces) deltas, an approximation
// until the next batch run (stream/session_tracker.h says where it differs);
// its state starts empty at every start and assignment. Late events: a cell is chosen by the
// event time an emit carries, however old; nothing is dropped for lateness
// (the lag is measured: braid_speed_event_lag_seconds).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "metrics/metrics.h"
#include "source/record_source.h"
#include "stream/dead_letters.h"
#include "stream/realtime_store.h"
#include "stream/topology_runner.h"
#include "views/mapper.h"

namespace braid::stream {

struct ViewTopologyOptions {
  // A partition's micro-batch is handed on when it holds this many
  // records, or this many bytes of keys and values... Larger batches
  // combine more events per cell write (throughput when catching up).
  // Defaults: 100,000 records, 8 MiB.
  size_t max_batch_records = 100'000;
  size_t max_batch_bytes = size_t{8} << 20;
  // ...or this long after its first record arrived: the bound the batching
  // adds to the time from a record's arrival to the moment a read sees it.
  // Default: 10 ms.
  std::chrono::milliseconds max_batch_delay{10};
  // Map tasks (decode, map, combine). Default: 2.
  int map_parallelism = 2;
  // Commit tasks (each owns a share of the partitions). Default: 1.
  int commit_parallelism = 1;
  // Input queue bounds, in micro-batches (with the batch bounds above, they
  // bound the memory in flight). Default: 2 (map), 8 (commit).
  size_t map_queue = 2;
  size_t commit_queue = 8;
  // Sessionised views (views/session.h): the open visits kept per view and
  // source partition (stream/session_tracker.h); beyond, the least recently
  // seen is evicted. Default: 200,000 (about 30 MB each).
  size_t session_max_entries = 200'000;
};

// The speed layer's own metrics (besides the topology's).
struct SpeedMetrics {
  explicit SpeedMetrics(metrics::Registry* registry);
  metrics::Counter* records_read;       // records read from the source
  metrics::Counter* records_mapped;     // records mapped by a view (per view and record)
  metrics::Counter* emits;              // cells updated (emits × granularities)
  metrics::Counter* cells_written;      // cell merges written (after combining)
  metrics::Counter* dead_letters;       // records sent to the dead-letter topic
  metrics::Counter* skipped;            // records skipped (below a view's position)
  metrics::Counter* lost;               // records deleted by retention before being read
  metrics::Counter* commits;            // micro-batches committed
  metrics::Counter* commit_errors;      // failed commit attempts (retried)
  metrics::Counter* future_events;      // events whose time is ahead of the clock
  metrics::Histogram* event_lag;        // processing time − event time, seconds
  metrics::Histogram* commit_latency;   // first record polled → its batch committed
  metrics::Histogram* batch_records;    // records per committed micro-batch
  metrics::Gauge* session_entries;      // sessionised views' open visits kept
  metrics::Counter* session_evictions;  // open visits evicted by session_max_entries
  metrics::Registry own;                // used when no registry is given
};

// The bucket bounds of braid_speed_event_lag_seconds: 10 ms .. one year.
std::vector<double> EventLagBuckets();

// Shared between the spout (emits batches) and the commit tasks (commit
// them): per partition, the assignment epoch and the last emitted and
// committed batch, so that a revocation waits until its partitions'
// batches are stored.
class PartitionProgress {
 public:
  // A new assignment of `tp`: a new epoch, sequences restart at 1.
  uint64_t Assign(const source::TopicPartition& tp);
  void Emitted(const source::TopicPartition& tp, uint64_t epoch, uint64_t seq);
  void Committed(const source::TopicPartition& tp, uint64_t epoch, uint64_t seq);
  uint64_t epoch(const source::TopicPartition& tp) const;
  // Waits until every emitted batch of `tps` is committed, or the timeout
  // (false), or Cancel().
  bool WaitCommitted(const std::vector<source::TopicPartition>& tps,
                     std::chrono::milliseconds timeout);
  void Cancel();

 private:
  struct State {
    uint64_t epoch = 0;
    uint64_t emitted = 0;
    uint64_t committed = 0;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<source::TopicPartition, State> parts_;
  bool cancelled_ = false;
};

// Everything the view topology's components share; owned by the speed
// layer, outlives the topology.
struct ViewTopologyEnv {
  RealtimeStore* store = nullptr;
  // Per view of the store (same index as store->views()): the definition
  // and the extractor cache its map tasks' views::Mapper share.
  std::vector<std::shared_ptr<const views::ViewDefinition>> views;
  std::vector<std::shared_ptr<views::ExtractorCache>> extractors;
  DeadLetterSink* dead_letters = nullptr;
  SpeedMetrics* metrics = nullptr;
  Clock* clock = nullptr;
  ViewTopologyOptions options;
  PartitionProgress progress;
  // Set when the speed layer stops: retries give up.
  std::atomic<bool> stopping{false};
  // The last error that stops progress (a failing commit), for the status.
  std::mutex error_mu;
  std::string last_error;
  void SetError(std::string e);
};

// The topology of every view over `source` (moved into the spout, which
// subscribes to the views' topics now). Errors: Subscribe's.
Result<TopologySpec> BuildViewTopology(ViewTopologyEnv* env,
                                       std::unique_ptr<source::RecordSource> source);

}  // namespace braid::stream
