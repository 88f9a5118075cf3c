#include "log/legacy_records.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "base/coding.h"
#include "base/crc.h"
#include "log/record_batch.h"
#include "log/records.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace braid::log {
namespace {

constexpr int8_t kLegacyCodecMask = 0x07;
constexpr size_t kMagicOffsetInEntry = 16;  // offset(8) + size(4) + crc(4)

// One message of a MessageSet as it is on the wire (views into the input).
struct RawMessage {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
};

// Reads the message at *pos of `set` (`base` is added to byte offsets in
// error messages) and advances *pos past it.
Status ReadMessage(std::string_view set, size_t base, size_t* pos, RawMessage* m) {
  const size_t at = *pos;
  auto err = [&](const std::string& what) {
    return Status::Corruption("message set: " + what + " at byte " + std::to_string(base + at));
  };
  if (set.size() - at < kLegacyLogOverhead) return err("truncated message header");
  const char* p = set.data() + at;
  m->offset = static_cast<int64_t>(coding::DecodeBigEndian64(p));
  const int32_t size = static_cast<int32_t>(coding::DecodeBigEndian32(p + 8));
  if (size < static_cast<int32_t>(kMessageOverheadV0)) {
    return err("message size " + std::to_string(size) + " below the minimum");
  }
  if (static_cast<size_t>(size) > set.size() - at - kLegacyLogOverhead) {
    return err("truncated message of " + std::to_string(size) + " bytes");
  }
  std::string_view msg = set.substr(at + kLegacyLogOverhead, static_cast<size_t>(size));
  m->magic = static_cast<int8_t>(msg[4]);
  if (m->magic != kMagicV0 && m->magic != kMagicV1) {
    if (m->magic == 2) {
      return Status::InvalidArgument(
          "message set: a RecordBatch v2 among magic 0/1 messages at byte " +
          std::to_string(base + at));
    }
    return err("unknown magic " + std::to_string(m->magic));
  }
  const size_t overhead = m->magic == kMagicV0 ? kMessageOverheadV0 : kMessageOverheadV1;
  if (msg.size() < overhead) return err("message too short for its magic");
  const uint32_t crc = coding::DecodeBigEndian32(msg.data());
  if (Crc32Ieee(msg.substr(4)) != crc) return err("CRC mismatch");
  m->attributes = static_cast<int8_t>(msg[5]);
  size_t q = 6;
  m->timestamp = -1;
  if (m->magic == kMagicV1) {
    m->timestamp = static_cast<int64_t>(coding::DecodeBigEndian64(msg.data() + q));
    q += 8;
  }
  for (std::optional<std::string_view>* field : {&m->key, &m->value}) {
    if (msg.size() - q < 4) return err("truncated message");
    const int32_t n = static_cast<int32_t>(coding::DecodeBigEndian32(msg.data() + q));
    q += 4;
    if (n == -1) {
      field->reset();
      continue;
    }
    if (n < 0) return err("negative key or value length");
    if (static_cast<size_t>(n) > msg.size() - q) return err("key or value beyond the message");
    *field = msg.substr(q, static_cast<size_t>(n));
    q += static_cast<size_t>(n);
  }
  if (q != msg.size()) return err("trailing bytes inside the message");
  *pos = at + kLegacyLogOverhead + static_cast<size_t>(size);
  return Status::OK();
}

// Position of the header checksum byte of an LZ4 frame, and of the first
// descriptor byte (FLG); Corruption if `frame` is not an LZ4 frame header.
Status Lz4HeaderChecksumPos(std::string_view frame, size_t* hc_pos) {
  if (frame.size() < 7 || coding::DecodeLittleEndian32(frame.data()) != 0x184D2204u) {
    return Status::Corruption("lz4: not a frame");
  }
  const uint8_t flg = static_cast<uint8_t>(frame[4]);
  size_t pos = 6;            // magic(4) FLG BD
  if (flg & 0x08) pos += 8;  // content size
  if (flg & 0x01) pos += 4;  // dictionary id
  if (frame.size() <= pos) return Status::Corruption("lz4: truncated frame header");
  *hc_pos = pos;
  return Status::OK();
}

uint8_t Lz4Hc(const char* data, size_t n) {
  return static_cast<uint8_t>((XXH32(data, n, 0) >> 8) & 0xff);
}

// Decompresses a wrapper's value. Magic 0 LZ4 frames may carry the wrong
// header checksum: it is recomputed before decoding (as librdkafka does).
Status DecompressWrapper(Compression codec, int8_t magic, std::string_view in, size_t max_output,
                         std::string* out) {
  if (codec == Compression::kLz4 && magic == kMagicV0) {
    std::string fixed(in);
    size_t hc = 0;
    RETURN_IF_ERROR(Lz4HeaderChecksumPos(fixed, &hc));
    fixed[hc] = static_cast<char>(Lz4Hc(fixed.data() + 4, hc - 4));
    return Decompress(codec, fixed, max_output, out);
  }
  return Decompress(codec, in, max_output, out);
}

Status CompressWrapper(Compression codec, int8_t magic, std::string_view in, std::string* out) {
  CompressOptions co;
  co.snappy_xerial_framing = true;  // what Kafka's Java broker writes
  const size_t start = out->size();
  RETURN_IF_ERROR(Compress(codec, in, co, out));
  if (codec == Compression::kLz4 && magic == kMagicV0) {
    // Kafka writes magic 0 LZ4 with the checksum over magic + descriptor.
    std::string_view frame(out->data() + start, out->size() - start);
    size_t hc = 0;
    RETURN_IF_ERROR(Lz4HeaderChecksumPos(frame, &hc));
    (*out)[start + hc] = static_cast<char>(Lz4Hc(frame.data(), hc));
  }
  return Status::OK();
}

Result<Compression> LegacyCodec(int8_t attributes) {
  const int c = attributes & kLegacyCodecMask;
  if (c <= 3) return static_cast<Compression>(c);
  if (c == 4) return Status::Unimplemented("zstd needs RecordBatch v2 (magic 2)");
  return Status::Unimplemented("unknown compression codec " + std::to_string(c));
}

// Walks a MessageSet, decompressing wrappers, calling
// fn(const RawMessage& msg, const RawMessage* wrapper, int wrapper_index) for
// every record (wrapper null and index -1 for uncompressed outer messages;
// index 0, 1, ... for the records of the first, second... wrapper). Checks magic consistency
// and nesting. Keeps decompressed buffers alive in *buffers.
template <typename Fn>
Status WalkMessageSet(std::string_view set, size_t max_decompressed,
                      std::deque<std::string>* buffers, int* outer_count, int* wrapper_count,
                      Compression* first_codec, int8_t* first_magic, Fn fn) {
  size_t pos = 0;
  size_t budget = max_decompressed;
  *outer_count = 0;
  *wrapper_count = 0;
  *first_codec = Compression::kNone;
  *first_magic = -1;
  while (pos < set.size()) {
    const size_t at = pos;
    RawMessage m;
    RETURN_IF_ERROR(ReadMessage(set, 0, &pos, &m));
    if (*first_magic < 0) {
      *first_magic = m.magic;
    } else if (m.magic != *first_magic) {
      return Status::InvalidArgument(
          "message set: magic " + std::to_string(m.magic) + " differs from the first message's " +
          std::to_string(*first_magic) + " at byte " + std::to_string(at));
    }
    ++*outer_count;
    ASSIGN_OR_RETURN(Compression codec, LegacyCodec(m.attributes));
    if (codec == Compression::kNone) {
      RETURN_IF_ERROR(fn(m, nullptr, -1));
      continue;
    }
    ++*wrapper_count;
    if (*first_codec == Compression::kNone) *first_codec = codec;
    if (!m.value) {
      return Status::InvalidArgument("message set: compressed message without a value at byte " +
                                     std::to_string(at));
    }
    std::string& inner = buffers->emplace_back();
    RETURN_IF_ERROR(DecompressWrapper(codec, m.magic, *m.value, budget, &inner)
                        .WithContext("message set: wrapper at byte " + std::to_string(at)));
    budget -= inner.size();
    size_t ipos = 0;
    while (ipos < inner.size()) {
      const size_t iat = ipos;
      RawMessage im;
      RETURN_IF_ERROR(ReadMessage(inner, 0, &ipos, &im)
                          .WithContext("inside the wrapper at byte " + std::to_string(at)));
      if (im.magic != m.magic) {
        return Status::InvalidArgument(
            "message set: inner message magic " + std::to_string(im.magic) +
            " does not match its wrapper's " + std::to_string(m.magic) + " (wrapper at byte " +
            std::to_string(at) + ", inner byte " + std::to_string(iat) + ")");
      }
      if ((im.attributes & kLegacyCodecMask) != 0) {
        return Status::InvalidArgument(
            "message set: compressed message inside a compressed message (wrapper at byte " +
            std::to_string(at) + ")");
      }
      RETURN_IF_ERROR(fn(im, &m, *wrapper_count - 1));
    }
  }
  return Status::OK();
}

}  // namespace

