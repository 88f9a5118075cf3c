#include "avro/container.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "avro/binary.h"
#include "avro/json.h"
#include "base/coding.h"
#include "io/memory_file_system.h"

namespace braid::avro {
namespace {

std::string TestData(const std::string& rel) {
  const char* root = std::getenv("BRAID_TESTDATA");
  return std::string(root ? root : "/work/shared/testdata") + "/avro/" + rel;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Reads every record of a file as JSON text (compact Avro JSON encoding).
Result<std::vector<std::string>> ReadAllJson(ContainerReader* r) {
  std::vector<std::string> out;
  Datum d;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, r->Next(&d));
    if (!more) break;
    ASSIGN_OR_RETURN(std::string j, EncodeJson(r->schema(), d));
    out.push_back(std::move(j));
  }
  return out;
}

Json ParseJson(const std::string& s) { return Json::parse(s); }

constexpr const char* kTestSchema = R"({
  "type": "record", "name": "T", "namespace": "braid.test",
  "fields": [
    {"name": "id", "type": "long"},
    {"name": "name", "type": "string"},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "opt", "type": ["null", "double"]}
  ]})";

Schema TestSchema() {
  auto s = ParseSchema(std::string_view(kTestSchema));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

Datum TestRecord(const Schema& schema, int64_t id) {
  std::vector<Datum> tags;
  for (int64_t i = 0; i < id % 4; ++i)
    tags.push_back(Datum::String(std::string("t").append(std::to_string(i))));
  Datum opt = id % 3 == 0 ? Datum::Union(0, Datum::Null())
                          : Datum::Union(1, Datum::Double(static_cast<double>(id) / 2));
  return Datum::Record(
      schema.root(),
      {Datum::Long(id), Datum::String(std::string("name-").append(std::to_string(id * 7919))),
       Datum::Array(std::move(tags)), std::move(opt)});
}

// Writes `n` test records into memory and returns the file bytes.
std::string WriteTestFile(io::MemoryFileSystem* fs, const std::string& path, int64_t n,
                          WriterOptions opts) {
  opts.fs = fs;
  Schema schema = TestSchema();
  auto w = ContainerWriter::Create(path, schema, opts);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  for (int64_t i = 0; i < n; ++i) EXPECT_TRUE((*w)->Append(TestRecord(schema, i)).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return *fs->ReadRaw(path);
}

std::vector<int64_t> ReadIds(ContainerReader* r) {
  std::vector<int64_t> ids;
  Datum d;
  for (;;) {
    auto more = r->Next(&d);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    ids.push_back(d.field(0).long_value());
  }
  return ids;
}

// The same, from the raw record bytes (the id is the record's first field).
std::vector<int64_t> ReadIdsFast(ContainerReader* r) {
  std::vector<int64_t> ids;
  std::string_view rec;
  for (;;) {
    auto more = r->NextRecordBytes(&rec);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    Decoder dec(rec);
    int64_t id = -1;
    EXPECT_TRUE(dec.ReadLong(&id).ok());
    ids.push_back(id);
  }
  return ids;
}

// ---------------------------------------------------------------------------
// The Avro project's reference files.

class WeatherFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(WeatherFileTest, DecodesToWeatherJson) {
  auto r = ContainerReader::Open(TestData(std::string("data/") + GetParam()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->schema().root().fullname(), "test.Weather");
  auto got = ReadAllJson(r->get());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<std::string> want = Lines(Slurp(TestData("data/weather.json")));
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(ParseJson((*got)[i]), ParseJson(want[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, WeatherFileTest,
                         ::testing::Values("weather.avro", "weather-deflate.avro",
                                           "weather-snappy.avro", "weather-zstd.avro"));

TEST(ReferenceFileTest, WeatherCodecsAreAsNamed) {
  std::map<std::string, CodecKind> want = {{"weather.avro", CodecKind::kNull},
                                           {"weather-deflate.avro", CodecKind::kDeflate},
                                           {"weather-snappy.avro", CodecKind::kSnappy},
                                           {"weather-zstd.avro", CodecKind::kZstandard}};
  for (const auto& [file, codec] : want) {
    auto r = ContainerReader::Open(TestData("data/" + file));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->header().codec, codec) << file;
  }
}

TEST(ReferenceFileTest, WeatherSortedIsAscendingByTime) {
  auto r = ContainerReader::Open(TestData("data/weather-sorted.avro"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Datum d;
  std::vector<int64_t> times;
  while (*(*r)->Next(&d)) times.push_back(d.FindField("time")->long_value());
  ASSERT_EQ(times.size(), 5u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
}

TEST(ReferenceFileTest, SyncInMetaReadsEveryRecord) {
  auto r = ContainerReader::Open(TestData("data/syncInMeta.avro"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_NE((*r)->header().FindMetadata("avro.sync"), nullptr);
  int64_t n = 0;
  Datum d;
  for (;;) {
    auto more = (*r)->Next(&d);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++n;
  }
  EXPECT_EQ(n, 6001);
  auto blocks = (*r)->ListBlocks();
  ASSERT_TRUE(blocks.ok());
  int64_t total = 0;
  for (const auto& b : *blocks) total += b.record_count;
  EXPECT_EQ(total, 6001);
  EXPECT_EQ(blocks->size(), 12u);
  EXPECT_EQ((*blocks)[0].offset, (*r)->header().size);
}

TEST(ReferenceFileTest, SyncInMetaSplitsReadEachRecordOnce) {
  auto r = ContainerReader::Open(TestData("data/syncInMeta.avro"));
  ASSERT_TRUE(r.ok());
  uint64_t size = (*r)->file_size();
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::set<uint64_t> cuts = {0, size};
    for (int i = 0; i < 6; ++i) cuts.insert(rng() % size);
    int64_t n = 0;
    for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
      ASSERT_TRUE((*r)->SetRange(*it, *std::next(it)).ok());
      std::string_view rec;
      for (;;) {
        auto more = (*r)->NextRecordBytes(&rec);
        ASSERT_TRUE(more.ok()) << more.status().ToString();
        if (!*more) break;
        ++n;
      }
    }
    EXPECT_EQ(n, 6001) << "trial " << trial;
  }
}

TEST(ReferenceFileTest, Avro12FileIsRejectedAsBadMagic) {
  auto r = ContainerReader::Open(TestData("data/test.avro12"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("bad magic"), std::string_view::npos);
  EXPECT_NE(r.status().message().find("at offset 0"), std::string_view::npos);
}

class SchemaFolderTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SchemaFolderTest, ReadRewriteEveryCodecReread) {
  std::string dir = TestData(std::string("data/schemas/") + GetParam());
  auto expected_schema = ParseSchema(std::string_view(Slurp(dir + "/schema.json")));
  ASSERT_TRUE(expected_schema.ok());
  auto r = ContainerReader::Open(dir + "/data.avro");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->schema().SameCanonicalForm(*expected_schema));
  std::vector<Datum> records;
  Datum d;
  for (;;) {
    auto more = (*r)->Next(&d);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    records.push_back(d);
  }
  EXPECT_EQ(records.size(), 3u);
  for (const char* codec : {"null", "deflate", "snappy", "zstandard", "bzip2", "xz", "lzma"}) {
    io::MemoryFileSystem fs;
    WriterOptions wo;
    wo.fs = &fs;
    wo.codec = codec;
    auto w = ContainerWriter::Create("/f.avro", (*r)->schema(), wo);
    ASSERT_TRUE(w.ok());
    for (const Datum& rec : records) ASSERT_TRUE((*w)->Append(rec).ok());
    ASSERT_TRUE((*w)->Close().ok());
    ReaderOptions ro;
    ro.fs = &fs;
    auto r2 = ContainerReader::Open("/f.avro", ro);
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
    std::vector<Datum> again;
    while (*(*r2)->Next(&d)) again.push_back(d);
    EXPECT_EQ(again, records) << codec;
  }
}

INSTANTIATE_TEST_SUITE_P(Folders, SchemaFolderTest, ::testing::Values("simple", "withUnion"));

// ---------------------------------------------------------------------------
// Writer, reader, append, splits.

class ContainerCodecTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ContainerCodecTest, RoundTripsManyBlocks) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.codec = GetParam();
  wo.block_size_bytes = 2000;
  wo.metadata = {{"user_metadata", std::string("some\0bytes", 10)}};
  std::string bytes = WriteTestFile(&fs, "/t.avro", 3000, wo);
  ReaderOptions ro;
  ro.fs = &fs;
  auto r = ContainerReader::Open("/t.avro", ro);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->header().codec, *ParseCodecName(GetParam()));
  ASSERT_NE((*r)->header().FindMetadata("user_metadata"), nullptr);
  EXPECT_EQ(*(*r)->header().FindMetadata("user_metadata"), std::string("some\0bytes", 10));
  Schema schema = TestSchema();
  Datum d;
  for (int64_t i = 0; i < 3000; ++i) {
    auto more = (*r)->Next(&d);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    ASSERT_TRUE(*more);
    ASSERT_EQ(d, TestRecord(schema, i));
  }
  EXPECT_FALSE(*(*r)->Next(&d));
  auto blocks = (*r)->ListBlocks();
  ASSERT_TRUE(blocks.ok());
  EXPECT_GT(blocks->size(), 10u);
  int64_t total = 0;
  uint64_t at = (*r)->header().size;
  for (const auto& b : *blocks) {
    EXPECT_EQ(b.offset, at);
    at = b.end();
    total += b.record_count;
  }
  EXPECT_EQ(at, bytes.size());
  EXPECT_EQ(total, 3000);
}

TEST_P(ContainerCodecTest, RecordBytesMatchBinaryEncoding) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.codec = GetParam();
  wo.records_per_block = 7;
  std::string bytes = WriteTestFile(&fs, "/t.avro", 50, wo);
  auto r = ContainerReader::OpenBuffer(bytes);
  ASSERT_TRUE(r.ok());
  Schema schema = TestSchema();
  std::string_view rec;
  for (int64_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(*(*r)->NextRecordBytes(&rec));
    EXPECT_EQ(std::string(rec), *EncodeBinary(schema, TestRecord(schema, i)));
    EXPECT_LE((*r)->current_block().record_count, 7);
  }
  EXPECT_FALSE(*(*r)->NextRecordBytes(&rec));
}

INSTANTIATE_TEST_SUITE_P(Codecs, ContainerCodecTest,
                         ::testing::Values("null", "deflate", "snappy", "zstandard", "bzip2", "xz",
                                           "lzma"));

TEST(ContainerWriterTest, EmptyFileIsValid) {
  io::MemoryFileSystem fs;
  std::string bytes = WriteTestFile(&fs, "/e.avro", 0, {});
  auto r = ContainerReader::OpenBuffer(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->header().size, bytes.size());
  Datum d;
  EXPECT_FALSE(*(*r)->Next(&d));
}

TEST(ContainerWriterTest, ReservedMetadataKeyIsRejected) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.fs = &fs;
  wo.metadata = {{"avro.codec", "null"}};
  auto w = ContainerWriter::Create("/x.avro", TestSchema(), wo);
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
}

TEST(ContainerWriterTest, UnknownCodecIsRejected) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.fs = &fs;
  wo.codec = "lz4";
  auto w = ContainerWriter::Create("/x.avro", TestSchema(), wo);
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
}

TEST(ContainerWriterTest, InvalidDatumIsRejectedAndNothingWritten) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.fs = &fs;
  Schema schema = TestSchema();
  auto w = ContainerWriter::Create("/x.avro", schema, wo);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE((*w)->Append(Datum::Long(5)).ok());
  ASSERT_TRUE((*w)->Append(TestRecord(schema, 1)).ok());
  ASSERT_TRUE((*w)->Close().ok());
  std::string raw = *fs.ReadRaw("/x.avro");
  auto r = ContainerReader::OpenBuffer(raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadIds(r->get()), std::vector<int64_t>{1});
}

