#include "stream/view_topology.h"

#include <algorithm>
#include <set>
#include <thread>
#include <unordered_map>

#include <xxhash.h>

#include "base/coding.h"
#include "base/logging.h"
#include "stream/session_tracker.h"
#include "views/cell_key.h"
#include "views/time_bucket.h"

namespace braid::stream {

std::vector<double> EventLagBuckets() {
  return {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600, 21600, 86400, 604800, 2592000, 31536000};
}

SpeedMetrics::SpeedMetrics(metrics::Registry* registry) {
  metrics::Registry* r = registry != nullptr ? registry : &own;
  records_read = r->GetCounter("braid_speed_records_read_total", "Records read by the speed layer");
  records_mapped =
      r->GetCounter("braid_speed_records_mapped_total", "Records mapped (once per view)");
  emits = r->GetCounter("braid_speed_cell_updates_total",
                        "Cell updates (emits times granularities) before combining");
  cells_written = r->GetCounter("braid_speed_cells_written_total",
                                "Cell merges written to the realtime store (after combining)");
  dead_letters = r->GetCounter("braid_speed_dead_letters_total",
                               "Records written to the speed layer's dead-letter topic");
  skipped = r->GetCounter("braid_speed_records_skipped_total",
                          "Records read again but below a view's position (not counted)");
  lost = r->GetCounter("braid_speed_records_lost_total",
                       "Records deleted by retention before the speed layer read them");
  commits =
      r->GetCounter("braid_speed_commits_total", "Micro-batches committed to the realtime store");
  commit_errors =
      r->GetCounter("braid_speed_commit_errors_total", "Failed commit attempts (retried)");
  future_events = r->GetCounter("braid_speed_future_events_total",
                                "Events whose event time is ahead of the processing clock");
  event_lag = r->GetHistogram("braid_speed_event_lag_seconds",
                              "Processing time minus event time of the events mapped (late "
                              "events land in their own bucket; none is dropped)",
                              EventLagBuckets());
  commit_latency =
      r->GetHistogram("braid_speed_commit_latency_seconds",
                      "From a micro-batch's first record read to its cells being readable",
                      metrics::LatencyBuckets());
  batch_records = r->GetHistogram("braid_speed_batch_records", "Records per micro-batch committed",
                                  {1, 10, 100, 1000, 10000, 100000});
  session_entries = r->GetGauge("braid_speed_session_entries",
                                "Open (view key, person) visits the speed layer keeps for "
                                "sessionised views");
  session_evictions = r->GetCounter(
      "braid_speed_session_evictions_total",
      "Open visits of sessionised views evicted by the state bound before their gap expired "
      "(the person's next event counts as a new visit until the next batch run)");
}

void ViewTopologyEnv::SetError(std::string e) {
  std::lock_guard<std::mutex> lock(error_mu);
  last_error = std::move(e);
}

// ---- PartitionProgress ----

uint64_t PartitionProgress::Assign(const source::TopicPartition& tp) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = parts_[tp];
  ++s.epoch;
  s.emitted = 0;
  s.committed = 0;
  cv_.notify_all();
  return s.epoch;
}

void PartitionProgress::Emitted(const source::TopicPartition& tp, uint64_t epoch, uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = parts_[tp];
  if (s.epoch == epoch) s.emitted = std::max(s.emitted, seq);
}

void PartitionProgress::Committed(const source::TopicPartition& tp, uint64_t epoch, uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = parts_[tp];
  if (s.epoch == epoch) s.committed = std::max(s.committed, seq);
  cv_.notify_all();
}

uint64_t PartitionProgress::epoch(const source::TopicPartition& tp) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = parts_.find(tp);
  return it == parts_.end() ? 0 : it->second.epoch;
}

bool PartitionProgress::WaitCommitted(const std::vector<source::TopicPartition>& tps,
                                      std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    if (cancelled_) return true;
    for (const auto& tp : tps) {
      auto it = parts_.find(tp);
      if (it != parts_.end() && it->second.committed < it->second.emitted) return false;
    }
    return true;
  }) && !cancelled_;
}

void PartitionProgress::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  cv_.notify_all();
}

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

