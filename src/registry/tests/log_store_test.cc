#include "registry/log_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "registry/registry.h"

namespace braid::registry {
namespace {

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid_registry_log_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Registry> OpenRegistry(std::unique_ptr<log::Log>* log) {
    auto l = log::Log::Open(dir_);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    *log = std::move(*l);
    auto store = LogStore::Open(log->get());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto reg = Registry::Open({}, std::move(*store));
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    return std::move(*reg);
  }

  std::string dir_;
};

constexpr const char* kV1 =
    R"({"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"})";
constexpr const char* kV2 =
    R"({"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":1}]}"})";

TEST_F(LogStoreTest, StateSurvivesReopen) {
  std::vector<std::string> probes = {"/subjects",
                                     "/subjects?deleted=true",
                                     "/subjects/x/versions",
                                     "/subjects/x/versions?deleted=true",
                                     "/schemas/ids/1",
                                     "/schemas/ids/2",
                                     "/config",
                                     "/config/x",
                                     "/subjects/y/versions/1"};
  std::vector<std::string> before;
  {
    std::unique_ptr<log::Log> log;
    auto reg = OpenRegistry(&log);
    EXPECT_EQ(reg->HandleTarget("POST", "/subjects/x/versions", kV1).body, R"({"id":1})");
    EXPECT_EQ(reg->HandleTarget("POST", "/subjects/x/versions", kV2).body, R"({"id":2})");
    EXPECT_EQ(reg->HandleTarget("POST", "/subjects/y/versions", kV2).body, R"({"id":2})");
    EXPECT_EQ(reg->HandleTarget("PUT", "/config", R"({"compatibility":"FULL"})").status, 200);
    EXPECT_EQ(reg->HandleTarget("PUT", "/config/x", R"({"compatibility":"NONE"})").status, 200);
    EXPECT_EQ(reg->HandleTarget("DELETE", "/subjects/x/versions/1").status, 200);
    for (const auto& p : probes) before.push_back(reg->HandleTarget("GET", p).body);
    auto info = log->DescribeTopic("_schemas");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->config.cleanup_policy, "compact");
    // Durable before the response: everything is fsynced already.
    auto p = log->GetPartition("_schemas", PartitionId(0));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p)->flushed_offset(), (*p)->log_end_offset());
  }
  std::unique_ptr<log::Log> log;
  auto reg = OpenRegistry(&log);
  for (size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(reg->HandleTarget("GET", probes[i]).body, before[i]) << probes[i];
  }
  EXPECT_EQ(reg->HandleTarget("POST", "/subjects/z/versions", R"({"schema":"\"int\""})").body,
            R"({"id":3})");
}

}  // namespace
}  // namespace braid::registry
