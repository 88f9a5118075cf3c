// braid's topology API: raw speed-layer topologies in C++, Storm's model in
// one process. A topology is a graph of components: spouts produce tuples,
// bolts consume them and may emit more; each bolt subscribes to components
// with a stream grouping that decides which of its tasks gets a tuple:
//
//   shuffle  round-robin over the bolt's tasks (load balancing)
//   fields   by the hash of the named fields: equal values, same task
//   global   always the bolt's first task
//   all      every task gets a copy
//
// Each component runs `parallelism` tasks, one worker thread each; each
// bolt task has a bounded input queue (Emit blocks while it is full:
// backpressure up to the spouts). A bolt may ask for tick tuples, delivered
// to Execute() every TickInterval (Tuple::is_tick()), for time-driven work
// (rolling windows, flushing). Per component the runtime reports tuples/s,
// queue depth and processing latency on /metrics
// (braid_topology_*{topology, component}).
//
// The speed layer runs every view as a topology of its own (built by braid);
// this header is for raw topologies, loaded from plugins
// (include/braid/plugin.h: PluginRegistrar::AddTopology). A raw topology
// reads the log with a record spout (SetRecordSpout: braid's own log in
// process, or the Kafka cluster of `braid speed --kafka`) and publishes
// results with TopologyContext::Publish (GET /v1/speed/topologies/NAME).
//
// Delivery: in memory and at most once per run (no acking, no replay): a raw
// topology's state is an honest approximation that the next batch run
// replaces (DESIGN.md "One definition, both layers"). The views' realtime
// state is exact (it never goes through this path unsynchronized).
//
// Thread safety: the runtime calls each Spout/Bolt instance from its task's
// thread only (Wakeup() excepted). Factories are called once per task,
// before the topology starts. Exceptions thrown by a component are caught at
// the call, counted as errors and logged; the task goes on.
//
// Example (examples/topk):
//   braid::TopologyBuilder b("topk");
//   b.SetRecordSpout("views", {.topics = {"pageviews"}, .paths = {"url"}});
//   b.SetBolt("count", [] { return std::make_unique<RollingCount>(); }, 2)
//       .FieldsGrouping("views", {"url"})
//       .TickInterval(std::chrono::seconds(1));
//   b.SetBolt("rank", [] { return std::make_unique<Rank>(); }).GlobalGrouping("count");
//   registrar->AddTopology(std::move(b).Build());
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace braid::stream {
class TupleAccess;  // the runtime's way to build tuples
}  // namespace braid::stream

namespace braid {

// Bumped when this header changes incompatibly.
inline constexpr uint32_t kTopologyApiVersion = 1;

// An object carried in a tuple between components of one topology (a
// batch, a partial aggregate). Receivers get it back with
// Tuple::GetObject<T>() (a dynamic cast).
class TupleObject {
 public:
  virtual ~TupleObject() = default;
};

// One value of a tuple.
using TupleValue = std::variant<std::monostate, bool, int64_t, double, std::string,
                                std::shared_ptr<const TupleObject>>;

// Where a tuple comes from: the emitting component and its output fields.
// Owned by the runtime; valid while the topology runs.
struct TupleSource {
  std::string component;
  std::vector<std::string> fields;
};

// A tuple as a bolt receives it: the values emitted, in the order of the
// emitting component's OutputFields().
class Tuple {
 public:
  Tuple() = default;

  // True for a tick tuple (no values, source component "__tick").
  bool is_tick() const { return tick_; }
  const std::string& source_component() const { return source_->component; }
  // The emitting task's index within its component.
  int source_task() const { return source_task_; }
  // The source's output field names.
  const std::vector<std::string>& fields() const { return source_->fields; }

  size_t size() const { return values_.size(); }
  const TupleValue& operator[](size_t i) const { return values_[i]; }
  const std::vector<TupleValue>& values() const { return values_; }

