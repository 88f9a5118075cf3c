#include "views/cell_key.h"

#include "base/coding.h"

namespace braid::views {
namespace {

void AppendEscapedKey(std::string_view key, std::string* out) {
  for (char c : key) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

}  // namespace

void AppendCellKeyBucket(Granularity g, int64_t bucket_start, std::string* out) {
  out->push_back(static_cast<char>(g));
  coding::PutBigEndian64(out, static_cast<uint64_t>(bucket_start) ^ (uint64_t{1} << 63));
}

void AppendCellKey(std::string_view key, Granularity g, int64_t bucket_start, std::string* out) {
  AppendEscapedKey(key, out);
  AppendCellKeyBucket(g, bucket_start, out);
}

std::string EncodeCellKey(std::string_view key, Granularity g, int64_t bucket_start) {
  std::string out;
  out.reserve(key.size() + 11);
  AppendCellKey(key, g, bucket_start, &out);
  return out;
}

std::string CellKeyPrefix(std::string_view key) {
  std::string out;
  AppendEscapedKey(key, &out);
  return out;
}

std::string CellKeyPrefix(std::string_view key, Granularity g) {
  std::string out = CellKeyPrefix(key);
  out.push_back(static_cast<char>(g));
  return out;
}

Result<CellKey> DecodeCellKey(std::string_view e) {
  CellKey out;
  size_t i = 0;
  for (;;) {
    if (i >= e.size()) return Status::Corruption("cell key: unterminated view key");
    const char c = e[i++];
    if (c != '\0') {
      out.key.push_back(c);
      continue;
    }
    if (i >= e.size()) return Status::Corruption("cell key: truncated escape");
    const char next = e[i++];
    if (next == '\xff') {
      out.key.push_back('\0');
    } else if (next == '\x01') {
      break;
    } else {
      return Status::Corruption("cell key: bad escape");
    }
  }
  if (e.size() - i != 9) return Status::Corruption("cell key: bad length");
  const auto g = static_cast<uint8_t>(e[i]);
  if (g > static_cast<uint8_t>(Granularity::kAll)) {
    return Status::Corruption("cell key: unknown granularity");
  }
  out.granularity = static_cast<Granularity>(g);
  out.bucket_start =
      static_cast<int64_t>(coding::DecodeBigEndian64(e.data() + i + 1) ^ (uint64_t{1} << 63));
  return out;
}

}  // namespace braid::views
