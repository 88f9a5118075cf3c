// The manifest of one archived topic: which finished files of the master
// dataset hold which records, and the archived high-water mark per partition.
//
// File: <root>/<topic>/_manifest.json (Hive, Spark and Trino ignore names
// starting with '_'), replaced atomically (io::WriteFileAtomically) on every
// change, so a crash leaves the old or the new version, never a mix. Format
// (docs: src/archive/README.md):
//
//   {"crc32c": <CRC-32C of the "manifest" value's compact JSON text>,
//    "manifest": {"format": 1, "topic": "...", "version": N,
//      "decision": {"archived": true, "reason": "..."},
//      "partitions": {"0": {"start": S, "hwm": H, "skipped": [[o, n], ...],
//                           "lost": [[o, n], ...]}},
//      "files": [{"path": "dt=.../hour=../part-0-0.avro", "kind": "avro",
//                 "partition": 0, "first_offset": 0, "last_offset": 9,
//                 "records": 10, "runs": [[0, 10]], "min_time": t0,
//                 "max_time": t1, "hour": h, "schema_id": 3, "bytes": 1234}]}}
//
// Invariant ("everything below the high-water mark is archived"): for every
// partition, the offset runs of its files (all kinds, dead letters
// included), its skipped runs (control records, offsets absent from the log)
// and its lost runs (deleted by log retention before they were archived)
// tile [start, hwm) exactly: no gap, no overlap. Within a file, records are
// in offset order; runs list the offsets of its records, in order, so the
// i-th record of a file can be traced back to its log offset.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"

namespace braid::archive {

// A run of consecutive offsets [first, first + count).
struct OffsetRun {
  Offset first{0};
  int64_t count = 0;
  Offset end() const { return Offset(first.value() + count); }
  friend bool operator==(const OffsetRun&, const OffsetRun&) = default;
};

// Appends `offset` (or a run) to `runs`, merging with the last run when
// adjacent. Precondition: offsets are appended in increasing order.
void AddToRuns(std::vector<OffsetRun>* runs, Offset offset, int64_t count = 1);
// Number of offsets of `runs` below `cut`.
int64_t CountBelow(const std::vector<OffsetRun>& runs, Offset cut);

enum class FileKind : uint8_t {
  kAvro,        // values of registered Avro schema `schema_id` (Confluent framing removed)
  kEnvelope,    // non-Avro values in the envelope schema (envelope.h)
  kDeadLetter,  // undecodable records in the dead-letter schema (envelope.h)
};
std::string_view FileKindName(FileKind kind);
Result<FileKind> ParseFileKind(std::string_view name);

// One finished, durable, listed file.
struct FileEntry {
  std::string path;  // relative to <root>/<topic>
  FileKind kind = FileKind::kAvro;
  PartitionId partition{0};
  Offset first_offset{0};
  Offset last_offset{0};
  int64_t records = 0;
  std::vector<OffsetRun> runs;
  int64_t min_time = 0;  // event time, ms since the epoch
  int64_t max_time = 0;
  int64_t hour = 0;        // event-time hour bucket: floor(time / 3600000)
  int32_t schema_id = -1;  // registry id (kAvro), else -1
  uint64_t bytes = 0;
};

struct PartitionState {
  Offset start{0};  // first offset archived
  Offset hwm{0};    // every offset in [start, hwm) is accounted for
  std::vector<OffsetRun> skipped;
  std::vector<OffsetRun> lost;
};

struct Manifest {
  static constexpr int kFormat = 1;
  std::string topic;
  uint64_t version = 0;  // bumped by every stored change
  // Whether the topic is archived, decided once (config or first record) and
  // kept, so the decision is stable across restarts. Unset: undecided.
  std::optional<bool> archived;
  std::string decision_reason;
  std::map<PartitionId, PartitionState> partitions;
  std::vector<FileEntry> files;

  const FileEntry* FindFile(std::string_view path) const;
};

// JSON text with checksum (see the file comment).
std::string EncodeManifest(const Manifest& m);
// Corruption (with the reason) on a bad checksum or malformed content.
Result<Manifest> DecodeManifest(std::string_view text);

// Path of a topic's manifest under `root`.
std::string ManifestPath(std::string_view root, std::string_view topic);
// Loads a topic's manifest; an empty Manifest (version 0) if the file is
// missing.
Result<Manifest> LoadManifest(io::FileSystem* fs, std::string_view root, std::string_view topic);
// Stores atomically (write temp, sync, rename, sync dir).
Status StoreManifest(io::FileSystem* fs, std::string_view root, const Manifest& m);

// Checks the manifest's invariant (see the file comment) and basic sanity of
// each entry. Returns human-readable problems; empty when consistent.
std::vector<std::string> CheckManifest(const Manifest& m);

}  // namespace braid::archive
