#include "archive/archiver.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

#include "archive/compactor.h"
#include "archive/layout.h"
#include "avro/container.h"
#include "avro/decoder_program.h"
#include "base/logging.h"
#include "log/records.h"

#include <librdkafka/rdkafka.h>

namespace braid::archive {

namespace {

// How a schema's time field is read.
enum class TimeUnit : uint8_t { kMillis, kMicros, kNanos, kDays };

struct SchemaEntry {
  avro::Schema schema;
  std::shared_ptr<const avro::CompiledDecoder> decoder;
  int time_field = -1;  // top-level field index, -1 = use the record timestamp
  TimeUnit unit = TimeUnit::kMillis;
};

// Captures a top-level int/long field while validating the whole value.
struct TimeFieldHandler : avro::NullHandler {
  size_t target = SIZE_MAX;
  int depth = 0;
  size_t field = SIZE_MAX;
  bool found = false;
  int64_t value = 0;

  void StartRecord(const avro::Node&) { ++depth; }
  void EndRecord() { --depth; }
  void Field(size_t i) {
    if (depth == 1) field = i;
  }
  void StartArray() { ++depth; }
  void EndArray() { --depth; }
  void StartMap() { ++depth; }
  void EndMap() { --depth; }
  void Long(int64_t v) {
    if (depth == 1 && field == target) {
      found = true;
      value = v;
    }
  }
  void Int(int32_t v) { Long(v); }
};

int64_t ToMillis(int64_t v, TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis:
      return v;
    case TimeUnit::kMicros:
      return v / 1000;
    case TimeUnit::kNanos:
      return v / 1000000;
    case TimeUnit::kDays:
      return v * 86400000;
  }
  return v;
}

std::shared_ptr<const SchemaEntry> MakeEntry(const avro::Schema& schema,
                                             const std::string& time_field, Status* error) {
  auto dec = avro::CompiledDecoder::Compile(schema, schema);
  if (!dec.ok()) {
    *error = dec.status();
    return nullptr;
  }
  auto e = std::make_shared<SchemaEntry>();
  e->schema = schema;
  e->decoder = *dec;
  const avro::Node& root = schema.root();
  if (!time_field.empty() && root.type() == avro::Type::kRecord) {
    if (const avro::Field* f = root.FindField(time_field)) {
      const avro::Node* t = f->type;
      if (t->type() == avro::Type::kUnion) {
        for (const avro::Node* b : t->branches()) {
          if (b->type() == avro::Type::kLong || b->type() == avro::Type::kInt) {
            t = b;
            break;
          }
        }
      }
      if (t->type() == avro::Type::kLong || t->type() == avro::Type::kInt) {
        e->time_field = static_cast<int>(f->index);
        switch (t->logical_type()) {
          case avro::LogicalType::kTimestampMicros:
          case avro::LogicalType::kLocalTimestampMicros:
            e->unit = TimeUnit::kMicros;
            break;
          case avro::LogicalType::kTimestampNanos:
          case avro::LogicalType::kLocalTimestampNanos:
            e->unit = TimeUnit::kNanos;
            break;
          case avro::LogicalType::kDate:
            e->unit = TimeUnit::kDays;
            break;
          default:
            e->unit = TimeUnit::kMillis;
        }
      }
    }
  }
  return e;
}

}  // namespace

struct Archiver::Counters {
  std::atomic<uint64_t> records{0}, bytes{0}, files{0}, commits{0}, envelope{0}, dead{0}, lost{0},
      consolidations{0}, consolidated_files{0}, errors{0};
  std::atomic<bool> paused{false};
  std::mutex mu;
  std::string last_error;  // guarded by mu
};

struct Archiver::TopicCtx {
  std::string name;
  bool decided = false;
  bool archived = false;
  std::string time_field;
  std::mutex mu;
  // id → entry; nullptr = the source answered NotFound. Guarded by mu.
  std::map<int32_t, std::shared_ptr<const SchemaEntry>> schemas;
};

class Archiver::PartitionWriter {
 public:
  // `part` may be null (Kafka mode).
  PartitionWriter(Archiver* a, std::shared_ptr<TopicCtx> topic,
                  std::shared_ptr<log::Partition> part, int32_t pid)
      : a_(a), topic_(std::move(topic)), part_(std::move(part)), pid_(pid) {}
  ~PartitionWriter() { Abort(); }

  log::Partition* partition() const { return part_.get(); }
  const std::string& topic() const { return topic_->name; }
  int32_t id() const { return pid_; }
  int64_t next() const { return next_; }
  bool initialized() const { return initialized_; }
  int64_t retry_at_us = 0;
  // Reused buffer for the bytes read from the log.
  std::string& read_buffer() { return read_buffer_; }

