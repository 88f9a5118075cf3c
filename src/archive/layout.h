// Names of the master dataset's folders and files (see dataset.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "archive/manifest.h"
#include "base/strong_type.h"

namespace braid::archive {

// floor(ms / 3600000).
int64_t HourOf(int64_t time_ms);
// "dt=YYYY-MM-DD/hour=HH" (UTC) of an hour bucket.
std::string HourDir(int64_t hour);
// "part-<partition>-<first offset>.avro".
std::string PartFileName(PartitionId partition, Offset first_offset);
// "part-<partition>-<first offset>-<last offset>.avro" (consolidated).
std::string ConsolidatedFileName(PartitionId partition, Offset first_offset, Offset last_offset);
// User metadata of a file: braid.topic, braid.partition, braid.kind and,
// for kAvro, braid.schema_id.
std::vector<std::pair<std::string, std::string>> FileMetadata(const std::string& topic,
                                                              PartitionId partition, FileKind kind,
                                                              int32_t schema_id);

}  // namespace braid::archive
