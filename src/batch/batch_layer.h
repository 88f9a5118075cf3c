// BatchLayer: the batch layer's in-process API, what `braid batch`, the
// BatchRole (batch_role.h) and the lead's batch scheduler and serving layer
// call:
//
//   Run        computes views over exactly the records of their topic below
//              an offset cut (default: the archive's high-water marks) with
//              the MapReduce engine, and stores each view's cells as a new
//              version (view_store.h), published at once unless asked not
//              to (the scheduler publishes with Swap after its own steps);
//   OpenLive   a read handle on a view's live version (Get, Scan), valid
//              until released even if the version is swapped out;
//   Versions, Swap, Rollback, status.
//
// Layout: <data>/views (ViewStore), <data>/spill (run files; emptied at
// Open, since only the data directory's owner runs batch jobs there), the
// master dataset at <data>/archive unless given.
//
// Failure: a run that fails (a corrupt master-dataset block, a full disk, a
// crash) publishes nothing for the views of the failed job: their live
// versions stay as they were and no partial version is visible; the error
// names the file and offset when the input is at fault. Views of different
// topics are separate jobs, run one after the other.
//
// Thread safety: thread-safe; one Run at a time (a second waits).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "archive/dataset.h"
#include "base/clock.h"
#include "base/status.h"
#include "batch/engine.h"
#include "batch/view_store.h"
#include "log/cut.h"
#include "views/view.h"

namespace braid::batch {

struct BatchOptions {
  // File system of the spill files and manifests. Default:
  // io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // The data directory. Required.
  std::string data_dir;
  // The master dataset to read; null: one opened read-only at
  // `archive_root` (default <data>/archive). Must outlive the BatchLayer.
  archive::Dataset* dataset = nullptr;
  std::string archive_root;
  // Engine threads. Default: 2.
  int threads = 2;
  // The engine's memory budget (JobOptions::memory_budget). Default: 256 MiB.
  uint64_t memory_budget = uint64_t{256} << 20;
  // Versions kept per view besides the live one. Default: 3.
  size_t keep_versions = 3;
  // Input bytes per map task. Small tasks keep each task's hash table of
  // cells (a few hours of events) cache-sized: 1 MiB tasks took 30-45% less
  // CPU than 4-32 MiB ones on the batch benchmark. Default: 1 MiB.
  uint64_t task_bytes = uint64_t{1} << 20;
  // Most runs one merge reads (JobOptions::merge_factor). Default: 256.
  size_t merge_factor = 256;
  // Wall clock for manifests. Default: SystemClock().
  Clock* clock = nullptr;
};

struct RunRequest {
  std::vector<std::shared_ptr<const views::ViewDefinition>> views;
  // The cut per topic; a topic not named: its archived high-water marks.
  std::map<std::string, log::Cut> cuts;
  // Only events in this time range (their cells elsewhere are dropped).
  std::optional<archive::TimeRange> time;
  // Publish each new version as soon as it is built. Default: true.
  bool publish = true;
  // Progress of each job (JobOptions::progress). Default: none.
  std::function<void(const JobStatus&)> progress;
  int64_t progress_interval_ms = 500;
};

struct ViewRunResult {
  std::string view;
  uint64_t version = 0;
  bool published = false;
  VersionManifest manifest;
};

struct RunResult {
  std::vector<ViewRunResult> views;
  std::vector<JobStatus> jobs;  // one per topic
};

struct BatchStatus {
  bool running = false;
  JobStatus current;                 // the running job (when running)
  std::vector<JobStatus> last_jobs;  // of the last finished run
  std::vector<ViewRunResult> last_views;
  int64_t last_run_ms = 0;  // wall clock at its end, 0 if none
  std::string last_error;   // of the last run, empty if it succeeded
  uint64_t runs = 0;
  uint64_t failed_runs = 0;
};

class BatchLayer {
 public:
  static Result<std::unique_ptr<BatchLayer>> Open(BatchOptions options);
  ~BatchLayer();

  Result<RunResult> Run(const RunRequest& request);
  // Makes the running Run (if any) stop with Aborted.
  void Cancel();

  ViewStore* store() const { return store_.get(); }
  archive::Dataset* dataset() const { return dataset_; }
  const BatchOptions& options() const { return options_; }

  Result<std::shared_ptr<const ViewVersion>> OpenLive(const std::string& view) {
    return store_->OpenLive(view);
  }
  Result<std::vector<VersionInfo>> Versions(const std::string& view) const {
    return store_->Versions(view);
  }
  Status Swap(const std::string& view, uint64_t version) { return store_->Publish(view, version); }
  Result<uint64_t> Rollback(const std::string& view) { return store_->Rollback(view); }

  BatchStatus status() const;

  // Every partition of `topic` at its archived high-water mark.
  Result<log::Cut> ArchivedCut(const std::string& topic);

 private:
  explicit BatchLayer(BatchOptions options) : options_(std::move(options)) {}
  Result<std::vector<ViewRunResult>> RunTopic(
      const std::vector<std::shared_ptr<const views::ViewDefinition>>& views,
      const std::string& topic, const log::Cut& cut, const RunRequest& request, JobStatus* job);

  BatchOptions options_;
  io::FileSystem* fs_ = nullptr;
  Clock* clock_ = nullptr;
  std::unique_ptr<archive::Dataset> own_dataset_;
  archive::Dataset* dataset_ = nullptr;
  std::unique_ptr<ViewStore> store_;
  std::string spill_dir_;
  std::mutex run_mu_;  // one Run at a time
  std::atomic<bool> cancel_{false};
  std::atomic<uint64_t> seq_{0};
  mutable std::mutex status_mu_;
  BatchStatus status_;  // guarded by status_mu_
};

}  // namespace braid::batch
