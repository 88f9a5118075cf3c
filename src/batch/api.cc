#include "batch/api.h"

#include <charconv>
#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

#include "batch/streaming.h"
#include "views/cell_key.h"

namespace braid::batch {

using nlohmann::ordered_json;

MonoidResolver DefaultMonoidResolver() {
  // Monoids by spec, built once and kept (specs are few).
  struct Cache {
    std::mutex mu;
    std::map<std::string, std::shared_ptr<const views::Monoid>> by_spec;
  };
  static Cache* cache = new Cache();
  return [](const VersionManifest& m) -> const views::Monoid* {
    std::lock_guard<std::mutex> lock(cache->mu);
    auto it = cache->by_spec.find(m.monoid);
    if (it == cache->by_spec.end()) {
      auto monoid = views::MakeMonoid(m.monoid);
      it = cache->by_spec.emplace(m.monoid, monoid.ok() ? *monoid : nullptr).first;
    }
    return it->second.get();
  };
}

Result<int64_t> ParseTime(std::string_view s) {
  auto num = [&](size_t pos, size_t n, int64_t* out) {
    if (pos + n > s.size()) return false;
    const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, *out);
    return ec == std::errc() && end == s.data() + pos + n;
  };
  int64_t v = 0;
  {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size() &&
        s.find('-', 1) == std::string_view::npos) {
      return v;
    }
  }
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, ms = 0;
  auto bad = [&] {
    return Status::InvalidArgument("bad time \"" + std::string(s) +
                                   "\" (milliseconds, or ISO-8601 UTC like 2024-02-29T13:00:00Z)");
  };
  if (!num(0, 4, &y) || s.size() < 10 || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' ||
      !num(8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31) {
    return bad();
  }
  size_t p = 10;
  if (p < s.size() && (s[p] == 'T' || s[p] == ' ')) {
    if (!num(p + 1, 2, &h)) return bad();
    p += 3;
    if (p < s.size() && s[p] == ':') {
      if (!num(p + 1, 2, &mi)) return bad();
      p += 3;
      if (p < s.size() && s[p] == ':') {
        if (!num(p + 1, 2, &se)) return bad();
        p += 3;
        if (p < s.size() && s[p] == '.') {
          if (!num(p + 1, 3, &ms)) return bad();
          p += 4;
        }
      }
    }
  }
  if (p < s.size() && s[p] == 'Z') ++p;
  if (p != s.size() || h > 23 || mi > 59 || se > 60) return bad();
  const int64_t days = views::DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60'000 + se * 1000 + ms;
}

std::string FormatTime(int64_t ms) {
  if (ms == views::kAllTimeStart) return "all";
  int64_t days = ms >= 0 ? ms / 86'400'000 : -((-ms + 86'399'999) / 86'400'000);
  const int64_t rem = ms - days * 86'400'000;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  views::CivilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3'600'000),
                static_cast<long long>(rem / 60'000 % 60), static_cast<long long>(rem / 1000 % 60));
  std::string out = buf;
  if (rem % 1000 != 0) {
    std::snprintf(buf, sizeof(buf), ".%03lld", static_cast<long long>(rem % 1000));
    out += buf;
  }
  return out + "Z";
}

std::string JobStatusJson(const JobStatus& s) {
  ordered_json j;
  j["job"] = s.job;
  j["phase"] = s.phase;
  j["elapsed_s"] = s.elapsed_s;
  j["splits_total"] = s.splits_total;
  j["splits_done"] = s.splits_done;
  j["input_bytes_total"] = s.input_bytes_total;
  j["input_bytes_done"] = s.input_bytes_done;
  j["records_read"] = s.records_read;
  j["records_per_s"] = s.records_per_s;
  j["map_output_records"] = s.map_output_records;
  j["runs"] = s.runs;
  j["spill_files"] = s.spill_files;
  j["spilled_bytes"] = s.spilled_bytes;
  j["reduce_tasks"] = s.reduce_tasks;
  j["reduce_tasks_done"] = s.reduce_tasks_done;
  j["output_records"] = s.output_records;
  j["peak_memory_bytes"] = s.peak_memory_bytes;
  j["eta_s"] = s.eta_s;
  j["counters"] = ordered_json::object();
  for (const auto& [k, v] : s.counters) j["counters"][k] = v;
  if (!s.error.empty()) j["error"] = s.error;
  return j.dump();
}

namespace {

Result<uint64_t> ParseU64(const std::string& s, const char* what) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Status::InvalidArgument(std::string("bad ") + what + " \"" + s + "\"");
  }
  return v;
}

