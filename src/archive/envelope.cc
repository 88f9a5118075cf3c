#include "archive/envelope.h"

#include "avro/binary.h"
#include "base/check.h"

namespace braid::archive {

namespace {

constexpr std::string_view kEnvelopeFields = R"(
  {"name": "partition", "type": "int"},
  {"name": "offset", "type": "long"},
  {"name": "timestamp", "type": "long"},
  {"name": "key", "type": ["null", "bytes"]},
  {"name": "value", "type": ["null", "bytes"]},
  {"name": "headers", "type": {"type": "array", "items": {
    "type": "record", "name": "Header",
    "fields": [{"name": "key", "type": "string"},
               {"name": "value", "type": ["null", "bytes"]}]}}})";

avro::Schema MustParse(const std::string& json) {
  auto s = avro::ParseSchema(json);
  CHECK(s.ok()) << s.status().ToString();
  return *s;
}

void EncodeOptionalBytes(avro::Encoder* e, const std::optional<std::string_view>& v) {
  if (v.has_value()) {
    e->WriteUnionIndex(1);
    e->WriteBytes(*v);
  } else {
    e->WriteUnionIndex(0);
  }
}

void EncodeEnvelopeFields(PartitionId partition, const log::RecordView& r, avro::Encoder* e) {
  e->WriteInt(partition.value());
  e->WriteLong(r.offset.value());
  e->WriteLong(r.timestamp);
  EncodeOptionalBytes(e, r.key);
  EncodeOptionalBytes(e, r.value);
  if (!r.headers.empty()) {
    e->WriteBlockCount(static_cast<int64_t>(r.headers.size()));
    for (const log::RecordHeaderView& h : r.headers) {
      e->WriteString(h.key);
      EncodeOptionalBytes(e, h.value);
    }
  }
  e->WriteBlockCount(0);
}

}  // namespace

const avro::Schema& EnvelopeSchema() {
  static const avro::Schema* s = new avro::Schema(
      MustParse(std::string(R"({"type": "record", "name": "Envelope", "namespace": "braid.archive",
      "fields": [)") +
                std::string(kEnvelopeFields) + "]}"));
  return *s;
}

const avro::Schema& DeadLetterSchema() {
  static const avro::Schema* s = new avro::Schema(MustParse(
      std::string(R"({"type": "record", "name": "DeadLetter", "namespace": "braid.archive",
      "fields": [)") +
      std::string(kEnvelopeFields) +
      R"(, {"name": "schema_id", "type": "int"}, {"name": "error", "type": "string"}]})"));
  return *s;
}

void EncodeEnvelope(PartitionId partition, const log::RecordView& r, std::string* out) {
  avro::Encoder e(out);
  EncodeEnvelopeFields(partition, r, &e);
}

void EncodeDeadLetter(PartitionId partition, const log::RecordView& r, int32_t schema_id,
                      std::string_view error, std::string* out) {
  avro::Encoder e(out);
  EncodeEnvelopeFields(partition, r, &e);
  e.WriteInt(schema_id);
  e.WriteString(error);
}

}  // namespace braid::archive
