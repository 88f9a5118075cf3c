// Kafka RecordBatch v2 (magic 2): header parsing and validation, splitting a
// `records` field into batches, iterating the records of a batch, and
// building batches.
//
// Layout (brief §3.1; offsets in bytes):
//   0 base_offset i64 | 8 batch_length i32 | 12 partition_leader_epoch i32 |
//   16 magic i8 | 17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 |
//   23 last_offset_delta i32 | 27 base_timestamp i64 | 35 max_timestamp i64 |
//   43 producer_id i64 | 51 producer_epoch i16 | 53 base_sequence i32 |
//   57 record_count i32 | 61 records (plain, or one compressed blob)
//
// Status codes returned here (the broker maps them with
// ErrorCodeForBatchStatus):
//   Corruption         truncated/malformed bytes, CRC mismatch
//   InvalidArgument    magic 0/1 (old message formats, "MessageSet")
//                      or another unsupported magic
//   Unimplemented      unknown compression codec (5..7)
//   ResourceExhausted  decompressed records larger than the limit
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kafka/protocol/compression.h"
#include "kafka/protocol/error_code.h"

namespace braid::kafka {

inline constexpr size_t kRecordBatchHeaderSize = 61;
// Bytes before the batch_length field counts from (base_offset + length).
inline constexpr size_t kRecordBatchLogOverhead = 12;
inline constexpr size_t kRecordBatchCrcOffset = 17;
inline constexpr size_t kRecordBatchAttributesOffset = 21;
inline constexpr int8_t kRecordBatchMagic = 2;

// Attribute bits.
inline constexpr int16_t kAttrCompressionMask = 0x07;
inline constexpr int16_t kAttrLogAppendTime = 0x08;
inline constexpr int16_t kAttrTransactional = 0x10;
inline constexpr int16_t kAttrControl = 0x20;

struct RecordBatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after this field
  int32_t partition_leader_epoch = -1;
  int8_t magic = kRecordBatchMagic;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  Compression compression() const {
    return static_cast<Compression>(attributes & kAttrCompressionMask);
  }
  bool log_append_time() const { return (attributes & kAttrLogAppendTime) != 0; }
  bool is_transactional() const { return (attributes & kAttrTransactional) != 0; }
  bool is_control() const { return (attributes & kAttrControl) != 0; }
  // Wraps (no UB) for hostile base offsets near INT64_MAX.
  int64_t last_offset() const {
    return static_cast<int64_t>(static_cast<uint64_t>(base_offset) +
                                static_cast<uint64_t>(last_offset_delta));
  }
  // Whole batch size in bytes, header included.
  size_t size_in_bytes() const { return kRecordBatchLogOverhead + size_t(batch_length); }
};

// Parses the 61-byte header at the start of `data`. Checks: enough bytes for
// the header, magic == 2 (0/1 -> InvalidArgument), batch_length >= 49,
// record_count >= 0, last_offset_delta >= 0, compression codec <= 4. Does not
// require the whole batch to be present and does not check the CRC.
Result<RecordBatchHeader> ParseRecordBatchHeader(std::string_view data);

// CRC-32C of bytes 21..end of `batch` (the full batch bytes).
// Precondition: batch.size() >= kRecordBatchHeaderSize.
uint32_t ComputeRecordBatchCrc(std::string_view batch);

// One batch inside a records field.
struct RecordBatchView {
  RecordBatchHeader header;
  std::string_view bytes;  // the whole batch, header included
};

struct SplitOptions {
  // Verify each batch's CRC (Corruption on mismatch). Default: true.
  bool verify_crc = true;
  // Accept a truncated last batch (Fetch responses may end with a partial
  // batch) by dropping it. Default: false (Produce: everything must be whole).
  bool allow_partial_tail = false;
};

// Splits a records field into RecordBatches. Each batch's header is parsed
// and checked as by ParseRecordBatchHeader; the batch must fit in `records`.
// Views point into `records`.
Result<std::vector<RecordBatchView>> SplitRecordBatches(std::string_view records,
                                                        const SplitOptions& options = {});

struct ValidateOptions {
  // Check the CRC. Default: true (set false when SplitRecordBatches already
  // verified it, to avoid checksumming the batch twice).
  bool verify_crc = true;
  // Decompress and walk every record: record_count, offset deltas (strictly
  // increasing, last == last_offset_delta), well-formed lengths, no trailing
  // bytes. Default: true.
  bool check_records = true;
  // Bound on decompressed bytes. Default: kDefaultMaxDecompressedSize.
  size_t max_decompressed_size = kDefaultMaxDecompressedSize;
};

