#include "archive/archiver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "archive/compactor.h"
#include "archive/layout.h"
#include "archive/verify.h"
#include "avro/binary.h"
#include "avro/container.h"
#include "io/fault_injection_file_system.h"
#include "io/memory_file_system.h"
#include "log/records.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace braid::archive {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kBase = 1'700'000'000'000;  // 2023-11-14 22:13:20 UTC

const char* kEventSchema = R"({"type": "record", "name": "Event", "fields": [
  {"name": "id", "type": "long"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "name", "type": "string"}]})";
const char* kEventV2Schema = R"({"type": "record", "name": "Event", "fields": [
  {"name": "id", "type": "long"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "name", "type": "string"},
  {"name": "extra", "type": "int", "default": 0}]})";

std::string Framed(int32_t schema_id, int64_t id, int64_t ts, bool v2 = false) {
  std::string out(1, '\0');
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((schema_id >> s) & 0xff));
  avro::Encoder e(&out);
  e.WriteLong(id);
  e.WriteLong(ts);
  e.WriteString("event-" + std::to_string(id));
  if (v2) e.WriteInt(7);
  return out;
}

// Reads a file's records: for kAvro the "id" field (first long), for
// envelope/dead letters the offset field. Returns (offset, id) pairs using
// the entry's runs.
std::vector<std::pair<int64_t, int64_t>> ReadFile(io::FileSystem* fs, const std::string& path,
                                                  const FileEntry& e) {
  avro::ReaderOptions ro;
  ro.fs = fs;
  auto r = avro::ContainerReader::Open(path, ro);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<int64_t> offsets;
  for (const OffsetRun& run : e.runs) {
    for (int64_t o = run.first.value(); o < run.end().value(); ++o) offsets.push_back(o);
  }
  std::vector<std::pair<int64_t, int64_t>> out;
  std::string_view rec;
  size_t i = 0;
  while (true) {
    auto more = (*r)->NextRecordBytes(&rec);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    avro::Decoder d(rec);
    int64_t v = 0;
    if (e.kind == FileKind::kAvro) {
      EXPECT_TRUE(d.ReadLong(&v).ok());
    } else {
      int32_t p = 0;
      EXPECT_TRUE(d.ReadInt(&p).ok());
      EXPECT_TRUE(d.ReadLong(&v).ok());
      EXPECT_EQ(p, e.partition.value());
    }
    EXPECT_LT(i, offsets.size());
    out.emplace_back(i < offsets.size() ? offsets[i] : -1, v);
    ++i;
  }
  EXPECT_EQ(static_cast<int64_t>(i), e.records);
  return out;
}

class ArchiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::LogOptions lo;
    lo.fs = &log_fs_;
    log_ = log::Log::Open("/log", lo).value();
    schemas_.Add(SchemaId(1), avro::ParseSchema(kEventSchema).value());
    schemas_.Add(SchemaId(2), avro::ParseSchema(kEventV2Schema).value());
  }

  ArchiverOptions Options(io::FileSystem* fs) {
    ArchiverOptions o;
    o.fs = fs;
    o.root = "/archive";
    o.codec = "null";
    o.consolidate = false;
    o.idle_poll_ms = 5;
    o.retry_backoff_ms = 10;
    return o;
  }

  // Appends one batch per call; values[i] with timestamp ts[i].
  void Produce(const std::string& topic, int32_t p, const std::vector<std::string>& values,
               const std::vector<int64_t>& ts) {
    log::BatchBuilder b;
    for (size_t i = 0; i < values.size(); ++i) b.Add(ts[i], std::nullopt, values[i]);
    auto part = log_->GetPartition(topic, PartitionId(p)).value();
    ASSERT_TRUE(part->Append(b.Build().value()).ok());
  }

  // Produces `n` Avro events per partition, ids unique; event time spread
  // over a few hours, with some late events (days old). Returns the ids per
  // (partition, offset).
  std::map<std::pair<int32_t, int64_t>, int64_t> ProduceEvents(const std::string& topic,
                                                               int partitions, int n,
                                                               int per_batch = 10) {
    std::map<std::pair<int32_t, int64_t>, int64_t> expected;
    for (int p = 0; p < partitions; ++p) {
      auto part = log_->GetPartition(topic, PartitionId(p)).value();
      for (int i = 0; i < n; i += per_batch) {
        std::vector<std::string> vals;
        std::vector<int64_t> ts;
        int64_t off = part->log_end_offset().value();
        for (int j = i; j < std::min(n, i + per_batch); ++j) {
          const int64_t id = next_id_++;
          int64_t t = kBase + (j * kHour) / std::max(1, n / 3);
          if (j % 17 == 5) t -= 3 * 24 * kHour;  // late by 3 days
          vals.push_back(Framed(1, id, t));
          ts.push_back(kBase + j);
          expected[{p, off++}] = id;
        }
        Produce(topic, p, vals, ts);
      }
    }
    return expected;
  }

  // Every record of the dataset's topic as (partition, offset) → id, failing
  // on duplicates.
  std::map<std::pair<int32_t, int64_t>, int64_t> ReadAll(io::FileSystem* fs,
                                                         const std::string& topic,
                                                         bool include_dead = false) {
    std::map<std::pair<int32_t, int64_t>, int64_t> got;
    auto m = LoadManifest(fs, "/archive", topic).value();
    for (const FileEntry& f : m.files) {
      if (f.kind == FileKind::kDeadLetter && !include_dead) continue;
      for (auto [off, id] : ReadFile(fs, "/archive/" + topic + "/" + f.path, f)) {
        EXPECT_TRUE(got.emplace(std::make_pair(f.partition.value(), off), id).second)
            << "duplicate offset " << off << " in " << f.path;
      }
    }
    return got;
  }

  void ExpectVerifies(io::FileSystem* fs) {
    auto r = VerifyDataset(fs, "/archive");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& p : r->problems) ADD_FAILURE() << p;
  }

  io::MemoryFileSystem log_fs_;
  std::unique_ptr<log::Log> log_;
  MapSchemaSource schemas_;
  int64_t next_id_ = 1000;
};

