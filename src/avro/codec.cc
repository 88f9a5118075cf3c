#include "avro/codec.h"

#include <bzlib.h>
#include <libdeflate.h>
#include <lzma.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>
#include <utility>

#include "base/coding.h"
#include "base/crc.h"

namespace braid::avro {
namespace {

constexpr size_t kMinGrowth = 4096;

// Makes room after `produced` bytes in `*out` so that decompression can
// continue, never beyond `limit` (max_output + 1: producing that extra byte
// proves the output is too large). Returns false when no room is left.
bool Grow(std::string* out, size_t produced, size_t limit, size_t hint) {
  if (produced < out->size()) return true;
  if (out->size() >= limit) return false;
  size_t want = out->empty() ? std::max(hint, kMinGrowth) : out->size() * 2;
  out->resize(std::min(want, limit));
  return true;
}

Status TooLarge(size_t max_output) {
  return Status::TooLarge("decompressed block exceeds the limit of " + std::to_string(max_output) +
                          " bytes");
}

Status Truncated(std::string_view codec) {
  return Status::Corruption(std::string(codec) + " data is truncated");
}

// A first guess of the decompressed size: most blocks compress 2-8x.
size_t Hint(std::string_view input, size_t max_output) {
  size_t h = input.size() > SIZE_MAX / 4 ? SIZE_MAX : input.size() * 4;
  return std::min(h, max_output + 1);
}

Status CheckUintSize(std::string_view input, std::string_view codec) {
  if (input.size() > UINT_MAX) {
    return Status::InvalidArgument(std::string(codec) + " block larger than 4 GiB");
  }
  return Status::OK();
}

class NullCodec final : public Codec {
 public:
  NullCodec() : Codec(CodecKind::kNull) {}
  Status Compress(std::string_view input, std::string* out) override {
    out->append(input);
    return Status::OK();
  }
  Status Decompress(std::string_view input, size_t max_output, std::string* out) override {
    if (input.size() > max_output) return TooLarge(max_output);
    out->assign(input);
    return Status::OK();
  }
};

class DeflateCodec final : public Codec {
 public:
  explicit DeflateCodec(int level) : Codec(CodecKind::kDeflate), level_(level) {}
  ~DeflateCodec() override {
    if (inflater_ != nullptr) libdeflate_free_decompressor(inflater_);
    if (deflate_ready_) deflateEnd(&deflate_);
  }

  Status Compress(std::string_view input, std::string* out) override {
    RETURN_IF_ERROR(CheckUintSize(input, "deflate"));
    if (!deflate_ready_) {
      deflate_ = {};
      if (deflateInit2(&deflate_, level_, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return Status::Internal("deflateInit2 failed");
      }
      deflate_ready_ = true;
    } else {
      deflateReset(&deflate_);
    }
    size_t base = out->size();
    size_t bound = deflateBound(&deflate_, static_cast<uLong>(input.size()));
    out->resize(base + bound);
    deflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    deflate_.avail_in = static_cast<uInt>(input.size());
    deflate_.next_out = reinterpret_cast<Bytef*>(out->data() + base);
    deflate_.avail_out = static_cast<uInt>(std::min<size_t>(bound, UINT_MAX));
    int rc = deflate(&deflate_, Z_FINISH);
    if (rc != Z_STREAM_END) {
      out->resize(base);
      return Status::Internal("deflate failed: " + std::to_string(rc));
    }
    out->resize(base + deflate_.total_out);
    return Status::OK();
  }

  // Inflates with libdeflate (2-3x faster than zlib's inflate; a whole-buffer
  // API, so the output buffer grows from a guess, never beyond max_output).
  Status Decompress(std::string_view input, size_t max_output, std::string* out) override {
    if (inflater_ == nullptr) {
      inflater_ = libdeflate_alloc_decompressor();
      if (inflater_ == nullptr) return Status::ResourceExhausted("libdeflate: out of memory");
    }
    size_t cap = std::max(Hint(input, max_output), std::max(last_output_, kMinGrowth));
    cap = std::min(cap, max_output);
    for (;;) {
      out->resize(cap);
      size_t in_used = 0;
      size_t produced = 0;
      libdeflate_result r = libdeflate_deflate_decompress_ex(inflater_, input.data(), input.size(),
                                                             out->data(), cap, &in_used, &produced);
      if (r == LIBDEFLATE_SUCCESS) {
        out->resize(produced);
        last_output_ = produced;
        return Status::OK();
      }
      if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
        if (cap >= max_output) {
          out->clear();
          return TooLarge(max_output);
        }
        cap = cap > max_output / 2 ? max_output : cap * 2;
        continue;
      }
      out->clear();
      return Status::Corruption("deflate data is malformed or truncated");
    }
  }

