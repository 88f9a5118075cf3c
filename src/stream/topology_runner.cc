#include "stream/topology_runner.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <set>

#include "base/logging.h"

namespace braid::stream {

uint64_t HashValue(const TupleValue& v) {
  // splitmix64 finalizer over a per-type hash.
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  switch (v.index()) {
    case 0:
      return mix(0);
    case 1:
      return mix(std::get<bool>(v) ? 1 : 2);
    case 2:
      return mix(static_cast<uint64_t>(std::get<int64_t>(v)));
    case 3: {
      const double d = std::get<double>(v);
      uint64_t bits = 0;
      static_assert(sizeof(bits) == sizeof(d));
      std::memcpy(&bits, &d, sizeof(d));
      return mix(bits ^ 0x5555);
    }
    case 4:
      return mix(std::hash<std::string>()(std::get<std::string>(v)));
    default:
      return mix(reinterpret_cast<uintptr_t>(std::get<5>(v).get()));
  }
}

namespace {

using Clock = std::chrono::steady_clock;

// A bolt task's bounded input queue of tuple batches. Many producers (the
// tasks that feed it), one consumer.
class TaskQueue {
 public:
  TaskQueue(size_t capacity, int producers) : capacity_(capacity), open_producers_(producers) {}

  // Blocks while the queue holds tuples and `batch` would not fit.
  void Push(std::vector<Tuple>&& batch) {
    const size_t n = batch.size();
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return size_ == 0 || size_ + n <= capacity_; });
    size_ += n;
    depth_.store(size_, std::memory_order_relaxed);
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
  }

  void ProducerDone() {
    std::lock_guard<std::mutex> lock(mu_);
    --open_producers_;
    not_empty_.notify_one();
  }

  enum class PopResult { kBatch, kTimeout, kClosed };
  // Takes the oldest batch; waits until `deadline` for one. kClosed once
  // every producer is done and the queue is empty.
  PopResult Pop(std::vector<Tuple>* out, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    while (batches_.empty()) {
      if (open_producers_ <= 0) return PopResult::kClosed;
      if (not_empty_.wait_until(lock, deadline) == std::cv_status::timeout && batches_.empty()) {
        return open_producers_ <= 0 ? PopResult::kClosed : PopResult::kTimeout;
      }
    }
    *out = std::move(batches_.front());
    batches_.pop_front();
    size_ -= out->size();
    depth_.store(size_, std::memory_order_relaxed);
    not_full_.notify_all();
    return PopResult::kBatch;
  }

  size_t depth() const { return depth_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::vector<Tuple>> batches_;  // guarded by mu_
  size_t size_ = 0;                         // guarded by mu_: tuples queued
  int open_producers_;                      // guarded by mu_
  std::atomic<size_t> depth_{0};
};

struct ComponentMetrics {
  metrics::Counter* emitted = nullptr;
  metrics::Counter* executed = nullptr;
  metrics::Counter* errors = nullptr;
  metrics::Histogram* latency = nullptr;
  // Always counted here too (for stats() without a registry).
  std::atomic<uint64_t> n_emitted{0};
  std::atomic<uint64_t> n_executed{0};
  std::atomic<uint64_t> n_errors{0};
  std::atomic<uint64_t> execute_nanos{0};
  std::atomic<double> rate{0};
  uint64_t last_count = 0;  // monitor thread only
};

struct Component;

// One subscription of a downstream component to this task's component.
struct Route {
  Grouping grouping = Grouping::kShuffle;
  std::vector<int> field_indices;
  std::vector<TaskQueue*> queues;    // the subscriber's tasks
  std::vector<size_t> buffer_index;  // per subscriber task: index into Collector::buffers_
  size_t next = 0;                   // shuffle position
};

class Collector final : public OutputCollector {
 public:
  Collector(const TupleSource* source, int task, size_t emit_batch, ComponentMetrics* metrics,
            std::string name)
      : source_(source),
        task_(task),
        emit_batch_(emit_batch),
        metrics_(metrics),
        name_(std::move(name)) {}

