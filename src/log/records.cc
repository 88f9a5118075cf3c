#include "log/records.h"

#include <algorithm>
#include <utility>

#include "base/coding.h"
#include "log/log_internal.h"

namespace braid::log {
namespace {

// A bounds-checked cursor over the records region; errors name the byte
// offset (relative to the batch for uncompressed batches, to the
// decompressed region otherwise).
class Cursor {
 public:
  Cursor(std::string_view data, size_t base) : data_(data), base_(base) {}

  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

  Status Error(const std::string& what) const {
    return Status::Corruption(what + " at byte " + std::to_string(offset()));
  }
  Status ReadVarint(int32_t* v) {
    const char* p = data_.data() + pos_;
    const char* q = coding::GetZigZag32(p, data_.data() + data_.size(), v);
    if (q == nullptr) return Error("truncated or overlong varint");
    pos_ += static_cast<size_t>(q - p);
    return Status::OK();
  }
  Status ReadVarlong(int64_t* v) {
    const char* p = data_.data() + pos_;
    const char* q = coding::GetZigZag64(p, data_.data() + data_.size(), v);
    if (q == nullptr) return Error("truncated or overlong varlong");
    pos_ += static_cast<size_t>(q - p);
    return Status::OK();
  }
  Status ReadInt8(int8_t* v) {
    if (empty()) return Error("truncated record");
    *v = static_cast<int8_t>(data_[pos_++]);
    return Status::OK();
  }
  Status ReadRaw(size_t n, std::string_view* v) {
    if (n > remaining()) return Error("truncated record");
    *v = data_.substr(pos_, n);
    pos_ += n;
    return Status::OK();
  }
  // A varint length (-1 = null) and that many bytes.
  Status ReadOptBytes(std::optional<std::string_view>* v, const char* what) {
    int32_t n = 0;
    RETURN_IF_ERROR(ReadVarint(&n));
    if (n == -1) {
      v->reset();
      return Status::OK();
    }
    if (n < 0) return Error(std::string("negative ") + what + " length");
    std::string_view s;
    RETURN_IF_ERROR(ReadRaw(static_cast<size_t>(n), &s));
    *v = s;
    return Status::OK();
  }

