#include "archive/dataset.h"

#include <algorithm>
#include <utility>

#include "base/logging.h"

namespace braid::archive {

struct Dataset::TopicState {
  std::mutex mu;  // serializes changes of this topic
  std::string name;
  std::shared_ptr<const Manifest> current;  // null until loaded; guarded by mu
  bool stale = true;                        // on-disk state unknown; guarded by mu
  bool orphans_deleted = false;             // guarded by mu
};

// Live leases per (topic, version).
struct Dataset::Leases {
  std::mutex mu;
  std::map<std::pair<std::string, uint64_t>, int64_t> live;  // guarded by mu

  void Acquire(const std::string& topic, uint64_t v) {
    std::lock_guard<std::mutex> lock(mu);
    ++live[{topic, v}];
  }
  void Release(const std::string& topic, uint64_t v) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = live.find({topic, v});
    if (it != live.end() && --it->second <= 0) live.erase(it);
  }
  // True if a lease of `topic` with a version < v lives.
  bool AnyOlder(const std::string& topic, uint64_t v) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = live.lower_bound({topic, 0});
    return it != live.end() && it->first.first == topic && it->first.second < v;
  }
};

Dataset::Dataset(DatasetOptions options)
    : fs_(options.fs != nullptr ? options.fs : io::DefaultFileSystem()),
      root_(std::move(options.root)),
      read_only_(options.read_only),
      leases_(std::make_shared<Leases>()) {}

Dataset::~Dataset() = default;

Result<std::unique_ptr<Dataset>> Dataset::Open(DatasetOptions options) {
  if (options.root.empty()) return Status::InvalidArgument("dataset root is empty");
  std::unique_ptr<Dataset> d(new Dataset(std::move(options)));
  if (!d->read_only_) {
    RETURN_IF_ERROR(d->fs_->CreateDirs(d->root_));
    RETURN_IF_ERROR(d->fs_->SyncDir(io::DirName(d->root_)));
  }
  return d;
}

std::string Dataset::TopicDir(std::string_view topic) const { return io::JoinPath(root_, topic); }

Result<std::vector<std::string>> Dataset::ListTopics() const {
  std::vector<std::string> out;
  if (!fs_->FileExists(root_)) return out;
  ASSIGN_OR_RETURN(auto names, fs_->ListDir(root_));
  for (const std::string& n : names) {
    if (n.empty()) continue;
    if (fs_->FileExists(ManifestPath(root_, n))) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::shared_ptr<Dataset::TopicState>> Dataset::GetTopic(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = topics_[topic];
  if (!t) {
    t = std::make_shared<TopicState>();
    t->name = topic;
  }
  return t;
}

Status Dataset::LoadLocked(TopicState* t) {
  if (!t->stale) return Status::OK();
  ASSIGN_OR_RETURN(Manifest m, LoadManifest(fs_, root_, t->name));
  if (!read_only_ && !t->orphans_deleted) {
    RETURN_IF_ERROR(DeleteOrphans(m));
    t->orphans_deleted = true;
  }
  t->current = std::make_shared<const Manifest>(std::move(m));
  t->stale = false;
  return Status::OK();
}

namespace {
bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool IsDataFileName(std::string_view n) {
  return (HasPrefix(n, "part-") || HasPrefix(n, ".part-")) &&
         (n.ends_with(".avro") || n.ends_with(".tmp"));
}
}  // namespace

Status Dataset::DeleteOrphans(const Manifest& m) {
  const std::string dir = TopicDir(m.topic);
  if (!fs_->FileExists(dir)) return Status::OK();
  std::set<std::string> listed;
  for (const FileEntry& f : m.files) listed.insert(f.path);
  // The layout is fixed: dt=*/hour=*/files and _dead_letters/files.
  std::vector<std::string> file_dirs;
  ASSIGN_OR_RETURN(auto top, fs_->ListDir(dir));
  for (const std::string& n : top) {
    if (n == "_dead_letters") file_dirs.push_back(n);
    if (!HasPrefix(n, "dt=")) continue;
    auto hours = fs_->ListDir(io::JoinPath(dir, n));
    if (!hours.ok()) continue;
    for (const std::string& h : *hours) {
      if (HasPrefix(h, "hour=")) file_dirs.push_back(n + "/" + h);
    }
  }
  for (const std::string& rel_dir : file_dirs) {
    auto files = fs_->ListDir(io::JoinPath(dir, rel_dir));
    if (!files.ok()) continue;
    bool deleted = false;
    for (const std::string& f : *files) {
      if (!IsDataFileName(f)) continue;
      const std::string rel = rel_dir + "/" + f;
      if (listed.contains(rel)) continue;
      LOG_INFO("archive: deleting unfinished or unlisted file {}", io::JoinPath(dir, rel));
      RETURN_IF_ERROR(fs_->DeleteFile(io::JoinPath(dir, rel)));
      deleted = true;
    }
    if (deleted) RETURN_IF_ERROR(fs_->SyncDir(io::JoinPath(dir, rel_dir)));
  }
  return Status::OK();
}

ManifestLease Dataset::MakeLease(const std::shared_ptr<const Manifest>& m) {
  leases_->Acquire(m->topic, m->version);
  std::shared_ptr<Leases> leases = leases_;
  return ManifestLease(m.get(), [hold = m, leases](const Manifest*) {
    leases->Release(hold->topic, hold->version);
  });
}

Result<ManifestLease> Dataset::Snapshot(const std::string& topic) {
  ASSIGN_OR_RETURN(auto t, GetTopic(topic));
  std::lock_guard<std::mutex> lock(t->mu);
  RETURN_IF_ERROR(LoadLocked(t.get()));
  return MakeLease(t->current);
}

Status Dataset::Commit(const std::string& topic, const std::function<Status(Manifest*)>& mutate) {
  if (read_only_) return Status::FailedPrecondition("dataset opened read-only");
  ASSIGN_OR_RETURN(auto t, GetTopic(topic));
  std::lock_guard<std::mutex> lock(t->mu);
  RETURN_IF_ERROR(LoadLocked(t.get()));
  Manifest next = *t->current;
  RETURN_IF_ERROR(mutate(&next));
  next.version = t->current->version + 1;
  next.topic = topic;
  RETURN_IF_ERROR(EnsureDir(topic, ""));
  Status s = StoreManifest(fs_, root_, next);
  if (s.ok()) {
    t->current = std::make_shared<const Manifest>(std::move(next));
    return Status::OK();
  }
  // The rename may have happened before the error: the disk tells.
  auto reread = LoadManifest(fs_, root_, topic);
  if (!reread.ok()) {
    t->stale = true;
    return s;
  }
  const bool stored = reread->version == next.version;
  t->current = std::make_shared<const Manifest>(std::move(reread).value());
  return stored ? Status::OK() : s;
}

Result<bool> Dataset::IsListed(const std::string& topic, const std::string& rel_path) {
  ASSIGN_OR_RETURN(auto t, GetTopic(topic));
  std::lock_guard<std::mutex> lock(t->mu);
  RETURN_IF_ERROR(LoadLocked(t.get()));
  return t->current->FindFile(rel_path) != nullptr;
}

Status Dataset::Swap(const std::string& topic, const std::vector<std::string>& old_paths,
                     FileEntry replacement) {
  uint64_t version = 0;
  RETURN_IF_ERROR(Commit(topic, [&](Manifest* m) -> Status {
    for (const std::string& p : old_paths) {
      if (m->FindFile(p) == nullptr) {
        return Status::FailedPrecondition(p + " is no longer listed");
      }
    }
    std::set<std::string> old(old_paths.begin(), old_paths.end());
    std::erase_if(m->files, [&](const FileEntry& f) { return old.contains(f.path); });
    m->files.push_back(replacement);
    version = m->version + 1;
    return Status::OK();
  }));
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& p : old_paths) {
    pending_.push_back({io::JoinPath(TopicDir(topic), p), version, topic});
  }
  return Status::OK();
}

size_t Dataset::CollectGarbage() {
  std::vector<Pending> todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Pending> keep;
    for (Pending& p : pending_) {
      if (leases_->AnyOlder(p.topic, p.version)) {
        keep.push_back(std::move(p));
      } else {
        todo.push_back(std::move(p));
      }
    }
    pending_ = std::move(keep);
  }
  size_t n = 0;
  for (const Pending& p : todo) {
    Status s = fs_->DeleteFile(p.path);
    if (s.ok() || s.IsNotFound()) {
      ++n;
    } else {
      LOG_WARN("archive: cannot delete replaced file {}: {}", p.path, s.ToString());
      std::lock_guard<std::mutex> lock(mu_);
      pending_.push_back(p);
    }
  }
  return n;
}

