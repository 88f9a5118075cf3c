// The plugin loader: the example plugin (examples/plugins/pageviews) loads
// and gives the same cells as the equivalent YAML views; broken plugins
// (another ABI version, a missing symbol, not a plugin, a bad view spec, a
// throwing registration) are refused with a clear error.
#include "views/plugin_loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "avro/binary.h"
#include "avro/json.h"
#include "base/coding.h"
#include "views/catalog.h"
#include "views/mapper.h"

namespace braid::views {
namespace {

constexpr char kPageView[] = R"({"type":"record","name":"PageView","namespace":"braid.examples.swa",
  "fields":[{"name":"url","type":"string"},{"name":"person","type":"string"},
  {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"nonce","type":"long"},{"name":"referrer","type":["null","string"],"default":null}]})";

TEST(PluginTest, ExamplePluginGivesTheSameCellsAsTheYamlViews) {
  CatalogSources src;
  src.view_files = {BRAID_EXAMPLE_VIEWS};
  src.plugins = {BRAID_EXAMPLE_PLUGIN};
  auto catalog = LoadCatalog(src);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_EQ((*catalog)->size(), 4u);
  EXPECT_EQ((*catalog)->origin("pageviews_cpp"), std::string("plugin ") + BRAID_EXAMPLE_PLUGIN);
  EXPECT_EQ((*catalog)->FindTopic("pageviews")->time_field, "timestamp");

  auto schema = avro::ParseSchema(kPageView);
  ASSERT_TRUE(schema.ok());
  SchemaLookup lookup = [&](SchemaId id) -> Result<avro::Schema> {
    if (id.value() != 3) return Status::NotFound("no such id");
    return *schema;
  };
  // Generated events: urls in many spellings, some not URLs, many people.
  std::mt19937_64 rng(1);
  const char* spellings[] = {"http://Foo.com:80/a?x=1#y", "HTTP://foo.com/a", "http://foo.com/b",
                             "https://foo.com:443/",      "https://FOO.com",  "not a url",
                             "http://bar.org:8080/Q?z"};
  std::vector<std::string> values;
  for (int i = 0; i < 3000; ++i) {
    const std::string json =
        "{\"url\":\"" + std::string(spellings[rng() % 7]) + "\",\"person\":\"p" +
        std::to_string(rng() % 500) +
        "\",\"timestamp\":" + std::to_string(1'700'000'000'000LL + (rng() % 40) * 3'600'000LL) +
        ",\"nonce\":" + std::to_string(i) + ",\"referrer\":null}";
    auto datum = avro::DecodeJson(*schema, json);
    ASSERT_TRUE(datum.ok()) << json;
    std::string framed(1, '\0');
    coding::PutBigEndian32(&framed, 3);
    framed += *avro::EncodeBinary(*schema, *datum);
    values.push_back(std::move(framed));
  }
  values.push_back("not avro at all");

  // Cells: (key, granularity, bucket) → merged value, per view.
  auto cells = [&](const std::string& name) {
    auto view = (*catalog)->Find(name);
    EXPECT_NE(view, nullptr) << name;
    Mapper m(view, lookup);
    std::map<std::tuple<std::string, int, int64_t>, std::string> out;
    for (size_t i = 0; i < values.size(); ++i) {
      RecordRef r;
      r.topic = "pageviews";
      r.offset = Offset(static_cast<int64_t>(i));
      r.value = values[i];
      std::vector<Emit> emits;
      EXPECT_TRUE(m.Map(r, &emits).ok());
      for (const Emit& e : emits) {
        for (Granularity g : view->granularities()) {
          auto [it, inserted] = out.try_emplace(
              {e.key, static_cast<int>(g), BucketStart(g, e.time_ms)}, view->monoid().Identity());
          EXPECT_TRUE(view->monoid().Merge(&it->second, e.value).ok());
        }
      }
    }
    EXPECT_EQ(m.stats().not_avro, 1u);
    return out;
  };
  const auto pv_yaml = cells("pageviews_yaml");
  const auto pv_cpp = cells("pageviews_cpp");
  EXPECT_EQ(pv_yaml, pv_cpp);
  EXPECT_GT(pv_yaml.size(), 40u);
  const auto u_yaml = cells("uniques_yaml");
  const auto u_cpp = cells("uniques_cpp");
  EXPECT_EQ(u_yaml, u_cpp);
  // The definitions differ (fingerprints), the monoids do not.
  EXPECT_NE((*catalog)->Find("uniques_cpp")->Fingerprint(),
            (*catalog)->Find("uniques_yaml")->Fingerprint());
  EXPECT_EQ((*catalog)->Find("uniques_cpp")->monoid().spec(), "hll(p=14)");
}