Result<int8_t> PeekMagic(std::string_view records) {
  if (records.size() <= kMagicOffsetInEntry) {
    return Status::Corruption("records of " + std::to_string(records.size()) +
                              " bytes are too short to carry a magic byte");
  }
  return static_cast<int8_t>(records[kMagicOffsetInEntry]);
}

void AppendLegacyMessage(std::string* out, int8_t magic, int64_t offset, int8_t attributes,
                         int64_t timestamp, std::optional<std::string_view> key,
                         std::optional<std::string_view> value) {
  coding::PutBigEndian64(out, static_cast<uint64_t>(offset));
  const size_t size_pos = out->size();
  coding::PutBigEndian32(out, 0);  // size, patched below
  const size_t crc_pos = out->size();
  coding::PutBigEndian32(out, 0);  // crc, patched below
  out->push_back(static_cast<char>(magic));
  out->push_back(static_cast<char>(attributes));
  if (magic == kMagicV1) coding::PutBigEndian64(out, static_cast<uint64_t>(timestamp));
  for (const auto& field : {key, value}) {
    if (!field) {
      coding::PutBigEndian32(out, 0xffffffffu);
    } else {
      coding::PutBigEndian32(out, static_cast<uint32_t>(field->size()));
      out->append(*field);
    }
  }
  coding::EncodeBigEndian32(out->data() + size_pos,
                            static_cast<uint32_t>(out->size() - size_pos - 4));
  const uint32_t crc =
      Crc32Ieee(std::string_view(out->data() + crc_pos + 4, out->size() - crc_pos - 4));
  coding::EncodeBigEndian32(out->data() + crc_pos, crc);
}

