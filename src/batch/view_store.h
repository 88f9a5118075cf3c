// ViewStore: the batch views of a data directory, versioned (DESIGN.md
// "Batch layer"; docs/operations.md "The data directory").
//
// Layout, per view:
//   <root>/<view>/<version>/           one immutable RocksDB store per version
//                                      (version = 6+ decimal digits: 000001),
//                                      the SST files of the run ingested into
//                                      it (the HBase bulk-load idea), plus
//   <root>/<view>/<version>/BRAID-VERSION.json   the version's manifest
//   <root>/<view>/LIVE                 the live version's number
//   <root>/<view>/.build-<version>-*   a version being built (never read)
//
// Publication. A version is built in a hidden directory: the store is
// created, the SST files ingested (moved), the manifest written and synced,
// the store closed, and only then is the directory renamed to its number
// (and the parent directory synced): a version is either complete or absent.
// Publish() makes a version live by replacing LIVE atomically (write,
// fsync, rename, fsync the directory). A crash (kill -9) at any point leaves
// the old LIVE and no half-built version (hidden directories are deleted by
// the next Open()).
//
// Readers. OpenLive()/OpenVersion() return a handle on an open, read-only
// store; the version stays readable while any handle lives, even once it is
// no longer live and beyond the kept versions (its directory is deleted when
// the last handle goes). Within one process only: another process reading a
// version directory has no such protection.
//
// Retention. After each Publish() the newest `keep_versions` versions and
// the live one are kept; older ones are deleted. Rollback() makes the newest
// kept version older than the live one live.
//
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "io/file_system.h"
#include "log/cut.h"
#include "views/time_bucket.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace braid::batch {

inline constexpr const char* kVersionManifestName = "BRAID-VERSION.json";
inline constexpr const char* kLiveFileName = "LIVE";

// What a version holds (its manifest, BRAID-VERSION.json).
struct VersionManifest {
  static constexpr int kFormat = 1;
  std::string view;
  uint64_t version = 0;
  // The view definition: fingerprint (ViewDefinition::Fingerprint), monoid
  // spec, granularities kept, source topic.
  std::string fingerprint;
  std::string monoid;
  std::vector<views::Granularity> granularities;
  std::string topic;
  // The offset cut covered, per topic: exactly the records below it.
  std::map<std::string, log::Cut> cuts;
  std::string braid_version;
  int64_t created_ms = 0;  // wall clock, ms since the epoch
  double build_seconds = 0;
  uint64_t records = 0;     // records read by the run
  uint64_t events = 0;      // records mapped by this view
  uint64_t map_errors = 0;  // events the view's map rejected
  uint64_t cells = 0;
  uint64_t bytes = 0;  // of the SST files
};

// JSON {"crc32c": C, "manifest": {...}} (CRC-32C of the manifest's compact
// JSON); Corruption for a bad checksum or malformed content.
std::string EncodeVersionManifest(const VersionManifest& m);
Result<VersionManifest> DecodeVersionManifest(std::string_view text);
// The manifest as a JSON object (no checksum), for the HTTP API.
std::string VersionManifestJson(const VersionManifest& m);

// An open version (read-only).
class ViewVersion {
 public:
  ~ViewVersion();
  const VersionManifest& manifest() const { return manifest_; }
  uint64_t version() const { return manifest_.version; }

  // The value of a cell, or nullopt.
  Result<std::optional<std::string>> Get(std::string_view cell_key) const;
  // Calls fn(key, value) for the cells with keys in [from, to) (an empty
  // `to`: no upper bound), in key order, until fn returns false or `limit`
  // cells (0: no limit).
  Status Scan(std::string_view from, std::string_view to, size_t limit,
              const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // The same for the cells whose key starts with `prefix`.
  Status ScanPrefix(std::string_view prefix, size_t limit,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const;

 private:
  friend class ViewStore;
  ViewVersion() = default;
  std::unique_ptr<rocksdb::DB> db_;
  VersionManifest manifest_;
  std::string dir_;
  io::FileSystem* fs_ = nullptr;
  // Set when the version was deleted while this handle was open: the
  // directory goes with the handle.
  std::shared_ptr<std::atomic<bool>> doomed_;
};

struct VersionInfo {
  VersionManifest manifest;
  bool live = false;
};

struct ViewStoreOptions {
  // Default: io::DefaultFileSystem() (RocksDB itself always uses the real
  // file system).
  io::FileSystem* fs = nullptr;
  // The directory of the views (DIR/views). Required.
  std::string root;
  // Versions kept per view (besides the live one). Default: 3.
  size_t keep_versions = 3;
};

class ViewStore {
 public:
  // Creates `root` if needed and deletes the hidden build directories that
  // a crash left behind.
  static Result<std::unique_ptr<ViewStore>> Open(ViewStoreOptions options);
  ~ViewStore();

  const std::string& root() const { return root_; }

  // Views with at least one version or a LIVE file, sorted.
  Result<std::vector<std::string>> ListViews() const;

  // Builds the next version of `view` from `sst_files` (sorted SST files
  // with disjoint key ranges, moved into the store) and `manifest` (its view
  // and version fields are set here). Not live until Publish(). Returns the
  // version number.
  Result<uint64_t> AddVersion(const std::string& view, const std::vector<std::string>& sst_files,
                              VersionManifest manifest);
  // Makes `version` live (atomically), then deletes versions beyond the kept
  // ones. NotFound for an unknown version.
  Status Publish(const std::string& view, uint64_t version);
  // Makes the newest version older than the live one live. Returns it.
  // FailedPrecondition if there is none (or nothing is live).
  Result<uint64_t> Rollback(const std::string& view);

  // The live version; NotFound if the view has none.
  Result<uint64_t> Live(const std::string& view) const;
  // Every version on disk, oldest first.
  Result<std::vector<VersionInfo>> Versions(const std::string& view) const;

  // A read handle on the live version / a version.
  Result<std::shared_ptr<const ViewVersion>> OpenLive(const std::string& view);
  Result<std::shared_ptr<const ViewVersion>> OpenVersion(const std::string& view, uint64_t version);

 private:
  explicit ViewStore(ViewStoreOptions options);
  std::string ViewDir(const std::string& view) const;
  std::string VersionDir(const std::string& view, uint64_t version) const;
  Result<std::vector<uint64_t>> VersionNumbers(const std::string& view) const;
  Result<std::optional<uint64_t>> ReadLive(const std::string& view) const;
  Status CollectLocked(const std::string& view);

  io::FileSystem* const fs_;
  const std::string root_;
  const size_t keep_;
  mutable std::mutex mu_;
  // Open handles, to share one open store per version and to defer the
  // deletion of versions still read.
  struct OpenHandle {
    std::weak_ptr<const ViewVersion> handle;
    std::shared_ptr<std::atomic<bool>> doomed;
  };
  std::map<std::pair<std::string, uint64_t>, OpenHandle> open_;  // guarded by mu_
  // The live version's handle, kept open between reads.
  std::map<std::string, std::shared_ptr<const ViewVersion>> live_;  // guarded by mu_
  std::map<std::string, uint64_t> build_seq_;  // last number handed out per view; mu_
};

// "000042".
std::string VersionDirName(uint64_t version);
// Valid view names: [A-Za-z0-9_.-]+, not starting with '.'.
Status CheckViewName(std::string_view name);

}  // namespace braid::batch
