#include "kafka/protocol/wire.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "base/coding.h"

namespace braid::kafka {

Status Reader::Error(std::string_view what) const {
  std::string m(what);
  m += " at byte ";
  m += std::to_string(offset());
  return Status::Corruption(std::move(m));
}

Status Reader::Need(size_t n, std::string_view what) const {
  if (remaining() < n) {
    std::string m = "truncated ";
    m += what;
    m += " (need " + std::to_string(n) + " bytes, have " + std::to_string(remaining()) + ")";
    return Error(m);
  }
  return Status::OK();
}

Status Reader::ReadBool(bool* v) {
  int8_t b = 0;
  RETURN_IF_ERROR(ReadInt8(&b));
  *v = b != 0;
  return Status::OK();
}

Status Reader::ReadInt8(int8_t* v) {
  RETURN_IF_ERROR(Need(1, "int8"));
  *v = static_cast<int8_t>(data_[pos_]);
  pos_ += 1;
  return Status::OK();
}

Status Reader::ReadInt16(int16_t* v) {
  uint16_t u = 0;
  RETURN_IF_ERROR(ReadUint16(&u));
  *v = static_cast<int16_t>(u);
  return Status::OK();
}

Status Reader::ReadUint16(uint16_t* v) {
  RETURN_IF_ERROR(Need(2, "int16"));
  *v = coding::DecodeBigEndian16(data_.data() + pos_);
  pos_ += 2;
  return Status::OK();
}

Status Reader::ReadInt32(int32_t* v) {
  uint32_t u = 0;
  RETURN_IF_ERROR(ReadUint32(&u));
  *v = static_cast<int32_t>(u);
  return Status::OK();
}

Status Reader::ReadUint32(uint32_t* v) {
  RETURN_IF_ERROR(Need(4, "int32"));
  *v = coding::DecodeBigEndian32(data_.data() + pos_);
  pos_ += 4;
  return Status::OK();
}

Status Reader::ReadInt64(int64_t* v) {
  RETURN_IF_ERROR(Need(8, "int64"));
  *v = static_cast<int64_t>(coding::DecodeBigEndian64(data_.data() + pos_));
  pos_ += 8;
  return Status::OK();
}

Status Reader::ReadFloat64(double* v) {
  RETURN_IF_ERROR(Need(8, "float64"));
  uint64_t u = coding::DecodeBigEndian64(data_.data() + pos_);
  std::memcpy(v, &u, 8);
  pos_ += 8;
  return Status::OK();
}

Status Reader::ReadUuid(Uuid* v) {
  RETURN_IF_ERROR(Need(16, "uuid"));
  std::memcpy(v->data(), data_.data() + pos_, 16);
  pos_ += 16;
  return Status::OK();
}

Status Reader::ReadUnsignedVarint(uint32_t* v) {
  const char* begin = data_.data() + pos_;
  const char* end = data_.data() + data_.size();
  uint64_t u = 0;
  const char* p = coding::GetVarint64(begin, end, &u, 5);
  if (p == nullptr) return Error("malformed or truncated unsigned varint");
  if (u > std::numeric_limits<uint32_t>::max()) return Error("unsigned varint exceeds 32 bits");
  *v = static_cast<uint32_t>(u);
  pos_ += static_cast<size_t>(p - begin);
  return Status::OK();
}

Status Reader::ReadVarint(int32_t* v) {
  const char* begin = data_.data() + pos_;
  const char* p = coding::GetZigZag32(begin, data_.data() + data_.size(), v);
  if (p == nullptr) return Error("malformed or truncated varint");
  pos_ += static_cast<size_t>(p - begin);
  return Status::OK();
}

Status Reader::ReadVarlong(int64_t* v) {
  const char* begin = data_.data() + pos_;
  const char* p = coding::GetZigZag64(begin, data_.data() + data_.size(), v);
  if (p == nullptr) return Error("malformed or truncated varlong");
  pos_ += static_cast<size_t>(p - begin);
  return Status::OK();
}

Status Reader::ReadRaw(size_t n, std::string_view* v) {
  RETURN_IF_ERROR(Need(n, "bytes"));
  *v = data_.substr(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status Reader::Skip(size_t n) {
  RETURN_IF_ERROR(Need(n, "bytes"));
  pos_ += n;
  return Status::OK();
}

Status Reader::ReadLengthPrefixed(size_t n, std::string* v, std::string_view what) {
  RETURN_IF_ERROR(Need(n, what));
  v->assign(data_.data() + pos_, n);
  pos_ += n;
  return Status::OK();
}

Status Reader::ReadString(std::string* v) {
  int16_t len = 0;
  RETURN_IF_ERROR(ReadInt16(&len));
  if (len < 0) return Error("null or negative length for non-nullable string");
  return ReadLengthPrefixed(static_cast<size_t>(len), v, "string");
}

Status Reader::ReadNullableString(std::optional<std::string>* v) {
  int16_t len = 0;
  RETURN_IF_ERROR(ReadInt16(&len));
  if (len == -1) {
    v->reset();
    return Status::OK();
  }
  if (len < 0) return Error("negative string length");
  v->emplace();
  return ReadLengthPrefixed(static_cast<size_t>(len), &**v, "string");
}

Status Reader::ReadCompactString(std::string* v) {
  uint32_t n = 0;
  RETURN_IF_ERROR(ReadUnsignedVarint(&n));
  if (n == 0) return Error("null compact string for non-nullable field");
  return ReadLengthPrefixed(n - 1, v, "compact string");
}

Status Reader::ReadCompactNullableString(std::optional<std::string>* v) {
  uint32_t n = 0;
  RETURN_IF_ERROR(ReadUnsignedVarint(&n));
  if (n == 0) {
    v->reset();
    return Status::OK();
  }
  v->emplace();
  return ReadLengthPrefixed(n - 1, &**v, "compact string");
}

Status Reader::ReadBytes(std::string* v) {
  int32_t len = 0;
  RETURN_IF_ERROR(ReadInt32(&len));
  if (len < 0) return Error("null or negative length for non-nullable bytes");
  return ReadLengthPrefixed(static_cast<size_t>(len), v, "bytes");
}

Status Reader::ReadNullableBytes(std::optional<std::string>* v) {
  std::optional<std::string_view> view;
  RETURN_IF_ERROR(ReadNullableBytesView(&view));
  if (view) {
    v->emplace(*view);
  } else {
    v->reset();
  }
  return Status::OK();
}

Status Reader::ReadCompactBytes(std::string* v) {
  uint32_t n = 0;
  RETURN_IF_ERROR(ReadUnsignedVarint(&n));
  if (n == 0) return Error("null compact bytes for non-nullable field");
  return ReadLengthPrefixed(n - 1, v, "compact bytes");
}

Status Reader::ReadCompactNullableBytes(std::optional<std::string>* v) {
  std::optional<std::string_view> view;
  RETURN_IF_ERROR(ReadCompactNullableBytesView(&view));
  if (view) {
    v->emplace(*view);
  } else {
    v->reset();
  }
  return Status::OK();
}

Status Reader::ReadNullableBytesView(std::optional<std::string_view>* v) {
  int32_t len = 0;
  RETURN_IF_ERROR(ReadInt32(&len));
  if (len == -1) {
    v->reset();
    return Status::OK();
  }
  if (len < 0) return Error("negative bytes length");
  std::string_view s;
  RETURN_IF_ERROR(ReadRaw(static_cast<size_t>(len), &s));
  *v = s;
  return Status::OK();
}

Status Reader::ReadCompactNullableBytesView(std::optional<std::string_view>* v) {
  uint32_t n = 0;
  RETURN_IF_ERROR(ReadUnsignedVarint(&n));
  if (n == 0) {
    v->reset();
    return Status::OK();
  }
  std::string_view s;
  RETURN_IF_ERROR(ReadRaw(n - 1, &s));
  *v = s;
  return Status::OK();
}

Status Reader::ReadArrayCount(int32_t* count, size_t min_element_size) {
  size_t start = pos_;
  int32_t n = 0;
  RETURN_IF_ERROR(ReadInt32(&n));
  if (n < -1) {
    pos_ = start;
    return Error("negative array count");
  }
  if (n > 0 && static_cast<size_t>(n) > remaining() / (min_element_size ? min_element_size : 1)) {
    pos_ = start;
    return Error("array count " + std::to_string(n) + " exceeds remaining bytes");
  }
  *count = n;
  return Status::OK();
}

Status Reader::ReadCompactArrayCount(int32_t* count, size_t min_element_size) {
  size_t start = pos_;
  uint32_t n = 0;
  RETURN_IF_ERROR(ReadUnsignedVarint(&n));
  if (n == 0) {
    *count = -1;
    return Status::OK();
  }
  uint32_t c = n - 1;
  if (c > static_cast<uint32_t>(INT32_MAX) ||
      c > remaining() / (min_element_size ? min_element_size : 1)) {
    pos_ = start;
    return Error("compact array count " + std::to_string(c) + " exceeds remaining bytes");
  }
  *count = static_cast<int32_t>(c);
  return Status::OK();
}

Status Reader::SkipTaggedFields() { return ReadTaggedFields(nullptr); }

// ---------------------------------------------------------------- Writer

void Writer::WriteInt16(int16_t v) { coding::PutBigEndian16(out_, static_cast<uint16_t>(v)); }
void Writer::WriteUint16(uint16_t v) { coding::PutBigEndian16(out_, v); }
void Writer::WriteInt32(int32_t v) { coding::PutBigEndian32(out_, static_cast<uint32_t>(v)); }
void Writer::WriteUint32(uint32_t v) { coding::PutBigEndian32(out_, v); }
void Writer::WriteInt64(int64_t v) { coding::PutBigEndian64(out_, static_cast<uint64_t>(v)); }
void Writer::WriteFloat64(double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  coding::PutBigEndian64(out_, u);
}
void Writer::WriteUuid(const Uuid& v) {
  out_->append(reinterpret_cast<const char*>(v.data()), v.size());
}
void Writer::WriteUnsignedVarint(uint32_t v) { coding::PutVarint64(out_, v); }
void Writer::WriteVarint(int32_t v) { coding::PutVarint64(out_, coding::ZigZagEncode32(v)); }
void Writer::WriteVarlong(int64_t v) { coding::PutZigZag64(out_, v); }

void Writer::WriteString(std::string_view v) {
  WriteInt16(static_cast<int16_t>(v.size()));
  out_->append(v);
}
void Writer::WriteNullableString(const std::optional<std::string>& v) {
  if (!v) {
    WriteInt16(-1);
  } else {
    WriteString(*v);
  }
}
void Writer::WriteCompactString(std::string_view v) {
  WriteUnsignedVarint(static_cast<uint32_t>(v.size() + 1));
  out_->append(v);
}
void Writer::WriteCompactNullableString(const std::optional<std::string>& v) {
  if (!v) {
    WriteUnsignedVarint(0);
  } else {
    WriteCompactString(*v);
  }
}
void Writer::WriteBytes(std::string_view v) {
  WriteInt32(static_cast<int32_t>(v.size()));
  out_->append(v);
}
void Writer::WriteNullableBytes(const std::optional<std::string>& v) {
  if (!v) {
    WriteInt32(-1);
  } else {
    WriteBytes(*v);
  }
}
void Writer::WriteCompactBytes(std::string_view v) { WriteCompactString(v); }
void Writer::WriteCompactNullableBytes(const std::optional<std::string>& v) {
  WriteCompactNullableString(v);
}
void Writer::WriteArrayCount(int32_t count) { WriteInt32(count); }
void Writer::WriteCompactArrayCount(int32_t count) {
  WriteUnsignedVarint(count < 0 ? 0u : static_cast<uint32_t>(count) + 1);
}

size_t Writer::ReserveInt32() {
  size_t pos = out_->size();
  out_->append(4, '\0');
  return pos;
}

void Writer::PatchInt32(size_t pos, int32_t v) {
  coding::EncodeBigEndian32(out_->data() + pos, static_cast<uint32_t>(v));
}

}  // namespace braid::kafka