// One record of a micro-batch; key and value are ranges of the arena
// (length -1: null).
struct BatchRecord {
  int64_t offset = 0;
  int64_t timestamp = 0;
  size_t key_pos = 0;
  int64_t key_len = -1;
  size_t value_pos = 0;
  int64_t value_len = -1;
};

// The records of one partition read since the previous batch.
struct MicroBatch final : TupleObject {
  source::TopicPartition tp;
  uint64_t epoch = 0;
  uint64_t seq = 0;
  Offset end_offset{0};                         // where reading continues after it
  std::vector<std::pair<size_t, Offset>> from;  // per view: records below are not its
  std::string arena;
  std::vector<BatchRecord> records;
  int64_t first_us = 0;  // when its first record was read (steady clock)

  std::optional<std::string_view> Key(const BatchRecord& r) const {
    if (r.key_len < 0) return std::nullopt;
    return std::string_view(arena).substr(r.key_pos, static_cast<size_t>(r.key_len));
  }
  std::optional<std::string_view> Value(const BatchRecord& r) const {
    if (r.value_len < 0) return std::nullopt;
    return std::string_view(arena).substr(r.value_pos, static_cast<size_t>(r.value_len));
  }
};

// A sessionised view's events of a micro-batch, in the order read (the
// commit task sessionises them: it sees a partition's batches in order).
struct SessionEvents {
  size_t view = 0;
  Offset next_offset{0};
  struct Event {
    uint32_t key_size = 0;
    uint32_t person_size = 0;
    int64_t time_ms = 0;
  };
  std::string arena;  // key, then person, per event
  std::vector<Event> events;
};

// What the map step made of a micro-batch.
struct MappedBatch final : TupleObject {
  source::TopicPartition tp;
  uint64_t epoch = 0;
  uint64_t seq = 0;
  int64_t first_us = 0;
  size_t records = 0;
  PartitionCommit commit;
  std::vector<SessionEvents> sessions;
  std::vector<DeadLetter> dead;
};

// ---- the spout ----

class RecordsSpout final : public Spout, public source::RebalanceListener {
 public:
  RecordsSpout(ViewTopologyEnv* env, std::unique_ptr<source::RecordSource> source,
               std::map<std::string, std::vector<size_t>> topic_views)
      : env_(env), source_(std::move(source)), topic_views_(std::move(topic_views)) {}

  Status Subscribe() {
    std::vector<std::string> topics;
    for (const auto& [t, v] : topic_views_) topics.push_back(t);
    return source_->Subscribe(topics, this);
  }

  std::vector<std::string> OutputFields() const override { return {"topic", "partition", "batch"}; }

  void NextTuple(OutputCollector* out) override {
    out_ = out;
    source::PollOptions po;
    po.max_records_per_partition = env_->options.max_batch_records;
    po.max_bytes_per_partition = env_->options.max_batch_bytes;
    po.timeout = std::chrono::milliseconds(100);
    const int64_t now = NowMicros();
    const int64_t delay_us =
        std::chrono::duration_cast<std::chrono::microseconds>(env_->options.max_batch_delay)
            .count();
    for (const auto& [tp, p] : parts_) {
      if (p.open) {
        const int64_t left_us = std::max<int64_t>(0, p.open->first_us + delay_us - now);
        po.timeout = std::min(po.timeout, std::chrono::milliseconds((left_us + 999) / 1000));
      }
    }
    auto polled = source_->Poll(po, [this](const source::PartitionRecords& pr) {
      Accumulate(pr);
      return Status::OK();
    });
    if (!polled.ok()) {
      out->ReportError("poll " + source_->name() + ": " + polled.status().ToString());
      env_->SetError("reading " + source_->name() + ": " + polled.status().ToString());
    }
    for (const auto& [tp, offset] : seeks_) {
      Status s = source_->Seek(tp, offset);
      if (!s.ok()) out->ReportError("seek " + tp.ToString() + ": " + s.ToString());
    }
    seeks_.clear();
    EmitDue(/*force=*/false);
  }

  void Wakeup() override { source_->Wakeup(); }

  void Close() override {
    closing_ = true;
    if (out_ != nullptr) {
      EmitDue(/*force=*/true);
      out_->Flush();
    }
    source_->Close();
  }

