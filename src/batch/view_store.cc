#include "batch/view_store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/crc.h"
#include "batch/rocks.h"

namespace braid::batch {

using nlohmann::ordered_json;

std::string VersionDirName(uint64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06llu", static_cast<unsigned long long>(version));
  return buf;
}

Status CheckViewName(std::string_view name) {
  if (name.empty() || name[0] == '.' || name.size() > 200) {
    return Status::InvalidArgument("bad view name \"" + std::string(name) + "\"");
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return Status::InvalidArgument("bad view name \"" + std::string(name) +
                                     "\" (allowed: letters, digits, '_', '-', '.')");
    }
  }
  return Status::OK();
}

namespace {

ordered_json ManifestObject(const VersionManifest& m) {
  ordered_json j;
  j["format"] = VersionManifest::kFormat;
  j["view"] = m.view;
  j["version"] = m.version;
  j["fingerprint"] = m.fingerprint;
  j["monoid"] = m.monoid;
  j["granularities"] = ordered_json::array();
  for (views::Granularity g : m.granularities) {
    j["granularities"].push_back(std::string(views::GranularityName(g)));
  }
  j["topic"] = m.topic;
  j["cuts"] = ordered_json::object();
  for (const auto& [topic, cut] : m.cuts) {
    ordered_json c = ordered_json::object();
    for (const auto& [p, o] : cut.offsets) c[std::to_string(p.value())] = o.value();
    j["cuts"][topic] = c;
  }
  j["braid_version"] = m.braid_version;
  j["created_ms"] = m.created_ms;
  j["build_seconds"] = m.build_seconds;
  j["records"] = m.records;
  j["events"] = m.events;
  j["map_errors"] = m.map_errors;
  j["cells"] = m.cells;
  j["bytes"] = m.bytes;
  return j;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string VersionManifestJson(const VersionManifest& m) { return ManifestObject(m).dump(); }

std::string EncodeVersionManifest(const VersionManifest& m) {
  const std::string body = ManifestObject(m).dump();
  return "{\"crc32c\":" + std::to_string(Crc32c(body)) + ",\"manifest\":" + body + "}\n";
}

Result<VersionManifest> DecodeVersionManifest(std::string_view text) {
  const ordered_json outer = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (outer.is_discarded() || !outer.is_object() || !outer.contains("manifest") ||
      !outer.contains("crc32c") || !outer["crc32c"].is_number_unsigned()) {
    return Status::Corruption("version manifest: not a manifest");
  }
  const ordered_json& j = outer["manifest"];
  if (Crc32c(j.dump()) != outer["crc32c"].get<uint32_t>()) {
    return Status::Corruption("version manifest: checksum mismatch");
  }
  VersionManifest m;
  try {
    if (j.at("format").get<int>() != VersionManifest::kFormat) {
      return Status::Corruption("version manifest: unknown format");
    }
    m.view = j.at("view").get<std::string>();
    m.version = j.at("version").get<uint64_t>();
    m.fingerprint = j.at("fingerprint").get<std::string>();
    m.monoid = j.at("monoid").get<std::string>();
    for (const auto& g : j.at("granularities")) {
      ASSIGN_OR_RETURN(views::Granularity gr, views::ParseGranularity(g.get<std::string>()));
      m.granularities.push_back(gr);
    }
    m.topic = j.at("topic").get<std::string>();
    for (const auto& [topic, c] : j.at("cuts").items()) {
      log::Cut cut;
      for (const auto& [p, o] : c.items()) {
        uint64_t pn = 0;
        if (!ParseUint(p, &pn) || pn > INT32_MAX) {
          return Status::Corruption("version manifest: bad partition");
        }
        cut.offsets[PartitionId(static_cast<int32_t>(pn))] = Offset(o.get<int64_t>());
      }
      m.cuts[topic] = std::move(cut);
    }
    m.braid_version = j.at("braid_version").get<std::string>();
    m.created_ms = j.at("created_ms").get<int64_t>();
    m.build_seconds = j.at("build_seconds").get<double>();
    m.records = j.at("records").get<uint64_t>();
    m.events = j.at("events").get<uint64_t>();
    m.map_errors = j.at("map_errors").get<uint64_t>();
    m.cells = j.at("cells").get<uint64_t>();
    m.bytes = j.at("bytes").get<uint64_t>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("version manifest: ") + e.what());
  }
  return m;
}

// --------------------------------------------------------------- ViewVersion

ViewVersion::~ViewVersion() {
  db_.reset();
  if (doomed_ != nullptr && doomed_->load() && fs_ != nullptr) {
    fs_->DeleteDirRecursive(dir_).IgnoreError();
  }
}

Result<std::optional<std::string>> ViewVersion::Get(std::string_view cell_key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(cell_key.data(), cell_key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "batch view " + manifest_.view));
  return std::optional<std::string>(std::move(value));
}

