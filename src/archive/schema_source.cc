#include "archive/schema_source.h"

namespace braid::archive {

void MapSchemaSource::Add(SchemaId id, avro::Schema schema) {
  std::lock_guard<std::mutex> lock(mu_);
  schemas_[id.value()] = std::move(schema);
}

Result<avro::Schema> MapSchemaSource::GetSchema(SchemaId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = schemas_.find(id.value());
  if (it == schemas_.end()) return Status::NotFound("schema id " + std::to_string(id.value()));
  return it->second;
}

}  // namespace braid::archive
