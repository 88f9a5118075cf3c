#include "archive/archiver.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

#include "archive/compactor.h"
#include "archive/layout.h"
#include "avro/container.h"
#include "avro/field_extractor.h"
#include "base/logging.h"
#include "log/records.h"
#include "source/kafka_source.h"
#include "source/log_source.h"

namespace braid::archive {

namespace {

// A registered schema and how its values are read: one pass of the field
// extractor both validates the whole value (as a full decode would) and
// reads the event-time field, if the topic names one the schema has.
struct SchemaEntry {
  avro::Schema schema;
  std::shared_ptr<const avro::FieldExtractor> extractor;
};

std::shared_ptr<const SchemaEntry> MakeEntry(const avro::Schema& schema,
                                             const std::string& time_field, Status* error) {
  avro::ExtractorOptions o;
  o.decode.validate_skipped_blocks = true;  // accept exactly what a full decode accepts
  o.strict_paths = false;  // a schema without the field: the record timestamp is used
  std::vector<std::string> paths;
  if (!time_field.empty()) paths.push_back(time_field);
  auto ex = avro::FieldExtractor::Compile(schema, paths, o);
  if (!ex.ok()) {
    *error = ex.status();
    return nullptr;
  }
  auto e = std::make_shared<SchemaEntry>();
  e->schema = schema;
  e->extractor = std::move(ex).value();
  return e;
}

// The schema id of a Confluent-framed value (magic 0, int32 id), or -1.
int32_t FramedSchemaId(const std::optional<std::string_view>& v) {
  if (!v.has_value() || v->size() < 5 || (*v)[0] != 0) return -1;
  const auto* p = reinterpret_cast<const unsigned char*>(v->data());
  return static_cast<int32_t>((uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16) |
                              (uint32_t{p[3]} << 8) | uint32_t{p[4]});
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
  PartitionWriter(Archiver* a, std::shared_ptr<TopicCtx> topic, PartitionId pid)
      : a_(a), topic_(std::move(topic)), pid_(pid) {}
  ~PartitionWriter() { Abort(); }

  const std::string& topic() const { return topic_->name; }
  PartitionId id() const { return pid_; }
  source::TopicPartition tp() const { return {topic_->name, pid_}; }
  int64_t next() const { return next_; }
  int64_t committed() const { return committed_; }
  bool initialized() const { return initialized_; }
  // After an error: no records are taken before this time, and the source
  // must be moved back to next() first.
  int64_t retry_at_us = 0;
  bool needs_seek = false;

  // Positions at the manifest's high-water mark; a partition the manifest
  // does not know yet starts at `first_offset` (the log start).
  Status Init(int64_t first_offset) {
    ASSIGN_OR_RETURN(ManifestLease m, a_->dataset_->Snapshot(topic_->name));
    auto it = m->partitions.find(pid_);
    known_ = it != m->partitions.end();
    start_ = known_ ? it->second.start.value() : first_offset;
    committed_ = next_ = known_ ? it->second.hwm.value() : start_;
    initialized_ = true;
    return Status::OK();
  }

  // Marks [first, first + count) as consumed without a file.
  void Skip(int64_t first, int64_t count) {
    if (count <= 0) return;
    AddToRuns(&skipped_, Offset(first), count);
    Touch();
    next_ = first + count;
  }
  void Lose(int64_t first, int64_t count) {
    if (count <= 0) return;
    AddToRuns(&lost_, Offset(first), count);
    a_->counters_->lost += static_cast<uint64_t>(count);
    Touch();
    next_ = first + count;
  }

  Status Add(const log::RecordView& r) {
    const int64_t offset = r.offset.value();
    if (offset < next_) return Status::OK();
    Skip(next_, offset - next_);
    if (const int32_t id = FramedSchemaId(r.value); id >= 0) {
      std::string error;
      ASSIGN_OR_RETURN(std::shared_ptr<const SchemaEntry> entry, LookupSchema(id, &error));
      if (entry == nullptr) return DeadLetter(r, id, error);
      const std::string_view body = r.value->substr(5);
      Status s = entry->extractor->Extract(body, &fields_);
      if (!s.ok()) return DeadLetter(r, id, std::string(s.message()));
      const int64_t t =
          fields_.size() == 1 ? fields_.GetTimestampMillis(0).value_or(r.timestamp) : r.timestamp;
      ASSIGN_OR_RETURN(OpenFile * f, File(FileKind::kAvro, HourOf(t), id, offset));
      RETURN_IF_ERROR(f->writer->AppendEncoded(body));
      Added(f, offset, t);
      return Status::OK();
    }
    scratch_.clear();
    EncodeEnvelope(pid_, r, &scratch_);
    ASSIGN_OR_RETURN(OpenFile * f, File(FileKind::kEnvelope, HourOf(r.timestamp), -1, offset));
    RETURN_IF_ERROR(f->writer->AppendEncoded(scratch_));
    Added(f, offset, r.timestamp);
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
      if (added) st.start = st.hwm = Offset(start);
      if (st.hwm != Offset(committed)) {
        return Status::Aborted(fmt::format("partition {} high-water mark moved from {} to {}", pid_,
                                           committed, st.hwm));
      }
      for (const FileEntry& e : entries) m->files.push_back(e);
      for (const OffsetRun& r : skipped_) AddToRuns(&st.skipped, r.first, r.count);
      for (const OffsetRun& r : lost_) AddToRuns(&st.lost, r.first, r.count);
      st.hwm = Offset(next);
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
      e.first_offset = Offset(offset);
      e.min_time = e.max_time = t;
    }
    e.last_offset = Offset(offset);
    AddToRuns(&e.runs, Offset(offset));
    ++e.records;
    e.min_time = std::min(e.min_time, t);
    e.max_time = std::max(e.max_time, t);
    ++uncommitted_;
    Touch();
    next_ = offset + 1;
  }