Status ViewVersion::Scan(std::string_view from, std::string_view to, size_t limit,
                         const std::function<bool(std::string_view, std::string_view)>& fn) const {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(to.data(), to.size());
  if (!to.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  size_t n = 0;
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    if (limit > 0 && n >= limit) break;
    ++n;
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "batch view " + manifest_.view);
}

Status ViewVersion::ScanPrefix(
    std::string_view prefix, size_t limit,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  // The smallest key above every key with the prefix: increment the last
  // byte that is not 0xff (none: no upper bound).
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return Scan(prefix, end, limit, fn);
}

// ----------------------------------------------------------------- ViewStore

ViewStore::ViewStore(ViewStoreOptions options)
    : fs_(options.fs != nullptr ? options.fs : io::DefaultFileSystem()),
      root_(std::move(options.root)),
      keep_(std::max<size_t>(1, options.keep_versions)) {}

ViewStore::~ViewStore() = default;

Result<std::unique_ptr<ViewStore>> ViewStore::Open(ViewStoreOptions options) {
  if (options.root.empty()) return Status::InvalidArgument("ViewStoreOptions::root is required");
  std::unique_ptr<ViewStore> s(new ViewStore(std::move(options)));
  RETURN_IF_ERROR(s->fs_->CreateDirs(s->root_));
  ASSIGN_OR_RETURN(auto views, s->fs_->ListDir(s->root_));
  for (const std::string& v : views) {
    auto entries = s->fs_->ListDir(io::JoinPath(s->root_, v));
    if (!entries.ok()) continue;  // a file, not a view
    for (const std::string& e : *entries) {
      const std::string path = io::JoinPath(io::JoinPath(s->root_, v), e);
      uint64_t n = 0;
      // A build a crash interrupted, or a version deleted while a reader
      // held it (its manifest is deleted first).
      if (e.starts_with(".build-") ||
          (ParseUint(e, &n) && !s->fs_->FileExists(io::JoinPath(path, kVersionManifestName)))) {
        RETURN_IF_ERROR(s->fs_->DeleteDirRecursive(path));
      }
    }
  }
  return s;
}

std::string ViewStore::ViewDir(const std::string& view) const { return io::JoinPath(root_, view); }

std::string ViewStore::VersionDir(const std::string& view, uint64_t version) const {
  return io::JoinPath(ViewDir(view), VersionDirName(version));
}

