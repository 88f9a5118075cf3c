// Every registry compatibility level on the evolution cases of
// data/level_cases.json, whose verdicts come from python3-avro's
// ReaderWriterCompatibilityChecker (see data/gen_level_cases.py). Each case is
// run through the REST API: register the history with NONE, set the level,
// then both the compatibility endpoint and a register call must agree.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "registry/registry.h"

namespace braid::registry {
namespace {

using Json = nlohmann::json;

Json LoadCases() {
  const char* src = std::getenv("BRAID_SOURCE_DIR");
  std::string path = std::string(src ? src : ".") + "/src/registry/tests/data/level_cases.json";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str(), nullptr, false);
}

TEST(CompatibilityLevelsTest, AgreesWithPythonAvro) {
  Json cases = LoadCases();
  ASSERT_TRUE(cases.is_array()) << "level_cases.json not found or invalid";
  ASSERT_GE(cases.size(), 40u);
  int checked = 0;
  for (const Json& c : cases) {
    for (const auto& [level, expected] : c["levels"].items()) {
      SCOPED_TRACE(c["name"].get<std::string>() + " at " + level);
      auto r = Registry::Open({}, std::make_unique<MemoryStore>());
      ASSERT_TRUE(r.ok());
      Registry& reg = **r;
      ASSERT_EQ(reg.HandleTarget("PUT", "/config/s", R"({"compatibility":"NONE"})").status, 200);
      for (const Json& h : c["history"]) {
        HttpResult res =
            reg.HandleTarget("POST", "/subjects/s/versions", Json{{"schema", h}}.dump());
        ASSERT_EQ(res.status, 200) << res.body;
      }
      ASSERT_EQ(reg.HandleTarget("PUT", "/config/s", Json{{"compatibility", level}}.dump()).status,
                200);
      const std::string body = Json{{"schema", c["candidate"]}}.dump();
      HttpResult test =
          reg.HandleTarget("POST", "/compatibility/subjects/s/versions?verbose=true", body);
      ASSERT_EQ(test.status, 200) << test.body;
      Json verdict = Json::parse(test.body);
      EXPECT_EQ(verdict["is_compatible"].get<bool>(), expected.get<bool>()) << test.body;
      HttpResult reg_res = reg.HandleTarget("POST", "/subjects/s/versions", body);
      EXPECT_EQ(reg_res.status, expected.get<bool>() ? 200 : 409) << reg_res.body;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()) * 7);
}

TEST(CompatibilityLevelsTest, NamesRoundTrip) {
  for (const char* name : {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
                           "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}) {
    auto level = avro::ParseCompatibilityLevel(name);
    ASSERT_TRUE(level.ok());
    EXPECT_EQ(avro::CompatibilityLevelName(*level), name);
  }
}

}  // namespace
}  // namespace braid::registry
