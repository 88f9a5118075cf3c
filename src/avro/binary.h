// Avro binary encoding: a primitive Decoder/Encoder layer (reused by the
// container reader, the compiled resolving decoder and the single-object
// codec) and generic Datum encode/decode/skip driven by a schema Node.
//
// Hostile input: every Decoder read checks the remaining input first and
// fails with Status Corruption whose message names the absolute byte offset
// ("... at byte offset N"). Lengths and counts are bounded by the remaining
// input before anything is allocated or reserved; collections of items that
// encode to zero bytes are capped by DecodeOptions::max_zero_size_items.
// Nothing here throws or aborts on bad bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "avro/datum.h"
#include "avro/schema.h"
#include "base/coding.h"
#include "base/status.h"

namespace braid::avro {

// Reads Avro primitives from a byte range it does not own. The returned
// string_views point into that range (no copy) and stay valid as long as the
// input does.
//
// Thread safety: one Decoder per thread; it is a cheap value type.
class Decoder {
 public:
  // `base_offset` is added to positions in error messages (e.g. the file
  // offset of `input`).
  explicit Decoder(std::string_view input, size_t base_offset = 0)
      : begin_(input.data()),
        pos_(input.data()),
        end_(input.data() + input.size()),
        base_(base_offset) {}

  // Absolute offset of the next byte (base_offset + bytes consumed).
  size_t offset() const { return base_ + static_cast<size_t>(pos_ - begin_); }
  // Bytes consumed since construction.
  size_t consumed() const { return static_cast<size_t>(pos_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  bool empty() const { return pos_ == end_; }
  // The unread input.
  std::string_view rest() const { return {pos_, remaining()}; }

  // boolean: one byte, 0 or 1 (any other value is Corruption).
  Status ReadBool(bool* v) {
    if (pos_ < end_ && static_cast<uint8_t>(*pos_) <= 1) {
      *v = *pos_++ != 0;
      return Status::OK();
    }
    return BadBool();
  }
  // int: zig-zag varint of at most 5 bytes whose value fits in 32 bits.
  Status ReadInt(int32_t* v) {
    if (pos_ < end_ && (static_cast<uint8_t>(*pos_) & 0x80) == 0) {
      *v = coding::ZigZagDecode32(static_cast<uint8_t>(*pos_++));
      return Status::OK();
    }
    return ReadIntSlow(v);
  }
  // long: zig-zag varint of at most 10 bytes.
  Status ReadLong(int64_t* v) {
    if (pos_ < end_ && (static_cast<uint8_t>(*pos_) & 0x80) == 0) {
      *v = coding::ZigZagDecode64(static_cast<uint8_t>(*pos_++));
      return Status::OK();
    }
    return ReadLongSlow(v);
  }
  // float / double: IEEE-754 little-endian, bit pattern preserved.
  Status ReadFloat(float* v) {
    if (remaining() < 4) return Truncated("float");
    std::memcpy(v, pos_, 4);
    pos_ += 4;
    return Status::OK();
  }
  Status ReadDouble(double* v) {
    if (remaining() < 8) return Truncated("double");
    std::memcpy(v, pos_, 8);
    pos_ += 8;
    return Status::OK();
  }
  // bytes / string: long length (>= 0, <= remaining) then the bytes, returned
  // as a view into the input. Strings are not UTF-8 validated.
  Status ReadBytes(std::string_view* v) { return ReadLengthPrefixed(v, "bytes"); }
  Status ReadString(std::string_view* v) { return ReadLengthPrefixed(v, "string"); }
  // fixed: exactly `size` bytes.
  Status ReadFixed(size_t size, std::string_view* v) {
    if (remaining() < size) return Truncated("fixed");
    *v = std::string_view(pos_, size);
    pos_ += size;
    return Status::OK();
  }
  // enum: an int in [0, symbol_count).
  Status ReadEnum(size_t symbol_count, size_t* index);
  // union: an int branch index in [0, branch_count).
  Status ReadUnionIndex(size_t branch_count, size_t* index);
  // Array/map block header: the item count of the next block (0 = end of the
  // collection). A negative count on the wire means |count| items preceded by
  // a byte size, which is read and, if `block_bytes` is non-null, returned
  // there (-1 when the writer gave no size). INT64_MIN and negative byte sizes
  // are Corruption. The count is not bounded here: see BoundCount.
  Status ReadBlockCount(int64_t* count, int64_t* block_bytes = nullptr);
  // Checks that `count` items of at least `min_item_size` bytes each can fit
  // in the remaining input; for min_item_size == 0 that count + *total does
  // not exceed `zero_size_cap`. Adds count to *total. Corruption otherwise.
  Status BoundCount(int64_t count, size_t min_item_size, size_t zero_size_cap, int64_t* total);
  // Advances `n` bytes (Corruption if fewer remain).
  Status Skip(size_t n) {
    if (remaining() < n) return Truncated("skipped bytes");
    pos_ += n;
    return Status::OK();
  }
  Status SkipLong() {
    int64_t v = 0;
    return ReadLong(&v);
  }
  Status SkipBytes() {
    std::string_view v;
    return ReadBytes(&v);
  }

  // Corruption "avro: <what> at byte offset N" at the current offset.
  Status Corrupt(std::string_view what) const;

 private:
  Status ReadIntSlow(int32_t* v);
  Status ReadLongSlow(int64_t* v);
  Status ReadLengthPrefixed(std::string_view* v, const char* what) {
    int64_t n = 0;
    const char* start = pos_;
    RETURN_IF_ERROR(ReadLong(&n));
    if (n >= 0 && static_cast<uint64_t>(n) <= remaining()) {
      *v = std::string_view(pos_, static_cast<size_t>(n));
      pos_ += n;
      return Status::OK();
    }
    return BadLength(start, n, what);
  }
  Status BadBool() const;
  Status Truncated(const char* what) const;
  Status BadLength(const char* at, int64_t n, const char* what);

  const char* begin_;
  const char* pos_;
  const char* end_;
  size_t base_;
};

// Appends Avro primitives to a std::string it does not own.
class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}

