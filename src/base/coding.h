// Byte-level encoding helpers shared by every format braid reads or writes:
// big-endian fixed-width integers (Kafka), little-endian (Avro floats,
// fingerprints), zig-zag and unsigned LEB128 varints (Avro, Kafka records).
//
// Decoders never read past `end` and report failure instead: all input is
// treated as hostile.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace braid::coding {

inline void PutBigEndian16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(b, 2);
}
inline void PutBigEndian32(std::string* dst, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  dst->append(b, 4);
}
inline void PutBigEndian64(std::string* dst, uint64_t v) {
  PutBigEndian32(dst, static_cast<uint32_t>(v >> 32));
  PutBigEndian32(dst, static_cast<uint32_t>(v));
}
inline void EncodeBigEndian32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}
inline void EncodeBigEndian64(char* p, uint64_t v) {
  EncodeBigEndian32(p, static_cast<uint32_t>(v >> 32));
  EncodeBigEndian32(p + 4, static_cast<uint32_t>(v));
}
inline uint16_t DecodeBigEndian16(const char* p) {
  auto u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint32_t DecodeBigEndian32(const char* p) {
  auto u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline uint64_t DecodeBigEndian64(const char* p) {
  return (uint64_t{DecodeBigEndian32(p)} << 32) | DecodeBigEndian32(p + 4);
}
inline uint32_t DecodeLittleEndian32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86-64 and aarch64 Linux are little-endian
}
inline uint64_t DecodeLittleEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void PutLittleEndian32(std::string* dst, uint32_t v) {
  dst->append(reinterpret_cast<const char*>(&v), 4);
}
inline void PutLittleEndian64(std::string* dst, uint64_t v) {
  dst->append(reinterpret_cast<const char*>(&v), 8);
}

inline uint64_t ZigZagEncode64(int64_t n) {
  return (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63);
}
inline int64_t ZigZagDecode64(uint64_t n) {
  return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1);
}
inline uint32_t ZigZagEncode32(int32_t n) {
  return (static_cast<uint32_t>(n) << 1) ^ static_cast<uint32_t>(n >> 31);
}
inline int32_t ZigZagDecode32(uint32_t n) {
  return static_cast<int32_t>(n >> 1) ^ -static_cast<int32_t>(n & 1);
}

// Unsigned LEB128. Returns bytes written (<= 10).
inline int EncodeVarint64(char* dst, uint64_t v) {
  int n = 0;
  while (v >= 0x80) {
    dst[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  dst[n++] = static_cast<char>(v);
  return n;
}
inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  dst->append(buf, EncodeVarint64(buf, v));
}
inline void PutZigZag64(std::string* dst, int64_t v) { PutVarint64(dst, ZigZagEncode64(v)); }
inline int VarintLength(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Decodes an unsigned LEB128 of at most `max_bytes` bytes (10 for 64-bit,
// 5 for 32-bit). Returns the position after it, or nullptr if the input is
// truncated or the varint is too long.
inline const char* GetVarint64(const char* p, const char* end, uint64_t* value,
                               int max_bytes = 10) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < max_bytes && p < end; ++i, shift += 7) {
    uint64_t byte = static_cast<uint8_t>(*p++);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return p;
    }
  }
  return nullptr;
}
inline const char* GetZigZag64(const char* p, const char* end, int64_t* value) {
  uint64_t u;
  p = GetVarint64(p, end, &u, 10);
  if (p) *value = ZigZagDecode64(u);
  return p;
}
// Zig-zag 32-bit: rejects encodings whose value does not fit in int32.
inline const char* GetZigZag32(const char* p, const char* end, int32_t* value) {
  uint64_t u;
  p = GetVarint64(p, end, &u, 5);
  if (p == nullptr || u > 0xffffffffull) return nullptr;
  *value = ZigZagDecode32(static_cast<uint32_t>(u));
  return p;
}

}  // namespace braid::coding
