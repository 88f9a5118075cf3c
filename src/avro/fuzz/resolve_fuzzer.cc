// Fuzzes the resolving decoders: the input's first byte picks a (writer,
// reader) schema pair, the rest is the writer's binary data. The generic
// ResolvingDecoder and the CompiledDecoder must agree (both fail, or both
// produce equal values); neither may crash, hang or allocate from unchecked
// lengths. The pairs cover recursion, skipped recursive fields, enums and
// unions on both sides, promotions and defaults.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "avro/decoder_program.h"
#include "avro/resolve.h"

namespace {

using namespace braid::avro;

struct Pair {
  ResolvingDecoder generic;
  std::shared_ptr<const CompiledDecoder> compiled;
};

const char* const kPairs[][2] = {
    {R"({"type":"record","name":"L","fields":[{"name":"v","type":"int"},
        {"name":"next","type":["null","L"]}]})",
     R"({"type":"record","name":"L","fields":[{"name":"x","type":"string","default":"d"},
        {"name":"v","type":"double"},{"name":"next","type":["null","L"],"default":null}]})"},
    {R"({"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":
        {"type":"map","values":["null","bytes",{"type":"enum","name":"E","symbols":["A","B","C"]}]}}},
        {"name":"f","type":{"type":"fixed","name":"F","size":3}},{"name":"z","type":"float"}]})",
     R"({"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":
        {"type":"map","values":["string",{"type":"enum","name":"E","symbols":["B","A"]},"null"]}}},
        {"name":"z","type":"double"}]})"},
    {R"(["null","int","string",{"type":"array","items":"null"},{"type":"map","values":"long"}])",
     R"(["string","null",{"type":"array","items":"null"},"double"])"},
    {R"({"type":"record","name":"N","fields":[{"name":"kids","type":{"type":"array","items":"N"}},
        {"name":"skip","type":{"type":"map","values":"N"}},{"name":"b","type":"boolean"}]})",
     R"({"type":"record","name":"N","fields":[{"name":"kids","type":{"type":"array","items":"N"}},
        {"name":"b","type":"boolean"}]})"},
};

std::vector<Pair>* BuildPairs() {
  auto* pairs = new std::vector<Pair>();
  DecodeOptions opts;
  opts.max_zero_size_items = 10000;
  opts.max_depth = 64;
  for (const auto& p : kPairs) {
    auto w = ParseSchema(p[0]);
    auto r = ParseSchema(p[1]);
    if (!w.ok() || !r.ok()) std::abort();
    auto g = ResolvingDecoder::Create(*w, *r, opts);
    auto c = CompiledDecoder::Compile(*w, *r, opts);
    if (!g.ok() || !c.ok()) std::abort();
    pairs->push_back({std::move(*g), std::move(*c)});
  }
  return pairs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<Pair>* pairs = BuildPairs();
  if (size == 0) return 0;
  const Pair& p = (*pairs)[data[0] % pairs->size()];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto a = p.generic.Decode(bytes);
  auto b = DecodeToDatum(*p.compiled, bytes);
  // The two count nesting differently (values vs frames): a depth-limit
  // failure on either side is not a disagreement.
  auto deep = [](const braid::Status& s) {
    return s.message().find("nested") != std::string_view::npos;
  };
  if (deep(a.status()) || deep(b.status())) return 0;
  if (a.ok() != b.ok()) std::abort();
  if (a.ok() && !(*a == *b)) std::abort();
  return 0;
}
