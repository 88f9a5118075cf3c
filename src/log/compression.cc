#include "log/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "base/coding.h"

namespace braid::log {
namespace {

constexpr size_t kChunk = 64 * 1024;

Status TooLarge(size_t max_output) {
  return Status::TooLarge("decompressed records exceed the limit of " + std::to_string(max_output) +
                          " bytes");
}

// ------------------------------------------------------------------- gzip

Status GzipCompress(std::string_view in, int level, std::string* out) {
  z_stream zs{};
  if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  size_t start = out->size();
  out->resize(start + deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data() + start);
  zs.avail_out = static_cast<uInt>(out->size() - start);
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out->resize(start);
    return Status::Internal("gzip compression failed");
  }
  out->resize(start + produced);
  return Status::OK();
}

Status GzipDecompress(std::string_view in, size_t max_output, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  size_t start = out->size();
  char buf[kChunk];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t got = sizeof(buf) - zs.avail_out;
    if (out->size() - start + got > max_output) return TooLarge(max_output);
    out->append(buf, got);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return Status::OK();
      // Concatenated gzip members (GZIPInputStream reads them all).
      if (inflateReset(&zs) != Z_OK) return Status::Corruption("gzip: reset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      return Status::Corruption("gzip: truncated stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Status::Corruption(std::string("gzip: ") + (zs.msg ? zs.msg : "inflate error"));
    }
  }
}

// ----------------------------------------------------------------- snappy

constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kXerialHeaderSize = 16;  // magic + version + compatible version
constexpr size_t kXerialBlockSize = 32 * 1024;

Status SnappyRawDecompress(std::string_view in, size_t max_output, std::string* out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) {
    return Status::Corruption("snappy: bad length header");
  }
  if (n > max_output) return TooLarge(max_output);
  size_t start = out->size();
  out->resize(start + n);
  if (!snappy::RawUncompress(in.data(), in.size(), out->data() + start)) {
    out->resize(start);
    return Status::Corruption("snappy: malformed block");
  }
  return Status::OK();
}

Status SnappyDecompress(std::string_view in, size_t max_output, std::string* out) {
  if (in.size() < kXerialHeaderSize || std::memcmp(in.data(), kXerialMagic, 8) != 0) {
    return SnappyRawDecompress(in, max_output, out);
  }
  size_t start = out->size();
  size_t pos = kXerialHeaderSize;
  while (pos < in.size()) {
    if (in.size() - pos < 4) return Status::Corruption("snappy: truncated xerial block length");
    uint32_t len = coding::DecodeBigEndian32(in.data() + pos);
    pos += 4;
    if (len > in.size() - pos) return Status::Corruption("snappy: truncated xerial block");
    size_t used = out->size() - start;
    RETURN_IF_ERROR(SnappyRawDecompress(in.substr(pos, len), max_output - used, out));
    pos += len;
  }
  return Status::OK();
}

void SnappyCompress(std::string_view in, bool xerial, std::string* out) {
  std::string block;
  if (!xerial) {
    snappy::Compress(in.data(), in.size(), &block);
    out->append(block);
    return;
  }
  out->append(kXerialMagic, 8);
  coding::PutBigEndian32(out, 1);  // version
  coding::PutBigEndian32(out, 1);  // minimum compatible version
  for (size_t pos = 0; pos < in.size(); pos += kXerialBlockSize) {
    size_t n = std::min(kXerialBlockSize, in.size() - pos);
    block.clear();
    snappy::Compress(in.data() + pos, n, &block);
    coding::PutBigEndian32(out, static_cast<uint32_t>(block.size()));
    out->append(block);
  }
}

// -------------------------------------------------------------------- lz4

Status Lz4Compress(std::string_view in, int level, std::string* out) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;  // what Kafka's Java reader expects
  prefs.compressionLevel = level;
  size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  size_t start = out->size();
  out->resize(start + bound);
  size_t n = LZ4F_compressFrame(out->data() + start, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out->resize(start);
    return Status::Internal(std::string("lz4: ") + LZ4F_getErrorName(n));
  }
  out->resize(start + n);
  return Status::OK();
}

