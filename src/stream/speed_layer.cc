#include "stream/speed_layer.h"

#include <set>

#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "source/log_source.h"
#include "views/cell_key.h"

namespace braid::stream {

namespace {

// The built-in record spout of raw topologies (RecordSpoutSpec): one tuple
// per record, with the values of the spec's paths.
class RawRecordSpout final : public Spout, public source::RebalanceListener {
 public:
  RawRecordSpout(std::unique_ptr<source::RecordSource> source, RecordSpoutSpec spec,
                 views::SchemaLookup schemas, int task, int parallelism, bool in_process)
      : source_(std::move(source)),
        spec_(std::move(spec)),
        extractors_(spec_.paths, std::move(schemas)),
        task_(task),
        parallelism_(parallelism),
        in_process_(in_process) {}

  Status Subscribe() { return source_->Subscribe(spec_.topics, this); }

  std::vector<std::string> OutputFields() const override {
    std::vector<std::string> f = {"topic", "partition", "offset", "timestamp", "key"};
    for (const std::string& p : spec_.paths) f.push_back(p);
    return f;
  }

  void NextTuple(OutputCollector* out) override {
    source::PollOptions po;
    po.timeout = std::chrono::milliseconds(100);
    po.max_records_per_partition = 10'000;
    auto r = source_->Poll(po, [&](const source::PartitionRecords& pr) {
      if (!pr.error.ok()) {
        if (pr.log_start.value() >= 0) seeks_.emplace_back(*pr.partition, pr.log_start);
        return Status::OK();
      }
      // On the in-process log every task sees every partition: each takes its share.
      if (in_process_ && parallelism_ > 1 &&
          pr.partition->partition.value() % parallelism_ != task_) {
        return Status::OK();
      }
      for (const log::RecordView& rec : pr.records) Emit(*pr.partition, rec, out);
      return Status::OK();
    });
    if (!r.ok()) out->ReportError("poll: " + r.status().ToString());
    for (const auto& [tp, o] : seeks_) (void)source_->Seek(tp, o);
    seeks_.clear();
  }

  void Wakeup() override { source_->Wakeup(); }
  void Close() override { source_->Close(); }

  std::vector<Offset> OnAssigned(const std::vector<source::TopicPartition>& tps) override {
    std::vector<Offset> out;
    for (const auto& tp : tps) {
      if (spec_.from_beginning) {
        out.push_back(Offset(-1));
        continue;
      }
      auto w = source_->GetWatermarks(tp);
      out.push_back(w.ok() ? w->high_watermark : Offset(-1));
    }
    return out;
  }
  void OnRevoked(const std::vector<source::TopicPartition>&) override {}

 private:
  void Emit(const source::TopicPartition& tp, const log::RecordView& rec, OutputCollector* out) {
    std::vector<TupleValue> v;
    v.reserve(5 + spec_.paths.size());
    v.emplace_back(tp.topic);
    v.emplace_back(int64_t{tp.partition.value()});
    v.emplace_back(rec.offset.value());
    v.emplace_back(rec.timestamp);
    if (rec.key) {
      v.emplace_back(std::string(*rec.key));
    } else {
      v.emplace_back(std::monostate());
    }
    if (!spec_.paths.empty()) {
      if (!rec.value) return;
      std::string_view body;
      const std::optional<SchemaId> id = views::SplitConfluentFrame(*rec.value, &body);
      if (!id) {
        out->ReportError(tp.ToString() + "@" + std::to_string(rec.offset.value()) +
                         ": not Confluent-framed Avro");
        return;
      }
      auto ex = extractors_.ForSchemaId(*id);
      Status s = ex.ok() ? (*ex)->Extract(body, &fields_) : ex.status();
      if (!s.ok()) {
        out->ReportError(tp.ToString() + "@" + std::to_string(rec.offset.value()) + ": " +
                         s.ToString());
        return;
      }
      for (size_t i = 0; i < spec_.paths.size(); ++i) {
        switch (fields_.kind(i)) {
          case avro::ValueKind::kBool:
            v.emplace_back(*fields_.GetBool(i));
            break;
          case avro::ValueKind::kLong:
            v.emplace_back(*fields_.GetLong(i));
            break;
          case avro::ValueKind::kTimestamp:
            v.emplace_back(*fields_.GetTimestampMillis(i));
            break;
          case avro::ValueKind::kDouble:
            v.emplace_back(*fields_.GetDouble(i));
            break;
          case avro::ValueKind::kString:
            v.emplace_back(std::string(*fields_.GetString(i)));
            break;
          default:
            v.emplace_back(std::monostate());
        }
      }
    }
    out->Emit(std::move(v));
  }

