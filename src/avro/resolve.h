// Schema resolution (spec "Schema Resolution"): reading data written with a
// writer schema as values of a reader schema.
//
// Rules implemented (writer W, reader R):
//  * promotions: int -> long, float, double; long -> float, double;
//    float -> double; string <-> bytes;
//  * records match by name (R's unqualified name equals W's, or one of R's
//    aliases equals W's fullname); fields match by name or by one of the reader
//    field's aliases; the writer's field order is the decoding order; writer
//    fields the reader lacks are skipped; reader fields the writer lacks take
//    their default (an error, found when the schemas are paired, if one has
//    none);
//  * enums match by name; a writer symbol the reader lacks reads as the reader
//    enum's default, or fails *when such a value is decoded*;
//  * fixed match by name and size; arrays and maps resolve items / values;
//  * writer union: the branch present is resolved against R (an unresolvable
//    branch fails only when a value of it is decoded, as in Java);
//  * reader union (writer not a union): the first branch of the same type (and
//    name, for named types), else the first branch W promotes to;
//  * named types may be recursive.
// Logical types never change resolution (they annotate the base type).
//
// Two decoders share these rules: ResolvingDecoder (here) builds a generic
// Datum by walking both schemas; CompiledDecoder (decoder_program.h) compiles
// the pair once into a flat program for hot paths. Both produce the same
// values and fail on the same inputs.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "avro/binary.h"
#include "avro/datum.h"
#include "avro/schema.h"
#include "base/status.h"

namespace braid::avro {

// True if named types `reader` and `writer` match by name: the same unqualified
// name, or one of the reader's (fully qualified) aliases is the writer's fullname.
bool NamesMatch(const Node& reader, const Node& writer);

// True if a value of non-union type `writer` can be read as `reader` by a
// promotion (int -> long/float/double, long -> float/double, float -> double,
// string <-> bytes). False for equal types.
bool IsPromotion(Type writer, Type reader);

// For a non-union writer and a union reader: the index of the reader branch
// used (the first branch of the same type and, if named, the same full name;
// else the first of the same type whose name matches (NamesMatch); else the
// first branch the writer promotes to), or nullopt.
std::optional<size_t> SelectReaderBranch(const Node& writer, const Node& reader_union);

// How the fields of a reader record are fed from a writer record.
struct RecordMapping {
  // For each writer field: the reader field it fills, or -1 (skipped).
  std::vector<int> writer_to_reader;
  // Reader fields absent from the writer (filled from their defaults), in
  // reader order.
  std::vector<size_t> defaulted;
};
// Precondition: both are records with matching names. InvalidArgument if a
// reader field has no writer counterpart and no default.
Result<RecordMapping> MapRecordFields(const Node& writer, const Node& reader);

// Checks the pair statically: every error that does not depend on the data
// (type mismatch outside writer unions, record/enum/fixed name mismatch, fixed
// size mismatch, reader field without default, reader union without a usable
// branch). Errors that depend on the data (a writer union branch that cannot be
// read, an enum symbol the reader lacks) are left to decoding. InvalidArgument
// naming the path, e.g. "$.address.zip: writer type long cannot be read as int".
Status CheckResolvable(const Node& writer, const Node& reader);

// A generic resolving decoder: writer bytes -> Datum of the reader schema.
// Immutable after Create; thread-safe for concurrent Decode calls. Keeps both
// schemas alive.
class ResolvingDecoder {
 public:
  // Pairs the schemas (CheckResolvable). InvalidArgument if they cannot match.
  static Result<ResolvingDecoder> Create(const Schema& writer, const Schema& reader,
                                         const DecodeOptions& options = {});

  // Decodes one value written with the writer schema from *decoder into *out
  // (a Datum of the reader schema). Corruption naming the byte offset for
  // malformed input and for values that cannot be resolved (an enum symbol the
  // reader lacks and the reader enum has no default; a writer union branch that
  // does not match the reader).
  Status Decode(Decoder* decoder, Datum* out) const;
  // Decodes exactly one value occupying all of `bytes`.
  Result<Datum> Decode(std::string_view bytes) const;

  const Schema& writer() const { return writer_; }
  const Schema& reader() const { return reader_; }

 private:
  ResolvingDecoder() = default;
  Schema writer_;
  Schema reader_;
  DecodeOptions options_;
};

// One-shot convenience: pairs the schemas and decodes all of `bytes`.
Result<Datum> DecodeResolving(const Schema& writer, const Schema& reader, std::string_view bytes,
                              const DecodeOptions& options = {});

}  // namespace braid::avro
