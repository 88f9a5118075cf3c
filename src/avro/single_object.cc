#include "avro/single_object.h"

namespace braid::avro {

std::string SingleObjectHeader(const Schema& schema) {
  std::string out;
  out.push_back(static_cast<char>(kSingleObjectMagic0));
  out.push_back(static_cast<char>(kSingleObjectMagic1));
  out.append(schema.Fingerprint64Bytes());
  return out;
}

Status EncodeSingleObject(const Schema& schema, const Datum& datum, std::string* out) {
  out->append(SingleObjectHeader(schema));
  return EncodeBinary(schema.root(), datum, out);
}

Result<SingleObjectView> ParseSingleObject(std::string_view message) {
  if (message.size() < kSingleObjectHeaderSize) {
    return Status::Corruption("avro: single-object message of " + std::to_string(message.size()) +
                              " bytes is shorter than its 10-byte header at byte offset 0");
  }
  if (static_cast<uint8_t>(message[0]) != kSingleObjectMagic0 ||
      static_cast<uint8_t>(message[1]) != kSingleObjectMagic1) {
    return Status::Corruption("avro: bad single-object marker (expected C3 01) at byte offset 0");
  }
  SingleObjectView view;
  view.fingerprint = coding::DecodeLittleEndian64(message.data() + 2);
  view.body = message.substr(kSingleObjectHeaderSize);
  return view;
}

Result<DecodedObject> DecodeSingleObject(std::string_view message, const SchemaLookup& lookup,
                                         const DecodeOptions& options) {
  ASSIGN_OR_RETURN(SingleObjectView view, ParseSingleObject(message));
  std::optional<Schema> schema = lookup(view.fingerprint);
  if (!schema) {
    return Status::NotFound("avro: unknown writer schema fingerprint " +
                            ToHex(message.substr(2, 8)) + " (little-endian bytes)");
  }
  DecodedObject result{*schema, Datum()};
  Decoder decoder(view.body, kSingleObjectHeaderSize);
  RETURN_IF_ERROR(DecodeBinary(result.schema.root(), &decoder, &result.datum, options));
  if (!decoder.empty()) {
    return decoder.Corrupt(std::to_string(decoder.remaining()) + " trailing bytes after the value");
  }
  return result;
}

void SchemaStore::Add(const Schema& schema) {
  by_fingerprint_.insert_or_assign(schema.Fingerprint64(), schema);
}

std::optional<Schema> SchemaStore::Find(uint64_t fingerprint) const {
  auto it = by_fingerprint_.find(fingerprint);
  if (it == by_fingerprint_.end()) return std::nullopt;
  return it->second;
}

}  // namespace braid::avro