  Status DeadLetter(const log::RecordView& r, int32_t id, const std::string& error) {
    scratch_.clear();
    EncodeDeadLetter(pid_, r, id, error, &scratch_);
    ASSIGN_OR_RETURN(OpenFile * f, File(FileKind::kDeadLetter, 0, -1, r.offset.value()));
    RETURN_IF_ERROR(f->writer->AppendEncoded(scratch_));
    Added(f, r.offset.value(), r.timestamp);
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
    const std::string name = PartFileName(pid_, Offset(offset));
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
  const PartitionId pid_;
  bool initialized_ = false;
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
  avro::ExtractedFields fields_;
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
  source::LogSource first(log_);
  for (int32_t p = 0; p < info.partition_count; ++p) {
    if (!first.Assign({{{info.name, PartitionId(p)}, Offset(-1)}}).ok()) continue;
    source::PollOptions po;
    po.timeout = std::chrono::milliseconds(0);
    po.max_records_per_partition = 1;
    std::optional<int32_t> id;  // of the first record, -1 if not framed
    auto polled = first.Poll(po, [&](const source::PartitionRecords& pr) {
      if (pr.error.ok() && !pr.records.empty()) id = FramedSchemaId(pr.records[0].value);
      return Status::OK();
    });
    if (!polled.ok() || !id.has_value()) continue;
    bool avro = false;
    std::string reason = "the first record is not Confluent-framed Avro";
    if (*id >= 0 && schemas_ != nullptr) {
      auto s = schemas_->GetSchema(SchemaId(*id));
      if (!s.ok() && !s.status().IsNotFound()) return s.status();
      avro = s.ok();
      reason = avro ? fmt::format("values are registered Avro (schema id {})", *id)
                    : fmt::format("the first record's schema id {} is unknown", *id);
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

std::shared_ptr<Archiver::TopicCtx> Archiver::KafkaTopic(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = topics_[name];
  if (!slot) {
    slot = std::make_shared<TopicCtx>();
    slot->name = name;
    slot->decided = slot->archived = true;
    slot->time_field = options_.kafka_time_field;
  }
  return slot;
}

Result<std::unique_ptr<source::RecordSource>> Archiver::NewSource() const {
  if (options_.kafka_bootstrap.empty()) {
    if (log_ == nullptr)
      return Status::InvalidArgument("the archiver needs a log or a Kafka cluster");
    return std::unique_ptr<source::RecordSource>(std::make_unique<source::LogSource>(log_));
  }
  source::KafkaSourceOptions ko;
  ko.bootstrap = options_.kafka_bootstrap;
  ko.group = "braid-archiver";
  ko.client_id = "braid-archiver";
  ko.config = options_.kafka_config;
  ASSIGN_OR_RETURN(auto ks, source::KafkaSource::Create(std::move(ko)));
  return std::unique_ptr<source::RecordSource>(std::move(ks));
}

Status Archiver::Discover(source::RecordSource* src, int worker,
                          std::vector<PartitionWriter*>* out) {
  out->clear();
  std::vector<std::pair<std::shared_ptr<TopicCtx>, int32_t>> topics;  // with partition counts
  if (options_.kafka_bootstrap.empty()) {
    for (const log::TopicInfo& info : log_->ListTopics()) {
      ASSIGN_OR_RETURN(std::shared_ptr<TopicCtx> ctx, Topic(info));
      std::lock_guard<std::mutex> lock(ctx->mu);
      if (ctx->archived) topics.emplace_back(ctx, info.partition_count);
    }
  } else {
    if (options_.topics.empty()) {
      return Status::InvalidArgument("Kafka mode needs the list of topics to archive");
    }
    for (const std::string& topic : options_.topics) {
      ASSIGN_OR_RETURN(int32_t count, src->PartitionCount(topic));
      RETURN_IF_ERROR(dataset_->Commit(topic, [](Manifest* m) {
        if (!m->archived.has_value()) {
          m->archived = true;
          m->decision_reason = "listed for Kafka mode";
        }
        return Status::OK();
      }));
      topics.emplace_back(KafkaTopic(topic), count);
    }
  }
  for (const auto& [ctx, count] : topics) {
    for (int32_t p = 0; p < count; ++p) {
      const size_t h = std::hash<std::string>()(ctx->name) + static_cast<size_t>(p);
      if (worker >= 0 && static_cast<int>(h % static_cast<size_t>(options_.threads)) != worker) {
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto& w = writers_[{ctx->name, PartitionId(p)}];
      if (!w) w = std::make_unique<PartitionWriter>(this, ctx, PartitionId(p));
      out->push_back(w.get());
    }
  }
  return Status::OK();
}

void Archiver::RecordError(const Status& s) {
  ++counters_->errors;
  counters_->paused = true;
  std::lock_guard<std::mutex> lock(counters_->mu);
  counters_->last_error = s.ToString();
  LOG_ERROR("archive: paused: {} (retrying in {} ms)", s.ToString(), options_.retry_backoff_ms);
}

bool Archiver::stopping() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  return stopping_;
}

// One worker's partitions and its source.
struct Archiver::Worker {
  std::unique_ptr<source::RecordSource> src;
  std::map<source::TopicPartition, PartitionWriter*> writers;
  std::map<source::TopicPartition, int64_t> until;  // RunOnce: the watermark at the start
  bool failed = false;  // an error this round (stats().paused stays set)
  bool once = false;    // RunOnce: the first error ends the run
};

Status Archiver::Consume(Worker* wk, const source::PartitionRecords& pr) {
  auto it = wk->writers.find(*pr.partition);
  if (it == wk->writers.end()) return Status::OK();
  PartitionWriter* w = it->second;
  const int64_t now = clock_->MonotonicMicros();
  if (now < w->retry_at_us || w->needs_seek) {
    w->needs_seek = true;  // records read past an error: read them again later
    return Status::OK();
  }
  Status s;
  if (!pr.error.ok()) {
    if (pr.log_start.value() > w->next()) {
      LOG_ERROR("archive: {}: offsets [{}, {}) were deleted from the log before being archived",
                pr.partition->ToString(), w->next(), pr.log_start.value());
      w->Lose(w->next(), pr.log_start.value() - w->next());
      s = wk->src->Seek(*pr.partition, Offset(w->next()));
    } else {
      // Above the log's end: the log lost records it had (unflushed data
      // after a crash). Wait until it holds this offset again.
      LOG_ERROR("archive: {}: {}; waiting", pr.partition->ToString(), pr.error.ToString());
      w->retry_at_us = now + options_.retry_backoff_ms * 1000;
      w->needs_seek = true;
    }
  } else {
    for (const log::RecordView& r : pr.records) {
      s = w->Add(r);
      if (!s.ok()) break;
    }
    // Control records and gaps the source skipped.
    if (s.ok() && pr.next_offset.value() > w->next()) {
      w->Skip(w->next(), pr.next_offset.value() - w->next());
    }
  }
  if (s.ok()) s = MaybeCommit(w, now);
  if (!s.ok()) {
    w->Abort();
    RecordError(s);
    w->retry_at_us = now + options_.retry_backoff_ms * 1000;
    w->needs_seek = true;
    wk->failed = true;
    if (wk->once) return s;  // RunOnce reports the first error
  }
  return Status::OK();
}

Status Archiver::MaybeCommit(PartitionWriter* w, int64_t now_us) {
  bool cover = false;
  {
    std::lock_guard<std::mutex> lock(cover_mu_);
    auto it = cover_.find(w->topic());
    if (it != cover_.end()) {
      const int64_t c = it->second.at(w->id()).value();
      cover = w->committed() < c && w->next() >= c;
    }
  }
  if (!cover && !w->ShouldCommit(now_us)) return Status::OK();
  RETURN_IF_ERROR(w->Commit());
  cover_cv_.notify_all();
  return Status::OK();
}

Status Archiver::RunWorker(int worker, bool once) {
  ASSIGN_OR_RETURN(std::unique_ptr<source::RecordSource> src, NewSource());
  Worker wk;
  wk.src = std::move(src);
  wk.once = once;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    sources_.push_back(wk.src.get());
  }
  struct Unregister {
    Archiver* a;
    source::RecordSource* s;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(a->stop_mu_);
      a->sources_.erase(std::remove(a->sources_.begin(), a->sources_.end(), s), a->sources_.end());
    }
  } unregister{this, wk.src.get()};

  Status first_error;
  int64_t next_discover_us = 0;
  source::PollOptions po;
  po.timeout = std::chrono::milliseconds(options_.idle_poll_ms);
  po.max_bytes_per_partition = options_.read_bytes;
  po.max_records_per_partition = 50'000;
  for (;;) {
    if (!once && stopping()) break;
    int64_t now = clock_->MonotonicMicros();
    wk.failed = false;
    if (now >= next_discover_us) {
      next_discover_us = now + 1'000'000;
      std::vector<PartitionWriter*> ws;
      Status s = Discover(wk.src.get(), worker, &ws);
      bool changed = false;
      for (PartitionWriter* w : ws) {
        const source::TopicPartition tp = w->tp();
        if (s.ok() && (!w->initialized() || (once && wk.until.count(tp) == 0))) {
          auto wm = wk.src->GetWatermarks(tp);
          s = wm.status();
          if (s.ok() && !w->initialized()) s = w->Init(wm->log_start.value());
          if (s.ok() && w->next() < wm->log_start.value()) {
            w->Lose(w->next(), wm->log_start.value() - w->next());
          }
          if (s.ok() && once) wk.until[tp] = wm->high_watermark.value();
        }
        if (!s.ok()) break;
        if (wk.writers.emplace(tp, w).second) changed = true;
      }
      if (s.ok() && changed) {
        std::map<source::TopicPartition, Offset> assign;
        for (const auto& [tp, w] : wk.writers) assign[tp] = Offset(w->next());
        s = wk.src->Assign(assign);
      }
      if (!s.ok()) {
        RecordError(s);
        if (once) return s;
        std::unique_lock<std::mutex> lock(stop_mu_);
        stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.retry_backoff_ms),
                          [this] { return stopping_; });
        next_discover_us = 0;
        continue;
      }
    }
    // Partitions that failed get their retry: back to the manifest.
    for (auto& [tp, w] : wk.writers) {
      if (!w->needs_seek || now < w->retry_at_us) continue;
      Status s = w->initialized() ? Status::OK() : w->Init(w->next());
      if (s.ok()) s = wk.src->Seek(tp, Offset(w->next()));
      if (s.ok()) {
        w->needs_seek = false;
      } else {
        RecordError(s);
        w->retry_at_us = now + options_.retry_backoff_ms * 1000;
      }
    }
    if (once) {
      bool done = true;
      for (const auto& [tp, w] : wk.writers) {
        auto u = wk.until.find(tp);
        if (u != wk.until.end() && w->next() < u->second) done = false;
      }
      if (done) break;
      if (counters_->errors > 1000) {
        first_error = Status::Unavailable("archiver: too many errors, last: " + stats().last_error);
        break;
      }
    }
    auto polled =
        wk.src->Poll(po, [&](const source::PartitionRecords& pr) { return Consume(&wk, pr); });
    if (!polled.ok() && once) {
      first_error = polled.status();
      break;
    }
    if (!polled.ok()) {
      RecordError(polled.status());
      wk.failed = true;
      std::unique_lock<std::mutex> lock(stop_mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.retry_backoff_ms),
                        [this] { return stopping_; });
    }
    now = clock_->MonotonicMicros();
    for (auto& [tp, w] : wk.writers) {
      if (w->needs_seek || !w->initialized()) continue;
      Status s = MaybeCommit(w, now);
      if (!s.ok()) {
        w->Abort();
        RecordError(s);
        w->retry_at_us = now + options_.retry_backoff_ms * 1000;
        w->needs_seek = true;
        wk.failed = true;
        if (once && first_error.ok()) first_error = s;
      }
    }
    if (!first_error.ok()) break;
    if (!wk.failed) counters_->paused = false;
  }
  // Stop() or the end of RunOnce: commit what is open.
  for (auto& [tp, w] : wk.writers) {
    Status s = w->initialized() && !w->needs_seek ? w->Commit() : Status::OK();
    if (!s.ok()) {
      w->Abort();
      RecordError(s);
      if (first_error.ok()) first_error = s;
    }
  }
  cover_cv_.notify_all();
  return first_error;
}

