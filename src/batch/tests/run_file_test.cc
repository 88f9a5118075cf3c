// Sorted runs: round trips in memory and on disk (partitions, seeks to a
// key), order checks, and damaged run files (every truncation and a flipped
// byte in every block give Corruption naming the file, never a crash).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "batch/api.h"
#include "batch/run_file.h"
#include "batch/view_store.h"

namespace braid::batch {
namespace {

std::string Key(int i) {
  char b[16];
  std::snprintf(b, sizeof(b), "k%06d", i);
  return b;
}

class RunFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("batch_run_file_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // 3 partitions x 3000 keys, values of varying size.
  Result<std::shared_ptr<const ::braid::batch::Run>> Write(std::unique_ptr<RunWriter> w) {
    for (uint32_t p = 0; p < 3; ++p) {
      for (int i = 0; i < 3000; ++i) {
        RETURN_IF_ERROR(w->Add(p, Key(i), i % 7 == 0 ? "s" : "", std::string(i % 50, 'v')));
      }
    }
    return w->Finish();
  }
  void Check(const ::braid::batch::Run& run) {
    EXPECT_EQ(run.entries(), 9000u);
    for (uint32_t p = 0; p < 3; ++p) {
      auto c = run.Open(p).value();
      int n = 0;
      while (c->Valid()) {
        ASSERT_EQ(c->key(), Key(n));
        ASSERT_EQ(c->value().size(), static_cast<size_t>(n % 50));
        ++n;
        ASSERT_TRUE(c->Next().ok());
      }
      EXPECT_EQ(n, 3000);
      auto from = run.Open(p, Key(1234)).value();
      ASSERT_TRUE(from->Valid());
      EXPECT_EQ(from->key(), Key(1234));
    }
    EXPECT_FALSE(run.Open(7).value()->Valid());
  }
  std::string dir_;
};

TEST_F(RunFileTest, RoundTripsInMemoryAndOnDisk) {
  RunOptions o;
  o.block_bytes = 1000;  // many blocks
  auto mem = Write(RunWriter::ToMemory(o)).value();
  Check(*mem);
  EXPECT_FALSE(mem->on_disk());
  const std::string path = dir_ + "/r.run";
  auto disk = Write(RunWriter::ToFile(io::DefaultFileSystem(), path, o).value()).value();
  EXPECT_TRUE(disk->on_disk());
  EXPECT_GT(disk->index().size(), 30u);
  Check(*disk);
  auto reopened = ::braid::batch::Run::OpenFile(io::DefaultFileSystem(), path).value();
  Check(*reopened);
  disk.reset();  // a run deletes its file
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Many values of one key (secondary sort keys) spanning blocks: a seek to
// that key starts at its first value, not at the first block that begins
// with it (a reduce task's range starting at a sessionised view's key).
TEST_F(RunFileTest, SeekToAKeyWhoseValuesSpanBlocks) {
  RunOptions o;
  o.block_bytes = 200;
  for (bool disk : {false, true}) {
    auto w = disk ? RunWriter::ToFile(io::DefaultFileSystem(), dir_ + "/span.run", o).value()
                  : RunWriter::ToMemory(o);
    ASSERT_TRUE(w->Add(0, "a", "", "x").ok());
    for (int i = 0; i < 100; ++i) {
      char sk[8];
      std::snprintf(sk, sizeof(sk), "%04d", i);
      ASSERT_TRUE(w->Add(0, "b", sk, std::string(20, 'v')).ok());
    }
    ASSERT_TRUE(w->Add(0, "c", "", "x").ok());
    auto run = w->Finish().value();
    // Blocks start inside b's values, some with first key "b".
    int b_blocks = 0;
    for (const auto& ix : run->index()) b_blocks += ix.first_key == "b";
    ASSERT_GT(b_blocks, 3);
    auto c = run->Open(0, "b").value();
    int n = 0;
    while (c->Valid() && c->key() == "b") {
      char sk[8];
      std::snprintf(sk, sizeof(sk), "%04d", n);
      ASSERT_EQ(c->sort_key(), sk);
      ++n;
      ASSERT_TRUE(c->Next().ok());
    }
    EXPECT_EQ(n, 100);
    ASSERT_TRUE(c->Valid());
    EXPECT_EQ(c->key(), "c");
  }
}

TEST_F(RunFileTest, RefusesEntriesOutOfOrder) {
  auto w = RunWriter::ToMemory();
  ASSERT_TRUE(w->Add(1, "b", "", "x").ok());
  EXPECT_TRUE(w->Add(1, "a", "", "x").IsInvalidArgument());
  EXPECT_TRUE(w->Add(0, "z", "", "x").IsInvalidArgument());
}

TEST_F(RunFileTest, DamagedFilesAreCorruptionNotCrashes) {
  RunOptions o;
  o.block_bytes = 2000;
  const std::string path = dir_ + "/r.run";
  {
    auto w = RunWriter::ToFile(io::DefaultFileSystem(), path, o).value();
    ASSERT_TRUE(Write(std::move(w)).ok());
  }
  // (the run deleted its file when it went: write it again and keep a copy)
  auto w = RunWriter::ToFile(io::DefaultFileSystem(), path, o).value();
  auto run = Write(std::move(w)).value();
  const std::string good = io::ReadFileToString(io::DefaultFileSystem(), path).value();
  std::mt19937 rng(1);
  auto read_all = [&](const std::string& bytes) -> Status {
    const std::string p = dir_ + "/bad.run";
    RETURN_IF_ERROR(io::WriteFileAtomically(io::DefaultFileSystem(), p, bytes));
    auto r = ::braid::batch::Run::OpenFile(io::DefaultFileSystem(), p);
    RETURN_IF_ERROR(r.status());
    for (uint32_t part = 0; part < 3; ++part) {
      ASSIGN_OR_RETURN(auto c, (*r)->Open(part));
      while (c->Valid()) RETURN_IF_ERROR(c->Next());
    }
    return Status::OK();
  };
  for (size_t cut = 0; cut < good.size(); cut += 1 + good.size() / 200) {
    Status s = read_all(good.substr(0, cut));
    EXPECT_TRUE(s.IsCorruption()) << cut << ": " << s.ToString();
  }
  int detected = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = good;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Status s = read_all(bad);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.ToString().find("bad.run"), std::string::npos) << s.ToString();
      ++detected;
    }
  }
  EXPECT_EQ(detected, 300);  // every block and the index are checksummed
}

