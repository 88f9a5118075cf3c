// View files, expressions, the Mapper and the Catalog, over real Avro
// records of real schemas.
#include "views/view_file.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "avro/binary.h"
#include "avro/json.h"
#include "avro/schema.h"
#include "base/coding.h"
#include "views/catalog.h"
#include "views/expr_view.h"
#include "views/mapper.h"

namespace braid::views {
namespace {

constexpr char kPageView[] = R"({"type":"record","name":"PageView","namespace":"braid.examples.swa",
  "fields":[{"name":"url","type":"string"},{"name":"person","type":"string"},
  {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"nonce","type":"long"},{"name":"referrer","type":["null","string"],"default":null}]})";

// A later writer: reordered, a field added, nonce removed, a nested record.
constexpr char kPageViewV2[] =
    R"({"type":"record","name":"PageView","namespace":"braid.examples.swa",
  "fields":[{"name":"timestamp","type":{"type":"long","logicalType":"timestamp-micros"}},
  {"name":"person","type":"string"},{"name":"url","type":"string"},
  {"name":"device","type":{"type":"record","name":"Device","fields":[
     {"name":"os","type":"string"},{"name":"width","type":"int"}]}},
  {"name":"referrer","type":["null","string"],"default":null}]})";

avro::Schema Parse(const char* json) {
  auto s = avro::ParseSchema(json);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

std::string Body(const avro::Schema& schema, const std::string& json) {
  auto datum = avro::DecodeJson(schema, json);
  EXPECT_TRUE(datum.ok()) << json << ": " << datum.status().ToString();
  auto bytes = avro::EncodeBinary(schema, *datum);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

std::string Framed(int32_t id, const std::string& body) {
  std::string out(1, '\0');
  coding::PutBigEndian32(&out, static_cast<uint32_t>(id));
  return out + body;
}

// A registry of two schemas: ids 1 and 2.
SchemaLookup Registry() {
  auto schemas = std::make_shared<std::map<int32_t, avro::Schema>>();
  (*schemas)[1] = Parse(kPageView);
  (*schemas)[2] = Parse(kPageViewV2);
  return [schemas](SchemaId id) -> Result<avro::Schema> {
    auto it = schemas->find(id.value());
    if (it == schemas->end()) return Status::NotFound("no schema " + std::to_string(id.value()));
    return it->second;
  };
}

constexpr char kSwaViews[] = R"(# SuperWebAnalytics
version: 1
topics:
  pageviews:
    partitions: 4
    schema_validation: true
    time_field: timestamp
views:
  - name: pageviews
    topic: pageviews
    key: normalize_url(url)
    time: timestamp
    granularities: [hour, day, week, month]
    aggregate: count
  - name: uniques
    topic: pageviews
    key: normalize_url(url)
    time: timestamp
    aggregate: {type: hll, p: 14}
    value: person
  - name: by_referrer_host
    topic: pageviews
    key: concat(coalesce(host(referrer.string), '(direct)'), '|', lower(person))
    time: truncate(timestamp, 'day')
    granularities: [all]
    aggregate:
      type: tuple
      fields:
        visits: count
        people: hll(p=10)
        first: min_int64
    value:
      people: person
      first: timestamp
)";

Result<ViewFile> ParseText(const std::string& text) { return ParseViewFile(text, "views.yaml"); }

const ViewDefinition& ViewNamed(const ViewFile& f, std::string_view name) {
  for (const auto& e : f.views) {
    if (e.view->name() == name) return *e.view;
  }
  ADD_FAILURE() << "no view " << name;
  return *f.views.front().view;
}

TEST(ViewFileTest, ParsesTheSuperWebAnalyticsViews) {
  auto file = ParseText(kSwaViews);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->views.size(), 3u);
  ASSERT_EQ(file->topics.size(), 1u);
  EXPECT_EQ(file->topics[0].partitions, 4);
  EXPECT_EQ(file->topics[0].TopicConfigs().at("braid.archive.time.field"), "timestamp");
  EXPECT_EQ(file->topics[0].TopicConfigs().at("braid.value.schema.validation"), "true");
  const ViewDefinition& pv = ViewNamed(*file, "pageviews");
  EXPECT_EQ(pv.topic(), "pageviews");
  EXPECT_EQ(pv.monoid().spec(), "count");
  EXPECT_EQ(pv.granularities().size(), 4u);
  EXPECT_EQ(pv.time_field(), "timestamp");
  EXPECT_EQ(file->views[0].origin, "views.yaml:9:5");
  const ViewDefinition& u = ViewNamed(*file, "uniques");
  EXPECT_EQ(u.monoid().spec(), "hll(p=14)");
  EXPECT_EQ(u.description(), "key normalize_url(url), time timestamp, value person");
  const ViewDefinition& r = ViewNamed(*file, "by_referrer_host");
  EXPECT_EQ(r.monoid().spec(), "tuple(visits:count,people:hll(p=10),first:min_int64)");
  EXPECT_EQ(r.time_field(), "");
  // Fingerprints: stable, distinct, blind to formatting.
  EXPECT_NE(pv.Fingerprint(), u.Fingerprint());
  std::string spaced = kSwaViews;
  spaced.replace(spaced.find("normalize_url(url)"), 18, "normalize_url( url )");
  auto again = ParseText(spaced);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ViewNamed(*again, "pageviews").Fingerprint(), pv.Fingerprint());
  std::string changed = kSwaViews;
  changed.replace(changed.find("[hour, day, week, month]"), 24, "[hour, day]");
  auto other = ParseText(changed);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(ViewNamed(*other, "pageviews").Fingerprint(), pv.Fingerprint());
}

