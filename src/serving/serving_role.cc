#include "serving/serving_role.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "archive/archiver.h"
#include "base/logging.h"
#include "batch/batch_layer.h"
#include "http/server.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "serving/api.h"
#include "serving/console.h"
#include "stream/speed_layer.h"

namespace braid::serving {

namespace {

// The operation of a /v1/views request, for metrics.
std::string_view Operation(const http::Request& req) {
  std::string_view p = req.path;
  if (p == "/v1/views" || p == "/v1/views/") return "list";
  const size_t slash = p.rfind('/');
  const std::string_view op = p.substr(slash + 1);
  if (op == "value" || op == "series" || op == "values" || op == "keys") return op;
  return "other";
}

struct QueryMetrics {
  explicit QueryMetrics(metrics::Registry* r) {
    static const std::vector<double> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,   0.25,   1};
    for (const char* op : {"list", "value", "series", "values", "keys", "other"}) {
      requests[op] = r->GetCounter("braid_serving_requests_total",
                                   "Requests of the serving API by operation", {{"op", op}});
      errors[op] =
          r->GetCounter("braid_serving_errors_total",
                        "Serving API requests answered with an error, by operation", {{"op", op}});
      latency[op] = r->GetHistogram("braid_serving_latency_seconds",
                                    "Serving API latency by operation (in the handler)", kBounds,
                                    {{"op", op}});
    }
  }
  std::map<std::string, metrics::Counter*, std::less<>> requests, errors;
  std::map<std::string, metrics::Histogram*, std::less<>> latency;
};

// Parses POST /v1/batch/run: body (optional) {"views": [...], "wait": b,
// "cut": "latest"} and ?wait=true.
struct RunParams {
  std::vector<std::string> views;
  bool wait = false;
};
Result<RunParams> ParseRunRequest(const http::Request& req) {
  RunParams p;
  if (auto it = req.query.find("wait"); it != req.query.end()) {
    if (it->second != "true" && it->second != "false") {
      return Status::InvalidArgument("wait must be true or false");
    }
    p.wait = it->second == "true";
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return p;
  const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  if (auto v = j.find("views"); v != j.end() && !v->is_null()) {
    if (!v->is_array()) return Status::InvalidArgument("\"views\" must be an array of names");
    for (const auto& name : *v) {
      if (!name.is_string()) return Status::InvalidArgument("\"views\" must be an array of names");
      p.views.push_back(name.get<std::string>());
    }
  }
  if (auto w = j.find("wait"); w != j.end()) {
    if (!w->is_boolean()) return Status::InvalidArgument("\"wait\" must be true or false");
    p.wait = p.wait || w->get<bool>();
  }
  if (auto c = j.find("cut"); c != j.end() && !c->is_null()) {
    if (!c->is_string() || c->get<std::string>() != "latest") {
      return Status::InvalidArgument(
          "\"cut\": a running braid up builds at the speed layer's sealed cut; only \"latest\" "
          "is accepted");
    }
  }
  return p;
}

}  // namespace

Status ServingRole::CreateTopics(runtime::Runtime* rt) {
  if (options_.topics.empty()) return Status::OK();
  ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
  for (const views::TopicSettings& t : options_.topics) {
    const auto configs = t.TopicConfigs();
    const log::ConfigMap cm(configs.begin(), configs.end());
    if (!log->HasTopic(t.name)) {
      Status s = log->CreateTopic(t.name, t.partitions > 0 ? t.partitions : -1, cm);
      if (s.ok()) {
        auto info = log->DescribeTopic(t.name);
        LOG_INFO("serving: created topic {} ({} partitions) as {} declares", t.name,
                 info.ok() ? info->partition_count : t.partitions, t.origin);
        continue;
      }
      if (s.code() != StatusCode::kAlreadyExists) {
        return Status(s.code(), "creating topic " + t.name + " (" + t.origin +
                                    "): " + std::string(s.message()));
      }
    }
    // It exists: its braid settings follow the view file; its partitions are
    // left alone (more partitions would move keys).
    Status s = log->UpdateTopicConfigs(t.name, cm, {});
    if (!s.ok()) {
      return Status(s.code(), "configuring topic " + t.name + " (" + t.origin +
                                  "): " + std::string(s.message()));
    }
    auto info = log->DescribeTopic(t.name);
    if (info.ok() && t.partitions > 0 && info->partition_count != t.partitions) {
      LOG_WARN("serving: topic {} has {} partitions, {} declares {}; left as it is", t.name,
               info->partition_count, t.origin, t.partitions);
    }
  }
  return Status::OK();
}

Status ServingRole::Start(runtime::Runtime* rt) {
  RETURN_IF_ERROR(CreateTopics(rt));
  auto* batch = rt->Find<batch::BatchLayer>();
  auto* speed = rt->Find<stream::SpeedLayer>();
  auto* archiver = rt->Find<archive::Archiver>();
  provider_ = std::make_unique<LayersProvider>(options_.views, batch, speed);
  engine_ = std::make_unique<QueryEngine>(provider_.get(), options_.limits);
  if (batch != nullptr) {
    scheduler_ = std::make_unique<BatchScheduler>(options_.scheduler, provider_.get(), batch, speed,
                                                  archiver);
  }
  metrics::Registry* m = rt->metrics();
  auto qm = std::make_shared<QueryMetrics>(m);
  LayersProvider* provider = provider_.get();
  BatchScheduler* scheduler = scheduler_.get();
  m->AddCollector([provider, scheduler](metrics::SampleWriter* w) {
    for (const auto& v : provider->Views()) {
      auto s = provider->Open(v->name());
      if (!s.ok()) continue;
      w->Gauge("braid_serving_batch_version", "Live batch version a view's answers use",
               {{"view", v->name()}}, static_cast<double>(s->coverage.batch_version));
      for (const auto& [p, o] : s->coverage.batch_cut.offsets) {
        w->Gauge("braid_serving_batch_cut_offset", "The live batch version's cut, per partition",
                 {{"view", v->name()}, {"partition", std::to_string(p.value())}},
                 static_cast<double>(o.value()));
      }
      for (const auto& [p, o] : s->coverage.realtime_offsets.offsets) {
        w->Gauge("braid_serving_realtime_offset",
                 "Offsets below which the speed layer's part of the answers is complete",
                 {{"view", v->name()}, {"partition", std::to_string(p.value())}},
                 static_cast<double>(o.value()));
      }
      w->Gauge("braid_serving_realtime_generations", "Realtime generations merged into answers",
               {{"view", v->name()}}, static_cast<double>(s->coverage.realtime_generations.size()));
    }
    if (scheduler == nullptr) return;
    const ScheduledRun last = scheduler->last();
    w->Counter("braid_scheduler_runs_total", "Batch runs of the scheduler", {},
               static_cast<double>(scheduler->runs()));
    w->Counter("braid_scheduler_failed_runs_total", "Batch runs of the scheduler that failed", {},
               static_cast<double>(scheduler->failed_runs()));
    w->Gauge("braid_scheduler_running", "1 while the scheduler runs a batch", {},
             scheduler->running() ? 1 : 0);
    if (last.id != 0) {
      w->Gauge("braid_scheduler_last_run_seconds", "Duration of the last batch run, by phase",
               {{"phase", "total"}}, last.seconds);
      w->Gauge("braid_scheduler_last_run_seconds", "Duration of the last batch run, by phase",
               {{"phase", "seal"}}, last.seal_seconds);
      w->Gauge("braid_scheduler_last_run_seconds", "Duration of the last batch run, by phase",
               {{"phase", "cover"}}, last.cover_seconds);
      w->Gauge("braid_scheduler_last_run_seconds", "Duration of the last batch run, by phase",
               {{"phase", "build"}}, last.build_seconds);
      w->Gauge("braid_scheduler_last_run_seconds", "Duration of the last batch run, by phase",
               {{"phase", "swap"}}, last.swap_seconds);
      w->Gauge("braid_scheduler_last_run_timestamp_ms", "Wall clock at the last run's start", {},
               static_cast<double>(last.started_ms));
    }
  });
  if (http::Server* http = rt->http()) {
    // With --http-auth: a read-scope credential may also POST .../values
    // (a multi-key read).
    rt->AddHttpReadRule("POST", "/v1/views/*/values");
    QueryEngine* engine = engine_.get();
    http->Route("*", "/v1/views", [engine, provider, qm](const http::Request& req) {
      const auto t0 = std::chrono::steady_clock::now();
      http::Response r = HandleViews(engine, provider, req);
      const std::string_view op = Operation(req);
      qm->requests.find(op)->second->Inc();
      if (r.status >= 400) qm->errors.find(op)->second->Inc();
      qm->latency.find(op)->second->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      return r;
    });
    http->Route("GET", "/console", [](const http::Request&) {
      return http::Response{200, "text/html; charset=utf-8", std::string(ConsolePage()), {}};
    });
    if (scheduler != nullptr) {
      http->RouteAsync(
          "POST", "/v1/batch/run", [scheduler](const http::Request& req, http::Responder respond) {
            auto p = ParseRunRequest(req);
            if (!p.ok()) return respond(http::Response::FromStatus(p.status()));
            const bool wait = p->wait;
            auto id = scheduler->Request(p->views, [wait, respond](const ScheduledRun& run) {
              if (!wait) return;
              if (run.error.empty()) {
                return respond(http::Response::Json(200, run.ToJson()));
              }
              respond(
                  http::Response::Json(500, "{\"error_code\":500,\"message\":" +
                                                http::JsonQuote("batch run failed: " + run.error) +
                                                ",\"run\":" + run.ToJson() + "}"));
            });
            if (!id.ok()) return respond(http::Response::FromStatus(id.status()));
            if (!wait) {
              respond(http::Response::Json(
                  202, "{\"run\":" + std::to_string(*id) + ",\"state\":\"queued\"}"));
            }
          });
      http->Route("GET", "/v1/batch/schedule", [scheduler](const http::Request&) {
        return http::Response::Json(200, scheduler->StatusJson());
      });
    }
  }
  if (scheduler_) scheduler_->Start();
  std::printf("braid: serving %zu views on /v1/views%s\n", options_.views.size(),
              scheduler_ == nullptr ? "" : ", batch runs on POST /v1/batch/run");
  return Status::OK();
}

void ServingRole::BeginStop() {
  if (scheduler_) scheduler_->Stop();
}

void ServingRole::Stop() {
  if (scheduler_) scheduler_->Stop();
  scheduler_.reset();
  engine_.reset();
  provider_.reset();
}

}  // namespace braid::serving
