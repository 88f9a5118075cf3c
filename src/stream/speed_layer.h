// SpeedLayer: braid's speed layer in one object. It runs every view as a
// topology (view_topology.h) over a record source (braid's log in this
// process, or a Kafka cluster, in a consumer group), keeps the realtime
// views in a RealtimeStore (DIR/realtime), runs the raw topologies of
// plugins, and offers the operations the serving layer and the batch
// scheduler compose (DESIGN.md "The batch/realtime boundary is a log cut"):
//
//   Seal()             close the current generation at the consumed cut
//   ListGenerations()  live generations with their cuts
//   Read*()            a view's cells merged over the generations after a
//                      cut (a batch version's): point, bucket range, any key range
//   Drop()             remove the generations a live batch version covers
//   Consumed()         the offsets consumed per view
//
// The runtime role (speed_role.h) serves the same over HTTP.
//
// Thread safety: Start/Stop from one thread; everything else from any
// thread, also while running.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "braid/topology.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "source/kafka_source.h"
#include "stream/realtime_store.h"
#include "stream/topology_runner.h"
#include "stream/view_topology.h"
#include "views/mapper.h"
#include "views/time_bucket.h"
#include "views/view.h"

namespace braid::stream {

struct SpeedLayerOptions {
  // The realtime store's directory (DIR/realtime). Required.
  std::string dir;
  // The views to keep realtime. Default: none.
  std::vector<std::shared_ptr<const views::ViewDefinition>> views;
  // Raw topologies (plugins). Default: none.
  std::vector<TopologySpec> topologies;
  // Where records come from: braid's log in this process when
  // `kafka.bootstrap` is empty (then `log` is required), else the Kafka
  // cluster, in consumer group `kafka.group` (default "braid-speed"): the
  // processes of one group share the partitions.
  log::Log* log = nullptr;
  source::KafkaSourceOptions kafka{
      .bootstrap = "", .group = "braid-speed", .client_id = "braid-speed", .config = {}};
  // Writer schemas of Confluent schema ids. Required for Avro views.
  views::SchemaLookup schemas;
  // Undecodable records go here (dead_letters.h); empty: counted and
  // logged only. Default: "braid-speed-dead-letters".
  std::string dead_letter_topic = "braid-speed-dead-letters";
  // Micro-batching and parallelism of the view topology.
  ViewTopologyOptions topology;
  // Metrics go here. Default: a private registry.
  metrics::Registry* metrics = nullptr;
  // Default: SystemClock().
  Clock* clock = nullptr;
  // Store options beyond the directory (tests turn fsync off).
  bool sync_seal = true;
  size_t max_successive_merges = 0;
};

// One realtime cell as read.
struct Cell {
  std::string key;
  views::Granularity granularity = views::Granularity::kAll;
  int64_t bucket_start = 0;
  std::string value;  // the monoid's encoding
};

struct CellsAnswer {
  std::vector<Cell> cells;
  std::vector<RealtimeGeneration> generations;  // merged
  log::Cut consumed;                            // what the answer reflects
};

class SpeedLayer {
 public:
  // Opens the realtime store. Errors: the store's; InvalidArgument for bad
  // options.
  static Result<std::unique_ptr<SpeedLayer>> Open(SpeedLayerOptions options);
  ~SpeedLayer();  // Stop()s

  // Starts the view topology and the raw topologies.
  Status Start();
  // Stops reading, commits what was read, stops the topologies. Idempotent.
  void Stop();

  // ---- The API of the serving layer and the batch scheduler ----
  Result<SealedGeneration> Seal();
  std::vector<GenerationInfo> ListGenerations() const;
  Result<std::vector<RealtimeGeneration>> Drop(const std::string& view, const log::Cut& cut);
  Result<log::Cut> Consumed(const std::string& view) const;
  // Cells of `view` with encoded cell keys in [begin, end) (end empty: to
  // the end), after `after` (see RealtimeStore::Read).
  Result<CellsAnswer> ReadRange(const std::string& view, std::string_view begin,
                                std::string_view end, const log::Cut& after,
                                size_t limit = 0) const;
  // A consistent snapshot of `view`'s cells after `after` (what the serving
  // layer's realtime CellSource reads through); see RealtimeSnapshot.
  Result<std::unique_ptr<RealtimeSnapshot>> OpenSnapshot(const std::string& view,
                                                         const log::Cut& after) const {
    return store_->OpenSnapshot(view, after);
  }
  // The cells of one key at granularity `g` whose buckets start in
  // [BucketStart(g, from_ms), to_ms).
  Result<CellsAnswer> ReadKey(const std::string& view, std::string_view key, views::Granularity g,
                              int64_t from_ms, int64_t to_ms, const log::Cut& after) const;
  // The one cell of `key` holding time `t_ms` at granularity `g` (absent
  // from the answer if no event is in it).
  Result<CellsAnswer> ReadPoint(const std::string& view, std::string_view key, views::Granularity g,
                                int64_t t_ms, const log::Cut& after) const;

  // ---- Introspection ----
  std::shared_ptr<const views::ViewDefinition> FindView(const std::string& name) const;
  const std::vector<std::shared_ptr<const views::ViewDefinition>>& views() const {
    return options_.views;
  }
  // The status document of GET /v1/speed/status (JSON).
  std::string StatusJson() const;
  // What raw topology `name` published (key → JSON); NotFound.
  Result<std::map<std::string, std::string>> Published(const std::string& topology) const;
  std::string source_name() const;
  RealtimeStore* store() { return store_.get(); }

 private:
  explicit SpeedLayer(SpeedLayerOptions options) : options_(std::move(options)) {}
  Result<std::unique_ptr<source::RecordSource>> MakeSource(const std::string& group_suffix) const;
  Result<std::unique_ptr<Spout>> MakeRecordSpout(const RecordSpoutSpec& spec,
                                                 const std::string& topology, int task,
                                                 int parallelism);
  void Publish(const std::string& topology, const std::string& key, const std::string& json);

  SpeedLayerOptions options_;
  std::unique_ptr<SpeedMetrics> metrics_;
  std::unique_ptr<RealtimeStore> store_;
  std::unique_ptr<DeadLetterSink> dead_letters_;
  std::unique_ptr<ViewTopologyEnv> env_;
  std::unique_ptr<TopologyRunner> views_runner_;
  std::vector<std::unique_ptr<TopologyRunner>> raw_runners_;
  bool started_ = false;

  mutable std::mutex publish_mu_;
  std::map<std::string, std::map<std::string, std::string>> published_;  // guarded
};

}  // namespace braid::stream