  // Adds a route; its queues get buffers.
  void AddRoute(Route route) {
    for (TaskQueue* q : route.queues) {
      auto it = std::find(queues_.begin(), queues_.end(), q);
      if (it == queues_.end()) {
        queues_.push_back(q);
        buffers_.emplace_back();
        route.buffer_index.push_back(queues_.size() - 1);
      } else {
        route.buffer_index.push_back(static_cast<size_t>(it - queues_.begin()));
      }
    }
    routes_.push_back(std::move(route));
  }

  void Emit(std::vector<TupleValue> values) override {
    metrics_->n_emitted.fetch_add(1, std::memory_order_relaxed);
    if (metrics_->emitted) metrics_->emitted->Inc();
    ++emitted_in_call_;
    if (routes_.empty()) return;
    // Destinations first, so that the last one can take the values.
    targets_.clear();
    for (Route& r : routes_) {
      const size_t n = r.queues.size();
      switch (r.grouping) {
        case Grouping::kShuffle:
          targets_.push_back(r.buffer_index[r.next++ % n]);
          break;
        case Grouping::kGlobal:
          targets_.push_back(r.buffer_index[0]);
          break;
        case Grouping::kAll:
          for (size_t b : r.buffer_index) targets_.push_back(b);
          break;
        case Grouping::kFields: {
          uint64_t h = 0x12345;
          for (int i : r.field_indices) {
            h = h * 31 + (static_cast<size_t>(i) < values.size() ? HashValue(values[i]) : 0);
          }
          targets_.push_back(r.buffer_index[h % n]);
          break;
        }
      }
    }
    for (size_t i = 0; i < targets_.size(); ++i) {
      std::vector<Tuple>& buf = buffers_[targets_[i]];
      if (i + 1 == targets_.size()) {
        buf.push_back(TupleAccess::Make(std::move(values), source_, task_));
      } else {
        buf.push_back(TupleAccess::Make(values, source_, task_));
      }
      if (buf.size() >= emit_batch_) Push(targets_[i]);
    }
  }

  void ReportError(std::string_view message) override {
    const uint64_t n = metrics_->n_errors.fetch_add(1, std::memory_order_relaxed);
    if (metrics_->errors) metrics_->errors->Inc();
    if (n < 10 || n % 1000 == 0) {
      LOG_WARN("topology {}: task {}: error #{}: {}", name_, task_, n + 1, message);
    }
  }

  void Flush() override {
    for (size_t i = 0; i < buffers_.size(); ++i) {
      if (!buffers_[i].empty()) Push(i);
    }
  }
  // Tells every downstream task that this one finished.
  void Close() {
    Flush();
    for (TaskQueue* q : queues_) q->ProducerDone();
  }

  uint64_t TakeEmittedInCall() {
    const uint64_t n = emitted_in_call_;
    emitted_in_call_ = 0;
    return n;
  }

 private:
  void Push(size_t i) {
    std::vector<Tuple> batch;
    batch.reserve(emit_batch_);
    batch.swap(buffers_[i]);
    queues_[i]->Push(std::move(batch));
  }

  const TupleSource* source_;
  const int task_;
  const size_t emit_batch_;
  ComponentMetrics* metrics_;
  const std::string name_;
  std::vector<Route> routes_;
  std::vector<TaskQueue*> queues_;  // distinct destination queues
  std::vector<std::vector<Tuple>> buffers_;
  std::vector<size_t> targets_;
  uint64_t emitted_in_call_ = 0;
};

struct Task {
  int component = 0;
  int index = 0;
  std::unique_ptr<Spout> spout;
  std::unique_ptr<Bolt> bolt;
  std::unique_ptr<TaskQueue> queue;  // bolts
  std::unique_ptr<Collector> collector;
  TopologyContext context;
  std::thread thread;
};

struct Component {
  ComponentSpec spec;
  bool is_spout = false;
  TupleSource source;  // name and output fields
  std::vector<Task*> tasks;
  std::unique_ptr<ComponentMetrics> metrics = std::make_unique<ComponentMetrics>();
};

std::string Describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return std::string("exception: ") + ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

struct TopologyRunner::Impl {
  TopologyRunnerOptions options;
  std::string name;
  std::vector<std::unique_ptr<Component>> components;
  std::vector<std::unique_ptr<Task>> tasks;
  TupleSource tick_source{"__tick", {}};

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;  // spout back-off and monitor waits; signalled by Stop
  bool started = false;
  bool stopped = false;
  std::thread monitor;

