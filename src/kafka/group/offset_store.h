// OffsetStore: the durable home of consumer groups' committed offsets and
// group metadata: Kafka's own `__consumer_offsets` topic in braid's log, in
// the record formats Kafka 3.x writes (offsets_topic_format.h), so that any
// Kafka consumer (lag monitors such as Burrow) reads it. The GroupCoordinator
// serves OffsetFetch from this store's in-memory image; the image is always
// what a replay of the topic gives.
//
// Layout: group G's records go to partition OffsetsPartitionFor(G, n) of
// the n-partition topic (Kafka's partitioner), so one group's records are
// in order. An offset commit is an OffsetCommitKey/Value record, a group's
// state after a rebalance or when it becomes empty a GroupMetadataKey/Value
// record; deletions (retention, DeleteGroups, OffsetDelete, DeleteTopics)
// are tombstones (null values). Records of one call are one batch.
//
// Durability: every write is appended and fsynced (Partition::Flush) before
// the call returns OK, so a commit is acknowledged only once durable; on a
// failed write the in-memory image is unchanged.
//
// Bounded growth (compaction by rewriting): the topic has
// cleanup.policy=compact, so time and size retention never delete offsets.
// When a partition's bytes exceed max(compact_min_bytes, 2 x its size after
// the previous compaction), the store rolls the partition's segment, appends
// the live image of the partition's groups (one record per live key, no
// tombstones), fsyncs, and moves the log start offset to the first record of
// that image: every older segment is deleted. A reader starting at the log
// start sees exactly one record per live key, which is what Kafka's log
// cleaner leaves (offsets of the kept records differ: they are rewritten,
// not kept). A crash in the middle replays to the same image.
//
// Migration: a data directory of an older braid kept offsets in its own file
// (`<legacy_dir>/offsets.log`, read by legacy_offsets_file.h). Open() writes
// its whole content into the topic, fsyncs, and renames the file to
// `offsets.log.migrated`; a crash before the rename repeats the migration,
// which writes the same values again.
//
// Thread safety: not thread-safe; the GroupCoordinator calls it under its
// lock. Readers of the topic (fetching clients) are safe: the log is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"
#include "kafka/group/offsets_topic_format.h"
#include "log/log.h"

namespace braid::kafka {

// What the store remembers about one group.
struct StoredGroup {
  // The last group metadata record; nullopt for groups that only ever had
  // simple (assign()-style, generation -1) commits, for which Kafka writes
  // none.
  std::optional<GroupMetadata> metadata;
  std::map<TopicPartition, CommittedOffset> offsets;

  // "consumer" for subscribe() groups; "" for simple-commit groups.
  std::string protocol_type() const { return metadata ? metadata->protocol_type : ""; }
  // Wall-clock time the group became empty (the current state timestamp of
  // an empty group's last metadata), or -1 (active at the last record, or
  // no metadata).
  int64_t empty_since_ms() const {
    return metadata && metadata->members.empty() ? metadata->current_state_timestamp_ms : -1;
  }
};

struct OffsetStoreOptions {
  // offsets.topic.num.partitions: partitions of `__consumer_offsets` when the
  // store creates it (an existing topic keeps its count). Default: 50.
  int32_t num_partitions = 50;
  // offsets.topic.segment.bytes: segment.bytes of the topic when created.
  // Default: 104857600.
  int64_t segment_bytes = 104857600;
  // Never compact a partition smaller than this. Default: 4 MiB.
  uint64_t compact_min_bytes = 4u << 20;
  // fsync every write before returning (a commit is acknowledged only once
  // durable). Default: true.
  bool sync = true;
  // Directory of a pre-topic offsets store (`offsets.log`) to migrate on
  // Open(); "" or no such file: nothing to migrate. Default: "".
  std::string legacy_dir;
  // File system of legacy_dir. Default: io::DefaultFileSystem().
  io::FileSystem* legacy_fs = nullptr;
};

class OffsetStore {
 public:
  // Creates `__consumer_offsets` in `log` if missing (cleanup.policy=compact),
  // replays every partition, then migrates the legacy file if there is one.
  // `log` and `clock` (record timestamps) must outlive the store.
  static Result<std::unique_ptr<OffsetStore>> Open(log::Log* log, Clock* clock,
                                                   OffsetStoreOptions options = {});
  ~OffsetStore();
  OffsetStore(const OffsetStore&) = delete;
  OffsetStore& operator=(const OffsetStore&) = delete;

  const std::map<std::string, StoredGroup>& groups() const { return groups_; }
  // nullptr if the group has no stored state.
  const StoredGroup* Find(const std::string& group) const;

  // Stores the commits (one batch, one fsync). ResourceExhausted with
  // IsTooLarge() if the batch exceeds the topic's max.message.bytes (Kafka:
  // INVALID_COMMIT_OFFSET_SIZE).
  Status Commit(const std::string& group,
                const std::vector<std::pair<TopicPartition, CommittedOffset>>& commits);
  // Tombstones for the given offsets (retention, OffsetDelete, topic
  // deletion). Offsets the group does not have are ignored.
  Status DeleteOffsets(const std::string& group, const std::vector<TopicPartition>& partitions);
  // Tombstones for every offset of the group and its metadata.
  Status DeleteGroup(const std::string& group);
  // Records the group's metadata (after a rebalance; when it became empty).
  Status StoreGroupMetadata(const std::string& group, const GroupMetadata& metadata);

  int32_t partition_count() const { return static_cast<int32_t>(partitions_.size()); }
  // The partition of `__consumer_offsets` that holds `group`'s records.
  PartitionId PartitionFor(const std::string& group) const;
  // Rewrites partition `p` (in [0, partition_count())) as described above
  // (also done automatically).
  Status Compact(PartitionId p);
  // Compactions done since Open (for tests and metrics).
  uint64_t compactions() const { return compactions_; }

 private:
  OffsetStore(log::Log* log, Clock* clock, OffsetStoreOptions options);
  struct Write {
    std::string key;
    std::optional<std::string> value;  // nullopt: tombstone
  };
  Status OpenTopic();
  // Index of `p` in partitions_ and compacted_size_.
  static size_t Slot(PartitionId p) { return static_cast<size_t>(p.value()); }
  Status Replay(PartitionId p);
  Status Migrate();
  // Appends `writes` as one batch to partition `p` and fsyncs.
  Status Append(PartitionId p, const std::vector<Write>& writes);
  Status MaybeCompact(PartitionId p);

  log::Log* const log_;
  Clock* const clock_;
  const OffsetStoreOptions options_;
  std::vector<std::shared_ptr<log::Partition>> partitions_;
  std::vector<uint64_t> compacted_size_;  // partition bytes after the last compaction
  std::map<std::string, StoredGroup> groups_;
  uint64_t compactions_ = 0;
  uint64_t skipped_records_ = 0;
};

}  // namespace braid::kafka
