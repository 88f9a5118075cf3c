// Schemas of the files that do not hold registered Avro values.
//
// Envelope (FileKind::kEnvelope): a value that is not Confluent-framed Avro
// (no magic byte 0 + 4-byte schema id, or a null value) is archived whole:
//
//   {"type": "record", "name": "Envelope", "namespace": "braid.archive",
//    "fields": [
//      {"name": "partition", "type": "int"},
//      {"name": "offset", "type": "long"},
//      {"name": "timestamp", "type": "long"},        // record timestamp, ms
//      {"name": "key", "type": ["null", "bytes"]},
//      {"name": "value", "type": ["null", "bytes"]},
//      {"name": "headers", "type": {"type": "array", "items": {
//         "type": "record", "name": "Header",
//         "fields": [{"name": "key", "type": "string"},
//                    {"name": "value", "type": ["null", "bytes"]}]}}}]}
//
// Dead letter (FileKind::kDeadLetter): a Confluent-framed value that cannot be
// decoded (unknown schema id, corrupt body): the Envelope fields followed by
//      {"name": "schema_id", "type": "int"},   // -1 if the frame was too short
//      {"name": "error", "type": "string"}
// (record name "DeadLetter").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "avro/schema.h"
#include "base/strong_type.h"
#include "log/records.h"

namespace braid::archive {

const avro::Schema& EnvelopeSchema();
const avro::Schema& DeadLetterSchema();

// Appends the binary encoding of `r` (partition p) under EnvelopeSchema().
void EncodeEnvelope(PartitionId partition, const log::RecordView& r, std::string* out);
// Appends the binary encoding under DeadLetterSchema().
void EncodeDeadLetter(PartitionId partition, const log::RecordView& r, int32_t schema_id,
                      std::string_view error, std::string* out);

}  // namespace braid::archive