TEST(ContainerWriterTest, FixedSyncMarkerIsUsed) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  SyncMarker m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<char>(i * 3 + 1);
  wo.sync_marker = m;
  std::string bytes = WriteTestFile(&fs, "/s.avro", 3, wo);
  EXPECT_EQ(bytes.substr(bytes.size() - 16), std::string(m.data(), 16));
  auto r = ContainerReader::OpenBuffer(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->header().sync, m);
  EXPECT_NE(NewSyncMarker(), NewSyncMarker());
}

TEST(ContainerWriterTest, CloseSyncsAndFlushIsVisibleButNotDurable) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.fs = &fs;
  Schema schema = TestSchema();
  auto w = ContainerWriter::Create("/d.avro", schema, wo);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE((*w)->Append(TestRecord(schema, 0)).ok());
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Append(TestRecord(schema, 1)).ok());
  ASSERT_TRUE((*w)->Flush().ok());
  {
    std::string raw = *fs.ReadRaw("/d.avro");
    auto r = ContainerReader::OpenBuffer(raw);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(ReadIds(r->get()).size(), 2u);
  }
  fs.SimulateCrash();
  std::string raw = *fs.ReadRaw("/d.avro");
  auto r = ContainerReader::OpenBuffer(raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadIds(r->get()), std::vector<int64_t>{0});
}