 private:
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

void PutOptBytes(std::string* out, std::optional<std::string_view> s) {
  if (!s) {
    coding::PutZigZag64(out, -1);
  } else {
    coding::PutZigZag64(out, static_cast<int64_t>(s->size()));
    out->append(*s);
  }
}

}  // namespace

// ------------------------------------------------------------ RecordReader

Result<RecordReader> RecordReader::Create(const BatchView& batch, size_t max_decompressed_size) {
  RecordReader rr;
  RETURN_IF_ERROR(rr.Reset(batch, max_decompressed_size));
  return rr;
}

Status RecordReader::Reset(const BatchView& batch, size_t max_decompressed_size) {
  header_ = batch.header;
  pos_ = 0;
  read_ = 0;
  prev_offset_delta_ = -1;
  data_ = {};
  if (batch.bytes.size() < kBatchHeaderSize) {
    return Status::Corruption("record batch shorter than its header at byte 0");
  }
  std::string_view section = batch.bytes.substr(kBatchHeaderSize);
  if (batch.header.compression() == Compression::kNone) {
    data_ = section;
    data_offset_ = kBatchHeaderSize;
    return Status::OK();
  }
  decompressed_.clear();
  Status st =
      Decompress(batch.header.compression(), section, max_decompressed_size, &decompressed_);
  if (!st.ok()) {
    header_.record_count = 0;  // nothing to read
    return st.WithContext("records of batch");
  }
  data_ = decompressed_;
  data_offset_ = 0;
  return Status::OK();
}

Result<bool> RecordReader::Next(RecordView* out) {
  if (read_ == header_.record_count) {
    if (pos_ != data_.size()) {
      return Status::Corruption(std::to_string(data_.size() - pos_) +
                                " trailing bytes after the last record at byte " +
                                std::to_string(data_offset_ + pos_));
    }
    return false;
  }
  Cursor r(data_.substr(pos_), data_offset_ + pos_);
  if (r.empty()) {
    return r.Error("batch ends after " + std::to_string(read_) + " of " +
                   std::to_string(header_.record_count) + " records");
  }
  int32_t length = 0;
  RETURN_IF_ERROR(r.ReadVarint(&length));
  if (length < 0 || static_cast<size_t>(length) > r.remaining()) {
    return r.Error("record length " + std::to_string(length) + " exceeds the batch");
  }
  const size_t body_start = data_.size() - pos_ - r.remaining();
  std::string_view body_bytes;
  RETURN_IF_ERROR(r.ReadRaw(static_cast<size_t>(length), &body_bytes));
  Cursor b(body_bytes, data_offset_ + pos_ + body_start);
  RETURN_IF_ERROR(b.ReadInt8(&out->attributes));
  RETURN_IF_ERROR(b.ReadVarlong(&out->timestamp_delta));
  RETURN_IF_ERROR(b.ReadVarint(&out->offset_delta));
  if (out->offset_delta < 0 || out->offset_delta <= prev_offset_delta_) {
    return b.Error("record offset delta " + std::to_string(out->offset_delta) + " not increasing");
  }
  prev_offset_delta_ = out->offset_delta;
  RETURN_IF_ERROR(b.ReadOptBytes(&out->key, "key"));
  RETURN_IF_ERROR(b.ReadOptBytes(&out->value, "value"));
  int32_t header_count = 0;
  RETURN_IF_ERROR(b.ReadVarint(&header_count));
  // A header takes at least two bytes (key length, value length).
  if (header_count < 0 || static_cast<size_t>(header_count) > b.remaining() / 2) {
    return b.Error("record header count " + std::to_string(header_count) + " exceeds the record");
  }
  out->headers.clear();
  out->headers.reserve(static_cast<size_t>(header_count));
  for (int32_t i = 0; i < header_count; ++i) {
    RecordHeaderView hv;
    std::optional<std::string_view> key;
    RETURN_IF_ERROR(b.ReadOptBytes(&key, "header key"));
    if (!key) return b.Error("null record header key");
    hv.key = *key;
    RETURN_IF_ERROR(b.ReadOptBytes(&hv.value, "header value"));
    out->headers.push_back(hv);
  }
  if (!b.empty()) return b.Error("record has trailing bytes");
  out->offset = Offset(BatchHeader::WrapAdd(header_.base_offset.value(), out->offset_delta));
  out->timestamp = header_.timestamp_type() == TimestampType::kLogAppendTime
                       ? header_.max_timestamp
                       : BatchHeader::WrapAdd(header_.first_timestamp, out->timestamp_delta);
  pos_ += body_start + static_cast<size_t>(length);
  ++read_;
  return true;
}

Result<std::vector<Record>> DecodeRecords(const BatchView& batch, size_t max_decompressed_size) {
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

// ---------------------------------------------------------- RecordIterator

RecordIterator::RecordIterator(std::string_view bytes, RecordIteratorOptions options)
    : bytes_(bytes), options_(options), next_offset_(options.start) {}

Status RecordIterator::OpenNextBatch(bool* done) {
  for (;;) {
    *done = false;
    std::string_view rest = bytes_.substr(pos_);
    if (rest.empty() || (options_.allow_partial_tail && rest.size() <= kMagicPos)) {
      *done = true;
      return Status::OK();
    }
    auto h = ParseBatchHeader(rest);
    if (!h.ok()) {
      if (options_.allow_partial_tail && rest.size() < kBatchHeaderSize &&
          h.status().IsCorruption()) {
        *done = true;
        return Status::OK();
      }
      const size_t at = pos_;
      pos_ = bytes_.size();  // nothing after an unparseable header can be trusted
      return h.status().WithContext("batch at byte " + std::to_string(at));
    }
    const uint64_t size = h->total_size();
    if (size > rest.size()) {
      if (options_.allow_partial_tail) {
        *done = true;
        return Status::OK();
      }
      pos_ = bytes_.size();
      return Status::Corruption("record batch at offset " + std::to_string(h->base_offset.value()) +
                                " of " + std::to_string(size) + " bytes truncated to " +
                                std::to_string(rest.size()));
    }
    BatchView view{*h, rest.substr(0, static_cast<size_t>(size))};
    pos_ += static_cast<size_t>(size);
    batch_ = *h;
    if (h->next_offset() <= options_.start) continue;  // entirely below the start
    if (h->is_control() && !options_.include_control) {
      next_offset_ = std::max(next_offset_, h->next_offset());
      continue;
    }
    Status st;
    if (options_.verify_crc && ComputeBatchCrc(view.bytes) != h->crc) {
      st = Status::Corruption("CRC mismatch");
    } else {
      st = reader_.Reset(view, options_.max_decompressed_size);
    }
    if (!st.ok()) {
      next_offset_ = std::max(next_offset_, h->next_offset());  // abandoned
      return st.WithContext("batch at offset " + std::to_string(h->base_offset.value()));
    }
    in_batch_ = true;
    return Status::OK();
  }
}

Result<bool> RecordIterator::Next(RecordView* out) {
  for (;;) {
    if (!in_batch_) {
      bool done = false;
      RETURN_IF_ERROR(OpenNextBatch(&done));
      if (done) return false;
    }
    auto more = reader_.Next(out);
    if (!more.ok() || !*more) {
      in_batch_ = false;
      next_offset_ = std::max(next_offset_, batch_.next_offset());
      if (!more.ok()) {
        return more.status().WithContext("batch at offset " +
                                         std::to_string(batch_.base_offset.value()));
      }
      continue;
    }
    if (out->offset < options_.start) continue;
    return true;
  }
}

// ------------------------------------------------------------ BatchBuilder

BatchBuilder::BatchBuilder(BatchBuilderOptions options) : options_(std::move(options)) {}

void BatchBuilder::Add(int64_t timestamp, std::optional<std::string_view> key,
                       std::optional<std::string_view> value,
                       std::span<const RecordHeader> headers) {
  if (count_ == 0) first_timestamp_ = timestamp;
  max_timestamp_ = count_ == 0 ? timestamp : std::max(max_timestamp_, timestamp);
  std::string body;
  body.push_back(0);  // attributes
  coding::PutZigZag64(&body, static_cast<int64_t>(static_cast<uint64_t>(timestamp) -
                                                  static_cast<uint64_t>(first_timestamp_)));
  coding::PutZigZag64(&body, count_);  // offset delta
  PutOptBytes(&body, key);
  PutOptBytes(&body, value);
  coding::PutZigZag64(&body, static_cast<int64_t>(headers.size()));
  for (const RecordHeader& h : headers) {
    PutOptBytes(&body, std::string_view(h.key));
    PutOptBytes(&body, h.value ? std::optional<std::string_view>(*h.value) : std::nullopt);
  }
  coding::PutZigZag64(&records_, static_cast<int64_t>(body.size()));
  records_.append(body);
  ++count_;
}

Result<std::string> BatchBuilder::Build() const {
  if (count_ == 0) return Status::InvalidArgument("a record batch needs at least one record");
  int16_t attributes = static_cast<int16_t>(options_.compression);
  if (options_.log_append_time) attributes |= kAttrLogAppendTime;
  if (options_.transactional) attributes |= kAttrTransactional;
  if (options_.control) attributes |= kAttrControl;
  int64_t max_ts = max_timestamp_;
  if (options_.log_append_time && options_.log_append_time_ms >= 0) {
    max_ts = options_.log_append_time_ms;
  }
  std::string out;
  out.reserve(kBatchHeaderSize + records_.size());
  coding::PutBigEndian64(&out, static_cast<uint64_t>(options_.base_offset.value()));
  coding::PutBigEndian32(&out, 0);  // length, patched below
  coding::PutBigEndian32(&out, static_cast<uint32_t>(options_.partition_leader_epoch));
  out.push_back(static_cast<char>(kBatchMagic));
  coding::PutBigEndian32(&out, 0);  // crc, patched below
  coding::PutBigEndian16(&out, static_cast<uint16_t>(attributes));
  coding::PutBigEndian32(&out, static_cast<uint32_t>(count_ - 1));
  coding::PutBigEndian64(&out, static_cast<uint64_t>(first_timestamp_));
  coding::PutBigEndian64(&out, static_cast<uint64_t>(max_ts));
  coding::PutBigEndian64(&out, static_cast<uint64_t>(options_.producer_id.value()));
  coding::PutBigEndian16(&out, static_cast<uint16_t>(options_.producer_epoch.value()));
  coding::PutBigEndian32(&out, static_cast<uint32_t>(options_.base_sequence));
  coding::PutBigEndian32(&out, static_cast<uint32_t>(count_));
  if (options_.compression == Compression::kNone) {
    out.append(records_);
  } else {
    RETURN_IF_ERROR(Compress(options_.compression, records_, options_.compress_options, &out));
  }
  coding::EncodeBigEndian32(out.data() + kLengthPos,
                            static_cast<uint32_t>(out.size() - kBatchLogOverhead));
  UpdateBatchCrc(&out);
  return out;
}

namespace internal {

Result<bool> FindRecordByTimestamp(const BatchView& batch, int64_t t, Offset min_offset,
                                   Offset* offset, int64_t* timestamp) {
  ASSIGN_OR_RETURN(RecordReader reader, RecordReader::Create(batch));
  RecordView r;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&r));
    if (!more) return false;
    if (r.timestamp >= t && r.offset >= min_offset) {
      *offset = r.offset;
      *timestamp = r.timestamp;
      return true;
    }
  }
}

}  // namespace internal
}  // namespace braid::log
