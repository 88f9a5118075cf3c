#include "views/mapper.h"

#include "base/coding.h"

namespace braid::views {

std::optional<SchemaId> SplitConfluentFrame(std::string_view value, std::string_view* body) {
  if (value.size() < 5 || value[0] != 0) return std::nullopt;
  *body = value.substr(5);
  return SchemaId(static_cast<int32_t>(coding::DecodeBigEndian32(value.data() + 1)));
}

// ---------------------------------------------------------------------------

ExtractorCache::ExtractorCache(std::vector<std::string> paths, SchemaLookup lookup,
                               size_t max_entries)
    : paths_(std::move(paths)), lookup_(std::move(lookup)), max_entries_(max_entries) {}

avro::ExtractorOptions ExtractorCache::Options() {
  avro::ExtractorOptions o;
  o.strict_paths = false;                   // any writer schema of the topic
  o.decode.validate_skipped_blocks = true;  // accept exactly what the archiver accepts
  o.read_to_end = true;
  o.allow_trailing_bytes = false;
  return o;
}

Result<std::shared_ptr<const avro::FieldExtractor>> ExtractorCache::Compile(
    const avro::Schema& writer) {
  return avro::FieldExtractor::Compile(writer, paths_, Options());
}

Result<std::shared_ptr<const avro::FieldExtractor>> ExtractorCache::ForSchemaId(SchemaId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(id.value());
    if (it != by_id_.end()) return it->second;
  }
  if (!lookup_)
    return Status::NotFound("schema id " + std::to_string(id.value()) + ": no registry");
  // Looked up and compiled outside the lock (a lookup may be an HTTP call);
  // two threads may compile the same schema once each.
  Result<avro::Schema> schema = lookup_(id);
  if (!schema.ok()) {
    return schema.status().WithContext("schema id " + std::to_string(id.value()));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const avro::FieldExtractor> ex, Compile(*schema));
  std::lock_guard<std::mutex> lock(mu_);
  if (by_id_.size() + by_json_.size() >= max_entries_) by_id_.clear();
  by_id_.emplace(id.value(), ex);
  return ex;
}

Result<std::shared_ptr<const avro::FieldExtractor>> ExtractorCache::ForSchema(
    const avro::Schema& writer) {
  std::string json = writer.ToJson();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_json_.find(json);
    if (it != by_json_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const avro::FieldExtractor> ex, Compile(writer));
  std::lock_guard<std::mutex> lock(mu_);
  if (by_id_.size() + by_json_.size() >= max_entries_) by_json_.clear();
  by_json_.emplace(std::move(json), ex);
  return ex;
}

size_t ExtractorCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_id_.size() + by_json_.size();
}

// ---------------------------------------------------------------------------

Mapper::Mapper(std::shared_ptr<const ViewDefinition> view, std::shared_ptr<ExtractorCache> cache)
    : view_(std::move(view)), cache_(std::move(cache)) {}

Mapper::Mapper(std::shared_ptr<const ViewDefinition> view, SchemaLookup lookup)
    : view_(std::move(view)),
      cache_(std::make_shared<ExtractorCache>(view_->paths(), std::move(lookup))) {}

Result<const avro::FieldExtractor*> Mapper::ExtractorFor(SchemaId id) {
  if (id.value() == last_id_ && last_ != nullptr) return last_;
  auto it = local_.find(id.value());
  if (it == local_.end()) {
    ASSIGN_OR_RETURN(std::shared_ptr<const avro::FieldExtractor> ex, cache_->ForSchemaId(id));
    if (local_.size() >= 1024) local_.clear();
    it = local_.emplace(id.value(), std::move(ex)).first;
  }
  last_id_ = id.value();
  last_ = it->second.get();
  return last_;
}

Status Mapper::Count(Status s) {
  switch (s.code()) {
    case StatusCode::kOk:
      break;
    case StatusCode::kNotFound:
      ++stats_.unknown_schema;
      break;
    case StatusCode::kCorruption:
      ++stats_.undecodable;
      break;
    case StatusCode::kInvalidArgument:
      ++stats_.map_errors;
      break;
    default:
      ++stats_.lookup_errors;
  }
  return s;
}

Status Mapper::Run(const RecordRef& record, std::optional<std::string_view> value,
                   int32_t schema_id, const avro::FieldExtractor* extractor, std::string_view body,
                   std::vector<Emit>* out) {
  Event e;
  e.topic = record.topic;
  e.partition = record.partition;
  e.offset = record.offset;
  e.timestamp_ms = record.timestamp_ms;
  e.key = record.key;
  e.value = value;
  e.schema_id = schema_id;
  if (extractor != nullptr) {
    Status s = extractor->Extract(body, &fields_);
    if (!s.ok()) {
      return Count(Status::Corruption("offset " + std::to_string(record.offset.value()) +
                                      ": value does not decode under schema id " +
                                      std::to_string(schema_id) + ": " + std::string(s.message())));
    }
    e.fields = &fields_;
  }
  const size_t before = out->size();
  Status s = view_->Map(e, out);
  if (!s.ok()) {
    out->resize(before);
    return Count(
        Status::InvalidArgument("view " + view_->name() + ": " + std::string(s.message())));
  }
  ++stats_.mapped;
  stats_.emits += out->size() - before;
  return Status::OK();
}

Status Mapper::Map(const RecordRef& record, std::vector<Emit>* out) {
  ++stats_.records;
  std::string_view body;
  std::optional<SchemaId> id;
  if (record.value) id = SplitConfluentFrame(*record.value, &body);
  if (!id) {
    if (view_->needs_avro()) {
      ++stats_.not_avro;
      return Status::OK();
    }
    return Run(record, record.value, -1, nullptr, {}, out);
  }
  Result<const avro::FieldExtractor*> ex = ExtractorFor(*id);
  if (!ex.ok()) {
    if (ex.status().IsNotFound() && !view_->needs_avro()) {
      return Run(record, record.value, -1, nullptr, {}, out);
    }
    return Count(ex.status());
  }
  return Run(record, record.value, id->value(), *ex, body, out);
}

Status Mapper::MapAvro(const RecordRef& record, SchemaId schema_id, std::string_view body,
                       std::vector<Emit>* out) {
  ++stats_.records;
  Result<const avro::FieldExtractor*> ex = ExtractorFor(schema_id);
  if (!ex.ok()) return Count(ex.status());
  framed_.assign(1, '\0');
  coding::PutBigEndian32(&framed_, static_cast<uint32_t>(schema_id.value()));
  framed_.append(body);
  return Run(record, std::string_view(framed_), schema_id.value(), *ex, body, out);
}

Status Mapper::MapAvro(const RecordRef& record, const avro::Schema& writer, std::string_view body,
                       std::vector<Emit>* out) {
  ++stats_.records;
  if (last_schema_extractor_ == nullptr || &writer.root() != &last_schema_.root()) {
    Result<std::shared_ptr<const avro::FieldExtractor>> ex = cache_->ForSchema(writer);
    if (!ex.ok()) return Count(Status::InvalidArgument(std::string(ex.status().message())));
    last_schema_ = writer;
    last_schema_extractor_ = std::move(*ex);
  }
  return Run(record, body, -1, last_schema_extractor_.get(), body, out);
}

}  // namespace braid::views
