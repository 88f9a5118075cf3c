// Every monoid: spec parsing, identity and associativity (and commutativity)
// on random inputs, MergeMany = repeated Merge, hostile encodings; the
// sketches' accuracy against exact answers on seeded data sets.
#include "views/monoid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include "views/hll.h"
#include "views/quantiles.h"
#include "views/topk.h"

namespace braid::views {
namespace {

std::shared_ptr<const Monoid> Make(std::string_view spec) {
  auto m = MakeMonoid(spec);
  EXPECT_TRUE(m.ok()) << spec << ": " << m.status().ToString();
  return *m;
}

std::string MergeOf(const Monoid& m, std::string a, std::string_view b) {
  Status s = m.Merge(&a, b);
  EXPECT_TRUE(s.ok()) << m.spec() << ": " << s.ToString();
  return a;
}

std::string LiftOf(const Monoid& m, const Value& v) {
  std::string out;
  Status s = m.Lift(v, &out);
  EXPECT_TRUE(s.ok()) << m.spec() << ": " << s.ToString();
  return out;
}

// ---------------------------------------------------------------------------
// Specs

TEST(MonoidSpecTest, CanonicalFormsRoundTrip) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"count", "count"},
      {" sum_int64 ", "sum_int64"},
      {"sum_double", "sum_double"},
      {"min_int64", "min_int64"},
      {"max_double", "max_double"},
      {"hll", "hll(p=14)"},
      {"hll(12)", "hll(p=12)"},
      {"hll(precision = 16)", "hll(p=16)"},
      {"hyperloglog(p=4)", "hll(p=4)"},
      {"topk", "topk(k=10,capacity=100)"},
      {"topk(5)", "topk(k=5,capacity=100)"},
      {"topk(k=50)", "topk(k=50,capacity=500)"},
      {"topk(10, 1000)", "topk(k=10,capacity=1000)"},
      {"topk(capacity=30, k=3)", "topk(k=3,capacity=30)"},
      {"quantiles", "quantiles(k=200)"},
      {"kll(k=100)", "quantiles(k=100)"},
      {"tuple(visits: count, bounces: sum_int64)", "tuple(visits:count,bounces:sum_int64)"},
      {"tuple(a:tuple(b:hll(10)),c:topk(2))",
       "tuple(a:tuple(b:hll(p=10)),c:topk(k=2,capacity=100))"},
  };
  for (const auto& [text, canonical] : cases) {
    auto spec = ParseMonoidSpec(text);
    ASSERT_TRUE(spec.ok()) << text << ": " << spec.status().ToString();
    EXPECT_EQ(spec->ToString(), canonical) << text;
    auto again = ParseMonoidSpec(canonical);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->ToString(), canonical);
    auto m = MakeMonoid(text);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->spec(), canonical);
  }
}

TEST(MonoidSpecTest, ErrorsNameTheColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "column 1: expected a monoid name"},
      {"hyperlog", "column 1: unknown monoid \"hyperlog\""},
      {"hll(3)", "precision 3 is out of range (4..18)"},
      {"hll(19)", "precision 19 is out of range"},
      {"hll(p=14", "column 9: expected ',' or ')'"},
      {"hll(q=1)", "column 5: hll has no parameter \"q\""},
      {"hll(p=10,p=12)", "column 10: parameter \"p\" given twice"},
      {"hll(14,15)", "too many parameters"},
      {"count(3)", "count takes no parameters"},
      {"topk(k=0)", "k 0 is out of range"},
      {"topk(k=10,capacity=5)", "capacity 5 is out of range"},
      {"quantiles(k=7)", "k 7 is out of range (8..65535)"},
      {"quantiles(k=99999999999)", "number too large"},
      {"tuple", "tuple: expected '('"},
      {"tuple()", "tuple: expected a field name"},
      {"tuple(a count)", "expected ':'"},
      {"tuple(a:count,a:count)", "column 15: tuple: field \"a\" given twice"},
      {"count count", "column 7: unexpected text after the spec"},
      {"tuple(a:tuple(a:tuple(a:tuple(a:tuple(a:tuple(a:tuple(a:tuple(a:tuple(a:count)))))))))",
       "nested more than 8 deep"},
  };
  for (const auto& [text, want] : cases) {
    auto spec = ParseMonoidSpec(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_TRUE(spec.status().IsInvalidArgument());
    EXPECT_NE(spec.status().message().find(want), std::string::npos)
        << text << " -> " << spec.status().ToString();
  }
}

