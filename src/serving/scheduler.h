// The two halves of `braid up`'s serving layer that join the batch and the
// speed layer (DESIGN.md "The batch/realtime boundary is a log cut"):
//
//   LayersProvider   opens a view's live batch version and the realtime
//                    generations after that version's cut, consistently
//                    (the SnapshotProvider of query.h);
//   BatchScheduler   one batch run: seal the speed layer's current
//                    generation at its consumed cut, make the archive cover
//                    that cut, build every view's next version over exactly
//                    the records below it, then (excluding snapshot opens)
//                    swap the new versions live and drop the realtime
//                    generations they cover. Runs every `interval_ms` and
//                    on demand, one run at a time, never blocking queries.
//
// Why answers stay exact. A snapshot pairs batch version V (cut C) with the
// realtime generations after C. Seal cuts are where generations end, and a
// batch run computes at exactly a seal cut, so no generation straddles C.
// Swapping V+1 (cut C') live alone is harmless (a new snapshot reads after
// C'); dropping the generations below C' is not (a snapshot that paired V
// with them would lose events), so Drop runs under an exclusive lock that
// the opening of a snapshot takes shared. Once opened, a snapshot reads a
// RocksDB snapshot and a version handle: later swaps and drops do not
// change it. A crash between swap and drop leaves generations that no
// snapshot merges (they are below the live cut) until the next run drops
// them.
//
// Thread safety: both classes are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archiver.h"
#include "base/status.h"
#include "batch/batch_layer.h"
#include "serving/query.h"
#include "stream/speed_layer.h"
#include "views/view.h"

namespace braid::serving {

class LayersProvider final : public SnapshotProvider {
 public:
  // `batch` and `speed` may be null (that layer is absent); both must
  // outlive the provider.
  LayersProvider(std::vector<std::shared_ptr<const views::ViewDefinition>> views,
                 batch::BatchLayer* batch, stream::SpeedLayer* speed);

  // NotFound for an unknown view. A live batch version built by another
  // definition of the view (its fingerprint differs) is not used: the speed
  // layer recomputes such a view from the log, and the next batch run
  // replaces the version. Unavailable when the live version's cut is not
  // one the realtime store was sealed at (a version built outside this
  // process, e.g. `braid batch run --cut` on a stopped data directory): the
  // next batch run fixes it.
  Result<ViewSnapshot> Open(const std::string& view) override;
  std::vector<std::shared_ptr<const views::ViewDefinition>> Views() override { return views_; }
  std::shared_ptr<const views::ViewDefinition> Find(const std::string& view) const;

  // Held by the scheduler while it drops realtime generations: no snapshot
  // opens meanwhile.
  std::unique_lock<std::shared_mutex> Exclusive() {
    return std::unique_lock<std::shared_mutex>(mu_);
  }

 private:
  const std::vector<std::shared_ptr<const views::ViewDefinition>> views_;
  batch::BatchLayer* const batch_;
  stream::SpeedLayer* const speed_;
  std::shared_mutex mu_;
};

struct SchedulerOptions {
  // A batch run every this many ms (0: only on demand). Default: 15 min.
  int64_t interval_ms = 15 * 60 * 1000;
  // How long a run waits for the archive to cover the sealed cut. Default:
  // 5 min.
  std::chrono::milliseconds cover_timeout{5 * 60 * 1000};
};

// What one batch run did, per view.
struct ScheduledView {
  std::string view;
  std::string topic;
  log::Cut cut;
  uint64_t version = 0;  // 0: not rebuilt (skipped)
  bool skipped = false;  // the live version already covers exactly this cut
  uint64_t records = 0;
  uint64_t cells = 0;
  std::vector<int64_t> dropped;  // realtime generations dropped
};

struct ScheduledRun {
  uint64_t id = 0;
  std::string trigger;  // "interval" or "request"
  int64_t started_ms = 0;
  double seconds = 0;
  double seal_seconds = 0, cover_seconds = 0, build_seconds = 0, swap_seconds = 0;
  int64_t sealed_generation = -1;
  std::vector<ScheduledView> views;
  std::string error;  // empty: succeeded
  std::string ToJson() const;
};

class BatchScheduler {
 public:
  // `batch` is required; `speed` and `archiver` may be null (without a speed
  // layer a run builds at the archive's high-water marks; without an
  // archiver it does not wait for the archive).
  BatchScheduler(SchedulerOptions options, LayersProvider* provider, batch::BatchLayer* batch,
                 stream::SpeedLayer* speed, archive::Archiver* archiver);
  ~BatchScheduler();  // Stop()s

  void Start();
  // Fails the runs not started yet with Unavailable, cancels the running
  // one's waits, joins. Idempotent.
  void Stop();

  // Asks for a run of `views` (empty: all) that starts after this call;
  // `done` is called once with it (also when it failed or the scheduler
  // stopped). Requests that arrive while a run is in progress share the
  // next run. Returns the id of the run that will answer. InvalidArgument
  // for an unknown view name.
  using Done = std::function<void(const ScheduledRun&)>;
  Result<uint64_t> Request(std::vector<std::string> views, Done done);

  // {"interval_ms","running","next_run_ms","runs","failed_runs","last":{...}}
  std::string StatusJson() const;
  uint64_t runs() const;
  uint64_t failed_runs() const;
  // The last finished run (id 0 if none).
  ScheduledRun last() const;
  bool running() const;

 private:
  struct Pending {
    std::vector<std::string> views;
    Done done;
  };
  void Loop();
  ScheduledRun RunOnce(uint64_t id, const std::string& trigger,
                       const std::vector<std::string>& only);
  Status Execute(const std::vector<std::shared_ptr<const views::ViewDefinition>>& views,
                 ScheduledRun* run);

  const SchedulerOptions options_;
  LayersProvider* const provider_;
  batch::BatchLayer* const batch_;
  stream::SpeedLayer* const speed_;
  archive::Archiver* const archiver_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                               // guarded by mu_
  bool running_ = false;                            // guarded by mu_
  std::vector<Pending> pending_;                    // guarded by mu_
  uint64_t next_id_ = 1;                            // guarded by mu_
  std::chrono::steady_clock::time_point next_due_;  // guarded by mu_
  int64_t next_due_wall_ms_ = 0;                    // guarded by mu_
  uint64_t runs_ = 0, failed_runs_ = 0;             // guarded by mu_
  ScheduledRun last_;                               // guarded by mu_
  std::thread thread_;
};

}  // namespace braid::serving
