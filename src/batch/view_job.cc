#include "batch/view_job.h"

#include <rocksdb/env.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "archive/envelope.h"
#include "avro/binary.h"
#include "avro/field_extractor.h"
#include "base/coding.h"
#include "batch/rocks.h"
#include "views/cell_key.h"
#include "views/mapper.h"
#include "views/session.h"

namespace braid::batch {

using views::Granularity;

GranularityPlan PlanGranularities(const std::vector<Granularity>& kept) {
  auto has = [&](Granularity g) { return std::find(kept.begin(), kept.end(), g) != kept.end(); };
  GranularityPlan p;
  if (has(Granularity::kHour)) {
    p.base = Granularity::kHour;
  } else if (has(Granularity::kDay) || has(Granularity::kWeek) || has(Granularity::kMonth)) {
    p.base = Granularity::kDay;
  } else {
    p.base = Granularity::kAll;
  }
  p.keep_base = has(p.base);
  for (Granularity g : {Granularity::kHour, Granularity::kDay, Granularity::kWeek,
                        Granularity::kMonth, Granularity::kAll}) {
    if (g != p.base && has(g)) p.derived.push_back(g);
  }
  return p;
}

namespace {

// The log offsets of a dataset file's records, from the manifest's runs.
class OffsetWalker {
 public:
  OffsetWalker(const std::vector<archive::OffsetRun>& runs, int64_t first_record) : runs_(runs) {
    int64_t skip = first_record;
    while (run_ < runs_.size() && skip >= runs_[run_].count) {
      skip -= runs_[run_].count;
      ++run_;
    }
    in_run_ = skip;
  }
  int64_t Next() {
    if (run_ >= runs_.size()) return -1;
    const int64_t o = runs_[run_].first.value() + in_run_;
    if (++in_run_ >= runs_[run_].count) {
      ++run_;
      in_run_ = 0;
    }
    return o;
  }

 private:
  const std::vector<archive::OffsetRun>& runs_;
  size_t run_ = 0;
  int64_t in_run_ = 0;
};

// The start of `key`'s cells in a view job ([view index] + view key
// prefix): a total-order range boundary that keeps a view key in one range.
std::string ViewKeyBoundary(std::string_view job_key) {
  if (job_key.empty()) return std::string(job_key);
  auto ck = views::DecodeCellKey(job_key.substr(1));
  if (!ck.ok()) return std::string(job_key);
  std::string b(1, job_key[0]);
  b += views::CellKeyPrefix(ck->key);
  return b;
}

}  // namespace

// ---------------------------------------------------------------------- map

class ViewJob::Mapper final : public SplitMapper {
 public:
  explicit Mapper(const ViewJob* job) : job_(job) {
    for (const auto& v : job->views_) {
      // The shared map step (views/mapper.h), the speed layer's too. Schemas
      // come from the files being read (each names its registry id).
      per_view_.push_back(
          std::make_unique<views::Mapper>(v, [this](SchemaId id) -> Result<avro::Schema> {
            auto it = schemas_.find(id.value());
            if (it == schemas_.end()) {
              return Status::NotFound("schema id " + std::to_string(id.value()));
            }
            return it->second;
          }));
    }
  }

  Status MapBlock(const AvroBlock& b, Emitter* out) override {
    const bool dataset = !b.file->topic.empty();
    const bool envelope = dataset && b.file->entry.kind == archive::FileKind::kEnvelope;
    const int32_t schema_id = dataset && !envelope ? b.file->entry.schema_id : -1;
    if (schema_id >= 0) schemas_.try_emplace(schema_id, b.file->schema);
    // Record boundaries, once for every view (a projection of no path
    // walks each record with the same checks as the extractors).
    ASSIGN_OR_RETURN(const avro::FieldExtractor* skip, SkipperFor(b.file->schema));
    bounds_.clear();
    avro::Decoder dec(b.data);
    for (int64_t i = 0; i < b.records; ++i) {
      Status s = skip->Extract(&dec, &skip_fields_);
      if (!s.ok()) return s.WithContext("record " + std::to_string(b.first_record + i));
      bounds_.push_back(dec.consumed());
    }
    std::optional<OffsetWalker> offsets;
    views::RecordRef rec;
    rec.topic = job_->topic();
    rec.timestamp_ms = dataset ? b.file->entry.min_time : 0;
    if (dataset) rec.partition = b.file->entry.partition;
    for (size_t v = 0; v < per_view_.size(); ++v) {
      if (dataset) offsets.emplace(b.file->entry.runs, b.first_record);
      size_t start = 0;
      for (int64_t i = 0; i < b.records; ++i) {
        const std::string_view body = b.data.substr(start, bounds_[i] - start);
        start = bounds_[i];
        if (dataset) rec.offset = Offset(offsets->Next());
        emits_.clear();
        Status s;
        if (envelope) {
          RETURN_IF_ERROR(EnvelopeRecord(body, &rec));
          s = per_view_[v]->Map(rec, &emits_);
        } else if (schema_id >= 0) {
          s = per_view_[v]->MapAvro(rec, SchemaId(schema_id), body, &emits_);
        } else {
          s = per_view_[v]->MapAvro(rec, b.file->schema, body, &emits_);
        }
        if (!s.ok()) {
          // The view rejected the event: counted (MapperStats), skipped.
          if (s.code() == StatusCode::kInvalidArgument) continue;
          return s.WithContext("record " + std::to_string(b.first_record + i));
        }
        Emit(v, out);
      }
    }
    return Status::OK();
  }