  void WriteBool(bool v) { out_->push_back(v ? 1 : 0); }
  void WriteInt(int32_t v) { coding::PutVarint64(out_, coding::ZigZagEncode32(v)); }
  void WriteLong(int64_t v) { coding::PutZigZag64(out_, v); }
  void WriteFloat(float v) { out_->append(reinterpret_cast<const char*>(&v), 4); }
  void WriteDouble(double v) { out_->append(reinterpret_cast<const char*>(&v), 8); }
  void WriteBytes(std::string_view v) {
    WriteLong(static_cast<int64_t>(v.size()));
    out_->append(v);
  }
  void WriteString(std::string_view v) { WriteBytes(v); }
  void WriteFixed(std::string_view v) { out_->append(v); }
  void WriteEnum(size_t index) { WriteInt(static_cast<int32_t>(index)); }
  void WriteUnionIndex(size_t index) { WriteInt(static_cast<int32_t>(index)); }
  // Block header with a positive item count (use 0 to end a collection).
  void WriteBlockCount(int64_t count) { WriteLong(count); }

  std::string* out() { return out_; }

 private:
  std::string* out_;
};

// Limits for decoding hostile input.
struct DecodeOptions {
  // Maximum total items of one array or map whose items may encode to zero
  // bytes (null, fixed(0), ...): such counts cannot be bounded by the input
  // size. Default: 100,000.
  size_t max_zero_size_items = 100000;
  // Maximum nesting depth of values (records, arrays, maps, unions inside
  // each other); guards the stack against deeply recursive data.
  // Default: 512.
  int max_depth = 512;
  // Values that are skipped rather than decoded (writer fields a reader
  // drops, fields a FieldExtractor does not want, SkipBinary): an array or
  // map block whose byte size the writer recorded (negative count on the
  // wire) is jumped over without reading its items when false; its items are
  // read and checked one by one when true, so that skipping accepts exactly
  // the inputs that decoding accepts (for validating consumers).
  // Default: false.
  bool validate_skipped_blocks = false;
};

// Appends the binary encoding of `datum` as a value of `schema` to *out.
// InvalidArgument (naming the path, e.g. "$.tags[2]") if the datum does not
// fit the schema (type mismatch, bad enum index or union branch, fixed of the
// wrong size, wrong field count). On error *out may hold a partial value.
Status EncodeBinary(const Node& schema, const Datum& datum, std::string* out);
inline Result<std::string> EncodeBinary(const Schema& schema, const Datum& datum) {
  std::string out;
  RETURN_IF_ERROR(EncodeBinary(schema.root(), datum, &out));
  return out;
}

// Decodes one value of `schema` from *decoder into *out. Corruption (naming
// the byte offset) for malformed input. On error *out is unspecified. Reuses
// the strings and vectors *out already holds, so decoding many values into
// one Datum allocates little.
Status DecodeBinary(const Node& schema, Decoder* decoder, Datum* out,
                    const DecodeOptions& options = {});
// Decodes exactly one value occupying all of `bytes` (trailing bytes are
// Corruption). The result refers to `schema`'s nodes.
Result<Datum> DecodeBinary(const Schema& schema, std::string_view bytes,
                           const DecodeOptions& options = {});

// Advances *decoder past one value of `schema` without building it (used for
// writer fields the reader does not want). Uses block byte sizes to jump over
// whole array/map blocks when the writer provided them (unless
// DecodeOptions::validate_skipped_blocks). Same checks and errors as
// DecodeBinary otherwise.
Status SkipBinary(const Node& schema, Decoder* decoder, const DecodeOptions& options = {});

}  // namespace braid::avro
