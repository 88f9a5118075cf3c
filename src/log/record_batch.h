// The record model: Kafka's RecordBatch v2 (magic 2) format, which the log
// stores byte for byte as producers send it. This header covers the batch
// level (header parsing, append validation, CRC, splitting a byte range into
// batches, full record validation); records.h covers records (reading,
// iterating across batches, building batches); compression.h the codecs.
// Nothing here knows the Kafka wire protocol: kafka/protocol uses this model,
// and so do the archiver, the registry and the lambda layers.
//
// Batch header, big-endian (61 bytes, then the records):
//   0 base offset int64 | 8 length int32 (bytes after this field) |
//   12 partition leader epoch int32 | 16 magic int8 (= 2) |
//   17 crc uint32 (CRC-32C of bytes 21..end) | 21 attributes int16 |
//   23 last offset delta int32 | 27 first timestamp int64 |
//   35 max timestamp int64 | 43 producer id int64 | 51 producer epoch int16 |
//   53 base sequence int32 | 57 record count int32 | 61 records
//
// Status codes returned here and in records.h:
//   Corruption         truncated or malformed bytes, CRC mismatch
//   InvalidArgument    magic 0/1 (the old "MessageSet" formats) or a batch
//                      that is well formed but not acceptable (append rules)
//   Unimplemented      unknown compression codec (5..7)
//   ResourceExhausted  decompressed records above the limit (subcode kTooLarge)
// kafka/protocol/error_code.h maps them to Kafka error codes in one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "log/compression.h"

namespace braid::log {

inline constexpr size_t kBatchHeaderSize = 61;
// Bytes before and including the length field: base offset + length.
inline constexpr size_t kBatchLogOverhead = 12;
// Smallest legal value of the length field (header after it, no records).
inline constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize - 12);
inline constexpr int8_t kBatchMagic = 2;
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
inline constexpr size_t kProducerIdPos = 43;
inline constexpr size_t kProducerEpochPos = 51;
inline constexpr size_t kBaseSequencePos = 53;
inline constexpr size_t kRecordCountPos = 57;

// Attribute bits.
inline constexpr int16_t kAttrCompressionMask = 0x07;
inline constexpr int16_t kAttrLogAppendTime = 0x08;
inline constexpr int16_t kAttrTransactional = 0x10;
inline constexpr int16_t kAttrControl = 0x20;

enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct BatchHeader {
  Offset base_offset{0};
  int32_t batch_length = 0;  // bytes after the length field
  int32_t partition_leader_epoch = -1;
  int8_t magic = kBatchMagic;
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
  // Wrap (no UB) for hostile base offsets near INT64_MAX.
  Offset last_offset() const { return Offset(WrapAdd(base_offset.value(), last_offset_delta)); }
  Offset next_offset() const {
    return Offset(WrapAdd(base_offset.value(), int64_t{last_offset_delta} + 1));
  }
  Compression compression() const {
    return static_cast<Compression>(attributes & kAttrCompressionMask);
  }
  TimestampType timestamp_type() const {
    return (attributes & kAttrLogAppendTime) ? TimestampType::kLogAppendTime
                                             : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & kAttrTransactional) != 0; }
  bool is_control() const { return (attributes & kAttrControl) != 0; }

  // Two's-complement addition without signed-overflow UB.
  static int64_t WrapAdd(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  }
};

// Decodes the 61-byte header at the start of `bytes` (which may hold more,
// or only the header). Checks what the header alone can tell: magic == 2
// (0/1 → InvalidArgument "old message format"; others → Corruption), enough
// bytes for a header, length >= kMinBatchLength, record count >= 0, last
// offset delta >= 0 (Corruption), codec <= 4 (Unimplemented). Does not check
// the CRC or that the whole batch is present.
Result<BatchHeader> ParseBatchHeader(std::string_view bytes);

// The log's append validation of one batch, `batch` being exactly its bytes:
// header as above, length field == batch.size() - 12, CRC-32C, record count
// >= 1 and last offset delta == record count - 1, and for uncompressed
// batches that the records region holds exactly `record count`
// length-delimited records. Records are not decompressed. CRC mismatch →
// Corruption; every other violation → InvalidArgument (Kafka's
// INVALID_RECORD). Messages name the byte offset of the problem.
Result<BatchHeader> ValidateBatch(std::string_view batch);

// CRC-32C of bytes 21..end of `batch` (the whole batch).
// Precondition: batch.size() >= kBatchHeaderSize.
uint32_t ComputeBatchCrc(std::string_view batch);

// Recomputes the CRC of a batch in place (after changing attributes or
// max timestamp). `batch` must hold a whole batch.
void UpdateBatchCrc(std::string* batch);

// One batch inside a byte range of batches.
struct BatchView {
  BatchHeader header;
  std::string_view bytes;  // the whole batch, header included
};

struct SplitOptions {
  // Verify each batch's CRC (Corruption on mismatch). Default: true.
  bool verify_crc = true;
  // Accept a truncated last batch (a Fetch response or a read slice may end
  // with a partial batch) by dropping it. Default: false (everything must be
  // whole).
  bool allow_partial_tail = false;
};

// Splits back-to-back batches into views (pointing into `batches`). Each
// header is checked as by ParseBatchHeader and each batch must fit.
Result<std::vector<BatchView>> SplitBatches(std::string_view batches,
                                            const SplitOptions& options = {});

struct VerifyOptions {
  // Check the CRC. Default: true (false when SplitBatches already did).
  bool verify_crc = true;
  // Decompress and walk every record: record count, offset deltas (strictly
  // increasing, the last == last offset delta), well-formed lengths, no
  // trailing bytes. Default: true.
  bool check_records = true;
  // Bound on decompressed bytes. Default: kDefaultMaxDecompressedSize.
  size_t max_decompressed_size = kDefaultMaxDecompressedSize;
};

// Full validation of one batch, decompressing it: header, CRC, record count
// against last offset delta, and (optionally) every record. Stricter than
// ValidateBatch, which the log applies on append without decompressing.
Status VerifyBatchRecords(const BatchView& batch, const VerifyOptions& options = {});

}  // namespace braid::log