  // Positions at the manifest's high-water mark; a partition the manifest
  // does not know yet starts at `first_offset` (the log start).
  Status Init(int64_t first_offset) {
    ASSIGN_OR_RETURN(ManifestLease m, a_->dataset_->Snapshot(topic_->name));
    auto it = m->partitions.find(pid_);
    known_ = it != m->partitions.end();
    start_ = known_ ? it->second.start : first_offset;
    committed_ = next_ = known_ ? it->second.hwm : start_;
    initialized_ = true;
    return Status::OK();
  }

  // Marks [first, first + count) as consumed without a file.
  void Skip(int64_t first, int64_t count) {
    if (count <= 0) return;
    AddToRuns(&skipped_, first, count);
    Touch();
    next_ = first + count;
  }
  void Lose(int64_t first, int64_t count) {
    if (count <= 0) return;
    AddToRuns(&lost_, first, count);
    a_->counters_->lost += static_cast<uint64_t>(count);
    Touch();
    next_ = first + count;
  }

  Status Add(const LogRecord& r) {
    if (r.offset < next_) return Status::OK();
    Skip(next_, r.offset - next_);
    const std::optional<std::string_view>& v = r.value;
    if (v.has_value() && v->size() >= 5 && (*v)[0] == 0) {
      const auto* p = reinterpret_cast<const unsigned char*>(v->data());
      const int32_t id = static_cast<int32_t>((uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16) |
                                              (uint32_t{p[3]} << 8) | uint32_t{p[4]});
      std::string error;
      ASSIGN_OR_RETURN(std::shared_ptr<const SchemaEntry> entry, LookupSchema(id, &error));
      if (entry == nullptr) return DeadLetter(r, id, error);
      const std::string_view body = v->substr(5);
      TimeFieldHandler h;
      h.target = entry->time_field >= 0 ? static_cast<size_t>(entry->time_field) : SIZE_MAX;
      Status s = entry->decoder->DecodeAll(body, h, &decode_state_);
      if (!s.ok()) return DeadLetter(r, id, std::string(s.message()));
      const int64_t t = h.found ? ToMillis(h.value, entry->unit) : r.timestamp;
      ASSIGN_OR_RETURN(OpenFile * f, File(FileKind::kAvro, HourOf(t), id, r.offset));
      RETURN_IF_ERROR(f->writer->AppendEncoded(body));
      Added(f, r.offset, t);
      return Status::OK();
    }
    scratch_.clear();
    EncodeEnvelope(pid_, r, &scratch_);
    ASSIGN_OR_RETURN(OpenFile * f, File(FileKind::kEnvelope, HourOf(r.timestamp), -1, r.offset));
    RETURN_IF_ERROR(f->writer->AppendEncoded(scratch_));
    Added(f, r.offset, r.timestamp);
    ++envelope_;
    return Status::OK();
  }

  bool ShouldCommit(int64_t now_us) const {
    if (next_ == committed_ && known_) return false;
    if (dirty_since_us_ >= 0 && now_us - dirty_since_us_ >= a_->options_.roll_interval_ms * 1000) {
      return true;
    }
    if (uncommitted_ >= a_->options_.roll_records) return true;
    if (open_.size() >= a_->options_.max_open_files) return true;
    for (const auto& [k, f] : open_) {
      if (f.writer->bytes_written() >= a_->options_.roll_bytes) return true;
    }
    return false;
  }

  bool dirty() const { return next_ != committed_ || !known_; }

  // Closes, renames and lists every open file; raises the high-water mark.
  Status Commit() {
    if (!dirty()) return Status::OK();
    io::FileSystem* fs = a_->dataset_->fs();
    std::vector<FileEntry> entries;
    std::set<std::string> dirs;
    for (auto& [k, f] : open_) {
      RETURN_IF_ERROR(f.writer->Close());
      ASSIGN_OR_RETURN(f.entry.bytes, fs->GetFileSize(f.tmp_path));
    }
    for (auto& [k, f] : open_) {
      RETURN_IF_ERROR(fs->RenameFile(f.tmp_path, f.final_path));
      f.renamed = true;
      dirs.insert(io::DirName(f.final_path));
      entries.push_back(f.entry);
    }
    for (const std::string& d : dirs) RETURN_IF_ERROR(fs->SyncDir(d));
    const int64_t committed = committed_;
    const int64_t next = next_;
    const int64_t start = start_;
    RETURN_IF_ERROR(a_->dataset_->Commit(topic_->name, [&](Manifest* m) -> Status {
      auto [it, added] = m->partitions.try_emplace(pid_);
      PartitionState& st = it->second;
      if (added) st.start = st.hwm = start;
      if (st.hwm != committed) {
        return Status::Aborted(fmt::format("partition {} high-water mark moved from {} to {}", pid_,
                                           committed, st.hwm));
      }
      for (const FileEntry& e : entries) m->files.push_back(e);
      for (const OffsetRun& r : skipped_) AddToRuns(&st.skipped, r.first, r.count);
      for (const OffsetRun& r : lost_) AddToRuns(&st.lost, r.first, r.count);
      st.hwm = next;
      return Status::OK();
    }));
    Counters& c = *a_->counters_;
    for (const FileEntry& e : entries) {
      c.records += static_cast<uint64_t>(e.records);
      c.bytes += e.bytes;
      ++c.files;
      if (e.kind == FileKind::kDeadLetter) c.dead += static_cast<uint64_t>(e.records);
    }
    c.envelope += envelope_;
    ++c.commits;
    open_.clear();
    skipped_.clear();
    lost_.clear();
    committed_ = next_;
    known_ = true;
    uncommitted_ = 0;
    envelope_ = 0;
    dirty_since_us_ = -1;
    return Status::OK();
  }