  // RebalanceListener (inside Poll, on the spout's thread).
  std::vector<Offset> OnAssigned(const std::vector<source::TopicPartition>& tps) override {
    if (first_assignment_) {
      first_assignment_ = false;
      ReleaseStale(tps);
    }
    std::vector<Offset> out;
    for (const source::TopicPartition& tp : tps) {
      Part p;
      p.epoch = env_->progress.Assign(tp);
      auto resume = env_->store->AcquirePartition(tp.topic, tp.partition);
      if (!resume.ok()) {
        LOG_ERROR("speed: cannot take partition {}: {}", tp.ToString(), resume.status().ToString());
        env_->SetError("taking partition " + tp.ToString() + ": " + resume.status().ToString());
        p.broken = true;
        out.push_back(Offset(-1));
        parts_[tp] = std::move(p);
        continue;
      }
      Offset start(INT64_MAX);
      for (const auto& [view, offset] : *resume) {
        p.from.emplace_back(view, offset);
        start = std::min(start, offset);
      }
      if (resume->empty()) start = Offset(-1);
      p.position = start;
      LOG_INFO("speed: partition {} assigned, resuming at offset {}", tp.ToString(), start.value());
      out.push_back(start);
      parts_[tp] = std::move(p);
    }
    return out;
  }

  void OnRevoked(const std::vector<source::TopicPartition>& tps) override {
    for (const source::TopicPartition& tp : tps) {
      auto it = parts_.find(tp);
      if (it != parts_.end() && it->second.open) EmitPart(tp, &it->second);
    }
    if (out_ != nullptr) out_->Flush();
    if (!env_->progress.WaitCommitted(tps, std::chrono::seconds(60))) {
      LOG_WARN("speed: revoked partitions' last batches were not all committed");
    }
    for (const source::TopicPartition& tp : tps) {
      parts_.erase(tp);
      if (closing_) continue;
      Status s = env_->store->ReleasePartition(tp.topic, tp.partition);
      if (!s.ok()) LOG_ERROR("speed: releasing partition {}: {}", tp.ToString(), s.ToString());
      LOG_INFO("speed: partition {} revoked; its realtime state released", tp.ToString());
    }
  }

 private:
  struct Part {
    uint64_t epoch = 0;
    uint64_t seq = 0;
    Offset position{0};
    std::vector<std::pair<size_t, Offset>> from;
    std::shared_ptr<MicroBatch> open;
    bool broken = false;  // could not be acquired: read but never committed
  };

  // Partitions the store holds that this process was not given: another
  // process owns them now (after a restart in a consumer group).
  void ReleaseStale(const std::vector<source::TopicPartition>& assigned) {
    const std::set<source::TopicPartition> keep(assigned.begin(), assigned.end());
    std::set<source::TopicPartition> stale;
    for (const auto& [topic, views] : topic_views_) {
      for (size_t v : views) {
        for (const auto& [p, o] : env_->store->Consumed(v).offsets) {
          source::TopicPartition tp{topic, p};
          if (!keep.count(tp)) stale.insert(tp);
        }
      }
    }
    for (const auto& tp : stale) {
      Status s = env_->store->ReleasePartition(tp.topic, tp.partition);
      LOG_INFO("speed: partition {} is not ours any more; its realtime state is released{}",
               tp.ToString(), s.ok() ? "" : ": " + s.ToString());
    }
  }

  MicroBatch* Open(const source::TopicPartition& tp, Part* p) {
    if (!p->open) {
      p->open = std::make_shared<MicroBatch>();
      p->open->tp = tp;
      p->open->epoch = p->epoch;
      p->open->seq = ++p->seq;
      p->open->from = p->from;
      p->open->first_us = NowMicros();
      p->open->end_offset = p->position;
    }
    return p->open.get();
  }