  Status MapLine(const TextLine& line, Emitter*) override {
    return Status::InvalidArgument("views read Avro records, not text files");
  }

  Status Finish(Emitter* out) override {
    for (size_t v = 0; v < per_view_.size(); ++v) {
      const std::string& name = job_->views_[v]->name();
      const views::MapperStats& st = per_view_[v]->stats();
      auto count = [&](const char* what, uint64_t n) {
        if (n > 0) out->Count("view." + name + "." + what, static_cast<int64_t>(n));
      };
      count("events", st.mapped + st.map_errors);
      count("emitted", cells_[v]);
      count("map_errors", st.map_errors);
      count("not_avro", st.not_avro);
      count("outside_time_range", out_of_range_[v]);
    }
    return Status::OK();
  }

 private:
  Result<const avro::FieldExtractor*> SkipperFor(const avro::Schema& schema) {
    const uint64_t fp = schema.Fingerprint64();
    auto it = skippers_.find(fp);
    if (it != skippers_.end() && it->second->writer().SameCanonicalForm(schema)) {
      return it->second.get();
    }
    ASSIGN_OR_RETURN(auto ex,
                     avro::FieldExtractor::Compile(schema, {}, views::ExtractorCache::Options()));
    const avro::FieldExtractor* p = ex.get();
    skippers_[fp] = std::move(ex);
    return p;
  }

  // The record's timestamp, key and value from an envelope record.
  Status EnvelopeRecord(std::string_view body, views::RecordRef* rec) {
    if (envelope_ == nullptr) {
      ASSIGN_OR_RETURN(envelope_, avro::FieldExtractor::Compile(archive::EnvelopeSchema(),
                                                                {"timestamp", "key", "value"}));
    }
    RETURN_IF_ERROR(envelope_->Extract(body, &env_fields_));
    rec->timestamp_ms = env_fields_.GetLong(0).value_or(0);
    rec->key = env_fields_.GetString(1);
    rec->value = env_fields_.GetString(2);
    return Status::OK();
  }

  void Emit(size_t v, Emitter* out) {
    const GranularityPlan& plan = job_->plans_[v];
    if (cells_.size() < per_view_.size()) {
      cells_.resize(per_view_.size());
      out_of_range_.resize(per_view_.size());
    }
    const bool session = job_->views_[v]->session() != nullptr;
    for (const views::Emit& e : emits_) {
      if (job_->time_ && (e.time_ms < job_->time_->from_ms || e.time_ms >= job_->time_->to_ms)) {
        ++out_of_range_[v];
        continue;
      }
      key_.assign(1, static_cast<char>(v));
      if (session) {
        // One entry per event: the view key, sorted by (person, time).
        key_ += views::CellKeyPrefix(e.key);
        sort_key_.clear();
        views::AppendSessionSortKey(e.value, e.time_ms, &sort_key_);
        out->Emit(key_, sort_key_, {});
        ++cells_[v];
        continue;
      }
      views::AppendCellKey(e.key, plan.base, views::BucketStart(plan.base, e.time_ms), &key_);
      out->Emit(key_, e.value);
      ++cells_[v];
    }
  }

