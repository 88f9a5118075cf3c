#include "registry/validation.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "base/coding.h"

namespace braid::registry {

namespace {
constexpr size_t kMaxCachedDecoders = 4096;

bool IsTrue(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

template <typename Map>
ValidationPolicy PolicyFrom(const Map& configs) {
  ValidationPolicy p;
  if (auto it = configs.find(std::string(kKeySchemaValidationConfig)); it != configs.end()) {
    p.key = IsTrue(it->second);
  }
  if (auto it = configs.find(std::string(kValueSchemaValidationConfig)); it != configs.end()) {
    p.value = IsTrue(it->second);
  }
  return p;
}

}  // namespace

ValidationPolicy PolicyFromTopicConfigs(const std::map<std::string, std::string>& configs) {
  return PolicyFrom(configs);
}
ValidationPolicy PolicyFromTopicConfigs(
    const std::map<std::string, std::string, std::less<>>& configs) {
  return PolicyFrom(configs);
}

Result<SchemaId> ParseConfluentFrame(std::string_view bytes, std::string_view* body) {
  if (bytes.size() < 5) {
    return Status::InvalidArgument("not Confluent-framed Avro: " + std::to_string(bytes.size()) +
                                   " bytes, the magic byte and schema id need 5");
  }
  if (bytes[0] != 0) {
    return Status::InvalidArgument("not Confluent-framed Avro: magic byte at offset 0 is " +
                                   std::to_string(static_cast<uint8_t>(bytes[0])) + ", expected 0");
  }
  *body = bytes.substr(5);
  return SchemaId(static_cast<int32_t>(coding::DecodeBigEndian32(bytes.data() + 1)));
}

size_t RecordValidator::cached_decoders() const {
  std::lock_guard<std::mutex> lock(mu_);
  return decoders_.size();
}

Result<std::shared_ptr<const avro::CompiledDecoder>> RecordValidator::DecoderFor(
    SchemaId id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = decoders_.find(id.value());
    if (it != decoders_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const RegisteredSchema> schema, registry_->GetSchemaById(id));
  ASSIGN_OR_RETURN(std::shared_ptr<const avro::CompiledDecoder> decoder,
                   avro::CompiledDecoder::Compile(schema->schema, schema->schema));
  std::lock_guard<std::mutex> lock(mu_);
  if (decoders_.size() >= kMaxCachedDecoders) decoders_.clear();
  decoders_.emplace(id.value(), decoder);
  return decoder;
}

Status RecordValidator::CheckOne(const std::string& subject, std::string_view what,
                                 int record_index, std::string_view bytes) const {
  auto fail = [&](std::string_view reason) {
    return Status::InvalidArgument("record " + std::to_string(record_index) + ": " +
                                   std::string(what) + ": " + std::string(reason));
  };
  std::string_view body;
  Result<SchemaId> id = ParseConfluentFrame(bytes, &body);
  if (!id.ok()) return fail(id.status().message());
  const std::string id_text = std::to_string(id->value());
  Result<std::shared_ptr<const avro::CompiledDecoder>> decoder = DecoderFor(*id);
  if (!decoder.ok()) {
    if (decoder.status().IsNotFound()) return fail("unknown schema id " + id_text);
    return fail("schema id " + id_text + ": " + std::string(decoder.status().message()));
  }
  if (!registry_->IsRegisteredUnder(subject, *id)) {
    return fail("schema id " + id_text + " is not registered under subject '" + subject + "'");
  }
  avro::NullHandler handler;
  avro::Decoder d(body, /*base_offset=*/5);
  Status st = (*decoder)->Decode(&d, handler);
  if (st.ok() && !d.empty()) {
    st = Status::Corruption(std::to_string(d.remaining()) +
                            " trailing bytes after the value at byte offset " +
                            std::to_string(d.offset()));
  }
  if (!st.ok()) {
    return fail("does not decode with schema id " + id_text + ": " + std::string(st.message()));
  }
  return Status::OK();
}

Status RecordValidator::Validate(std::string_view topic, const ValidationPolicy& policy,
                                 int record_index, std::optional<std::string_view> key,
                                 std::optional<std::string_view> value) const {
  if (policy.key && key) {
    RETURN_IF_ERROR(CheckOne(std::string(topic) + "-key", "key", record_index, *key));
  }
  if (policy.value && value) {
    RETURN_IF_ERROR(CheckOne(std::string(topic) + "-value", "value", record_index, *value));
  }
  return Status::OK();
}

}  // namespace braid::registry
