// Avro single-object encoding (spec "Single-object encoding"):
//   C3 01 | CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical
//   Form, 8 bytes little-endian | the value in Avro binary encoding.
// Readers check the two marker bytes before looking up any schema.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "avro/binary.h"
#include "avro/datum.h"
#include "avro/schema.h"
#include "base/status.h"

namespace braid::avro {

// The two marker bytes and the header length (marker + fingerprint).
inline constexpr uint8_t kSingleObjectMagic0 = 0xC3;
inline constexpr uint8_t kSingleObjectMagic1 = 0x01;
inline constexpr size_t kSingleObjectHeaderSize = 10;

// The 10-byte header for values written with `schema`.
std::string SingleObjectHeader(const Schema& schema);

// Appends header + binary encoding of `datum` to *out. InvalidArgument if the
// datum does not fit the schema.
Status EncodeSingleObject(const Schema& schema, const Datum& datum, std::string* out);

// A message split into its parts (no schema lookup, no decoding).
struct SingleObjectView {
  uint64_t fingerprint = 0;  // CRC-64-AVRO of the writer schema's PCF
  std::string_view body;     // the binary-encoded value (view into the input)
};
// Checks the marker and length. Corruption for a message shorter than 10
// bytes or with the wrong marker ("bad single-object marker").
Result<SingleObjectView> ParseSingleObject(std::string_view message);

// Finds the writer schema for a fingerprint; nullopt if unknown.
using SchemaLookup = std::function<std::optional<Schema>(uint64_t fingerprint)>;

// A decoded message: the writer schema and the value (which refers to it).
struct DecodedObject {
  Schema schema;
  Datum datum;
};
// Decodes a whole message. Corruption for a bad marker or a malformed body
// (trailing bytes included); NotFound for a fingerprint `lookup` does not know.
Result<DecodedObject> DecodeSingleObject(std::string_view message, const SchemaLookup& lookup,
                                         const DecodeOptions& options = {});

// A simple fingerprint -> schema table usable as a SchemaLookup.
// Thread safety: not synchronized; fill it, then share it read-only.
class SchemaStore {
 public:
  // Adds (or replaces) the schema under its Fingerprint64().
  void Add(const Schema& schema);
  std::optional<Schema> Find(uint64_t fingerprint) const;
  SchemaLookup AsLookup() const {
    return [this](uint64_t fp) { return Find(fp); };
  }

 private:
  std::unordered_map<uint64_t, Schema> by_fingerprint_;
};

}  // namespace braid::avro
