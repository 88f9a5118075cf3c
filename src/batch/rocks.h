// The RocksDB boundary of the batch layer: the options of batch view stores
// and their SST files, and rocksdb::Status → Status.
#pragma once

#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include <string_view>

#include "base/status.h"

namespace braid::batch {

// Options of a batch view store (and of the SST files ingested into it):
// LZ4 blocks of 16 KiB, a bloom filter for point reads, every table opened
// at start (max_open_files = -1: a version whose files are unlinked while a
// reader holds it stays readable), a shared 32 MiB block cache.
rocksdb::Options RocksOptions();

// NotFound, Corruption, IOError (ResourceExhausted/kNoSpace for "No space"),
// InvalidArgument, ... with `context` prefixed.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

}  // namespace braid::batch