 private:
  int level_;
  z_stream deflate_{};
  bool deflate_ready_ = false;
  libdeflate_decompressor* inflater_ = nullptr;
  size_t last_output_ = 0;  // size of the previous block: the next one's first guess
};

class SnappyCodec final : public Codec {
 public:
  SnappyCodec() : Codec(CodecKind::kSnappy) {}

  Status Compress(std::string_view input, std::string* out) override {
    size_t base = out->size();
    out->resize(base + snappy::MaxCompressedLength(input.size()) + 4);
    size_t n = 0;
    snappy::RawCompress(input.data(), input.size(), out->data() + base, &n);
    coding::EncodeBigEndian32(out->data() + base + n, Crc32Ieee(input));
    out->resize(base + n + 4);
    return Status::OK();
  }

  Status Decompress(std::string_view input, size_t max_output, std::string* out) override {
    if (input.size() < 4) return Status::Corruption("snappy block shorter than its 4-byte CRC");
    std::string_view body = input.substr(0, input.size() - 4);
    size_t n = 0;
    if (!snappy::GetUncompressedLength(body.data(), body.size(), &n)) {
      return Status::Corruption("snappy block has a malformed length header");
    }
    if (n > max_output) return TooLarge(max_output);
    out->resize(n);
    if (!snappy::RawUncompress(body.data(), body.size(), out->data())) {
      return Status::Corruption("snappy data is malformed");
    }
    uint32_t want = coding::DecodeBigEndian32(input.data() + body.size());
    uint32_t got = Crc32Ieee(*out);
    if (want != got) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "snappy block CRC-32 mismatch: stored %08x, computed %08x",
                    want, got);
      return Status::Corruption(buf);
    }
    return Status::OK();
  }
};

class ZstdCodec final : public Codec {
 public:
  explicit ZstdCodec(int level) : Codec(CodecKind::kZstandard), level_(level) {}
  ~ZstdCodec() override {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
  }

  Status Compress(std::string_view input, std::string* out) override {
    if (cctx_ == nullptr && (cctx_ = ZSTD_createCCtx()) == nullptr) {
      return Status::ResourceExhausted("ZSTD_createCCtx failed");
    }
    size_t base = out->size();
    out->resize(base + ZSTD_compressBound(input.size()));
    size_t n = ZSTD_compressCCtx(cctx_, out->data() + base, out->size() - base, input.data(),
                                 input.size(), level_);
    if (ZSTD_isError(n)) {
      out->resize(base);
      return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    }
    out->resize(base + n);
    return Status::OK();
  }

  Status Decompress(std::string_view input, size_t max_output, std::string* out) override {
    if (dctx_ == nullptr && (dctx_ = ZSTD_createDCtx()) == nullptr) {
      return Status::ResourceExhausted("ZSTD_createDCtx failed");
    }
    ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
    out->clear();
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    size_t produced = 0;
    const size_t limit = max_output + 1;
    for (;;) {
      if (!Grow(out, produced, limit, Hint(input, max_output))) return TooLarge(max_output);
      ZSTD_outBuffer ob{out->data() + produced, out->size() - produced, 0};
      size_t r = ZSTD_decompressStream(dctx_, &ob, &in);
      produced += ob.pos;
      if (ZSTD_isError(r)) {
        return Status::Corruption(std::string("zstandard data is malformed: ") +
                                  ZSTD_getErrorName(r));
      }
      if (in.pos == in.size) {
        if (r == 0) break;                                    // every frame complete
        if (ob.pos < ob.size) return Truncated("zstandard");  // wants input we lack
      }
    }
    if (produced > max_output) return TooLarge(max_output);
    out->resize(produced);
    return Status::OK();
  }

 private:
  int level_;
  ZSTD_CCtx* cctx_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
};

class Bzip2Codec final : public Codec {
 public:
  explicit Bzip2Codec(int level) : Codec(CodecKind::kBzip2), level_(level) {}

