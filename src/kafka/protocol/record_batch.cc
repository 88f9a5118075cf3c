#include "kafka/protocol/record_batch.h"

#include <algorithm>
#include <limits>

#include "base/coding.h"
#include "base/crc.h"
#include "kafka/protocol/wire.h"

namespace braid::kafka {
namespace {

// Smallest possible record: length(1) attributes(1) ts delta(1) offset
// delta(1) key len(1) value len(1) header count(1).
constexpr size_t kMinRecordSize = 7;

// Two's-complement addition without signed-overflow UB (hostile headers may
// carry offsets/timestamps near the int64 limits).
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

Status At(size_t offset, std::string_view what) {
  return Status::Corruption(std::string(what) + " at byte " + std::to_string(offset));
}

}  // namespace

Result<RecordBatchHeader> ParseRecordBatchHeader(std::string_view data) {
  // magic is at byte 16: check it first so old formats (whose headers are
  // shorter) are reported as such rather than as truncation.
  if (data.size() >= 17) {
    auto magic = static_cast<int8_t>(data[16]);
    if (magic == 0 || magic == 1) {
      return Status::InvalidArgument("old message format (magic " + std::to_string(magic) +
                                     ") is not supported; only RecordBatch v2 at byte 16");
    }
    if (magic != kRecordBatchMagic) {
      return Status::InvalidArgument("unknown record batch magic " + std::to_string(magic) +
                                     " at byte 16");
    }
  }
  Reader r(data);
  RecordBatchHeader h;
  if (data.size() < kRecordBatchHeaderSize) {
    return r.Error("truncated record batch header (" + std::to_string(data.size()) +
                   " of 61 bytes)");
  }
  RETURN_IF_ERROR(r.ReadInt64(&h.base_offset));
  RETURN_IF_ERROR(r.ReadInt32(&h.batch_length));
  RETURN_IF_ERROR(r.ReadInt32(&h.partition_leader_epoch));
  RETURN_IF_ERROR(r.ReadInt8(&h.magic));
  RETURN_IF_ERROR(r.ReadUint32(&h.crc));
  RETURN_IF_ERROR(r.ReadInt16(&h.attributes));
  RETURN_IF_ERROR(r.ReadInt32(&h.last_offset_delta));
  RETURN_IF_ERROR(r.ReadInt64(&h.base_timestamp));
  RETURN_IF_ERROR(r.ReadInt64(&h.max_timestamp));
  RETURN_IF_ERROR(r.ReadInt64(&h.producer_id));
  RETURN_IF_ERROR(r.ReadInt16(&h.producer_epoch));
  RETURN_IF_ERROR(r.ReadInt32(&h.base_sequence));
  RETURN_IF_ERROR(r.ReadInt32(&h.record_count));
  if (h.batch_length < static_cast<int32_t>(kRecordBatchHeaderSize - kRecordBatchLogOverhead)) {
    return At(8, "record batch length " + std::to_string(h.batch_length) + " below minimum 49");
  }
  if (h.record_count < 0) return At(57, "negative record count");
  if (h.last_offset_delta < 0) return At(23, "negative last offset delta");
  if ((h.attributes & kAttrCompressionMask) > static_cast<int>(Compression::kZstd)) {
    return Status::Unimplemented("unknown compression codec " +
                                 std::to_string(h.attributes & kAttrCompressionMask) +
                                 " at byte 21");
  }
  return h;
}

uint32_t ComputeRecordBatchCrc(std::string_view batch) {
  return Crc32c(batch.substr(kRecordBatchAttributesOffset));
}

Result<std::vector<RecordBatchView>> SplitRecordBatches(std::string_view records,
                                                        const SplitOptions& options) {
  std::vector<RecordBatchView> out;
  size_t pos = 0;
  while (pos < records.size()) {
    std::string_view rest = records.substr(pos);
    if (options.allow_partial_tail && rest.size() < kRecordBatchLogOverhead + 5) break;
    auto h = ParseRecordBatchHeader(rest);
    if (!h.ok()) {
      if (options.allow_partial_tail && rest.size() < kRecordBatchHeaderSize &&
          h.status().IsCorruption()) {
        break;
      }
      return h.status().WithContext("batch at byte " + std::to_string(pos));
    }
    size_t size = h->size_in_bytes();
    if (size > rest.size()) {
      if (options.allow_partial_tail) break;
      return Status::Corruption("record batch of " + std::to_string(size) + " bytes truncated to " +
                                std::to_string(rest.size()) + " at byte " + std::to_string(pos));
    }
    RecordBatchView v{*h, rest.substr(0, size)};
    if (options.verify_crc) {
      uint32_t crc = ComputeRecordBatchCrc(v.bytes);
      if (crc != h->crc) {
        return Status::Corruption("record batch CRC mismatch (stored " + std::to_string(h->crc) +
                                  ", computed " + std::to_string(crc) + ") at byte " +
                                  std::to_string(pos));
      }
    }
    out.push_back(v);
    pos += size;
  }
  return out;
}

Status ValidateRecordBatch(const RecordBatchView& batch, const ValidateOptions& options) {
  const RecordBatchHeader& h = batch.header;
  if (batch.bytes.size() != h.size_in_bytes()) {
    return Status::Corruption("record batch view size does not match its length field");
  }
  if (options.verify_crc) {
    uint32_t crc = ComputeRecordBatchCrc(batch.bytes);
    if (crc != h.crc) {
      return Status::Corruption("record batch CRC mismatch (stored " + std::to_string(h.crc) +
                                ", computed " + std::to_string(crc) + ") at byte 17");
    }
  }
  if (h.record_count == 0) return Status::InvalidArgument("record batch has no records");
  // Offset deltas are strictly increasing from >= 0, so count - 1 <= last delta.
  if (h.record_count - 1 > h.last_offset_delta) {
    return At(57,
              "record count " + std::to_string(h.record_count) + " exceeds last offset delta + 1");
  }
  if (h.compression() == Compression::kNone &&
      static_cast<size_t>(h.record_count) >
          (batch.bytes.size() - kRecordBatchHeaderSize) / kMinRecordSize) {
    return At(57, "record count exceeds what the batch can hold");
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

ErrorCode ErrorCodeForBatchStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return ErrorCode::kNone;
    case StatusCode::kCorruption:
      return ErrorCode::kCorruptMessage;
    case StatusCode::kInvalidArgument:
      return ErrorCode::kInvalidRecord;
    case StatusCode::kUnimplemented:
      return ErrorCode::kUnsupportedCompressionType;
    case StatusCode::kResourceExhausted:
      return ErrorCode::kMessageTooLarge;
    default:
      return ErrorCode::kUnknownServerError;
  }
}

// ------------------------------------------------------------ RecordReader

RecordReader::RecordReader(RecordReader&&) noexcept = default;
RecordReader& RecordReader::operator=(RecordReader&&) noexcept = default;
RecordReader::~RecordReader() = default;

Result<RecordReader> RecordReader::Create(const RecordBatchView& batch,
                                          size_t max_decompressed_size) {
  if (batch.bytes.size() < kRecordBatchHeaderSize) {
    return Status::Corruption("record batch shorter than its header at byte 0");
  }
  RecordReader rr;
  rr.header_ = batch.header;
  std::string_view section = batch.bytes.substr(kRecordBatchHeaderSize);
  if (batch.header.compression() == Compression::kNone) {
    rr.data_ = section;
    rr.data_offset_ = kRecordBatchHeaderSize;
  } else {
    Status st =
        Decompress(batch.header.compression(), section, max_decompressed_size, &rr.decompressed_);
    if (!st.ok()) return st.WithContext("records of batch");
    rr.data_ = rr.decompressed_;
    rr.data_offset_ = 0;
  }
  return rr;
}

Result<bool> RecordReader::Next(RecordView* out) {
  if (read_ == header_.record_count) {
    if (pos_ != data_.size()) {
      return At(data_offset_ + pos_,
                std::to_string(data_.size() - pos_) + " trailing bytes after the last record");
    }
    return false;
  }
  Reader r(data_.substr(pos_), data_offset_ + pos_);
  if (r.empty()) {
    return r.Error("batch ends after " + std::to_string(read_) + " of " +
                   std::to_string(header_.record_count) + " records");
  }
  int32_t length = 0;
  RETURN_IF_ERROR(r.ReadVarint(&length));
  if (length < 0 || static_cast<size_t>(length) > r.remaining()) {
    return r.Error("record length " + std::to_string(length) + " exceeds the batch");
  }
  size_t body_start = r.position();
  Reader b(r.rest().substr(0, static_cast<size_t>(length)), r.offset());
  RETURN_IF_ERROR(b.ReadInt8(&out->attributes));
  RETURN_IF_ERROR(b.ReadVarlong(&out->timestamp_delta));
  RETURN_IF_ERROR(b.ReadVarint(&out->offset_delta));
  if (out->offset_delta < 0 || out->offset_delta <= prev_offset_delta_) {
    return b.Error("record offset delta " + std::to_string(out->offset_delta) + " not increasing");
  }
  prev_offset_delta_ = out->offset_delta;
  auto read_opt_bytes = [&](std::optional<std::string_view>* v, const char* what) -> Status {
    int32_t n = 0;
    RETURN_IF_ERROR(b.ReadVarint(&n));
    if (n == -1) {
      v->reset();
      return Status::OK();
    }
    if (n < 0) return b.Error(std::string("negative ") + what + " length");
    std::string_view s;
    RETURN_IF_ERROR(b.ReadRaw(static_cast<size_t>(n), &s));
    *v = s;
    return Status::OK();
  };
  RETURN_IF_ERROR(read_opt_bytes(&out->key, "key"));
  RETURN_IF_ERROR(read_opt_bytes(&out->value, "value"));
  int32_t header_count = 0;
  RETURN_IF_ERROR(b.ReadVarint(&header_count));
  if (header_count < 0 || static_cast<size_t>(header_count) > b.remaining() / 2) {
    return b.Error("record header count " + std::to_string(header_count) + " exceeds the record");
  }
  out->headers.clear();
  out->headers.reserve(static_cast<size_t>(header_count));
  for (int32_t i = 0; i < header_count; ++i) {
    RecordHeaderView hv;
    std::optional<std::string_view> key;
    RETURN_IF_ERROR(read_opt_bytes(&key, "header key"));
    if (!key) return b.Error("null record header key");
    hv.key = *key;
    RETURN_IF_ERROR(read_opt_bytes(&hv.value, "header value"));
    out->headers.push_back(hv);
  }
  if (!b.empty()) return b.Error("record has trailing bytes");
  out->offset = WrapAdd(header_.base_offset, out->offset_delta);
  out->timestamp = header_.log_append_time()
                       ? header_.max_timestamp
                       : WrapAdd(header_.base_timestamp, out->timestamp_delta);
  pos_ += body_start + static_cast<size_t>(length);
  ++read_;
  return true;
}

Result<std::vector<Record>> DecodeRecords(const RecordBatchView& batch,
                                          size_t max_decompressed_size) {
  ASSIGN_OR_RETURN(RecordReader reader, RecordReader::Create(batch, max_decompressed_size));
  std::vector<Record> out;
  out.reserve(std::min<size_t>(static_cast<size_t>(batch.header.record_count), 4096));
  RecordView v;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&v));
    if (!more) break;
    Record r;
    r.offset = v.offset;
    r.timestamp = v.timestamp;
    if (v.key) r.key.emplace(*v.key);
    if (v.value) r.value.emplace(*v.value);
    for (const RecordHeaderView& h : v.headers) {
      RecordHeader rh;
      rh.key.assign(h.key);
      if (h.value) rh.value.emplace(*h.value);
      r.headers.push_back(std::move(rh));
    }
    out.push_back(std::move(r));
  }
  return out;
}