Result<std::vector<std::string>> ViewStore::ListViews() const {
  ASSIGN_OR_RETURN(auto names, fs_->ListDir(root_));
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (!CheckViewName(n).ok()) continue;
    auto versions = VersionNumbers(n);
    if ((versions.ok() && !versions->empty()) ||
        fs_->FileExists(io::JoinPath(ViewDir(n), kLiveFileName))) {
      out.push_back(n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<uint64_t>> ViewStore::VersionNumbers(const std::string& view) const {
  auto names = fs_->ListDir(ViewDir(view));
  if (!names.ok()) {
    if (names.status().IsNotFound()) return std::vector<uint64_t>();
    return names.status();
  }
  std::vector<uint64_t> out;
  for (const std::string& n : *names) {
    uint64_t v = 0;
    if (ParseUint(n, &v) &&
        fs_->FileExists(io::JoinPath(io::JoinPath(ViewDir(view), n), kVersionManifestName))) {
      out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<uint64_t>> ViewStore::ReadLive(const std::string& view) const {
  const std::string path = io::JoinPath(ViewDir(view), kLiveFileName);
  if (!fs_->FileExists(path)) return std::optional<uint64_t>();
  ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path, 64));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  uint64_t v = 0;
  if (!ParseUint(text, &v)) return Status::Corruption(path + ": not a version number");
  return std::optional<uint64_t>(v);
}

Result<uint64_t> ViewStore::AddVersion(const std::string& view,
                                       const std::vector<std::string>& sst_files,
                                       VersionManifest manifest) {
  RETURN_IF_ERROR(CheckViewName(view));
  uint64_t version;
  std::string build;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(fs_->CreateDirs(ViewDir(view)));
    ASSIGN_OR_RETURN(std::vector<uint64_t> versions, VersionNumbers(view));
    ASSIGN_OR_RETURN(std::optional<uint64_t> live, ReadLive(view));
    version = std::max<uint64_t>(versions.empty() ? 0 : versions.back(), live.value_or(0)) + 1;
    // Two builds of one view at once get different numbers.
    version = std::max<uint64_t>(version, build_seq_[view] + 1);
    build_seq_[view] = version;
    build = io::JoinPath(ViewDir(view),
                         ".build-" + VersionDirName(version) + "-" + std::to_string(::getpid()));
  }
  manifest.view = view;
  manifest.version = version;
  auto cleanup = [&](Status s) {
    fs_->DeleteDirRecursive(build).IgnoreError();
    return s;
  };
  {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options o = RocksOptions();
    o.error_if_exists = true;
    Status s = FromRocks(rocksdb::DB::Open(o, build, &raw), "creating " + build);
    if (!s.ok()) return cleanup(s);
    std::unique_ptr<rocksdb::DB> db(raw);
    if (!sst_files.empty()) {
      rocksdb::IngestExternalFileOptions io;
      io.move_files = true;
      s = FromRocks(db->IngestExternalFile(sst_files, io), "ingesting into " + build);
      if (!s.ok()) return cleanup(s);
    }
    s = FromRocks(db->SyncWAL(), "syncing " + build);
    if (s.ok()) s = FromRocks(db->Close(), "closing " + build);
    if (!s.ok()) return cleanup(s);
  }
  Status s = io::WriteFileAtomically(fs_, io::JoinPath(build, kVersionManifestName),
                                     EncodeVersionManifest(manifest));
  if (s.ok()) s = fs_->SyncDir(build);
  if (s.ok()) s = fs_->RenameFile(build, VersionDir(view, version));
  if (s.ok()) s = fs_->SyncDir(ViewDir(view));
  if (!s.ok()) return cleanup(s);
  return version;
}

Status ViewStore::Publish(const std::string& view, uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fs_->FileExists(io::JoinPath(VersionDir(view, version), kVersionManifestName))) {
    return Status::NotFound("view " + view + " has no version " + std::to_string(version));
  }
  RETURN_IF_ERROR(io::WriteFileAtomically(fs_, io::JoinPath(ViewDir(view), kLiveFileName),
                                          std::to_string(version) + "\n"));
  live_.erase(view);
  return CollectLocked(view);
}

Status ViewStore::CollectLocked(const std::string& view) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, VersionNumbers(view));
  ASSIGN_OR_RETURN(std::optional<uint64_t> live, ReadLive(view));
  if (versions.size() <= keep_) return Status::OK();
  for (size_t i = 0; i + keep_ < versions.size(); ++i) {
    const uint64_t v = versions[i];
    if (live && *live == v) continue;
    auto it = open_.find({view, v});
    if (it != open_.end() && !it->second.handle.expired()) {
      // Still read: the last handle deletes the directory. Without its
      // manifest it is no longer a version (listings, numbering).
      it->second.doomed->store(true);
      RETURN_IF_ERROR(fs_->DeleteFile(io::JoinPath(VersionDir(view, v), kVersionManifestName)));
      open_.erase(it);
      continue;
    }
    open_.erase({view, v});
    // The manifest first: a crash in the middle of the deletion leaves a
    // directory that is no longer a version (Open() removes it), never a
    // listed version with some of its files gone.
    RETURN_IF_ERROR(fs_->DeleteFile(io::JoinPath(VersionDir(view, v), kVersionManifestName)));
    RETURN_IF_ERROR(fs_->SyncDir(VersionDir(view, v)));
    RETURN_IF_ERROR(fs_->DeleteDirRecursive(VersionDir(view, v)));
  }
  return fs_->SyncDir(ViewDir(view));
}