  void Accumulate(const source::PartitionRecords& pr) {
    auto it = parts_.find(*pr.partition);
    if (it == parts_.end()) return;
    const source::TopicPartition& tp = it->first;
    Part& p = it->second;
    if (!pr.error.ok()) {
      if (pr.log_start.value() > p.position.value()) {
        const int64_t lost = pr.log_start.value() - std::max<int64_t>(0, p.position.value());
        env_->metrics->lost->Inc(static_cast<uint64_t>(lost));
        LOG_WARN(
            "speed: {}: {} records were deleted by retention before they were read; "
            "continuing at {}",
            tp.ToString(), lost, pr.log_start.value());
        p.position = pr.log_start;
        Open(tp, &p)->end_offset = pr.log_start;
        seeks_.emplace_back(tp, pr.log_start);
      } else {
        LOG_ERROR("speed: {}: {}", tp.ToString(), pr.error.ToString());
        env_->SetError(tp.ToString() + ": " + pr.error.ToString());
      }
      return;
    }
    if (p.broken) return;
    if (pr.records.empty() && pr.next_offset == p.position) return;
    MicroBatch* b = Open(tp, &p);
    for (const log::RecordView& r : pr.records) {
      BatchRecord br;
      br.offset = r.offset.value();
      br.timestamp = r.timestamp;
      if (r.key) {
        br.key_pos = b->arena.size();
        br.key_len = static_cast<int64_t>(r.key->size());
        b->arena.append(*r.key);
      }
      if (r.value) {
        br.value_pos = b->arena.size();
        br.value_len = static_cast<int64_t>(r.value->size());
        b->arena.append(*r.value);
      }
      b->records.push_back(br);
    }
    env_->metrics->records_read->Inc(pr.records.size());
    b->end_offset = pr.next_offset;
    p.position = pr.next_offset;
    if (Full(*b)) EmitPart(tp, &p);
  }

  bool Full(const MicroBatch& b) const {
    return b.records.size() >= env_->options.max_batch_records ||
           b.arena.size() >= env_->options.max_batch_bytes;
  }

  void EmitPart(const source::TopicPartition& tp, Part* p) {
    std::shared_ptr<MicroBatch> b = std::move(p->open);
    p->open.reset();
    // Once every view is past its own position, none needs `from`.
    p->from.erase(std::remove_if(p->from.begin(), p->from.end(),
                                 [&](const auto& vf) { return vf.second <= b->end_offset; }),
                  p->from.end());
    env_->progress.Emitted(tp, b->epoch, b->seq);
    out_->Emit({tp.topic, int64_t{tp.partition.value()},
                std::shared_ptr<const TupleObject>(std::move(b))});
  }

  void EmitDue(bool force) {
    const int64_t now = NowMicros();
    const int64_t delay_us =
        std::chrono::duration_cast<std::chrono::microseconds>(env_->options.max_batch_delay)
            .count();
    for (auto& [tp, p] : parts_) {
      if (!p.open) continue;
      if (force || Full(*p.open) || now - p.open->first_us >= delay_us) {
        EmitPart(tp, &p);
      }
    }
  }

  ViewTopologyEnv* const env_;
  std::unique_ptr<source::RecordSource> source_;
  const std::map<std::string, std::vector<size_t>> topic_views_;
  std::map<source::TopicPartition, Part> parts_;
  std::vector<std::pair<source::TopicPartition, Offset>> seeks_;
  OutputCollector* out_ = nullptr;
  bool first_assignment_ = true;
  bool closing_ = false;
};

// Groups values by key and merges them with a monoid: an open-addressing
// hash table (power-of-two slots, linear probing, xxHash3) over a vector of
// entries in insertion order, so that the entries are handed on by a move.
// The map step's hot loop: one probe and (mostly) one key comparison per
// value.
class Combiner {
 public:
  using Entry = std::pair<std::string, std::string>;

