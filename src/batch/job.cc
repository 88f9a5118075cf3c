#include "batch/job.h"

#include <map>

#include "avro/binary.h"
#include "avro/field_extractor.h"
#include "braid/mapreduce.h"

namespace braid::batch {

Input Input::Dataset(archive::Dataset* dataset, std::string topic, log::Cut cut,
                     std::optional<archive::TimeRange> time) {
  Input in;
  in.kind = Kind::kDataset;
  in.dataset = dataset;
  in.topic = std::move(topic);
  in.cut = std::move(cut);
  in.time = time;
  return in;
}

Input Input::AvroFiles(std::vector<std::string> paths) {
  Input in;
  in.kind = Kind::kAvroFiles;
  in.paths = std::move(paths);
  return in;
}

Input Input::TextFiles(std::vector<std::string> paths) {
  Input in;
  in.kind = Kind::kTextFiles;
  in.paths = std::move(paths);
  return in;
}

namespace {

// Walks the log offsets of a dataset file's records (manifest offset runs).
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
  // The offset of the current record (-1 past the runs), then advances.
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

// The public Record over the engine's extracted fields.
class RecordView final : public mr::Record {
 public:
  std::string_view file() const override { return file_; }
  uint64_t position() const override { return position_; }
  std::string_view data() const override { return data_; }
  bool is_avro() const override { return avro_; }
  std::string_view topic() const override { return topic_; }
  int32_t partition() const override { return partition_; }
  int64_t offset() const override { return offset_; }
  int32_t schema_id() const override { return schema_id_; }
  bool present(size_t i) const override { return Has(i) && fields_->present(i); }
  bool is_null(size_t i) const override { return !Has(i) || fields_->is_null(i); }
  std::optional<bool> GetBool(size_t i) const override {
    return Has(i) ? fields_->GetBool(i) : std::nullopt;
  }
  std::optional<int64_t> GetLong(size_t i) const override {
    return Has(i) ? fields_->GetLong(i) : std::nullopt;
  }
  std::optional<double> GetDouble(size_t i) const override {
    return Has(i) ? fields_->GetDouble(i) : std::nullopt;
  }
  std::optional<std::string_view> GetString(size_t i) const override {
    return Has(i) ? fields_->GetString(i) : std::nullopt;
  }
  std::optional<int64_t> GetTimestampMillis(size_t i) const override {
    return Has(i) ? fields_->GetTimestampMillis(i) : std::nullopt;
  }

  std::string_view file_, data_, topic_;
  uint64_t position_ = 0;
  bool avro_ = false;
  int32_t partition_ = -1;
  int64_t offset_ = -1;
  int32_t schema_id_ = -1;
  const avro::ExtractedFields* fields_ = nullptr;

 private:
  bool Has(size_t i) const { return fields_ != nullptr && i < fields_->size(); }
};

// The public Context over an engine Emitter; Fail() keeps the first error.
class ContextAdapter final : public mr::Context {
 public:
  explicit ContextAdapter(Emitter* out, bool combiner_key_check = false) : out_(out) {}
  void Emit(std::string_view key, std::string_view value) override { out_->Emit(key, {}, value); }
  void Emit(std::string_view key, std::string_view sort_key, std::string_view value) override {
    out_->Emit(key, sort_key, value);
  }
  void Count(std::string_view name, int64_t n) override { out_->Count(name, n); }
  void Fail(std::string_view message) override {
    if (error_.ok()) error_ = Status::Aborted("job failed: " + std::string(message));
  }
  // The error set by Fail (then cleared).
  Status Take() {
    Status s = std::move(error_);
    error_ = Status::OK();
    return s;
  }

 private:
  Emitter* out_;
  Status error_;
};

// Runs user code: an exception becomes an error.
template <typename F>
Status Guard(ContextAdapter& ctx, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    ctx.Fail(std::string("exception: ") + e.what());
  } catch (...) {
    ctx.Fail("exception");
  }
  return ctx.Take();
}

class ValuesAdapter final : public mr::Values {
 public:
  explicit ValuesAdapter(ValueIterator* it) : it_(it) {}
  bool Next(std::string_view* value, std::string_view* sort_key) override {
    return it_->Next(value, sort_key);
  }

 private:
  ValueIterator* it_;
};

class ReducerAdapter final : public GroupReducer {
 public:
  explicit ReducerAdapter(std::unique_ptr<mr::Reducer> r) : r_(std::move(r)) {}
  Status Reduce(std::string_view key, ValueIterator* values, Emitter* out) override {
    ContextAdapter ctx(out);
    ValuesAdapter v(values);
    return Guard(ctx, [&] { r_->Reduce(key, v, ctx); });
  }
  Status Finish(Emitter* out) override {
    ContextAdapter ctx(out);
    return Guard(ctx, [&] { r_->Finish(ctx); });
  }

 private:
  std::unique_ptr<mr::Reducer> r_;
};

class MergerAdapter final : public ValueMerger {
 public:
  explicit MergerAdapter(const mr::Merger* m) : m_(m) {}
  Status Merge(std::string_view key, std::string* acc, std::string_view value) const override {
    std::string error;
    try {
      if (m_->Merge(key, acc, value, &error)) return Status::OK();
    } catch (const std::exception& e) {
      error = std::string("exception: ") + e.what();
    }
    return Status::Aborted("job failed: merge: " + error);
  }