TEST(ContainerWriterTest, AppendReusesHeader) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.codec = "snappy";
  wo.metadata = {{"k", "v"}};
  std::string first = WriteTestFile(&fs, "/a.avro", 10, wo);
  auto r0 = ContainerReader::OpenBuffer(first);
  ASSERT_TRUE(r0.ok());
  SyncMarker sync = (*r0)->header().sync;

  WriterOptions ao;
  ao.fs = &fs;
  ao.codec = "null";  // ignored: the file's codec is kept
  auto w = ContainerWriter::OpenForAppend("/a.avro", ao);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->sync_marker(), sync);
  Schema schema = TestSchema();
  for (int64_t i = 10; i < 15; ++i) ASSERT_TRUE((*w)->Append(TestRecord(schema, i)).ok());
  ASSERT_TRUE((*w)->Close().ok());

  std::string both = *fs.ReadRaw("/a.avro");
  EXPECT_EQ(both.substr(0, first.size()), first);
  auto r = ContainerReader::OpenBuffer(both);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->header().codec, CodecKind::kSnappy);
  std::vector<int64_t> ids = ReadIds(r->get());
  ASSERT_EQ(ids.size(), 15u);
  for (int64_t i = 0; i < 15; ++i) EXPECT_EQ(ids[static_cast<size_t>(i)], i);
}

