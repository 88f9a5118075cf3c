#include "serving/api.h"

#include <charconv>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "views/time_bucket.h"

namespace braid::serving {

namespace {

using views::Granularity;

Status Bad(std::string_view what) { return Status::InvalidArgument(std::string(what)); }

// Parses exactly `n` digits at *p.
bool Digits(std::string_view s, size_t* p, size_t n, int64_t* out) {
  if (*p + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*p + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

// ISO-8601: YYYY-MM-DD[THH:MM[:SS[.fff...]]][Z|+00:00|-00:00]; UTC only.
Result<int64_t> ParseIso(std::string_view name, std::string_view s) {
  auto bad = [&] {
    return Bad(std::string(name) + ": '" + std::string(s.substr(0, 64)) +
               "' is neither epoch milliseconds nor ISO-8601 UTC (2024-02-29T13:00:00Z)");
  };
  size_t p = 0;
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (!Digits(s, &p, 4, &y) || p >= s.size() || s[p++] != '-' || !Digits(s, &p, 2, &mo) ||
      p >= s.size() || s[p++] != '-' || !Digits(s, &p, 2, &d)) {
    return bad();
  }
  if (p < s.size() && (s[p] == 'T' || s[p] == ' ')) {
    ++p;
    if (!Digits(s, &p, 2, &h) || p >= s.size() || s[p++] != ':' || !Digits(s, &p, 2, &mi)) {
      return bad();
    }
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, &p, 2, &sec)) return bad();
      if (p < s.size() && s[p] == '.') {
        ++p;
        int64_t scale = 100;
        size_t digits = 0;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          if (scale > 0) ms += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
          ++digits;
        }
        if (digits == 0) return bad();
      }
    }
  }
  if (p < s.size()) {
    const std::string_view zone = s.substr(p);
    if (zone != "Z" && zone != "+00:00" && zone != "-00:00" && zone != "+0000") {
      return Bad(std::string(name) + ": only UTC times are accepted (Z or +00:00)");
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  const int64_t days = views::DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  // Reject days that roll over (2023-02-30).
  int64_t yy;
  unsigned mm, dd;
  views::CivilFromDays(days, &yy, &mm, &dd);
  if (yy != y || mm != mo || dd != d) return bad();
  return ((days * 24 + h) * 60 + mi) * 60'000 + sec * 1000 + ms;
}

std::string Quote(std::string_view s) { return http::JsonQuote(s); }

http::Response Error(const Status& s) { return http::Response::FromStatus(s); }

Result<std::optional<TimeRange>> RangeParams(const http::Request& req) {
  auto from = req.query.find("from");
  auto to = req.query.find("to");
  if (from == req.query.end() && to == req.query.end()) return std::optional<TimeRange>();
  if (from == req.query.end() || to == req.query.end()) {
    return Bad("give both from and to (or neither, for all time)");
  }
  TimeRange r;
  ASSIGN_OR_RETURN(r.from, ParseTime("from", from->second));
  ASSIGN_OR_RETURN(r.to, ParseTime("to", to->second));
  if (r.from >= r.to) return Bad("from must be before to");
  return std::optional<TimeRange>(r);
}

Result<std::string> Required(const http::Request& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end())
    return Bad(std::string("the query parameter '") + name + "' is required");
  return it->second;
}

// ,"from":..,"to":..,"rounded":.. of a value answer.
std::string RangeJson(const std::optional<RangePlan>& r) {
  if (!r) return ",\"from\":null,\"to\":null,\"rounded\":false";
  return ",\"from\":" + std::to_string(r->from) + ",\"to\":" + std::to_string(r->to) +
         ",\"rounded\":" + (r->rounded ? "true" : "false");
}

Result<std::string> ValueJson(const views::ViewDefinition& v, std::string_view encoded) {
  return v.monoid().ToJson(encoded);
}

std::string ViewJson(const views::ViewDefinition& v) {
  std::string g;
  for (Granularity x : v.granularities()) {
    g += (g.empty() ? "" : ",") + Quote(views::GranularityName(x));
  }
  return "{\"name\":" + Quote(v.name()) + ",\"topic\":" + Quote(v.topic()) +
         ",\"monoid\":" + Quote(v.monoid().spec()) + ",\"granularities\":[" + g + "]";
}

http::Response ValueRoute(QueryEngine* q, const std::string& view, const http::Request& req) {
  auto key = Required(req, "key");
  if (!key.ok()) return Error(key.status());
  auto range = RangeParams(req);
  if (!range.ok()) return Error(range.status());
  auto a = q->Value(view, *key, *range);
  if (!a.ok()) return Error(a.status());
  auto value = ValueJson(*a->view, a->value);
  if (!value.ok()) return Error(value.status());
  return http::Response::Json(200, "{\"view\":" + Quote(view) + ",\"key\":" + Quote(a->key) +
                                       ",\"value\":" + *value + RangeJson(a->range) +
                                       ",\"cell_reads\":" + std::to_string(a->cell_reads) +
                                       ",\"coverage\":" + a->coverage.ToJson() + "}");
}

http::Response SeriesRoute(QueryEngine* q, const std::string& view, const http::Request& req) {
  auto key = Required(req, "key");
  if (!key.ok()) return Error(key.status());
  auto gname = Required(req, "granularity");
  if (!gname.ok()) return Error(gname.status());
  auto g = views::ParseGranularity(*gname);
  if (!g.ok()) return Error(g.status());
  auto range = RangeParams(req);
  if (!range.ok()) return Error(range.status());
  if (!range->has_value()) return Error(Bad("a series needs from and to"));
  auto a = q->Series(view, *key, *g, **range);
  if (!a.ok()) return Error(a.status());
  std::string body = "{\"view\":" + Quote(view) + ",\"key\":" + Quote(a->key) +
                     ",\"granularity\":" + Quote(views::GranularityName(a->granularity)) +
                     ",\"from\":" + std::to_string(a->from) + ",\"to\":" + std::to_string(a->to) +
                     ",\"rounded\":" + (a->rounded ? "true" : "false") + ",\"buckets\":[";
  body.reserve(body.size() + a->buckets.size() * 32);
  for (size_t i = 0; i < a->buckets.size(); ++i) {
    auto value = ValueJson(*a->view, a->buckets[i].second);
    if (!value.ok()) return Error(value.status());
    if (i > 0) body += ",";
    body += "{\"start\":" + std::to_string(a->buckets[i].first) + ",\"value\":" + *value + "}";
  }
  body += "],\"coverage\":" + a->coverage.ToJson() + "}";
  return http::Response::Json(200, std::move(body));
}

http::Response ValuesRoute(QueryEngine* q, const std::string& view, const http::Request& req) {
  const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error(Bad("the body must be a JSON object"));
  auto keys_it = j.find("keys");
  if (keys_it == j.end() || !keys_it->is_array()) {
    return Error(Bad("\"keys\" (an array of strings) is required"));
  }
  if (keys_it->size() > q->limits().max_keys) {
    return Error(Bad("at most " + std::to_string(q->limits().max_keys) + " keys per request"));
  }
  std::vector<std::string> keys;
  keys.reserve(keys_it->size());
  for (const auto& k : *keys_it) {
    if (!k.is_string()) return Error(Bad("every key must be a string"));
    keys.push_back(k.get<std::string>());
  }
  std::optional<TimeRange> range;
  auto from = j.find("from");
  auto to = j.find("to");
  if ((from == j.end()) != (to == j.end())) {
    return Error(Bad("give both from and to (or neither, for all time)"));
  }
  if (from != j.end()) {
    auto time = [](const char* name, const nlohmann::json& v) -> Result<int64_t> {
      if (v.is_number_integer()) return v.get<int64_t>();
      if (v.is_string()) return ParseTime(name, v.get<std::string>());
      return Bad(std::string(name) + " must be epoch milliseconds or an ISO-8601 string");
    };
    TimeRange r;
    auto f = time("from", *from);
    if (!f.ok()) return Error(f.status());
    auto t = time("to", *to);
    if (!t.ok()) return Error(t.status());
    r.from = *f;
    r.to = *t;
    if (r.from >= r.to) return Error(Bad("from must be before to"));
    range = r;
  }
  auto answers = q->Values(view, keys, range);
  if (!answers.ok()) return Error(answers.status());
  std::string body = "{\"view\":" + Quote(view) + ",\"values\":[";
  for (size_t i = 0; i < answers->size(); ++i) {
    const ValueAnswer& a = (*answers)[i];
    auto value = ValueJson(*a.view, a.value);
    if (!value.ok()) return Error(value.status());
    if (i > 0) body += ",";
    body += "{\"key\":" + Quote(a.key) + ",\"value\":" + *value + "}";
  }
  body += "]";
  if (!answers->empty()) {
    body +=
        RangeJson(answers->front().range) + ",\"coverage\":" + answers->front().coverage.ToJson();
  }
  return http::Response::Json(200, body + "}");
}

http::Response KeysRoute(QueryEngine* q, const std::string& view, const http::Request& req) {
  auto get = [&](const char* name) {
    auto it = req.query.find(name);
    return it == req.query.end() ? std::string() : it->second;
  };
  size_t limit = 100;
  if (auto l = req.query.find("limit"); l != req.query.end()) {
    const auto [end, ec] =
        std::from_chars(l->second.data(), l->second.data() + l->second.size(), limit);
    if (ec != std::errc() || end != l->second.data() + l->second.size()) {
      return Error(Bad("limit must be a positive integer"));
    }
  }
  auto a = q->Keys(view, get("prefix"), get("after"), limit);
  if (!a.ok()) return Error(a.status());
  std::string body = "{\"view\":" + Quote(view) + ",\"keys\":[";
  for (size_t i = 0; i < a->keys.size(); ++i) body += (i > 0 ? "," : "") + Quote(a->keys[i]);
  body += std::string("],\"more\":") + (a->more ? "true" : "false") +
          ",\"coverage\":" + a->coverage.ToJson() + "}";
  return http::Response::Json(200, std::move(body));
}

}  // namespace

