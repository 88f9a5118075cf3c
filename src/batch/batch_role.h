// BatchRole: the batch layer in a runtime (`braid up`). Opens a BatchLayer
// on the data directory (reading the master dataset through the archiver
// role's Dataset when there is one, so it sees every commit), provides it to
// later roles (the lead's batch scheduler and serving layer:
// rt->Find<batch::BatchLayer>()), serves the batch HTTP API (api.h) and
// reports braid_batch_* metrics. Batch runs are started by the scheduler
// (POST /v1/batch/run, owned by the serving layer), not by this role.
#pragma once

#include <memory>

#include "batch/api.h"
#include "batch/batch_layer.h"
#include "runtime/runtime.h"

namespace braid::batch {

struct BatchRoleOptions {
  // data_dir empty: the runtime's; dataset null: the archiver role's.
  // Default: defaults.
  BatchOptions batch;
  // Renders values of the HTTP API. Default: DefaultMonoidResolver().
  MonoidResolver monoids;
};

class BatchRole final : public runtime::Role {
 public:
  explicit BatchRole(BatchRoleOptions options) : options_(std::move(options)) {}
  ~BatchRole() override { Stop(); }
  std::string name() const override { return "batch"; }
  Status Start(runtime::Runtime* rt) override;
  void Stop() override;
  void BeginStop() override {
    if (layer_) layer_->Cancel();
  }
  BatchLayer* layer() const { return layer_.get(); }

 private:
  BatchRoleOptions options_;
  std::unique_ptr<BatchLayer> layer_;
};

}  // namespace braid::batch