TEST(ContainerWriterTest, AppendRefusesTornFile) {
  io::MemoryFileSystem fs;
  std::string bytes = WriteTestFile(&fs, "/a.avro", 10, {});
  fs.WriteRaw("/a.avro", bytes.substr(0, bytes.size() - 3));
  WriterOptions ao;
  ao.fs = &fs;
  auto w = ContainerWriter::OpenForAppend("/a.avro", ao);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
  EXPECT_NE(w.status().message().find("offset"), std::string_view::npos);
}

TEST(ContainerSplitTest, RandomSplitsReadEveryRecordOnce) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.codec = "deflate";
  wo.records_per_block = 13;
  const int64_t n = 2000;
  std::string bytes = WriteTestFile(&fs, "/s.avro", n, wo);
  auto r = ContainerReader::OpenBuffer(bytes);
  ASSERT_TRUE(r.ok());
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 60; ++trial) {
    std::set<uint64_t> cuts = {0, bytes.size()};
    int k = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < k; ++i) cuts.insert(rng() % (bytes.size() + 1));
    std::vector<int> seen(n, 0);
    for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
      ASSERT_TRUE((*r)->SetRange(*it, *std::next(it)).ok());
      for (int64_t id : ReadIdsFast(r->get())) ++seen[static_cast<size_t>(id)];
    }
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], 1) << "id " << i;
  }
}