Result<int64_t> ParseTime(std::string_view name, std::string_view text) {
  if (text.empty()) return Bad(std::string(name) + " is empty");
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && end == text.data() + text.size()) return v;
  if (ec == std::errc::result_out_of_range) return Bad(std::string(name) + " is out of range");
  return ParseIso(name, text);
}

http::Response HandleViews(QueryEngine* engine, SnapshotProvider* provider,
                           const http::Request& req) {
  constexpr std::string_view kRoot = "/v1/views";
  std::string_view rest = std::string_view(req.path).substr(kRoot.size());
  if (rest.empty() || rest == "/") {
    if (req.method != "GET") return http::Response::Error(405, "Method not allowed");
    std::string body = "{\"views\":[";
    bool first = true;
    for (const auto& v : provider->Views()) {
      auto s = provider->Open(v->name());
      body += (first ? "" : ",") + ViewJson(*v) +
              ",\"coverage\":" + (s.ok() ? s->coverage.ToJson() : "null") + "}";
      first = false;
    }
    return http::Response::Json(200, body + "]}");
  }
  // /{view}/{operation}; the view name is percent-decoded by the server.
  rest.remove_prefix(1);
  const size_t slash = rest.rfind('/');
  if (slash == std::string_view::npos || slash == 0) {
    return http::Response::Error(404, "expected /v1/views/{view}/value|series|values|keys");
  }
  const std::string view(rest.substr(0, slash));
  const std::string_view op = rest.substr(slash + 1);
  const bool get = req.method == "GET";
  if (op == "value" && get) return ValueRoute(engine, view, req);
  if (op == "series" && get) return SeriesRoute(engine, view, req);
  if (op == "keys" && get) return KeysRoute(engine, view, req);
  if (op == "values" && req.method == "POST") return ValuesRoute(engine, view, req);
  if (op == "value" || op == "series" || op == "keys" || op == "values") {
    return http::Response::Error(405, "Method not allowed");
  }
  return http::Response::Error(
      404, "unknown operation '" + std::string(op) + "' (value, series, values, keys)");
}

void RegisterViewRoutes(http::Server* server, QueryEngine* engine, SnapshotProvider* provider) {
  server->Route("*", "/v1/views", [engine, provider](const http::Request& req) {
    return HandleViews(engine, provider, req);
  });
}

}  // namespace braid::serving
