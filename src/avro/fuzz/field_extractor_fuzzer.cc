// Fuzzes FieldExtractor: the input's first byte picks a (writer, reader,
// paths) case, the rest is the writer's binary data. With
// validate_skipped_blocks the extractor must accept exactly the inputs the
// generic decoder accepts (writer-only cases), never crash, hang or allocate
// from unchecked lengths, and every string it hands out must lie inside the
// input or the schema (enum symbols, defaults).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/binary.h"
#include "avro/field_extractor.h"

namespace {

using namespace braid::avro;

struct Case {
  const char* writer;
  const char* reader;  // nullptr: writer-only
  std::vector<std::string> paths;
};

const Case kCases[] = {
    {R"({"type":"record","name":"PageView","fields":[{"name":"url","type":"string"},
        {"name":"user","type":"string"},{"name":"timestamp","type":{"type":"long",
        "logicalType":"timestamp-micros"}},{"name":"ip","type":"string"},
        {"name":"status","type":"int"},{"name":"referrer","type":["null","string"]}]})",
     nullptr,
     {"url", "timestamp", "referrer", "referrer.string", "status"}},
    {R"({"type":"record","name":"E","namespace":"a","fields":[
        {"name":"tags","type":{"type":"array","items":{"type":"map","values":["null","bytes"]}}},
        {"name":"p","type":["null",{"type":"record","name":"P","fields":[
          {"name":"id","type":"long"},{"name":"next","type":["null","P"]},
          {"name":"e","type":{"type":"enum","name":"S","symbols":["X","Y","Z"]}}]},
          {"type":"record","name":"Q","namespace":"b","fields":[{"name":"id","type":"double"}]}]},
        {"name":"f","type":{"type":"fixed","name":"F","size":3}},
        {"name":"d","type":{"type":"int","logicalType":"date"}}]})",
     nullptr,
     {"p.a.P.id", "p.P.next.id", "p.P.next.P.e", "p.b.Q.id", "f", "d", "p.a.P.e"}},
    {R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},
        {"name":"u","type":["null","long","string"]},
        {"name":"skip","type":{"type":"map","values":{"type":"array","items":"null"}}},
        {"name":"b","type":"string"}]})",
     R"({"type":"record","name":"R","fields":[{"name":"b","type":"bytes"},
        {"name":"a","type":"double"},{"name":"u","type":["null","double"]},
        {"name":"new","type":{"type":"record","name":"N","fields":[{"name":"x","type":"string"}]},
         "default":{"x":"dflt"}}]})",
     {"b", "a", "u", "u.double", "new.x"}},
};

struct Compiled {
  Schema writer;
  bool writer_only;
  std::shared_ptr<const FieldExtractor> extractor;
};

std::vector<Compiled>* Build() {
  auto* out = new std::vector<Compiled>();
  ExtractorOptions opts;
  opts.decode.max_zero_size_items = 10000;
  opts.decode.max_depth = 64;
  opts.decode.validate_skipped_blocks = true;
  for (const Case& c : kCases) {
    auto w = ParseSchema(c.writer);
    if (!w.ok()) std::abort();
    Schema r = *w;
    if (c.reader != nullptr) {
      auto parsed = ParseSchema(c.reader);
      if (!parsed.ok()) std::abort();
      r = *parsed;
    }
    auto e = FieldExtractor::Compile(*w, r, c.paths, opts);
    if (!e.ok()) std::abort();
    out->push_back({*w, c.reader == nullptr, *e});
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<Compiled>* cases = Build();
  if (size == 0) return 0;
  const Compiled& c = (*cases)[data[0] % cases->size()];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  ExtractedFields f;
  const braid::Status st = c.extractor->Extract(bytes, &f);
  if (st.ok()) {
    if (f.size() != c.extractor->path_count()) std::abort();
    for (size_t i = 0; i < f.size(); ++i) {
      if (f.kind(i) != ValueKind::kString || f.type(i) == Type::kEnum) continue;
      const std::string_view v = *f.GetString(i);
      const bool in_input = v.empty() || (v.data() >= bytes.data() &&
                                          v.data() + v.size() <= bytes.data() + bytes.size());
      if (!in_input && v != "dflt") std::abort();
    }
  } else if (!st.IsCorruption()) {
    std::abort();
  }
  if (c.writer_only) {
    DecodeOptions opts = c.extractor->options().decode;
    auto generic = DecodeBinary(c.writer, bytes, opts);
    // The two count nesting differently (values vs frames): a depth-limit
    // failure on either side is not a disagreement.
    auto deep = [](const braid::Status& s) {
      return s.message().find("nested") != std::string_view::npos;
    };
    if (deep(st) || deep(generic.status())) return 0;
    if (generic.ok() != st.ok()) std::abort();
  }
  return 0;
}
