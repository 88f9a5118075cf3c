// Fuzzes the monoids' decoders and merges: the first byte picks a monoid,
// the second where the rest splits into an accumulator and another value.
// Merge must never crash, hang or allocate from an unchecked length; when it
// succeeds both inputs were valid, the result validates and renders as JSON;
// when it fails the accumulator is unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "views/monoid.h"

namespace {

using namespace braid::views;

const std::vector<std::shared_ptr<const Monoid>>& Monoids() {
  static const auto* kAll = [] {
    auto* v = new std::vector<std::shared_ptr<const Monoid>>();
    for (const char* spec :
         {"count", "sum_int64", "sum_double", "min_int64", "max_int64", "min_double", "max_double",
          "hll(p=4)", "hll(p=10)", "topk(k=2,capacity=4)", "topk(k=3)", "quantiles(k=8)",
          "quantiles(k=200)", "tuple(a:count,b:hll(p=4),c:topk(k=1,capacity=2))"}) {
      v->push_back(*MakeMonoid(spec));
    }
    return v;
  }();
  return *kAll;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto& all = Monoids();
  const Monoid& m = *all[data[0] % all.size()];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t cut = rest.empty() ? 0 : data[1] % (rest.size() + 1);
  std::string acc(rest.substr(0, cut));
  const std::string_view other = rest.substr(cut);
  const std::string before = acc;
  braid::Status s = m.Merge(&acc, other);
  if (s.ok()) {
    if (!m.Validate(before).ok() || !m.Validate(other).ok() || !m.Validate(acc).ok()) abort();
    if (!m.ToJson(acc).ok()) abort();
  } else if (acc != before) {
    abort();
  }
  std::string many = m.Identity();
  const std::string_view others[] = {before, other};
  (void)m.MergeMany(&many, others);
  return 0;
}