// Full validation of one batch as a broker does on Produce: header checks,
// CRC, record_count vs last_offset_delta plausibility and (optionally) every
// record. `batch` must be exactly one batch.
Status ValidateRecordBatch(const RecordBatchView& batch, const ValidateOptions& options = {});

// Maps a Status from this file (or from a decoder) to the Kafka error code a
// Produce response should carry: Corruption -> CORRUPT_MESSAGE,
// InvalidArgument -> INVALID_RECORD (Kafka's answer to magic < 2 on
// Produce v3+), Unimplemented -> UNSUPPORTED_COMPRESSION_TYPE,
// ResourceExhausted -> MESSAGE_TOO_LARGE, anything else ->
// UNKNOWN_SERVER_ERROR.
ErrorCode ErrorCodeForBatchStatus(const Status& status);

// A record header (never-null key, nullable value).
struct RecordHeaderView {
  std::string_view key;
  std::optional<std::string_view> value;
};

// One record, views into the batch (or into the RecordReader's decompression
// buffer): valid while both the batch bytes and the RecordReader live.
struct RecordView {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  int64_t offset = 0;     // base_offset + offset_delta
  int64_t timestamp = 0;  // base_timestamp + timestamp_delta (CreateTime);
                          // max_timestamp for LogAppendTime batches
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<RecordHeaderView> headers;
};

// Iterates the records of one batch, decompressing the records section once
// (bounded). Not thread-safe; owns its decompression buffer.
class RecordReader {
 public:
  // `batch`'s bytes must outlive the reader. Errors: decompression failures.
  static Result<RecordReader> Create(const RecordBatchView& batch,
                                     size_t max_decompressed_size = kDefaultMaxDecompressedSize);

  // Reads the next record into *out. Returns false at the end (after exactly
  // record_count records, with no bytes left). Errors: Corruption (malformed
  // record, more or fewer records than record_count, trailing bytes).
  Result<bool> Next(RecordView* out);

  const RecordBatchHeader& header() const { return header_; }
  int32_t records_read() const { return read_; }

  RecordReader(RecordReader&&) noexcept;
  RecordReader& operator=(RecordReader&&) noexcept;
  ~RecordReader();

 private:
  RecordReader() = default;
  RecordBatchHeader header_;
  std::string decompressed_;  // empty for uncompressed batches
  std::string_view data_;     // the records section (plain)
  size_t pos_ = 0;
  size_t data_offset_ = 0;  // for error messages
  int32_t read_ = 0;
  int64_t prev_offset_delta_ = -1;
};

// An owning record (for builders and convenience decoding).
struct RecordHeader {
  std::string key;
  std::optional<std::string> value;
};
struct Record {
  int64_t offset = 0;  // absolute (decoding) / ignored (building: sequential)
  int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
};

// Decodes every record of `batch` into owning Records.
Result<std::vector<Record>> DecodeRecords(
    const RecordBatchView& batch, size_t max_decompressed_size = kDefaultMaxDecompressedSize);

struct RecordBatchBuilderOptions {
  // Default: kNone.
  Compression compression = Compression::kNone;
  // Options for the codec. Default: xerial snappy, default levels.
  CompressOptions compress_options;
  // Default: 0 (the broker assigns real offsets).
  int64_t base_offset = 0;
  // Default: -1.
  int32_t partition_leader_epoch = -1;
  // Idempotence. Defaults: -1, -1, -1 (not idempotent).
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  // Attribute bits. Defaults: false.
  bool transactional = false;
  bool control = false;
  bool log_append_time = false;
  // max_timestamp to write for LogAppendTime batches. Default: -1 (use the
  // max record timestamp).
  int64_t log_append_time_ms = -1;
};

// Builds one valid RecordBatch v2 (CRC included). Records get offset deltas
// 0, 1, 2, ... in Add() order; base_timestamp is the first record's
// timestamp, max_timestamp the largest. Not thread-safe.
class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(RecordBatchBuilderOptions options = {});

  void Add(int64_t timestamp, std::optional<std::string_view> key,
           std::optional<std::string_view> value, std::span<const RecordHeader> headers = {});
  void Add(const Record& r) { Add(r.timestamp, OptView(r.key), OptView(r.value), r.headers); }

  int32_t record_count() const { return count_; }
  // Size of the uncompressed records section so far.
  size_t records_size() const { return records_.size(); }

  // Returns the batch bytes. Errors: compression failure (Internal), an empty
  // batch (InvalidArgument: Kafka rejects batches without records).
  Result<std::string> Build() const;

 private:
  static std::optional<std::string_view> OptView(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    return std::string_view(*s);
  }
  RecordBatchBuilderOptions options_;
  std::string records_;  // encoded records, uncompressed
  int32_t count_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = -1;
};

}  // namespace braid::kafka
