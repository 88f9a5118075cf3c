// The Hadoop Streaming contract: escaping and base64 round trips, and
// `map | sort | reduce` equal to the local engine's output, for a word count
// (raw job) and for a view (cell lines).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>

#include "avro/binary.h"
#include "avro/container.h"
#include "base/coding.h"
#include "batch/engine.h"
#include "batch/outputs.h"
#include "batch/streaming.h"
#include "batch/view_job.h"
#include "braid/mapreduce.h"

namespace braid::batch {
namespace {

TEST(StreamingTest, EscapeAndBase64RoundTrip) {
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    const std::string e = EscapeField(s);
    EXPECT_EQ(e.find('\t'), std::string::npos);
    EXPECT_EQ(e.find('\n'), std::string::npos);
    EXPECT_EQ(UnescapeField(e).value(), s);
    EXPECT_EQ(Base64Decode(Base64Encode(s)).value(), s);
  }
  EXPECT_EQ(EscapeField("a\tb\\c\nd\x01"), "a\\tb\\\\c\\nd\\x01");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_FALSE(UnescapeField("a\\").ok());
  EXPECT_FALSE(UnescapeField("a\\x4").ok());
  EXPECT_FALSE(UnescapeField("a\\q").ok());
  EXPECT_FALSE(Base64Decode("Zm9=vYg=").ok());
  EXPECT_FALSE(ParseCellLine("k\tday\t12").ok());
  EXPECT_FALSE(ParseCellLine("k\tdays\t12\tAQE=").ok());
  auto c = ParseCellLine("a\\tb\tweek\t-5\tAQI=");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->key, "a\tb");
  EXPECT_EQ(c->granularity, views::Granularity::kWeek);
  EXPECT_EQ(c->bucket_start, -5);
  EXPECT_EQ(c->value, "\x01\x02");
}

class WordMapper final : public mr::Mapper {
 public:
  void Map(const mr::Record& r, mr::Context& ctx) override {
    std::istringstream in{std::string(r.data())};
    std::string w;
    while (in >> w) ctx.Emit(w, "1");
  }
};
class Sum final : public mr::Reducer {
 public:
  void Reduce(std::string_view key, mr::Values& values, mr::Context& ctx) override {
    int64_t n = 0;
    std::string_view v;
    while (values.Next(&v)) n += std::stoll(std::string(v));
    ctx.Emit(key, std::to_string(n));
  }
};
class WordCount final : public mr::Job {
 public:
  std::string name() const override { return "wordcount"; }
  std::unique_ptr<mr::Mapper> NewMapper() const override { return std::make_unique<WordMapper>(); }
  std::unique_ptr<mr::Reducer> NewCombiner() const override { return std::make_unique<Sum>(); }
  std::unique_ptr<mr::Reducer> NewReducer() const override { return std::make_unique<Sum>(); }
};

LineReader FromLines(const std::vector<std::string>* lines) {
  auto i = std::make_shared<size_t>(0);
  return [lines, i](std::string* line) -> Result<bool> {
    if (*i >= lines->size()) return false;
    *line = (*lines)[(*i)++];
    return true;
  };
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

class StreamingPipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("batch_streaming_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& n) const { return (dir_ / n).string(); }

  // The sorted lines of every part of a text output directory.
  std::vector<std::string> ReadParts(const std::string& dir) {
    std::vector<std::string> lines;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().filename().string().rfind("part-", 0) != 0) continue;
      auto text = io::ReadFileToString(io::DefaultFileSystem(), e.path().string()).value();
      for (auto& l : SplitLines(text)) lines.push_back(l);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  std::filesystem::path dir_;
};

TEST_F(StreamingPipeTest, WordCountPipeEqualsLocalEngine) {
  std::mt19937 rng(2);
  std::vector<std::string> input;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    for (int w = static_cast<int>(rng() % 9); w > 0; --w) {
      line += "w" + std::to_string(rng() % 700) + (rng() % 50 == 0 ? "\\x\t" : "") + " ";
    }
    input.push_back(line);
    text += line + "\n";
  }
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem(), Path("in.txt"), text).ok());
  // map | sort | reduce
  auto job = std::make_shared<WordCount>();
  std::string mapped;
  ASSERT_TRUE(MapJobLines(*job, FromLines(&input), [&](std::string_view s) {
                mapped.append(s);
                return Status::OK();
              }).ok());
  std::vector<std::string> sorted = SplitLines(mapped);
  std::sort(sorted.begin(), sorted.end());
  std::string reduced;
  ASSERT_TRUE(ReduceJobLines(*job, FromLines(&sorted), [&](std::string_view s) {
                reduced.append(s);
                return Status::OK();
              }).ok());
  std::vector<std::string> pipe = SplitLines(reduced);
  std::sort(pipe.begin(), pipe.end());
  // The local engine.
  JobOptions o;
  o.spill_dir = Path("spill");
  auto st =
      RunJob(FromMrJob(job), {Input::TextFiles({Path("in.txt")})},
             NewEscapedLinesOutput(NewTextOutput(io::DefaultFileSystem(), Path("out"))).get(), o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(ReadParts(Path("out")), pipe);
  EXPECT_GT(pipe.size(), 500u);
}

