#include "batch/job.h"

#include <map>

#include "avro/binary.h"
#include "avro/field_extractor.h"

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

// A raw job's map step: extracts Job::paths() from each Avro record and
// calls the job's Mapper per record.
class RecordMapper final : public SplitMapper {
 public:
  explicit RecordMapper(std::shared_ptr<const mr::Job> job)
      : job_(std::move(job)), paths_(job_->paths()), mapper_(job_->NewMapper()) {}

  Status MapBlock(const AvroBlock& b, mr::Context* ctx) override {
    ASSIGN_OR_RETURN(const avro::FieldExtractor* ex, ExtractorFor(b.file->schema));
    avro::Decoder dec(b.data);
    const bool dataset = !b.file->topic.empty();
    std::optional<OffsetWalker> offsets;
    if (dataset) offsets.emplace(b.file->entry.runs, b.first_record);
    mr::Record r;
    r.file = b.file->path;
    r.position = b.offset;
    r.schema = &b.file->schema;
    r.fields = paths_.empty() ? nullptr : &fields_;
    if (dataset) {
      r.topic = b.file->topic;
      r.partition = b.file->entry.partition;
      r.schema_id = b.file->entry.kind == archive::FileKind::kAvro ? b.file->entry.schema_id : -1;
    }
    for (int64_t i = 0; i < b.records; ++i) {
      const size_t start = dec.consumed();
      Status s = ex->Extract(&dec, &fields_);
      if (!s.ok()) return s.WithContext("record " + std::to_string(b.first_record + i));
      r.data = b.data.substr(start, dec.consumed() - start);
      if (dataset) r.offset = Offset(offsets->Next());
      s = mapper_->Map(r, ctx);
      if (!s.ok()) {
        return s.WithContext("record " + std::to_string(b.first_record + i) +
                             (dataset ? " (offset " + std::to_string(r.offset.value()) + ")" : ""));
      }
    }
    return Status::OK();
  }

  Status MapLine(const TextLine& line, mr::Context* ctx) override {
    mr::Record r;
    r.file = line.file->path;
    r.position = line.offset;
    r.data = line.line;
    return mapper_->Map(r, ctx);
  }

  Status Finish(mr::Context* ctx) override { return mapper_->Finish(ctx); }

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

}  // namespace

EngineJob FromMrJob(std::shared_ptr<const mr::Job> job) {
  EngineJob e;
  e.name = job->name();
  e.new_mapper = [job]() -> std::unique_ptr<SplitMapper> {
    return std::make_unique<RecordMapper>(job);
  };
  if (job->merger() == nullptr) {
    // Probe once: a job without a combiner returns null.
    if (job->NewCombiner() != nullptr) {
      e.new_combiner = [job] { return job->NewCombiner(); };
    }
  }
  e.merger = job->merger();
  e.new_reducer = [job] { return job->NewReducer(); };
  if (job->NewPartitioner() != nullptr) {
    e.new_partitioner = [job] { return job->NewPartitioner(); };
  }
  e.reduce_tasks = job->reduce_tasks();
  return e;
}

}  // namespace braid::batch
