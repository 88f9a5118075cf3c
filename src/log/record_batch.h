// The part of Kafka's RecordBatch v2 (magic 2) format that the log needs to
// validate, index and serve batches. The log stores batches as the producer
// sent them; it never decodes (or decompresses) records except to count
// uncompressed ones and to find a record timestamp (see LogOptions).
//
// Batch header, big-endian (61 bytes, then the records):
//   0 base offset int64 | 8 length int32 (bytes after this field) |
//   12 partition leader epoch int32 | 16 magic int8 (= 2) |
//   17 crc uint32 (CRC-32C of bytes 21..end) | 21 attributes int16 |
//   23 last offset delta int32 | 27 first timestamp int64 |
//   35 max timestamp int64 | 43 producer id int64 | 51 producer epoch int16 |
//   53 base sequence int32 | 57 record count int32 | 61 records
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/strong_type.h"

namespace braid::log {

inline constexpr size_t kBatchHeaderSize = 61;
// Bytes before and including the length field: base offset + length.
inline constexpr size_t kBatchLogOverhead = 12;
// Smallest legal value of the length field (header after it, no records).
inline constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize - 12);
// Position of fields inside a batch.
inline constexpr size_t kBaseOffsetPos = 0;
inline constexpr size_t kLengthPos = 8;
inline constexpr size_t kPartitionLeaderEpochPos = 12;
inline constexpr size_t kMagicPos = 16;
inline constexpr size_t kCrcPos = 17;
inline constexpr size_t kAttributesPos = 21;
inline constexpr size_t kLastOffsetDeltaPos = 23;
inline constexpr size_t kFirstTimestampPos = 27;
inline constexpr size_t kMaxTimestampPos = 35;
inline constexpr size_t kRecordCountPos = 57;

enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct BatchHeader {
  Offset base_offset{0};
  int32_t batch_length = 0;  // bytes after the length field
  int32_t partition_leader_epoch = -1;
  int8_t magic = 2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t first_timestamp = -1;
  int64_t max_timestamp = -1;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  // Whole batch size in bytes, header included.
  uint64_t total_size() const { return static_cast<uint64_t>(batch_length) + kBatchLogOverhead; }
  Offset last_offset() const { return Offset(base_offset.value() + last_offset_delta); }
  Offset next_offset() const { return Offset(base_offset.value() + last_offset_delta + 1); }
  // 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
  int compression() const { return attributes & 0x7; }
  TimestampType timestamp_type() const {
    return (attributes & 0x8) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
};

// Decodes the 61-byte header at the start of `bytes` (which may hold more).
// Checks only what the header alone can tell: enough bytes for a header,
// magic == 2, length >= kMinBatchLength. Corruption otherwise.
Result<BatchHeader> ParseBatchHeader(std::string_view bytes);

// Fully validates one batch, `batch` being exactly its bytes: header as
// above, length field == batch.size() - 12, CRC-32C, record count >= 1,
// last offset delta == record count - 1, and for uncompressed batches that the
// records region holds exactly `record count` length-delimited records.
// CRC mismatch → Corruption; other violations → InvalidArgument (Kafka's
// INVALID_RECORD). Messages name the byte offset of the problem.
Result<BatchHeader> ValidateBatch(std::string_view batch);

// Recomputes the CRC of a batch in place (after changing attributes or
// max timestamp). `batch` must hold a whole batch.
void UpdateBatchCrc(std::string* batch);

}  // namespace braid::log