  std::unique_ptr<source::RecordSource> source_;
  const RecordSpoutSpec spec_;
  views::ExtractorCache extractors_;
  const int task_;
  const int parallelism_;
  const bool in_process_;
  avro::ExtractedFields fields_;
  std::vector<std::pair<source::TopicPartition, Offset>> seeks_;
};

nlohmann::ordered_json CutJson(const log::Cut& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [p, o] : c.offsets) j[std::to_string(p.value())] = o.value();
  return j;
}

}  // namespace

Result<std::unique_ptr<SpeedLayer>> SpeedLayer::Open(SpeedLayerOptions options) {
  if (options.dir.empty()) return Status::InvalidArgument("speed layer: no directory");
  if (options.kafka.bootstrap.empty() && options.log == nullptr) {
    return Status::InvalidArgument("speed layer: neither a log nor a Kafka cluster to read");
  }
  if (options.clock == nullptr) options.clock = SystemClock();
  if (options.topology.max_batch_records == 0) options.topology.max_batch_records = 1;
  if (options.topology.max_batch_bytes == 0) options.topology.max_batch_bytes = 1;
  std::unique_ptr<SpeedLayer> s(new SpeedLayer(std::move(options)));
  s->metrics_ = std::make_unique<SpeedMetrics>(s->options_.metrics);
  std::vector<StoreView> sv;
  for (const auto& v : s->options_.views) {
    if (v == nullptr) return Status::InvalidArgument("speed layer: a null view");
    // The store keeps its own reference to the monoid, owned by the view.
    std::shared_ptr<const views::Monoid> monoid(v, &v->monoid());
    sv.push_back({v->name(), v->topic(), v->Fingerprint(), monoid});
  }
  RealtimeStoreOptions ro;
  ro.dir = s->options_.dir;
  ro.clock = s->options_.clock;
  ro.sync_seal = s->options_.sync_seal;
  ro.max_successive_merges = s->options_.max_successive_merges;
  ASSIGN_OR_RETURN(s->store_, RealtimeStore::Open(ro, std::move(sv)));
  return s;
}

SpeedLayer::~SpeedLayer() { Stop(); }

std::string SpeedLayer::source_name() const {
  return options_.kafka.bootstrap.empty() ? "log" : "kafka " + options_.kafka.bootstrap;
}

Result<std::unique_ptr<source::RecordSource>> SpeedLayer::MakeSource(
    const std::string& group_suffix) const {
  if (options_.kafka.bootstrap.empty()) {
    return std::unique_ptr<source::RecordSource>(std::make_unique<source::LogSource>(options_.log));
  }
  source::KafkaSourceOptions ko = options_.kafka;
  ko.group += group_suffix;
  ASSIGN_OR_RETURN(auto k, source::KafkaSource::Create(std::move(ko)));
  return std::unique_ptr<source::RecordSource>(std::move(k));
}

Result<std::unique_ptr<Spout>> SpeedLayer::MakeRecordSpout(const RecordSpoutSpec& spec,
                                                           const std::string& topology, int task,
                                                           int parallelism) {
  if (spec.topics.empty()) {
    return Status::InvalidArgument("topology " + topology + ": a record spout needs topics");
  }
  ASSIGN_OR_RETURN(auto source, MakeSource(".topology." + topology));
  auto spout = std::make_unique<RawRecordSpout>(std::move(source), spec, options_.schemas, task,
                                                parallelism, options_.kafka.bootstrap.empty());
  RETURN_IF_ERROR(spout->Subscribe());
  return std::unique_ptr<Spout>(std::move(spout));
}

void SpeedLayer::Publish(const std::string& topology, const std::string& key,
                         const std::string& json) {
  std::lock_guard<std::mutex> lock(publish_mu_);
  published_[topology][key] = json;
}

