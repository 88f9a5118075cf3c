#include "serving/scheduler.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "base/logging.h"

namespace braid::serving {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json CutJson(const log::Cut& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [p, o] : c.offsets) j[std::to_string(p.value())] = o.value();
  return j;
}

// A batch version's cell source.
class BatchCells final : public CellSource {
 public:
  explicit BatchCells(std::shared_ptr<const batch::ViewVersion> v) : v_(std::move(v)) {}
  Result<std::optional<std::string>> Get(std::string_view cell_key) override {
    return v_->Get(cell_key);
  }
  Status Scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return v_->Scan(begin, end, 0, fn);
  }

 private:
  std::shared_ptr<const batch::ViewVersion> v_;
};

// The realtime generations after a cut.
class RealtimeCells final : public CellSource {
 public:
  explicit RealtimeCells(std::unique_ptr<stream::RealtimeSnapshot> s) : s_(std::move(s)) {}
  Result<std::optional<std::string>> Get(std::string_view cell_key) override {
    return s_->Get(cell_key);
  }
  Status Scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return s_->Scan(begin, end, fn);
  }

 private:
  std::unique_ptr<stream::RealtimeSnapshot> s_;
};

}  // namespace

// ---- LayersProvider ----

LayersProvider::LayersProvider(std::vector<std::shared_ptr<const views::ViewDefinition>> views,
                               batch::BatchLayer* batch, stream::SpeedLayer* speed)
    : views_(std::move(views)), batch_(batch), speed_(speed) {}

std::shared_ptr<const views::ViewDefinition> LayersProvider::Find(const std::string& view) const {
  for (const auto& v : views_) {
    if (v->name() == view) return v;
  }
  return nullptr;
}

Result<ViewSnapshot> LayersProvider::Open(const std::string& view) {
  ViewSnapshot s;
  s.view = Find(view);
  if (s.view == nullptr) return Status::NotFound("no view named '" + view + "'");
  std::shared_lock<std::shared_mutex> lock(mu_);
  log::Cut after;
  if (batch_ != nullptr) {
    auto live = batch_->OpenLive(view);
    if (live.ok()) {
      const batch::VersionManifest& m = (*live)->manifest();
      if (m.fingerprint == s.view->Fingerprint()) {
        auto cut = m.cuts.find(s.view->topic());
        if (cut != m.cuts.end()) after = cut->second;
        s.coverage.batch_version = static_cast<int64_t>(m.version);
        s.coverage.batch_cut = after;
        s.batch = std::make_unique<BatchCells>(std::move(*live));
      }
    } else if (!live.status().IsNotFound()) {
      return live.status();
    }
  }
  if (speed_ != nullptr) {
    auto snap = speed_->OpenSnapshot(view, after);
    if (!snap.ok()) {
      if (snap.status().code() == StatusCode::kFailedPrecondition) {
        return Status::Unavailable("view " + view + ": the live batch version's cut " +
                                   after.ToString() +
                                   " is not a cut the speed layer sealed at; the next batch run "
                                   "(POST /v1/batch/run) replaces it (" +
                                   std::string(snap.status().message()) + ")");
      }
      return snap.status();
    }
    s.coverage.realtime_offsets = (*snap)->consumed();
    for (RealtimeGeneration g : (*snap)->generations()) {
      s.coverage.realtime_generations.push_back(static_cast<int64_t>(g.value()));
    }
    s.realtime = std::make_unique<RealtimeCells>(std::move(*snap));
  }
  return s;
}

// ---- ScheduledRun ----

std::string ScheduledRun::ToJson() const {
  nlohmann::json j;
  j["run"] = id;
  j["trigger"] = trigger;
  j["started_ms"] = started_ms;
  j["seconds"] = seconds;
  j["phases"] = {{"seal", seal_seconds},
                 {"cover", cover_seconds},
                 {"build", build_seconds},
                 {"swap", swap_seconds}};
  if (sealed_generation >= 0) {
    j["sealed_generation"] = sealed_generation;
  } else {
    j["sealed_generation"] = nullptr;
  }
  j["views"] = nlohmann::json::array();
  for (const ScheduledView& v : views) {
    nlohmann::json x;
    x["view"] = v.view;
    x["topic"] = v.topic;
    x["cut"] = CutJson(v.cut);
    x["version"] = v.version;
    x["skipped"] = v.skipped;
    x["records"] = v.records;
    x["cells"] = v.cells;
    x["dropped_generations"] = v.dropped;
    j["views"].push_back(std::move(x));
  }
  j["ok"] = error.empty();
  if (!error.empty()) j["error"] = error;
  return j.dump();
}

// ---- BatchScheduler ----

