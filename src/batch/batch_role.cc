#include "batch/batch_role.h"

#include <cstdio>

#include "archive/archiver.h"

namespace braid::batch {

Status BatchRole::Start(runtime::Runtime* rt) {
  BatchOptions o = options_.batch;
  if (o.data_dir.empty()) o.data_dir = rt->data_dir();
  if (o.dataset == nullptr) {
    if (auto* a = rt->Find<archive::Archiver>(); a != nullptr && a->dataset() != nullptr) {
      o.dataset = a->dataset();
    }
  }
  ASSIGN_OR_RETURN(layer_, BatchLayer::Open(o));
  BatchLayer* layer = layer_.get();
  rt->metrics()->AddCollector([layer](metrics::SampleWriter* w) {
    const BatchStatus s = layer->status();
    w->Gauge("braid_batch_running", "1 while a batch run is in progress", {}, s.running ? 1 : 0);
    w->Counter("braid_batch_runs_total", "Batch runs finished", {}, static_cast<double>(s.runs));
    w->Counter("braid_batch_failed_runs_total", "Batch runs that failed", {},
               static_cast<double>(s.failed_runs));
    if (s.running) {
      w->Gauge("braid_batch_records_per_second", "Map input rate of the running job", {},
               s.current.records_per_s);
      w->Gauge("braid_batch_spilled_bytes", "Bytes spilled by the running job", {},
               static_cast<double>(s.current.spilled_bytes));
    }
    auto views = layer->store()->ListViews();
    if (!views.ok()) return;
    for (const std::string& v : *views) {
      auto live = layer->store()->Live(v);
      if (live.ok()) {
        w->Gauge("braid_batch_live_version", "Live batch version of a view", {{"view", v}},
                 static_cast<double>(*live));
      }
    }
  });
  if (http::Server* http = rt->http()) {
    auto api = std::make_shared<BatchApi>();
    api->layer = layer;
    if (options_.monoids) api->monoids = options_.monoids;
    auto handler = [api](const http::Request& req) {
      auto r = api->Handle(req.method, req.path, req.query);
      if (!r.ok()) return http::Response::FromStatus(r.status());
      return http::Response::Json(200, std::move(*r));
    };
    http->RouteBlocking("GET", "/v1/batch/status", handler);
    http->RouteBlocking("GET", "/v1/batch/views", handler);
    http->RouteBlocking("POST", "/v1/batch/views/", handler);
  }
  rt->Provide<BatchLayer>(layer);
  std::printf("braid: batch views in %s\n", io::JoinPath(o.data_dir, "views").c_str());
  return Status::OK();
}

void BatchRole::Stop() { layer_.reset(); }

}  // namespace braid::batch