Status Archiver::RunOnce() {
  RETURN_IF_ERROR(OpenDataset());
  std::vector<Status> results(static_cast<size_t>(options_.threads));
  std::vector<std::thread> pool;
  for (int i = 1; i < options_.threads; ++i) {
    pool.emplace_back([this, i, &results] { results[i] = RunWorker(i, /*once=*/true); });
  }
  results[0] = RunWorker(0, /*once=*/true);
  for (auto& t : pool) t.join();
  for (const Status& s : results) RETURN_IF_ERROR(s);
  counters_->paused = false;
  return Status::OK();
}

Status Archiver::Start() {
  RETURN_IF_ERROR(OpenDataset());
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = false;
    running_ = true;
  }
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this, i] {
      Status s = RunWorker(i, /*once=*/false);
      if (!s.ok()) RecordError(s);
    });
  }
  if (options_.consolidate) threads_.emplace_back([this] { ConsolidateLoop(); });
  return Status::OK();
}

void Archiver::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
    running_ = false;
    for (source::RecordSource* s : sources_) s->Wakeup();
  }
  stop_cv_.notify_all();
  cover_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

Status Archiver::CoverCut(const std::string& topic, const log::Cut& cut,
                          std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (!running_) return Status::FailedPrecondition("the archiver is not running");
  }
  if (log_ != nullptr) {
    ASSIGN_OR_RETURN(log::TopicInfo info, log_->DescribeTopic(topic));
    for (const auto& [p, o] : cut.offsets) {
      ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, p));
      if (o > part->high_watermark()) {
        return Status::OutOfRange(fmt::format("cut {} of {}-{} is above its high watermark {}",
                                              o.value(), topic, p.value(),
                                              part->high_watermark().value()));
      }
    }
    ASSIGN_OR_RETURN(std::shared_ptr<TopicCtx> ctx, Topic(info));
    std::lock_guard<std::mutex> lock(ctx->mu);
    if (ctx->decided && !ctx->archived) {
      return Status::FailedPrecondition("topic " + topic + " is not archived");
    }
  }
  auto covered = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(ManifestLease m, dataset_->Snapshot(topic));
    for (const auto& [p, o] : cut.offsets) {
      if (o.value() <= 0) continue;
      auto it = m->partitions.find(p);
      if (it == m->partitions.end() || it->second.hwm < o) return false;
    }
    return true;
  };
  ASSIGN_OR_RETURN(bool done, covered());
  if (done) return Status::OK();
  {
    std::lock_guard<std::mutex> lock(cover_mu_);
    log::Cut& want = cover_[topic];
    for (const auto& [p, o] : cut.offsets) {
      want.offsets[p] = std::max(want.offsets.count(p) ? want.offsets[p] : Offset(0), o);
    }
  }
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    for (source::RecordSource* s : sources_) s->Wakeup();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status result;
  for (;;) {
    auto c = covered();
    if (!c.ok()) {
      result = c.status();
      break;
    }
    if (*c) break;
    if (stopping()) {
      result = Status::Aborted("the archiver stopped");
      break;
    }
    std::unique_lock<std::mutex> lock(cover_mu_);
    if (cover_cancelled_) {
      result = Status::Unavailable("braid is stopping");
      break;
    }
    if (cover_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      lock.unlock();
      auto last = covered();
      if (last.ok() && *last) break;
      result = Status::TimedOut(fmt::format(
          "topic {}: the master dataset does not cover the cut {} after {} ms{}", topic,
          cut.ToString(), timeout.count(),
          counters_->paused ? " (archiving is paused: " + stats().last_error + ")" : ""));
      break;
    }
  }
  // The request is done when the manifest covers it (also for other callers).
  std::lock_guard<std::mutex> lock(cover_mu_);
  auto it = cover_.find(topic);
  if (it != cover_.end()) {
    auto m = dataset_->Snapshot(topic);
    bool all = m.ok();
    for (const auto& [p, o] : it->second.offsets) {
      if (!all) break;
      auto pit = (*m)->partitions.find(p);
      all = o.value() <= 0 || (pit != (*m)->partitions.end() && pit->second.hwm >= o);
    }
    if (all) cover_.erase(it);
  }
  return result;
}

void Archiver::CancelCoverWaits() {
  {
    std::lock_guard<std::mutex> lock(cover_mu_);
    cover_cancelled_ = true;
  }
  cover_cv_.notify_all();
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
      l.partition = PartitionId(p);
      auto it = m->partitions.find(PartitionId(p));
      l.archived_hwm =
          it != m->partitions.end() ? Offset(it->second.hwm) : (*part)->log_start_offset();
      l.log_end = (*part)->high_watermark();
      l.lag_records = std::max<int64_t>(0, l.log_end.value() - l.archived_hwm.value());
      if (l.lag_records > 0) {
        auto b = (*part)->ReadBatches(std::max(l.archived_hwm, (*part)->log_start_offset()), 1);
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
