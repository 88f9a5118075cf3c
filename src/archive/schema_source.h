// SchemaSource: how the archiver gets the writer schema of a Confluent schema
// id. Implementations: MapSchemaSource (tests, tools), RestSchemaSource (any
// Confluent-compatible registry over HTTP, for --kafka mode), and
// RegistrySchemaSource (braid's embedded registry, registry_schema_source.h,
// built only when the registry module is).
//
// Contract: GetSchema returns NotFound when the registry answers that the id
// does not exist (the archiver then dead-letters the record); any other error
// is transient (the archiver pauses and retries).
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"

namespace braid::archive {

class SchemaSource {
 public:
  virtual ~SchemaSource() = default;
  virtual Result<avro::Schema> GetSchema(SchemaId id) = 0;
};

// A fixed id → schema map.
class MapSchemaSource final : public SchemaSource {
 public:
  void Add(SchemaId id, avro::Schema schema);
  Result<avro::Schema> GetSchema(SchemaId id) override;

 private:
  std::mutex mu_;
  std::map<int32_t, avro::Schema> schemas_;  // guarded by mu_
};

// GET <base_url>/schemas/ids/<id> on a Confluent-compatible registry
// (base_url like "http://127.0.0.1:8081"). Caches answers.
class RestSchemaSource final : public SchemaSource {
 public:
  explicit RestSchemaSource(std::string base_url) : base_url_(std::move(base_url)) {}
  Result<avro::Schema> GetSchema(SchemaId id) override;

 private:
  const std::string base_url_;
  std::mutex mu_;
  std::map<int32_t, avro::Schema> cache_;  // guarded by mu_
};

}  // namespace braid::archive