  Status Compress(std::string_view input, std::string* out) override {
    RETURN_IF_ERROR(CheckUintSize(input, "bzip2"));
    size_t base = out->size();
    size_t bound = input.size() + input.size() / 100 + 601;
    if (bound > UINT_MAX) bound = UINT_MAX;
    out->resize(base + bound);
    unsigned int n = static_cast<unsigned int>(bound);
    int rc = BZ2_bzBuffToBuffCompress(out->data() + base, &n, const_cast<char*>(input.data()),
                                      static_cast<unsigned int>(input.size()), level_, 0, 0);
    if (rc != BZ_OK) {
      out->resize(base);
      return Status::Internal("bzip2 compression failed: " + std::to_string(rc));
    }
    out->resize(base + n);
    return Status::OK();
  }

  Status Decompress(std::string_view input, size_t max_output, std::string* out) override {
    RETURN_IF_ERROR(CheckUintSize(input, "bzip2"));
    out->clear();
    bz_stream s{};
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return Status::Internal("bzip2 init failed");
    struct Ender {
      bz_stream* s;
      ~Ender() { BZ2_bzDecompressEnd(s); }
    } ender{&s};
    s.next_in = const_cast<char*>(input.data());
    s.avail_in = static_cast<unsigned int>(input.size());
    size_t produced = 0;
    const size_t limit = max_output + 1;
    for (;;) {
      if (!Grow(out, produced, limit, Hint(input, max_output))) return TooLarge(max_output);
      size_t room = std::min<size_t>(out->size() - produced, UINT_MAX);
      s.next_out = out->data() + produced;
      s.avail_out = static_cast<unsigned int>(room);
      int rc = BZ2_bzDecompress(&s);
      produced += room - s.avail_out;
      if (rc == BZ_STREAM_END) {
        if (s.avail_in == 0) break;
        // Concatenated bzip2 streams: start the next one.
        char* next = s.next_in;
        unsigned int avail = s.avail_in;
        BZ2_bzDecompressEnd(&s);
        s = bz_stream{};
        if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return Status::Internal("bzip2 init failed");
        s.next_in = next;
        s.avail_in = avail;
        continue;
      }
      if (rc != BZ_OK) return Status::Corruption("bzip2 data is malformed: " + std::to_string(rc));
      if (s.avail_in == 0 && s.avail_out > 0) return Truncated("bzip2");
    }
    if (produced > max_output) return TooLarge(max_output);
    out->resize(produced);
    return Status::OK();
  }

 private:
  int level_;
};

// xz (container) and avro-c's raw LZMA2 ("lzma").
class LzmaCodec final : public Codec {
 public:
  LzmaCodec(CodecKind kind, int level) : Codec(kind), level_(static_cast<uint32_t>(level)) {}
  ~LzmaCodec() override { lzma_end(&strm_); }

  Status Compress(std::string_view input, std::string* out) override {
    size_t base = out->size();
    size_t bound = lzma_stream_buffer_bound(input.size());
    out->resize(base + bound);
    size_t pos = 0;
    lzma_ret rc;
    const auto* in = reinterpret_cast<const uint8_t*>(input.data());
    auto* dst = reinterpret_cast<uint8_t*>(out->data() + base);
    if (kind() == CodecKind::kXz) {
      rc = lzma_easy_buffer_encode(level_, LZMA_CHECK_CRC64, nullptr, in, input.size(), dst, &pos,
                                   bound);
    } else {
      lzma_options_lzma opt;
      if (lzma_lzma_preset(&opt, level_)) return Status::Internal("lzma preset failed");
      lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
      rc = lzma_raw_buffer_encode(filters, nullptr, in, input.size(), dst, &pos, bound);
    }
    if (rc != LZMA_OK) {
      out->resize(base);
      return Status::Internal("lzma compression failed: " + std::to_string(rc));
    }
    out->resize(base + pos);
    return Status::OK();
  }