// ---------------------------------------------------------------------------
// Laws on random inputs.

// A random input value for a monoid spec.
Value RandomValue(const MonoidSpec& spec, std::mt19937_64& rng) {
  using Kind = MonoidSpec::Kind;
  switch (spec.kind) {
    case Kind::kCount:
      return Value();
    case Kind::kSumInt64:
    case Kind::kMinInt64:
    case Kind::kMaxInt64:
      if (rng() % 10 == 0) return Value();  // null: the identity
      return Value::Long(static_cast<int64_t>(rng()) >> (rng() % 64));
    case Kind::kSumDouble:
      // Integer-valued doubles: sums are exact, so the laws hold bit for bit.
      return Value::Double(
          static_cast<double>(static_cast<int64_t>(rng() % 2'000'001) - 1'000'000));
    case Kind::kMinDouble:
    case Kind::kMaxDouble: {
      const double choices[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e-300};
      if (rng() % 2 == 0) return Value::Double(choices[rng() % 6]);
      return Value::Double(std::ldexp(static_cast<double>(rng() % 1000) - 500, rng() % 40 - 20));
    }
    case Kind::kHll:
      if (rng() % 3 == 0) return Value::Long(static_cast<int64_t>(rng() % 100'000));
      return Value::String("user-" + std::to_string(rng() % 100'000));
    case Kind::kTopK:
      return Value::String("item-" + std::to_string(rng() % 30));
    case Kind::kQuantiles:
      return Value::Double(static_cast<double>(rng() % 1000));
    case Kind::kTuple: {
      std::vector<Value> parts;
      for (const auto& [name, sub] : spec.fields) parts.push_back(RandomValue(sub, rng));
      return Value::Tuple(std::move(parts));
    }
  }
  return Value();
}

// A random element: the merge of 0..max_events lifted values.
std::string RandomElement(const Monoid& m, std::mt19937_64& rng, int max_events) {
  std::string acc = m.Identity();
  const int n = static_cast<int>(rng() % (max_events + 1));
  for (int i = 0; i < n; ++i)
    acc = MergeOf(m, acc, LiftOf(m, RandomValue(*ParseMonoidSpec(m.spec()), rng)));
  return acc;
}

// Monoids whose laws hold bit for bit.
const char* const kExactSpecs[] = {
    "count",
    "sum_int64",
    "sum_double",
    "min_int64",
    "max_int64",
    "min_double",
    "max_double",
    "hll(p=4)",
    "hll(p=10)",
    "hll(p=14)",
    "tuple(visits:count,bounces:sum_int64)",
    "tuple(n:count,low:min_double,users:hll(p=8),inner:tuple(hi:max_int64))",
};

TEST(MonoidLawsTest, ExactMonoidsAreAssociativeCommutativeWithIdentity) {
  for (const char* spec : kExactSpecs) {
    SCOPED_TRACE(spec);
    auto m = Make(spec);
    std::mt19937_64 rng(42);
    const std::string id = m->Identity();
    ASSERT_TRUE(m->Validate(id).ok());
    // Elements from a handful of events up to enough to make an hll(p=4) dense.
    const int max_events = std::string_view(spec).starts_with("hll(p=14") ? 300 : 40;
    for (int round = 0; round < 60; ++round) {
      const std::string a = RandomElement(*m, rng, max_events);
      const std::string b = RandomElement(*m, rng, max_events);
      const std::string c = RandomElement(*m, rng, max_events);
      ASSERT_TRUE(m->Validate(a).ok());
      EXPECT_EQ(MergeOf(*m, id, a), a);
      EXPECT_EQ(MergeOf(*m, a, id), a);
      EXPECT_EQ(MergeOf(*m, MergeOf(*m, a, b), c), MergeOf(*m, a, MergeOf(*m, b, c)));
      EXPECT_EQ(MergeOf(*m, a, b), MergeOf(*m, b, a));
      // MergeMany is repeated Merge.
      std::string many = a;
      const std::string_view others[] = {b, c, id};
      ASSERT_TRUE(m->MergeMany(&many, others).ok());
      EXPECT_EQ(many, MergeOf(*m, MergeOf(*m, a, b), c));
      ASSERT_TRUE(m->ToJson(many).ok());
    }
  }
}

TEST(MonoidLawsTest, SumDoubleIsAssociativeUpToRounding) {
  auto m = Make("sum_double");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> d(-1e6, 1e6);
  for (int round = 0; round < 500; ++round) {
    std::string e[3];
    double exact[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
      e[i] = m->Identity();
      for (int j = 0; j < 20; ++j) {
        const double x = d(rng) * std::pow(10.0, static_cast<int>(rng() % 10) - 5);
        exact[i] += x;
        e[i] = MergeOf(*m, e[i], LiftOf(*m, Value::Double(x)));
      }
    }
    const double left = std::stod(*m->ToJson(MergeOf(*m, MergeOf(*m, e[0], e[1]), e[2])));
    const double right = std::stod(*m->ToJson(MergeOf(*m, e[0], MergeOf(*m, e[1], e[2]))));
    EXPECT_NEAR(left, right, 1e-9 * (std::abs(left) + 1));
    EXPECT_EQ(MergeOf(*m, e[0], e[1]), MergeOf(*m, e[1], e[0]));
  }
  // Compensation: 1e16 + 1 + 1 - 1e16 is 2, not 0.
  std::string acc = m->Identity();
  for (double x : {1e16, 1.0, 1.0, -1e16}) acc = MergeOf(*m, acc, LiftOf(*m, Value::Double(x)));
  EXPECT_EQ(*m->ToJson(acc), "2.0");
}

TEST(MonoidLawsTest, LiftAndToJson) {
  auto count = Make("count");
  std::string acc = count->Identity();
  for (int i = 0; i < 3; ++i) acc = MergeOf(*count, acc, LiftOf(*count, Value::String("x")));
  EXPECT_EQ(*count->ToJson(acc), "3");

  auto sum = Make("sum_int64");
  acc = MergeOf(*sum, LiftOf(*sum, Value::Long(-5)), LiftOf(*sum, Value::Long(12)));
  EXPECT_EQ(*sum->ToJson(acc), "7");
  // Wrap-around, not saturation (saturation is not associative).
  acc = MergeOf(*sum, LiftOf(*sum, Value::Long(INT64_MAX)), LiftOf(*sum, Value::Long(1)));
  EXPECT_EQ(*sum->ToJson(acc), std::to_string(INT64_MIN));
  EXPECT_TRUE(sum->Lift(Value::Double(1.5), &acc).IsInvalidArgument());
  EXPECT_EQ(LiftOf(*sum, Value()), sum->Identity());

  auto mn = Make("min_int64");
  EXPECT_EQ(*mn->ToJson(mn->Identity()), "null");
  acc = MergeOf(*mn, LiftOf(*mn, Value::Long(3)), LiftOf(*mn, Value::Long(-9)));
  EXPECT_EQ(*mn->ToJson(acc), "-9");
  auto mxd = Make("max_double");
  acc = MergeOf(*mxd, LiftOf(*mxd, Value::Double(-0.0)), LiftOf(*mxd, Value::Double(0.0)));
  EXPECT_EQ(*mxd->ToJson(acc), "0.0");
  EXPECT_TRUE(mxd->Lift(Value::Double(NAN), &acc).IsInvalidArgument());
  EXPECT_TRUE(mxd->Lift(Value::Double(INFINITY), &acc).IsInvalidArgument());
  EXPECT_TRUE(mxd->Lift(Value::String("1"), &acc).IsInvalidArgument());

  auto tuple = Make("tuple(visits:count,bounces:sum_int64)");
  acc = tuple->Identity();
  acc = MergeOf(*tuple, acc, LiftOf(*tuple, Value::Tuple({Value(), Value::Long(1)})));
  acc = MergeOf(*tuple, acc, LiftOf(*tuple, Value::Tuple({Value(), Value::Long(0)})));
  acc = MergeOf(*tuple, acc, LiftOf(*tuple, Value::Tuple({Value(), Value()})));
  EXPECT_EQ(*tuple->ToJson(acc), "{\"visits\":3,\"bounces\":1}");
  EXPECT_TRUE(tuple->Lift(Value::Long(1), &acc).IsInvalidArgument());
  EXPECT_TRUE(tuple->Lift(Value::Tuple({Value()}), &acc).IsInvalidArgument());

  auto hll = Make("hll(p=14)");
  EXPECT_EQ(*hll->ToJson(hll->Identity()), "0");
  acc = hll->Identity();
  for (int i = 0; i < 1000; ++i) {
    acc = MergeOf(*hll, acc,
                  LiftOf(*hll, Value::String(std::string("p").append(std::to_string(i % 250)))));
  }
  EXPECT_EQ(*hll->ToJson(acc), "250");  // sparse: exact at this size

  auto topk = Make("topk(k=2,capacity=10)");
  acc = topk->Identity();
  for (const char* s : {"a", "b", "a", "c", "a", "b"}) {
    acc = MergeOf(*topk, acc, LiftOf(*topk, Value::String(s)));
  }
  EXPECT_EQ(*topk->ToJson(acc),
            "{\"n\":6,\"items\":[{\"item\":\"a\",\"count\":3,\"error\":0},"
            "{\"item\":\"b\",\"count\":2,\"error\":0}]}");

  auto q = Make("quantiles(k=200)");
  EXPECT_EQ(*q->ToJson(q->Identity()), "{\"n\":0}");
  acc = q->Identity();
  for (int i = 1; i <= 100; ++i) acc = MergeOf(*q, acc, LiftOf(*q, Value::Long(i)));
  EXPECT_EQ(*q->ToJson(acc),
            "{\"n\":100,\"min\":1.0,\"max\":100.0,\"quantiles\":{\"0.25\":25.0,\"0.5\":50.0,"
            "\"0.75\":75.0,\"0.9\":90.0,\"0.95\":95.0,\"0.99\":99.0}}");
}

// ---------------------------------------------------------------------------
// Hostile encodings: Corruption, never a crash; *acc unchanged.

TEST(MonoidHostileTest, MalformedEncodingsAreCorruption) {
  const char* specs[] = {"count",     "sum_int64",  "sum_double",      "min_int64",
                         "max_int64", "min_double", "max_double",      "hll(p=4)",
                         "hll(p=12)", "topk(k=3)",  "quantiles(k=16)", "tuple(a:count,b:hll(p=4))"};
  std::vector<std::shared_ptr<const Monoid>> all;
  for (const char* s : specs) all.push_back(Make(s));
  std::mt19937_64 rng(3);
  for (const auto& m : all) {
    SCOPED_TRACE(m->spec());
    const std::string good = RandomElement(*m, rng, 200);
    // Every truncation, and every single-byte change, either validates (and
    // then merges) or is Corruption.
    for (size_t cut = 0; cut < good.size(); ++cut) {
      std::string acc = good;
      Status s = m->Merge(&acc, good.substr(0, cut));
      if (!s.ok()) {
        EXPECT_TRUE(s.IsCorruption()) << s.ToString();
        EXPECT_EQ(acc, good);
      }
    }
    for (int i = 0; i < 300 && !good.empty(); ++i) {
      std::string bad = good;
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      std::string acc = good;
      Status s = m->Merge(&acc, bad);
      if (s.ok()) {
        EXPECT_TRUE(m->Validate(bad).ok());
        EXPECT_TRUE(m->Validate(acc).ok());
      } else {
        EXPECT_TRUE(s.IsCorruption()) << s.ToString();
        EXPECT_EQ(acc, good);
        EXPECT_FALSE(m->ToJson(bad).ok());
      }
      // The bad value as the accumulator.
      std::string bad_acc = bad;
      Status t = m->Merge(&bad_acc, good);
      if (!t.ok()) {
        EXPECT_EQ(bad_acc, bad);
      }
    }
    // Random bytes, and every other monoid's encodings.
    for (int i = 0; i < 200; ++i) {
      std::string junk(rng() % 40, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      std::string acc = good;
      Status s = m->Merge(&acc, junk);
      if (!s.ok()) {
        EXPECT_TRUE(s.IsCorruption());
      }
    }
    for (const auto& other : all) {
      if (other == m) continue;
      std::string acc = m->Identity();
      Status s = m->Merge(&acc, other->Identity());
      EXPECT_TRUE(s.IsCorruption()) << other->spec();
    }
  }
  // Another precision / capacity / k is refused.
  std::string acc = Make("hll(p=10)")->Identity();
  EXPECT_TRUE(Make("hll(p=11)")->Merge(&acc, Make("hll(p=10)")->Identity()).IsCorruption());
  acc = Make("topk(k=3)")->Identity();
  EXPECT_TRUE(Make("topk(k=4,capacity=50)")->Merge(&acc, acc).IsCorruption());
  acc = Make("quantiles(k=16)")->Identity();
  EXPECT_TRUE(Make("quantiles(k=17)")->Merge(&acc, acc).IsCorruption());
}

TEST(MonoidHostileTest, HugeCountsAreBoundedByTheInput) {
  // A topk claiming 2^60 counters, a quantiles level claiming 2^60 items, a
  // tuple field claiming 2^60 bytes: refused without allocating.
  auto topk = Make("topk(k=3)");
  std::string bad = "\x09\x1e\x05\x80\x80\x80\x80\x80\x80\x80\x80\x10";
  std::string acc = topk->Identity();
  EXPECT_TRUE(topk->Merge(&acc, bad).IsCorruption());
  auto q = Make("quantiles(k=16)");
  std::string qbad = "\x0a\x10\x01";
  qbad += std::string(16, '\0');
  qbad += "\x01\x80\x80\x80\x80\x80\x80\x80\x80\x10";
  acc = q->Identity();
  EXPECT_TRUE(q->Merge(&acc, qbad).IsCorruption());
  auto tuple = Make("tuple(a:count)");
  std::string tbad = "\x0b\x01\x80\x80\x80\x80\x80\x80\x80\x80\x10";
  acc = tuple->Identity();
  EXPECT_TRUE(tuple->Merge(&acc, tbad).IsCorruption());
}

// ---------------------------------------------------------------------------
// HyperLogLog

TEST(HllTest, SparseToDenseIsAFunctionOfTheItems) {
  // The same items merged in different trees give the same bytes, across
  // the sparse → dense switch.
  auto m = Make("hll(p=10)");  // sparse limit 256 entries
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> items(200 + rng() % 400);
    for (auto& s : items) s = LiftOf(*m, Value::Long(static_cast<int64_t>(rng())));
    std::string left = m->Identity();
    for (const auto& s : items) left = MergeOf(*m, left, s);
    // Balanced tree over a shuffled order.
    std::shuffle(items.begin(), items.end(), rng);
    while (items.size() > 1) {
      std::vector<std::string> next;
      for (size_t i = 0; i + 1 < items.size(); i += 2)
        next.push_back(MergeOf(*m, items[i], items[i + 1]));
      if (items.size() % 2) next.push_back(items.back());
      items = std::move(next);
    }
    EXPECT_EQ(left, items[0]);
  }
}

TEST(HllTest, EntryToRegisterMatchesDirectComputation) {
  std::mt19937_64 rng(5);
  for (int p = HllSketch::kMinPrecision; p <= HllSketch::kMaxPrecision; ++p) {
    for (int i = 0; i < 20000; ++i) {
      uint64_t h = rng();
      if (i % 100 == 0) h &= ~uint64_t{0} << (64 - p);  // all-zero tail
      if (i % 100 == 1) h &= ~uint64_t{0} << 20;
      uint32_t index;
      uint8_t rho;
      HllSketch::EntryToRegister(HllSketch::SparseEntry(h), p, &index, &rho);
      const uint64_t w = h << p;
      const int direct = w == 0 ? 65 - p : std::countl_zero(w) + 1;
      ASSERT_EQ(index, h >> (64 - p));
      ASSERT_EQ(rho, direct) << p << " " << h;
    }
  }
}

// Accuracy against the published bound, the relative standard error
// σ = 1.04/√m, on 10 seeded data sets per (precision, cardinality). For
// m >= 256 the estimate is close to normal: each one within 4σ, and the
// mean absolute error within 1.2σ. For m = 16 and 64 the distribution is
// skewed (and Ertl's estimator a few percent high), so only the root mean
// square error over all of that precision's estimates is checked, within
// 1.5σ. Sparse sketches are nearly exact (linear counting at 2^25).
TEST(HllTest, EstimatesWithinTheErrorBound) {
  for (int p : {4, 6, 8, 12, 14, 16, 18}) {
    const double m = std::ldexp(1.0, p);
    const double se = 1.04 / std::sqrt(m);
    double sum_sq = 0;
    int dense_estimates = 0;
    for (uint64_t n : {10ULL, 100ULL, 1'000ULL, 10'000ULL, 100'000ULL, 1'000'000ULL}) {
      if (n > 100'000 && p < 12) continue;
      double sum_abs = 0;
      int dense = 0;
      for (int seed = 0; seed < 10; ++seed) {
        std::mt19937_64 rng(1000 * p + seed);
        HllSketch s(p);
        for (uint64_t i = 0; i < n; ++i) {
          // Distinct items with a few repeats.
          const uint64_t item = rng();
          s.AddHash(HllSketch::HashLong(static_cast<int64_t>(item)));
          if (i % 7 == 0) s.AddHash(HllSketch::HashLong(static_cast<int64_t>(item)));
        }
        const double err = (s.Estimate() - static_cast<double>(n)) / static_cast<double>(n);
        if (s.sparse()) {
          EXPECT_LE(std::abs(err), 0.01) << "p=" << p << " n=" << n << " seed=" << seed;
          continue;
        }
        ++dense;
        ++dense_estimates;
        sum_abs += std::abs(err);
        sum_sq += err * err;
        if (m >= 256) {
          EXPECT_LE(std::abs(err), 4 * se)
              << "p=" << p << " n=" << n << " seed=" << seed << " est=" << s.Estimate();
        }
      }
      if (m >= 256 && dense > 0) {
        EXPECT_LE(sum_abs / dense, 1.2 * se) << "p=" << p << " n=" << n;
      }
    }
    if (m < 256) {
      ASSERT_GT(dense_estimates, 0);
      EXPECT_LE(std::sqrt(sum_sq / dense_estimates), 1.5 * se) << "p=" << p;
    }
  }
}

TEST(HllTest, MergedPartitionsEqualOneSketchOfAll) {
  auto m = Make("hll(p=14)");
  std::mt19937_64 rng(9);
  std::vector<std::string> parts(8, m->Identity());
  HllSketch all(14);
  for (int i = 0; i < 200'000; ++i) {
    const std::string user = "user-" + std::to_string(rng() % 50'000);
    all.AddHash(HllSketch::Hash(user));
    auto& part = parts[rng() % parts.size()];
    part = MergeOf(*m, part, LiftOf(*m, Value::String(user)));
  }
  std::string merged = m->Identity();
  std::vector<std::string_view> views(parts.begin(), parts.end());
  ASSERT_TRUE(m->MergeMany(&merged, views).ok());
  EXPECT_EQ(merged, all.Encode());
  const double est = std::stod(*m->ToJson(merged));
  EXPECT_NEAR(est, 50'000, 50'000 * 3.5 * 0.0081);
}

// ---------------------------------------------------------------------------
// Top-k

struct Dataset {
  std::vector<std::string> items;
  std::map<std::string, uint64_t> exact;
};

// Zipf-like data over `distinct` items, plus some adversarial orders.
Dataset ZipfData(uint64_t seed, size_t n, size_t distinct, double s) {
  std::mt19937_64 rng(seed);
  std::vector<double> cdf(distinct);
  double total = 0;
  for (size_t i = 0; i < distinct; ++i) cdf[i] = total += 1.0 / std::pow(i + 1.0, s);
  std::uniform_real_distribution<double> u(0, total);
  Dataset d;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
    d.items.push_back("url/" + std::to_string(std::min(k, distinct - 1)));
    ++d.exact[d.items.back()];
  }
  if (seed % 3 == 1) std::sort(d.items.begin(), d.items.end());  // sorted runs
  return d;
}

void CheckTopK(const TopKMonoid& m, const std::string& encoded, const Dataset& d) {
  auto summary = m.Decode(encoded);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const uint64_t n = d.items.size();
  ASSERT_EQ(summary->n, n);
  const double bound = static_cast<double>(n) / m.capacity();
  std::set<std::string> present;
  for (const TopKCounter& c : summary->counters) {
    const uint64_t f = d.exact.count(c.item) ? d.exact.at(c.item) : 0;
    EXPECT_GE(c.count, f) << c.item;            // an overestimate
    EXPECT_LE(c.count - c.error, f) << c.item;  // count - error is a lower bound
    EXPECT_LE(static_cast<double>(c.error), bound) << c.item;
    present.insert(c.item);
  }
  uint64_t min_count = 0;
  if (summary->counters.size() == m.capacity()) {
    min_count = UINT64_MAX;
    for (const TopKCounter& c : summary->counters) min_count = std::min(min_count, c.count);
  }
  for (const auto& [item, f] : d.exact) {
    if (static_cast<double>(f) > bound) {
      EXPECT_TRUE(present.count(item)) << item << " f=" << f;
    }
    if (!present.count(item)) {
      EXPECT_LE(f, min_count) << item;
    }
  }
}

TEST(TopKTest, GuaranteesHoldOnTenDataSetsForAnyMergeTree) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    SCOPED_TRACE(seed);
    const Dataset d = ZipfData(seed, 20'000, 2'000 + 500 * seed, 0.8 + 0.1 * seed);
    MonoidSpec spec;
    spec.kind = MonoidSpec::Kind::kTopK;
    spec.topk_k = 10;
    spec.topk_capacity = 50 + 10 * static_cast<uint32_t>(seed);
    TopKMonoid m(spec);
    // One event at a time (the speed layer).
    std::string stream = m.Identity();
    for (const auto& item : d.items) stream = MergeOf(m, stream, LiftOf(m, Value::String(item)));
    CheckTopK(m, stream, d);
    // Partitions merged left to right, right to left, and as a tree.
    std::mt19937_64 rng(seed);
    std::vector<std::string> parts(16, m.Identity());
    for (const auto& item : d.items) {
      auto& p = parts[rng() % parts.size()];
      p = MergeOf(m, p, LiftOf(m, Value::String(item)));
    }
    std::string left = m.Identity();
    for (const auto& p : parts) left = MergeOf(m, left, p);
    CheckTopK(m, left, d);
    std::string right = m.Identity();
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) right = MergeOf(m, *it, right);
    CheckTopK(m, right, d);
    while (parts.size() > 1) {
      std::vector<std::string> next;
      for (size_t i = 0; i + 1 < parts.size(); i += 2)
        next.push_back(MergeOf(m, parts[i], parts[i + 1]));
      parts = std::move(next);
    }
    CheckTopK(m, parts[0], d);
    // The reported top 10 are the true heavy hitters here (Zipf, s >= 0.8).
    auto json = m.ToJson(stream);
    ASSERT_TRUE(json.ok());
    std::vector<std::pair<uint64_t, std::string>> truth;
    for (const auto& [item, f] : d.exact) truth.emplace_back(f, item);
    std::sort(truth.rbegin(), truth.rend());
    EXPECT_NE(json->find("\"" + truth[0].second + "\""), std::string::npos);
  }
}

TEST(TopKTest, ExactWithoutEvictionAndAssociativeThen) {
  auto m = Make("topk(k=5,capacity=100)");
  std::mt19937_64 rng(1);
  for (int round = 0; round < 50; ++round) {
    std::string e[3];
    for (auto& x : e) {
      x = m->Identity();
      for (int i = 0; i < 30; ++i) {
        x = MergeOf(*m, x,
                    LiftOf(*m, Value::String(std::string("i").append(std::to_string(rng() % 40)))));
      }
    }
    EXPECT_EQ(MergeOf(*m, MergeOf(*m, e[0], e[1]), e[2]),
              MergeOf(*m, e[0], MergeOf(*m, e[1], e[2])));
    EXPECT_EQ(MergeOf(*m, e[0], e[1]), MergeOf(*m, e[1], e[0]));
  }
}

// ---------------------------------------------------------------------------
// Quantiles (KLL)

// The error of the answer `v` for rank q over sorted exact data: the
// distance from q to the interval of ranks v occupies.
double RankError(const std::vector<double>& sorted, double v, double q) {
  const double n = static_cast<double>(sorted.size());
  const double lo = (std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
  const double hi = (std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
  if (q < lo) return lo - q;
  if (q > hi) return q - hi;
  return 0;
}

std::vector<double> QuantileData(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<double> v(n);
  switch (seed % 5) {
    case 0: {
      std::uniform_real_distribution<double> u(-1000, 1000);
      for (auto& x : v) x = u(rng);
      break;
    }
    case 1: {
      std::normal_distribution<double> g(50, 10);
      for (auto& x : v) x = g(rng);
      break;
    }
    case 2: {  // sorted ascending
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i);
      break;
    }
    case 3: {  // descending, in blocks of repeated values
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>((n - i) / 100);
      break;
    }
    default: {  // heavy tail (latencies)
      std::exponential_distribution<double> e(0.01);
      for (auto& x : v) x = e(rng) * e(rng);
    }
  }
  return v;
}

TEST(QuantilesTest, RankErrorWithinTheBoundOnTenDataSetsForAnyMergeTree) {
  for (uint32_t k : {100u, 200u}) {
    // DataSketches' double-sided 99% normalized rank error for KLL.
    const double eps = 2.446 / std::pow(k, 0.9433);
    MonoidSpec spec;
    spec.kind = MonoidSpec::Kind::kQuantiles;
    spec.quantiles_k = k;
    QuantilesMonoid m(spec);
    for (uint64_t seed = 0; seed < 10; ++seed) {
      SCOPED_TRACE(testing::Message() << "k=" << k << " seed=" << seed);
      const std::vector<double> data = QuantileData(seed, 30'000 + 7'000 * seed);
      std::vector<double> sorted = data;
      std::sort(sorted.begin(), sorted.end());
      auto check = [&](const std::string& encoded) {
        auto s = KllSketch::Decode(encoded, k);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        EXPECT_EQ(s->n(), data.size());
        EXPECT_EQ(s->min(), sorted.front());
        EXPECT_EQ(s->max(), sorted.back());
        double worst = 0;
        for (int i = 1; i < 100; ++i) {
          const double q = i / 100.0;
          worst = std::max(worst, RankError(sorted, s->Quantile(q), q));
        }
        EXPECT_LE(worst, eps);
        EXPECT_LT(s->retained(), 3 * k + 100);  // size is about 3k, not n
      };
      // One at a time (the speed layer), from a sketch (batch), and trees.
      KllSketch direct(k);
      for (double x : data) direct.Add(x);
      check(direct.Encode());
      std::vector<std::string> parts(12, m.Identity());
      std::mt19937_64 rng(seed);
      std::vector<KllSketch> part_sketches(12, KllSketch(k));
      for (double x : data) part_sketches[rng() % 12].Add(x);
      for (size_t i = 0; i < 12; ++i) parts[i] = part_sketches[i].Encode();
      std::string left = m.Identity();
      for (const auto& p : parts) left = MergeOf(m, left, p);
      check(left);
      std::string right = m.Identity();
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) right = MergeOf(m, *it, right);
      check(right);
      std::vector<std::string> tree = parts;
      while (tree.size() > 1) {
        std::vector<std::string> next;
        for (size_t i = 0; i + 1 < tree.size(); i += 2)
          next.push_back(MergeOf(m, tree[i], tree[i + 1]));
        if (tree.size() % 2) next.push_back(tree.back());
        tree = std::move(next);
      }
      check(tree[0]);
      if (seed < 2) {
        std::string stream = m.Identity();
        for (double x : data) stream = MergeOf(m, stream, LiftOf(m, Value::Double(x)));
        check(stream);
      }
    }
  }
}

TEST(QuantilesTest, DeterministicAndIdentity) {
  auto m = Make("quantiles(k=32)");
  std::mt19937_64 rng(2);
  std::string a = m->Identity();
  std::string b = m->Identity();
  for (int i = 0; i < 5000; ++i) {
    const Value v = Value::Long(static_cast<int64_t>(rng() % 100000));
    a = MergeOf(*m, a, LiftOf(*m, v));
    b = MergeOf(*m, b, LiftOf(*m, v));
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(MergeOf(*m, a, m->Identity()), a);
  EXPECT_EQ(MergeOf(*m, m->Identity(), a), a);
  EXPECT_EQ(MergeOf(*m, a, b), MergeOf(*m, b, a));
}

}  // namespace
}  // namespace braid::views
