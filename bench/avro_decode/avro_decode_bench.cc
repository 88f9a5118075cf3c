// Avro decode benchmark driver (see run.sh and docs/benchmarks.md).
//
//   avro_decode_bench generate N CODEC OUT.avro   writes N PageView records
//   avro_decode_bench decode FILE MODE   MODE: compiled | generic | blocks | extract
//   avro_decode_bench values FILE RUNS   per-record values (see below)
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
//
// `values` models one Avro value per input (a Kafka message value, as the
// speed layer and the archiver see them): it copies every record of FILE into
// memory (untimed), then times, RUNS times interleaved, one pass over all
// values per mode: `compiled` (CompiledDecoder::DecodeAll, the whole value),
// `extract` (FieldExtractor::Extract(string_view) for url, user, timestamp,
// reading the whole value) and `extract-prefix` (the same with
// ExtractorOptions::read_to_end = false: stops after timestamp). It prints
// per mode: min / median / max ns per record and the projection checksum,
// which must agree.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

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

int Values(const std::string& path, int runs) {
  auto reader = ContainerReader::Open(path);
  if (!reader.ok()) return Fail(reader.status());
  const Schema& schema = (*reader)->schema();
  std::string data;
  std::vector<size_t> ends;
  for (;;) {
    std::string_view rec;
    auto more = (*reader)->NextRecordBytes(&rec);
    if (!more.ok()) return Fail(more.status());
    if (!*more) break;
    data.append(rec);
    ends.push_back(data.size());
  }
  auto program = CompiledDecoder::Compile(schema, schema);
  if (!program.ok()) return Fail(program.status());
  const std::vector<std::string> paths = {"url", "user", "timestamp"};
  auto extract = FieldExtractor::Compile(schema, paths);
  if (!extract.ok()) return Fail(extract.status());
  ExtractorOptions prefix_options;
  prefix_options.read_to_end = false;
  auto prefix = FieldExtractor::Compile(schema, paths, prefix_options);
  if (!prefix.ok()) return Fail(prefix.status());

  const char* const kModes[] = {"compiled", "extract", "extract-prefix"};
  std::vector<double> ns[3];
  uint64_t sums[3] = {0, 0, 0};
  DecodeState state;
  ExtractedFields fields;
  for (int run = 0; run < runs; ++run) {
    for (int m = 0; m < 3; ++m) {
      PageViewHandler h;
      const auto start = std::chrono::steady_clock::now();
      size_t begin = 0;
      for (size_t end : ends) {
        const std::string_view v(data.data() + begin, end - begin);
        begin = end;
        if (m == 0) {
          Status s = (*program)->DecodeAll(v, h, &state);
          if (!s.ok()) return Fail(s);
          continue;
        }
        Status s = (m == 1 ? *extract : *prefix)->Extract(v, &fields);
        if (!s.ok()) return Fail(s);
        for (size_t f = 0; f < 2; ++f) {
          const std::string_view str = *fields.GetString(f);
          h.proj_checksum += str.empty() ? 0 : static_cast<unsigned char>(str[0]);
        }
        h.proj_checksum += static_cast<uint64_t>(*fields.GetTimestampMillis(2));
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ns[m].push_back(secs * 1e9 / static_cast<double>(ends.size()));
      sums[m] = h.proj_checksum;
    }
  }
  std::printf("values: %zu records, %zu bytes, %d runs\n", ends.size(), data.size(), runs);
  for (int m = 0; m < 3; ++m) {
    std::sort(ns[m].begin(), ns[m].end());
    std::printf("%-15s ns/record min / median / max: %6.1f / %6.1f / %6.1f  proj_checksum=%llu\n",
                kModes[m], ns[m].front(), ns[m][ns[m].size() / 2], ns[m].back(),
                static_cast<unsigned long long>(sums[m]));
  }
  if (sums[1] != sums[0] || sums[2] != sums[0]) {
    std::fprintf(stderr, "projection checksum mismatch\n");
    return 1;
  }
  const double c = ns[0][ns[0].size() / 2];
  std::printf("ratio (median time / compiled): extract %.2f, extract-prefix %.2f\n",
              ns[1][ns[1].size() / 2] / c, ns[2][ns[2].size() / 2] / c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "generate") {
    return Generate(std::atol(argv[2]), argv[3], argv[4]);
  }
  if (argc == 4 && std::string(argv[1]) == "decode") return Decode(argv[2], argv[3]);
  if (argc == 4 && std::string(argv[1]) == "values") return Values(argv[2], std::atoi(argv[3]));
  std::fprintf(stderr,
               "usage: %s generate N CODEC OUT.avro\n"
               "       %s decode FILE compiled|generic|blocks|extract\n"
               "       %s values FILE RUNS\n",
               argv[0], argv[0], argv[0]);
  return 2;
}