std::string Param(const std::map<std::string, std::string>& q, const char* k) {
  auto it = q.find(k);
  return it == q.end() ? std::string() : it->second;
}

ordered_json CellJson(const views::CellKey& ck, std::string_view value, const views::Monoid* m) {
  ordered_json c;
  c["key"] = ck.key;
  c["granularity"] = std::string(views::GranularityName(ck.granularity));
  c["bucket_start"] = ck.bucket_start;
  c["bucket"] = FormatTime(ck.bucket_start);
  c["value"] = nullptr;
  if (m != nullptr) {
    auto j = m->ToJson(value);
    if (j.ok()) {
      auto parsed = ordered_json::parse(*j, nullptr, false);
      if (!parsed.is_discarded()) c["value"] = parsed;
    }
  }
  c["value_base64"] = Base64Encode(value);
  return c;
}

Result<std::shared_ptr<const ViewVersion>> OpenFor(BatchLayer* layer, const std::string& view,
                                                   const std::map<std::string, std::string>& q) {
  const std::string v = Param(q, "version");
  if (v.empty()) return layer->OpenLive(view);
  ASSIGN_OR_RETURN(uint64_t n, ParseU64(v, "version"));
  return layer->store()->OpenVersion(view, n);
}

}  // namespace

Result<std::string> BatchApi::StatusJson() const {
  const BatchStatus s = layer->status();
  ordered_json j;
  j["running"] = s.running;
  if (s.running) j["current"] = ordered_json::parse(JobStatusJson(s.current));
  j["runs"] = s.runs;
  j["failed_runs"] = s.failed_runs;
  j["last_run_ms"] = s.last_run_ms;
  j["last_error"] = s.last_error;
  j["last_jobs"] = ordered_json::array();
  for (const auto& job : s.last_jobs)
    j["last_jobs"].push_back(ordered_json::parse(JobStatusJson(job)));
  j["last_views"] = ordered_json::array();
  for (const auto& v : s.last_views) {
    j["last_views"].push_back({{"view", v.view},
                               {"version", v.version},
                               {"published", v.published},
                               {"cells", v.manifest.cells}});
  }
  ASSIGN_OR_RETURN(std::string views, Views());
  j["views"] = ordered_json::parse(views)["views"];
  return j.dump();
}

Result<std::string> BatchApi::Views() const {
  ordered_json j;
  j["views"] = ordered_json::array();
  ASSIGN_OR_RETURN(auto names, layer->store()->ListViews());
  for (const std::string& v : names) {
    ordered_json e;
    e["view"] = v;
    auto live = layer->store()->Live(v);
    e["live"] = live.ok() ? ordered_json(*live) : ordered_json(nullptr);
    auto versions = layer->store()->Versions(v);
    e["versions"] = versions.ok() ? versions->size() : 0;
    if (versions.ok()) {
      for (const VersionInfo& info : *versions) {
        if (!info.live) continue;
        e["cells"] = info.manifest.cells;
        e["cut"] = ordered_json::parse(VersionManifestJson(info.manifest))["cuts"];
        e["created_ms"] = info.manifest.created_ms;
      }
    }
    j["views"].push_back(e);
  }
  return j.dump();
}

Result<std::string> BatchApi::Versions(const std::string& view) const {
  RETURN_IF_ERROR(CheckViewName(view));
  ASSIGN_OR_RETURN(auto versions, layer->store()->Versions(view));
  if (versions.empty()) return Status::NotFound("view " + view + " has no batch version");
  ordered_json j;
  j["view"] = view;
  j["versions"] = ordered_json::array();
  for (const VersionInfo& v : versions) {
    ordered_json m = ordered_json::parse(VersionManifestJson(v.manifest));
    m["live"] = v.live;
    j["versions"].push_back(m);
  }
  return j.dump();
}

Result<std::string> BatchApi::Get(const std::string& view,
                                  const std::map<std::string, std::string>& q) const {
  RETURN_IF_ERROR(CheckViewName(view));
  if (!q.count("key")) return Status::InvalidArgument("\"key\" is required");
  const std::string g_name = Param(q, "granularity").empty() ? "all" : Param(q, "granularity");
  ASSIGN_OR_RETURN(views::Granularity g, views::ParseGranularity(g_name));
  int64_t t = 0;
  if (g != views::Granularity::kAll) {
    if (Param(q, "time").empty()) return Status::InvalidArgument("\"time\" is required");
    ASSIGN_OR_RETURN(t, ParseTime(Param(q, "time")));
  }
  ASSIGN_OR_RETURN(auto h, OpenFor(layer, view, q));
  views::CellKey ck{Param(q, "key"), g, views::BucketStart(g, t)};
  ASSIGN_OR_RETURN(auto value,
                   h->Get(views::EncodeCellKey(ck.key, ck.granularity, ck.bucket_start)));
  ordered_json j;
  j["view"] = view;
  j["version"] = h->version();
  j["found"] = value.has_value();
  j["cell"] = value ? CellJson(ck, *value, monoids(h->manifest())) : CellJson(ck, "", nullptr);
  if (!value) j["cell"]["value_base64"] = nullptr;
  return j.dump();
}