TEST_F(ArchiverTest, ArchivesEveryRecordOnceInHourFolders) {
  ASSERT_TRUE(log_->CreateTopic("events", 2, {{"braid.archive.time.field", "ts"}}).ok());
  auto expected = ProduceEvents("events", 2, 120);
  io::MemoryFileSystem fs;
  Archiver a(log_.get(), &schemas_, Options(&fs));
  ASSERT_TRUE(a.RunOnce().ok());
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  ExpectVerifies(&fs);
  auto m = LoadManifest(&fs, "/archive", "events").value();
  EXPECT_EQ(m.archived, std::optional<bool>(true));
  EXPECT_EQ(m.partitions.at(PartitionId(0)).hwm, Offset(120));
  EXPECT_EQ(m.partitions.at(PartitionId(1)).hwm, Offset(120));
  std::set<std::string> dirs;
  for (const FileEntry& f : m.files) {
    EXPECT_EQ(f.kind, FileKind::kAvro);
    EXPECT_EQ(f.schema_id, 1);
    EXPECT_EQ(f.path.substr(0, f.path.rfind('/')), HourDir(f.hour));
    EXPECT_EQ(HourOf(f.min_time), f.hour);
    EXPECT_EQ(HourOf(f.max_time), f.hour);
    dirs.insert(f.path.substr(0, f.path.rfind('/')));
  }
  // Three hours of on-time events plus the late ones, 3 days earlier.
  EXPECT_TRUE(dirs.contains("dt=2023-11-14/hour=22"));
  EXPECT_TRUE(dirs.contains("dt=2023-11-11/hour=22"));
  EXPECT_GE(dirs.size(), 4u);
  const ArchiverStats s = a.stats();
  EXPECT_EQ(s.records_archived, 240u);
  EXPECT_EQ(s.files_written, m.files.size());
  ASSERT_EQ(s.lag.size(), 2u);
  EXPECT_EQ(s.lag[0].lag_records, 0);

  // More records later: appended in new files, hwm advances.
  auto more = ProduceEvents("events", 2, 30);
  ASSERT_TRUE(a.RunOnce().ok());
  expected.insert(more.begin(), more.end());
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  ExpectVerifies(&fs);
}

TEST_F(ArchiverTest, RecordTimestampWithoutTimeField) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  Produce("t", 0, {Framed(1, 1, 0), Framed(1, 2, 0)}, {kBase, kBase + 5 * kHour});
  io::MemoryFileSystem fs;
  Archiver a(log_.get(), &schemas_, Options(&fs));
  ASSERT_TRUE(a.RunOnce().ok());
  auto m = LoadManifest(&fs, "/archive", "t").value();
  ASSERT_EQ(m.files.size(), 2u);
  EXPECT_EQ(m.files[0].path, HourDir(HourOf(kBase)) + "/part-0-0.avro");
  EXPECT_EQ(m.files[1].path, HourDir(HourOf(kBase + 5 * kHour)) + "/part-0-1.avro");
}

