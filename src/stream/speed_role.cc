#include "stream/speed_role.h"

#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/file_system.h"
#include "registry/rest_client.h"
#include "registry/service.h"
#include "views/cell_key.h"

namespace braid::stream {

namespace {

nlohmann::ordered_json CutJson(const log::Cut& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [p, o] : c.offsets) j[std::to_string(p.value())] = o.value();
  return j;
}

Result<log::Cut> CutFromJsonValue(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a cut must be {\"partition\": offset, ...}");
  log::Cut c;
  for (const auto& [k, v] : j.items()) {
    int32_t p = -1;
    const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), p);
    if (ec != std::errc() || end != k.data() + k.size() || p < 0) {
      return Status::InvalidArgument("bad partition \"" + k + "\" in the cut");
    }
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      return Status::InvalidArgument("the cut offset of partition " + k +
                                     " must be a non-negative integer");
    }
    c.offsets[PartitionId(p)] = Offset(v.get<int64_t>());
  }
  return c;
}

Result<int64_t> ParseInt(const std::map<std::string, std::string>& q, const std::string& name,
                         int64_t def) {
  auto it = q.find(name);
  if (it == q.end()) return def;
  int64_t v = 0;
  const auto [end, ec] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || end != it->second.data() + it->second.size()) {
    return Status::InvalidArgument("\"" + name + "\" must be an integer");
  }
  return v;
}