  // The index of field `name`, or -1.
  int FieldIndex(std::string_view name) const {
    for (size_t i = 0; i < source_->fields.size(); ++i) {
      if (source_->fields[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  // The value of field `name`, or null if there is no such field.
  const TupleValue* Get(std::string_view name) const {
    const int i = FieldIndex(name);
    return i < 0 || static_cast<size_t>(i) >= values_.size() ? nullptr : &values_[i];
  }

  // Typed access by index; the default when the value has another type.
  int64_t GetInt(size_t i, int64_t def = 0) const {
    const auto* v = i < values_.size() ? std::get_if<int64_t>(&values_[i]) : nullptr;
    return v ? *v : def;
  }
  double GetDouble(size_t i, double def = 0) const {
    const auto* v = i < values_.size() ? std::get_if<double>(&values_[i]) : nullptr;
    return v ? *v : def;
  }
  bool GetBool(size_t i, bool def = false) const {
    const auto* v = i < values_.size() ? std::get_if<bool>(&values_[i]) : nullptr;
    return v ? *v : def;
  }
  // "" when not a string.
  std::string_view GetString(size_t i) const {
    const auto* v = i < values_.size() ? std::get_if<std::string>(&values_[i]) : nullptr;
    return v ? std::string_view(*v) : std::string_view();
  }
  bool IsNull(size_t i) const {
    return i >= values_.size() || std::holds_alternative<std::monostate>(values_[i]);
  }
  // The object at `i` if it is a T, else null.
  template <typename T>
  std::shared_ptr<const T> GetObject(size_t i) const {
    const auto* v =
        i < values_.size() ? std::get_if<std::shared_ptr<const TupleObject>>(&values_[i]) : nullptr;
    return v ? std::dynamic_pointer_cast<const T>(*v) : nullptr;
  }

 private:
  friend class ::braid::stream::TupleAccess;
  std::vector<TupleValue> values_;
  const TupleSource* source_ = nullptr;
  int source_task_ = 0;
  bool tick_ = false;
};

// What a spout or bolt emits through. Valid during the call it is passed to.
class OutputCollector {
 public:
  virtual ~OutputCollector() = default;
  // Emits a tuple (one value per output field) to every subscriber. May
  // block while a subscriber's queue is full (backpressure).
  virtual void Emit(std::vector<TupleValue> values) = 0;
  // Counts an error of this task (braid_topology_errors_total) and logs it
  // (rate-limited); processing goes on.
  virtual void ReportError(std::string_view message) = 0;
  // Pushes the tuples emitted so far to their subscribers now (they are
  // otherwise pushed in small batches, and at the latest when the current
  // NextTuple()/Execute() returns). May block like Emit().
  virtual void Flush() {}
};

// What a task knows about itself.
struct TopologyContext {
  std::string topology;
  std::string component;
  int task_index = 0;
  int parallelism = 1;
  // Publishes a small JSON document under `key` (replacing the previous
  // one), served at GET /v1/speed/topologies/<topology>: how a raw
  // topology exposes its results. Thread-safe; never null while running.
  std::function<void(const std::string& key, const std::string& json)> publish;
};

class Spout {
 public:
  virtual ~Spout() = default;
  // The names of the values of each emitted tuple.
  virtual std::vector<std::string> OutputFields() const = 0;
  virtual void Open(const TopologyContext& context) {}
  // Emits zero or more tuples. It may wait for input, briefly (up to about
  // 100 ms: the topology stops only between calls). The runtime calls it
  // in a loop; when a call emits nothing the next one comes after a short
  // back-off (1 ms, doubling up to 50 ms).
  virtual void NextTuple(OutputCollector* out) = 0;
  // Called from another thread when the topology stops: make a waiting
  // NextTuple() return.
  virtual void Wakeup() {}
  virtual void Close() {}
};

class Bolt {
 public:
  virtual ~Bolt() = default;
  // The names of the values of each emitted tuple (none for a sink).
  virtual std::vector<std::string> OutputFields() const { return {}; }
  virtual void Prepare(const TopologyContext& context) {}
  // Processes one tuple (or a tick tuple), emitting any number of tuples.
  virtual void Execute(const Tuple& tuple, OutputCollector* out) = 0;
  // Called once the topology stopped and every tuple sent to this task was
  // executed.
  virtual void Cleanup() {}
};

using SpoutFactory = std::function<std::unique_ptr<Spout>()>;
using BoltFactory = std::function<std::unique_ptr<Bolt>()>;

enum class Grouping : uint8_t { kShuffle, kFields, kGlobal, kAll };

struct Subscription {
  std::string source;  // the component subscribed to
  Grouping grouping = Grouping::kShuffle;
  std::vector<std::string> fields;  // kFields: the fields hashed
};

// The built-in spout over the log. Emits one tuple per record of `topics`
// (registered Confluent-framed Avro values; others are skipped and
// counted): fields "topic", "partition", "offset", "timestamp" (ms), "key"
// (string, or null), then one field per path (avro field-path syntax; the
// field is named by the path; strings, int64 (also timestamps, in ms),
// doubles, bools, or null). Its tasks share the topics' partitions.
struct RecordSpoutSpec {
  std::vector<std::string> topics;
  std::vector<std::string> paths;
  // Read each partition from its log start (true) or from its end as of
  // start-up (false). Default: false.
  bool from_beginning = false;
};

struct ComponentSpec {
  std::string name;
  int parallelism = 1;
  SpoutFactory spout;                        // a spout, or
  std::shared_ptr<RecordSpoutSpec> records;  // the built-in record spout, or
  BoltFactory bolt;                          // a bolt
  std::vector<Subscription> inputs;          // bolts only
  // Bolts: a tick tuple every this long; zero: none. Default: none.
  std::chrono::milliseconds tick_interval{0};
  // Bolts: the bound of each task's input queue, in tuples; zero: the
  // runtime's default (1024).
  size_t queue_capacity = 0;
};

// A topology as built (TopologyBuilder), what a plugin registers
// (PluginRegistrar::AddTopology). Validated by the runtime when it is
// started: unknown or duplicate component names, a bolt without inputs, a
// cycle, fields not in the source's output are errors. The speed layer
// creates the tasks from the factories at every start.
struct TopologySpec {
  std::string name;
  std::vector<ComponentSpec> components;
};

class TopologyBuilder {
 public:
  class BoltDeclarer {
   public:
    BoltDeclarer& ShuffleGrouping(std::string source) {
      return Add(std::move(source), Grouping::kShuffle, {});
    }
    BoltDeclarer& FieldsGrouping(std::string source, std::vector<std::string> fields) {
      return Add(std::move(source), Grouping::kFields, std::move(fields));
    }
    BoltDeclarer& GlobalGrouping(std::string source) {
      return Add(std::move(source), Grouping::kGlobal, {});
    }
    BoltDeclarer& AllGrouping(std::string source) {
      return Add(std::move(source), Grouping::kAll, {});
    }
    BoltDeclarer& TickInterval(std::chrono::milliseconds every) {
      spec_->components[index_].tick_interval = every;
      return *this;
    }
    BoltDeclarer& QueueCapacity(size_t tuples) {
      spec_->components[index_].queue_capacity = tuples;
      return *this;
    }

   private:
    friend class TopologyBuilder;
    BoltDeclarer(TopologySpec* spec, size_t index) : spec_(spec), index_(index) {}
    BoltDeclarer& Add(std::string source, Grouping g, std::vector<std::string> fields) {
      spec_->components[index_].inputs.push_back({std::move(source), g, std::move(fields)});
      return *this;
    }
    TopologySpec* spec_;
    size_t index_;
  };

  explicit TopologyBuilder(std::string name) { spec_.name = std::move(name); }

  void SetSpout(std::string name, SpoutFactory factory, int parallelism = 1) {
    ComponentSpec c;
    c.name = std::move(name);
    c.spout = std::move(factory);
    c.parallelism = parallelism;
    spec_.components.push_back(std::move(c));
  }
  void SetRecordSpout(std::string name, RecordSpoutSpec records, int parallelism = 1) {
    ComponentSpec c;
    c.name = std::move(name);
    c.records = std::make_shared<RecordSpoutSpec>(std::move(records));
    c.parallelism = parallelism;
    spec_.components.push_back(std::move(c));
  }
  // The declarer is valid until the next Set*() call.
  BoltDeclarer SetBolt(std::string name, BoltFactory factory, int parallelism = 1) {
    ComponentSpec c;
    c.name = std::move(name);
    c.bolt = std::move(factory);
    c.parallelism = parallelism;
    spec_.components.push_back(std::move(c));
    return BoltDeclarer(&spec_, spec_.components.size() - 1);
  }

  TopologySpec Build() && { return std::move(spec_); }

 private:
  TopologySpec spec_;
};

}  // namespace braid
