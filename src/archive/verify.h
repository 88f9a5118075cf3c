// Verification of a master dataset (braid archive verify): every topic's
// manifest checksum and invariant (CheckManifest: per partition, the files,
// skipped and lost runs tile [start, hwm) with no gap or overlap), and every
// listed file: present, of the listed size, a readable Avro container whose
// record count matches, whose braid.partition metadata matches, and, for
// envelope and dead-letter files, whose records carry exactly the listed
// offsets in order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"

namespace braid::archive {

struct VerifyReport {
  uint64_t topics = 0;
  uint64_t files = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// Reads-only. Fails only if the root cannot be listed; everything else is a
// problem in the report.
Result<VerifyReport> VerifyDataset(io::FileSystem* fs, const std::string& root);

}  // namespace braid::archive