 private:
  const mr::Merger* m_;
};

class PartitionerAdapter final : public KeyPartitioner {
 public:
  explicit PartitionerAdapter(std::unique_ptr<mr::Partitioner> p) : p_(std::move(p)) {}
  uint32_t Partition(std::string_view key, uint32_t n) const override {
    return p_->Partition(key, n);
  }

 private:
  std::unique_ptr<mr::Partitioner> p_;
};

// A raw job's map step: extracts Job::paths() from each Avro record and
// calls the job's Mapper per record.
class RecordMapper final : public SplitMapper {
 public:
  explicit RecordMapper(std::shared_ptr<const mr::Job> job)
      : job_(std::move(job)), paths_(job_->paths()), mapper_(job_->NewMapper()) {}

  Status MapBlock(const AvroBlock& b, Emitter* out) override {
    ASSIGN_OR_RETURN(const avro::FieldExtractor* ex, ExtractorFor(b.file->schema));
    avro::Decoder dec(b.data);
    const bool dataset = !b.file->topic.empty();
    std::optional<OffsetWalker> offsets;
    if (dataset) offsets.emplace(b.file->entry.runs, b.first_record);
    RecordView r;
    r.file_ = b.file->path;
    r.position_ = b.offset;
    r.avro_ = true;
    r.fields_ = paths_.empty() ? nullptr : &fields_;
    if (dataset) {
      r.topic_ = b.file->topic;
      r.partition_ = b.file->entry.partition.value();
      r.schema_id_ = b.file->entry.kind == archive::FileKind::kAvro ? b.file->entry.schema_id : -1;
    }
    ContextAdapter ctx(out);
    for (int64_t i = 0; i < b.records; ++i) {
      const size_t start = dec.consumed();
      Status s = ex->Extract(&dec, &fields_);
      if (!s.ok()) return s.WithContext("record " + std::to_string(b.first_record + i));
      r.data_ = b.data.substr(start, dec.consumed() - start);
      if (dataset) r.offset_ = offsets->Next();
      s = Guard(ctx, [&] { mapper_->Map(r, ctx); });
      if (!s.ok()) {
        return s.WithContext("record " + std::to_string(b.first_record + i) +
                             (dataset ? " (offset " + std::to_string(r.offset_) + ")" : ""));
      }
    }
    return Status::OK();
  }

  Status MapLine(const TextLine& line, Emitter* out) override {
    RecordView r;
    r.file_ = line.file->path;
    r.position_ = line.offset;
    r.data_ = line.line;
    ContextAdapter ctx(out);
    return Guard(ctx, [&] { mapper_->Map(r, ctx); });
  }

  Status Finish(Emitter* out) override {
    ContextAdapter ctx(out);
    return Guard(ctx, [&] { mapper_->Finish(ctx); });
  }

 private:
  Result<const avro::FieldExtractor*> ExtractorFor(const avro::Schema& schema) {
    const uint64_t fp = schema.Fingerprint64();
    auto it = extractors_.find(fp);
    if (it != extractors_.end() && it->second->writer().SameCanonicalForm(schema)) {
      return it->second.get();
    }
    avro::ExtractorOptions o;
    o.strict_paths = false;  // a writer without a path: always absent
    ASSIGN_OR_RETURN(auto ex, avro::FieldExtractor::Compile(schema, paths_, o));
    const avro::FieldExtractor* p = ex.get();
    extractors_[fp] = std::move(ex);
    return p;
  }

  std::shared_ptr<const mr::Job> job_;
  std::vector<std::string> paths_;
  std::unique_ptr<mr::Mapper> mapper_;
  std::map<uint64_t, std::shared_ptr<const avro::FieldExtractor>> extractors_;
  avro::ExtractedFields fields_;
};

// Keeps a Job's Merger adapter alive with the EngineJob.
struct MergerHolder {
  std::shared_ptr<const mr::Job> job;
  MergerAdapter adapter;
};

}  // namespace

EngineJob FromMrJob(std::shared_ptr<const mr::Job> job) {
  EngineJob e;
  e.name = job->name();
  e.new_mapper = [job]() -> std::unique_ptr<SplitMapper> {
    return std::make_unique<RecordMapper>(job);
  };
  if (job->merger() != nullptr) {
    auto holder = std::make_shared<MergerHolder>(MergerHolder{job, MergerAdapter(job->merger())});
    e.merger = &holder->adapter;
    e.keep_alive = holder;
  } else if (job->NewCombiner() != nullptr) {  // a job without a combiner returns null
    e.new_combiner = [job]() -> std::unique_ptr<GroupReducer> {
      return std::make_unique<ReducerAdapter>(job->NewCombiner());
    };
  }
  e.new_reducer = [job]() -> std::unique_ptr<GroupReducer> {
    return std::make_unique<ReducerAdapter>(job->NewReducer());
  };
  if (job->NewPartitioner() != nullptr) {
    e.new_partitioner = [job]() -> std::unique_ptr<KeyPartitioner> {
      return std::make_unique<PartitionerAdapter>(job->NewPartitioner());
    };
  }
  e.reduce_tasks = job->reduce_tasks();
  return e;
}

}  // namespace braid::batch
