// A raw topology plugin: the rolling top-k of urls, Storm's
// RollingTopWords in braid's topology API (include/braid/topology.h), built
// against the public headers only.
//
//   pageviews (record spout: url, timestamp)
//     │ shuffle
//   normalize (2 tasks)   normalizes the url (braid::NormalizeUrl); drops
//     │ fields(url)       events that have none
//   count (2 tasks)       per url, the events of the last window by event
//     │ fields(url)       time, in one-second slots; on every tick it emits
//     │                   (url, count) for the urls that changed
//   rank (2 tasks)        the top k of its share of the urls
//     │ global
//   total (1 task)        merges the partial rankings, publishes
//                         {"window_s": W, "k": K, "top": [{"url": U, "count": N}, ...]}
//                         as "top" (GET /v1/speed/topologies/topk)
//
// Events older
// than the window (by their `timestamp`) are not counted, so reading the
// topic from its beginning is harmless. A raw topology is an in-memory
// approximation: the counts restart empty when braid restarts (and are rebuilt
// from the events still in the window).
//
// Settings (environment of the braid process): BRAID_TOPK_K (default 10),
// BRAID_TOPK_WINDOW_S (default 300), BRAID_TOPK_TOPIC (default "pageviews").
//
// Build (the repository builds it as build/<preset>/examples/topk/libbraid_topk.so):
//   g++ -std=c++20 -O2 -fPIC -shared -I<prefix>/include topk_topology.cc -o libbraid_topk.so
//   braid up --data DIR --plugin ./libbraid_topk.so
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "braid/plugin.h"
#include "braid/topology.h"
#include "braid/url.h"

namespace {

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  return (end != nullptr && *end == '\0' && n > 0) ? n : def;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

using Ranking = std::vector<std::pair<std::string, int64_t>>;

// The k largest counts, ties by url.
Ranking TopK(const std::unordered_map<std::string, int64_t>& counts, size_t k) {
  Ranking r(counts.begin(), counts.end());
  auto better = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (r.size() > k) {
    std::partial_sort(r.begin(), r.begin() + static_cast<long>(k), r.end(), better);
    r.resize(k);
  } else {
    std::sort(r.begin(), r.end(), better);
  }
  return r;
}

class Normalize final : public braid::Bolt {
 public:
  std::vector<std::string> OutputFields() const override { return {"url", "timestamp"}; }
  void Execute(const braid::Tuple& t, braid::OutputCollector* out) override {
    if (url_index_ < 0) {
      url_index_ = t.FieldIndex("url");
      time_index_ = t.FieldIndex("timestamp");
    }
    std::optional<std::string> url = braid::NormalizeUrl(t.GetString(url_index_));
    if (!url) return;
    out->Emit({std::move(*url), t.GetInt(time_index_, NowMillis())});
  }

 private:
  int url_index_ = -1;
  int time_index_ = -1;
};

// Per url, the events of the window in one-second slots of event time.
class RollingCount final : public braid::Bolt {
 public:
  explicit RollingCount(int64_t window_ms) : window_ms_(window_ms) {}
  std::vector<std::string> OutputFields() const override { return {"url", "count"}; }

  void Execute(const braid::Tuple& t, braid::OutputCollector* out) override {
    const int64_t now = NowMillis();
    if (t.is_tick()) {
      Expire(now);
      for (const std::string& url : changed_) {
        auto it = totals_.find(url);
        out->Emit({url, it == totals_.end() ? int64_t{0} : it->second});
      }
      changed_.clear();
      return;
    }
    std::string url(t.GetString(0));
    const int64_t ts = t.GetInt(1, now);
    if (ts <= now - window_ms_) return;  // older than the window
    slots_[url][ts / 1000]++;
    totals_[url]++;
    changed_.push_back(std::move(url));
    if (changed_.size() > 4 * totals_.size() + 1024) Dedup();
  }

 private:
  void Expire(int64_t now) {
    const int64_t first_slot = (now - window_ms_) / 1000;
    for (auto it = slots_.begin(); it != slots_.end();) {
      auto& per_slot = it->second;
      int64_t dropped = 0;
      while (!per_slot.empty() && per_slot.begin()->first <= first_slot) {
        dropped += per_slot.begin()->second;
        per_slot.erase(per_slot.begin());
      }
      if (dropped > 0) {
        changed_.push_back(it->first);
        totals_[it->first] -= dropped;
      }
      if (per_slot.empty()) {
        totals_.erase(it->first);
        it = slots_.erase(it);
      } else {
        ++it;
      }
    }
    Dedup();
  }
  void Dedup() {
    std::sort(changed_.begin(), changed_.end());
    changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  }

