// Records of RecordBatch v2 (record_batch.h): reading the records of one
// batch (RecordReader), iterating records across many batches from an offset
// (RecordIterator: the one loop every in-process consumer uses), and building
// batches (BatchBuilder).
//
// A record inside a batch (varints are zig-zag):
//   length varint | attributes int8 | timestamp delta varlong |
//   offset delta varint | key length varint (-1 = null) | key |
//   value length varint (-1 = null) | value | header count varint |
//   headers: key length varint | key | value length varint (-1 = null) | value
// The records region is compressed as one blob when the batch's codec is set.
//
// Hostile input: every length is checked against the bytes that remain
// before anything is allocated or read; decompression is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "log/compression.h"
#include "log/record_batch.h"

namespace braid::log {

// A record header (never-null key, nullable value).
struct RecordHeaderView {
  std::string_view key;
  std::optional<std::string_view> value;
};

// One record, as views into the batch bytes (or into the reader's
// decompression buffer): valid while both the batch bytes and the reader
// that produced it live, and until the reader moves to another batch.
struct RecordView {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  Offset offset{0};       // base offset + offset delta
  int64_t timestamp = 0;  // first timestamp + delta (CreateTime); the batch's
                          // max timestamp for LogAppendTime batches
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<RecordHeaderView> headers;
};

// Iterates the records of one batch, decompressing the records region once
// (bounded). Not thread-safe; owns its decompression buffer.
class RecordReader {
 public:
  RecordReader() = default;
  // `batch`'s bytes must outlive the reader. Errors: decompression failures
  // (Corruption, Unimplemented, ResourceExhausted/kTooLarge).
  static Result<RecordReader> Create(const BatchView& batch,
                                     size_t max_decompressed_size = kDefaultMaxDecompressedSize);
  // Re-targets this reader at another batch, reusing its buffers.
  Status Reset(const BatchView& batch, size_t max_decompressed_size = kDefaultMaxDecompressedSize);

  // Reads the next record into *out. Returns false at the end (after exactly
  // record count records, with no bytes left). Errors: Corruption (malformed
  // record, more or fewer records than the count, trailing bytes).
  Result<bool> Next(RecordView* out);

  const BatchHeader& header() const { return header_; }
  int32_t records_read() const { return read_; }

 private:
  BatchHeader header_;
  std::string decompressed_;  // used for compressed batches only
  std::string_view data_;     // the records region (plain)
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
  Offset offset{0};  // absolute when decoding; ignored when building (sequential)
  int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
};

// Decodes every record of `batch` into owning Records.
Result<std::vector<Record>> DecodeRecords(
    const BatchView& batch, size_t max_decompressed_size = kDefaultMaxDecompressedSize);

struct RecordIteratorOptions {
  // Records below this offset are skipped (a read starts at the batch that
  // contains it). Default: 0.
  Offset start{0};
  // Yield records of control batches (transaction markers) too. Default:
  // false: control batches are skipped, as Kafka consumers do.
  bool include_control = false;
  // Verify batch CRCs. Default: false (the log verified them on append).
  bool verify_crc = false;
  // Accept a truncated last batch by ignoring it. Default: true (read slices
  // and Fetch responses may end with one).
  bool allow_partial_tail = true;
  // Bound on decompressed bytes per batch. Default: kDefaultMaxDecompressedSize.
  size_t max_decompressed_size = kDefaultMaxDecompressedSize;
};

// Iterates the records of back-to-back batches (a read slice, the batches
// of a Fetch response, stored batches concatenated), decompressing as it
// goes. The one record-reading loop of braid's in-process consumers:
//
//   RecordIterator it(bytes, {.start = Offset(42)});
//   RecordView r;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, it.Next(&r));
//     if (!more) break;
//     ... r.offset, r.timestamp, r.key, r.value, r.headers; it.batch() ...
//   }
//   it.next_offset();  // where to continue reading
//
// Views in a RecordView stay valid until the next call of Next() that moves
// to another batch, and while `bytes` lives. An error in a batch (corrupt
// record, failed decompression, CRC with verify_crc) names the batch's base
// offset and abandons that batch: batch() is its header, next_offset() has
// moved past it, and the caller may call Next() again to go on with the
// following batches (records of the failed batch returned before the error
// stay returned). An unparseable batch header ends the iteration (nothing
// after it can be framed): Next() then returns false.
class RecordIterator {
 public:
  explicit RecordIterator(std::string_view bytes, RecordIteratorOptions options = {});

  // The next record at or above options.start, or false at the end.
  Result<bool> Next(RecordView* out);

  // Header of the batch of the last record returned (or of the batch that
  // failed).
  const BatchHeader& batch() const { return batch_; }
  // True when the last record returned was the last of its batch: the next
  // Next() moves to another batch, which ends the life of the views into a
  // compressed batch's records.
  bool at_batch_end() const {
    return in_batch_ && reader_.records_read() == reader_.header().record_count;
  }
  // Offset after the last batch fully consumed or skipped (control batches
  // included): where a caller continues reading. options.start until then.
  Offset next_offset() const { return next_offset_; }

 private:
  Status OpenNextBatch(bool* done);

  std::string_view bytes_;
  RecordIteratorOptions options_;
  size_t pos_ = 0;         // start of the next batch to open
  bool in_batch_ = false;  // reader_ holds an unfinished batch
  BatchHeader batch_;
  RecordReader reader_;
  Offset next_offset_;
};

struct BatchBuilderOptions {
  // Default: kNone.
  Compression compression = Compression::kNone;
  // Options for the codec. Default: xerial snappy, default levels.
  CompressOptions compress_options;
  // Default: 0 (the log assigns real offsets on append).
  Offset base_offset{0};
  // Default: -1.
  int32_t partition_leader_epoch = -1;
  // Idempotence. Defaults: -1, -1, -1 (not idempotent).
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  int32_t base_sequence = -1;
  // Attribute bits. Defaults: false.
  bool transactional = false;
  bool control = false;
  bool log_append_time = false;
  // max timestamp to write for LogAppendTime batches. Default: -1 (the
  // largest record timestamp).
  int64_t log_append_time_ms = -1;
};

// Builds one valid RecordBatch v2 (CRC included). Records get offset deltas
// 0, 1, 2, ... in Add() order; the first timestamp is the first record's, the
// max timestamp the largest. Not thread-safe.
class BatchBuilder {
 public:
  explicit BatchBuilder(BatchBuilderOptions options = {});

  void Add(int64_t timestamp, std::optional<std::string_view> key,
           std::optional<std::string_view> value, std::span<const RecordHeader> headers = {});
  void Add(const Record& r) { Add(r.timestamp, OptView(r.key), OptView(r.value), r.headers); }

  int32_t record_count() const { return count_; }
  // Size of the uncompressed records region so far.
  size_t records_size() const { return records_.size(); }

  // Returns the batch bytes. Errors: compression failure (Internal), an empty
  // batch (InvalidArgument: Kafka rejects batches without records).
  Result<std::string> Build() const;

 private:
  static std::optional<std::string_view> OptView(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    return std::string_view(*s);
  }
  BatchBuilderOptions options_;
  std::string records_;  // encoded records, uncompressed
  int32_t count_ = 0;
  int64_t first_timestamp_ = 0;
  int64_t max_timestamp_ = -1;
};

}  // namespace braid::log