  Status Validate();
  Status Build();
  void RunSpout(Task* t);
  void RunBolt(Task* t);
  void Monitor();
  template <typename F>
  void Guard(Task* t, F&& f) {
    try {
      f();
    } catch (...) {
      t->collector->ReportError(Describe(std::current_exception()));
    }
  }
};

Status TopologyRunner::Impl::Validate() {
  if (name.empty()) return Status::InvalidArgument("a topology needs a name");
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < components.size(); ++i) {
    const ComponentSpec& c = components[i]->spec;
    const std::string what = "topology " + name + ": component \"" + c.name + "\"";
    if (c.name.empty() || c.name.rfind("__", 0) == 0) {
      return Status::InvalidArgument("topology " + name +
                                     ": component names must be non-empty and not start "
                                     "with \"__\"");
    }
    if (!index.emplace(c.name, i).second) {
      return Status::InvalidArgument(what + " is declared twice");
    }
    const int kinds = (c.spout ? 1 : 0) + (c.records ? 1 : 0) + (c.bolt ? 1 : 0);
    if (kinds != 1) {
      return Status::InvalidArgument(what + " must be exactly one of spout, record spout, bolt");
    }
    if (c.parallelism < 1 || c.parallelism > 256) {
      return Status::InvalidArgument(what + ": parallelism must be in [1, 256]");
    }
    if (c.bolt && c.inputs.empty()) return Status::InvalidArgument(what + " has no inputs");
    if (!c.bolt && !c.inputs.empty()) {
      return Status::InvalidArgument(what + ": a spout cannot subscribe");
    }
    if (c.tick_interval.count() < 0) {
      return Status::InvalidArgument(what + ": negative tick interval");
    }
  }
  if (components.empty()) return Status::InvalidArgument("topology " + name + " is empty");
  for (auto& comp : components) {
    for (const Subscription& s : comp->spec.inputs) {
      auto it = index.find(s.source);
      if (it == index.end()) {
        return Status::InvalidArgument("topology " + name + ": component \"" + comp->spec.name +
                                       "\" subscribes to unknown component \"" + s.source + "\"");
      }
      if (s.grouping == Grouping::kFields && s.fields.empty()) {
        return Status::InvalidArgument("topology " + name + ": component \"" + comp->spec.name +
                                       "\": a fields grouping needs fields");
      }
    }
  }
  // Acyclic (a cycle could deadlock on full queues).
  std::vector<int> state(components.size(), 0);  // 0 new, 1 visiting, 2 done
  std::function<bool(size_t)> visit = [&](size_t i) {
    if (state[i] == 2) return true;
    if (state[i] == 1) return false;
    state[i] = 1;
    for (const Subscription& s : components[i]->spec.inputs) {
      if (!visit(index[s.source])) return false;
    }
    state[i] = 2;
    return true;
  };
  for (size_t i = 0; i < components.size(); ++i) {
    if (!visit(i)) {
      return Status::InvalidArgument("topology " + name + " has a cycle through \"" +
                                     components[i]->spec.name + "\"");
    }
  }
  return Status::OK();
}