Status LoadError(const std::string& path) {
  auto p = LoadPlugin(path);
  EXPECT_FALSE(p.ok()) << path;
  return p.status();
}

void ExpectError(const Status& s, const std::string& want) {
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(want), std::string::npos) << s.ToString();
}

TEST(PluginTest, WrongAbiVersionIsRefused) {
  const std::string path = BRAID_TEST_PLUGIN_wrong_abi_plugin;
  ExpectError(LoadError(path), "plugin " + path +
                                   ": built for plugin ABI version 42, but this "
                                   "braid loads version 1: rebuild it against this braid's "
                                   "include/braid headers");
}

TEST(PluginTest, MissingSymbolsAreRefused) {
  ExpectError(LoadError(BRAID_TEST_PLUGIN_no_register_plugin),
              "it has no symbol braid_plugin_register");
  ExpectError(LoadError(BRAID_TEST_PLUGIN_not_a_plugin),
              "not a braid plugin: it has no symbol braid_plugin_abi_version");
}

TEST(PluginTest, UnloadableFilesAreRefused) {
  ExpectError(LoadError("/nonexistent/libx.so"), "plugin /nonexistent/libx.so:");
  const std::string text = ::testing::TempDir() + "/not_elf.so";
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), text, "hello").ok());
  ExpectError(LoadError(text), "cannot load it:");
}

TEST(PluginTest, BadViewsAndFailedRegistrationsAreRefused) {
  ExpectError(LoadError(BRAID_TEST_PLUGIN_bad_view_plugin),
              "view \"bad_view\": monoid: monoid \"hyperloglog(p=99)\"");
  setenv("BRAID_TEST_THROW", "1", 1);
  Status s = LoadError(BRAID_TEST_PLUGIN_bad_view_plugin);
  unsetenv("BRAID_TEST_THROW");
  ExpectError(s, "no configuration");
}

TEST(PluginTest, JobAndTopologyHooksRefuseNull) {
  auto none = LoadPlugin(BRAID_TEST_PLUGIN_null_hooks_plugin);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->views.empty());
  EXPECT_TRUE(none->jobs.empty());
  EXPECT_TRUE(none->topologies.empty());
  setenv("BRAID_TEST_NULL", "job", 1);
  ExpectError(LoadError(BRAID_TEST_PLUGIN_null_hooks_plugin), "AddJob: a null job");
  setenv("BRAID_TEST_NULL", "topology", 1);
  ExpectError(LoadError(BRAID_TEST_PLUGIN_null_hooks_plugin), "AddTopology: a null topology");
  unsetenv("BRAID_TEST_NULL");
}

TEST(PluginTest, MapFailuresFailOnlyTheEvent) {
  auto plugin = LoadPlugin(BRAID_TEST_PLUGIN_throwing_view_plugin);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_EQ(plugin->views.size(), 1u);
  Mapper m(plugin->views[0], SchemaLookup());
  std::vector<Emit> out;
  for (const char* key : {"ok", "throw", "fail", "kind", "ok2"}) {
    RecordRef r;
    r.key = key;
    r.value = "raw";
    Status s = m.Map(r, &out);
    if (std::string_view(key).starts_with("ok")) {
      EXPECT_TRUE(s.ok()) << key;
    } else {
      EXPECT_TRUE(s.IsInvalidArgument()) << key << ": " << s.ToString();
    }
  }
  ASSERT_EQ(out.size(), 2u);  // only the two good events' emits
  EXPECT_EQ(out[0].key, "ok");
  EXPECT_EQ(out[1].key, "ok2");
  EXPECT_EQ(m.stats().map_errors, 3u);
}

}  // namespace
}  // namespace braid::views