Result<std::vector<LegacyMessage>> DecodeMessageSet(std::string_view message_set,
                                                    size_t max_decompressed_size) {
  std::vector<LegacyMessage> out;
  std::deque<std::string> buffers;
  int outer = 0, wrappers = 0;
  Compression codec = Compression::kNone;
  int8_t magic = -1;
  // Magic 1 inner offsets are relative: resolved when their wrapper ends,
  // from the wrapper's offset (that of the last inner message).
  int current = -1;  // wrapper index of the messages since wrapper_start
  size_t wrapper_start = 0;
  int64_t wrapper_offset = 0;
  int8_t wrapper_magic = 0;
  auto resolve = [&]() {
    if (current < 0 || out.size() == wrapper_start || wrapper_magic != kMagicV1) return;
    // Two's-complement arithmetic: hostile offsets must not overflow (UB).
    const int64_t base = static_cast<int64_t>(static_cast<uint64_t>(wrapper_offset) -
                                              static_cast<uint64_t>(out.back().offset.value()));
    for (size_t i = wrapper_start; i < out.size(); ++i) {
      out[i].offset = Offset(BatchHeader::WrapAdd(base, out[i].offset.value()));
    }
  };
  Status s = WalkMessageSet(
      message_set, max_decompressed_size, &buffers, &outer, &wrappers, &codec, &magic,
      [&](const RawMessage& m, const RawMessage* wrapper, int index) -> Status {
        if (index != current) {
          resolve();
          current = index;
          wrapper_start = out.size();
          if (wrapper != nullptr) {
            wrapper_offset = wrapper->offset;
            wrapper_magic = wrapper->magic;
          }
        }
        LegacyMessage lm;
        lm.offset = Offset(m.offset);
        lm.magic = m.magic;
        lm.attributes = m.attributes;
        lm.timestamp = m.timestamp;
        lm.log_append_time =
            m.magic == kMagicV1 &&
            ((m.attributes & kLegacyAttrLogAppendTime) != 0 ||
             (wrapper != nullptr && (wrapper->attributes & kLegacyAttrLogAppendTime) != 0));
        if (lm.log_append_time && wrapper != nullptr) lm.timestamp = wrapper->timestamp;
        if (m.key) lm.key.emplace(*m.key);
        if (m.value) lm.value.emplace(*m.value);
        out.push_back(std::move(lm));
        return Status::OK();
      });
  RETURN_IF_ERROR(s);
  resolve();
  return out;
}

