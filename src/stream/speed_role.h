// SpeedRole: the speed layer (speed_layer.h) as a runtime role, in `braid up`
// (after the archiver) and alone in `braid speed run`. Reads the runtime's
// log, or with SpeedLayerOptions::kafka any Kafka cluster in a consumer
// group; resolves schema ids through the registry role's registry when
// there is one, else through `registry_url`, else through a registry opened
// over the log's `_schemas` topic. Keeps its store in <data>/realtime.
// Provides stream::SpeedLayer to later roles (the serving layer and the
// batch scheduler call Seal, ListGenerations, Read*, Drop, Consumed) and
// serves on the runtime's HTTP server:
//
//   GET  /v1/speed/status          views, consumed offsets, generations,
//                                  topologies (tuples/s, queues, latency)
//   POST /v1/speed/seal            seal the current generation → its cuts
//   GET  /v1/speed/generations     live generations with their cuts
//   POST /v1/speed/drop            {"view": V, "cut": {"0": 12, ...}}
//   GET  /v1/speed/cells           ?view=V[&key=K[&granularity=G[&from=MS&to=MS]]]
//                                  [&after={"0":12}][&limit=N]: realtime cells
//   GET  /v1/speed/topologies/NAME what raw topology NAME published
//
// Metrics: braid_speed_* (view_topology.h) and braid_topology_*
// (topology_runner.h) on /metrics.
#pragma once

#include <memory>
#include <string>

#include "registry/registry.h"
#include "runtime/runtime.h"
#include "stream/speed_layer.h"

namespace braid::stream {

struct SpeedRoleOptions {
  // The speed layer's options; `dir` empty: <data>/realtime; `log`: the
  // runtime's (unless reading Kafka); `metrics`: the runtime's; `schemas`:
  // see the class comment. Default: defaults.
  SpeedLayerOptions speed;
  // A Confluent-compatible registry for schema ids, used when the runtime
  // has no registry role. Default: "" (the log's own registry).
  std::string registry_url;
};

class SpeedRole final : public runtime::Role {
 public:
  explicit SpeedRole(SpeedRoleOptions options) : options_(std::move(options)) {}
  ~SpeedRole() override { Stop(); }
  std::string name() const override { return "speed"; }
  Status Start(runtime::Runtime* rt) override;
  void Stop() override;
  // After Start().
  SpeedLayer* speed() const { return speed_.get(); }

 private:
  SpeedRoleOptions options_;
  std::unique_ptr<registry::Registry> own_registry_;
  std::unique_ptr<SpeedLayer> speed_;
};

// Parses a cut: {"0": 12, "3": 7} (InvalidArgument naming the problem).
Result<log::Cut> ParseCutJson(std::string_view text);

}  // namespace braid::stream
