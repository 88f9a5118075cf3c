// RegistrySchemaSource: SchemaSource over braid's embedded registry
// (registry::Registry::GetSchemaById). Built only when the registry module is.
#pragma once

#include "archive/schema_source.h"
#include "registry/registry.h"

namespace braid::archive {

class RegistrySchemaSource final : public SchemaSource {
 public:
  // `registry` must outlive this object.
  explicit RegistrySchemaSource(const registry::Registry* registry) : registry_(registry) {}
  Result<avro::Schema> GetSchema(SchemaId id) override {
    auto r = registry_->GetSchemaById(id);
    if (!r.ok()) return r.status();
    return (*r)->schema;
  }

 private:
  const registry::Registry* registry_;
};

}  // namespace braid::archive