TEST(VersionManifestTest, RoundTripAndChecksum) {
  VersionManifest m;
  m.view = "pv";
  m.version = 7;
  m.fingerprint = "abc";
  m.monoid = "hll(p=14)";
  m.granularities = {views::Granularity::kHour, views::Granularity::kAll};
  m.topic = "t";
  m.cuts["t"].offsets[PartitionId(0)] = Offset(12);
  m.cuts["t"].offsets[PartitionId(3)] = Offset(5);
  m.records = 17;
  m.cells = 4;
  const std::string text = EncodeVersionManifest(m);
  auto back = DecodeVersionManifest(text).value();
  EXPECT_EQ(EncodeVersionManifest(back), text);
  EXPECT_EQ(back.cuts.at("t"), m.cuts.at("t"));
  std::string bad = text;
  bad[bad.find("\"cells\":4") + 8] = '5';
  EXPECT_TRUE(DecodeVersionManifest(bad).status().IsCorruption());
  EXPECT_TRUE(DecodeVersionManifest("{").status().IsCorruption());
  EXPECT_TRUE(DecodeVersionManifest("[]").status().IsCorruption());
}

TEST(BatchApiTest, ParseAndFormatTimes) {
  EXPECT_EQ(ParseTime("1709164800000").value(), 1709164800000);
  EXPECT_EQ(ParseTime("-5").value(), -5);
  EXPECT_EQ(ParseTime("2024-02-29").value(), 1709164800000);
  EXPECT_EQ(ParseTime("2024-02-29T13:00:00Z").value(), 1709164800000 + 13 * 3600000);
  EXPECT_EQ(ParseTime("2024-02-29T13:00:00.250Z").value(), 1709164800000 + 13 * 3600000 + 250);
  EXPECT_EQ(ParseTime("2024-02-29T13").value(), 1709164800000 + 13 * 3600000);
  for (const char* bad : {"", "2024-13-01", "2024-02-29X", "2024-02-29T25:00", "x", "2024-2-1"}) {
    EXPECT_TRUE(ParseTime(bad).status().IsInvalidArgument()) << bad;
  }
  EXPECT_EQ(FormatTime(1709164800000 + 13 * 3600000), "2024-02-29T13:00:00Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(views::kAllTimeStart), "all");
}

}  // namespace
}  // namespace braid::batch