  // Drops everything not committed (temp files and renamed but unlisted
  // files); the next Init() restarts from the manifest.
  void Abort() {
    io::FileSystem* fs = a_->dataset_ ? a_->dataset_->fs() : nullptr;
    for (auto& [k, f] : open_) {
      f.writer.reset();
      if (fs == nullptr) continue;
      if (fs->FileExists(f.tmp_path)) fs->DeleteFile(f.tmp_path).IgnoreError();
      if (f.renamed) {
        auto listed = a_->dataset_->IsListed(topic_->name, f.entry.path);
        if (listed.ok() && !*listed) fs->DeleteFile(f.final_path).IgnoreError();
      }
    }
    open_.clear();
    skipped_.clear();
    lost_.clear();
    uncommitted_ = 0;
    envelope_ = 0;
    dirty_since_us_ = -1;
    initialized_ = false;
  }

 private:
  struct OpenFile {
    FileEntry entry;
    std::string tmp_path;
    std::string final_path;
    std::unique_ptr<avro::ContainerWriter> writer;
    bool renamed = false;
  };
  using Key = std::tuple<int, int64_t, int32_t>;  // kind, hour, schema id

  void Touch() {
    if (dirty_since_us_ < 0) dirty_since_us_ = a_->clock_->MonotonicMicros();
  }

  void Added(OpenFile* f, int64_t offset, int64_t t) {
    FileEntry& e = f->entry;
    if (e.records == 0) {
      e.first_offset = offset;
      e.min_time = e.max_time = t;
    }
    e.last_offset = offset;
    AddToRuns(&e.runs, offset);
    ++e.records;
    e.min_time = std::min(e.min_time, t);
    e.max_time = std::max(e.max_time, t);
    ++uncommitted_;
    Touch();
    next_ = offset + 1;
  }

  Status DeadLetter(const LogRecord& r, int32_t id, const std::string& error) {
    scratch_.clear();
    EncodeDeadLetter(pid_, r, id, error, &scratch_);
    ASSIGN_OR_RETURN(OpenFile * f, File(FileKind::kDeadLetter, 0, -1, r.offset));
    RETURN_IF_ERROR(f->writer->AppendEncoded(scratch_));
    Added(f, r.offset, r.timestamp);
    f->entry.hour = HourOf(f->entry.min_time);
    return Status::OK();
  }

  // The schema entry of `id`; nullptr (with *error) if the id is unknown
  // or unusable; an error Status if the source failed transiently.
  Result<std::shared_ptr<const SchemaEntry>> LookupSchema(int32_t id, std::string* error) {
    auto it = local_.find(id);
    if (it != local_.end()) {
      if (!it->second) *error = fmt::format("unknown schema id {}", id);
      return it->second;
    }
    std::shared_ptr<const SchemaEntry> entry;
    {
      std::lock_guard<std::mutex> lock(topic_->mu);
      auto t = topic_->schemas.find(id);
      if (t != topic_->schemas.end()) {
        local_[id] = t->second;
        if (!t->second) *error = fmt::format("unknown schema id {}", id);
        return t->second;
      }
    }
    if (a_->schemas_ == nullptr) {
      *error = "no schema source";
      return std::shared_ptr<const SchemaEntry>();
    }
    auto schema = a_->schemas_->GetSchema(SchemaId(id));
    if (!schema.ok() && !schema.status().IsNotFound()) return schema.status();
    Status compile_error;
    if (schema.ok()) entry = MakeEntry(*schema, topic_->time_field, &compile_error);
    std::lock_guard<std::mutex> lock(topic_->mu);
    topic_->schemas[id] = entry;
    local_[id] = entry;
    if (!entry) {
      *error = schema.ok() ? fmt::format("schema id {}: {}", id, compile_error.message())
                           : fmt::format("unknown schema id {}", id);
    }
    return entry;
  }

