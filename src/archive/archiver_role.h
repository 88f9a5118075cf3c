// ArchiverRole: the archiver (archiver.h) as a runtime role. Reads the
// runtime's log (or, with ArchiverOptions::kafka_bootstrap, any Kafka
// cluster), resolves schema ids through the registry role's registry when
// there is one (the same instance, so schemas registered after start-up are
// seen), else through `registry_url`, else through a registry opened over the
// log's `_schemas` topic. Reports braid_archive_* metrics, serves
// GET /v1/archive/status on the runtime's HTTP server, and provides
// archive::Archiver to later roles (the batch scheduler).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "archive/archiver.h"
#include "archive/schema_source.h"
#include "registry/registry.h"
#include "runtime/runtime.h"

namespace braid::archive {

struct ArchiverRoleOptions {
  // The archiver's options. `root` empty: <data>/archive. Default: defaults.
  ArchiverOptions archiver;
  // A Confluent-compatible registry to resolve schema ids with, used when
  // the runtime has no registry role. Default: "" (the log's own registry).
  std::string registry_url;
};

class ArchiverRole final : public runtime::Role {
 public:
  explicit ArchiverRole(ArchiverRoleOptions options) : options_(std::move(options)) {}
  ~ArchiverRole() override { Stop(); }
  std::string name() const override { return "archiver"; }
  Status Start(runtime::Runtime* rt) override;
  void Stop() override;
  void BeginStop() override {
    if (archiver_) archiver_->CancelCoverWaits();
  }
  // After Start().
  Archiver* archiver() const { return archiver_.get(); }

  // The schema source the role would use in `rt` (see the class comment);
  // `own_registry` receives a registry the caller must keep alive.
  static Result<std::unique_ptr<SchemaSource>> MakeSchemaSource(
      runtime::Runtime* rt, const std::string& registry_url, bool kafka_mode,
      std::unique_ptr<registry::Registry>* own_registry);

 private:
  ArchiverRoleOptions options_;
  std::unique_ptr<registry::Registry> own_registry_;
  std::unique_ptr<SchemaSource> schemas_;
  std::unique_ptr<Archiver> archiver_;
};

// A request to cover a cut (POST /v1/archive/cover).
struct CoverRequest {
  std::string topic;
  log::Cut cut;
  std::chrono::milliseconds timeout{30'000};
};
// Parses {"topic": T, "cut": {"0": 12, ...} | "latest", "timeout_ms": N}
// ("latest": every partition's high watermark in `log` now). InvalidArgument
// naming the field; NotFound for an unknown topic.
Result<CoverRequest> ParseCoverRequest(std::string_view body, log::Log* log);

// The status of a dataset as JSON: per partition lag against `log` (may be
// null: no lag), per topic files/bytes/records/dead letters. What
// `braid archive status` prints and GET /v1/archive/status answers.
Result<std::string> ArchiveStatusJson(Dataset* dataset, log::Log* log);

}  // namespace braid::archive