Result<UpConverted> UpConvertMessageSet(std::string_view message_set,
                                        const UpConvertOptions& options) {
  struct Rec {
    int64_t timestamp;
    std::optional<std::string_view> key;
    std::optional<std::string_view> value;
  };
  std::vector<Rec> records;
  std::deque<std::string> buffers;
  int outer = 0, wrappers = 0;
  UpConverted result;
  RETURN_IF_ERROR(WalkMessageSet(
      message_set, options.max_decompressed_size, &buffers, &outer, &wrappers, &result.compression,
      &result.magic, [&](const RawMessage& m, const RawMessage*, int) -> Status {
        records.push_back({m.magic == kMagicV1 ? m.timestamp : -1, m.key, m.value});
        return Status::OK();
      }));
  if (outer == 0) return Status::InvalidArgument("message set: no messages");
  if (wrappers > 0 && outer > 1) {
    // Kafka's LogValidator: a compressed set is exactly one wrapper.
    return Status::InvalidArgument("message set: compressed set with " + std::to_string(outer) +
                                   " outer messages (must be exactly one)");
  }
  if (records.empty()) return Status::InvalidArgument("message set: empty compressed message");
  BatchBuilderOptions bo;
  bo.compression = result.compression;
  BatchBuilder builder(bo);
  for (const Rec& r : records) builder.Add(r.timestamp, r.key, r.value);
  ASSIGN_OR_RETURN(result.batch, builder.Build());
  result.record_count = builder.record_count();
  return result;
}

Result<DownConverted> DownConvertBatches(std::string_view batches, int8_t magic,
                                         const DownConvertOptions& options) {
  if (magic != kMagicV0 && magic != kMagicV1) {
    return Status::InvalidArgument("can only down-convert to magic 0 or 1");
  }
  SplitOptions so;
  so.verify_crc = false;  // the log checked them on append
  so.allow_partial_tail = true;
  ASSIGN_OR_RETURN(std::vector<BatchView> views, SplitBatches(batches, so));
  DownConverted result;
  RecordReader reader;
  std::string inner;
  for (const BatchView& b : views) {
    const BatchHeader& h = b.header;
    if (h.is_control()) continue;  // transaction markers have no old form
    if (h.next_offset().value() <= options.first_offset.value()) continue;
    const Compression codec = h.compression();
    if (codec == Compression::kZstd) {
      return Status::Unimplemented("a zstd batch at offset " +
                                   std::to_string(h.base_offset.value()) +
                                   " cannot be down-converted to magic " + std::to_string(magic));
    }
    RETURN_IF_ERROR(reader.Reset(b, options.max_decompressed_size));
    const bool log_append = h.timestamp_type() == TimestampType::kLogAppendTime;
    const int8_t ts_bit = magic == kMagicV1 && log_append ? kLegacyAttrLogAppendTime : 0;
    inner.clear();
    int64_t first_kept = -1, last_kept = -1, max_ts = -1;
    RecordView r;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&r));
      if (!more) break;
      if (r.offset.value() < options.first_offset.value()) continue;
      if (codec == Compression::kNone) {
        AppendLegacyMessage(&result.message_set, magic, r.offset.value(), ts_bit, r.timestamp,
                            r.key, r.value);
      } else {
        if (first_kept < 0) first_kept = r.offset.value();
        // (Unsigned: hostile base offsets must not overflow.)
        const int64_t inner_offset =
            magic == kMagicV1 ? static_cast<int64_t>(static_cast<uint64_t>(r.offset.value()) -
                                                     static_cast<uint64_t>(first_kept))
                              : r.offset.value();
        AppendLegacyMessage(&inner, magic, inner_offset, ts_bit, r.timestamp, r.key, r.value);
      }
      last_kept = r.offset.value();
      max_ts = std::max(max_ts, r.timestamp);
      ++result.records;
    }
    if (codec == Compression::kNone || last_kept < 0) continue;
    std::string compressed;
    RETURN_IF_ERROR(CompressWrapper(codec, magic, inner, &compressed));
    const int64_t wrapper_ts = log_append ? h.max_timestamp : max_ts;
    AppendLegacyMessage(&result.message_set, magic, last_kept,
                        static_cast<int8_t>(static_cast<int>(codec) | ts_bit), wrapper_ts,
                        std::nullopt, compressed);
  }
  return result;
}

}  // namespace braid::log