Status Lz4Decompress(std::string_view in, size_t max_output, std::string* out) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
    return Status::Internal("lz4: cannot create context");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(dctx,
                                                                     LZ4F_freeDecompressionContext);
  size_t start = out->size();
  const char* src = in.data();
  size_t left = in.size();
  size_t hint = 1;
  char buf[kChunk];
  while (left > 0) {
    size_t dst_size = sizeof(buf);
    size_t src_size = left;
    hint = LZ4F_decompress(dctx, buf, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return Status::Corruption(std::string("lz4: ") + LZ4F_getErrorName(hint));
    }
    if (out->size() - start + dst_size > max_output) return TooLarge(max_output);
    out->append(buf, dst_size);
    src += src_size;
    left -= src_size;
    if (src_size == 0 && dst_size == 0) return Status::Corruption("lz4: no progress");
  }
  // Drain output still buffered inside the context.
  while (hint != 0) {
    size_t dst_size = sizeof(buf);
    size_t src_size = 0;
    hint = LZ4F_decompress(dctx, buf, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return Status::Corruption(std::string("lz4: ") + LZ4F_getErrorName(hint));
    }
    if (dst_size == 0) break;
    if (out->size() - start + dst_size > max_output) return TooLarge(max_output);
    out->append(buf, dst_size);
  }
  if (hint != 0) return Status::Corruption("lz4: truncated frame");
  return Status::OK();
}

// ------------------------------------------------------------------- zstd

Status ZstdCompress(std::string_view in, int level, std::string* out) {
  size_t bound = ZSTD_compressBound(in.size());
  size_t start = out->size();
  out->resize(start + bound);
  size_t n = ZSTD_compress(out->data() + start, bound, in.data(), in.size(),
                           level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
  if (ZSTD_isError(n)) {
    out->resize(start);
    return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  out->resize(start + n);
  return Status::OK();
}

Status ZstdDecompress(std::string_view in, size_t max_output, std::string* out) {
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(),
                                                              ZSTD_freeDStream);
  if (!ds) return Status::Internal("zstd: cannot create stream");
  ZSTD_initDStream(ds.get());
  size_t start = out->size();
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  char buf[kChunk];
  size_t last = 1;
  for (;;) {
    ZSTD_outBuffer output{buf, sizeof(buf), 0};
    last = ZSTD_decompressStream(ds.get(), &output, &input);
    if (ZSTD_isError(last))
      return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(last));
    if (out->size() - start + output.pos > max_output) return TooLarge(max_output);
    out->append(buf, output.pos);
    if (input.pos == input.size && output.pos < output.size) break;
  }
  if (last != 0) return Status::Corruption("zstd: truncated frame");
  return Status::OK();
}

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Status Compress(Compression codec, std::string_view in, const CompressOptions& options,
                std::string* out) {
  switch (codec) {
    case Compression::kGzip:
      return GzipCompress(in, options.level, out);
    case Compression::kSnappy:
      SnappyCompress(in, options.snappy_xerial_framing, out);
      return Status::OK();
    case Compression::kLz4:
      return Lz4Compress(in, options.level, out);
    case Compression::kZstd:
      return ZstdCompress(in, options.level, out);
    case Compression::kNone:
      break;
  }
  return Status::InvalidArgument("no compression codec " + std::to_string(static_cast<int>(codec)));
}

Status Decompress(Compression codec, std::string_view in, size_t max_output, std::string* out) {
  switch (codec) {
    case Compression::kGzip:
      return GzipDecompress(in, max_output, out);
    case Compression::kSnappy:
      return SnappyDecompress(in, max_output, out);
    case Compression::kLz4:
      return Lz4Decompress(in, max_output, out);
    case Compression::kZstd:
      return ZstdDecompress(in, max_output, out);
    case Compression::kNone:
      return Status::InvalidArgument("Decompress called for an uncompressed batch");
  }
  return Status::Unimplemented("unknown compression codec " +
                               std::to_string(static_cast<int>(codec)));
}

}  // namespace braid::log
