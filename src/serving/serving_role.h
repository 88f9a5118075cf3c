// ServingRole: the serving layer of `braid up`, the last role to start.
//
//   * creates the topics the view file declares (`topics:`: partitions,
//     schema validation, archiving by event time), or brings the braid.*
//     settings of an existing one in line, so that producers need nothing
//     but the bootstrap address and the registry URL;
//   * answers queries over batch ⊕ realtime (api.h: /v1/views...) through
//     a LayersProvider over the batch role's BatchLayer and the speed role's
//     SpeedLayer (scheduler.h);
//   * runs the batch scheduler: every `batch_interval_ms` and on
//     POST /v1/batch/run[?wait=true] (body, optional:
//     {"views": [...], "wait": true}); GET /v1/batch/schedule shows it;
//   * reports braid_serving_* and braid_scheduler_* metrics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "serving/query.h"
#include "serving/scheduler.h"
#include "views/catalog.h"
#include "views/view.h"

namespace braid::serving {

struct ServingRoleOptions {
  // The views served (the catalog's). Default: none.
  std::vector<std::shared_ptr<const views::ViewDefinition>> views;
  // Topics to create (the catalog's `topics:` and defaults). Default: none.
  std::vector<views::TopicSettings> topics;
  // The batch scheduler. Default: a run every 15 minutes.
  SchedulerOptions scheduler;
  // Limits of one query. Default: QueryLimits{}.
  QueryLimits limits;
};

class ServingRole final : public runtime::Role {
 public:
  explicit ServingRole(ServingRoleOptions options) : options_(std::move(options)) {}
  ~ServingRole() override { Stop(); }
  std::string name() const override { return "serving"; }
  Status Start(runtime::Runtime* rt) override;
  void Stop() override;
  void BeginStop() override;

  BatchScheduler* scheduler() const { return scheduler_.get(); }

 private:
  Status CreateTopics(runtime::Runtime* rt);

  ServingRoleOptions options_;
  std::unique_ptr<LayersProvider> provider_;
  std::unique_ptr<QueryEngine> engine_;
  std::unique_ptr<BatchScheduler> scheduler_;
};

}  // namespace braid::serving