  // Merges `value` into the entry of `key` (a new entry: `value` itself).
  Status Add(std::string_view key, std::string_view value, const views::Monoid& monoid) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    const uint64_t h = XXH3_64bits(key.data(), key.size());
    const uint64_t tag = h >> 32;
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(h) & mask;; i = (i + 1) & mask) {
      const uint64_t slot = slots_[i];
      if (slot == 0) {
        slots_[i] = (tag << 32) | (entries_.size() + 1);
        hashes_.push_back(h);
        entries_.emplace_back(std::string(key), std::string(value));
        return Status::OK();
      }
      if ((slot >> 32) == tag) {
        Entry& e = entries_[(slot & 0xffffffffu) - 1];
        if (e.first == key) return monoid.Merge(&e.second, value);
      }
    }
  }
  std::vector<Entry>& entries() { return entries_; }
  // Hands the entries over and empties the table (keeping its capacity).
  std::vector<Entry> Take() {
    std::vector<Entry> out = std::move(entries_);
    Clear();
    return out;
  }
  void Clear() {
    entries_.clear();
    hashes_.clear();
    std::fill(slots_.begin(), slots_.end(), 0);
  }

 private:
  void Grow() {
    slots_.assign(std::max<size_t>(1024, slots_.size() * 2), 0);
    const size_t mask = slots_.size() - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t i = static_cast<size_t>(hashes_[e]) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = ((hashes_[e] >> 32) << 32) | (e + 1);
    }
  }

  std::vector<uint64_t> slots_;  // hash tag << 32 | entry index + 1; 0: empty
  std::vector<uint64_t> hashes_;
  std::vector<Entry> entries_;
};

// Errors of the map step that are worth a retry (a schema lookup that could
// not be answered now); the others make a dead letter.
bool Transient(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
    case StatusCode::kNotFound:
    case StatusCode::kCorruption:
    case StatusCode::kInvalidArgument:
      return false;
    default:
      return true;
  }
}

// ---- the map bolt ----

class MapBolt final : public Bolt {
 public:
  MapBolt(ViewTopologyEnv* env, const std::map<std::string, std::vector<size_t>>* topic_views)
      : env_(env), topic_views_(topic_views) {
    lag_counts_.resize(env_->metrics->event_lag->bounds().size() + 1);
    for (size_t i = 0; i < env_->views.size(); ++i) {
      mappers_[i] = std::make_unique<views::Mapper>(env_->views[i], env_->extractors[i]);
    }
  }

  std::vector<std::string> OutputFields() const override {
    return {"topic", "partition", "mapped"};
  }

