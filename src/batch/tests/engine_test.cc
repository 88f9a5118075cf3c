// The MapReduce engine on raw jobs: word count over text (combiner, hash
// partitions, forced spills and multi-level merges with a tiny budget,
// results equal to a brute-force count), secondary sort, a Merger, Avro
// container input and output, determinism across thread counts, and
// failures (a corrupt block names the file and offset; cancellation).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <filesystem>
#include <map>
#include <random>

#include "avro/binary.h"
#include "avro/container.h"
#include "batch/engine.h"
#include "batch/outputs.h"
#include "braid/mapreduce.h"
#include "io/fault_injection_file_system.h"

namespace braid::batch {
namespace {

int64_t ParseInt(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

class SumReducer final : public mr::Reducer {
 public:
  void Reduce(std::string_view key, mr::Values& values, mr::Context& ctx) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) sum += ParseInt(v);
    ctx.Emit(key, std::to_string(sum));
  }
};

class WordMapper final : public mr::Mapper {
 public:
  void Map(const mr::Record& r, mr::Context& ctx) override {
    size_t i = 0;
    const std::string_view line = r.data();
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ') ++j;
      if (j > i) {
        ctx.Emit(line.substr(i, j - i), "1");
        ctx.Count("words");
      }
      i = j;
    }
  }
};

class WordCount final : public mr::Job {
 public:
  explicit WordCount(bool combine = true, uint32_t reducers = 0)
      : combine_(combine), reducers_(reducers) {}
  std::string name() const override { return "wordcount"; }
  std::unique_ptr<mr::Mapper> NewMapper() const override { return std::make_unique<WordMapper>(); }
  std::unique_ptr<mr::Reducer> NewCombiner() const override {
    return combine_ ? std::make_unique<SumReducer>() : nullptr;
  }
  std::unique_ptr<mr::Reducer> NewReducer() const override {
    return std::make_unique<SumReducer>();
  }
  uint32_t reduce_tasks() const override { return reducers_; }

 private:
  bool combine_;
  uint32_t reducers_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("batch_engine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `lines` text lines of random words from a small vocabulary;
  // returns the exact counts.
  std::map<std::string, int64_t> WriteText(const std::string& path, int lines, uint32_t seed) {
    std::mt19937 rng(seed);
    std::map<std::string, int64_t> counts;
    std::string text;
    for (int i = 0; i < lines; ++i) {
      const int words = static_cast<int>(rng() % 12);
      for (int w = 0; w < words; ++w) {
        std::string word = "w";
        word += std::to_string(rng() % 5000);
        ++counts[word];
        text += word;
        text += (w + 1 < words) ? " " : "";
      }
      text += (i % 7 == 0) ? "\r\n" : "\n";
    }
    EXPECT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), path, text).ok());
    return counts;
  }

  JobOptions Options() const {
    JobOptions o;
    o.spill_dir = Path("spill");
    o.threads = 2;
    return o;
  }

  std::filesystem::path dir_;
};

std::map<std::string, int64_t> AsCounts(
    const std::vector<std::pair<std::string, std::string>>& kv) {
  std::map<std::string, int64_t> m;
  for (const auto& [k, v] : kv) {
    EXPECT_EQ(m.count(k), 0u) << "key " << k << " output twice";
    m[k] = ParseInt(v);
  }
  return m;
}