BatchScheduler::BatchScheduler(SchedulerOptions options, LayersProvider* provider,
                               batch::BatchLayer* batch, stream::SpeedLayer* speed,
                               archive::Archiver* archiver)
    : options_(options), provider_(provider), batch_(batch), speed_(speed), archiver_(archiver) {}

BatchScheduler::~BatchScheduler() { Stop(); }

void BatchScheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  if (options_.interval_ms > 0) {
    next_due_ = Clock::now() + std::chrono::milliseconds(options_.interval_ms);
    next_due_wall_ms_ = WallMs() + options_.interval_ms;
  }
  thread_ = std::thread([this] { Loop(); });
}

void BatchScheduler::Stop() {
  std::vector<Pending> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    failed.swap(pending_);
  }
  cv_.notify_all();
  if (archiver_ != nullptr && running()) archiver_->CancelCoverWaits();
  if (running()) batch_->Cancel();
  if (thread_.joinable()) thread_.join();
  ScheduledRun r;
  r.error = "the batch scheduler is stopping";
  for (Pending& p : failed) p.done(r);
}

Result<uint64_t> BatchScheduler::Request(std::vector<std::string> views, Done done) {
  for (const std::string& v : views) {
    if (provider_->Find(v) == nullptr) return Status::InvalidArgument("no view named '" + v + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return Status::Unavailable("the batch scheduler is stopping");
  pending_.push_back(Pending{std::move(views), std::move(done)});
  cv_.notify_all();
  // The run that answers: the next one to start.
  return next_id_;
}

void BatchScheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const bool periodic = options_.interval_ms > 0;
    if (pending_.empty()) {
      if (periodic) {
        cv_.wait_until(lock, next_due_, [this] { return stop_ || !pending_.empty(); });
      } else {
        cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      }
      if (stop_) break;
      if (pending_.empty() && !(periodic && Clock::now() >= next_due_)) continue;
    }
    std::vector<Pending> batch;
    batch.swap(pending_);
    std::vector<std::string> only;
    bool all = batch.empty();  // a periodic run builds every view
    for (const Pending& p : batch) {
      if (p.views.empty()) all = true;
      only.insert(only.end(), p.views.begin(), p.views.end());
    }
    if (all) only.clear();
    const uint64_t id = next_id_++;
    running_ = true;
    lock.unlock();
    ScheduledRun r = RunOnce(id, batch.empty() ? "interval" : "request", only);
    for (Pending& p : batch) p.done(r);
    lock.lock();
    running_ = false;
    ++runs_;
    if (!r.error.empty()) ++failed_runs_;
    last_ = std::move(r);
    if (periodic) {
      next_due_ = Clock::now() + std::chrono::milliseconds(options_.interval_ms);
      next_due_wall_ms_ = WallMs() + options_.interval_ms;
    }
  }
}

ScheduledRun BatchScheduler::RunOnce(uint64_t id, const std::string& trigger,
                                     const std::vector<std::string>& only) {
  ScheduledRun run;
  run.id = id;
  run.trigger = trigger;
  run.started_ms = WallMs();
  const auto t0 = Clock::now();
  std::vector<std::shared_ptr<const views::ViewDefinition>> views;
  for (const auto& v : provider_->Views()) {
    if (only.empty() || std::find(only.begin(), only.end(), v->name()) != only.end()) {
      views.push_back(v);
    }
  }
  Status s = Execute(views, &run);
  run.seconds = SecondsSince(t0);
  if (!s.ok()) {
    run.error = s.ToString();
    LOG_ERROR("batch run {} failed after {:.1f} s: {}", id, run.seconds, run.error);
  } else {
    size_t built = 0;
    for (const ScheduledView& v : run.views) built += v.skipped ? 0 : 1;
    LOG_INFO("batch run {} ({}): {} views built, {} up to date, in {:.2f} s", id, trigger, built,
             run.views.size() - built, run.seconds);
  }
  return run;
}