TEST(ContainerSplitTest, EveryOffsetAsASplitPoint) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.records_per_block = 3;
  const int64_t n = 40;
  std::string bytes = WriteTestFile(&fs, "/s.avro", n, wo);
  auto r = ContainerReader::OpenBuffer(bytes);
  ASSERT_TRUE(r.ok());
  auto blocks = (*r)->ListBlocks();
  ASSERT_TRUE(blocks.ok());
  for (uint64_t cut = 0; cut <= bytes.size(); ++cut) {
    std::vector<int64_t> ids;
    ASSERT_TRUE((*r)->SetRange(0, cut).ok());
    std::vector<int64_t> a = ReadIdsFast(r->get());
    ASSERT_TRUE((*r)->SetRange(cut, bytes.size()).ok());
    std::vector<int64_t> b = ReadIdsFast(r->get());
    // The first part owns exactly the blocks starting before the cut.
    int64_t want_a = 0;
    for (const auto& blk : *blocks) {
      if (blk.offset < cut) want_a += blk.record_count;
    }
    ASSERT_EQ(static_cast<int64_t>(a.size()), want_a) << "cut " << cut;
    ASSERT_EQ(static_cast<int64_t>(a.size() + b.size()), n) << "cut " << cut;
  }
}

TEST(ContainerSplitTest, SplitsStartingInsideTheHeader) {
  auto r = ContainerReader::Open(TestData("data/weather-deflate.avro"));
  ASSERT_TRUE(r.ok());
  uint64_t first = (*r)->header().size;
  Datum d;
  ASSERT_TRUE((*r)->SetRange(1, first).ok());
  EXPECT_FALSE(*(*r)->Next(&d));  // the first block starts at header().size
  ASSERT_TRUE((*r)->SetRange(1, first + 1).ok());
  EXPECT_TRUE(*(*r)->Next(&d));
  ASSERT_TRUE((*r)->SetRange(first + 1, (*r)->file_size()).ok());
  EXPECT_FALSE(*(*r)->Next(&d));  // weather-deflate.avro has one block
}

// ---------------------------------------------------------------------------
// Hostile input.

std::string SmallFile(const char* codec, int64_t n = 20, int64_t per_block = 5) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.codec = codec;
  wo.records_per_block = per_block;
  return WriteTestFile(&fs, "/h.avro", n, wo);
}

// Reads a whole buffer; returns the first error (OK if it reads cleanly).
Status ReadAllStatus(std::string_view bytes, ReaderOptions ro = {}) {
  auto r = ContainerReader::OpenBuffer(bytes, ro);
  if (!r.ok()) return r.status();
  Datum d;
  for (;;) {
    auto more = (*r)->Next(&d);
    if (!more.ok()) return more.status();
    if (!*more) return Status::OK();
  }
}

bool Contains(const Status& s, std::string_view what) {
  return s.message().find(what) != std::string_view::npos;
}

TEST(HostileContainerTest, EveryTruncationFailsWithOffset) {
  for (const char* codec : {"null", "deflate", "snappy", "zstandard"}) {
    std::string bytes = SmallFile(codec);
    auto r = ContainerReader::OpenBuffer(bytes);
    ASSERT_TRUE(r.ok());
    std::set<uint64_t> boundaries = {(*r)->header().size};
    auto blocks = (*r)->ListBlocks();
    ASSERT_TRUE(blocks.ok());
    for (const auto& b : *blocks) boundaries.insert(b.end());
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      Status s = ReadAllStatus(std::string_view(bytes).substr(0, cut));
      if (boundaries.count(cut)) {  // a file cut between blocks is valid
        EXPECT_TRUE(s.ok()) << s.ToString();
        continue;
      }
      ASSERT_FALSE(s.ok()) << codec << " cut " << cut;
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
      EXPECT_TRUE(Contains(s, "offset")) << s.ToString();
    }
  }
}

TEST(HostileContainerTest, EmptyAndTinyInputs) {
  for (std::string_view in : {std::string_view(), std::string_view("O", 1),
                              std::string_view("Obj\x01", 4), std::string_view("Xbj", 3)}) {
    Status s = ReadAllStatus(in);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_TRUE(Contains(s, "offset")) << s.ToString();
  }
  auto missing = ContainerReader::Open("/no/such/file.avro");
  EXPECT_FALSE(missing.ok());
}

