// Avro decode benchmark driver (see run.sh and docs/benchmarks.md).
//
//   avro_decode_bench generate N CODEC OUT.avro   writes N PageView records
//   avro_decode_bench decode FILE MODE   MODE: compiled | generic | blocks | extract
//
// `decode` reads the container file with braid's ContainerReader and decodes
// every record, touching every field (string sizes and first bytes, the long,
// the int, the union branch), and prints
//   records=N bytes_touched=B checksum=C seconds=S
// with the same checksum definition as avroc_decode.c, so the runs can be
// checked against each other. `compiled` uses CompiledDecoder with a handler
// that receives string_views into the block; `generic` builds a Datum per
// record with ResolvingDecoder (the reference path); `blocks` only reads and
// decompresses the blocks (the I/O and codec floor under both). `extract`
// runs a FieldExtractor (src/avro/field_extractor.h) that wants only url,
// user and timestamp (the other fields are skipped) and touches those three;
// it prints proj_bytes=B proj_checksum=C over them, which `compiled` also
// prints (computed from the same three fields of its full decode), so the
// two can be checked against each other.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "avro/binary.h"
#include "avro/container.h"
#include "avro/decoder_program.h"
#include "avro/field_extractor.h"
#include "avro/resolve.h"
#include "avro/schema.h"