  Result<OpenFile*> File(FileKind kind, int64_t hour, int32_t schema_id, int64_t offset) {
    const Key key{static_cast<int>(kind), hour, schema_id};
    auto it = open_.find(key);
    if (it != open_.end()) return &it->second;
    OpenFile f;
    const std::string rel_dir = kind == FileKind::kDeadLetter ? "_dead_letters" : HourDir(hour);
    const std::string name = PartFileName(pid_, offset);
    f.entry.path = rel_dir + "/" + name;
    f.entry.kind = kind;
    f.entry.partition = pid_;
    f.entry.hour = hour;
    f.entry.schema_id = schema_id;
    const std::string dir = io::JoinPath(a_->dataset_->TopicDir(topic_->name), rel_dir);
    f.final_path = io::JoinPath(dir, name);
    f.tmp_path = io::JoinPath(dir, "." + name + ".tmp");
    RETURN_IF_ERROR(a_->dataset_->EnsureDir(topic_->name, rel_dir));
    avro::WriterOptions wo;
    wo.fs = a_->dataset_->fs();
    wo.codec = a_->options_.codec;
    wo.metadata = FileMetadata(topic_->name, pid_, kind, schema_id);
    const avro::Schema* schema = nullptr;
    if (kind == FileKind::kAvro) {
      schema = &local_.at(schema_id)->schema;
    } else if (kind == FileKind::kEnvelope) {
      schema = &EnvelopeSchema();
    } else {
      schema = &DeadLetterSchema();
    }
    ASSIGN_OR_RETURN(f.writer, avro::ContainerWriter::Create(f.tmp_path, *schema, wo));
    return &open_.emplace(key, std::move(f)).first->second;
  }

  Archiver* const a_;
  const std::shared_ptr<TopicCtx> topic_;
  const std::shared_ptr<log::Partition> part_;
  const int32_t pid_;
  bool initialized_ = false;
  std::string read_buffer_;
  bool known_ = false;  // the manifest has this partition
  int64_t start_ = 0;
  int64_t committed_ = 0;
  int64_t next_ = 0;
  std::vector<OffsetRun> skipped_;
  std::vector<OffsetRun> lost_;
  std::map<Key, OpenFile> open_;
  int64_t uncommitted_ = 0;
  uint64_t envelope_ = 0;
  int64_t dirty_since_us_ = -1;
  std::map<int32_t, std::shared_ptr<const SchemaEntry>> local_;
  std::string scratch_;
  avro::DecodeState decode_state_;
};

Archiver::Archiver(log::Log* log, SchemaSource* schemas, ArchiverOptions options)
    : log_(log),
      schemas_(schemas),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock()),
      counters_(std::make_unique<Counters>()) {
  if (options_.threads < 1) options_.threads = 1;
}

Archiver::~Archiver() {
  Stop();
  std::lock_guard<std::mutex> lock(mu_);
  writers_.clear();
}

Status Archiver::OpenDataset() {
  if (dataset_) return Status::OK();
  DatasetOptions d;
  d.fs = options_.fs;
  d.root = options_.root;
  ASSIGN_OR_RETURN(dataset_, Dataset::Open(std::move(d)));
  return Status::OK();
}