TEST_F(EngineTest, WordCountEqualsBruteForce) {
  auto expected = WriteText(Path("a.txt"), 20000, 1);
  for (const auto& [k, v] : WriteText(Path("b.txt"), 5000, 2)) expected[k] += v;
  MemoryOutput out;
  JobOptions o = Options();
  o.text_split_bytes = 10000;  // many splits, lines cut across split borders
  auto st = RunJob(FromMrJob(std::make_shared<WordCount>()),
                   {Input::TextFiles({Path("a.txt"), Path("b.txt")})}, &out, o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(AsCounts(out.records()), expected);
  EXPECT_EQ(st->phase, "done");
  EXPECT_GT(st->splits_total, 10u);
  EXPECT_EQ(st->splits_done, st->splits_total);
  EXPECT_EQ(st->records_read, 25000u);
  int64_t words = 0;
  for (const auto& [k, v] : expected) words += v;
  EXPECT_EQ(st->counters.at("words"), words);
  EXPECT_EQ(st->output_records, expected.size());
  EXPECT_EQ(st->spill_files, 0u);  // fits the default budget
}

TEST_F(EngineTest, TinyBudgetSpillsAndMergesInSeveralPasses) {
  const auto expected = WriteText(Path("a.txt"), 30000, 3);
  for (bool combine : {true, false}) {
    MemoryOutput out;
    JobOptions o = Options();
    o.memory_budget = 64 << 10;  // 16 KiB per buffer: hundreds of runs
    o.merge_factor = 4;          // several merge passes
    o.text_split_bytes = 50000;
    o.task_bytes = 100000;
    auto st = RunJob(FromMrJob(std::make_shared<WordCount>(combine, 3)),
                     {Input::TextFiles({Path("a.txt")})}, &out, o);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(AsCounts(out.records()), expected) << "combine " << combine;
    EXPECT_GT(st->spill_files, 20u);
    EXPECT_GT(st->spilled_bytes, 0u);
    EXPECT_EQ(st->reduce_tasks, 3u);
    // Spill files are gone.
    EXPECT_TRUE(std::filesystem::is_empty(Path("spill")));
  }
}

TEST_F(EngineTest, OutputIsDeterministicAcrossThreadCounts) {
  WriteText(Path("a.txt"), 20000, 4);
  std::string first;
  for (int threads : {1, 2, 4}) {
    JobOptions o = Options();
    o.threads = threads;
    o.memory_budget = 256 << 10;
    o.text_split_bytes = 20000;
    o.task_bytes = 40000;
    auto out = NewTextOutput(io::DefaultFileSystem(), Path("out" + std::to_string(threads)));
    auto st = RunJob(FromMrJob(std::make_shared<WordCount>(true, 2)),
                     {Input::TextFiles({Path("a.txt")})}, out.get(), o);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::string all;
    for (const char* part : {"part-r-00000", "part-r-00001"}) {
      auto text = io::ReadFileToString(io::DefaultFileSystem(),
                                       Path("out" + std::to_string(threads) + "/" + part));
      ASSERT_TRUE(text.ok()) << text.status().ToString();
      all += *text;
    }
    EXPECT_TRUE(std::filesystem::exists(Path("out" + std::to_string(threads) + "/_SUCCESS")));
    if (first.empty()) {
      first = all;
    } else {
      EXPECT_EQ(all, first) << threads << " threads";
    }
  }
}

// Secondary sort: events (user, time) emitted in random order reach the
// reducer ordered by time; the reducer checks and outputs the sequence.
class SessionMapper final : public mr::Mapper {
 public:
  void Map(const mr::Record& r, mr::Context& ctx) override {
    const std::string_view data = r.data();
    const size_t sp = data.find(' ');
    std::string_view user = data.substr(0, sp);
    std::string_view t = data.substr(sp + 1);
    std::string sort(10 - std::min<size_t>(10, t.size()), '0');  // zero-padded: bytewise = numeric
    sort += t;
    ctx.Emit(user, sort, t);
  }
};
class SessionReducer final : public mr::Reducer {
 public:
  void Reduce(std::string_view key, mr::Values& values, mr::Context& ctx) override {
    std::string seq;
    std::string_view v, s;
    std::string prev_copy;
    while (values.Next(&v, &s)) {
      if (!prev_copy.empty() && std::string_view(prev_copy) > s) {
        return ctx.Fail("values out of sort order");
      }
      prev_copy.assign(s);
      if (!seq.empty()) seq += ",";
      seq += v;
    }
    ctx.Emit(key, seq);
  }
};
class SessionJob final : public mr::Job {
 public:
  std::string name() const override { return "sessions"; }
  std::unique_ptr<mr::Mapper> NewMapper() const override {
    return std::make_unique<SessionMapper>();
  }
  std::unique_ptr<mr::Reducer> NewReducer() const override {
    return std::make_unique<SessionReducer>();
  }
};

TEST_F(EngineTest, SecondarySortOrdersValues) {
  std::mt19937 rng(5);
  std::map<std::string, std::vector<int>> expected;
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    std::string user = "u";
    user += std::to_string(rng() % 300);
    const int t = static_cast<int>(rng() % 1000000);
    expected[user].push_back(t);
    text += user + " " + std::to_string(t) + "\n";
  }
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), Path("s.txt"), text).ok());
  MemoryOutput out;
  JobOptions o = Options();
  o.memory_budget = 32 << 10;
  o.merge_factor = 3;
  o.text_split_bytes = 8000;
  auto st = RunJob(FromMrJob(std::make_shared<SessionJob>()), {Input::TextFiles({Path("s.txt")})},
                   &out, o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(out.records().size(), expected.size());
  for (const auto& [user, seq] : out.records()) {
    std::vector<int> times = expected[user];
    std::stable_sort(times.begin(), times.end());
    std::string want;
    for (int t : times) want += (want.empty() ? "" : ",") + std::to_string(t);
    EXPECT_EQ(seq, want) << user;
  }
}