size_t Dataset::pending_deletions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

Status Dataset::EnsureDir(const std::string& topic, const std::string& rel_dir) {
  std::string dir = TopicDir(topic);
  if (!rel_dir.empty()) dir = io::JoinPath(dir, rel_dir);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (synced_dirs_.contains(dir)) return Status::OK();
  }
  RETURN_IF_ERROR(fs_->CreateDirs(dir));
  // Make each component's entry durable, from the root down.
  std::vector<std::string> chain;
  for (std::string d = dir; d.size() > root_.size(); d = io::DirName(d)) chain.push_back(d);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    RETURN_IF_ERROR(fs_->SyncDir(io::DirName(*it)));
  }
  std::lock_guard<std::mutex> lock(mu_);
  synced_dirs_.insert(dir);
  return Status::OK();
}

Result<ReadPlan> Dataset::Plan(const std::string& topic, const log::Cut& cut,
                               std::optional<TimeRange> time) {
  ReadPlan plan;
  ASSIGN_OR_RETURN(plan.lease, Snapshot(topic));
  const Manifest& m = *plan.lease;
  for (const auto& [p, c] : cut.offsets) {
    auto it = m.partitions.find(p);
    const int64_t hwm = it == m.partitions.end() ? 0 : it->second.hwm.value();
    if (c.value() > hwm) {
      return Status::FailedPrecondition(
          "topic " + topic + " partition " + std::to_string(p.value()) + ": cut " +
          std::to_string(c.value()) + " is above the archived high-water mark " +
          std::to_string(hwm));
    }
  }
  for (const FileEntry& f : m.files) {
    if (f.kind == FileKind::kDeadLetter) continue;
    auto c = cut.offsets.find(PartitionId(f.partition));
    if (c == cut.offsets.end()) continue;
    const int64_t below = CountBelow(f.runs, c->second);
    if (below == 0) continue;
    if (time && (f.max_time < time->from_ms || f.min_time >= time->to_ms)) continue;
    plan.files.push_back({io::JoinPath(TopicDir(topic), f.path), f, below});
  }
  std::sort(plan.files.begin(), plan.files.end(), [](const PlannedFile& a, const PlannedFile& b) {
    return std::tie(a.entry.partition, a.entry.first_offset) <
           std::tie(b.entry.partition, b.entry.first_offset);
  });
  return plan;
}

}  // namespace braid::archive
