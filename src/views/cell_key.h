// The key of a cell in every view store (batch view versions, the realtime
// store): (view key, granularity, bucket start). The encoding orders cells
// by view key (bytewise), then granularity, then bucket start (numerically,
// negative times included), so one key's buckets of one granularity are
// adjacent and a time range is one seek; a key prefix is a range too
// (`/keys?prefix=`).
//
// Encoding: the view key with every 0x00 byte written as 0x00 0xFF, then the
// terminator 0x00 0x01, then the granularity (1 byte), then the bucket start
// as 8 big-endian bytes with the sign bit flipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "views/time_bucket.h"

namespace braid::views {

std::string EncodeCellKey(std::string_view key, Granularity g, int64_t bucket_start);
// Appends to *out.
void AppendCellKey(std::string_view key, Granularity g, int64_t bucket_start, std::string* out);
// The encoded prefix of every cell of `key` (all granularities), and of
// every cell of `key` at granularity `g`.
std::string CellKeyPrefix(std::string_view key);
std::string CellKeyPrefix(std::string_view key, Granularity g);

// Appends the granularity and bucket start of a cell to CellKeyPrefix(key):
// CellKeyPrefix(key) + this == EncodeCellKey(key, g, bucket_start).
void AppendCellKeyBucket(Granularity g, int64_t bucket_start, std::string* out);

struct CellKey {
  std::string key;
  Granularity granularity = Granularity::kAll;
  int64_t bucket_start = 0;
};
// Corruption for bytes EncodeCellKey did not produce.
Result<CellKey> DecodeCellKey(std::string_view encoded);

}  // namespace braid::views
