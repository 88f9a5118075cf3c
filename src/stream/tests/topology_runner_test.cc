// The topology runtime: groupings, parallelism, bounded queues with
// backpressure, tick tuples, draining on stop, validation, errors, metrics.
#include "stream/topology_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace braid::stream {
namespace {

using namespace std::chrono_literals;

// Emits (word, n) for n in [0, count), then nothing.
class CountingSpout final : public Spout {
 public:
  CountingSpout(int count, int words) : count_(count), words_(words) {}
  std::vector<std::string> OutputFields() const override { return {"word", "n"}; }
  void NextTuple(OutputCollector* out) override {
    for (int i = 0; i < 100 && next_ < count_; ++i, ++next_) {
      std::string w = "w";
      w += std::to_string(next_ % words_);
      out->Emit({std::move(w), int64_t{next_}});
    }
  }

 private:
  const int count_;
  const int words_;
  int next_ = 0;
};

// Shared record of what every task saw.
struct Seen {
  std::mutex mu;
  std::map<int, std::vector<std::string>> words_by_task;  // task → words
  std::map<int, int64_t> sum_by_task;
  std::atomic<int> ticks{0};
  std::atomic<int> executed{0};
  std::set<std::thread::id> threads;
};

class RecordingBolt final : public Bolt {
 public:
  explicit RecordingBolt(Seen* seen, std::chrono::microseconds delay = 0us)
      : seen_(seen), delay_(delay) {}
  void Prepare(const TopologyContext& c) override { task_ = c.task_index; }
  void Execute(const Tuple& t, OutputCollector* out) override {
    if (t.is_tick()) {
      ++seen_->ticks;
      return;
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::lock_guard<std::mutex> lock(seen_->mu);
    seen_->words_by_task[task_].push_back(std::string(t.GetString(0)));
    seen_->sum_by_task[task_] += t.GetInt(1);
    seen_->threads.insert(std::this_thread::get_id());
    ++seen_->executed;
  }

 private:
  Seen* seen_;
  std::chrono::microseconds delay_;
  int task_ = 0;
};

Result<std::unique_ptr<TopologyRunner>> StartTopology(TopologySpec spec,
                                                      metrics::Registry* m = nullptr) {
  TopologyRunnerOptions o;
  o.metrics = m;
  ASSIGN_OR_RETURN(auto r, TopologyRunner::Create(std::move(spec), o));
  RETURN_IF_ERROR(r->Start());
  return r;
}

void WaitFor(const std::function<bool()>& f, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!f() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
}

TEST(TopologyRunnerTest, FieldsGroupingSendsEqualValuesToOneTask) {
  Seen seen;
  TopologyBuilder b("t");
  b.SetSpout(
      "s", [] { return std::make_unique<CountingSpout>(5000, 37); }, 2);
  b.SetBolt(
       "b", [&] { return std::make_unique<RecordingBolt>(&seen); }, 4)
      .FieldsGrouping("s", {"word"});
  auto r = StartTopology(std::move(b).Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  WaitFor([&] { return seen.executed.load() == 10000; });
  (*r)->Stop();
  EXPECT_EQ(seen.executed.load(), 10000);
  std::map<std::string, std::set<int>> tasks_of;
  for (const auto& [task, words] : seen.words_by_task) {
    for (const auto& w : words) tasks_of[w].insert(task);
  }
  EXPECT_EQ(tasks_of.size(), 37u);
  for (const auto& [w, tasks] : tasks_of) EXPECT_EQ(tasks.size(), 1u) << w;
  EXPECT_GE(seen.words_by_task.size(), 2u);  // spread over tasks
  EXPECT_EQ(seen.threads.size(), seen.words_by_task.size());
}

TEST(TopologyRunnerTest, ShuffleGlobalAndAllGroupings) {
  Seen shuffle, global, all;
  TopologyBuilder b("t");
  b.SetSpout("s", [] { return std::make_unique<CountingSpout>(3000, 10); });
  b.SetBolt(
       "shuffle", [&] { return std::make_unique<RecordingBolt>(&shuffle); }, 3)
      .ShuffleGrouping("s");
  b.SetBolt(
       "global", [&] { return std::make_unique<RecordingBolt>(&global); }, 3)
      .GlobalGrouping("s");
  b.SetBolt(
       "all", [&] { return std::make_unique<RecordingBolt>(&all); }, 3)
      .AllGrouping("s");
  auto r = StartTopology(std::move(b).Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  WaitFor(
      [&] { return shuffle.executed == 3000 && global.executed == 3000 && all.executed == 9000; });
  (*r)->Stop();
  EXPECT_EQ(shuffle.executed.load(), 3000);
  ASSERT_EQ(shuffle.words_by_task.size(), 3u);
  for (const auto& [task, words] : shuffle.words_by_task) EXPECT_EQ(words.size(), 1000u);
  EXPECT_EQ(global.executed.load(), 3000);
  ASSERT_EQ(global.words_by_task.size(), 1u);
  EXPECT_EQ(global.words_by_task.begin()->first, 0);
  EXPECT_EQ(all.executed.load(), 9000);
  ASSERT_EQ(all.words_by_task.size(), 3u);
  const int64_t total = int64_t{2999} * 3000 / 2;
  for (const auto& [task, sum] : all.sum_by_task) EXPECT_EQ(sum, total);
}

// A spout that emits as fast as it can, counting what it emitted.
class FloodSpout final : public Spout {
 public:
  explicit FloodSpout(std::atomic<int64_t>* emitted) : emitted_(emitted) {}
  std::vector<std::string> OutputFields() const override { return {"word", "n"}; }
  void NextTuple(OutputCollector* out) override {
    out->Emit({"x", int64_t{1}});
    ++*emitted_;
  }

 private:
  std::atomic<int64_t>* emitted_;
};

TEST(TopologyRunnerTest, BoundedQueueHoldsTheSpoutBack) {
  std::atomic<int64_t> emitted{0};
  Seen seen;
  TopologyBuilder b("t");
  b.SetSpout("s", [&] { return std::make_unique<FloodSpout>(&emitted); });
  b.SetBolt("slow", [&] { return std::make_unique<RecordingBolt>(&seen, 1000us); })
      .ShuffleGrouping("s")
      .QueueCapacity(8);
  TopologyRunnerOptions o;
  o.emit_batch = 1;
  auto r = TopologyRunner::Create(std::move(b).Build(), o);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)->Start().ok());
  std::this_thread::sleep_for(300ms);
  const auto stats = (*r)->stats();
  // The spout is at most the queue bound (plus the tuple in execution and
  // the one blocked in Emit) ahead of the bolt.
  EXPECT_LE(emitted.load() - seen.executed.load(), 8 + 2);
  EXPECT_LE(stats[1].queue_depth, 8u);
  EXPECT_EQ(stats[1].queue_capacity, 8u);
  (*r)->Stop();
  // Stop drains: every emitted tuple was executed.
  EXPECT_EQ(seen.executed.load(), emitted.load());
}

TEST(TopologyRunnerTest, TickTuplesArriveAtTheInterval) {
  Seen seen;
  TopologyBuilder b("t");
  b.SetSpout("s", [] { return std::make_unique<CountingSpout>(0, 1); });
  b.SetBolt(
       "b", [&] { return std::make_unique<RecordingBolt>(&seen); }, 2)
      .ShuffleGrouping("s")
      .TickInterval(20ms);
  auto r = StartTopology(std::move(b).Build());
  ASSERT_TRUE(r.ok());
  std::this_thread::sleep_for(330ms);
  (*r)->Stop();
  // Two tasks, ~16 ticks each; generous bounds for a loaded machine.
  EXPECT_GE(seen.ticks.load(), 10);
  EXPECT_LE(seen.ticks.load(), 2 * 330 / 20 + 4);
}

// Forwards tuples with their word, for chains.
class ForwardBolt final : public Bolt {
 public:
  std::vector<std::string> OutputFields() const override { return {"word", "n"}; }
  void Execute(const Tuple& t, OutputCollector* out) override {
    out->Emit({std::string(t.GetString(0)), t.GetInt(1) * 2});
  }
};

TEST(TopologyRunnerTest, StopDrainsAChainInOrderOfComponents) {
  Seen seen;
  TopologyBuilder b("t");
  b.SetSpout(
      "s", [] { return std::make_unique<CountingSpout>(20000, 5); }, 2);
  b.SetBolt(
       "f", [] { return std::make_unique<ForwardBolt>(); }, 3)
      .ShuffleGrouping("s");
  b.SetBolt(
       "sink", [&] { return std::make_unique<RecordingBolt>(&seen); }, 2)
      .FieldsGrouping("f", {"word"})
      .QueueCapacity(4);
  auto r = StartTopology(std::move(b).Build());
  ASSERT_TRUE(r.ok());
  std::this_thread::sleep_for(5ms);
  (*r)->Stop();  // may stop the spouts early; whatever they emitted is executed
  int64_t sum = 0;
  for (const auto& [t, s] : seen.sum_by_task) sum += s;
  const auto stats = (*r)->stats();
  EXPECT_EQ(stats[0].emitted, stats[1].executed);
  EXPECT_EQ(stats[1].emitted, stats[2].executed);
  EXPECT_EQ(static_cast<uint64_t>(seen.executed.load()), stats[2].executed);
  EXPECT_EQ(sum % 2, 0);
}

TEST(TopologyRunnerTest, RejectsBadTopologies) {
  auto make = [](auto f) {
    TopologyBuilder b("bad");
    f(b);
    return TopologyRunner::Create(std::move(b).Build(), {}).status();
  };
  auto spout = [] { return std::make_unique<CountingSpout>(1, 1); };
  auto bolt = [] { return std::make_unique<ForwardBolt>(); };
  EXPECT_EQ(make([&](TopologyBuilder& b) {
              b.SetSpout("s", spout);
              b.SetBolt("a", bolt).ShuffleGrouping("b");
              b.SetBolt("b", bolt).ShuffleGrouping("a");
            }).code(),
            StatusCode::kInvalidArgument);  // cycle
  EXPECT_EQ(make([&](TopologyBuilder& b) {
              b.SetSpout("s", spout);
              b.SetBolt("a", bolt).ShuffleGrouping("nope");
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(make([&](TopologyBuilder& b) {
              b.SetSpout("s", spout);
              b.SetBolt("a", bolt).FieldsGrouping("s", {"nope"});
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(make([&](TopologyBuilder& b) {
              b.SetSpout("s", spout);
              b.SetSpout("s", spout);
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(make([&](TopologyBuilder& b) { b.SetBolt("a", bolt); }).code(),
            StatusCode::kInvalidArgument);  // no inputs
  EXPECT_EQ(make([&](TopologyBuilder& b) { b.SetSpout("s", spout, 0); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(make([&](TopologyBuilder& b) { b.SetRecordSpout("r", {.topics = {"t"}}); }).code(),
            StatusCode::kFailedPrecondition);  // no speed layer to provide records
}

class ThrowingBolt final : public Bolt {
 public:
  void Execute(const Tuple& t, OutputCollector* out) override {
    if (t.GetInt(1) % 2 == 0) throw std::runtime_error("even");
    out->ReportError("odd");
  }
};

TEST(TopologyRunnerTest, ErrorsAndExceptionsAreCountedAndMetricsExported) {
  metrics::Registry m;
  TopologyBuilder b("errs");
  b.SetSpout("s", [] { return std::make_unique<CountingSpout>(100, 3); });
  b.SetBolt("b", [] { return std::make_unique<ThrowingBolt>(); }).ShuffleGrouping("s");
  auto r = StartTopology(std::move(b).Build(), &m);
  ASSERT_TRUE(r.ok());
  WaitFor([&] { return (*r)->stats()[1].executed == 100u; });
  std::this_thread::sleep_for(1100ms);  // one rate period
  const std::string text = m.RenderPrometheus();
  (*r)->Stop();
  EXPECT_EQ((*r)->stats()[1].errors, 100u);
  EXPECT_NE(text.find("braid_topology_errors_total{topology=\"errs\",component=\"b\"} 100"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_topology_emitted_total{topology=\"errs\",component=\"s\"} 100"),
            std::string::npos);
  EXPECT_NE(text.find("braid_topology_queue_depth{topology=\"errs\",component=\"b\"}"),
            std::string::npos);
  EXPECT_NE(text.find("braid_topology_tuples_per_second{topology=\"errs\",component=\"b\"}"),
            std::string::npos);
  EXPECT_NE(
      text.find("braid_topology_execute_seconds_count{topology=\"errs\",component=\"b\"} 100"),
      std::string::npos);
}

TEST(TopologyRunnerTest, TupleAccessByFieldName) {
  TupleSource src{"c", {"a", "b"}};
  Tuple t = TupleAccess::Make({int64_t{5}, std::string("x")}, &src, 3);
  EXPECT_EQ(t.FieldIndex("b"), 1);
  EXPECT_EQ(t.FieldIndex("z"), -1);
  ASSERT_NE(t.Get("a"), nullptr);
  EXPECT_EQ(std::get<int64_t>(*t.Get("a")), 5);
  EXPECT_EQ(t.GetString(1), "x");
  EXPECT_EQ(t.GetString(0), "");
  EXPECT_EQ(t.GetInt(1, -1), -1);
  EXPECT_TRUE(t.IsNull(7));
  EXPECT_EQ(t.source_component(), "c");
  EXPECT_EQ(t.source_task(), 3);
  EXPECT_EQ(HashValue(TupleValue(std::string("k"))), HashValue(TupleValue(std::string("k"))));
}

}  // namespace
}  // namespace braid::stream