Status SpeedLayer::Start() {
  if (started_) return Status::FailedPrecondition("speed layer already started");
  started_ = true;
  if (!options_.dead_letter_topic.empty()) {
    if (options_.kafka.bootstrap.empty()) {
      ASSIGN_OR_RETURN(dead_letters_,
                       MakeLogDeadLetterSink(options_.log, options_.dead_letter_topic));
    } else {
      ASSIGN_OR_RETURN(dead_letters_, MakeKafkaDeadLetterSink(options_.kafka.bootstrap,
                                                              options_.dead_letter_topic, {}));
    }
  }
  TopologyRunnerOptions tro;
  tro.metrics = options_.metrics;
  tro.record_spout_factory = [this](const RecordSpoutSpec& spec, const std::string& topology,
                                    int task, int parallelism) {
    return MakeRecordSpout(spec, topology, task, parallelism);
  };
  tro.publish = [this](const std::string& t, const std::string& k, const std::string& j) {
    Publish(t, k, j);
  };
  if (!options_.views.empty()) {
    env_ = std::make_unique<ViewTopologyEnv>();
    env_->store = store_.get();
    for (const auto& v : options_.views) {
      env_->views.push_back(v);
      env_->extractors.push_back(
          std::make_shared<views::ExtractorCache>(v->paths(), options_.schemas));
    }
    env_->dead_letters = dead_letters_.get();
    env_->metrics = metrics_.get();
    env_->clock = options_.clock;
    env_->options = options_.topology;
    ASSIGN_OR_RETURN(auto source, MakeSource(""));
    ASSIGN_OR_RETURN(TopologySpec spec, BuildViewTopology(env_.get(), std::move(source)));
    ASSIGN_OR_RETURN(views_runner_, TopologyRunner::Create(std::move(spec), tro));
    RETURN_IF_ERROR(views_runner_->Start());
  }
  for (TopologySpec& t : options_.topologies) {
    ASSIGN_OR_RETURN(auto runner, TopologyRunner::Create(t, tro));
    RETURN_IF_ERROR(runner->Start());
    raw_runners_.push_back(std::move(runner));
  }
  LOG_INFO("speed: {} views, {} raw topologies, reading {}", options_.views.size(),
           raw_runners_.size(), source_name());
  return Status::OK();
}

void SpeedLayer::Stop() {
  for (auto& r : raw_runners_) r->Stop();
  raw_runners_.clear();
  if (views_runner_) {
    // Commits that fail from now on are given up (their offsets stay behind).
    env_->stopping = true;
    views_runner_->Stop();
    views_runner_.reset();
  }
  dead_letters_.reset();
}

Result<SealedGeneration> SpeedLayer::Seal() { return store_->Seal(); }

std::vector<GenerationInfo> SpeedLayer::ListGenerations() const {
  return store_->ListGenerations();
}

Result<std::vector<RealtimeGeneration>> SpeedLayer::Drop(const std::string& view,
                                                         const log::Cut& cut) {
  return store_->Drop(view, cut);
}

Result<log::Cut> SpeedLayer::Consumed(const std::string& view) const {
  ASSIGN_OR_RETURN(size_t i, store_->ViewIndex(view));
  return store_->Consumed(i);
}

std::shared_ptr<const views::ViewDefinition> SpeedLayer::FindView(const std::string& name) const {
  for (const auto& v : options_.views) {
    if (v->name() == name) return v;
  }
  return nullptr;
}

Result<CellsAnswer> SpeedLayer::ReadRange(const std::string& view, std::string_view begin,
                                          std::string_view end, const log::Cut& after,
                                          size_t limit) const {
  ASSIGN_OR_RETURN(RealtimeCells rc, store_->Read(view, begin, end, after, limit));
  CellsAnswer out;
  out.generations = std::move(rc.generations);
  out.consumed = std::move(rc.consumed);
  out.cells.reserve(rc.cells.size());
  for (auto& [k, v] : rc.cells) {
    ASSIGN_OR_RETURN(views::CellKey ck, views::DecodeCellKey(k));
    out.cells.push_back({std::move(ck.key), ck.granularity, ck.bucket_start, std::move(v)});
  }
  return out;
}

Result<CellsAnswer> SpeedLayer::ReadKey(const std::string& view, std::string_view key,
                                        views::Granularity g, int64_t from_ms, int64_t to_ms,
                                        const log::Cut& after) const {
  // Near the ends of time a bucket start would overflow: the bounds are then
  // the first and past the last cell of (key, g).
  constexpr int64_t kSlack = int64_t{400} * 24 * 3'600'000;
  const std::string begin = from_ms <= INT64_MIN + kSlack
                                ? views::CellKeyPrefix(key, g)
                                : views::EncodeCellKey(key, g, views::BucketStart(g, from_ms));
  std::string end;
  if (to_ms >= INT64_MAX - kSlack) {
    end = views::CellKeyPrefix(key);
    end.push_back(static_cast<char>(static_cast<uint8_t>(g) + 1));
  } else {
    end = views::EncodeCellKey(key, g, to_ms);
  }
  if (end <= begin) return CellsAnswer{};
  return ReadRange(view, begin, end, after);
}

