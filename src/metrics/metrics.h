// Metrics in the Prometheus text exposition format (version 0.0.4).
//
// A Registry owns metric families; each family has a name, help text, a type
// and one child per distinct label set. Get*() returns a stable pointer that
// callers cache; incrementing it is a relaxed atomic operation (no lock).
// Collectors are callbacks run at scrape time for values that live elsewhere
// (e.g. per-partition log offsets).
//
// Thread safety: everything is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace braid::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// A histogram with fixed upper bounds (ascending; +Inf is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // The bucket an observation of `v` falls in (bounds().size() is +Inf).
  size_t BucketIndex(double v) const;
  // Adds observations bucketed by the caller (BucketIndex): counts[i] in
  // bucket i, for i < counts.size() <= bounds().size() + 1, whose values sum
  // to `sum`. For hot loops that observe into a local array and publish once
  // per batch.
  void AddBucketed(std::span<const uint64_t> counts, double sum);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds: 100 us .. 10 s.
std::vector<double> LatencyBuckets();

// Writes samples from a collector at scrape time.
class SampleWriter {
 public:
  // One gauge (or counter, per `type`) sample; HELP/TYPE lines are written
  // once per name.
  void Gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  void Counter(const std::string& name, const std::string& help, const Labels& labels,
               double value);

 private:
  friend class Registry;
  void Sample(const std::string& name, const std::string& help, const char* type,
              const Labels& labels, double value);
  std::map<std::string, std::pair<std::string, std::string>> families_;  // name -> (header, body)
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns the child of family `name` with `labels`, creating it. A name is
  // bound to its first type; asking for it with another type returns a
  // detached metric (counted nowhere) rather than failing.
  Counter* GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& bounds, const Labels& labels = {});

  void AddCollector(std::function<void(SampleWriter*)> collector);

  // The whole registry in Prometheus text format.
  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family* GetFamily(const std::string& name, const std::string& help, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(SampleWriter*)>> collectors_;
  std::vector<std::unique_ptr<Counter>> detached_counters_;
  std::vector<std::unique_ptr<Gauge>> detached_gauges_;
  std::vector<std::unique_ptr<Histogram>> detached_histograms_;
};

// Escapes a label value for the text format (\\, \", \n).
std::string EscapeLabelValue(const std::string& v);

}  // namespace braid::metrics
