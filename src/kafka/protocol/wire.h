// Kafka wire primitives: a bounds-checked Reader over a byte span and a
// Writer appending to a std::string.
//
// All input is hostile. Every Reader method checks the remaining bytes before
// reading, and reports failure as Status::Corruption whose message names the
// field and the absolute byte offset ("... at byte 17"). Lengths and counts
// read from the wire are validated against the remaining bytes before any
// allocation: an array count can never exceed remaining() / the minimum
// encoded size of one element.
//
// Thread safety: a Reader/Writer is a small value owned by one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"

namespace braid::kafka {

using Uuid = std::array<uint8_t, 16>;

class Reader {
 public:
  // `data` must outlive the Reader. `base_offset` is added to positions in
  // error messages (use it when `data` is a slice of a larger frame).
  explicit Reader(std::string_view data, size_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}
  // A Reader over a temporary string would dangle.
  Reader(std::string&&, size_t = 0) = delete;

  size_t position() const { return pos_; }               // bytes consumed so far
  size_t offset() const { return base_offset_ + pos_; }  // absolute position
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  std::string_view rest() const { return data_.substr(pos_); }

  // Fixed width, big-endian.
  Status ReadBool(bool* v);  // any non-zero byte is true
  Status ReadInt8(int8_t* v);
  Status ReadInt16(int16_t* v);
  Status ReadInt32(int32_t* v);
  Status ReadInt64(int64_t* v);
  Status ReadUint16(uint16_t* v);
  Status ReadUint32(uint32_t* v);
  Status ReadFloat64(double* v);
  Status ReadUuid(Uuid* v);

  // LEB128 unsigned varint, at most 5 bytes, value fits uint32.
  Status ReadUnsignedVarint(uint32_t* v);
  // Zig-zag signed varint (int32, at most 5 bytes) and varlong (int64, 10).
  Status ReadVarint(int32_t* v);
  Status ReadVarlong(int64_t* v);

  // Raw bytes: a view into the input (valid while the input is).
  Status ReadRaw(size_t n, std::string_view* v);
  Status Skip(size_t n);

  // STRING: int16 length (>= 0). NULLABLE_STRING: -1 is null.
  Status ReadString(std::string* v);
  Status ReadNullableString(std::optional<std::string>* v);
  // COMPACT_STRING: unsigned varint length+1 (0 = null, an error for the
  // non-nullable form).
  Status ReadCompactString(std::string* v);
  Status ReadCompactNullableString(std::optional<std::string>* v);
  // BYTES: int32 length. NULLABLE_BYTES: -1 is null.
  Status ReadBytes(std::string* v);
  Status ReadNullableBytes(std::optional<std::string>* v);
  Status ReadCompactBytes(std::string* v);
  Status ReadCompactNullableBytes(std::optional<std::string>* v);
  // Zero-copy forms of the above (nullopt = null).
  Status ReadNullableBytesView(std::optional<std::string_view>* v);
  Status ReadCompactNullableBytesView(std::optional<std::string_view>* v);

  // ARRAY count: int32, -1 = null (reported as -1). COMPACT_ARRAY: unsigned
  // varint count+1, 0 = null (reported as -1). Any count with
  // count * min_element_size > remaining() is rejected, so callers may
  // reserve(count) safely. min_element_size must be >= 1.
  Status ReadArrayCount(int32_t* count, size_t min_element_size);
  Status ReadCompactArrayCount(int32_t* count, size_t min_element_size);

  // Tagged-field section (KIP-482): unsigned varint count, then for each field
  // tag, size, bytes. Tags must be strictly increasing. `on_field` (may be
  // null) receives (tag, field bytes) for each field and returns a Status;
  // SkipTaggedFields() ignores every field.
  template <typename F>
  Status ReadTaggedFields(F&& on_field);
  Status SkipTaggedFields();

  // A Corruption status "what at byte N" at the current offset.
  Status Error(std::string_view what) const;

 private:
  Status Need(size_t n, std::string_view what) const;
  Status ReadLengthPrefixed(size_t n, std::string* v, std::string_view what);

  std::string_view data_;
  size_t pos_ = 0;
  size_t base_offset_ = 0;
};

class Writer {
 public:
  // Appends to *out (not owned; must outlive the Writer).
  explicit Writer(std::string* out) : out_(out) {}

  size_t size() const { return out_->size(); }
  std::string* buffer() { return out_; }

  void WriteBool(bool v) { WriteInt8(v ? 1 : 0); }
  void WriteInt8(int8_t v) { out_->push_back(static_cast<char>(v)); }
  void WriteInt16(int16_t v);
  void WriteInt32(int32_t v);
  void WriteInt64(int64_t v);
  void WriteUint16(uint16_t v);
  void WriteUint32(uint32_t v);
  void WriteFloat64(double v);
  void WriteUuid(const Uuid& v);
  void WriteUnsignedVarint(uint32_t v);
  void WriteVarint(int32_t v);
  void WriteVarlong(int64_t v);
  void WriteRaw(std::string_view v) { out_->append(v); }

  // Precondition for the int16-length forms: v.size() <= 32767 (checked by
  // the message encoders, which return InvalidArgument otherwise).
  void WriteString(std::string_view v);
  void WriteNullableString(const std::optional<std::string>& v);
  void WriteCompactString(std::string_view v);
  void WriteCompactNullableString(const std::optional<std::string>& v);
  void WriteBytes(std::string_view v);
  void WriteNullableBytes(const std::optional<std::string>& v);
  void WriteCompactBytes(std::string_view v);
  void WriteCompactNullableBytes(const std::optional<std::string>& v);
  // count = -1 writes a null array.
  void WriteArrayCount(int32_t count);
  void WriteCompactArrayCount(int32_t count);
  // An empty tagged-field section (a single 0 byte).
  void WriteEmptyTaggedFields() { WriteUnsignedVarint(0); }

  // Reserves 4 bytes for a big-endian int32 to be patched later; returns its
  // position. PatchInt32 overwrites the 4 bytes at `pos`.
  size_t ReserveInt32();
  void PatchInt32(size_t pos, int32_t v);

 private:
  std::string* out_;
};

// ---- implementation of the template member --------------------------------

template <typename F>
Status Reader::ReadTaggedFields(F&& on_field) {
  uint32_t count = 0;
  RETURN_IF_ERROR(ReadUnsignedVarint(&count));
  if (count > remaining() / 2) return Error("tagged field count exceeds remaining bytes");
  int64_t last_tag = -1;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = 0, size = 0;
    RETURN_IF_ERROR(ReadUnsignedVarint(&tag));
    if (static_cast<int64_t>(tag) <= last_tag) return Error("tagged fields out of order");
    last_tag = tag;
    RETURN_IF_ERROR(ReadUnsignedVarint(&size));
    std::string_view bytes;
    RETURN_IF_ERROR(ReadRaw(size, &bytes));
    if constexpr (!std::is_same_v<std::decay_t<F>, std::nullptr_t>) {
      RETURN_IF_ERROR(on_field(tag, bytes));
    }
  }
  return Status::OK();
}

}  // namespace braid::kafka