TEST_F(ArchiverTest, SchemaChangeStartsNewFile) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  Produce("t", 0, {Framed(1, 1, 0), Framed(1, 2, 0), Framed(2, 3, 0, true), Framed(2, 4, 0, true)},
          {kBase, kBase, kBase, kBase});
  io::MemoryFileSystem fs;
  Archiver a(log_.get(), &schemas_, Options(&fs));
  ASSERT_TRUE(a.RunOnce().ok());
  auto m = LoadManifest(&fs, "/archive", "t").value();
  ASSERT_EQ(m.files.size(), 2u);
  std::map<int32_t, int64_t> by_schema;
  for (const FileEntry& f : m.files) by_schema[f.schema_id] = f.records;
  EXPECT_EQ(by_schema, (std::map<int32_t, int64_t>{{1, 2}, {2, 2}}));
  for (const FileEntry& f : m.files) {
    auto r =
        avro::ContainerReader::OpenBuffer(fs.ReadRaw("/archive/t/" + f.path).value());  // NOLINT
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->header().FindMetadata("braid.schema_id") != nullptr, true);
    EXPECT_EQ(*(*r)->header().FindMetadata("braid.schema_id"), std::to_string(f.schema_id));
    const bool v2 = f.schema_id == 2;
    EXPECT_EQ((*r)->schema().root().FindField("extra") != nullptr, v2);
  }
  ExpectVerifies(&fs);
}

TEST_F(ArchiverTest, NonAvroValuesGoToEnvelopes) {
  ASSERT_TRUE(log_->CreateTopic("plain", 1, {{"braid.archive", "true"}}).ok());
  log::BatchBuilder b;
  std::vector<log::RecordHeader> headers = {{"h", std::string("v")}};
  b.Add(kBase, std::string_view("k1"), std::string_view("hello"), headers);
  b.Add(kBase + 1, std::nullopt, std::nullopt);                     // tombstone
  b.Add(kBase + 2, std::nullopt, std::string_view("\x00\x01", 2));  // too short for a frame
  auto part = log_->GetPartition("plain", PartitionId(0)).value();
  ASSERT_TRUE(part->Append(b.Build().value()).ok());
  io::MemoryFileSystem fs;
  Archiver a(log_.get(), &schemas_, Options(&fs));
  ASSERT_TRUE(a.RunOnce().ok());
  auto m = LoadManifest(&fs, "/archive", "plain").value();
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].kind, FileKind::kEnvelope);
  EXPECT_EQ(m.files[0].records, 3);
  avro::ReaderOptions ro;
  ro.fs = &fs;
  auto r = avro::ContainerReader::Open("/archive/plain/" + m.files[0].path, ro).value();
  EXPECT_TRUE(r->schema().SameCanonicalForm(EnvelopeSchema()));
  avro::Datum d;
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_EQ(d.FindField("offset")->long_value(), 0);
  EXPECT_EQ(d.FindField("timestamp")->long_value(), kBase);
  EXPECT_EQ(d.FindField("key")->union_value().bytes(), "k1");
  EXPECT_EQ(d.FindField("value")->union_value().bytes(), "hello");
  ASSERT_EQ(d.FindField("headers")->items().size(), 1u);
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_TRUE(d.FindField("value")->union_value().is_null());
  EXPECT_EQ(a.stats().envelope_records, 3u);
  ExpectVerifies(&fs);
}

TEST_F(ArchiverTest, UndecodableRecordsGoToDeadLetters) {
  ASSERT_TRUE(log_->CreateTopic("t", 1, {{"braid.archive", "true"}}).ok());
  std::string corrupt = Framed(1, 5, kBase);
  corrupt.resize(corrupt.size() - 3);  // body cut short
  Produce("t", 0, {Framed(1, 1, 0), Framed(99, 2, 0), corrupt, Framed(1, 4, 0)},
          {kBase, kBase, kBase, kBase});
  io::MemoryFileSystem fs;
  Archiver a(log_.get(), &schemas_, Options(&fs));
  ASSERT_TRUE(a.RunOnce().ok());
  auto m = LoadManifest(&fs, "/archive", "t").value();
  ASSERT_EQ(m.files.size(), 2u);
  const FileEntry* dead = nullptr;
  for (const FileEntry& f : m.files) {
    if (f.kind == FileKind::kDeadLetter) dead = &f;
  }
  ASSERT_NE(dead, nullptr);
  EXPECT_EQ(dead->path, "_dead_letters/part-0-1.avro");
  EXPECT_EQ(dead->runs, (std::vector<OffsetRun>{{Offset(1), 2}}));
  EXPECT_EQ(a.stats().dead_letter_records, 2u);
  avro::ReaderOptions ro;
  ro.fs = &fs;
  auto r = avro::ContainerReader::Open("/archive/t/" + dead->path, ro).value();
  avro::Datum d;
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_EQ(d.FindField("schema_id")->int_value(), 99);
  EXPECT_NE(d.FindField("error")->bytes().find("unknown schema id 99"), std::string::npos);
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_EQ(d.FindField("offset")->long_value(), 2);
  EXPECT_FALSE(d.FindField("error")->bytes().empty());
  EXPECT_EQ(m.partitions.at(PartitionId(0)).hwm, Offset(4));
  ExpectVerifies(&fs);
}

