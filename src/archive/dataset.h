// Dataset: the master dataset under one root directory: per topic, the
// manifest (manifest.h) and the files it lists.
//
// Layout:
//   <root>/<topic>/_manifest.json
//   <root>/<topic>/dt=YYYY-MM-DD/hour=HH/part-<partition>-<first offset>.avro
//   <root>/<topic>/dt=YYYY-MM-DD/hour=HH/part-<partition>-<first>-<last>.avro (consolidated)
//   <root>/<topic>/_dead_letters/part-<partition>-<first offset>.avro
//   .part-*.avro.tmp                         (being written; never listed)
//
// A file exists in the dataset only once the manifest lists it. A writable
// Dataset deletes, the first time it touches a topic, every file of that
// topic that the manifest does not list (unfinished or orphaned by a crash),
// so the archiver resumes from the manifest alone.
//
// Readers take a lease (Snapshot): a manifest version whose files stay on
// disk while the lease lives, even if a consolidation replaces them meanwhile
// (in-process reference counting; another process reading the files has no
// such protection and should re-read the manifest on NotFound).
//
// Thread safety: thread-safe. Changes of one topic are serialized.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "archive/manifest.h"
#include "base/status.h"
#include "io/file_system.h"
#include "log/cut.h"

namespace braid::archive {

struct DatasetOptions {
  // Default: io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // The dataset root directory. Required.
  std::string root;
  // Read-only: never deletes orphans nor changes manifests (status, verify,
  // readers in another process than the archiver). Default: false.
  bool read_only = false;
};

// A manifest version held by a reader; files it lists stay on disk while any
// copy of the shared_ptr lives.
using ManifestLease = std::shared_ptr<const Manifest>;

// One file of a read plan.
struct PlannedFile {
  std::string path;  // absolute
  FileEntry entry;
  // The records of the file below the cut: its first records_below_cut
  // records (records are in offset order within a file).
  int64_t records_below_cut = 0;
};

struct ReadPlan {
  ManifestLease lease;  // keep alive while reading the files
  std::vector<PlannedFile> files;
};

struct TimeRange {
  int64_t from_ms = INT64_MIN;  // inclusive
  int64_t to_ms = INT64_MAX;    // exclusive
};

class Dataset {
 public:
  static Result<std::unique_ptr<Dataset>> Open(DatasetOptions options);
  ~Dataset();

  io::FileSystem* fs() const { return fs_; }
  const std::string& root() const { return root_; }
  std::string TopicDir(std::string_view topic) const;

  // Topics that have a manifest on disk.
  Result<std::vector<std::string>> ListTopics() const;

  // The current manifest of `topic` (an empty one if it has none), as a lease.
  // The first call for a topic loads it (and, if writable, deletes orphans).
  Result<ManifestLease> Snapshot(const std::string& topic);

  // Applies `mutate` to a copy of the current manifest, bumps the version,
  // stores it atomically and publishes it. If `mutate` fails nothing
  // changes. If storing fails, the manifest is re-read from disk (the store
  // may have happened before the error): OK if it did, else the error; if
  // even the re-read fails the topic is marked stale and every call on it
  // retries the re-read first. FailedPrecondition when read-only.
  Status Commit(const std::string& topic, const std::function<Status(Manifest*)>& mutate);

  // True if the current manifest lists `rel_path`. Fails while the topic is
  // stale (its on-disk state unknown).
  Result<bool> IsListed(const std::string& topic, const std::string& rel_path);

  // Replaces the files `old_paths` (relative) of `topic` by `replacement` in
  // one manifest change; the old files are deleted once no lease of an older
  // version lives (CollectGarbage). FailedPrecondition if an old path is no
  // longer listed.
  Status Swap(const std::string& topic, const std::vector<std::string>& old_paths,
              FileEntry replacement);

  // Deletes replaced files that no live lease can see any more. Returns how
  // many were deleted.
  size_t CollectGarbage();
  size_t pending_deletions() const;

  // Creates <root>/<topic>/<rel_dir> and makes every new directory entry
  // durable (SyncDir of each parent). Cached per process.
  Status EnsureDir(const std::string& topic, const std::string& rel_dir);

  // The files of `topic` holding its records with offsets below `cut` (per
  // partition; a partition missing from `cut` contributes nothing), and, if
  // given, with an event time range overlapping `time`. FailedPrecondition
  // if the cut is above a partition's archived high-water mark (the records
  // are not all archived yet). Dead-letter files are not included.
  Result<ReadPlan> Plan(const std::string& topic, const log::Cut& cut,
                        std::optional<TimeRange> time = std::nullopt);

 private:
  struct TopicState;
  struct Leases;
  explicit Dataset(DatasetOptions options);
  Result<std::shared_ptr<TopicState>> GetTopic(const std::string& topic);
  Status LoadLocked(TopicState* t);
  Status DeleteOrphans(const Manifest& m);
  ManifestLease MakeLease(const std::shared_ptr<const Manifest>& m);

  io::FileSystem* const fs_;
  const std::string root_;
  const bool read_only_;
  std::shared_ptr<Leases> leases_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<TopicState>> topics_;  // guarded by mu_
  std::set<std::string> synced_dirs_;                          // guarded by mu_
  struct Pending {
    std::string path;
    uint64_t version;  // first manifest version without the file
    std::string topic;
  };
  std::vector<Pending> pending_;  // guarded by mu_
};

}  // namespace braid::archive
