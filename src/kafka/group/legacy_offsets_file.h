// The offsets file of braid versions before the `__consumer_offsets` topic:
// `<dir>/offsets.log`, CRC-framed records replayed with compacted
// semantics. Only read, once, to migrate a data directory (OffsetStore).
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
// A torn or corrupt tail (a crash during an append) ends the replay there,
// as the old store did.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"
#include "io/file_system.h"
#include "kafka/group/offsets_topic_format.h"

namespace braid::kafka {

inline constexpr char kLegacyOffsetsFileName[] = "offsets.log";

struct LegacyGroup {
  std::string protocol_type;  // "" for simple-commit groups
  int64_t empty_since_ms = -1;
  std::map<TopicPartition, CommittedOffset> offsets;
};

// The state the old store would have loaded from `path`. NotFound if the
// file does not exist; Corruption for a malformed record inside the
// CRC-valid prefix.
Result<std::map<std::string, LegacyGroup>> ReadLegacyOffsetsFile(io::FileSystem* fs,
                                                                 const std::string& path,
                                                                 uint64_t max_bytes = uint64_t{1}
                                                                                      << 30);

// Writes `groups` in the legacy format (for tests of the migration).
std::string EncodeLegacyOffsetsFile(const std::map<std::string, LegacyGroup>& groups);

}  // namespace braid::kafka