TEST_F(ArchiverTest, TopicDecision) {
  ASSERT_TRUE(log_->CreateTopic("avro", 1).ok());
  ASSERT_TRUE(log_->CreateTopic("text", 1).ok());
  ASSERT_TRUE(log_->CreateTopic("off", 1, {{"braid.archive", "false"}}).ok());
  ASSERT_TRUE(log_->CreateTopic("_internal", 1).ok());
  ASSERT_TRUE(log_->CreateTopic("empty", 1).ok());
  Produce("avro", 0, {Framed(1, 1, 0)}, {kBase});
  Produce("text", 0, {"hello"}, {kBase});
  Produce("off", 0, {Framed(1, 1, 0)}, {kBase});
  Produce("_internal", 0, {Framed(1, 1, 0)}, {kBase});
  io::MemoryFileSystem fs;
  {
    Archiver a(log_.get(), &schemas_, Options(&fs));
    ASSERT_TRUE(a.RunOnce().ok());
  }
  EXPECT_EQ(LoadManifest(&fs, "/archive", "avro").value().files.size(), 1u);
  auto text = LoadManifest(&fs, "/archive", "text").value();
  EXPECT_EQ(text.archived, std::optional<bool>(false));
  EXPECT_TRUE(text.files.empty());
  EXPECT_FALSE(fs.FileExists(ManifestPath("/archive", "off")));
  EXPECT_FALSE(fs.FileExists(ManifestPath("/archive", "_internal")));
  EXPECT_FALSE(fs.FileExists(ManifestPath("/archive", "empty")));
  // The stored decision is kept even if the first record would now differ.
  Produce("empty", 0, {Framed(1, 1, 0)}, {kBase});
  Archiver b(log_.get(), &schemas_, Options(&fs));
  ASSERT_TRUE(b.RunOnce().ok());
  EXPECT_EQ(LoadManifest(&fs, "/archive", "empty").value().files.size(), 1u);
}

// A FileSystem that "dies" after `budget` mutating operations: every later
// operation fails, as if the process had been killed there.
class DyingFileSystem final : public io::FileSystem {
 public:
  DyingFileSystem(io::FileSystem* base, int64_t budget) : base_(base), budget_(budget) {}
  bool Tick() { return --budget_ >= 0; }
  bool dead() const { return budget_ < 0; }
  Status Dead() { return Status::IOError("killed"); }

  class File final : public io::WritableFile {
   public:
    File(DyingFileSystem* fs, std::unique_ptr<io::WritableFile> f) : fs_(fs), f_(std::move(f)) {}
    Status Append(std::string_view d) override { return fs_->Tick() ? f_->Append(d) : fs_->Dead(); }
    Status Sync() override { return fs_->Tick() ? f_->Sync() : fs_->Dead(); }
    Status Close() override { return fs_->Tick() ? f_->Close() : fs_->Dead(); }
    uint64_t Size() const override { return f_->Size(); }
    Status Truncate(uint64_t s) override { return fs_->Tick() ? f_->Truncate(s) : fs_->Dead(); }

   private:
    DyingFileSystem* fs_;
    std::unique_ptr<io::WritableFile> f_;
  };

