// Monoid merges as the engines run them, and the map step.
//
//   BM_MergeEvent/<spec>   one event's element merged into a live cell (the
//                          speed layer merges per event, or per micro-batch)
//   BM_MergeManyEvents/<spec>  64 events' elements into a live cell with one
//                          MergeMany (a micro-batch of one key); per event
//   BM_MergeCell/<spec>    one partial cell merged into another (the batch
//                          layer's combine and reduce, serving's batch ⊕
//                          realtime); includes copying the accumulator
//   BM_Lift/<spec>         a typed value to its element
//   BM_Map/<view>          views::Mapper over Confluent-framed PageView
//                          records (decode, expressions, lift)
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "avro/binary.h"
#include "avro/json.h"
#include "avro/schema.h"
#include "base/check.h"
#include "base/coding.h"
#include "views/mapper.h"
#include "views/monoid.h"
#include "views/view_file.h"

namespace braid::views {
namespace {

const char* const kSpecs[] = {
    "count",
    "sum_int64",
    "sum_double",
    "max_int64",
    "hll(p=14)",
    "topk(k=10,capacity=100)",
    "topk(k=10,capacity=1000)",
    "quantiles(k=200)",
    "tuple(visits:count,bounces:sum_int64)",
};

Value RandomValue(const MonoidSpec& spec, std::mt19937_64& rng, uint64_t distinct) {
  switch (spec.kind) {
    case MonoidSpec::Kind::kSumDouble:
    case MonoidSpec::Kind::kQuantiles:
      return Value::Double(static_cast<double>(rng() % 100'000) / 7.0);
    case MonoidSpec::Kind::kHll:
    case MonoidSpec::Kind::kTopK: {
      // Zipf-ish: small ids far more often.
      const uint64_t r = rng() % distinct;
      return Value::String(std::string("user-").append(std::to_string(r * r / distinct)));
    }
    case MonoidSpec::Kind::kTuple:
      return Value::Tuple({Value(), Value::Long(static_cast<int64_t>(rng() % 2))});
    default:
      return Value::Long(static_cast<int64_t>(rng() % 1000));
  }
}

std::vector<std::string> Elements(const Monoid& m, size_t n, uint64_t distinct, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out(n);
  for (auto& e : out)
    CHECK(m.Lift(RandomValue(*ParseMonoidSpec(m.spec()), rng, distinct), &e).ok());
  return out;
}

std::string Accumulate(const Monoid& m, const std::vector<std::string>& elements) {
  std::string acc = m.Identity();
  for (const auto& e : elements) CHECK(m.Merge(&acc, e).ok());
  return acc;
}

// state.range(0): index into kSpecs; state.range(1): distinct items in the
// cell (hll/topk: 100 keeps hll sparse, 1,000,000 makes it dense).
void BM_MergeEvent(benchmark::State& state) {
  auto m = *MakeMonoid(kSpecs[state.range(0)]);
  const uint64_t distinct = static_cast<uint64_t>(state.range(1));
  std::string acc = Accumulate(*m, Elements(*m, 100'000, distinct, 1));
  const std::vector<std::string> events = Elements(*m, 4096, distinct, 2);
  size_t i = 0;
  for (auto _ : state) {
    Status s = m->Merge(&acc, events[i++ & 4095]);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kSpecs[state.range(0)]) + ", cell of " + std::to_string(acc.size()) +
                 " bytes");
}

// 64 events' elements merged into a live cell with one MergeMany (a speed
// layer micro-batch of one key); items = events.
void BM_MergeManyEvents(benchmark::State& state) {
  auto m = *MakeMonoid(kSpecs[state.range(0)]);
  const uint64_t distinct = static_cast<uint64_t>(state.range(1));
  std::string acc = Accumulate(*m, Elements(*m, 100'000, distinct, 1));
  const std::vector<std::string> events = Elements(*m, 4096, distinct, 2);
  std::vector<std::string_view> batch(64);
  size_t i = 0;
  for (auto _ : state) {
    for (auto& b : batch) b = events[i++ & 4095];
    Status s = m->MergeMany(&acc, batch);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * 64);
  state.SetLabel(std::string(kSpecs[state.range(0)]) + ", cell of " + std::to_string(acc.size()) +
                 " bytes");
}

void BM_MergeCell(benchmark::State& state) {
  auto m = *MakeMonoid(kSpecs[state.range(0)]);
  const uint64_t distinct = static_cast<uint64_t>(state.range(1));
  const std::string a = Accumulate(*m, Elements(*m, 20'000, distinct, 3));
  const std::string b = Accumulate(*m, Elements(*m, 20'000, distinct, 4));
  for (auto _ : state) {
    std::string acc = a;
    Status s = m->Merge(&acc, b);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(acc.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kSpecs[state.range(0)]) + ", cells of " + std::to_string(a.size()) +
                 " and " + std::to_string(b.size()) + " bytes");
}

void BM_Lift(benchmark::State& state) {
  auto m = *MakeMonoid(kSpecs[state.range(0)]);
  std::mt19937_64 rng(5);
  std::vector<Value> values;
  for (int i = 0; i < 4096; ++i)
    values.push_back(RandomValue(*ParseMonoidSpec(m->spec()), rng, 1'000'000));
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    Status s = m->Lift(values[i++ & 4095], &out);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kSpecs[state.range(0)]);
}

void MergeArgs(benchmark::internal::Benchmark* b) {
  for (int i = 0; i < static_cast<int>(std::size(kSpecs)); ++i) {
    const std::string_view spec = kSpecs[i];
    if (spec.starts_with("hll")) {
      b->Args({i, 100});        // sparse cell
      b->Args({i, 1'000'000});  // dense cell
    } else {
      b->Args({i, 1'000'000});
    }
  }
}

BENCHMARK(BM_MergeEvent)->Apply(MergeArgs);
BENCHMARK(BM_MergeManyEvents)->Apply(MergeArgs);
BENCHMARK(BM_MergeCell)->Apply(MergeArgs);
BENCHMARK(BM_Lift)->DenseRange(0, static_cast<int>(std::size(kSpecs)) - 1);

constexpr char kPageView[] = R"({"type":"record","name":"PageView","namespace":"braid.examples.swa",
  "fields":[{"name":"url","type":"string"},{"name":"person","type":"string"},
  {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"nonce","type":"long"},{"name":"referrer","type":["null","string"],"default":null}]})";

constexpr char kViews[] = R"(views:
  - name: pageviews
    topic: pageviews
    key: normalize_url(url)
    time: timestamp
    aggregate: count
  - name: uniques
    topic: pageviews
    key: normalize_url(url)
    time: timestamp
    aggregate: hll(p=14)
    value: person
)";

void BM_Map(benchmark::State& state) {
  auto file = ParseViewFile(kViews, "bench.yaml");
  CHECK(file.ok());
  auto schema = *avro::ParseSchema(kPageView);
  auto view = file->views[state.range(0)].view;
  Mapper mapper(view, [&](SchemaId) -> Result<avro::Schema> { return schema; });
  std::mt19937_64 rng(6);
  std::vector<std::string> records;
  for (int i = 0; i < 4096; ++i) {
    const std::string json = "{\"url\":\"HTTP://www.Example.com:80/page/" +
                             std::to_string(rng() % 1000) + "?utm=x\",\"person\":\"person-" +
                             std::to_string(rng() % 100000) +
                             "\",\"timestamp\":1709210096000,\"nonce\":" + std::to_string(i) +
                             ",\"referrer\":{\"string\":\"https://google.com/\"}}";
    std::string framed(1, '\0');
    coding::PutBigEndian32(&framed, 1);
    framed += *avro::EncodeBinary(schema, *avro::DecodeJson(schema, json));
    records.push_back(std::move(framed));
  }
  std::vector<Emit> out;
  size_t i = 0;
  for (auto _ : state) {
    RecordRef r;
    r.value = records[i++ & 4095];
    out.clear();
    Status s = mapper.Map(r, &out);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(view->name());
}
BENCHMARK(BM_Map)->Arg(0)->Arg(1);

}  // namespace
}  // namespace braid::views

BENCHMARK_MAIN();