  const ViewJob* job_;
  std::map<int32_t, avro::Schema> schemas_;
  std::vector<std::unique_ptr<views::Mapper>> per_view_;
  std::map<uint64_t, std::shared_ptr<const avro::FieldExtractor>> skippers_;
  avro::ExtractedFields skip_fields_;
  std::vector<size_t> bounds_;
  std::vector<views::Emit> emits_;
  std::vector<uint64_t> cells_, out_of_range_;
  std::string key_, sort_key_;
  std::shared_ptr<const avro::FieldExtractor> envelope_;
  avro::ExtractedFields env_fields_;
};

// -------------------------------------------------------- combine and reduce

class ViewJob::Merger final : public ValueMerger {
 public:
  explicit Merger(const ViewJob* job) : job_(job) {}
  // Sessionised views' events are sorted, not merged.
  bool Merges(std::string_view key) const override {
    const size_t v = key.empty() ? SIZE_MAX : static_cast<uint8_t>(key[0]);
    return v >= job_->views_.size() || job_->views_[v]->session() == nullptr;
  }
  Status Merge(std::string_view key, std::string* acc, std::string_view value) const override {
    const size_t v = static_cast<uint8_t>(key[0]);
    if (key.empty() || v >= job_->views_.size()) return Status::Internal("bad view job key");
    return job_->views_[v]->monoid().Merge(acc, value);
  }
  Status MergeMany(std::string_view key, std::string* acc,
                   std::span<const std::string_view> values) const override {
    const size_t v = key.empty() ? SIZE_MAX : static_cast<uint8_t>(key[0]);
    if (v >= job_->views_.size()) return Status::Internal("bad view job key");
    return job_->views_[v]->monoid().MergeMany(acc, values);
  }

 private:
  const ViewJob* job_;
};

class ViewJob::Reducer final : public GroupReducer {
 public:
  explicit Reducer(const ViewJob* job) : job_(job) {}

  Status Reduce(std::string_view key, ValueIterator* values, Emitter* ctx) override {
    if (key.empty() || static_cast<uint8_t>(key[0]) >= job_->views_.size()) {
      return Status::Internal("bad view job key");
    }
    const size_t v = static_cast<uint8_t>(key[0]);
    if (const views::SessionSpec* session = job_->views_[v]->session()) {
      FlushRolled(ctx);
      view_ = -1;
      return ReduceSessions(v, *session, key, values, ctx);
    }
    ASSIGN_OR_RETURN(views::CellKey ck, views::DecodeCellKey(key.substr(1)));
    if (static_cast<int>(v) != view_ || ck.key != view_key_) {
      FlushRolled(ctx);
      view_ = static_cast<int>(v);
      view_key_ = std::move(ck.key);
    }
    const views::Monoid& monoid = job_->views_[v]->monoid();
    std::string_view value;
    if (!values->Next(&value)) return Status::OK();
    acc_.assign(value);
    while (values->Next(&value)) RETURN_IF_ERROR(monoid.Merge(&acc_, value));
    const GranularityPlan& plan = job_->plans_[v];
    if (plan.keep_base) ctx->Emit(key, acc_);
    for (Granularity g : plan.derived) {
      auto [it, inserted] =
          rolled_.try_emplace({static_cast<uint8_t>(g), views::BucketStart(g, ck.bucket_start)});
      if (inserted) {
        it->second = acc_;
      } else {
        RETURN_IF_ERROR(monoid.Merge(&it->second, acc_));
      }
    }
    return Status::OK();
  }

  Status Finish(Emitter* ctx) override {
    FlushRolled(ctx);
    return Status::OK();
  }

 private:
  // A sessionised view's key ([view] + CellKeyPrefix(view key)): its events
  // in (person, time) order become visits; writes the key's cells, in key
  // order.
  Status ReduceSessions(size_t v, const views::SessionSpec& session, std::string_view key,
                        ValueIterator* values, Emitter* ctx) {
    const views::ViewDefinition& view = *job_->views_[v];
    views::VisitCounter counter(session.gap_ms, view.granularities());
    std::string_view value, sort_key, person;
    int64_t time_ms = 0;
    while (values->Next(&value, &sort_key)) {
      RETURN_IF_ERROR(views::SplitSessionSortKey(sort_key, &person, &time_ms));
      RETURN_IF_ERROR(counter.Add(person, time_ms));
    }
    counter.Finish();
    for (const auto& [gb, stats] : counter.cells()) {  // (granularity, bucket): key order
      key_.assign(key);
      views::AppendCellKeyBucket(gb.first, gb.second, &key_);
      ctx->Emit(key_, views::EncodeVisits(stats.visits, static_cast<int64_t>(stats.bounces)));
    }
    ctx->Count("view." + view.name() + ".visits", static_cast<int64_t>(counter.visits()));
    ctx->Count("view." + view.name() + ".bounces", static_cast<int64_t>(counter.bounces()));
    return Status::OK();
  }

  // Writes the rolled-up cells of the current view key, in key order
  // (granularity, then bucket start).
  void FlushRolled(Emitter* ctx) {
    for (const auto& [gb, value] : rolled_) {
      key_.assign(1, static_cast<char>(view_));
      views::AppendCellKey(view_key_, static_cast<Granularity>(gb.first), gb.second, &key_);
      ctx->Emit(key_, value);
    }
    rolled_.clear();
  }