Result<std::shared_ptr<Archiver::TopicCtx>> Archiver::Topic(const log::TopicInfo& info) {
  std::shared_ptr<TopicCtx> ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = topics_[info.name];
    if (!slot) {
      slot = std::make_shared<TopicCtx>();
      slot->name = info.name;
    }
    ctx = slot;
  }
  auto tf = info.overrides.find(std::string(kTimeFieldConfig));
  const std::string time_field = tf != info.overrides.end() ? tf->second : "";
  auto cfg = info.overrides.find(std::string(kArchiveConfig));
  std::lock_guard<std::mutex> lock(ctx->mu);
  if (ctx->time_field != time_field) {
    ctx->time_field = time_field;
    ctx->schemas.clear();
  }
  const bool listed =
      std::find(options_.topics.begin(), options_.topics.end(), info.name) != options_.topics.end();
  if (!options_.topics.empty() && !listed) {
    ctx->decided = true;
    ctx->archived = false;
    return ctx;
  }
  if (cfg != info.overrides.end() || listed) {
    const bool on = listed || cfg->second == "true";
    if (!ctx->decided || ctx->archived != on) {
      ctx->decided = true;
      ctx->archived = on;
    }
    return ctx;
  }
  if (ctx->decided) return ctx;
  if (!info.name.empty() && info.name[0] == '_') {
    ctx->decided = true;
    ctx->archived = false;
    return ctx;
  }
  // A stored decision wins; else look at the first record.
  ASSIGN_OR_RETURN(ManifestLease m, dataset_->Snapshot(info.name));
  if (m->archived.has_value()) {
    ctx->decided = true;
    ctx->archived = *m->archived;
    return ctx;
  }
  for (int32_t p = 0; p < info.partition_count; ++p) {
    auto part = log_->GetPartition(info.name, PartitionId(p));
    if (!part.ok()) continue;
    auto read = (*part)->Read((*part)->log_start_offset(), 1);
    std::string bytes;
    if (!read.ok() || read->slice.empty() || !read->slice.AppendTo(&bytes).ok()) continue;
    log::RecordIterator it(bytes);
    log::RecordView rv;
    auto more = it.Next(&rv);
    if (!more.ok() || !*more) continue;
    bool avro = false;
    std::string reason = "the first record is not Confluent-framed Avro";
    if (rv.value && rv.value->size() >= 5 && (*rv.value)[0] == 0 && schemas_ != nullptr) {
      const auto* q = reinterpret_cast<const unsigned char*>(rv.value->data());
      const int32_t id = static_cast<int32_t>((uint32_t{q[1]} << 24) | (uint32_t{q[2]} << 16) |
                                              (uint32_t{q[3]} << 8) | uint32_t{q[4]});
      auto s = schemas_->GetSchema(SchemaId(id));
      if (!s.ok() && !s.status().IsNotFound()) return s.status();
      avro = s.ok();
      reason = avro ? fmt::format("values are registered Avro (schema id {})", id)
                    : fmt::format("the first record's schema id {} is unknown", id);
    }
    RETURN_IF_ERROR(dataset_->Commit(info.name, [&](Manifest* mm) {
      mm->archived = avro;
      mm->decision_reason = reason;
      return Status::OK();
    }));
    LOG_INFO("archive: topic {} {} archived: {}", info.name, avro ? "is" : "is not", reason);
    ctx->decided = true;
    ctx->archived = avro;
    return ctx;
  }
  return ctx;  // no record yet: undecided, not archived for now
}

Status Archiver::Discover(int worker, std::vector<PartitionWriter*>* out) {
  out->clear();
  for (const log::TopicInfo& info : log_->ListTopics()) {
    ASSIGN_OR_RETURN(std::shared_ptr<TopicCtx> ctx, Topic(info));
    {
      std::lock_guard<std::mutex> lock(ctx->mu);
      if (!ctx->archived) continue;
    }
    for (int32_t p = 0; p < info.partition_count; ++p) {
      const size_t h = std::hash<std::string>()(info.name) + static_cast<size_t>(p);
      if (worker >= 0 && static_cast<int>(h % static_cast<size_t>(options_.threads)) != worker) {
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto& w = writers_[{info.name, p}];
      if (!w) {
        auto part = log_->GetPartition(info.name, PartitionId(p));
        if (!part.ok()) continue;
        w = std::make_unique<PartitionWriter>(this, ctx, *part, p);
      }
      out->push_back(w.get());
    }
  }
  return Status::OK();
}

Status Archiver::Pump(PartitionWriter* w, int64_t until, bool* progress) {
  log::Partition* part = w->partition();
  if (!w->initialized()) RETURN_IF_ERROR(w->Init(part->log_start_offset().value()));
  const int64_t log_start = part->log_start_offset().value();
  if (w->next() < log_start) {
    LOG_ERROR("archive: {}-{}: offsets [{}, {}) were deleted from the log before being archived",
              w->topic(), w->id(), w->next(), log_start);
    w->Lose(w->next(), log_start - w->next());
    *progress = true;
  }
  const int64_t hw = part->high_watermark().value();
  const int64_t end = until >= 0 ? std::min(until, hw) : hw;
  if (w->next() >= end) return Status::OK();
  auto read = part->Read(Offset(w->next()), options_.read_bytes);
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kOutOfRange) return Status::OK();  // retention
    return read.status();
  }
  if (read->slice.empty()) return Status::OK();
  std::string& bytes = w->read_buffer();
  bytes.clear();
  RETURN_IF_ERROR(read->slice.AppendTo(&bytes));
  log::RecordIteratorOptions io;
  io.start = Offset(w->next());
  log::RecordIterator it(bytes, io);
  LogRecord r;
  log::RecordView rv;
  *progress = true;
  for (;;) {
    auto more = it.Next(&rv);
    if (!more.ok()) {
      LOG_ERROR("archive: {}-{}: unreadable batch at offset {}: {}", w->topic(), w->id(),
                it.batch().base_offset.value(), more.status().ToString());
      w->Lose(w->next(), it.next_offset().value() - w->next());
      continue;
    }
    if (!*more) break;
    r.offset = rv.offset.value();
    r.timestamp = rv.timestamp;
    r.key = rv.key;
    r.value = rv.value;
    r.headers.clear();
    for (const auto& h : rv.headers) r.headers.push_back({h.key, h.value});
    RETURN_IF_ERROR(w->Add(r));
    if (w->ShouldCommit(clock_->MonotonicMicros())) {
      RETURN_IF_ERROR(w->Commit());
      return Status::OK();  // let the other partitions of this thread have a turn
    }
    if (w->next() >= end) return Status::OK();
  }
  // Control batches and gaps at the end of what was read.
  const int64_t read_end = std::min(it.next_offset().value(), end);
  if (w->next() < read_end) w->Skip(w->next(), read_end - w->next());
  return Status::OK();
}

