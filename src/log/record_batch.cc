#include "log/record_batch.h"

#include <string>

#include "base/coding.h"
#include "base/crc.h"
#include "log/log_internal.h"
#include "log/records.h"

namespace braid::log {

using coding::DecodeBigEndian16;
using coding::DecodeBigEndian32;
using coding::DecodeBigEndian64;

namespace {

Status At(size_t offset, const std::string& what) {
  return Status::Corruption(what + " at byte " + std::to_string(offset));
}

}  // namespace

Result<BatchHeader> ParseBatchHeader(std::string_view b) {
  // The magic byte first: old formats (whose headers are shorter) are
  // reported as such rather than as truncation.
  if (b.size() > kMagicPos) {
    const auto magic = static_cast<int8_t>(b[kMagicPos]);
    if (magic == 0 || magic == 1) {
      return Status::InvalidArgument("old message format (magic " + std::to_string(magic) +
                                     ") is not supported; only RecordBatch v2 (at byte 16)");
    }
    if (magic != kBatchMagic) {
      return Status::InvalidArgument("unknown record batch magic " + std::to_string(magic) +
                                     ", expected 2 (at byte 16)");
    }
  }
  if (b.size() < kBatchHeaderSize) {
    return Status::Corruption("truncated record batch header (" + std::to_string(b.size()) +
                              " of 61 bytes)");
  }
  const char* p = b.data();
  BatchHeader h;
  h.base_offset = Offset(static_cast<int64_t>(DecodeBigEndian64(p + kBaseOffsetPos)));
  h.batch_length = static_cast<int32_t>(DecodeBigEndian32(p + kLengthPos));
  h.partition_leader_epoch = static_cast<int32_t>(DecodeBigEndian32(p + kPartitionLeaderEpochPos));
  h.magic = static_cast<int8_t>(p[kMagicPos]);
  h.crc = DecodeBigEndian32(p + kCrcPos);
  h.attributes = static_cast<int16_t>(DecodeBigEndian16(p + kAttributesPos));
  h.last_offset_delta = static_cast<int32_t>(DecodeBigEndian32(p + kLastOffsetDeltaPos));
  h.first_timestamp = static_cast<int64_t>(DecodeBigEndian64(p + kFirstTimestampPos));
  h.max_timestamp = static_cast<int64_t>(DecodeBigEndian64(p + kMaxTimestampPos));
  h.producer_id = ProducerId(static_cast<int64_t>(DecodeBigEndian64(p + kProducerIdPos)));
  h.producer_epoch = ProducerEpoch(static_cast<int16_t>(DecodeBigEndian16(p + kProducerEpochPos)));
  h.base_sequence = static_cast<int32_t>(DecodeBigEndian32(p + kBaseSequencePos));
  h.record_count = static_cast<int32_t>(DecodeBigEndian32(p + kRecordCountPos));
  if (h.batch_length < kMinBatchLength) {
    return At(kLengthPos, "record batch length " + std::to_string(h.batch_length) +
                              " is below the minimum " + std::to_string(kMinBatchLength));
  }
  if (h.record_count < 0) return At(kRecordCountPos, "negative record count");
  if (h.last_offset_delta < 0) return At(kLastOffsetDeltaPos, "negative last offset delta");
  if (static_cast<int>(h.compression()) > static_cast<int>(Compression::kZstd)) {
    return Status::Unimplemented("unknown compression codec " +
                                 std::to_string(static_cast<int>(h.compression())) + " at byte 21");
  }
  return h;
}

Result<BatchHeader> ValidateBatch(std::string_view batch) {
  Result<BatchHeader> parsed = ParseBatchHeader(batch);
  if (!parsed.ok()) return Status::InvalidArgument(std::string(parsed.status().message()));
  const BatchHeader& h = *parsed;
  if (h.total_size() != batch.size()) {
    return Status::InvalidArgument("record batch length field says " +
                                   std::to_string(h.total_size()) + " bytes, batch has " +
                                   std::to_string(batch.size()) + " (at byte 8)");
  }
  uint32_t crc = ComputeBatchCrc(batch);
  if (crc != h.crc) {
    return Status::Corruption("record batch CRC-32C mismatch: stored " + std::to_string(h.crc) +
                              ", computed " + std::to_string(crc) + " (at byte 17)");
  }
  if (h.record_count < 1) {
    return Status::InvalidArgument("record batch has record count " +
                                   std::to_string(h.record_count) + " (at byte 57)");
  }
  if (h.last_offset_delta != h.record_count - 1) {
    return Status::InvalidArgument(
        "record batch last offset delta " + std::to_string(h.last_offset_delta) +
        " does not match record count " + std::to_string(h.record_count) + " (at byte 23)");
  }
  if (h.compression() == Compression::kNone) {
    // Walk the records: each is a zig-zag varint length and that many bytes.
    const char* p = batch.data() + kBatchHeaderSize;
    const char* end = batch.data() + batch.size();
    for (int32_t i = 0; i < h.record_count; ++i) {
      size_t at = static_cast<size_t>(p - batch.data());
      int32_t len = 0;
      const char* q = coding::GetZigZag32(p, end, &len);
      if (q == nullptr || len < 0 || len > end - q) {
        return Status::InvalidArgument("record " + std::to_string(i) +
                                       " has a bad length (at byte " + std::to_string(at) + ")");
      }
      p = q + len;
    }
    if (p != end) {
      return Status::InvalidArgument("record batch has " + std::to_string(end - p) +
                                     " bytes after its " + std::to_string(h.record_count) +
                                     " records (at byte " + std::to_string(p - batch.data()) + ")");
    }
  }
  return h;
}

uint32_t ComputeBatchCrc(std::string_view batch) { return Crc32c(batch.substr(kAttributesPos)); }

void UpdateBatchCrc(std::string* batch) {
  coding::EncodeBigEndian32(batch->data() + kCrcPos, ComputeBatchCrc(*batch));
}

Result<std::vector<BatchView>> SplitBatches(std::string_view batches, const SplitOptions& options) {
  std::vector<BatchView> out;
  size_t pos = 0;
  while (pos < batches.size()) {
    std::string_view rest = batches.substr(pos);
    if (options.allow_partial_tail && rest.size() <= kMagicPos) break;
    auto h = ParseBatchHeader(rest);
    if (!h.ok()) {
      if (options.allow_partial_tail && rest.size() < kBatchHeaderSize &&
          h.status().IsCorruption()) {
        break;
      }
      return h.status().WithContext("batch at byte " + std::to_string(pos));
    }
    const uint64_t size = h->total_size();
    if (size > rest.size()) {
      if (options.allow_partial_tail) break;
      return Status::Corruption("record batch of " + std::to_string(size) + " bytes truncated to " +
                                std::to_string(rest.size()) + " at byte " + std::to_string(pos));
    }
    BatchView v{*h, rest.substr(0, static_cast<size_t>(size))};
    if (options.verify_crc) {
      const uint32_t crc = ComputeBatchCrc(v.bytes);
      if (crc != h->crc) {
        return Status::Corruption("record batch CRC mismatch (stored " + std::to_string(h->crc) +
                                  ", computed " + std::to_string(crc) + ") at byte " +
                                  std::to_string(pos));
      }
    }
    out.push_back(v);
    pos += static_cast<size_t>(size);
  }
  return out;
}

Status VerifyBatchRecords(const BatchView& batch, const VerifyOptions& options) {
  const BatchHeader& h = batch.header;
  if (batch.bytes.size() != h.total_size()) {
    return Status::Corruption("record batch view size does not match its length field");
  }
  if (options.verify_crc) {
    const uint32_t crc = ComputeBatchCrc(batch.bytes);
    if (crc != h.crc) {
      return Status::Corruption("record batch CRC mismatch (stored " + std::to_string(h.crc) +
                                ", computed " + std::to_string(crc) + ") at byte 17");
    }
  }
  if (h.record_count == 0) return Status::InvalidArgument("record batch has no records");
  // Offset deltas are strictly increasing from >= 0, so count - 1 <= last delta.
  if (h.record_count - 1 > h.last_offset_delta) {
    return At(kRecordCountPos,
              "record count " + std::to_string(h.record_count) + " exceeds last offset delta + 1");
  }
  // Smallest possible record: length, attributes, timestamp delta, offset
  // delta, key length, value length, header count (one byte each).
  constexpr size_t kMinRecordSize = 7;
  if (h.compression() == Compression::kNone &&
      static_cast<size_t>(h.record_count) >
          (batch.bytes.size() - kBatchHeaderSize) / kMinRecordSize) {
    return At(kRecordCountPos, "record count exceeds what the batch can hold");
  }
  if (!options.check_records) return Status::OK();
  ASSIGN_OR_RETURN(RecordReader reader, RecordReader::Create(batch, options.max_decompressed_size));
  RecordView rec;
  int64_t last_delta = -1;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&rec));
    if (!more) break;
    last_delta = rec.offset_delta;
  }
  if (last_delta != h.last_offset_delta && !h.is_control()) {
    return Status::Corruption("last record offset delta " + std::to_string(last_delta) +
                              " differs from batch last offset delta " +
                              std::to_string(h.last_offset_delta));
  }
  return Status::OK();
}

}  // namespace braid::log
