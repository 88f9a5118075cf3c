#include "archive/schema_source.h"
#include "registry/rest_client.h"

namespace braid::archive {

Result<avro::Schema> RestSchemaSource::GetSchema(SchemaId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(id.value());
    if (it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(avro::Schema schema, registry::FetchSchemaById(base_url_, id));
  std::lock_guard<std::mutex> lock(mu_);
  cache_[id.value()] = schema;
  return schema;
}

}  // namespace braid::archive