// RFC 4648 base64 with padding (the batch API's "value_base64" has the same
// form, so realtime and batch cells compare byte for byte).
std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) |
                       (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

nlohmann::ordered_json AnswerJson(const std::string& view, const views::Monoid& monoid,
                                  const CellsAnswer& a) {
  nlohmann::ordered_json out;
  out["view"] = view;
  out["consumed"] = CutJson(a.consumed);
  out["generations"] = nlohmann::ordered_json::array();
  for (RealtimeGeneration g : a.generations) out["generations"].push_back(g.value());
  out["cells"] = nlohmann::ordered_json::array();
  for (const Cell& c : a.cells) {
    nlohmann::ordered_json cj;
    cj["key"] = c.key;
    cj["granularity"] = std::string(views::GranularityName(c.granularity));
    if (c.granularity == views::Granularity::kAll) {
      cj["bucket"] = nullptr;
    } else {
      cj["bucket"] = c.bucket_start;
    }
    auto v = monoid.ToJson(c.value);
    if (v.ok()) {
      cj["value"] = nlohmann::ordered_json::parse(*v, nullptr, false);
    } else {
      cj["value"] = nullptr;
      cj["error"] = v.status().ToString();
    }
    cj["value_base64"] = Base64(c.value);
    out["cells"].push_back(std::move(cj));
  }
  return out;
}

http::Response CellsRoute(SpeedLayer* s, const http::Request& req) {
  auto vit = req.query.find("view");
  if (vit == req.query.end()) return http::Response::Error(400, "\"view\" is required");
  auto view = s->FindView(vit->second);
  if (!view) return http::Response::Error(404, "no view named \"" + vit->second + "\"");
  log::Cut after;
  if (auto a = req.query.find("after"); a != req.query.end() && !a->second.empty()) {
    auto c = ParseCutJson(a->second);
    if (!c.ok()) return http::Response::FromStatus(c.status());
    after = *c;
  }
  auto limit = ParseInt(req.query, "limit", 100'000);
  if (!limit.ok() || *limit < 0) return http::Response::Error(400, "bad \"limit\"");
  Result<CellsAnswer> a = Status::OK();
  auto kit = req.query.find("key");
  if (kit == req.query.end()) {
    a = s->ReadRange(view->name(), "", "", after, static_cast<size_t>(*limit));
  } else if (auto git = req.query.find("granularity"); git == req.query.end()) {
    const std::string prefix = views::CellKeyPrefix(kit->second);
    std::string end = prefix;
    end.back() = '\x02';  // past the terminator 0x00 0x01 of this key only
    a = s->ReadRange(view->name(), prefix, end, after, static_cast<size_t>(*limit));
  } else {
    auto g = views::ParseGranularity(git->second);
    if (!g.ok()) return http::Response::FromStatus(g.status());
    auto from = ParseInt(req.query, "from", INT64_MIN);
    auto to = ParseInt(req.query, "to", INT64_MAX);
    if (!from.ok()) return http::Response::FromStatus(from.status());
    if (!to.ok()) return http::Response::FromStatus(to.status());
    a = s->ReadKey(view->name(), kit->second, *g, *from, *to, after);
  }
  if (!a.ok()) return http::Response::FromStatus(a.status());
  return http::Response::Json(200, AnswerJson(view->name(), view->monoid(), *a).dump());
}

}  // namespace

Result<log::Cut> ParseCutJson(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("a cut must be JSON");
  return CutFromJsonValue(j);
}

Status SpeedRole::Start(runtime::Runtime* rt) {
  SpeedLayerOptions so = options_.speed;
  const bool kafka_mode = !so.kafka.bootstrap.empty();
  if (so.dir.empty()) so.dir = io::JoinPath(rt->data_dir(), "realtime");
  if (!kafka_mode && so.log == nullptr) {
    ASSIGN_OR_RETURN(so.log, rt->GetLog());
  }
  if (so.metrics == nullptr) so.metrics = rt->metrics();
  if (!so.schemas) {
    if (auto* reg = rt->Find<registry::Registry>()) {
      so.schemas = [reg](SchemaId id) -> Result<avro::Schema> {
        auto r = reg->GetSchemaById(id);
        if (!r.ok()) return r.status();
        return (*r)->schema;
      };
    } else if (!options_.registry_url.empty()) {
      so.schemas = [url = options_.registry_url](SchemaId id) {
        return registry::FetchSchemaById(url, id);
      };
    } else if (!kafka_mode) {
      ASSIGN_OR_RETURN(own_registry_, registry::OpenRegistryOnLog(so.log));
      registry::Registry* reg = own_registry_.get();
      so.schemas = [reg](SchemaId id) -> Result<avro::Schema> {
        auto r = reg->GetSchemaById(id);
        if (!r.ok()) return r.status();
        return (*r)->schema;
      };
    }
  }
  ASSIGN_OR_RETURN(speed_, SpeedLayer::Open(std::move(so)));
  RETURN_IF_ERROR(speed_->Start());
  SpeedLayer* s = speed_.get();
  if (http::Server* http = rt->http()) {
    http->RouteBlocking("GET", "/v1/speed/status", [s](const http::Request&) {
      return http::Response::Json(200, s->StatusJson());
    });
    http->RouteBlocking("POST", "/v1/speed/seal", [s](const http::Request&) {
      auto sealed = s->Seal();
      if (!sealed.ok()) return http::Response::FromStatus(sealed.status());
      nlohmann::ordered_json out;
      out["generation"] = sealed->id.value();
      out["cuts"] = nlohmann::ordered_json::object();
      for (const auto& [v, c] : sealed->cuts) out["cuts"][v] = CutJson(c);
      out["topic_cuts"] = nlohmann::ordered_json::object();
      for (const auto& [t, c] : sealed->topic_cuts) out["topic_cuts"][t] = CutJson(c);
      return http::Response::Json(200, out.dump());
    });
    http->RouteBlocking("GET", "/v1/speed/generations", [s](const http::Request&) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const GenerationInfo& g : s->ListGenerations()) {
        nlohmann::ordered_json gj;
        gj["id"] = g.id.value();
        gj["sealed"] = g.sealed;
        gj["start"] = nlohmann::ordered_json::object();
        for (const auto& [v, c] : g.start) gj["start"][v] = CutJson(c);
        gj["end"] = nlohmann::ordered_json::object();
        for (const auto& [v, c] : g.end) gj["end"][v] = CutJson(c);
        out.push_back(std::move(gj));
      }
      return http::Response::Json(200, out.dump());
    });
    http->RouteBlocking("POST", "/v1/speed/drop", [s](const http::Request& req) {
      const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("view") || !j["view"].is_string() ||
          !j.contains("cut")) {
        return http::Response::Error(400, "the body must be {\"view\": V, \"cut\": {...}}");
      }
      auto cut = CutFromJsonValue(j["cut"]);
      if (!cut.ok()) return http::Response::FromStatus(cut.status());
      auto dropped = s->Drop(j["view"].get<std::string>(), *cut);
      if (!dropped.ok()) return http::Response::FromStatus(dropped.status());
      nlohmann::ordered_json out;
      out["dropped"] = nlohmann::ordered_json::array();
      for (RealtimeGeneration g : *dropped) out["dropped"].push_back(g.value());
      return http::Response::Json(200, out.dump());
    });
    http->RouteBlocking("GET", "/v1/speed/cells",
                        [s](const http::Request& req) { return CellsRoute(s, req); });
    http->RouteBlocking("GET", "/v1/speed/topologies/", [s](const http::Request& req) {
      const std::string name = req.path.substr(std::string("/v1/speed/topologies/").size());
      auto p = s->Published(name);
      if (!p.ok()) return http::Response::FromStatus(p.status());
      nlohmann::ordered_json out;
      out["topology"] = name;
      out["published"] = nlohmann::ordered_json::object();
      for (const auto& [k, v] : *p) {
        out["published"][k] = nlohmann::ordered_json::parse(v, nullptr, false);
      }
      return http::Response::Json(200, out.dump());
    });
  }
  rt->Provide<SpeedLayer>(s);
  std::printf("braid: speed layer with %zu views reading %s\n", s->views().size(),
              s->source_name().c_str());
  return Status::OK();
}

void SpeedRole::Stop() {
  if (speed_) speed_->Stop();
  speed_.reset();
  own_registry_.reset();
}

}  // namespace braid::stream