  void Execute(const Tuple& t, OutputCollector* out) override {
    auto b = t.GetObject<MicroBatch>(2);
    if (!b) return;
    auto m = std::make_shared<MappedBatch>();
    m->tp = b->tp;
    m->epoch = b->epoch;
    m->seq = b->seq;
    m->first_us = b->first_us;
    m->records = b->records.size();
    m->commit.partition = b->tp.partition;
    auto tv = topic_views_->find(b->tp.topic);
    if (tv == topic_views_->end()) return;
    // Per record index: the views that failed it and the first error.
    std::map<size_t, std::pair<std::string, std::string>> failed;
    const int64_t now_ms = env_->clock->NowMillis();
    double lag_sum = 0;
    std::fill(lag_counts_.begin(), lag_counts_.end(), 0);
    uint64_t mapped = 0, updates = 0, skipped = 0, future = 0;
    for (size_t vi : tv->second) {
      views::Mapper& mapper = *mappers_[vi];
      const views::ViewDefinition& view = mapper.view();
      const views::Monoid& monoid = view.monoid();
      const auto& grans = view.granularities();
      Offset from(0);
      for (const auto& [v, o] : b->from) {
        if (v == vi) from = o;
      }
      hourly_.Clear();
      SessionEvents* session = nullptr;
      if (view.session() != nullptr) {
        m->sessions.emplace_back();
        session = &m->sessions.back();
        session->view = vi;
        session->next_offset = std::max(from, b->end_offset);
      }
      for (size_t ri = 0; ri < b->records.size(); ++ri) {
        const BatchRecord& br = b->records[ri];
        if (br.offset < from.value()) {
          ++skipped;
          continue;
        }
        views::RecordRef ref;
        ref.topic = b->tp.topic;
        ref.partition = b->tp.partition;
        ref.offset = Offset(br.offset);
        ref.timestamp_ms = br.timestamp;
        ref.key = b->Key(br);
        ref.value = b->Value(br);
        emits_.clear();
        const uint64_t not_avro = mapper.stats().not_avro;
        Status s = mapper.Map(ref, &emits_);
        for (int attempt = 0; Transient(s) && !env_->stopping; ++attempt) {
          if (attempt == 0) {
            out->ReportError("view " + view.name() + ": " + s.ToString() + " (retrying)");
          }
          std::this_thread::sleep_for(
              std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 5))));
          emits_.clear();
          s = mapper.Map(ref, &emits_);
        }
        // The shared map step skips values that are not registered Avro
        // for views that need Avro; for the speed layer they are dead letters.
        if (s.ok() && mapper.stats().not_avro != not_avro) {
          s = Status::Corruption("the value is not Confluent-framed Avro");
        }
        if (!s.ok()) {
          auto& f = failed[ri];
          if (!f.first.empty()) f.first += ",";
          f.first += view.name();
          if (f.second.empty()) f.second = s.ToString();
          continue;
        }
        ++mapped;
        for (const views::Emit& e : emits_) {
          const double lag = static_cast<double>(now_ms - e.time_ms) / 1000.0;
          if (lag < 0) {
            ++future;
            ++lag_counts_[0];
          } else {
            ++lag_counts_[env_->metrics->event_lag->BucketIndex(lag)];
            lag_sum += lag;
          }
          if (session != nullptr) {
            // Sessionised: the event itself (its person in e.value).
            if (e.key.size() > UINT32_MAX || e.value.size() > UINT32_MAX) continue;
            session->events.push_back({static_cast<uint32_t>(e.key.size()),
                                       static_cast<uint32_t>(e.value.size()), e.time_ms});
            session->arena += e.key;
            session->arena += e.value;
            continue;
          }
          // First by (key, hour): every bucket of every granularity is a
          // union of whole UTC hours, so the cells follow from the hours.
          updates += grans.size();
          key_.assign(e.key);
          coding::PutBigEndian64(&key_, static_cast<uint64_t>(views::BucketStart(
                                            views::Granularity::kHour, e.time_ms)));
          Status ms = hourly_.Add(key_, e.value, monoid);
          if (!ms.ok()) out->ReportError("view " + view.name() + ": merge: " + ms.ToString());
        }
      }
      for (const auto& [kh, value] : hourly_.entries()) {
        const std::string_view key(kh.data(), kh.size() - 8);
        const auto hour =
            static_cast<int64_t>(coding::DecodeBigEndian64(kh.data() + kh.size() - 8));
        for (views::Granularity g : grans) {
          key_.clear();
          views::AppendCellKey(key, g, views::BucketStart(g, hour), &key_);
          Status ms = cells_.Add(key_, value, monoid);
          if (!ms.ok()) out->ReportError("view " + view.name() + ": merge: " + ms.ToString());
        }
      }
      if (session != nullptr) continue;  // its cells come from the commit task
      hourly_.Clear();
      ViewDelta vd;
      vd.view = vi;
      vd.next_offset = std::max(from, b->end_offset);
      vd.cells = cells_.Take();
      // In key order: RocksDB's memtable inserts a sorted run of keys
      // several times faster (each insert starts where the last ended).
      std::sort(vd.cells.begin(), vd.cells.end());
      m->commit.views.push_back(std::move(vd));
    }
    for (auto& [ri, f] : failed) {
      const BatchRecord& br = b->records[ri];
      DeadLetter d;
      d.topic = b->tp.topic;
      d.partition = b->tp.partition;
      d.offset = Offset(br.offset);
      d.timestamp_ms = br.timestamp;
      if (auto k = b->Key(br)) d.key = std::string(*k);
      if (auto v = b->Value(br)) d.value = std::string(*v);
      d.views = std::move(f.first);
      d.error = std::move(f.second);
      m->dead.push_back(std::move(d));
    }
    env_->metrics->records_mapped->Inc(mapped);
    env_->metrics->emits->Inc(updates);
    if (skipped) env_->metrics->skipped->Inc(skipped);
    if (future) env_->metrics->future_events->Inc(future);
    env_->metrics->event_lag->AddBucketed(lag_counts_, lag_sum);
    out->Emit({b->tp.topic, int64_t{b->tp.partition.value()},
               std::shared_ptr<const TupleObject>(std::move(m))});
  }

 private:
  ViewTopologyEnv* const env_;
  const std::map<std::string, std::vector<size_t>>* const topic_views_;
  std::map<size_t, std::unique_ptr<views::Mapper>> mappers_;  // per view: this task's
  std::vector<views::Emit> emits_;
  Combiner hourly_;  // (key, hour) → value
  Combiner cells_;   // cell key → value
  std::string key_;
  std::vector<uint64_t> lag_counts_;
};