  const ViewJob* job_;
  int view_ = -1;
  std::string view_key_;
  std::string acc_;
  std::string key_;
  std::map<std::pair<uint8_t, int64_t>, std::string> rolled_;
};

// ------------------------------------------------------------------ ViewJob

Result<std::shared_ptr<ViewJob>> ViewJob::Create(
    std::vector<std::shared_ptr<const views::ViewDefinition>> views,
    std::optional<archive::TimeRange> time) {
  if (views.empty()) return Status::InvalidArgument("a view job needs at least one view");
  if (views.size() > kMaxViewsPerJob) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxViewsPerJob) + " views per job");
  }
  std::shared_ptr<ViewJob> job(new ViewJob());
  for (const auto& v : views) {
    if (v->topic() != views.front()->topic()) {
      return Status::InvalidArgument("views " + views.front()->name() + " and " + v->name() +
                                     " read different topics");
    }
    if (v->granularities().empty()) {
      return Status::InvalidArgument("view " + v->name() + " keeps no granularity");
    }
    job->plans_.push_back(PlanGranularities(v->granularities()));
  }
  job->views_ = std::move(views);
  job->time_ = time;
  job->merger_ = std::make_unique<Merger>(job.get());
  return job;
}

EngineJob ViewJob::engine_job() const {
  EngineJob e;
  e.name = "views:" + topic();
  e.new_mapper = [this]() -> std::unique_ptr<SplitMapper> {
    return std::make_unique<Mapper>(this);
  };
  e.merger = merger_.get();
  e.new_reducer = [this]() -> std::unique_ptr<GroupReducer> {
    return std::make_unique<Reducer>(this);
  };
  e.total_order = true;
  e.range_boundary = ViewKeyBoundary;
  return e;
}

// --------------------------------------------------------------- SST output

class ViewSstOutput::Part final : public OutputPart {
 public:
  Part(ViewSstOutput* out, uint32_t part) : out_(out), part_(part) {}
  ~Part() override {
    if (writer_ != nullptr) writer_.reset();
  }

  Status Write(std::string_view key, std::string_view value) override {
    if (key.empty()) return Status::Internal("bad view job key");
    const size_t v = static_cast<uint8_t>(key[0]);
    if (writer_ == nullptr || v != view_) {
      RETURN_IF_ERROR(FinishWriter());
      view_ = v;
      const std::string dir = io::JoinPath(out_->dir_, std::to_string(v));
      RETURN_IF_ERROR(io::DefaultFileSystem()->CreateDirs(dir));
      char name[32];
      std::snprintf(name, sizeof(name), "part-%05u.sst", part_);
      path_ = io::JoinPath(dir, name);
      writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), RocksOptions());
      RETURN_IF_ERROR(FromRocks(writer_->Open(path_), "creating " + path_));
      cells_ = 0;
    }
    ++cells_;
    return FromRocks(writer_->Put(rocksdb::Slice(key.data() + 1, key.size() - 1),
                                  rocksdb::Slice(value.data(), value.size())),
                     "writing " + path_);
  }

  Status Close() override { return FinishWriter(); }

 private:
  Status FinishWriter() {
    if (writer_ == nullptr) return Status::OK();
    rocksdb::ExternalSstFileInfo info;
    Status s = FromRocks(writer_->Finish(&info), "finishing " + path_);
    writer_.reset();
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(out_->mu_);
    out_->written_[{part_, view_}] = {path_, cells_, info.file_size};
    return Status::OK();
  }

  ViewSstOutput* out_;
  uint32_t part_;
  size_t view_ = 0;
  std::string path_;
  uint64_t cells_ = 0;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
};

ViewSstOutput::ViewSstOutput(std::string dir, size_t views) : dir_(std::move(dir)), files_(views) {}
ViewSstOutput::~ViewSstOutput() = default;

Result<std::unique_ptr<OutputPart>> ViewSstOutput::OpenPart(uint32_t part) {
  return std::unique_ptr<OutputPart>(std::make_unique<Part>(this, part));
}

Status ViewSstOutput::Commit() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : files_) f = ViewFiles();
  for (const auto& [pv, w] : written_) {  // ordered by part: key order
    ViewFiles& f = files_[pv.second];
    f.sst_files.push_back(w.path);
    f.cells += w.cells;
    f.bytes += w.bytes;
  }
  return Status::OK();
}

void ViewSstOutput::Abort() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [pv, w] : written_) io::DefaultFileSystem()->DeleteFile(w.path).IgnoreError();
  written_.clear();
}

}  // namespace braid::batch