void Archiver::RecordError(const Status& s) {
  ++counters_->errors;
  counters_->paused = true;
  std::lock_guard<std::mutex> lock(counters_->mu);
  counters_->last_error = s.ToString();
  LOG_ERROR("archive: paused: {} (retrying in {} ms)", s.ToString(), options_.retry_backoff_ms);
}

Status Archiver::RunOnce() {
  RETURN_IF_ERROR(OpenDataset());
  if (!options_.kafka_bootstrap.empty()) return RunKafka(/*once=*/true);
  std::vector<PartitionWriter*> ws;
  Status ds = Discover(-1, &ws);
  if (!ds.ok()) {
    RecordError(ds);
    return ds;
  }
  // Partitions are independent: spread them over the worker threads.
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  Status first_error;
  auto work = [&] {
    for (size_t i = next++; i < ws.size(); i = next++) {
      PartitionWriter* w = ws[i];
      const int64_t until = w->partition()->high_watermark().value();
      Status s;
      for (;;) {
        bool progress = false;
        s = Pump(w, until, &progress);
        if (!s.ok()) break;
        if (w->ShouldCommit(clock_->MonotonicMicros())) {
          s = w->Commit();
          if (!s.ok()) break;
        }
        if (!progress || w->next() >= until) break;
      }
      if (s.ok()) s = w->Commit();
      if (!s.ok()) {
        w->Abort();
        RecordError(s);
        std::lock_guard<std::mutex> lock(err_mu);
        if (first_error.ok()) first_error = s;
      }
    }
  };
  std::vector<std::thread> pool;
  const size_t n = std::min<size_t>(static_cast<size_t>(options_.threads), ws.size());
  for (size_t i = 1; i < n; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  RETURN_IF_ERROR(first_error);
  counters_->paused = false;
  return Status::OK();
}

Status Archiver::Start() {
  RETURN_IF_ERROR(OpenDataset());
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = false;
  }
  if (!options_.kafka_bootstrap.empty()) {
    threads_.emplace_back([this] {
      Status s = RunKafka(/*once=*/false);
      if (!s.ok()) RecordError(s);
    });
  } else {
    for (int i = 0; i < options_.threads; ++i) {
      threads_.emplace_back([this, i] { WorkerLoop(i); });
    }
  }
  if (options_.consolidate) threads_.emplace_back([this] { ConsolidateLoop(); });
  return Status::OK();
}

void Archiver::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Archiver::WorkerLoop(int worker) {
  std::vector<PartitionWriter*> ws;
  int64_t next_discover_us = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      if (stopping_) break;
    }
    int64_t now = clock_->MonotonicMicros();
    bool failed = false;
    if (now >= next_discover_us || ws.empty()) {
      Status s = Discover(worker, &ws);
      if (!s.ok()) {
        RecordError(s);
        failed = true;
      }
      next_discover_us = now + 1'000'000;
    }
    bool any = false;
    for (PartitionWriter* w : ws) {
      now = clock_->MonotonicMicros();
      if (now < w->retry_at_us) {
        failed = true;
        continue;
      }
      bool progress = false;
      Status s = Pump(w, -1, &progress);
      if (s.ok() && w->ShouldCommit(now)) s = w->Commit();
      if (!s.ok()) {
        w->Abort();
        RecordError(s);
        w->retry_at_us = now + options_.retry_backoff_ms * 1000;
        failed = true;
        continue;
      }
      any = any || progress;
    }
    if (!failed) counters_->paused = false;
    if (!any) {
      std::unique_lock<std::mutex> lock(stop_mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.idle_poll_ms),
                        [this] { return stopping_; });
    }
  }
  for (PartitionWriter* w : ws) {
    Status s = w->initialized() ? w->Commit() : Status::OK();
    if (!s.ok()) {
      w->Abort();
      RecordError(s);
    }
  }
}

