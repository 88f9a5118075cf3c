#include "batch/batch_layer.h"

#include <chrono>

#include "batch/view_job.h"

#ifndef BRAID_VERSION
#define BRAID_VERSION "unknown"
#endif

namespace braid::batch {

Result<std::unique_ptr<BatchLayer>> BatchLayer::Open(BatchOptions options) {
  if (options.data_dir.empty())
    return Status::InvalidArgument("BatchOptions::data_dir is required");
  std::unique_ptr<BatchLayer> b(new BatchLayer(std::move(options)));
  b->fs_ = b->options_.fs != nullptr ? b->options_.fs : io::DefaultFileSystem();
  b->clock_ = b->options_.clock != nullptr ? b->options_.clock : SystemClock();
  if (b->options_.dataset != nullptr) {
    b->dataset_ = b->options_.dataset;
  } else {
    archive::DatasetOptions d;
    d.fs = b->fs_;
    d.root = b->options_.archive_root.empty() ? io::JoinPath(b->options_.data_dir, "archive")
                                              : b->options_.archive_root;
    d.read_only = true;
    ASSIGN_OR_RETURN(b->own_dataset_, archive::Dataset::Open(d));
    b->dataset_ = b->own_dataset_.get();
  }
  ViewStoreOptions vo;
  vo.fs = b->fs_;
  vo.root = io::JoinPath(b->options_.data_dir, "views");
  vo.keep_versions = b->options_.keep_versions;
  ASSIGN_OR_RETURN(b->store_, ViewStore::Open(vo));
  b->spill_dir_ = io::JoinPath(b->options_.data_dir, "spill");
  // Left by a run that crashed: nobody else runs jobs in this directory.
  RETURN_IF_ERROR(b->fs_->DeleteDirRecursive(b->spill_dir_));
  RETURN_IF_ERROR(b->fs_->CreateDirs(b->spill_dir_));
  return b;
}

BatchLayer::~BatchLayer() = default;

void BatchLayer::Cancel() { cancel_.store(true); }

BatchStatus BatchLayer::status() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  return status_;
}

Result<log::Cut> BatchLayer::ArchivedCut(const std::string& topic) {
  ASSIGN_OR_RETURN(archive::ManifestLease m, dataset_->Snapshot(topic));
  if (m->version == 0) return Status::NotFound("topic " + topic + " has no archived records");
  log::Cut cut;
  for (const auto& [p, st] : m->partitions) cut.offsets[PartitionId(p)] = st.hwm;
  return cut;
}

Result<RunResult> BatchLayer::Run(const RunRequest& request) {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  cancel_.store(false);
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    status_.running = true;
    status_.current = JobStatus();
  }
  RunResult result;
  Status error;
  // Views grouped by topic, in request order.
  std::vector<std::pair<std::string, std::vector<std::shared_ptr<const views::ViewDefinition>>>>
      topics;
  for (const auto& v : request.views) {
    if (v == nullptr) continue;
    if (Status s = CheckViewName(v->name()); !s.ok()) {
      error = s;
      break;
    }
    auto it = std::find_if(topics.begin(), topics.end(),
                           [&](const auto& t) { return t.first == v->topic(); });
    if (it == topics.end() || it->second.size() >= kMaxViewsPerJob) {
      topics.push_back({v->topic(), {}});
      it = topics.end() - 1;
    }
    it->second.push_back(v);
  }
  if (error.ok() && topics.empty()) error = Status::InvalidArgument("no view to run");
  for (const auto& [topic, views] : topics) {
    if (!error.ok()) break;
    log::Cut cut;
    if (auto c = request.cuts.find(topic); c != request.cuts.end()) {
      cut = c->second;
    } else {
      auto archived = ArchivedCut(topic);
      if (!archived.ok()) {
        error = archived.status();
        break;
      }
      cut = std::move(*archived);
    }
    JobStatus job;
    auto r = RunTopic(views, topic, cut, request, &job);
    result.jobs.push_back(job);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    for (auto& v : *r) result.views.push_back(std::move(v));
  }
  std::lock_guard<std::mutex> lock(status_mu_);
  status_.running = false;
  status_.last_jobs = result.jobs;
  status_.last_views = result.views;
  status_.last_run_ms = clock_->NowMillis();
  status_.last_error = error.ok() ? "" : error.ToString();
  ++status_.runs;
  if (!error.ok()) {
    ++status_.failed_runs;
    return error;
  }
  return result;
}

Result<std::vector<ViewRunResult>> BatchLayer::RunTopic(
    const std::vector<std::shared_ptr<const views::ViewDefinition>>& views,
    const std::string& topic, const log::Cut& cut, const RunRequest& request, JobStatus* job) {
  ASSIGN_OR_RETURN(std::shared_ptr<ViewJob> vj, ViewJob::Create(views, request.time));
  const EngineJob ej = vj->engine_job();
  const std::string sst_dir = io::JoinPath(spill_dir_, "sst-" + std::to_string(seq_.fetch_add(1)));
  ViewSstOutput out(sst_dir, views.size());
  JobOptions jo;
  jo.fs = fs_;
  jo.spill_dir = spill_dir_;
  jo.threads = options_.threads;
  jo.memory_budget = options_.memory_budget;
  jo.task_bytes = options_.task_bytes;
  jo.merge_factor = options_.merge_factor;
  jo.cancel = &cancel_;
  jo.progress_interval_ms = request.progress_interval_ms;
  jo.progress = [this, &request](const JobStatus& s) {
    {
      std::lock_guard<std::mutex> lock(status_mu_);
      status_.current = s;
    }
    if (request.progress) request.progress(s);
  };
  const auto start = std::chrono::steady_clock::now();
  auto st = RunJob(ej, {Input::Dataset(dataset_, topic, cut, request.time)}, &out, jo);
  auto cleanup = [&] { io::DefaultFileSystem()->DeleteDirRecursive(sst_dir).IgnoreError(); };
  if (!st.ok()) {
    cleanup();
    return st.status().WithContext("batch run of topic " + topic);
  }
  *job = *st;
  std::vector<ViewRunResult> results;
  for (size_t i = 0; i < views.size(); ++i) {
    const views::ViewDefinition& def = *views[i];
    const ViewFiles& files = out.files()[i];
    VersionManifest m;
    m.fingerprint = def.Fingerprint();
    m.monoid = def.monoid().spec();
    m.granularities = def.granularities();
    m.topic = topic;
    m.cuts[topic] = cut;
    m.braid_version = BRAID_VERSION;
    m.created_ms = clock_->NowMillis();
    m.build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.records = st->records_read;
    auto counter = [&](const std::string& name) -> uint64_t {
      auto it = st->counters.find("view." + def.name() + "." + name);
      return it == st->counters.end() ? 0 : static_cast<uint64_t>(it->second);
    };
    m.events = counter("events");
    m.map_errors = counter("map_errors");
    m.cells = files.cells;
    m.bytes = files.bytes;
    auto version = store_->AddVersion(def.name(), files.sst_files, m);
    if (!version.ok()) {
      cleanup();
      return version.status();
    }
    ViewRunResult r;
    r.view = def.name();
    r.version = *version;
    m.view = def.name();
    m.version = *version;
    r.manifest = m;
    if (request.publish) {
      Status s = store_->Publish(def.name(), *version);
      if (!s.ok()) {
        cleanup();
        return s;
      }
      r.published = true;
    }
    results.push_back(std::move(r));
  }
  cleanup();
  return results;
}

}  // namespace braid::batch