  Result<std::unique_ptr<io::WritableFile>> NewWritableFile(const std::string& path,
                                                            io::OpenMode mode) override {
    if (!Tick()) return Dead();
    ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path, mode));
    return std::unique_ptr<io::WritableFile>(new File(this, std::move(f)));
  }
  Result<std::unique_ptr<io::RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Status CreateDirs(const std::string& dir) override {
    return Tick() ? base_->CreateDirs(dir) : Dead();
  }
  Status DeleteFile(const std::string& path) override {
    return Tick() ? base_->DeleteFile(path) : Dead();
  }
  Status DeleteDirRecursive(const std::string& dir) override {
    return Tick() ? base_->DeleteDirRecursive(dir) : Dead();
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return Tick() ? base_->RenameFile(from, to) : Dead();
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    return Tick() ? base_->TruncateFile(path, size) : Dead();
  }
  Status SyncDir(const std::string& dir) override { return Tick() ? base_->SyncDir(dir) : Dead(); }

 private:
  io::FileSystem* base_;
  std::atomic<int64_t> budget_;
};

TEST_F(ArchiverTest, CrashAtEveryPointLosesNothingAndDuplicatesNothing) {
  ASSERT_TRUE(log_->CreateTopic("events", 2, {{"braid.archive.time.field", "ts"}}).ok());
  auto expected = ProduceEvents("events", 2, 40, 5);
  // Some records after an unknown id and a plain value, for dead letters and
  // envelopes.
  Produce("events", 0, {Framed(77, 1, 0), "plain"}, {kBase, kBase});
  auto with_extra = expected;
  with_extra[{0, 40}] = 40;  // dead letter: offset field
  with_extra[{0, 41}] = 41;  // envelope: offset field
  int crashes = 0;
  for (int64_t budget = 0;; budget += 3) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    io::MemoryFileSystem mem;
    DyingFileSystem dying(&mem, budget);
    {
      ArchiverOptions o = Options(&dying);
      o.roll_records = 7;  // several commits per partition
      o.consolidate_min_files = 2;
      Archiver a(log_.get(), &schemas_, o);
      Status s = a.RunOnce();
      if (s.ok()) {
        auto c = a.ConsolidateOnce();
        if (!c.ok()) s = c.status();
      }
      if (s.ok() && !dying.dead()) break;  // the budget was enough: all points tried
    }
    ++crashes;
    mem.SimulateCrash();
    // Recovery: a new archiver on the crashed file system finishes the job.
    Archiver b(log_.get(), &schemas_, Options(&mem));
    ASSERT_TRUE(b.RunOnce().ok());
    EXPECT_EQ(ReadAll(&mem, "events", true), with_extra);
    ExpectVerifies(&mem);
    // No unlisted file is left behind.
    auto m = LoadManifest(&mem, "/archive", "events").value();
    size_t on_disk = 0;
    const std::vector<std::string> days = mem.ListDir("/archive/events").value();
    for (const std::string& d : days) {
      if (d.rfind("dt=", 0) != 0) continue;
      const std::vector<std::string> hours = mem.ListDir("/archive/events/" + d).value();
      for (const std::string& h : hours) {
        on_disk += mem.ListDir("/archive/events/" + d + "/" + h).value().size();
      }
    }
    size_t listed = 0;
    for (const FileEntry& f : m.files) listed += f.kind != FileKind::kDeadLetter;
    EXPECT_EQ(on_disk, listed);
    if (HasFailure()) break;
  }
  EXPECT_GT(crashes, 20);
}