// A Merger: integer sums merged in the map buffer's hash table.
class SumMerger final : public mr::Merger {
 public:
  bool Merge(std::string_view, std::string* acc, std::string_view v, std::string*) const override {
    *acc = std::to_string(ParseInt(*acc) + ParseInt(v));
    return true;
  }
};
class MergedWordCount final : public mr::Job {
 public:
  std::string name() const override { return "wc-merger"; }
  std::unique_ptr<mr::Mapper> NewMapper() const override { return std::make_unique<WordMapper>(); }
  const mr::Merger* merger() const override { return &merger_; }
  std::unique_ptr<mr::Reducer> NewReducer() const override {
    return std::make_unique<SumReducer>();
  }

 private:
  SumMerger merger_;
};

TEST_F(EngineTest, MergerCombinesInHashTable) {
  const auto expected = WriteText(Path("a.txt"), 20000, 6);
  for (uint64_t budget : {uint64_t{256} << 20, uint64_t{64} << 10}) {
    MemoryOutput out;
    JobOptions o = Options();
    o.memory_budget = budget;
    o.merge_factor = 5;
    o.text_split_bytes = 30000;
    auto st = RunJob(FromMrJob(std::make_shared<MergedWordCount>()),
                     {Input::TextFiles({Path("a.txt")})}, &out, o);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(AsCounts(out.records()), expected) << "budget " << budget;
    // The reducer saw at most one value per key and run.
    EXPECT_LE(st->reduce_input_records, expected.size() * (st->runs + 1));
  }
}

// Avro container input: one big file, many blocks, both workers busy; the
// fields of Job::paths() reach the mapper.
class PageMapper final : public mr::Mapper {
 public:
  void Map(const mr::Record& r, mr::Context& ctx) override {
    auto page = r.GetString(0);
    if (!page) return ctx.Fail("no page");
    ctx.Emit(*page, "1");
  }
};
class PageCount final : public mr::Job {
 public:
  std::string name() const override { return "pages"; }
  std::vector<std::string> paths() const override { return {"page"}; }
  std::unique_ptr<mr::Mapper> NewMapper() const override { return std::make_unique<PageMapper>(); }
  std::unique_ptr<mr::Reducer> NewCombiner() const override {
    return std::make_unique<SumReducer>();
  }
  std::unique_ptr<mr::Reducer> NewReducer() const override {
    return std::make_unique<SumReducer>();
  }
  std::string output_schema() const override { return ""; }
};

const char* kPageSchema = R"({"type": "record", "name": "P", "fields": [
    {"name": "id", "type": "long"}, {"name": "page", "type": "string"}]})";

std::map<std::string, int64_t> WriteAvro(const std::string& path, int records, const char* codec) {
  auto schema = avro::ParseSchema(kPageSchema).value();
  avro::WriterOptions wo;
  wo.codec = codec;
  wo.block_size_bytes = 2000;
  auto w = avro::ContainerWriter::Create(path, schema, wo).value();
  std::map<std::string, int64_t> counts;
  std::string rec;
  for (int i = 0; i < records; ++i) {
    rec.clear();
    avro::Encoder e(&rec);
    e.WriteLong(i);
    const std::string page = "/p/" + std::to_string((i * 7919) % 701);
    e.WriteString(page);
    ++counts[page];
    EXPECT_TRUE(w->AppendEncoded(rec).ok());
  }
  EXPECT_TRUE(w->Close().ok());
  return counts;
}

