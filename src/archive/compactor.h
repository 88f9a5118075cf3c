// Consolidation of small files: the files of one hour folder with the same
// partition, kind and schema are rewritten into one larger file
// (part-<partition>-<first>-<last>.avro) that replaces them in the manifest
// in one atomic change (Dataset::Swap). Records keep their offset order, so
// offset runs concatenate. The old files are deleted once no reader lease
// can see them (Dataset::CollectGarbage). A crash before the swap leaves an
// unlisted file (deleted at the next start); after it, unlisted old files
// (deleted likewise). Dead-letter files are not consolidated.
#pragma once

#include <cstdint>
#include <string>

#include "archive/dataset.h"

namespace braid::archive {

struct ConsolidateOptions {
  // Consolidate a group once it has at least this many files. Default: 4.
  size_t min_files = 4;
  // Largest consolidated file (sum of input sizes). Default: 128 MiB.
  uint64_t target_bytes = uint64_t{128} << 20;
  // Codec of the new file. Default: "zstandard" (see ArchiverOptions::codec).
  std::string codec = "zstandard";
};

// One pass over `topic`. Returns the number of consolidated files written;
// *replaced_files (optional) receives the number of input files replaced.
Result<int> ConsolidateTopic(Dataset* dataset, const std::string& topic,
                             const ConsolidateOptions& options, uint64_t* replaced_files = nullptr);

}  // namespace braid::archive