Result<std::string> BatchApi::Scan(const std::string& view,
                                   const std::map<std::string, std::string>& q) const {
  RETURN_IF_ERROR(CheckViewName(view));
  uint64_t limit = 100;
  if (!Param(q, "limit").empty()) {
    ASSIGN_OR_RETURN(limit, ParseU64(Param(q, "limit"), "limit"));
    if (limit == 0 || limit > 100'000)
      return Status::InvalidArgument("limit must be in [1, 100000]");
  }
  std::optional<views::Granularity> g;
  if (!Param(q, "granularity").empty()) {
    ASSIGN_OR_RETURN(g, views::ParseGranularity(Param(q, "granularity")));
  }
  std::optional<int64_t> from, to;
  if (!Param(q, "from").empty()) {
    ASSIGN_OR_RETURN(from, ParseTime(Param(q, "from")));
  }
  if (!Param(q, "to").empty()) {
    ASSIGN_OR_RETURN(to, ParseTime(Param(q, "to")));
  }
  const std::string prefix = Param(q, "prefix");
  ASSIGN_OR_RETURN(auto h, OpenFor(layer, view, q));
  const views::Monoid* m = monoids(h->manifest());
  ordered_json j;
  j["view"] = view;
  j["version"] = h->version();
  j["cells"] = ordered_json::array();
  bool more = false;
  // A key prefix is a byte prefix of the escaped view key; the scan starts
  // there and filters each cell.
  const std::string start =
      views::CellKeyPrefix(prefix).substr(0, views::CellKeyPrefix(prefix).size() - 2);
  Status inner;
  RETURN_IF_ERROR(h->ScanPrefix(start, 0, [&](std::string_view k, std::string_view v) {
    auto ck = views::DecodeCellKey(k);
    if (!ck.ok()) {
      inner = ck.status();
      return false;
    }
    if (g && ck->granularity != *g) return true;
    if (from && ck->bucket_start < *from) return true;
    if (to && ck->bucket_start >= *to) return true;
    if (j["cells"].size() >= limit) {
      more = true;
      return false;
    }
    j["cells"].push_back(CellJson(*ck, v, m));
    return true;
  }));
  RETURN_IF_ERROR(inner);
  j["more"] = more;
  return j.dump();
}

Result<std::string> BatchApi::Rollback(const std::string& view) const {
  RETURN_IF_ERROR(CheckViewName(view));
  ASSIGN_OR_RETURN(uint64_t v, layer->Rollback(view));
  return ordered_json({{"view", view}, {"live", v}}).dump();
}

Result<std::string> BatchApi::Swap(const std::string& view, uint64_t version) const {
  RETURN_IF_ERROR(CheckViewName(view));
  RETURN_IF_ERROR(layer->Swap(view, version));
  return ordered_json({{"view", view}, {"live", version}}).dump();
}

Result<std::string> BatchApi::Handle(const std::string& method, const std::string& path,
                                     const std::map<std::string, std::string>& query) const {
  if (path == "/v1/batch/status" && method == "GET") return StatusJson();
  if (path == "/v1/batch/views" && method == "GET") return Views();
  const std::string prefix = "/v1/batch/views/";
  if (path.rfind(prefix, 0) == 0) {
    const std::string rest = path.substr(prefix.size());
    const size_t slash = rest.find('/');
    const std::string view = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (method == "GET" && action == "versions") return Versions(view);
    if (method == "GET" && action == "get") return Get(view, query);
    if (method == "GET" && action == "scan") return Scan(view, query);
    if (method == "POST" && action == "rollback") return Rollback(view);
    if (method == "POST" && action == "swap") {
      ASSIGN_OR_RETURN(uint64_t v, ParseU64(Param(query, "version"), "version"));
      return Swap(view, v);
    }
  }
  return Status::NotFound("no batch API route " + method + " " + path);
}

}  // namespace braid::batch
