// TopologyRunner: runs one topology (include/braid/topology.h) in this
// process. Every task (a component instance) has its own worker thread; a
// bolt task has a bounded input queue of tuples. Emitted tuples are buffered
// per destination task and handed over in small batches (at most
// TopologyRunnerOptions::emit_batch tuples, and always at the end of the
// Execute()/NextTuple() call that emitted them), so a queue operation is
// paid per batch, not per tuple. A push into a full queue blocks (the
// emitting task waits: backpressure travels up to the spouts).
//
// Stop() stops the spouts, then lets every tuple already emitted be
// executed: each task, once all the tasks that feed it have finished and its
// queue is empty, runs Cleanup() and tells its own subscribers it finished.
// So Stop() drains the topology (what a spout emitted is processed).
//
// Metrics (options.metrics), per component, labels {topology, component}:
//   braid_topology_emitted_total          tuples emitted
//   braid_topology_executed_total         tuples executed (bolts; ticks not counted)
//   braid_topology_errors_total           errors reported or thrown
//   braid_topology_execute_seconds        processing latency of a tuple (histogram)
//   braid_topology_tuples_per_second      executed (bolts) or emitted (spouts) per
//                                         second over the last second
//   braid_topology_queue_depth            tuples waiting in the tasks' queues
//   braid_topology_queue_capacity         the bound of those queues
//
// Thread safety: Start/Stop from one thread; stats() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "braid/topology.h"
#include "metrics/metrics.h"

namespace braid::stream {

// Builds tuples (the runtime's access to braid::Tuple's representation).
class TupleAccess {
 public:
  static Tuple Make(std::vector<TupleValue> values, const TupleSource* source, int task) {
    Tuple t;
    t.values_ = std::move(values);
    t.source_ = source;
    t.source_task_ = task;
    return t;
  }
  static Tuple Tick(const TupleSource* source) {
    Tuple t;
    t.source_ = source;
    t.tick_ = true;
    return t;
  }
};

// Creates the spout task of a built-in record spout (the speed layer
// provides it: it owns the record source and the schema lookup).
using RecordSpoutFactory = std::function<Result<std::unique_ptr<Spout>>(
    const RecordSpoutSpec& spec, const std::string& topology, int task_index, int parallelism)>;

struct TopologyRunnerOptions {
  // Where the per-component metrics go; null: nowhere. Default: null.
  metrics::Registry* metrics = nullptr;
  // The queue bound of bolts that do not set one, in tuples. Default: 1024.
  size_t default_queue_capacity = 1024;
  // Tuples buffered per destination task before they are pushed (also
  // pushed at the end of every Execute/NextTuple). Default: 64.
  size_t emit_batch = 64;
  // Record spouts (ComponentSpec::records). Default: none (a topology with a
  // record spout fails to start).
  RecordSpoutFactory record_spout_factory;
  // TopologyContext::publish (topology, key, json). Default: discards.
  std::function<void(const std::string&, const std::string&, const std::string&)> publish;
};

struct ComponentStats {
  std::string component;
  bool spout = false;
  int parallelism = 1;
  uint64_t emitted = 0;
  uint64_t executed = 0;
  uint64_t errors = 0;
  double tuples_per_second = 0;  // executed (bolts) or emitted (spouts), last second
  uint64_t queue_depth = 0;
  uint64_t queue_capacity = 0;
  double mean_execute_seconds = 0;
};

class TopologyRunner {
 public:
  // Validates `spec` (see TopologySpec) and creates every task (calling the
  // factories). InvalidArgument naming the problem.
  static Result<std::unique_ptr<TopologyRunner>> Create(TopologySpec spec,
                                                        TopologyRunnerOptions options);
  ~TopologyRunner();  // Stop()s
  TopologyRunner(const TopologyRunner&) = delete;
  TopologyRunner& operator=(const TopologyRunner&) = delete;

  const std::string& name() const;
  // Opens/prepares every task and starts the threads. Once.
  Status Start();
  // Stops the spouts and drains the topology (see the file comment), then
  // joins every thread. Idempotent.
  void Stop();

  std::vector<ComponentStats> stats() const;

  struct Impl;

 private:
  explicit TopologyRunner(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The hash a fields grouping uses for one value (stable within a process).
uint64_t HashValue(const TupleValue& v);

}  // namespace braid::stream
