// Checksums: CRC-32C (Castagnoli; Kafka RecordBatch v2) and CRC-32 (IEEE,
// zlib's; Avro snappy blocks). Both take an initial value so that data can
// be checksummed in pieces: Crc32c(b, Crc32c(a)) == Crc32c(a+b).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace braid {

uint32_t Crc32c(const char* data, size_t n, uint32_t crc);
inline uint32_t Crc32c(std::string_view s, uint32_t crc = 0) {
  return Crc32c(s.data(), s.size(), crc);
}

uint32_t Crc32Ieee(const char* data, size_t n, uint32_t crc);
inline uint32_t Crc32Ieee(std::string_view s, uint32_t crc = 0) {
  return Crc32Ieee(s.data(), s.size(), crc);
}

}  // namespace braid