Status BatchScheduler::Execute(
    const std::vector<std::shared_ptr<const views::ViewDefinition>>& views, ScheduledRun* run) {
  if (views.empty()) return Status::OK();
  // 1. Seal: the cut of each view.
  auto t = Clock::now();
  std::map<std::string, log::Cut> cuts;  // view → cut
  if (speed_ != nullptr) {
    ASSIGN_OR_RETURN(stream::SealedGeneration sealed, speed_->Seal());
    run->sealed_generation = static_cast<int64_t>(sealed.id.value());
    for (const auto& v : views) {
      auto it = sealed.cuts.find(v->name());
      if (it != sealed.cuts.end()) cuts[v->name()] = it->second;
    }
  } else {
    for (const auto& v : views) {
      ASSIGN_OR_RETURN(log::Cut c, batch_->ArchivedCut(v->topic()));
      cuts[v->name()] = std::move(c);
    }
  }
  run->seal_seconds = SecondsSince(t);

  // 2. The archive covers, per topic, the highest cut of its views.
  t = Clock::now();
  std::map<std::string, log::Cut> topic_cover;
  for (const auto& v : views) {
    auto it = cuts.find(v->name());
    if (it == cuts.end()) continue;
    log::Cut& c = topic_cover[v->topic()];
    for (const auto& [p, o] : it->second.offsets) {
      if (c.at(p) < o) c.offsets[p] = o;
    }
  }
  if (archiver_ != nullptr) {
    for (const auto& [topic, cut] : topic_cover) {
      if (cut.empty()) continue;
      Status s = archiver_->CoverCut(topic, cut, options_.cover_timeout);
      if (!s.ok()) {
        return Status(s.code(), "making the archive of " + topic + " cover " + cut.ToString() +
                                    ": " + std::string(s.message()));
      }
    }
  }
  run->cover_seconds = SecondsSince(t);

  // 3. Build, per (topic, cut), the views whose live version is not already
  // at that cut; 4. swap them live and drop the realtime generations below.
  std::map<std::pair<std::string, std::string>,
           std::vector<std::shared_ptr<const views::ViewDefinition>>>
      groups;
  for (const auto& v : views) {
    auto it = cuts.find(v->name());
    if (it == cuts.end()) {
      LOG_INFO("batch run {}: view {} has consumed nothing yet; not built", run->id, v->name());
      continue;
    }
    ScheduledView sv;
    sv.view = v->name();
    sv.topic = v->topic();
    sv.cut = it->second;
    auto live = batch_->OpenLive(v->name());
    if (live.ok()) {
      const batch::VersionManifest& m = (*live)->manifest();
      auto lc = m.cuts.find(v->topic());
      if (m.fingerprint == v->Fingerprint() && lc != m.cuts.end() && lc->second == sv.cut) {
        sv.skipped = true;
        sv.version = m.version;
        sv.cells = m.cells;
        sv.records = m.events;
      }
    }
    if (!sv.skipped) groups[{v->topic(), sv.cut.ToString()}].push_back(v);
    run->views.push_back(std::move(sv));
  }
  auto find = [run](const std::string& name) -> ScheduledView* {
    for (ScheduledView& v : run->views) {
      if (v.view == name) return &v;
    }
    return nullptr;
  };
  Status first_error;
  for (auto& [key, group] : groups) {
    t = Clock::now();
    batch::RunRequest req;
    req.views = group;
    req.cuts[key.first] = find(group.front()->name())->cut;
    req.publish = false;
    auto result = batch_->Run(req);
    run->build_seconds += SecondsSince(t);
    if (!result.ok()) {
      if (first_error.ok()) first_error = result.status();
      continue;
    }
    t = Clock::now();
    for (const batch::ViewRunResult& r : result->views) {
      ScheduledView* sv = find(r.view);
      if (sv == nullptr) continue;
      sv->version = r.version;
      sv->records = r.manifest.events;
      sv->cells = r.manifest.cells;
      Status s = batch_->Swap(r.view, r.version);
      if (!s.ok() && first_error.ok()) first_error = s;
    }
    run->swap_seconds += SecondsSince(t);
  }
  // Drop-through, for every view now live at its cut (built or up to date).
  if (speed_ != nullptr) {
    t = Clock::now();
    for (ScheduledView& sv : run->views) {
      auto live = batch_->store()->Live(sv.view);
      if (!live.ok() || *live != sv.version || sv.version == 0) continue;
      auto lock = provider_->Exclusive();
      auto dropped = speed_->Drop(sv.view, sv.cut);
      lock.unlock();
      if (!dropped.ok()) {
        if (first_error.ok()) first_error = dropped.status();
        continue;
      }
      for (RealtimeGeneration g : *dropped) sv.dropped.push_back(static_cast<int64_t>(g.value()));
    }
    run->swap_seconds += SecondsSince(t);
  }
  return first_error;
}

std::string BatchScheduler::StatusJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j;
  j["interval_ms"] = options_.interval_ms;
  j["running"] = running_;
  j["pending_requests"] = pending_.size();
  if (options_.interval_ms > 0) {
    j["next_run_ms"] = next_due_wall_ms_;
  } else {
    j["next_run_ms"] = nullptr;
  }
  j["runs"] = runs_;
  j["failed_runs"] = failed_runs_;
  if (last_.id != 0) {
    j["last"] = nlohmann::json::parse(last_.ToJson());
  } else {
    j["last"] = nullptr;
  }
  return j.dump();
}

uint64_t BatchScheduler::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}
uint64_t BatchScheduler::failed_runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_runs_;
}
ScheduledRun BatchScheduler::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}
bool BatchScheduler::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

}  // namespace braid::serving