Result<int> Archiver::ConsolidateOnce() {
  RETURN_IF_ERROR(OpenDataset());
  ConsolidateOptions co;
  co.min_files = options_.consolidate_min_files;
  co.target_bytes = options_.consolidate_target_bytes;
  co.codec = options_.codec;
  int total = 0;
  ASSIGN_OR_RETURN(auto topics, dataset_->ListTopics());
  for (const std::string& t : topics) {
    uint64_t replaced = 0;
    auto n = ConsolidateTopic(dataset_.get(), t, co, &replaced);
    if (!n.ok()) return n.status();
    total += *n;
    counters_->consolidations += static_cast<uint64_t>(*n);
    counters_->consolidated_files += replaced;
  }
  dataset_->CollectGarbage();
  return total;
}

void Archiver::ConsolidateLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(stop_mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.consolidate_interval_ms),
                        [this] { return stopping_; });
      if (stopping_) break;
    }
    auto n = ConsolidateOnce();
    if (!n.ok()) LOG_WARN("archive: consolidation failed: {}", n.status().ToString());
  }
}

namespace {
struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
}  // namespace

Status Archiver::RunKafka(bool once) {
  if (options_.topics.empty()) {
    return Status::InvalidArgument("Kafka mode needs the list of topics to archive");
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {{"bootstrap.servers", options_.kafka_bootstrap},
                                              {"group.id", "braid-archiver"},
                                              {"enable.auto.commit", "false"},
                                              {"enable.partition.eof", "true"},
                                              {"auto.offset.reset", "earliest"}};
  for (const auto& [k, v] : options_.kafka_config) props[k] = v;
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument(fmt::format("librdkafka property {}: {}", k, err));
    }
  }
  std::unique_ptr<rd_kafka_t, RdKafkaDeleter> rk(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Unavailable(std::string("librdkafka: ") + err);
  }
  rd_kafka_poll_set_consumer(rk.get());

  struct KafkaPartition {
    PartitionWriter* w = nullptr;
    int64_t low = 0;   // log start offset seen at the start
    int64_t high = 0;  // end offset seen at the start (once mode)
    bool done = false;
  };
  std::map<std::pair<std::string, int32_t>, KafkaPartition> parts;
  for (const std::string& topic : options_.topics) {
    std::shared_ptr<TopicCtx> ctx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& slot = topics_[topic];
      if (!slot) slot = std::make_shared<TopicCtx>();
      ctx = slot;
    }
    {
      std::lock_guard<std::mutex> lock(ctx->mu);
      ctx->name = topic;
      ctx->decided = ctx->archived = true;
      ctx->time_field = options_.kafka_time_field;
    }
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk.get(), 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
      const rd_kafka_resp_err_t te = e != RD_KAFKA_RESP_ERR_NO_ERROR ? e : md->topics[0].err;
      if (md != nullptr) rd_kafka_metadata_destroy(md);
      return Status::Unavailable(
          fmt::format("Kafka metadata of topic {}: {}", topic, rd_kafka_err2str(te)));
    }
    const int count = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    RETURN_IF_ERROR(dataset_->Commit(topic, [](Manifest* m) {
      if (!m->archived.has_value()) {
        m->archived = true;
        m->decision_reason = "listed for Kafka mode";
      }
      return Status::OK();
    }));
    for (int32_t p = 0; p < count; ++p) {
      int64_t low = 0, high = 0;
      e = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, 10000);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable(
            fmt::format("Kafka watermarks of {}-{}: {}", topic, p, rd_kafka_err2str(e)));
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto& w = writers_[{topic, p}];
      if (!w) w = std::make_unique<PartitionWriter>(this, ctx, nullptr, p);
      KafkaPartition& kp = parts[{topic, p}];
      kp.w = w.get();
      kp.low = low;
      kp.high = high;
      if (!w->initialized()) RETURN_IF_ERROR(w->Init(low));
      if (w->next() < low) w->Lose(w->next(), low - w->next());
      kp.done = w->next() >= high;
    }
  }
  auto assign = [&]() -> Status {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto& [key, kp] : parts) {
      if (!kp.w->initialized()) RETURN_IF_ERROR(kp.w->Init(kp.low));
      rd_kafka_topic_partition_list_add(list, key.first.c_str(), key.second)->offset = kp.w->next();
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(std::string("Kafka assign: ") + rd_kafka_err2str(e));
    }
    return Status::OK();
  };
  RETURN_IF_ERROR(assign());
  auto stopping = [&] {
    std::lock_guard<std::mutex> lock(stop_mu_);
    return stopping_;
  };
  // On an error: drop what is uncommitted everywhere, wait, restart from the
  // manifest.
  auto recover = [&](const Status& s) -> Status {
    RecordError(s);
    for (auto& [key, kp] : parts) kp.w->Abort();
    std::unique_lock<std::mutex> lock(stop_mu_);
    stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.retry_backoff_ms),
                      [this] { return stopping_; });
    lock.unlock();
    if (once && counters_->errors > 1000) return s;
    return assign();
  };
  LogRecord r;
  for (;;) {
    if (once) {
      bool all = true;
      for (auto& [key, kp] : parts) all = all && kp.done;
      if (all) break;
    } else if (stopping()) {
      break;
    }
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk.get(), 100);
    Status s;
    if (msg != nullptr) {
      const std::string topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "";
      auto it = parts.find({topic, msg->partition});
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (it != parts.end()) it->second.done = true;
      } else if (msg->err) {
        LOG_WARN("archive: Kafka: {}", rd_kafka_message_errstr(msg));
      } else if (it != parts.end()) {
        KafkaPartition& kp = it->second;
        rd_kafka_timestamp_type_t tstype;
        r.offset = msg->offset;
        r.timestamp = rd_kafka_message_timestamp(msg, &tstype);
        r.key = msg->key ? std::optional<std::string_view>(
                               std::string_view(static_cast<const char*>(msg->key), msg->key_len))
                         : std::nullopt;
        r.value = msg->payload ? std::optional<std::string_view>(std::string_view(
                                     static_cast<const char*>(msg->payload), msg->len))
                               : std::nullopt;
        r.headers.clear();
        rd_kafka_headers_t* hdrs = nullptr;
        if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name = nullptr;
          const void* val = nullptr;
          size_t size = 0;
          for (size_t i = 0;
               rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
               ++i) {
            r.headers.push_back({name, val ? std::optional<std::string_view>(std::string_view(
                                                 static_cast<const char*>(val), size))
                                           : std::nullopt});
          }
        }
        s = kp.w->Add(r);
        if (kp.w->next() >= kp.high) kp.done = true;
      }
      rd_kafka_message_destroy(msg);
    }
    const int64_t now = clock_->MonotonicMicros();
    for (auto& [key, kp] : parts) {
      if (!s.ok()) break;
      if (kp.w->ShouldCommit(now)) s = kp.w->Commit();
    }
    if (!s.ok()) {
      RETURN_IF_ERROR(recover(s));
      for (auto& [key, kp] : parts) kp.done = kp.w->next() >= kp.high;
    }
  }
  for (auto& [key, kp] : parts) {
    Status s = kp.w->Commit();
    if (!s.ok()) {
      kp.w->Abort();
      RecordError(s);
      return s;
    }
  }
  counters_->paused = false;
  return Status::OK();
}

