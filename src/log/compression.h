// The compression codecs of Kafka RecordBatches (attributes bits 0-2).
//
// Decompression is bounded: output larger than `max_output` is an error
// (ResourceExhausted), so a small hostile batch cannot expand into gigabytes.
// Errors: Corruption for malformed input, Unimplemented for an unknown codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace braid::log {

enum class Compression : int8_t {
  kNone = 0,
  kGzip = 1,
  kSnappy = 2,
  kLz4 = 3,
  kZstd = 4,
};

// "none", "gzip", "snappy", "lz4", "zstd" (Kafka's compression.type names).
std::string_view CompressionName(Compression c);

// Default bound on decompressed size. Default: 64 MiB.
inline constexpr size_t kDefaultMaxDecompressedSize = 64u << 20;

struct CompressOptions {
  // Snappy framing. Default: true, the xerial snappy-java framing the Java
  // client and kafka-python write (librdkafka writes raw snappy; both are
  // accepted by every client's decoder).
  bool snappy_xerial_framing = true;
  // Codec level; 0 means the codec's default. Default: 0.
  int level = 0;
};

// Appends the compressed form of `in` to *out. Errors: Internal on codec
// failure, InvalidArgument for kNone or an unknown codec.
Status Compress(Compression codec, std::string_view in, const CompressOptions& options,
                std::string* out);

// Appends the decompressed form of `in` to *out. Accepts, per codec:
// gzip streams (also zlib/raw deflate is NOT accepted), snappy in xerial
// framing or raw, LZ4 frames (one or more), zstd frames with or without a
// content size. Errors: Corruption, ResourceExhausted (more than max_output
// bytes), Unimplemented (unknown codec), InvalidArgument (kNone).
Status Decompress(Compression codec, std::string_view in, size_t max_output, std::string* out);

}  // namespace braid::log