// Archive-to-cut: with a roll interval far away, CoverCut makes the workers
// commit now; afterwards the manifest covers the cut and a plan below it
// holds exactly the records below it. Asked while producers keep appending
// and the roll policy commits on its own (1 ms roll interval), it still
// returns with the cut covered, never a record twice.
TEST_F(ArchiverTest, CoverCutCommitsEverythingBelowTheCut) {
  ASSERT_TRUE(log_->CreateTopic("events", 2, {{"braid.archive.time.field", "ts"}}).ok());
  auto expected = ProduceEvents("events", 2, 300);
  io::MemoryFileSystem fs;
  ArchiverOptions o = Options(&fs);
  o.roll_interval_ms = 3'600'000;  // the background roll would wait an hour
  Archiver a(log_.get(), &schemas_, o);
  log::Cut early;
  early.offsets = {{PartitionId(0), Offset(120)}, {PartitionId(1), Offset(300)}};
  EXPECT_EQ(a.CoverCut("events", early, std::chrono::milliseconds(10)).code(),
            StatusCode::kFailedPrecondition);  // not running
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.CoverCut("events", early, std::chrono::seconds(20)).ok());
  auto m = LoadManifest(&fs, "/archive", "events").value();
  EXPECT_GE(m.partitions.at(PartitionId(0)).hwm, Offset(120));
  EXPECT_GE(m.partitions.at(PartitionId(1)).hwm, Offset(300));
  auto plan = a.dataset()->Plan("events", early);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::map<std::pair<int32_t, int64_t>, int64_t> below;
  for (const PlannedFile& f : plan->files) {
    auto recs = ReadFile(&fs, f.path, f.entry);
    for (int64_t i = 0; i < f.records_below_cut; ++i) {
      EXPECT_TRUE(
          below.emplace(std::make_pair(f.entry.partition.value(), recs[i].first), recs[i].second)
              .second);
    }
  }
  std::map<std::pair<int32_t, int64_t>, int64_t> want;
  for (const auto& [po, id] : expected) {
    if (po.second < early.at(PartitionId(po.first)).value()) want.emplace(po, id);
  }
  EXPECT_EQ(below, want);
  // Above the high watermark: those records do not exist yet.
  log::Cut beyond;
  beyond.offsets = {{PartitionId(0), Offset(301)}};
  EXPECT_EQ(a.CoverCut("events", beyond, std::chrono::seconds(1)).code(), StatusCode::kOutOfRange);
  a.Stop();

  // Racing the background roll and new appends.
  ArchiverOptions fast = Options(&fs);
  fast.roll_interval_ms = 1;
  Archiver b(log_.get(), &schemas_, fast);
  ASSERT_TRUE(b.Start().ok());
  std::atomic<bool> done{false};
  std::thread producer([&] {
    while (!done) {
      ProduceEvents("events", 2, 20);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  struct Join {
    std::atomic<bool>* done;
    std::thread* t;
    ~Join() {
      *done = true;
      if (t->joinable()) t->join();
    }
  } join{&done, &producer};
  for (int round = 0; round < 20; ++round) {
    log::Cut cut;
    for (int p = 0; p < 2; ++p) {
      cut.offsets[PartitionId(p)] =
          log_->GetPartition("events", PartitionId(p)).value()->high_watermark();
    }
    Status st = b.CoverCut("events", cut, std::chrono::seconds(20));
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto mm = LoadManifest(&fs, "/archive", "events").value();
    for (int p = 0; p < 2; ++p)
      EXPECT_GE(mm.partitions.at(PartitionId(p)).hwm, cut.at(PartitionId(p)));
  }
  done = true;
  producer.join();
  b.Stop();
  ReadAll(&fs, "events");  // fails on any duplicate
  ExpectVerifies(&fs);
}

TEST_F(ArchiverTest, DiskFullPausesAndResumes) {
  ASSERT_TRUE(log_->CreateTopic("events", 2).ok());
  auto expected = ProduceEvents("events", 2, 50);
  io::MemoryFileSystem mem;
  io::FaultInjectionFileSystem fs(&mem);
  fs.SetNoSpace(true);
  Archiver a(log_.get(), &schemas_, Options(&fs));
  Status s = a.RunOnce();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_TRUE(a.stats().paused);
  EXPECT_NE(a.stats().last_error.find("No space left"), std::string::npos);
  fs.SetNoSpace(false);
  ASSERT_TRUE(a.RunOnce().ok());
  EXPECT_FALSE(a.stats().paused);
  EXPECT_EQ(ReadAll(&mem, "events"), expected);
  ExpectVerifies(&mem);

  // The same with the background threads: archiving stalls while the disk
  // is full and catches up afterwards.
  fs.SetNoSpace(true);
  auto more = ProduceEvents("events", 2, 50);
  expected.insert(more.begin(), more.end());
  ArchiverOptions o = Options(&fs);
  o.roll_interval_ms = 1;
  Archiver b(log_.get(), &schemas_, o);
  ASSERT_TRUE(b.Start().ok());
  for (int i = 0; i < 2000 && !b.stats().paused; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(b.stats().paused);
  fs.SetNoSpace(false);
  for (int i = 0; i < 5000; ++i) {
    auto st = b.stats();
    if (!st.lag.empty() && st.lag[0].lag_records == 0 && st.lag[1].lag_records == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  b.Stop();
  EXPECT_EQ(ReadAll(&mem, "events"), expected);
  ExpectVerifies(&mem);
}

TEST_F(ArchiverTest, ReadPlanBelowCut) {
  ASSERT_TRUE(log_->CreateTopic("events", 2, {{"braid.archive.time.field", "ts"}}).ok());
  ProduceEvents("events", 2, 60);
  io::MemoryFileSystem fs;
  ArchiverOptions o = Options(&fs);
  o.roll_records = 25;
  Archiver a(log_.get(), &schemas_, o);
  ASSERT_TRUE(a.RunOnce().ok());
  auto plan =
      a.dataset()->Plan("events", {{{PartitionId(0), Offset(30)}, {PartitionId(1), Offset(60)}}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::map<int32_t, int64_t> below;
  for (const PlannedFile& f : plan->files) below[f.entry.partition.value()] += f.records_below_cut;
  EXPECT_EQ(below, (std::map<int32_t, int64_t>{{0, 30}, {1, 60}}));
  EXPECT_EQ(a.dataset()->Plan("events", {{{PartitionId(0), Offset(61)}}}).status().code(),
            StatusCode::kFailedPrecondition);
  // Event-time restriction: only files overlapping the range.
  TimeRange tr{kBase - 4 * 24 * kHour, kBase - 2 * 24 * kHour};
  auto late =
      a.dataset()
          ->Plan("events", {{{PartitionId(0), Offset(60)}, {PartitionId(1), Offset(60)}}}, tr)
          .value();
  ASSERT_FALSE(late.files.empty());
  for (const PlannedFile& f : late.files) EXPECT_LT(f.entry.max_time, kBase - 2 * 24 * kHour);
}

TEST_F(ArchiverTest, ConsolidationUnderConcurrentArchivingAndReading) {
  ASSERT_TRUE(log_->CreateTopic("events", 2).ok());
  io::MemoryFileSystem fs;
  ArchiverOptions o = Options(&fs);
  o.roll_records = 5;
  o.roll_interval_ms = 1;
  o.consolidate_min_files = 3;
  Archiver a(log_.get(), &schemas_, o);
  ASSERT_TRUE(a.Start().ok());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done) {
      auto m = a.dataset()->Snapshot("events");
      if (!m.ok()) continue;
      log::Cut cut;
      for (const auto& [p, st] : (*m)->partitions) cut.offsets[PartitionId(p)] = Offset(st.hwm);
      auto plan = a.dataset()->Plan("events", cut);
      ASSERT_TRUE(plan.ok()) << plan.status().ToString();
      int64_t n = 0;
      for (const PlannedFile& f : plan->files) {
        n += static_cast<int64_t>(ReadFile(&fs, f.path, f.entry).size());
      }
      int64_t want = 0;
      for (const auto& [p, c] : cut.offsets) want += c.value();
      // A plan taken after `cut` may include more (a newer manifest), never less.
      EXPECT_GE(n, want);
      ++reads;
    }
  });
  std::thread compactor([&] {
    while (!done) {
      auto n = a.ConsolidateOnce();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::map<std::pair<int32_t, int64_t>, int64_t> expected;
  for (int round = 0; round < 20; ++round) {
    auto more = ProduceEvents("events", 2, 10, 5);
    expected.insert(more.begin(), more.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < 5000; ++i) {
    auto st = a.stats();
    if (st.lag.size() == 2 && st.lag[0].lag_records == 0 && st.lag[1].lag_records == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  done = true;
  reader.join();
  compactor.join();
  a.Stop();
  ASSERT_TRUE(a.ConsolidateOnce().ok());
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(a.stats().consolidations, 0u);
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  ExpectVerifies(&fs);
  EXPECT_EQ(a.dataset()->pending_deletions(), 0u);
}

TEST_F(ArchiverTest, RollPolicyListsFilesOnlyWhenClosed) {
  ASSERT_TRUE(log_->CreateTopic("events", 1).ok());
  auto expected = ProduceEvents("events", 1, 30);
  io::MemoryFileSystem fs;
  ManualClock clock;
  ArchiverOptions o = Options(&fs);
  o.clock = &clock;
  o.roll_interval_ms = 60'000;
  o.threads = 1;
  Archiver a(log_.get(), &schemas_, o);
  ASSERT_TRUE(a.Start().ok());
  auto hwm = [&]() -> int64_t {
    auto m = LoadManifest(&fs, "/archive", "events");
    if (!m.ok() || !m->partitions.contains(PartitionId(0))) return -1;
    return m->partitions.at(PartitionId(0)).hwm.value();
  };
  // Read, but not closed: nothing listed, the files are hidden temp files.
  for (int i = 0; i < 200 && hwm() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(hwm(), 0);
  EXPECT_EQ(a.stats().files_written, 0u);
  clock.AdvanceMillis(60'001);
  for (int i = 0; i < 2000 && hwm() != 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(hwm(), 30);
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  // The size policy closes files without waiting.
  a.Stop();
  o.roll_interval_ms = 3'600'000;
  o.roll_bytes = 1;
  Archiver b(log_.get(), &schemas_, o);
  auto more = ProduceEvents("events", 1, 10);
  expected.insert(more.begin(), more.end());
  ASSERT_TRUE(b.Start().ok());
  for (int i = 0; i < 2000 && hwm() != 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(hwm(), 40);
  b.Stop();
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  ExpectVerifies(&fs);
}

// --kafka mode against librdkafka's mock cluster.
TEST_F(ArchiverTest, KafkaModeAgainstMockCluster) {
#if defined(__SANITIZE_THREAD__)
  // librdkafka's (uninstrumented) broker threads crash inside TSan's
  // allocator (getaddrinfo on a thread TSan did not set up).
  GTEST_SKIP() << "librdkafka mock cluster under ThreadSanitizer";
#endif
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err)),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(producer, nullptr) << err;
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(producer);
  ASSERT_NE(mc, nullptr);
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  ASSERT_EQ(rd_kafka_mock_topic_create(mc, "events", 3, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<std::pair<int32_t, int64_t>, int64_t> expected;
  std::map<int32_t, int64_t> next_offset;
  auto produce = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const int64_t id = next_id_++;
      const int32_t p = static_cast<int32_t>(id % 3);
      const int64_t t = kBase + (id % 5) * kHour - (id % 13 == 0 ? 2 * 24 * kHour : 0);
      std::string v = id % 29 == 0 ? "not avro" : Framed(1, id, t);
      ASSERT_EQ(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("events"), RD_KAFKA_V_PARTITION(p),
                                  RD_KAFKA_V_VALUE(v.data(), v.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_TIMESTAMP(kBase), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
      const int64_t off = next_offset[p]++;
      // Envelope files hold the offset where Avro files hold the id.
      expected[{p, off}] = id % 29 == 0 ? off : id;
    }
    ASSERT_EQ(rd_kafka_flush(producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  };
  produce(150);
  io::MemoryFileSystem fs;
  ArchiverOptions o = Options(&fs);
  o.kafka_bootstrap = bootstrap;
  o.kafka_time_field = "ts";
  o.topics = {"events"};
  {
    Archiver a(nullptr, &schemas_, o);
    Status s = a.RunOnce();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  produce(90);
  {
    Archiver a(nullptr, &schemas_, o);
    ASSERT_TRUE(a.RunOnce().ok());
    EXPECT_EQ(a.stats().records_archived, 90u);
  }
  EXPECT_EQ(ReadAll(&fs, "events"), expected);
  ExpectVerifies(&fs);
  rd_kafka_destroy(producer);
}

TEST(ManifestTest, RoundTripAndChecksum) {
  Manifest m;
  m.topic = "t";
  m.version = 3;
  m.archived = true;
  m.decision_reason = "why";
  m.partitions[PartitionId(0)] = {Offset(0), Offset(10), {{Offset(9), 1}}, {}};
  FileEntry f;
  f.path = "dt=2023-11-14/hour=22/part-0-0.avro";
  f.records = 9;
  f.first_offset = Offset(0);
  f.last_offset = Offset(8);
  f.runs = {{Offset(0), 9}};
  m.files.push_back(f);
  const std::string text = EncodeManifest(m);
  auto back = DecodeManifest(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(EncodeManifest(*back), text);
  EXPECT_TRUE(CheckManifest(*back).empty());
  std::string bad = text;
  bad[bad.find("\"why\"") + 1] = 'W';
  EXPECT_TRUE(DecodeManifest(bad).status().IsCorruption());
  // A gap and an overlap are reported.
  m.partitions[PartitionId(0)].hwm = Offset(12);
  EXPECT_EQ(CheckManifest(m).size(), 1u);
  m.partitions[PartitionId(0)].hwm = Offset(10);
  m.files.push_back(f);
  m.files.back().path = "x";
  EXPECT_FALSE(CheckManifest(m).empty());
}

TEST(LayoutTest, HourDirs) {
  EXPECT_EQ(HourDir(HourOf(kBase)), "dt=2023-11-14/hour=22");
  EXPECT_EQ(HourDir(0), "dt=1970-01-01/hour=00");
  EXPECT_EQ(HourDir(HourOf(-1)), "dt=1969-12-31/hour=23");
  EXPECT_EQ(HourDir(HourOf(951782400000)), "dt=2000-02-29/hour=00");
}

}  // namespace
}  // namespace braid::archive
