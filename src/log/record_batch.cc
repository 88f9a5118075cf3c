#include "log/record_batch.h"

#include <string>

#include "base/coding.h"
#include "base/crc.h"
#include "log/log_internal.h"

namespace braid::log {

using coding::DecodeBigEndian16;
using coding::DecodeBigEndian32;
using coding::DecodeBigEndian64;

Result<BatchHeader> ParseBatchHeader(std::string_view b) {
  if (b.size() < kBatchHeaderSize) {
    return Status::Corruption("record batch header needs " + std::to_string(kBatchHeaderSize) +
                              " bytes, have " + std::to_string(b.size()));
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
  h.producer_id = ProducerId(static_cast<int64_t>(DecodeBigEndian64(p + 43)));
  h.producer_epoch = ProducerEpoch(static_cast<int16_t>(DecodeBigEndian16(p + 51)));
  h.base_sequence = static_cast<int32_t>(DecodeBigEndian32(p + 53));
  h.record_count = static_cast<int32_t>(DecodeBigEndian32(p + kRecordCountPos));
  if (h.magic != 2) {
    return Status::Corruption("record batch magic is " + std::to_string(h.magic) +
                              ", expected 2 (at byte 16)");
  }
  if (h.batch_length < kMinBatchLength) {
    return Status::Corruption("record batch length " + std::to_string(h.batch_length) +
                              " is below the minimum " + std::to_string(kMinBatchLength) +
                              " (at byte 8)");
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
  uint32_t crc = Crc32c(batch.substr(kAttributesPos));
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
  if (h.compression() > 4) {
    return Status::InvalidArgument("record batch compression codec " +
                                   std::to_string(h.compression()) + " is unknown (at byte 21)");
  }
  if (h.compression() == 0) {
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

void UpdateBatchCrc(std::string* batch) {
  uint32_t crc = Crc32c(std::string_view(*batch).substr(kAttributesPos));
  coding::EncodeBigEndian32(batch->data() + kCrcPos, crc);
}

namespace internal {

bool FindRecordInRecords(std::string_view records, const BatchHeader& h, int64_t t,
                         Offset min_offset, Offset* offset, int64_t* timestamp) {
  const char* p = records.data();
  const char* end = records.data() + records.size();
  for (int32_t i = 0; i < h.record_count; ++i) {
    int32_t len = 0;
    const char* q = coding::GetZigZag32(p, end, &len);
    if (q == nullptr || len < 0 || len > end - q) return false;
    const char* rec_end = q + len;
    if (q >= rec_end) return false;
    ++q;  // attributes
    int64_t ts_delta = 0;
    int32_t off_delta = 0;
    q = coding::GetZigZag64(q, rec_end, &ts_delta);
    if (q == nullptr) return false;
    q = coding::GetZigZag32(q, rec_end, &off_delta);
    if (q == nullptr) return false;
    int64_t ts = h.timestamp_type() == TimestampType::kLogAppendTime ? h.max_timestamp
                                                                     : h.first_timestamp + ts_delta;
    Offset off(h.base_offset.value() + off_delta);
    if (ts >= t && off >= min_offset) {
      *offset = off;
      *timestamp = ts;
      return true;
    }
    p = rec_end;
  }
  return false;
}

}  // namespace internal
}  // namespace braid::log