// A count view over the `page` field, at every granularity.
class PageView final : public views::ViewDefinition {
 public:
  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return topic_; }
  const std::vector<views::Granularity>& granularities() const override { return g_; }
  const views::Monoid& monoid() const override { return monoid_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  Status Map(const views::Event& e, std::vector<views::Emit>* out) const override {
    out->push_back({std::string(e.fields->GetString(0).value_or("")),
                    e.fields->GetTimestampMillis(1).value_or(0), views::CountMonoid::One()});
    return Status::OK();
  }
  std::string Fingerprint() const override { return "pv"; }

 private:
  std::string name_ = "pv", topic_ = "t";
  std::vector<views::Granularity> g_ = {views::Granularity::kHour, views::Granularity::kDay,
                                        views::Granularity::kWeek, views::Granularity::kMonth,
                                        views::Granularity::kAll};
  views::CountMonoid monoid_;
  std::vector<std::string> paths_ = {"page", "ts"};
};

TEST_F(StreamingPipeTest, ViewPipeEqualsLocalEngine) {
  auto schema = avro::ParseSchema(R"({"type": "record", "name": "E", "fields": [
      {"name": "page", "type": "string"},
      {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})")
                    .value();
  auto w = avro::ContainerWriter::Create(Path("e.avro"), schema).value();
  std::mt19937_64 rng(3);
  std::vector<std::string> bodies;
  for (int i = 0; i < 5000; ++i) {
    std::string rec;
    avro::Encoder e(&rec);
    e.WriteString("/p\t" + std::to_string(rng() % 80));
    e.WriteLong(1'706'000'000'000 + static_cast<int64_t>(rng() % (40LL * 86'400'000)));
    ASSERT_TRUE(w->AppendEncoded(rec).ok());
    bodies.push_back(rec);
  }
  ASSERT_TRUE(w->Close().ok());
  auto view = std::make_shared<PageView>();
  ViewLineMapper mapper(view);
  std::string mapped;
  for (const auto& b : bodies) {
    ASSERT_TRUE(mapper
                    .MapAvro(b, schema, -1,
                             [&](std::string_view s) {
                               mapped.append(s);
                               return Status::OK();
                             })
                    .ok());
  }
  std::vector<std::string> sorted = SplitLines(mapped);
  std::sort(sorted.begin(), sorted.end());
  std::string reduced;
  ASSERT_TRUE(ReduceViewLines(*view, FromLines(&sorted), [&](std::string_view s) {
                reduced.append(s);
                return Status::OK();
              }).ok());
  std::vector<std::string> pipe = SplitLines(reduced);
  // Local engine, with spills.
  auto vj = ViewJob::Create({view}).value();
  JobOptions o;
  o.spill_dir = Path("spill");
  o.memory_budget = 32 << 10;
  auto st =
      RunJob(vj->engine_job(), {Input::AvroFiles({Path("e.avro")})},
             NewCellLinesOutput(NewTextOutput(io::DefaultFileSystem(), Path("out"))).get(), o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(ReadParts(Path("out")), pipe);
  EXPECT_GT(pipe.size(), 80u * 40u);
}

}  // namespace
}  // namespace braid::batch
