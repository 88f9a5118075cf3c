#include "registry/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "registry/registry.h"

namespace braid::registry {
namespace {

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid_registry_store_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<StoreRecord> ReadAll() {
    auto s = FileStore::Open(dir_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    std::vector<StoreRecord> out;
    EXPECT_TRUE((*s)->Replay([&](const StoreRecord& r) {
                      out.push_back(r);
                      return Status::OK();
                    })
                    .ok());
    return out;
  }

  std::string dir_;
};

TEST_F(FileStoreTest, AppendReplay) {
  {
    auto s = FileStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append({{"k1", "v1"}, {"k2", std::nullopt}}).ok());
    ASSERT_TRUE((*s)->Append({{"k3", std::string(100000, 'x')}}).ok());
  }
  std::vector<StoreRecord> got = ReadAll();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].key, "k1");
  EXPECT_EQ(*got[0].value, "v1");
  EXPECT_FALSE(got[1].value.has_value());
  EXPECT_EQ(got[2].value->size(), 100000u);
}

TEST_F(FileStoreTest, TornTailIsCutAndLaterAppendsSurvive) {
  {
    auto s = FileStore::Open(dir_);
    ASSERT_TRUE((*s)->Append({{"k1", "v1"}, {"k2", "v2"}}).ok());
  }
  const std::string path = dir_ + "/schemas.log";
  auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 3);  // a crash in the middle of k2
  {
    auto s = FileStore::Open(dir_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append({{"k3", "v3"}}).ok());
  }
  std::vector<StoreRecord> got = ReadAll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].key, "k1");
  EXPECT_EQ(got[1].key, "k3");
}

TEST_F(FileStoreTest, CorruptByteStopsReplay) {
  {
    auto s = FileStore::Open(dir_);
    ASSERT_TRUE((*s)->Append({{"k1", "v1"}}).ok());
    ASSERT_TRUE((*s)->Append({{"k2", "v2"}}).ok());
  }
  const std::string path = dir_ + "/schemas.log";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('Z');
  }
  std::vector<StoreRecord> got = ReadAll();
  ASSERT_EQ(got.size(), 1u);
  // Garbage of any kind never crashes the reader.
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << std::string("\xff\xff\xff\xff\x00\x00\x00\x00garbage", 15);
  }
  EXPECT_TRUE(ReadAll().empty());
}

TEST_F(FileStoreTest, RegistryOverFileStoreSurvivesReopen) {
  const std::string schema = R"({"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}"})";
  {
    auto store = FileStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    auto reg = Registry::Open({}, std::move(*store));
    ASSERT_TRUE(reg.ok());
    EXPECT_EQ((*reg)->HandleTarget("POST", "/subjects/x/versions", schema).body, R"({"id":1})");
    EXPECT_EQ((*reg)->HandleTarget("PUT", "/config/x", R"({"compatibility":"FULL"})").status, 200);
  }
  auto store = FileStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  auto reg = Registry::Open({}, std::move(*store));
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ((*reg)->HandleTarget("GET", "/subjects/x/versions").body, "[1]");
  EXPECT_EQ((*reg)->HandleTarget("GET", "/config/x").body, R"({"compatibilityLevel":"FULL"})");
}

}  // namespace
}  // namespace braid::registry