// ---- the commit bolt ----

class CommitBolt final : public Bolt {
 public:
  explicit CommitBolt(ViewTopologyEnv* env) : env_(env) {}

  void Execute(const Tuple& t, OutputCollector* out) override {
    auto m = t.GetObject<MappedBatch>(2);
    if (!m) return;
    if (m->epoch != env_->progress.epoch(m->tp)) return;  // of an earlier assignment
    Pending& q = pending_[m->tp];
    if (q.epoch != m->epoch) {
      q.epoch = m->epoch;
      q.next = 1;
      q.batches.clear();
      DropSessions(m->tp);  // a new assignment: the state starts again
    }
    q.batches[m->seq] = std::move(m);
    for (auto it = q.batches.find(q.next); it != q.batches.end(); it = q.batches.find(q.next)) {
      std::shared_ptr<const MappedBatch> b = std::move(it->second);
      q.batches.erase(it);
      if (!CommitOne(*b, out)) {
        // Given up (stopping): nothing after it may be committed either.
        q.batches.clear();
        env_->progress.Cancel();
        return;
      }
      ++q.next;
    }
  }

 private:
  struct Pending {
    uint64_t epoch = 0;
    uint64_t next = 1;
    std::map<uint64_t, std::shared_ptr<const MappedBatch>> batches;
  };