ArchiverStats Archiver::stats() const {
  ArchiverStats s;
  const Counters& c = *counters_;
  s.records_archived = c.records;
  s.bytes_archived = c.bytes;
  s.files_written = c.files;
  s.commits = c.commits;
  s.envelope_records = c.envelope;
  s.dead_letter_records = c.dead;
  s.lost_records = c.lost;
  s.consolidations = c.consolidations;
  s.consolidated_files = c.consolidated_files;
  s.errors = c.errors;
  s.paused = c.paused;
  {
    std::lock_guard<std::mutex> lock(counters_->mu);
    s.last_error = c.last_error;
  }
  if (dataset_ && log_ != nullptr) {
    auto lag = ComputeLag(dataset_.get(), log_, clock_);
    if (lag.ok()) s.lag = std::move(lag).value();
  }
  return s;
}

Result<std::vector<PartitionLag>> ComputeLag(Dataset* dataset, log::Log* log, Clock* clock) {
  std::vector<PartitionLag> out;
  ASSIGN_OR_RETURN(auto topics, dataset->ListTopics());
  const int64_t now = (clock != nullptr ? clock : SystemClock())->NowMillis();
  for (const std::string& t : topics) {
    ASSIGN_OR_RETURN(ManifestLease m, dataset->Snapshot(t));
    if (!m->archived.value_or(true)) continue;
    auto info = log->DescribeTopic(t);
    if (!info.ok()) continue;
    for (int32_t p = 0; p < info->partition_count; ++p) {
      auto part = log->GetPartition(t, PartitionId(p));
      if (!part.ok()) continue;
      PartitionLag l;
      l.topic = t;
      l.partition = p;
      auto it = m->partitions.find(p);
      l.archived_hwm =
          it != m->partitions.end() ? it->second.hwm : (*part)->log_start_offset().value();
      l.log_end = (*part)->high_watermark().value();
      l.lag_records = std::max<int64_t>(0, l.log_end - l.archived_hwm);
      if (l.lag_records > 0) {
        auto b = (*part)->ReadBatches(
            Offset(std::max(l.archived_hwm, (*part)->log_start_offset().value())), 1);
        if (b.ok() && !b->empty()) {
          l.lag_seconds = std::max<double>(0, (now - b->front().header.first_timestamp) / 1000.0);
        }
      }
      out.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace braid::archive