// ------------------------------------------------------ RecordBatchBuilder

RecordBatchBuilder::RecordBatchBuilder(RecordBatchBuilderOptions options)
    : options_(std::move(options)) {}

void RecordBatchBuilder::Add(int64_t timestamp, std::optional<std::string_view> key,
                             std::optional<std::string_view> value,
                             std::span<const RecordHeader> headers) {
  if (count_ == 0) base_timestamp_ = timestamp;
  max_timestamp_ = count_ == 0 ? timestamp : std::max(max_timestamp_, timestamp);
  std::string body;
  Writer w(&body);
  w.WriteInt8(0);  // attributes
  w.WriteVarlong(static_cast<int64_t>(static_cast<uint64_t>(timestamp) -
                                      static_cast<uint64_t>(base_timestamp_)));
  w.WriteVarint(count_);  // offset delta
  auto put = [&](std::optional<std::string_view> s) {
    if (!s) {
      w.WriteVarint(-1);
    } else {
      w.WriteVarint(static_cast<int32_t>(s->size()));
      w.WriteRaw(*s);
    }
  };
  put(key);
  put(value);
  w.WriteVarint(static_cast<int32_t>(headers.size()));
  for (const RecordHeader& h : headers) {
    put(std::string_view(h.key));
    put(h.value ? std::optional<std::string_view>(*h.value) : std::nullopt);
  }
  Writer rw(&records_);
  rw.WriteVarint(static_cast<int32_t>(body.size()));
  rw.WriteRaw(body);
  ++count_;
}

