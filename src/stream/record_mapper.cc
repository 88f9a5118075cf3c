#include "stream/record_mapper.h"

#include "base/coding.h"

namespace braid::stream {

Result<std::pair<int32_t, std::string_view>> SplitConfluentFrame(std::string_view value) {
  if (value.size() < 5 || value[0] != 0) {
    return Status::Corruption("the value is not Confluent-framed Avro (magic byte 0, schema id)");
  }
  const auto id = static_cast<int32_t>(coding::DecodeBigEndian32(value.data() + 1));
  return std::make_pair(id, value.substr(5));
}

ExtractorCache::ExtractorCache(std::vector<std::string> paths, SchemaLookup schemas)
    : paths_(std::move(paths)), schemas_(std::move(schemas)) {}

RecordMapper::RecordMapper(std::shared_ptr<const views::ViewDefinition> view, SchemaLookup schemas)
    : view_(std::move(view)), extractors_(view_->paths(), std::move(schemas)) {}

Result<std::shared_ptr<const avro::FieldExtractor>> ExtractorCache::Get(int32_t schema_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(schema_id);
    if (it != cache_.end()) return it->second;
  }
  if (!schemas_) return Status::NotFound("no schema registry to resolve schema ids with");
  auto schema = schemas_(SchemaId(schema_id));
  if (!schema.ok()) {
    if (schema.status().code() != StatusCode::kNotFound) return schema.status();  // transient
    Result<std::shared_ptr<const avro::FieldExtractor>> r = Status::NotFound(
        "schema id " + std::to_string(schema_id) + ": " + std::string(schema.status().message()));
    std::lock_guard<std::mutex> lock(mu_);
    cache_.emplace(schema_id, r);
    return r;
  }
  avro::ExtractorOptions o;
  o.decode.validate_skipped_blocks = true;  // accept what the archiver accepts
  Result<std::shared_ptr<const avro::FieldExtractor>> r =
      avro::FieldExtractor::Compile(*schema, paths_, o);
  std::lock_guard<std::mutex> lock(mu_);
  cache_.emplace(schema_id, r);
  return r;
}

Status RecordMapper::MapRecord(const RecordRef& r, MapScratch* scratch,
                               std::vector<views::Emit>* out) const {
  views::Event e;
  e.topic = r.topic;
  e.partition = r.partition;
  e.offset = r.offset;
  e.timestamp_ms = r.timestamp_ms;
  e.key = r.key;
  e.value = r.value;
  if (r.value.has_value() && r.value->size() >= 5 && (*r.value)[0] == 0) {
    auto frame = SplitConfluentFrame(*r.value);
    if (frame.ok()) e.schema_id = frame->first;
  }
  if (view_->needs_avro() || !view_->paths().empty()) {
    if (!r.value.has_value()) {
      if (view_->needs_avro()) return Status::Corruption("a null value is not Avro");
    } else {
      auto frame = SplitConfluentFrame(*r.value);
      if (!frame.ok()) {
        if (view_->needs_avro()) return frame.status();
      } else {
        std::shared_ptr<const avro::FieldExtractor> ex;
        if (scratch->last_schema == frame->first && scratch->last_extractor) {
          ex = scratch->last_extractor;
        } else {
          ASSIGN_OR_RETURN(ex, extractors_.Get(frame->first));
          scratch->last_schema = frame->first;
          scratch->last_extractor = ex;
        }
        RETURN_IF_ERROR(ex->Extract(frame->second, &scratch->fields));
        e.fields = &scratch->fields;
      }
    }
  }
  return view_->Map(e, out);
}

}  // namespace braid::stream
