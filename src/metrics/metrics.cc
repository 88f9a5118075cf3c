#include "metrics/metrics.h"

#include <cmath>
#include <cstdio>

namespace braid::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

size_t Histogram::BucketIndex(double v) const {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  return i;
}

void Histogram::AddBucketed(std::span<const uint64_t> counts, double sum) {
  uint64_t n = 0;
  for (size_t i = 0; i < counts.size() && i <= bounds_.size(); ++i) {
    if (counts[i] == 0) continue;
    counts_[i].fetch_add(counts[i], std::memory_order_relaxed);
    n += counts[i];
  }
  if (n == 0) return;
  count_.fetch_add(n, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + sum, std::memory_order_relaxed)) {
  }
}

void Histogram::Observe(double v) {
  const size_t i = BucketIndex(v);
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string FormatLabels(const Labels& labels, const char* extra_key = nullptr,
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_key == nullptr) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (extra_key != nullptr) {
    if (!first) out += ",";
    out += std::string(extra_key) + "=\"" + extra_value + "\"";
  }
  out += "}";
  return out;
}

}  // namespace

void SampleWriter::Sample(const std::string& name, const std::string& help, const char* type,
                          const Labels& labels, double value) {
  auto& fam = families_[name];
  if (fam.first.empty()) {
    fam.first = "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  fam.second += name + FormatLabels(labels) + " " + FormatValue(value) + "\n";
}

void SampleWriter::Gauge(const std::string& name, const std::string& help, const Labels& labels,
                         double value) {
  Sample(name, help, "gauge", labels, value);
}

void SampleWriter::Counter(const std::string& name, const std::string& help, const Labels& labels,
                           double value) {
  Sample(name, help, "counter", labels, value);
}

Registry::Family* Registry::GetFamily(const std::string& name, const std::string& help, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, Family{type, help, {}, {}, {}}).first;
  }
  return it->second.type == type ? &it->second : nullptr;
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = GetFamily(name, help, Type::kCounter);
  if (f == nullptr) return detached_counters_.emplace_back(std::make_unique<Counter>()).get();
  auto& slot = f->counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = GetFamily(name, help, Type::kGauge);
  if (f == nullptr) return detached_gauges_.emplace_back(std::make_unique<Gauge>()).get();
  auto& slot = f->gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = GetFamily(name, help, Type::kHistogram);
  if (f == nullptr) {
    return detached_histograms_.emplace_back(std::make_unique<Histogram>(bounds)).get();
  }
  auto& slot = f->histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return slot.get();
}

void Registry::AddCollector(std::function<void(SampleWriter*)> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::RenderPrometheus() const {
  std::vector<std::function<void(SampleWriter*)>> collectors;
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
    for (const auto& [name, f] : families_) {
      const char* type = f.type == Type::kCounter ? "counter"
                         : f.type == Type::kGauge ? "gauge"
                                                  : "histogram";
      out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
      for (const auto& [labels, c] : f.counters) {
        out +=
            name + FormatLabels(labels) + " " + FormatValue(static_cast<double>(c->Value())) + "\n";
      }
      for (const auto& [labels, g] : f.gauges) {
        out +=
            name + FormatLabels(labels) + " " + FormatValue(static_cast<double>(g->Value())) + "\n";
      }
      for (const auto& [labels, h] : f.histograms) {
        uint64_t cum = 0;
        for (size_t i = 0; i <= h->bounds().size(); ++i) {
          cum += h->BucketCount(i);
          std::string le = i < h->bounds().size() ? FormatValue(h->bounds()[i]) : "+Inf";
          out += name + "_bucket" + FormatLabels(labels, "le", le) + " " +
                 FormatValue(static_cast<double>(cum)) + "\n";
        }
        out += name + "_sum" + FormatLabels(labels) + " " + FormatValue(h->Sum()) + "\n";
        out += name + "_count" + FormatLabels(labels) + " " +
               FormatValue(static_cast<double>(h->Count())) + "\n";
      }
    }
  }
  // Collectors run without the lock (they may take their own locks).
  SampleWriter writer;
  for (const auto& c : collectors) c(&writer);
  for (const auto& [name, fam] : writer.families_) out += fam.first + fam.second;
  return out;
}

}  // namespace braid::metrics