Result<std::string> RecordBatchBuilder::Build() const {
  if (count_ == 0) return Status::InvalidArgument("a record batch needs at least one record");
  std::string out;
  Writer w(&out);
  int16_t attributes = static_cast<int16_t>(options_.compression);
  if (options_.log_append_time) attributes |= kAttrLogAppendTime;
  if (options_.transactional) attributes |= kAttrTransactional;
  if (options_.control) attributes |= kAttrControl;
  int64_t max_ts = max_timestamp_;
  if (options_.log_append_time && options_.log_append_time_ms >= 0) {
    max_ts = options_.log_append_time_ms;
  }
  w.WriteInt64(options_.base_offset);
  size_t length_pos = w.ReserveInt32();
  w.WriteInt32(options_.partition_leader_epoch);
  w.WriteInt8(kRecordBatchMagic);
  size_t crc_pos = w.ReserveInt32();
  w.WriteInt16(attributes);
  w.WriteInt32(count_ - 1);
  w.WriteInt64(base_timestamp_);
  w.WriteInt64(max_ts);
  w.WriteInt64(options_.producer_id);
  w.WriteInt16(options_.producer_epoch);
  w.WriteInt32(options_.base_sequence);
  w.WriteInt32(count_);
  if (options_.compression == Compression::kNone) {
    out.append(records_);
  } else {
    RETURN_IF_ERROR(Compress(options_.compression, records_, options_.compress_options, &out));
  }
  w.PatchInt32(length_pos, static_cast<int32_t>(out.size() - kRecordBatchLogOverhead));
  w.PatchInt32(crc_pos, static_cast<int32_t>(ComputeRecordBatchCrc(out)));
  return out;
}

}  // namespace braid::kafka