Result<CellsAnswer> SpeedLayer::ReadPoint(const std::string& view, std::string_view key,
                                          views::Granularity g, int64_t t_ms,
                                          const log::Cut& after) const {
  const int64_t start = views::BucketStart(g, t_ms);
  // Every stored key of this cell (the cell key and a partition suffix)
  // sorts below the key of the next bucket (INT64_MAX for kAll: above all).
  const std::string begin = views::EncodeCellKey(key, g, start);
  const std::string stop = views::EncodeCellKey(key, g, views::NextBucketStart(g, start));
  return ReadRange(view, begin, stop, after);
}

Result<std::map<std::string, std::string>> SpeedLayer::Published(
    const std::string& topology) const {
  std::lock_guard<std::mutex> lock(publish_mu_);
  auto it = published_.find(topology);
  if (it == published_.end()) {
    for (const TopologySpec& t : options_.topologies) {
      if (t.name == topology) return std::map<std::string, std::string>{};
    }
    return Status::NotFound("no topology named \"" + topology + "\"");
  }
  return it->second;
}

std::string SpeedLayer::StatusJson() const {
  nlohmann::ordered_json out;
  out["source"] = source_name();
  if (!options_.kafka.bootstrap.empty()) out["group"] = options_.kafka.group;
  out["dead_letter_topic"] = options_.dead_letter_topic;
  const ViewTopologyOptions& t = options_.topology;
  out["micro_batches"] = {{"max_records", t.max_batch_records},
                          {"max_bytes", t.max_batch_bytes},
                          {"max_delay_ms", t.max_batch_delay.count()},
                          {"map_tasks", t.map_parallelism},
                          {"commit_tasks", t.commit_parallelism}};
  out["current_generation"] = store_->current_generation().value();
  out["views"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < store_->views().size(); ++i) {
    const StoreView& v = store_->views()[i];
    out["views"].push_back({{"name", v.name},
                            {"topic", v.topic},
                            {"monoid", v.monoid->spec()},
                            {"consumed", CutJson(store_->Consumed(i))},
                            {"floor", CutJson(store_->Floor(i))}});
  }
  out["generations"] = nlohmann::ordered_json::array();
  for (const GenerationInfo& g : store_->ListGenerations()) {
    nlohmann::ordered_json gj;
    gj["id"] = g.id.value();
    gj["sealed"] = g.sealed;
    gj["opened_ms"] = g.opened_ms;
    if (g.sealed) gj["sealed_ms"] = g.sealed_ms;
    gj["start"] = nlohmann::ordered_json::object();
    for (const auto& [v, c] : g.start) gj["start"][v] = CutJson(c);
    gj["end"] = nlohmann::ordered_json::object();
    for (const auto& [v, c] : g.end) gj["end"][v] = CutJson(c);
    out["generations"].push_back(std::move(gj));
  }
  nlohmann::ordered_json m;
  m["records_read"] = metrics_->records_read->Value();
  m["records_mapped"] = metrics_->records_mapped->Value();
  m["cell_updates"] = metrics_->emits->Value();
  m["cells_written"] = metrics_->cells_written->Value();
  m["dead_letters"] = metrics_->dead_letters->Value();
  m["records_lost"] = metrics_->lost->Value();
  m["commits"] = metrics_->commits->Value();
  m["commit_errors"] = metrics_->commit_errors->Value();
  out["counters"] = std::move(m);
  out["topologies"] = nlohmann::ordered_json::array();
  auto add_runner = [&](const TopologyRunner& r) {
    nlohmann::ordered_json t;
    t["name"] = r.name();
    t["components"] = nlohmann::ordered_json::array();
    for (const ComponentStats& c : r.stats()) {
      t["components"].push_back({{"name", c.component},
                                 {"kind", c.spout ? "spout" : "bolt"},
                                 {"parallelism", c.parallelism},
                                 {"emitted", c.emitted},
                                 {"executed", c.executed},
                                 {"errors", c.errors},
                                 {"tuples_per_second", c.tuples_per_second},
                                 {"queue_depth", c.queue_depth},
                                 {"queue_capacity", c.queue_capacity},
                                 {"mean_execute_seconds", c.mean_execute_seconds}});
    }
    out["topologies"].push_back(std::move(t));
  };
  if (views_runner_) add_runner(*views_runner_);
  for (const auto& r : raw_runners_) add_runner(*r);
  if (env_) {
    std::lock_guard<std::mutex> lock(env_->error_mu);
    out["last_error"] = env_->last_error;
  }
  return out.dump();
}

}  // namespace braid::stream