Result<uint64_t> ViewStore::Rollback(const std::string& view) {
  uint64_t target = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(std::optional<uint64_t> live, ReadLive(view));
    if (!live) return Status::FailedPrecondition("view " + view + " has no live version");
    ASSIGN_OR_RETURN(std::vector<uint64_t> versions, VersionNumbers(view));
    for (uint64_t v : versions) {
      if (v < *live) target = v;
    }
    if (target == 0) {
      return Status::FailedPrecondition("view " + view + ": no version older than the live " +
                                        std::to_string(*live) + " is kept");
    }
    RETURN_IF_ERROR(io::WriteFileAtomically(fs_, io::JoinPath(ViewDir(view), kLiveFileName),
                                            std::to_string(target) + "\n"));
    live_.erase(view);
  }
  return target;
}

Result<uint64_t> ViewStore::Live(const std::string& view) const {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<uint64_t> live, ReadLive(view));
  if (!live) return Status::NotFound("view " + view + " has no live batch version");
  return *live;
}

Result<std::vector<VersionInfo>> ViewStore::Versions(const std::string& view) const {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, VersionNumbers(view));
  ASSIGN_OR_RETURN(std::optional<uint64_t> live, ReadLive(view));
  std::vector<VersionInfo> out;
  for (uint64_t v : versions) {
    ASSIGN_OR_RETURN(
        std::string text,
        io::ReadFileToString(fs_, io::JoinPath(VersionDir(view, v), kVersionManifestName)));
    auto m = DecodeVersionManifest(text);
    if (!m.ok()) return m.status().WithContext(VersionDir(view, v));
    out.push_back({std::move(*m), live && *live == v});
  }
  return out;
}

Result<std::shared_ptr<const ViewVersion>> ViewStore::OpenVersion(const std::string& view,
                                                                  uint64_t version) {
  RETURN_IF_ERROR(CheckViewName(view));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find({view, version});
  if (it != open_.end()) {
    if (auto h = it->second.handle.lock()) return h;
  }
  const std::string dir = VersionDir(view, version);
  auto text = io::ReadFileToString(fs_, io::JoinPath(dir, kVersionManifestName));
  if (!text.ok()) {
    if (text.status().IsNotFound()) {
      return Status::NotFound("view " + view + " has no version " + std::to_string(version));
    }
    return text.status();
  }
  auto m = DecodeVersionManifest(*text);
  if (!m.ok()) return m.status().WithContext(dir);
  std::shared_ptr<ViewVersion> h(new ViewVersion());
  h->manifest_ = std::move(*m);
  h->dir_ = dir;
  h->fs_ = fs_;
  h->doomed_ = std::make_shared<std::atomic<bool>>(false);
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o = RocksOptions();
  o.create_if_missing = false;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(o, dir, &raw), "opening " + dir));
  h->db_.reset(raw);
  open_[{view, version}] = {h, h->doomed_};
  return std::shared_ptr<const ViewVersion>(std::move(h));
}

Result<std::shared_ptr<const ViewVersion>> ViewStore::OpenLive(const std::string& view) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(view);
    if (it != live_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(uint64_t live, Live(view));
  ASSIGN_OR_RETURN(auto h, OpenVersion(view, live));
  std::lock_guard<std::mutex> lock(mu_);
  // Another thread may have published meanwhile: cache only if still live.
  auto now = ReadLive(view);
  if (now.ok() && *now && **now == live) live_[view] = h;
  return h;
}

}  // namespace braid::batch