Status TopologyRunner::Impl::Build() {
  RETURN_IF_ERROR(Validate());
  std::map<std::string, Component*> by_name;
  // Instances first: output fields come from them.
  for (size_t ci = 0; ci < components.size(); ++ci) {
    Component* c = components[ci].get();
    by_name[c->spec.name] = c;
    c->is_spout = !c->spec.bolt;
    c->source.component = c->spec.name;
    for (int i = 0; i < c->spec.parallelism; ++i) {
      auto t = std::make_unique<Task>();
      t->component = static_cast<int>(ci);
      t->index = i;
      try {
        if (c->spec.spout) {
          t->spout = c->spec.spout();
        } else if (c->spec.records) {
          if (!options.record_spout_factory) {
            return Status::FailedPrecondition("topology " + name + ": component \"" + c->spec.name +
                                              "\" is a record spout, which needs the speed layer");
          }
          ASSIGN_OR_RETURN(t->spout, options.record_spout_factory(*c->spec.records, name, i,
                                                                  c->spec.parallelism));
        } else {
          t->bolt = c->spec.bolt();
        }
      } catch (...) {
        return Status::InvalidArgument("topology " + name + ": the factory of \"" + c->spec.name +
                                       "\" threw: " + Describe(std::current_exception()));
      }
      if (!t->spout && !t->bolt) {
        return Status::InvalidArgument("topology " + name + ": the factory of \"" + c->spec.name +
                                       "\" returned null");
      }
      if (i == 0) {
        try {
          c->source.fields = t->spout ? t->spout->OutputFields() : t->bolt->OutputFields();
        } catch (...) {
          return Status::InvalidArgument("topology " + name + ": OutputFields of \"" +
                                         c->spec.name + "\" threw");
        }
      }
      t->context.topology = name;
      t->context.component = c->spec.name;
      t->context.task_index = i;
      t->context.parallelism = c->spec.parallelism;
      auto publish = options.publish;
      const std::string topo = name;
      t->context.publish = [publish, topo](const std::string& key, const std::string& json) {
        if (publish) publish(topo, key, json);
      };
      c->tasks.push_back(t.get());
      tasks.push_back(std::move(t));
    }
    ComponentMetrics* m = c->metrics.get();
    if (options.metrics != nullptr) {
      const metrics::Labels l = {{"topology", name}, {"component", c->spec.name}};
      m->emitted = options.metrics->GetCounter("braid_topology_emitted_total",
                                               "Tuples emitted by a topology component", l);
      m->errors = options.metrics->GetCounter("braid_topology_errors_total",
                                              "Errors of a topology component", l);
      if (!c->is_spout) {
        m->executed = options.metrics->GetCounter("braid_topology_executed_total",
                                                  "Tuples executed by a topology bolt", l);
        m->latency = options.metrics->GetHistogram("braid_topology_execute_seconds",
                                                   "Time to execute one tuple in a topology bolt",
                                                   metrics::LatencyBuckets(), l);
      }
    }
  }
  // Queues: a bolt task is fed by every task of every component it subscribes to.
  for (auto& cp : components) {
    Component* c = cp.get();
    if (c->is_spout) continue;
    int producers = 0;
    std::set<std::string> seen;
    for (const Subscription& s : c->spec.inputs) {
      if (seen.insert(s.source).second) producers += by_name[s.source]->spec.parallelism;
    }
    const size_t cap =
        c->spec.queue_capacity > 0 ? c->spec.queue_capacity : options.default_queue_capacity;
    for (Task* t : c->tasks)
      t->queue = std::make_unique<TaskQueue>(std::max<size_t>(cap, 1), producers);
  }
  for (auto& cp : components) {
    for (Task* t : cp->tasks) {
      t->collector = std::make_unique<Collector>(&cp->source, t->index,
                                                 std::max<size_t>(options.emit_batch, 1),
                                                 cp->metrics.get(), name + "/" + cp->spec.name);
    }
  }
  // Routes: for each subscription, every task of the source gets a route to
  // the subscriber's queues. A component subscribed twice to the same source
  // (two groupings) still counts that source's tasks once as producers: the
  // routes share the queues.
  for (auto& cp : components) {
    Component* sub = cp.get();
    for (const Subscription& s : sub->spec.inputs) {
      Component* src = by_name[s.source];
      Route r;
      r.grouping = s.grouping;
      for (const std::string& f : s.fields) {
        auto it = std::find(src->source.fields.begin(), src->source.fields.end(), f);
        if (it == src->source.fields.end()) {
          return Status::InvalidArgument("topology " + name + ": \"" + sub->spec.name +
                                         "\" groups by field \"" + f + "\", which \"" +
                                         src->spec.name + "\" does not emit");
        }
        r.field_indices.push_back(static_cast<int>(it - src->source.fields.begin()));
      }
      for (Task* t : sub->tasks) r.queues.push_back(t->queue.get());
      for (Task* t : src->tasks) t->collector->AddRoute(r);
    }
  }
  return Status::OK();
}

