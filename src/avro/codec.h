// Block codecs of Avro object container files.
//
// A codec compresses one container data block (the concatenated binary
// records) as a unit. Byte formats, by `avro.codec` name:
//   null       the bytes as they are.
//   deflate    raw DEFLATE (RFC 1951): no zlib header, no Adler-32.
//   snappy     a raw (unframed) snappy block followed by the 4-byte
//              big-endian CRC-32 (IEEE, zlib's) of the uncompressed bytes.
//   zstandard  one or more zstd frames; a frame need not carry its content
//              size, so decompression always streams.
//   bzip2      a bzip2 stream ("BZh..."); concatenated streams are accepted.
//   xz         an .xz stream (LZMA2 in the xz container), as Java writes it.
//   lzma       avro-c's name for its xz codec: a raw LZMA2 stream without
//              the xz container (liblzma raw encoder, preset 6). Read and
//              written for avro-c interoperability; Java and Python do not
//              know this name.
//
// Decompression is bounded: the caller passes the largest output it
// accepts, and a block that would inflate beyond it fails with
// ResourceExhausted instead of allocating (decompression bombs). Malformed
// or truncated compressed data fails with Corruption. Messages do not name
// file offsets; the container reader adds them.
//
// Thread safety: a Codec object is used by one thread at a time (it keeps
// reusable compression contexts). Distinct Codec objects are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace braid::avro {

enum class CodecKind : uint8_t {
  kNull,
  kDeflate,
  kSnappy,
  kZstandard,
  kBzip2,
  kXz,
  kLzma,  // avro-c's raw LZMA2 ("lzma")
};

// Maps an `avro.codec` value to a CodecKind. An empty name means "null" (the
// key is optional). Unknown names fail with InvalidArgument naming the codec
// and the supported list.
Result<CodecKind> ParseCodecName(std::string_view name);

// The `avro.codec` value written for `kind` ("null", "deflate", ...).
std::string_view CodecName(CodecKind kind);

// A comma-separated list of every supported codec name, for help texts.
std::string_view SupportedCodecNames();

// Level that selects the codec's own default.
inline constexpr int kDefaultCompressionLevel = -1;

class Codec {
 public:
  virtual ~Codec() = default;

  CodecKind kind() const { return kind_; }
  std::string_view name() const { return CodecName(kind_); }

  // Appends the compressed form of `input` to `*out`. Fails only on library
  // errors (out of memory) with Internal/ResourceExhausted.
  virtual Status Compress(std::string_view input, std::string* out) = 0;

  // Replaces `*out` with the decompressed form of `input`. Fails with
  // Corruption for malformed or truncated input (and, for snappy, a CRC-32
  // mismatch), with ResourceExhausted if the output would exceed
  // `max_output` bytes. `*out` is unspecified after a failure.
  virtual Status Decompress(std::string_view input, size_t max_output, std::string* out) = 0;

 protected:
  explicit Codec(CodecKind kind) : kind_(kind) {}

 private:
  CodecKind kind_;
};

// Creates a codec. `level` is codec specific: deflate 0..9 (default 6,
// zlib's), zstandard 1..22 (default 3), bzip2 1..9 (default 9, as Python and
// Java), xz and lzma 0..9 (default 6); ignored by null and snappy. An out of
// range level fails with InvalidArgument.
Result<std::unique_ptr<Codec>> NewCodec(CodecKind kind, int level = kDefaultCompressionLevel);
Result<std::unique_ptr<Codec>> NewCodec(std::string_view name,
                                        int level = kDefaultCompressionLevel);

}  // namespace braid::avro