TEST(HostileContainerTest, BadMagic) {
  std::string bytes = SmallFile("null");
  bytes[3] = 2;
  Status s = ReadAllStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "bad magic")) << s.ToString();
  EXPECT_TRUE(Contains(s, "at offset 0")) << s.ToString();
}

TEST(HostileContainerTest, UnknownCodecNamesItsOffset) {
  SyncMarker m{};
  std::string h = *EncodeContainerHeader(TestSchema().ToJson(), CodecKind::kNull, {}, m);
  size_t at = h.find("avro.codec") + 11;
  ASSERT_NE(at, std::string::npos);
  h.replace(at, 4, "brot");
  Status s = ReadAllStatus(h);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "unknown Avro codec \"brot\"")) << s.ToString();
  EXPECT_TRUE(Contains(s, "at offset " + std::to_string(at - 1))) << s.ToString();
}

TEST(HostileContainerTest, MissingSchema) {
  std::string h(kContainerMagic, 4);
  coding::PutZigZag64(&h, 1);
  coding::PutZigZag64(&h, 1);
  h += "k";
  coding::PutZigZag64(&h, 1);
  h += "v";
  coding::PutZigZag64(&h, 0);
  h.append(16, 'S');
  Status s = ReadAllStatus(h);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "no avro.schema")) << s.ToString();
}

TEST(HostileContainerTest, AbsurdMetadataLength) {
  std::string h(kContainerMagic, 4);
  coding::PutZigZag64(&h, 1);
  coding::PutZigZag64(&h, int64_t{1} << 60);
  h.append(100, 'x');
  ReaderOptions ro;
  Status s = ReadAllStatus(h, ro);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "offset 5")) << s.ToString();
}

// Builds header + one hand-made block.
std::string FileWithBlock(int64_t count, int64_t size, std::string_view data, bool good_sync) {
  SyncMarker m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<char>(0xa0 + i);
  std::string f = *EncodeContainerHeader(R"("long")", CodecKind::kNull, {}, m);
  coding::PutZigZag64(&f, count);
  coding::PutZigZag64(&f, size);
  f.append(data);
  f.append(m.data(), m.size());
  if (!good_sync) f[f.size() - 5] ^= 0x40;
  return f;
}

TEST(HostileContainerTest, AbsurdRecordCount) {
  std::string f = FileWithBlock(int64_t{1} << 40, 2, "\x02\x04", true);
  Status s = ReadAllStatus(f);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "invalid record count")) << s.ToString();
  auto r = ContainerReader::OpenBuffer(f);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Contains(s, "at offset " + std::to_string((*r)->header().size))) << s.ToString();
  EXPECT_EQ(ReadAllStatus(FileWithBlock(-1, 2, "\x02\x04", true)).code(), StatusCode::kCorruption);
}

TEST(HostileContainerTest, AbsurdBlockSize) {
  std::string f = FileWithBlock(2, int64_t{1} << 50, "\x02\x04", true);
  Status s = ReadAllStatus(f);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "invalid byte size")) << s.ToString();
  ReaderOptions small;
  small.max_block_bytes = 1;
  s = ReadAllStatus(FileWithBlock(2, 2, "\x02\x04", true), small);
  EXPECT_TRUE(Contains(s, "invalid byte size 2")) << s.ToString();
  s = ReadAllStatus(FileWithBlock(2, -2, "\x02\x04", true));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
}

TEST(HostileContainerTest, SizeBeyondEndOfFileIsTruncation) {
  Status s = ReadAllStatus(FileWithBlock(2, 1000, "\x02\x04", true));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "truncated block")) << s.ToString();
}

TEST(HostileContainerTest, SyncMismatch) {
  std::string f = FileWithBlock(2, 2, "\x02\x04", false);
  Status s = ReadAllStatus(f);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "sync marker mismatch")) << s.ToString();
  EXPECT_TRUE(Contains(s, "at offset")) << s.ToString();
  EXPECT_TRUE(ReadAllStatus(FileWithBlock(2, 2, "\x02\x04", true)).ok());
}

