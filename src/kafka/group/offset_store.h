// OffsetStore: the durable home of consumer groups' committed offsets.
//
// An append-only file `<dir>/offsets.log` of CRC-framed records (commit,
// offset tombstone, group tombstone, group state), replayed on Open() with
// compacted semantics (the last record for a key wins, tombstones delete),
// and rewritten (compacted) atomically when it grows past twice its live
// size. The in-memory image (groups()) is always exactly what a replay of the
// file would produce.
//
// File format (all integers big-endian):
//   frame   := u32 payload_length | u32 crc32c(payload) | payload
//   payload := u8 type | fields
//   type 1 commit:        str group, str topic, i32 partition, i64 offset,
//                         i32 leader_epoch, nstr metadata, i64 commit_ms
//   type 2 offset delete: str group, str topic, i32 partition
//   type 3 group delete:  str group
//   type 4 group state:   str group, str protocol_type, i64 empty_since_ms
//   str := u32 length | bytes;  nstr := i32 length (-1 = null) | bytes
// A torn or corrupt tail (crash during append) is cut off at the last whole
// record on Open(), with a warning naming the byte offset.
//
// Thread safety: not thread-safe; the GroupCoordinator calls it under its lock.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"

namespace braid::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // verbatim, null kept null
  int64_t commit_timestamp_ms = 0;      // wall clock at commit
};

// What the store remembers about one group.
struct StoredGroup {
  // "consumer" for subscribe() groups; "" for groups that only ever had
  // simple (assign()) commits.
  std::string protocol_type;
  // Wall-clock time the group last became empty; -1 if it had members at the
  // time of the last state record (then the load time counts as "empty since").
  int64_t empty_since_ms = -1;
  std::map<TopicPartition, CommittedOffset> offsets;
};

struct OffsetStoreOptions {
  // Sync the file after every write (a commit is acknowledged only once
  // durable). Default: true.
  bool sync = true;
  // Never compact a file smaller than this. Default: 4 MiB.
  uint64_t compact_min_bytes = 4u << 20;
  // Refuse to load a file larger than this. Default: 1 GiB.
  uint64_t max_file_bytes = uint64_t{1} << 30;
};

// Creates `dir` (and missing parents) and makes the entries durable by
// syncing every directory from `dir` up to the root.
Status CreateDirsDurably(io::FileSystem* fs, const std::string& dir);

class OffsetStore {
 public:
  // Creates `dir` if needed and replays `dir`/offsets.log.
  static Result<std::unique_ptr<OffsetStore>> Open(io::FileSystem* fs, std::string dir,
                                                   OffsetStoreOptions options = {});
  ~OffsetStore();
  OffsetStore(const OffsetStore&) = delete;
  OffsetStore& operator=(const OffsetStore&) = delete;

  const std::map<std::string, StoredGroup>& groups() const { return groups_; }
  // nullptr if the group has no stored state.
  const StoredGroup* Find(const std::string& group) const;

  // Stores the commits (one write, one sync). The in-memory image changes
  // only if the write succeeded.
  Status Commit(const std::string& group,
                const std::vector<std::pair<TopicPartition, CommittedOffset>>& commits);
  // Forgets the given offsets (retention). Groups left without offsets and
  // without state keep their entry until DeleteGroup.
  Status DeleteOffsets(const std::string& group, const std::vector<TopicPartition>& partitions);
  // Forgets the group and all its offsets.
  Status DeleteGroup(const std::string& group);
  // Records the group's protocol type and when it became empty (-1: active).
  Status SetGroupState(const std::string& group, const std::string& protocol_type,
                       int64_t empty_since_ms);

  // Current file size in bytes.
  uint64_t file_bytes() const { return file_bytes_; }
  // Rewrites the file with only the live state (also done automatically).
  Status Compact();

 private:
  OffsetStore(io::FileSystem* fs, std::string dir, OffsetStoreOptions options);
  Status Load();
  Status AppendRecords(const std::string& payloads_framed);
  Status MaybeCompact();

  io::FileSystem* fs_;
  std::string dir_;
  std::string path_;
  OffsetStoreOptions options_;
  std::unique_ptr<io::WritableFile> file_;
  uint64_t file_bytes_ = 0;
  uint64_t live_bytes_after_compaction_ = 0;
  std::map<std::string, StoredGroup> groups_;
};

}  // namespace braid::kafka