TEST_F(EngineTest, AvroInputSplitsByBlock) {
  const auto expected = WriteAvro(Path("p.avro"), 50000, "snappy");
  MemoryOutput out;
  JobOptions o = Options();
  o.task_bytes = 20000;
  auto st = RunJob(FromMrJob(std::make_shared<PageCount>()), {Input::AvroFiles({Path("p.avro")})},
                   &out, o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(AsCounts(out.records()), expected);
  EXPECT_GT(st->splits_total, 100u);  // one split per block
  EXPECT_EQ(st->records_read, 50000u);
}

TEST_F(EngineTest, AvroOutputReadsBack) {
  WriteAvro(Path("p.avro"), 3000, "null");
  auto out = NewAvroOutput(io::DefaultFileSystem(), Path("out"), "", "snappy");
  ASSERT_TRUE(out.ok());
  auto st = RunJob(FromMrJob(std::make_shared<PageCount>()), {Input::AvroFiles({Path("p.avro")})},
                   out->get(), Options());
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  int64_t total = 0;
  for (const char* part : {"part-r-00000.avro", "part-r-00001.avro"}) {
    auto r = avro::ContainerReader::Open(Path(std::string("out/") + part)).value();
    avro::Datum d;
    for (;;) {
      auto more = r->Next(&d);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
      total += ParseInt(d.field(1).bytes());
    }
  }
  EXPECT_EQ(total, 3000);
}

TEST_F(EngineTest, CorruptBlockFailsNamingFileAndOffset) {
  WriteAvro(Path("p.avro"), 20000, "null");
  auto info = avro::ContainerReader::Open(Path("p.avro")).value()->ListBlocks().value();
  ASSERT_GT(info.size(), 10u);
  // Flip a byte inside the data of a block in the middle of the file.
  const avro::BlockInfo& bad = info[info.size() / 2];
  {
    std::string bytes = io::ReadFileToString(io::DefaultFileSystem(), Path("p.avro")).value();
    bytes[bad.data_offset + 3] = '\x7f';
    bytes[bad.data_offset + 4] = '\x7f';
    ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), Path("p.avro"), bytes).ok());
  }
  MemoryOutput out;
  auto st = RunJob(FromMrJob(std::make_shared<PageCount>()), {Input::AvroFiles({Path("p.avro")})},
                   &out, Options());
  ASSERT_FALSE(st.ok());
  const std::string msg = st.status().ToString();
  EXPECT_NE(msg.find(Path("p.avro")), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset " + std::to_string(bad.offset)), std::string::npos) << msg;
  EXPECT_TRUE(out.records().empty());
  EXPECT_TRUE(std::filesystem::is_empty(Path("spill")));
}

TEST_F(EngineTest, SpillOnFullDiskFailsCleanly) {
  WriteText(Path("a.txt"), 20000, 7);
  io::FaultInjectionFileSystem fs(io::DefaultFileSystem());
  fs.FailNthAppend(5);  // a spill write fails
  JobOptions o = Options();
  o.fs = &fs;
  o.memory_budget = 16 << 10;
  auto out = NewTextOutput(&fs, Path("out"));
  auto st = RunJob(FromMrJob(std::make_shared<WordCount>()), {Input::TextFiles({Path("a.txt")})},
                   out.get(), o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().ToString().find("spill"), std::string::npos) << st.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(Path("out/_SUCCESS")));
  EXPECT_TRUE(std::filesystem::is_empty(Path("spill")));
}

TEST_F(EngineTest, CancelStopsTheJob) {
  WriteText(Path("a.txt"), 50000, 8);
  std::atomic<bool> cancel{false};
  JobOptions o = Options();
  o.cancel = &cancel;
  o.text_split_bytes = 5000;
  o.progress_interval_ms = 10;
  o.progress = [&](const JobStatus& s) {
    if (s.splits_done > 2) cancel = true;
  };
  MemoryOutput out;
  auto st = RunJob(FromMrJob(std::make_shared<WordCount>()), {Input::TextFiles({Path("a.txt")})},
                   &out, o);
  // Either cancelled mid-way or (on a fast machine) done before the first
  // report; a cancelled job has no output.
  if (!st.ok()) {
    EXPECT_EQ(st.status().code(), StatusCode::kAborted) << st.status().ToString();
    EXPECT_TRUE(out.records().empty());
  }
}

TEST_F(EngineTest, MapperErrorNamesTheRecord) {
  WriteAvro(Path("p.avro"), 1000, "null");
  class Bad final : public mr::Job {
   public:
    std::string name() const override { return "bad"; }
    std::unique_ptr<mr::Mapper> NewMapper() const override {
      class M final : public mr::Mapper {
       public:
        void Map(const mr::Record&, mr::Context& ctx) override {
          if (++n_ == 500) ctx.Fail("boom");
        }
        int n_ = 0;
      };
      return std::make_unique<M>();
    }
    std::unique_ptr<mr::Reducer> NewReducer() const override {
      return std::make_unique<SumReducer>();
    }
  };
  MemoryOutput out;
  JobOptions o = Options();
  o.threads = 1;
  auto st =
      RunJob(FromMrJob(std::make_shared<Bad>()), {Input::AvroFiles({Path("p.avro")})}, &out, o);
  ASSERT_FALSE(st.ok());
  const std::string msg = st.status().ToString();
  EXPECT_NE(msg.find("record 499"), std::string::npos) << msg;
  EXPECT_NE(msg.find("boom"), std::string::npos) << msg;
  EXPECT_NE(msg.find(Path("p.avro")), std::string::npos) << msg;
}

}  // namespace
}  // namespace braid::batch