TEST(HostileContainerTest, RecordsOverrunOrUnderrunTheirBlock) {
  Status s = ReadAllStatus(FileWithBlock(3, 2, "\x02\x04", true));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_TRUE(Contains(s, "block at offset")) << s.ToString();
  s = ReadAllStatus(FileWithBlock(1, 2, "\x02\x04", true));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_TRUE(Contains(s, "1 bytes after its last record")) << s.ToString();
  s = ReadAllStatus(FileWithBlock(0, 2, "\x02\x04", true));
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  // An empty block is legal and skipped.
  EXPECT_TRUE(ReadAllStatus(FileWithBlock(0, 0, "", true)).ok());
}

TEST(HostileContainerTest, SnappyCrcMismatchNamesTheBlock) {
  std::string bytes = SmallFile("snappy");
  auto r = ContainerReader::OpenBuffer(bytes);
  ASSERT_TRUE(r.ok());
  auto blocks = (*r)->ListBlocks();
  ASSERT_TRUE(blocks.ok());
  const BlockInfo& b = (*blocks)[1];
  bytes[b.data_offset + b.data_size - 1] ^= 0x01;  // last CRC byte
  Status s = ReadAllStatus(bytes);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(s, "CRC-32 mismatch")) << s.ToString();
  EXPECT_TRUE(Contains(s, "block at offset " + std::to_string(b.offset))) << s.ToString();
}

TEST(HostileContainerTest, CorruptCompressedBlock) {
  for (const char* codec : {"deflate", "zstandard", "bzip2", "xz"}) {
    std::string bytes = SmallFile(codec);
    auto r = ContainerReader::OpenBuffer(bytes);
    ASSERT_TRUE(r.ok());
    auto blocks = (*r)->ListBlocks();
    ASSERT_TRUE(blocks.ok());
    const BlockInfo& b = (*blocks)[2];
    for (uint64_t i = 0; i < b.data_size; i += 3) bytes[b.data_offset + i] ^= 0x5a;
    Status s = ReadAllStatus(bytes);
    EXPECT_FALSE(s.ok()) << codec;
    EXPECT_TRUE(Contains(s, "block at offset " + std::to_string(b.offset))) << s.ToString();
  }
}

TEST(HostileContainerTest, DecompressionBombIsBounded) {
  io::MemoryFileSystem fs;
  WriterOptions wo;
  wo.fs = &fs;
  wo.codec = "deflate";
  wo.block_size_bytes = 64 << 20;
  auto schema = ParseSchema(std::string_view(R"("bytes")"));
  ASSERT_TRUE(schema.ok());
  auto w = ContainerWriter::Create("/b.avro", *schema, wo);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Datum::Bytes(std::string(8 << 20, '\0'))).ok());
  ASSERT_TRUE((*w)->Close().ok());
  std::string bytes = *fs.ReadRaw("/b.avro");
  EXPECT_LT(bytes.size(), 100000u);
  ReaderOptions ro;
  ro.max_decompressed_block_bytes = 1 << 20;
  Status s = ReadAllStatus(bytes, ro);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_TRUE(Contains(s, "block at offset")) << s.ToString();
  EXPECT_TRUE(ReadAllStatus(bytes).ok());
}

TEST(HostileContainerTest, RandomMutationsNeverCrash) {
  std::mt19937 rng(99);
  for (const char* codec : {"null", "deflate", "snappy", "zstandard", "bzip2", "xz"}) {
    std::string good = SmallFile(codec, 30, 4);
    for (int i = 0; i < 150; ++i) {
      std::string bad = good;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < flips; ++j) bad[rng() % bad.size()] = static_cast<char>(rng());
      ReadAllStatus(bad).IgnoreError();
      auto r = ContainerReader::OpenBuffer(bad);
      if (r.ok()) {
        (*r)->SetRange(rng() % bad.size(), bad.size()).IgnoreError();
        std::string_view rec;
        while (true) {
          auto more = (*r)->NextRecordBytes(&rec);
          if (!more.ok() || !*more) break;
        }
      }
    }
  }
}

}  // namespace
}  // namespace braid::avro