namespace {

using braid::Status;
using namespace braid::avro;

constexpr char kSchema[] =
    R"({"type":"record","name":"PageView","fields":[{"name":"url","type":"string"},)"
    R"({"name":"user","type":"string"},{"name":"timestamp","type":{"type":"long",)"
    R"("logicalType":"timestamp-millis"}},{"name":"ip","type":"string"},)"
    R"({"name":"status","type":"int"},{"name":"referrer","type":["null","string"],)"
    R"("default":null}]})";

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

int Generate(long n, const std::string& codec, const std::string& out) {
  auto schema = ParseSchema(kSchema);
  if (!schema.ok()) return Fail(schema.status());
  WriterOptions wo;
  wo.codec = codec;
  wo.sync_on_close = false;
  auto writer = ContainerWriter::Create(out, *schema, wo);
  if (!writer.ok()) return Fail(writer.status());
  std::mt19937_64 rng(42);
  auto below = [&](uint64_t k) { return rng() % k; };
  static const int kStatus[] = {200, 200, 200, 200, 301, 404, 500};
  int64_t ts = 1700000000000;
  std::string rec, tmp;
  char buf[96];
  for (long i = 0; i < n; ++i) {
    rec.clear();
    Encoder e(&rec);
    std::snprintf(buf, sizeof(buf), "https://example.com/section%d/page%d.html",
                  static_cast<int>(below(20)), static_cast<int>(below(5000)));
    e.WriteString(buf);
    std::snprintf(buf, sizeof(buf), "user%07d", static_cast<int>(below(1000000)));
    e.WriteString(buf);
    ts += static_cast<int64_t>(below(1000));
    e.WriteLong(ts);
    std::snprintf(buf, sizeof(buf), "10.%d.%d.%d", static_cast<int>(below(256)),
                  static_cast<int>(below(256)), static_cast<int>(below(256)));
    e.WriteString(buf);
    e.WriteInt(kStatus[below(7)]);
    if (below(3) == 0) {
      e.WriteUnionIndex(0);
    } else {
      e.WriteUnionIndex(1);
      std::snprintf(buf, sizeof(buf), "https://search.example.org/q?term=%d",
                    static_cast<int>(below(100000)));
      e.WriteString(buf);
    }
    Status s = (*writer)->AppendEncoded(rec);
    if (!s.ok()) return Fail(s);
  }
  Status s = (*writer)->Close();
  if (!s.ok()) return Fail(s);
  return 0;
}

// Touches every field, the same way avroc_decode.c does.
struct PageViewHandler : NullHandler {
  size_t field = 0;
  uint64_t touched = 0;
  uint64_t checksum = 0;
  // The same over url, user and timestamp only (the `extract` projection).
  uint64_t proj_touched = 0;
  uint64_t proj_checksum = 0;
  void Field(size_t i) { field = i; }
  void String(std::string_view v) {
    touched += v.size();
    const uint64_t first = v.empty() ? 0 : static_cast<unsigned char>(v[0]);
    if (field != 5) checksum += first;
    if (field <= 1) {
      proj_touched += v.size();
      proj_checksum += first;
    }
  }
  void Long(int64_t v) {
    checksum += static_cast<uint64_t>(v);
    proj_checksum += static_cast<uint64_t>(v);
  }
  void Int(int32_t v) { checksum += static_cast<uint64_t>(static_cast<int64_t>(v)); }
  void Null() { checksum += 1; }
};

int Decode(const std::string& path, const std::string& mode) {
  const auto start = std::chrono::steady_clock::now();
  auto reader = ContainerReader::Open(path);
  if (!reader.ok()) return Fail(reader.status());
  const Schema& schema = (*reader)->schema();
  uint64_t records = 0;
  PageViewHandler h;
  if (mode == "compiled") {
    auto program = CompiledDecoder::Compile(schema, schema);
    if (!program.ok()) return Fail(program.status());
    DecodeState state;
    Block block;
    for (;;) {
      auto more = (*reader)->NextBlock(&block);
      if (!more.ok()) return Fail(more.status());
      if (!*more) break;
      Decoder d(block.data, block.info.data_offset);
      for (int64_t i = 0; i < block.info.record_count; ++i) {
        Status s = (*program)->Decode(&d, h, &state);
        if (!s.ok()) return Fail(s);
      }
      if (!d.empty()) return Fail(d.Corrupt("bytes left after the block's records"));
      records += static_cast<uint64_t>(block.info.record_count);
    }
  } else if (mode == "generic") {
    auto dec = ResolvingDecoder::Create(schema, schema);
    if (!dec.ok()) return Fail(dec.status());
    Block block;
    Datum datum;
    for (;;) {
      auto more = (*reader)->NextBlock(&block);
      if (!more.ok()) return Fail(more.status());
      if (!*more) break;
      Decoder d(block.data, block.info.data_offset);
      for (int64_t i = 0; i < block.info.record_count; ++i) {
        Status s = dec->Decode(&d, &datum);
        if (!s.ok()) return Fail(s);
        for (size_t f : {0, 1, 3}) {
          h.field = f;
          h.String(datum.field(f).bytes());
        }
        h.Long(datum.field(2).long_value());
        h.Int(datum.field(4).int_value());
        const Datum& ref = datum.field(5);
        h.field = 5;
        if (ref.branch() == 0) {
          h.Null();
        } else {
          h.String(ref.union_value().bytes());
        }
      }
      records += static_cast<uint64_t>(block.info.record_count);
    }
  } else if (mode == "extract") {
    auto extractor = FieldExtractor::Compile(schema, {"url", "user", "timestamp"});
    if (!extractor.ok()) return Fail(extractor.status());
    ExtractedFields fields;
    Block block;
    for (;;) {
      auto more = (*reader)->NextBlock(&block);
      if (!more.ok()) return Fail(more.status());
      if (!*more) break;
      Decoder d(block.data, block.info.data_offset);
      for (int64_t i = 0; i < block.info.record_count; ++i) {
        Status s = (*extractor)->Extract(&d, &fields);
        if (!s.ok()) return Fail(s);
        for (size_t f = 0; f < 2; ++f) {
          const std::string_view v = *fields.GetString(f);
          h.proj_touched += v.size();
          h.proj_checksum += v.empty() ? 0 : static_cast<unsigned char>(v[0]);
        }
        h.proj_checksum += static_cast<uint64_t>(*fields.GetTimestampMillis(2));
      }
      if (!d.empty()) return Fail(d.Corrupt("bytes left after the block's records"));
      records += static_cast<uint64_t>(block.info.record_count);
    }
  } else if (mode == "blocks") {
    Block block;
    for (;;) {
      auto more = (*reader)->NextBlock(&block);
      if (!more.ok()) return Fail(more.status());
      if (!*more) break;
      h.touched += block.data.size();
      records += static_cast<uint64_t>(block.info.record_count);
    }
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "records=%llu bytes_touched=%llu checksum=%llu proj_bytes=%llu proj_checksum=%llu "
      "seconds=%.6f\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(h.touched),
      static_cast<unsigned long long>(h.checksum), static_cast<unsigned long long>(h.proj_touched),
      static_cast<unsigned long long>(h.proj_checksum), seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "generate") {
    return Generate(std::atol(argv[2]), argv[3], argv[4]);
  }
  if (argc == 4 && std::string(argv[1]) == "decode") return Decode(argv[2], argv[3]);
  std::fprintf(stderr,
               "usage: %s generate N CODEC OUT.avro\n"
               "       %s decode FILE compiled|generic|blocks|extract\n",
               argv[0], argv[0]);
  return 2;
}