// Maps one framed record with a view of the file.
std::vector<Emit> MapOne(Mapper& m, const std::string& value, int64_t ts = 1000) {
  RecordRef r;
  r.topic = "pageviews";
  r.offset = Offset(7);
  r.timestamp_ms = ts;
  r.value = value;
  std::vector<Emit> out;
  Status s = m.Map(r, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(ViewFileTest, ViewsMapRecordsOfEveryWriterSchema) {
  auto file = ParseText(kSwaViews);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const avro::Schema v1 = Parse(kPageView);
  const avro::Schema v2 = Parse(kPageViewV2);
  const int64_t t = 1'709'210'096'000;  // 2024-02-29T12:34:56Z
  const std::string rec1 =
      Framed(1, Body(v1, R"({"url":"HTTP://Foo.com:80/a?x=1#y","person":"Alice",
                            "timestamp":1709210096000,"nonce":1,"referrer":{"string":"https://Ref.org:443/p"}})"));
  const std::string rec2 =
      Framed(2, Body(v2, R"({"timestamp":1709210096000123,"person":"BOB","url":"http://foo.com/a",
                     "device":{"os":"x","width":3},"referrer":null})"));
  SchemaLookup registry = Registry();

  for (const auto& e : file->views) {
    SCOPED_TRACE(e.view->name());
    Mapper m(e.view, registry);
    std::vector<Emit> a = MapOne(m, rec1);
    std::vector<Emit> b = MapOne(m, rec2);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    const std::string& name = e.view->name();
    if (name == "pageviews" || name == "uniques") {
      EXPECT_EQ(a[0].key, "http://foo.com/a");
      EXPECT_EQ(b[0].key, "http://foo.com/a");
      EXPECT_EQ(a[0].time_ms, t);
      EXPECT_EQ(b[0].time_ms, t);  // micros converted to millis
    }
    if (name == "pageviews") {
      EXPECT_EQ(a[0].value, CountMonoid::One());
    }
    if (name == "uniques") {
      std::string acc = e.view->monoid().Identity();
      ASSERT_TRUE(e.view->monoid().Merge(&acc, a[0].value).ok());
      ASSERT_TRUE(e.view->monoid().Merge(&acc, b[0].value).ok());
      EXPECT_EQ(*e.view->monoid().ToJson(acc), "2");  // Alice, BOB
    }
    if (name == "by_referrer_host") {
      EXPECT_EQ(a[0].key, "ref.org|alice");
      EXPECT_EQ(b[0].key, "(direct)|bob");
      EXPECT_EQ(a[0].time_ms, 1'709'164'800'000);  // truncated to the day
      EXPECT_EQ(*e.view->monoid().ToJson(a[0].value),
                "{\"visits\":1,\"people\":1,\"first\":1709210096000}");
    }
    EXPECT_EQ(m.stats().mapped, 2u);
    EXPECT_EQ(m.stats().emits, 2u);
  }
}

struct BadCase {
  std::string yaml;
  std::string want;  // a substring of the error
};

TEST(ViewFileTest, ErrorsNameFileLineAndField) {
  const std::string head = "views:\n  - name: v\n    topic: t\n";
  const std::vector<BadCase> cases = {
      {"views: [", "views.yaml:1:"},
      {"- a\n- b\n", "views.yaml:1:1: (file): expected a map"},
      {"version: 2\n", "views.yaml:1:10: version: out of range (1..1)"},
      {"vews: []\n", "views.yaml:1:1: (file): unknown field \"vews\" (did you mean \"views\"?)"},
      {"views:\n  - topic: t\n", "views.yaml:2:5: views[0]: no name"},
      {"views:\n  - name: a/b\n", "views.yaml:2:11: views[0].name: \"a/b\" is not a view name"},
      {"views:\n  - name: v\n", "views.yaml:2:5: views[0] (v): no topic"},
      {head + "    key: url\n", "views.yaml:2:5: views[0] (v): no aggregate"},
      {head + "    aggregate: count\n", "views.yaml:2:5: views[0] (v): no key"},
      {head + "    key: url\n    aggregate: hyperlog\n",
       "views.yaml:5:16: views[0] (v).aggregate: monoid \"hyperlog\": column 1: unknown monoid"},
      {head + "    key: url\n    aggregate: hll(p=3)\n",
       "views.yaml:5:16: views[0] (v).aggregate: monoid \"hll(p=3)\": column 7: hll: precision 3"},
      {head + "    key: url\n    aggregate: {type: hll, p: 30}\n",
       "views.yaml:5:31: views[0] (v).aggregate.p: out of range (4..18)"},
      {head + "    key: url\n    aggregate: {type: hll, k: 3}\n",
       "views.yaml:5:28: views[0] (v).aggregate: hll has no parameter \"k\""},
      {head + "    key: url\n    aggregate: {p: 3}\n",
       "views.yaml:5:16: views[0] (v).aggregate: a monoid map needs a type"},
      {head + "    key: normalize_url(url\n    aggregate: count\n",
       "views.yaml:4:10: views[0] (v).key: at character 18: expected ',' or ')'"},
      {head + "    key: nrmalize_url(url)\n    aggregate: count\n",
       "views.yaml:4:10: views[0] (v).key: at character 1: unknown function nrmalize_url"},
      {head + "    key: truncate(ts, 'fortnight')\n    aggregate: count\n",
       "views.yaml:4:10: views[0] (v).key: at character 14: truncate's unit"},
      {head + "    key: lower(a, b)\n    aggregate: count\n",
       "views.yaml:4:10: views[0] (v).key: at character 1: lower takes 1 argument, not 2"},
      {head + "    key: url\n    aggregate: count\n    value: person\n",
       "views.yaml:6:12: views[0] (v).value: count counts events: it takes no value"},
      {head + "    key: url\n    aggregate: hll\n",
       "views.yaml:2:5: views[0] (v): hll(p=14) needs a value"},
      {head + "    key: url\n    aggregate: tuple(a:count,b:sum_int64)\n    value: {a: x}\n",
       "views.yaml:6:13: views[0] (v).value.a: field \"a\" is a count: it takes no value"},
      {head + "    key: url\n    aggregate: tuple(a:count,b:sum_int64)\n    value: {c: x}\n",
       "views.yaml:6:13: views[0] (v).value.c: the tuple has no field \"c\" (fields: a, b)"},
      {head + "    key: url\n    aggregate: tuple(a:count,b:sum_int64)\n",
       "views.yaml:2:5: views[0] (v): tuple field \"b\" needs a value"},
      {head + "    key: url\n    aggregate: count\n    granularity: [day]\n",
       "views.yaml:6:5: views[0] (v): unknown field \"granularity\" (did you mean "
       "\"granularities\"?)"},
      {head + "    key: url\n    aggregate: count\n    granularities: [day, fortnight]\n",
       "views.yaml:6:26: views[0] (v).granularities: unknown granularity \"fortnight\""},
      {head + "    key: url\n    aggregate: count\n    granularities: [day, day]\n",
       "views.yaml:6:20: views[0] (v).granularities: day given twice"},
      {head + "    key: url\n    aggregate: count\n    granularities: day\n",
       "views.yaml:6:20: views[0] (v).granularities: expected a list"},
      {head + "    key: url\n    aggregate: count\n    needs_avro: maybe\n",
       "views.yaml:6:17: views[0] (v).needs_avro: expected true or false"},
      {head + "    key: url\n    key: url\n    aggregate: count\n",
       "views.yaml:5:5: views[0] (v): field \"key\" given twice"},
      {head + "    key: url\n    aggregate: count\n" +
           "  - name: v\n    topic: t\n    key: url\n"
           "    aggregate: count\n",
       "views.yaml:6:5: views[1]: a second view named \"v\""},
      {head + "    key: [url]\n    aggregate: count\n",
       "views.yaml:4:10: views[0] (v).key: expected a scalar, got a list"},
      {"topics:\n  t:\n    partitions: -1\n",
       "views.yaml:3:17: topics.t.partitions: out of range (0..100000)"},
      {"topics:\n  t:\n    partitons: 3\n",
       "views.yaml:3:5: topics.t: unknown field \"partitons\" (did you mean \"partitions\"?)"},
      {"topics:\n  t:\n    configs: {braid.archive: \"false\"}\n",
       "views.yaml:3:15: topics.t.configs.braid.archive: braid's own configs"},
      {"topics:\n  bad topic:\n", "views.yaml:2:3: topics.bad topic: \"bad topic\" is not a topic"},
  };
  for (const auto& c : cases) {
    auto file = ParseText(c.yaml);
    ASSERT_FALSE(file.ok()) << c.yaml;
    EXPECT_TRUE(file.status().IsInvalidArgument());
    EXPECT_NE(file.status().message().find(c.want), std::string::npos)
        << "YAML:\n"
        << c.yaml << "\nwant: " << c.want << "\ngot:  " << file.status().message();
  }
}

TEST(ViewFileTest, HostileFilesAreErrorsNotCrashes) {
  // Deep nesting, huge scalars, random bytes.
  std::string deep = "views: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  EXPECT_FALSE(ParseText(deep).ok());
  std::string nested =
      "views:\n  - name: v\n    topic: t\n    key: " + std::string(100, 'l') + "\n";
  EXPECT_TRUE(ParseText(nested + "    aggregate: count\n").ok());
  std::string deep_expr = "views:\n  - name: v\n    topic: t\n    key: ";
  for (int i = 0; i < 200; ++i) deep_expr += "lower(";
  deep_expr += "x" + std::string(200, ')') + "\n    aggregate: count\n";
  auto r = ParseText(deep_expr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deep"), std::string::npos);
  std::mt19937_64 rng(4);
  for (int i = 0; i < 2000; ++i) {
    std::string text = kSwaViews;
    for (int j = 0; j < 3; ++j) text[rng() % text.size()] = static_cast<char>(rng());
    (void)ParseText(text);  // must not crash
  }
}

TEST(ViewFileTest, ReadsFilesAndNamesMissingOnes) {
  auto missing = LoadViewFile(io::DefaultFileSystem(), "/nonexistent/views.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/views.yaml"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Expressions through a view: variables, literals, functions, errors.

std::shared_ptr<const ViewDefinition> KeyView(const std::string& key) {
  ExprViewBuilder b("v", "pageviews");
  EXPECT_TRUE(b.SetMonoid(MonoidSpec{}).ok());
  Status s = b.SetKey(key);
  EXPECT_TRUE(s.ok()) << key << ": " << s.ToString();
  auto v = b.Build();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return *v;
}

TEST(ExprTest, KeysOfEveryKind) {
  const avro::Schema v1 = Parse(kPageView);
  const std::string body = Body(v1, R"({"url":"http://A.com/X","person":"P","timestamp":5,
      "nonce":-3,"referrer":null})");
  const std::string value = Framed(1, body);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"url", "http://A.com/X"},
      {"upper(person)", "P"},
      {"lower(url)", "http://a.com/x"},
      {"nonce", "-3"},
      {"concat(person, ':', nonce, ':', 1.5, ':', $partition)", "P:-3:1.5:2"},
      {"concat(\"a\\\"b\", 'c\\'d', '\\\\')", "a\"bc'd\\"},
      {"coalesce(referrer.string, referrer, 'none')", "none"},
      {"$topic", "pageviews"},
      {"$key", "the-key"},
      {"$offset", "7"},
      {"$timestamp", "1000"},
      {"string(timestamp)", "5"},
      {"truncate($timestamp, 'second')", "1000"},
      {"truncate(-1, 'minute')", "-60000"},
      {"truncate(1709210096000, 'year')", "1704067200000"},
      {"truncate(1709210096000, 'month')", "1706745600000"},
      {"truncate(1709210096000, 'week')", "1708905600000"},
      {"domain(url)", "a.com"},
  };
  for (const auto& [expr, want] : cases) {
    auto view = KeyView(expr);
    Mapper m(view, Registry());
    RecordRef r;
    r.topic = "pageviews";
    r.partition = PartitionId(2);
    r.offset = Offset(7);
    r.timestamp_ms = 1000;
    r.key = "the-key";
    r.value = value;
    std::vector<Emit> out;
    ASSERT_TRUE(m.Map(r, &out).ok()) << expr;
    ASSERT_EQ(out.size(), 1u) << expr;
    EXPECT_EQ(out[0].key, want) << expr;
  }
  // A null key (not a URL; a missing referrer) skips the event.
  for (const char* expr : {"normalize_url(person)", "referrer.string", "concat(url, referrer)"}) {
    auto view = KeyView(expr);
    Mapper m(view, Registry());
    RecordRef r;
    r.value = value;
    std::vector<Emit> out;
    ASSERT_TRUE(m.Map(r, &out).ok());
    EXPECT_TRUE(out.empty()) << expr;
    EXPECT_EQ(m.stats().mapped, 1u);
  }
  // Wrong kinds fail the event, naming the function.
  for (const auto& [expr, want] : std::vector<std::pair<std::string, std::string>>{
           {"lower(nonce)", "key: lower takes a string, not a long"},
           {"truncate(url, 'day')", "key: truncate takes a time in milliseconds"},
           {"normalize_url(timestamp)", "normalize_url takes a string"}}) {
    auto view = KeyView(expr);
    Mapper m(view, Registry());
    RecordRef r;
    r.value = value;
    std::vector<Emit> out;
    Status s = m.Map(r, &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << expr;
    EXPECT_NE(s.message().find(want), std::string::npos) << s.ToString();
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(m.stats().map_errors, 1u);
  }
}

TEST(ExprTest, SyntaxErrorsPointAtTheCharacter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "at character 1: expected an expression"},
      {"lower(", "at character 7: expected an expression"},
      {"url.", "at character 5: expected a field name after '.'"},
      {"$nope", "at character 2: unknown variable $nope"},
      {"'abc", "unterminated string"},
      {"'a\\qb'", "at character 4: unknown escape \\q"},
      {"url url", "at character 5: unexpected text"},
      {"99999999999999999999", "number out of range"},
      {"concat()", "concat takes at least 1 argument"},
      {"truncate(ts, day)", "at character 14: truncate's unit is a string literal"},
      {"#", "unexpected character '#'"},
  };
  for (const auto& [text, want] : cases) {
    ExprCompiler c;
    auto e = c.Compile(text);
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_NE(e.status().message().find(want), std::string::npos)
        << text << " -> " << e.status().message();
    EXPECT_TRUE(c.paths().empty()) << text;
  }
}

// ---------------------------------------------------------------------------
// The Mapper's outcomes.

TEST(MapperTest, OutcomesAreCountedAndDistinguished) {
  auto file = ParseText(kSwaViews);
  ASSERT_TRUE(file.ok());
  auto view = file->views[0].view;  // pageviews
  int lookups = 0;
  SchemaLookup registry = Registry();
  SchemaLookup counting = [&](SchemaId id) -> Result<avro::Schema> {
    ++lookups;
    if (id.value() == 9) return Status::Unavailable("registry down");
    return registry(id);
  };
  Mapper m(view, counting);
  const avro::Schema v1 = Parse(kPageView);
  const std::string good = Framed(1, Body(v1, R"({"url":"http://a.com","person":"p",
      "timestamp":1,"nonce":1,"referrer":null})"));
  std::vector<Emit> out;
  RecordRef r;
  for (int i = 0; i < 100; ++i) {
    r.value = good;
    ASSERT_TRUE(m.Map(r, &out).ok());
  }
  EXPECT_EQ(out.size(), 100u);
  EXPECT_EQ(lookups, 1);  // compiled once per schema id
  // Not Avro: skipped (counted), OK.
  r.value = "plain text";
  EXPECT_TRUE(m.Map(r, &out).ok());
  r.value = std::nullopt;
  EXPECT_TRUE(m.Map(r, &out).ok());
  r.value = std::string("\0\0\0", 3);
  EXPECT_TRUE(m.Map(r, &out).ok());
  // Unknown schema id: NotFound.
  const std::string unknown = Framed(77, "xyz");
  r.value = unknown;
  EXPECT_TRUE(m.Map(r, &out).IsNotFound());
  // Corrupt body: Corruption; truncated and trailing bytes too.
  for (const std::string& bad :
       {good.substr(0, good.size() - 1), good + "x",
        Framed(1, std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10))}) {
    r.value = bad;
    Status s = m.Map(r, &out);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
  // A transient lookup error is neither: retry later.
  const std::string later = Framed(9, "x");
  r.value = later;
  Status s = m.Map(r, &out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(out.size(), 100u);
  const MapperStats& st = m.stats();
  EXPECT_EQ(st.records, 108u);
  EXPECT_EQ(st.mapped, 100u);
  EXPECT_EQ(st.emits, 100u);
  EXPECT_EQ(st.not_avro, 3u);
  EXPECT_EQ(st.unknown_schema, 1u);
  EXPECT_EQ(st.undecodable, 3u);
  EXPECT_EQ(st.lookup_errors, 1u);
}

TEST(MapperTest, MasterDatasetRecordsMapLikeLogRecords) {
  auto file = ParseText(kSwaViews);
  ASSERT_TRUE(file.ok());
  const avro::Schema v1 = Parse(kPageView);
  const std::string body = Body(v1, R"({"url":"https://X.org:443/q?a","person":"p",
      "timestamp":1709210096000,"nonce":1,"referrer":{"string":"http://r.com"}})");
  for (const auto& e : file->views) {
    auto cache = std::make_shared<ExtractorCache>(e.view->paths(), Registry());
    Mapper speed(e.view, cache);
    Mapper batch(e.view, cache);
    Mapper any_file(e.view, cache);
    RecordRef r;
    r.timestamp_ms = 5;
    std::vector<Emit> a;
    std::vector<Emit> b;
    std::vector<Emit> c;
    const std::string framed = Framed(1, body);
    r.value = framed;
    ASSERT_TRUE(speed.Map(r, &a).ok());
    r.value = std::nullopt;
    ASSERT_TRUE(batch.MapAvro(r, SchemaId(1), body, &b).ok());
    ASSERT_TRUE(any_file.MapAvro(r, v1, body, &c).ok());
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(a[0].key, b[0].key);
    EXPECT_EQ(a[0].time_ms, b[0].time_ms);
    EXPECT_EQ(a[0].value, b[0].value);
    EXPECT_EQ(a[0].key, c[0].key);
    EXPECT_EQ(a[0].value, c[0].value);
    EXPECT_EQ(cache->size(), 2u);  // id 1, and the schema itself
  }
}

// ---------------------------------------------------------------------------
// Catalog

TEST(CatalogTest, LoadsFilesFindsViewsAndDefaultsTopics) {
  const std::string dir = ::testing::TempDir();
  const std::string a = dir + "/views_a.yaml";
  const std::string b = dir + "/views_b.yaml";
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), a, kSwaViews).ok());
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), b, R"(views:
  - name: clicks
    topic: clicks
    key: $key
    time: at
    aggregate: count
    needs_avro: false
)")
                  .ok());
  CatalogSources src;
  src.view_files = {a, b};
  auto catalog = LoadCatalog(src);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ((*catalog)->size(), 4u);
  ASSERT_NE((*catalog)->Find("uniques"), nullptr);
  EXPECT_EQ((*catalog)->Find("nope"), nullptr);
  EXPECT_EQ((*catalog)->ViewsOfTopic("pageviews").size(), 3u);
  EXPECT_EQ((*catalog)->origin("clicks"), b + ":2:5");
  const TopicSettings* clicks = (*catalog)->FindTopic("clicks");
  ASSERT_NE(clicks, nullptr);
  EXPECT_EQ(clicks->origin, "default");
  EXPECT_FALSE(clicks->schema_validation);  // its only view takes any value
  EXPECT_EQ(clicks->time_field, "at");
  EXPECT_EQ((*catalog)->FindTopic("pageviews")->partitions, 4);
  // The same file twice: the second definition is named with both origins.
  src.view_files = {a, a};
  auto twice = LoadCatalog(src);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("topic \"pageviews\" is declared twice"),
            std::string::npos)
      << twice.status().ToString();
  // Views of one undeclared topic with different time fields.
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), b, R"(views:
  - {name: a, topic: t, key: k, time: t1, aggregate: count}
  - {name: b, topic: t, key: k, time: t2, aggregate: count}
)")
                  .ok());
  src.view_files = {b};
  auto mixed = LoadCatalog(src);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("different event-time fields"), std::string::npos);
}

}  // namespace
}  // namespace braid::views
