// Avro JSON encoding of values, both ways, and field-default conversion.
//
// Rules (spec "JSON Encoding", Java's JsonEncoder as the reference):
//   null -> null; boolean -> true/false; int/long -> integer;
//   float/double -> number (NaN and infinities as the strings "NaN",
//     "Infinity", "-Infinity", also accepted when reading);
//   bytes/fixed -> string whose code points U+0000..U+00FF are the bytes
//     (ISO-8859-1); string -> string; record -> object in field order;
//   enum -> symbol string; array -> array; map -> object in entry order;
//   union -> null for a null branch, else {"<branch name>": value} where the
//     branch name is the fullname of a named type or the type name
//     ("int", "array", "map", ...), see Node::JsonBranchName().
// Field defaults (schema "default" attributes) use the same mapping except
// that a union default is the bare value of the first branch (or, with
// `any_branch`, of the first branch it fits).
//
// Errors: InvalidArgument naming the JSON path of the offending value
// ("$.tags[2]", "$.address.zip").
#pragma once

#include <string>
#include <string_view>

#include "avro/datum.h"
#include "avro/schema.h"
#include "base/status.h"

namespace braid::avro {

struct JsonWriteOptions {
  // Indent with two spaces and newlines. Default: false (compact, no
  // whitespace).
  bool pretty = false;
};

// Appends the JSON encoding of `datum` (a value of `schema`) to *out. Strings
// with invalid UTF-8 are written with U+FFFD replacements. InvalidArgument if
// the datum does not fit the schema.
Status EncodeJson(const Node& schema, const Datum& datum, std::string* out,
                  const JsonWriteOptions& options = {});
inline Result<std::string> EncodeJson(const Schema& schema, const Datum& datum,
                                      const JsonWriteOptions& options = {}) {
  std::string out;
  RETURN_IF_ERROR(EncodeJson(schema.root(), datum, &out, options));
  return out;
}

// Parses JSON text in the Avro JSON encoding into a Datum of `schema`.
Result<Datum> DecodeJson(const Node& schema, std::string_view json_text);
inline Result<Datum> DecodeJson(const Schema& schema, std::string_view json_text) {
  return DecodeJson(schema.root(), json_text);
}
// The same from an already parsed JSON value.
Result<Datum> DecodeJsonValue(const Node& schema, const Json& value);

// Converts a field default (JSON as written in the schema) to a Datum of
// `schema`. A union default is the bare value of the first branch; with
// `any_branch` the first branch it fits (Avro 1.12). Missing record fields
// take their own defaults (InvalidArgument if they have none).
Result<Datum> DefaultToDatum(const Node& schema, const Json& value, bool any_branch = false);

}  // namespace braid::avro