  Status Decompress(std::string_view input, size_t max_output, std::string* out) override {
    lzma_ret rc;
    if (kind() == CodecKind::kXz) {
      rc = lzma_stream_decoder(&strm_, kMemLimit, LZMA_CONCATENATED);
    } else {
      // avro-c encodes with the default preset; its dictionary (8 MiB) bounds
      // every match distance. The decoder's dictionary must be at least that.
      lzma_options_lzma opt;
      if (lzma_lzma_preset(&opt, LZMA_PRESET_DEFAULT)) {
        return Status::Internal("lzma preset failed");
      }
      lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
      rc = lzma_raw_decoder(&strm_, filters);
    }
    if (rc != LZMA_OK) return Status::Internal("lzma decoder init failed: " + std::to_string(rc));
    out->clear();
    strm_.next_in = reinterpret_cast<const uint8_t*>(input.data());
    strm_.avail_in = input.size();
    size_t produced = 0;
    const size_t limit = max_output + 1;
    for (;;) {
      if (!Grow(out, produced, limit, Hint(input, max_output))) return TooLarge(max_output);
      size_t room = out->size() - produced;
      strm_.next_out = reinterpret_cast<uint8_t*>(out->data() + produced);
      strm_.avail_out = room;
      rc = lzma_code(&strm_, LZMA_FINISH);
      produced += room - strm_.avail_out;
      if (rc == LZMA_STREAM_END) break;
      if (rc == LZMA_OK) {
        if (strm_.avail_in == 0 && strm_.avail_out > 0) return Truncated(name());
        continue;
      }
      if (rc == LZMA_MEMLIMIT_ERROR || rc == LZMA_MEM_ERROR) {
        return Status::ResourceExhausted(std::string(name()) +
                                         " data needs more memory than the limit");
      }
      if (rc == LZMA_BUF_ERROR) return Truncated(name());
      return Status::Corruption(std::string(name()) + " data is malformed: " + std::to_string(rc));
    }
    if (produced > max_output) return TooLarge(max_output);
    out->resize(produced);
    return Status::OK();
  }

 private:
  static constexpr uint64_t kMemLimit = uint64_t{256} << 20;
  uint32_t level_;
  lzma_stream strm_ = LZMA_STREAM_INIT;
};

struct CodecNameEntry {
  std::string_view name;
  CodecKind kind;
};
constexpr CodecNameEntry kCodecNames[] = {
    {"null", CodecKind::kNull},     {"deflate", CodecKind::kDeflate},
    {"snappy", CodecKind::kSnappy}, {"zstandard", CodecKind::kZstandard},
    {"bzip2", CodecKind::kBzip2},   {"xz", CodecKind::kXz},
    {"lzma", CodecKind::kLzma},
};

}  // namespace

Result<CodecKind> ParseCodecName(std::string_view name) {
  if (name.empty()) return CodecKind::kNull;
  for (const auto& e : kCodecNames) {
    if (e.name == name) return e.kind;
  }
  std::string shown;
  for (char c : name.substr(0, 64)) {
    shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return Status::InvalidArgument("unknown Avro codec \"" + shown +
                                 "\" (supported: " + std::string(SupportedCodecNames()) + ")");
}

std::string_view CodecName(CodecKind kind) {
  for (const auto& e : kCodecNames) {
    if (e.kind == kind) return e.name;
  }
  return "unknown";
}

std::string_view SupportedCodecNames() {
  return "null, deflate, snappy, zstandard, bzip2, xz, lzma";
}

Result<std::unique_ptr<Codec>> NewCodec(CodecKind kind, int level) {
  auto range = [&](int lo, int hi, int def) -> Result<int> {
    if (level == kDefaultCompressionLevel) return def;
    if (level < lo || level > hi) {
      return Status::InvalidArgument(std::string(CodecName(kind)) + " level " +
                                     std::to_string(level) + " outside " + std::to_string(lo) +
                                     ".." + std::to_string(hi));
    }
    return level;
  };
  switch (kind) {
    case CodecKind::kNull:
      return std::unique_ptr<Codec>(new NullCodec());
    case CodecKind::kSnappy:
      return std::unique_ptr<Codec>(new SnappyCodec());
    case CodecKind::kDeflate: {
      ASSIGN_OR_RETURN(int l, range(0, 9, 6));
      return std::unique_ptr<Codec>(new DeflateCodec(l));
    }
    case CodecKind::kZstandard: {
      ASSIGN_OR_RETURN(int l, range(1, 22, 3));
      return std::unique_ptr<Codec>(new ZstdCodec(l));
    }
    case CodecKind::kBzip2: {
      ASSIGN_OR_RETURN(int l, range(1, 9, 9));
      return std::unique_ptr<Codec>(new Bzip2Codec(l));
    }
    case CodecKind::kXz:
    case CodecKind::kLzma: {
      ASSIGN_OR_RETURN(int l, range(0, 9, 6));
      return std::unique_ptr<Codec>(new LzmaCodec(kind, l));
    }
  }
  return Status::InvalidArgument("unknown codec kind");
}

Result<std::unique_ptr<Codec>> NewCodec(std::string_view name, int level) {
  ASSIGN_OR_RETURN(CodecKind kind, ParseCodecName(name));
  return NewCodec(kind, level);
}

}  // namespace braid::avro