void TopologyRunner::Impl::RunSpout(Task* t) {
  Component* c = components[t->component].get();
  std::chrono::milliseconds backoff(0);
  while (!stop.load(std::memory_order_acquire)) {
    Guard(t, [&] { t->spout->NextTuple(t->collector.get()); });
    t->collector->Flush();
    if (t->collector->TakeEmittedInCall() > 0) {
      backoff = std::chrono::milliseconds(0);
      continue;
    }
    backoff = std::min(std::max(backoff * 2, std::chrono::milliseconds(1)),
                       std::chrono::milliseconds(50));
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, backoff, [&] { return stop.load(); });
  }
  Guard(t, [&] { t->spout->Close(); });
  t->collector->Close();
  (void)c;
}

void TopologyRunner::Impl::RunBolt(Task* t) {
  Component* c = components[t->component].get();
  ComponentMetrics* m = c->metrics.get();
  const auto tick = c->spec.tick_interval;
  auto next_tick = tick.count() > 0 ? Clock::now() + tick : Clock::time_point::max();
  std::vector<Tuple> batch;
  for (;;) {
    const TaskQueue::PopResult r = t->queue->Pop(&batch, next_tick);
    if (r == TaskQueue::PopResult::kBatch) {
      for (const Tuple& tuple : batch) {
        const auto start = Clock::now();
        Guard(t, [&] { t->bolt->Execute(tuple, t->collector.get()); });
        const auto nanos =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        m->n_executed.fetch_add(1, std::memory_order_relaxed);
        m->execute_nanos.fetch_add(static_cast<uint64_t>(nanos), std::memory_order_relaxed);
        if (m->executed) m->executed->Inc();
        if (m->latency) m->latency->Observe(static_cast<double>(nanos) * 1e-9);
      }
      batch.clear();
    }
    if (tick.count() > 0 && Clock::now() >= next_tick) {
      const Tuple tuple = TupleAccess::Tick(&tick_source);
      Guard(t, [&] { t->bolt->Execute(tuple, t->collector.get()); });
      next_tick = std::max(next_tick + tick, Clock::now());
    }
    t->collector->Flush();
    if (r == TaskQueue::PopResult::kClosed) break;
  }
  Guard(t, [&] { t->bolt->Cleanup(); });
  t->collector->Close();
}

void TopologyRunner::Impl::Monitor() {
  auto last = Clock::now();
  std::unique_lock<std::mutex> lock(mu);
  while (!stopped) {
    cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopped; });
    const auto now = Clock::now();
    const double secs = std::chrono::duration<double>(now - last).count();
    last = now;
    if (secs <= 0) continue;
    for (auto& c : components) {
      ComponentMetrics* m = c->metrics.get();
      const uint64_t n = c->is_spout ? m->n_emitted.load() : m->n_executed.load();
      m->rate.store(static_cast<double>(n - m->last_count) / secs);
      m->last_count = n;
    }
  }
}

