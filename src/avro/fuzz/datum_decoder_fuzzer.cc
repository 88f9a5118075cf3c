// Fuzzes the generic binary decoder: the first input byte picks one of a few
// fixed schemas, the rest is decoded as a sequence of values of it. Every
// decoded value must re-encode and decode to an equal value and print as JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "avro/binary.h"
#include "avro/json.h"
#include "avro/schema.h"
#include "base/check.h"

namespace {

using braid::avro::Schema;

const char* const kSchemas[] = {
    R"("string")",
    R"({"type":"array","items":"null"})",
    R"({"type":"map","values":{"type":"fixed","name":"F0","size":0}})",
    R"({"type":"record","name":"List","fields":[{"name":"v","type":"long"},
        {"name":"next","type":["null","List"]}]})",
    R"({"type":"record","name":"Interop","namespace":"org.apache.avro","fields":[
        {"name":"intField","type":"int"},{"name":"longField","type":"long"},
        {"name":"stringField","type":"string"},{"name":"boolField","type":"boolean"},
        {"name":"floatField","type":"float"},{"name":"doubleField","type":"double"},
        {"name":"bytesField","type":"bytes"},{"name":"nullField","type":"null"},
        {"name":"arrayField","type":{"type":"array","items":"double"}},
        {"name":"mapField","type":{"type":"map","values":{"type":"record","name":"Foo",
          "fields":[{"name":"label","type":"string"}]}}},
        {"name":"unionField","type":["boolean","double",{"type":"array","items":"bytes"}]},
        {"name":"enumField","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}},
        {"name":"fixedField","type":{"type":"fixed","name":"MD5","size":16}},
        {"name":"recordField","type":{"type":"record","name":"Node","fields":[
          {"name":"label","type":"string"},
          {"name":"children","type":{"type":"array","items":"Node"}}]}}]})",
    R"({"type":"record","name":"Logical","fields":[
        {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
        {"name":"t","type":{"type":"long","logicalType":"timestamp-micros"}},
        {"name":"u","type":{"type":"string","logicalType":"uuid"}},
        {"name":"dur","type":{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}},
        {"name":"m","type":{"type":"map","values":["null","int","float","string"]}}]})",
};
constexpr size_t kSchemaCount = sizeof(kSchemas) / sizeof(kSchemas[0]);

const std::vector<Schema>& Schemas() {
  static const std::vector<Schema>* schemas = [] {
    auto* v = new std::vector<Schema>();
    for (const char* s : kSchemas) {
      auto parsed = braid::avro::ParseSchema(std::string_view(s));
      CHECK(parsed.ok()) << parsed.status().ToString();
      v->push_back(*parsed);
    }
    return v;
  }();
  return *schemas;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Schema& schema = Schemas()[data[0] % kSchemaCount];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  braid::avro::DecodeOptions options;
  options.max_zero_size_items = 10000;
  braid::avro::Decoder decoder(input);
  for (int i = 0; i < 16 && !decoder.empty(); ++i) {
    braid::avro::Datum datum;
    size_t before = decoder.consumed();
    if (!braid::avro::DecodeBinary(schema.root(), &decoder, &datum, options).ok()) break;
    std::string encoded;
    CHECK(braid::avro::EncodeBinary(schema.root(), datum, &encoded).ok());
    auto again = braid::avro::DecodeBinary(schema, encoded, options);
    CHECK(again.ok()) << again.status().ToString();
    CHECK(*again == datum);
    std::string json;
    CHECK(braid::avro::EncodeJson(schema.root(), datum, &json).ok());
    // Skipping the same bytes must not crash. (It may consume a different
    // length: skipping trusts the byte sizes of negative-count blocks.)
    braid::avro::Decoder skipper(input.substr(before));
    braid::avro::SkipBinary(schema.root(), &skipper, options).IgnoreError();
  }
  return 0;
}
