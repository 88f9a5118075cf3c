// Kafka's message formats before RecordBatch v2: magic 0 (Kafka 0.8) and
// magic 1 (0.10, adds a timestamp), the "MessageSet". Clients that speak
// only Produce v0-2 and Fetch v0-3 (old kafka-go, sarama configured for old
// Kafka versions, Burrow) use them. The log stores RecordBatch v2 only, so,
// as Kafka 3.x does, the broker up-converts them on append and down-converts
// stored batches for the old Fetch versions.
//
//   MessageSet := (offset int64 | message size int32 | message)*
//   message    := crc uint32 (CRC-32 IEEE of magic..end) | magic int8 |
//                 attributes int8 | [timestamp int64: magic 1 only] |
//                 key int32 length (-1 = null) + bytes | value (same)
//   attributes := bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4),
//                 bit 3 timestamp type (magic 1: 1 = LogAppendTime)
//
// A compressed message (a "wrapper") has a null key and, as its value, the
// compressed MessageSet of its inner messages, which are uncompressed and of
// the wrapper's magic. Inner offsets are absolute with magic 0; with magic 1
// they are relative (0..n-1) and the wrapper's offset is the absolute offset
// of the last inner message. LZ4 wrappers of magic 0 carry Kafka's historic
// wrong frame-header checksum (computed over the frame magic too,
// KAFKA-3160); they are read either way and written the way Kafka writes
// them.
//
// Status codes: Corruption (truncated or malformed bytes, CRC mismatch:
// Kafka CORRUPT_MESSAGE), InvalidArgument (well formed but not acceptable:
// INVALID_RECORD), Unimplemented (zstd or an unknown codec with magic 0/1, or
// a zstd batch to down-convert: UNSUPPORTED_COMPRESSION_TYPE),
// ResourceExhausted/kTooLarge (decompressed size above the bound).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "log/compression.h"

namespace braid::log {

inline constexpr int8_t kMagicV0 = 0;
inline constexpr int8_t kMagicV1 = 1;
// Offset and message size before every message.
inline constexpr size_t kLegacyLogOverhead = 12;
// Smallest message (crc, magic, attributes, [timestamp,] key and value
// lengths).
inline constexpr size_t kMessageOverheadV0 = 14;
inline constexpr size_t kMessageOverheadV1 = 22;
// Attribute bit 3 of magic 1 messages.
inline constexpr int8_t kLegacyAttrLogAppendTime = 0x08;

// The magic byte of the first entry of `records`, which may be a MessageSet
// or RecordBatch v2 bytes: byte 16 in every format (after offset, length and
// the CRC or partition leader epoch). Corruption if `records` is shorter.
Result<int8_t> PeekMagic(std::string_view records);

// One message of a MessageSet, after decompression (DecodeMessageSet).
struct LegacyMessage {
  Offset offset{0};  // absolute (inner relative offsets resolved)
  int8_t magic = 0;
  int8_t attributes = 0;         // of the message itself (codec 0 for inner ones)
  int64_t timestamp = -1;        // -1 for magic 0
  bool log_append_time = false;  // magic 1: this message's or its wrapper's bit
  std::optional<std::string> key;
  std::optional<std::string> value;
};

// Decodes every message of `message_set`, decompressing wrappers, with
// absolute offsets. Checks CRCs and structure; decompressed bytes are
// bounded by `max_decompressed_size` in total. For tests and tools.
Result<std::vector<LegacyMessage>> DecodeMessageSet(
    std::string_view message_set, size_t max_decompressed_size = kDefaultMaxDecompressedSize);

struct UpConvertOptions {
  // Bound on the decompressed bytes of all wrappers together.
  // Default: kDefaultMaxDecompressedSize.
  size_t max_decompressed_size = kDefaultMaxDecompressedSize;
};

struct UpConverted {
  std::string batch;  // one RecordBatch v2 (base offset 0, producer id -1)
  int8_t magic = 0;   // of the source messages
  Compression compression = Compression::kNone;  // of the source and of `batch`
  int32_t record_count = 0;
};

// What Kafka 3.x does to a magic 0/1 MessageSet that a Produce v0-2 request
// carries (LogValidator with compression.type=producer): every message's CRC
// is checked; all messages must have the first one's magic; a compressed
// set must be exactly one wrapper whose inner messages are uncompressed and
// of the same magic. The records (keys, values, and magic 1 timestamps;
// magic 0 records get timestamp -1, Kafka's NO_TIMESTAMP) become one
// RecordBatch v2 in their order, compressed with the source codec. The
// producer's offsets are ignored (the log assigns offsets); so are the
// producer's timestamp-type bits (the topic's message.timestamp.type
// applies on append). An empty set is InvalidArgument.
Result<UpConverted> UpConvertMessageSet(std::string_view message_set,
                                        const UpConvertOptions& options = {});

struct DownConvertOptions {
  // Records below this offset are left out (a read starts with the batch
  // that contains the fetch offset). Default: 0.
  Offset first_offset{0};
  // Bound on the decompressed bytes of one batch.
  // Default: kDefaultMaxDecompressedSize.
  size_t max_decompressed_size = kDefaultMaxDecompressedSize;
};

struct DownConverted {
  std::string message_set;
  int64_t records = 0;  // messages written (inner ones counted)
};

// What Kafka 3.x sends a Fetch v0-3 client: RecordBatch v2 `batches` (back to
// back; a truncated last batch is ignored) as a MessageSet of `magic` (0 for
// Fetch v0-1, 1 for v2-3). Control batches are skipped; so are records below
// options.first_offset. An uncompressed batch becomes one message per
// record with its absolute offset; a gzip, snappy (xerial framing) or lz4
// batch becomes one wrapper of the same codec. Magic 1 messages carry the
// record timestamp (CreateTime) or the batch's log append time with the
// timestamp-type bit; headers are dropped (the old formats have none). A
// zstd batch cannot be down-converted: Unimplemented (Kafka answers
// UNSUPPORTED_COMPRESSION_TYPE).
Result<DownConverted> DownConvertBatches(std::string_view batches, int8_t magic,
                                         const DownConvertOptions& options = {});

// Appends one uncompressed message (offset, size, CRC...) to *out.
void AppendLegacyMessage(std::string* out, int8_t magic, int64_t offset, int8_t attributes,
                         int64_t timestamp, std::optional<std::string_view> key,
                         std::optional<std::string_view> value);

}  // namespace braid::log
