// Fuzzes the object container reader: header, framing, codecs, record
// decoding and range (split) reading over arbitrary bytes. Nothing may crash
// or allocate beyond the (small) limits set here.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "avro/container.h"
#include "base/check.h"

namespace {

braid::avro::ReaderOptions Limits() {
  braid::avro::ReaderOptions o;
  o.max_block_bytes = 1 << 20;
  o.max_decompressed_block_bytes = 4 << 20;
  o.max_block_records = 1 << 20;
  o.max_header_bytes = 1 << 20;
  o.read_ahead_bytes = 4096;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto reader = braid::avro::ContainerReader::OpenBuffer(bytes, Limits());
  if (!reader.ok()) return 0;
  braid::avro::ContainerReader& r = **reader;
  braid::avro::Datum datum;
  int64_t records = 0;
  bool full_ok = false;
  for (int i = 0; i < 10000; ++i) {
    auto more = r.Next(&datum);
    if (more.ok() && !*more) full_ok = true;
    if (!more.ok() || !*more) break;
    ++records;
  }
  // Splits at a few points derived from the input read each record at most once.
  auto blocks = r.ListBlocks();
  uint64_t mid = size / 2 + (size > 0 ? data[size - 1] : 0);
  int64_t split_records = 0;
  bool split_ok = true;
  for (auto [start, end] : {std::pair<uint64_t, uint64_t>{0, mid}, {mid, size}}) {
    if (!r.SetRange(start, end).ok()) return 0;
    std::string_view rec;
    for (int i = 0; i < 10000; ++i) {
      auto more = r.NextRecordBytes(&rec);
      if (!more.ok()) split_ok = false;
      if (!more.ok() || !*more) break;
      ++split_records;
    }
  }
  if (blocks.ok() && full_ok && split_ok && records < 10000 && split_records < 10000) {
    CHECK_EQ(split_records, records);
  }
  return 0;
}