  // Retries `f` until it succeeds, the partition is gone (false) or the
  // speed layer stops (false).
  template <typename F>
  bool Retry(const char* what, const MappedBatch& b, OutputCollector* out, F&& f) {
    for (int attempt = 0;; ++attempt) {
      Status s = f();
      if (s.ok()) return true;
      if (s.code() == StatusCode::kFailedPrecondition) return false;  // released meanwhile
      env_->metrics->commit_errors->Inc();
      const std::string msg = std::string(what) + " " + b.tp.ToString() + ": " + s.ToString();
      out->ReportError(msg);
      env_->SetError(msg);
      if (env_->stopping) return false;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(2000, 50 << std::min(attempt, 6))));
    }
  }

  bool CommitOne(const MappedBatch& b, OutputCollector* out) {
    if (!b.dead.empty()) {
      if (env_->dead_letters == nullptr) {
        LOG_WARN("speed: {} undecodable records of {} and no dead-letter topic", b.dead.size(),
                 b.tp.ToString());
      } else if (!Retry("dead letters of", b, out,
                        [&] { return env_->dead_letters->Write(b.dead); })) {
        return false;
      }
      env_->metrics->dead_letters->Inc(b.dead.size());
    }
    std::vector<const ViewDelta*> deltas;
    deltas.reserve(b.commit.views.size() + b.sessions.size());
    for (const ViewDelta& vd : b.commit.views) deltas.push_back(&vd);
    session_deltas_.clear();
    for (const SessionEvents& se : b.sessions) session_deltas_.push_back(Sessionize(b.tp, se));
    for (const ViewDelta& vd : session_deltas_) deltas.push_back(&vd);
    const bool committed =
        Retry("commit of", b, out, [&] { return env_->store->Commit(b.commit.partition, deltas); });
    if (!committed && !b.sessions.empty()) {
      // Its sessions' state counted events that are not stored.
      DropSessions(b.tp);
    }
    if (!committed && !env_->stopping) {
      // The partition was released (taken by another process): drop.
      env_->progress.Committed(b.tp, b.epoch, b.seq);
      return true;
    }
    if (!committed) return false;
    env_->progress.Committed(b.tp, b.epoch, b.seq);
    env_->metrics->commits->Inc();
    for (const ViewDelta& vd : b.commit.views) env_->metrics->cells_written->Inc(vd.cells.size());
    env_->metrics->commit_latency->Observe(static_cast<double>(NowMicros() - b.first_us) * 1e-6);
    env_->metrics->batch_records->Observe(static_cast<double>(b.records));
    return true;
  }

  // A sessionised view's events of one batch → its cell deltas
  // (SessionTracker per view and partition).
  ViewDelta Sessionize(const source::TopicPartition& tp, const SessionEvents& se) {
    ViewDelta vd;
    vd.view = se.view;
    vd.next_offset = se.next_offset;
    const views::ViewDefinition& view = *env_->views[se.view];
    std::unique_ptr<SessionTracker>& tracker = sessions_[{tp, se.view}];
    if (tracker == nullptr) {
      SessionTrackerOptions o;
      o.gap_ms = view.session()->gap_ms;
      o.max_entries = env_->options.session_max_entries;
      tracker = std::make_unique<SessionTracker>(o);
    }
    const size_t size_before = tracker->size();
    const uint64_t evicted_before = tracker->evicted();
    // (cell key) → (visits, bounces), in key order.
    std::map<std::string, std::pair<uint64_t, int64_t>> cells;
    size_t pos = 0;
    for (const SessionEvents::Event& ev : se.events) {
      const std::string_view key(se.arena.data() + pos, ev.key_size);
      const std::string_view person(se.arena.data() + pos + ev.key_size, ev.person_size);
      pos += size_t{ev.key_size} + ev.person_size;
      const VisitDelta d = tracker->Add(key, person, ev.time_ms);
      if (!d.any) continue;
      for (views::Granularity g : view.granularities()) {
        auto& c = cells[views::EncodeCellKey(key, g, views::BucketStart(g, d.visit_start_ms))];
        c.first += static_cast<uint64_t>(d.visits);
        c.second += d.bounces;
      }
    }
    for (const auto& [key, c] : cells) {
      if (c.first == 0 && c.second == 0) continue;
      vd.cells.emplace_back(key, views::EncodeVisits(c.first, c.second));
    }
    env_->metrics->session_entries->Add(static_cast<int64_t>(tracker->size()) -
                                        static_cast<int64_t>(size_before));
    env_->metrics->session_evictions->Inc(tracker->evicted() - evicted_before);
    return vd;
  }

  void DropSessions(const source::TopicPartition& tp) {
    for (auto it = sessions_.lower_bound({tp, 0});
         it != sessions_.end() && it->first.first == tp;) {
      env_->metrics->session_entries->Add(-static_cast<int64_t>(it->second->size()));
      it = sessions_.erase(it);
    }
  }

  ViewTopologyEnv* const env_;
  std::map<source::TopicPartition, Pending> pending_;
  std::map<std::pair<source::TopicPartition, size_t>, std::unique_ptr<SessionTracker>> sessions_;
  std::vector<ViewDelta> session_deltas_;
};

}  // namespace

Result<TopologySpec> BuildViewTopology(ViewTopologyEnv* env,
                                       std::unique_ptr<source::RecordSource> source) {
  std::map<std::string, std::vector<size_t>> topic_views;
  const auto& views = env->store->views();
  for (size_t i = 0; i < views.size(); ++i) topic_views[views[i].topic].push_back(i);
  auto topic_views_ptr =
      std::make_shared<const std::map<std::string, std::vector<size_t>>>(topic_views);
  auto spout = std::make_shared<std::unique_ptr<RecordsSpout>>(
      std::make_unique<RecordsSpout>(env, std::move(source), topic_views));
  RETURN_IF_ERROR((*spout)->Subscribe());

  TopologyBuilder b("views");
  b.SetSpout("records", [spout]() -> std::unique_ptr<Spout> { return std::move(*spout); });
  b.SetBolt(
       "map",
       [env, topic_views_ptr] { return std::make_unique<MapBolt>(env, topic_views_ptr.get()); },
       env->options.map_parallelism)
      .ShuffleGrouping("records")
      .QueueCapacity(env->options.map_queue);
  b.SetBolt(
       "commit", [env] { return std::make_unique<CommitBolt>(env); },
       env->options.commit_parallelism)
      .FieldsGrouping("map", {"topic", "partition"})
      .QueueCapacity(env->options.commit_queue);
  return std::move(b).Build();
}

}  // namespace braid::stream
