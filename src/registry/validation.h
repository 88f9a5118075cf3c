// Produce-time schema validation: the check a broker runs on every record of
// a topic that requires Confluent-framed Avro keys and/or values.
//
// Policy (topic configs): `braid.value.schema.validation` and
// `braid.key.schema.validation`, "true" or "false" (default false). With the
// policy on, a non-null value (key) must be: magic byte 0x00, a 4-byte
// big-endian schema id known to the registry, that id registered (not
// soft-deleted) under the TopicNameStrategy subject "<topic>-value"
// ("<topic>-key"), and the rest of the bytes exactly one Avro binary datum of
// that schema (no trailing bytes). A null value (tombstone) or null key always
// passes.
//
// Thread safety: RecordValidator is thread-safe (its decoder cache is locked).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "avro/decoder_program.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "registry/registry.h"

namespace braid::registry {

// Topic config names.
inline constexpr std::string_view kValueSchemaValidationConfig = "braid.value.schema.validation";
inline constexpr std::string_view kKeySchemaValidationConfig = "braid.key.schema.validation";

struct ValidationPolicy {
  bool key = false;    // braid.key.schema.validation. Default: false.
  bool value = false;  // braid.value.schema.validation. Default: false.
  bool enabled() const { return key || value; }
};

// Reads the two configs from a topic's config map ("true", case-insensitive,
// turns a check on; anything else or absent leaves it off).
ValidationPolicy PolicyFromTopicConfigs(const std::map<std::string, std::string>& configs);
ValidationPolicy PolicyFromTopicConfigs(
    const std::map<std::string, std::string, std::less<>>& configs);  // log::ConfigMap

// Splits Confluent framing: returns the schema id and sets *body to the Avro
// bytes. InvalidArgument if shorter than 5 bytes or the magic byte is not 0.
Result<SchemaId> ParseConfluentFrame(std::string_view bytes, std::string_view* body);

class RecordValidator {
 public:
  // `registry` must outlive the validator.
  explicit RecordValidator(const Registry* registry) : registry_(registry) {}

  // Checks one record. `record_index` is the record's position in its batch
  // (0-based), used in messages. Returns OK, or InvalidArgument whose message
  // names the record index, key/value, and the reason, e.g.
  // "record 2: value: schema id 7 is not registered under subject 'orders-value'".
  Status Validate(std::string_view topic, const ValidationPolicy& policy, int record_index,
                  std::optional<std::string_view> key, std::optional<std::string_view> value) const;

  // Number of compiled decoders cached (for tests).
  size_t cached_decoders() const;

 private:
  Status CheckOne(const std::string& subject, std::string_view what, int record_index,
                  std::string_view bytes) const;
  Result<std::shared_ptr<const avro::CompiledDecoder>> DecoderFor(SchemaId id) const;

  const Registry* registry_;
  mutable std::mutex mu_;
  // Schema ids are never reused and an id's schema never changes, so entries
  // stay valid; the cache is cleared when it grows past a bound.
  mutable std::unordered_map<int32_t, std::shared_ptr<const avro::CompiledDecoder>> decoders_;
};

}  // namespace braid::registry