TopologyRunner::TopologyRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<TopologyRunner>> TopologyRunner::Create(TopologySpec spec,
                                                               TopologyRunnerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->name = spec.name;
  for (ComponentSpec& c : spec.components) {
    auto comp = std::make_unique<Component>();
    comp->spec = std::move(c);
    impl->components.push_back(std::move(comp));
  }
  RETURN_IF_ERROR(impl->Build());
  std::unique_ptr<TopologyRunner> runner(new TopologyRunner(std::move(impl)));
  if (runner->impl_->options.metrics != nullptr) {
    std::weak_ptr<Impl> weak = runner->impl_;
    runner->impl_->options.metrics->AddCollector([weak](metrics::SampleWriter* w) {
      std::shared_ptr<Impl> self = weak.lock();
      if (!self) return;
      for (auto& c : self->components) {
        const metrics::Labels l = {{"topology", self->name}, {"component", c->spec.name}};
        w->Gauge("braid_topology_tuples_per_second",
                 "Tuples executed (bolts) or emitted (spouts) per second, last second", l,
                 c->metrics->rate.load());
        if (c->is_spout) continue;
        uint64_t depth = 0, cap = 0;
        for (Task* t : c->tasks) {
          depth += t->queue->depth();
          cap += t->queue->capacity();
        }
        w->Gauge("braid_topology_queue_depth", "Tuples waiting in a bolt's input queues", l,
                 static_cast<double>(depth));
        w->Gauge("braid_topology_queue_capacity", "Bound of a bolt's input queues, in tuples", l,
                 static_cast<double>(cap));
      }
    });
  }
  return runner;
}

TopologyRunner::~TopologyRunner() { Stop(); }

const std::string& TopologyRunner::name() const { return impl_->name; }

Status TopologyRunner::Start() {
  Impl* s = impl_.get();
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->started) return Status::FailedPrecondition("topology " + s->name + " already started");
    s->started = true;
  }
  for (auto& t : s->tasks) {
    Status st;
    try {
      if (t->spout) t->spout->Open(t->context);
      if (t->bolt) t->bolt->Prepare(t->context);
    } catch (...) {
      st = Status::Internal("topology " + s->name + ": opening \"" + t->context.component +
                            "\" threw: " + Describe(std::current_exception()));
    }
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(s->mu);
      s->stopped = true;
      return st;
    }
  }
  // Bolts first, so that every queue has its consumer before tuples flow.
  for (auto& t : s->tasks) {
    if (t->bolt) t->thread = std::thread([s, task = t.get()] { s->RunBolt(task); });
  }
  for (auto& t : s->tasks) {
    if (t->spout) t->thread = std::thread([s, task = t.get()] { s->RunSpout(task); });
  }
  s->monitor = std::thread([s] { s->Monitor(); });
  return Status::OK();
}

void TopologyRunner::Stop() {
  Impl* s = impl_.get();
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->started || s->stopped) {
      s->stopped = true;
      return;
    }
  }
  s->stop.store(true, std::memory_order_release);
  s->cv.notify_all();
  for (auto& t : s->tasks) {
    if (t->spout) {
      try {
        t->spout->Wakeup();
      } catch (...) {
      }
    }
  }
  // Spouts first (they close their outputs), then bolts drain in order.
  for (auto& t : s->tasks) {
    if (t->spout && t->thread.joinable()) t->thread.join();
  }
  for (auto& t : s->tasks) {
    if (t->thread.joinable()) t->thread.join();
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->stopped = true;
  }
  s->cv.notify_all();
  if (s->monitor.joinable()) s->monitor.join();
}

std::vector<ComponentStats> TopologyRunner::stats() const {
  std::vector<ComponentStats> out;
  for (auto& c : impl_->components) {
    ComponentStats st;
    st.component = c->spec.name;
    st.spout = c->is_spout;
    st.parallelism = c->spec.parallelism;
    st.emitted = c->metrics->n_emitted.load();
    st.executed = c->metrics->n_executed.load();
    st.errors = c->metrics->n_errors.load();
    st.tuples_per_second = c->metrics->rate.load();
    if (st.executed > 0) {
      st.mean_execute_seconds =
          static_cast<double>(c->metrics->execute_nanos.load()) * 1e-9 / st.executed;
    }
    for (Task* t : c->tasks) {
      if (t->queue) {
        st.queue_depth += t->queue->depth();
        st.queue_capacity += t->queue->capacity();
      }
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace braid::stream
