// A client of any Confluent-compatible schema registry over HTTP: what the
// archiver and the speed layer use to resolve schema ids when they read
// from a Kafka cluster beside an external registry.
#pragma once

#include <string>

#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"

namespace braid::registry {

// GET <base_url>/schemas/ids/<id> (base_url like "http://127.0.0.1:8081"):
// the Avro schema of a global schema id. NotFound when the registry answers
// 404, the schema is not Avro, or it does not parse (the record can never
// be read: dead-letter it); other errors (IOError, Unavailable, TimedOut,
// Corruption of the answer) are transient.
Result<avro::Schema> FetchSchemaById(const std::string& base_url, SchemaId id);

}  // namespace braid::registry