  const int64_t window_ms_;
  std::unordered_map<std::string, std::map<int64_t, int64_t>> slots_;
  std::unordered_map<std::string, int64_t> totals_;
  std::vector<std::string> changed_;
};

// The top k of the urls this task sees (a fields grouping gives each url
// to one task); emits its ranking on every tick.
class IntermediateRanking final : public braid::Bolt {
 public:
  explicit IntermediateRanking(size_t k) : k_(k) {}
  std::vector<std::string> OutputFields() const override { return {"task", "ranking"}; }
  void Prepare(const braid::TopologyContext& c) override { task_ = c.task_index; }

  void Execute(const braid::Tuple& t, braid::OutputCollector* out) override {
    if (t.is_tick()) {
      // "url\tcount\n" lines: a plain value any bolt can read.
      std::string text;
      for (const auto& [url, n] : TopK(counts_, k_)) {
        text += url + "\t" + std::to_string(n) + "\n";
      }
      out->Emit({int64_t{task_}, std::move(text)});
      return;
    }
    const std::string url(t.GetString(0));
    const int64_t n = t.GetInt(1);
    if (n <= 0) {
      counts_.erase(url);
    } else {
      counts_[url] = n;
    }
  }

 private:
  const size_t k_;
  int task_ = 0;
  std::unordered_map<std::string, int64_t> counts_;
};

// Merges the partial rankings and publishes the total one.
class TotalRanking final : public braid::Bolt {
 public:
  TotalRanking(size_t k, int64_t window_s) : k_(k), window_s_(window_s) {}
  void Prepare(const braid::TopologyContext& c) override { publish_ = c.publish; }

  void Execute(const braid::Tuple& t, braid::OutputCollector*) override {
    if (t.is_tick()) {
      std::unordered_map<std::string, int64_t> all;
      for (const auto& [task, ranking] : partial_) {
        for (const auto& [url, n] : ranking) all[url] = n;
      }
      std::string json = "{\"window_s\":" + std::to_string(window_s_) +
                         ",\"k\":" + std::to_string(k_) + ",\"top\":[";
      bool first = true;
      for (const auto& [url, n] : TopK(all, k_)) {
        if (!first) json += ",";
        first = false;
        json += "{\"url\":" + JsonString(url) + ",\"count\":" + std::to_string(n) + "}";
      }
      publish_("top", json + "]}");
      return;
    }
    Ranking r;
    const std::string_view text = t.GetString(1);
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t tab = text.find('\t', pos);
      const size_t nl = text.find('\n', pos);
      if (tab == std::string_view::npos || nl == std::string_view::npos || tab > nl) break;
      r.emplace_back(
          std::string(text.substr(pos, tab - pos)),
          std::strtoll(std::string(text.substr(tab + 1, nl - tab - 1)).c_str(), nullptr, 10));
      pos = nl + 1;
    }
    partial_[t.GetInt(0)] = std::move(r);
  }

 private:
  const size_t k_;
  const int64_t window_s_;
  std::function<void(const std::string&, const std::string&)> publish_;
  std::map<int64_t, Ranking> partial_;
};

}  // namespace

BRAID_PLUGIN(registrar) {
  const auto k = static_cast<size_t>(EnvInt("BRAID_TOPK_K", 10));
  const int64_t window_s = EnvInt("BRAID_TOPK_WINDOW_S", 300);
  const char* topic = std::getenv("BRAID_TOPK_TOPIC");
  braid::TopologyBuilder b("topk");
  b.SetRecordSpout("pageviews", {.topics = {topic != nullptr && *topic ? topic : "pageviews"},
                                 .paths = {"url", "timestamp"},
                                 .from_beginning = true});
  b.SetBolt(
       "normalize", [] { return std::make_unique<Normalize>(); }, 2)
      .ShuffleGrouping("pageviews");
  b.SetBolt(
       "count", [window_s] { return std::make_unique<RollingCount>(window_s * 1000); }, 2)
      .FieldsGrouping("normalize", {"url"})
      .TickInterval(std::chrono::seconds(1));
  b.SetBolt(
       "rank", [k] { return std::make_unique<IntermediateRanking>(k); }, 2)
      .FieldsGrouping("count", {"url"})
      .TickInterval(std::chrono::seconds(1));
  b.SetBolt("total", [k, window_s] { return std::make_unique<TotalRanking>(k, window_s); })
      .GlobalGrouping("rank")
      .TickInterval(std::chrono::seconds(1));
  registrar->AddTopology(std::move(b).Build());
}
