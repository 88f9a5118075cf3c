// CompiledDecoder: the fast path for decoding Avro binary data. A (writer
// schema, reader schema) pair is compiled once into a flat program (a vector of
// ops with jump targets for records, unions, arrays, maps and recursion; field
// defaults pre-encoded), which is then run once per value. Values are pushed to
// a handler (a visitor) as they are decoded: strings, bytes and fixed as
// std::string_view into the input buffer (no copy), numbers as values, union
// branches as reader branch indexes. Writer fields the reader does not want are
// skipped without being materialized. The program follows exactly the rules of
// resolve.h and produces the same values as ResolvingDecoder (DatumBuilder
// below turns the handler calls back into a Datum).
//
// Handler concept (all methods are called on the handler object; a handler
// may derive from NullHandler and define only what it needs):
//   void Null(); void Bool(bool); void Int(int32_t); void Long(int64_t);
//   void Float(float); void Double(double);
//   void String(std::string_view); void Bytes(std::string_view);
//   void Fixed(const Node& reader_fixed, std::string_view);
//   void Enum(const Node& reader_enum, size_t reader_symbol_index);
//   void StartRecord(const Node& reader_record);
//   void Field(size_t reader_field_index);  // the next value is this field's
//   void EndRecord();
//   void StartArray(); void EndArray();     // items are the values in between
//   void StartMap(); void MapKey(std::string_view); void EndMap();
//   void Branch(size_t reader_branch);      // the next value is of this branch
// Values are produced in the *writer's* field order; reader fields the writer
// lacks follow, in reader order, with their default values. A reader union
// value is announced by Branch(i) followed by the value (so a null branch is
// Branch(i), Null()). String views of defaults point into the CompiledDecoder,
// all others into the input; both stay valid while those live.
//
// Projections (CompileProjection; FieldExtractor in field_extractor.h builds
// them from field paths): the same ops, compiled to deliver only chosen scalar
// values, each announced as Field(site) + value; everything else goes through
// the skip ops (not materialized, not passed to the handler).
//
// Hostile input: every read is bounds-checked (binary.h Decoder); errors are
// Corruption naming the byte offset; collection counts are bounded by the
// remaining input (and DecodeOptions::max_zero_size_items for items of zero
// encoded size) before any work is done per item; nesting (recursion, arrays,
// maps) is bounded by DecodeOptions::max_depth. Decoding allocates nothing
// except DecodeState's frame stack (reuse a DecodeState to avoid even that).
//
// Thread safety: a CompiledDecoder is immutable; any number of threads may run
// it at once, each with its own handler and DecodeState.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/binary.h"
#include "avro/datum.h"
#include "avro/schema.h"
#include "base/status.h"

namespace braid::avro {

// A handler that ignores everything; derive from it and hide what you need.
struct NullHandler {
  void Null() {}
  void Bool(bool) {}
  void Int(int32_t) {}
  void Long(int64_t) {}
  void Float(float) {}
  void Double(double) {}
  void String(std::string_view) {}
  void Bytes(std::string_view) {}
  void Fixed(const Node&, std::string_view) {}
  void Enum(const Node&, size_t) {}
  void StartRecord(const Node&) {}
  void Field(size_t) {}
  void EndRecord() {}
  void StartArray() {}
  void EndArray() {}
  void StartMap() {}
  void MapKey(std::string_view) {}
  void EndMap() {}
  void Branch(size_t) {}
};

namespace internal {

enum class OpCode : uint8_t {
  kHalt,    // end of a program (main or default)
  kReturn,  // end of a subroutine
  kCall,    // a = entry pc
  kJump,    // a = target pc
  kError,   // a = message index; fails at the current offset
  kNull,
  kBool,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kString,
  kBytes,
  kFixed,  // a = size, node = reader fixed
  kIntToLong,
  kIntToFloat,
  kIntToDouble,
  kLongToFloat,
  kLongToDouble,
  kFloatToDouble,
  kStringToBytes,
  kBytesToString,
  kEnum,         // a = enum map index, node = reader enum
  kRecordStart,  // node = reader record
  kRecordEnd,
  kField,       // a = reader field index (unused: fused into Op::field)
  kDefault,     // a = default index
  kBranch,      // a = reader branch index
  kUnion,       // a = union table index (writer branch -> pc)
  kArrayStart,  // a = exit pc, b = min item size
  kArrayNext,   // b = min item size
  kMapStart,    // a = exit pc, b = min item size (key + value)
  kMapKey,
  kMapNext,  // b = min item size
  kSkipBool,
  kSkipInt,
  kSkipLong,
  kSkipN,  // a = byte count
  kSkipLengthPrefixed,
  kSkipEnum,        // a = symbol count
  kSkipArrayStart,  // a = exit pc, b = min item size
  kSkipArrayNext,   // b = min item size
  kSkipMapStart,    // a = exit pc, b = min item size
  kSkipMapNext,     // b = min item size
};

struct Op {
  OpCode code = OpCode::kHalt;
  uint32_t a = 0;
  uint32_t b = 0;
  // >= 0 on the first op of a reader field's value: the interpreter calls
  // handler.Field(field) before executing the op (saves a dispatch per field).
  int32_t field = -1;
  const Node* node = nullptr;
};

struct EnumMap {
  const Node* writer = nullptr;
  std::vector<int32_t> to_reader;  // per writer symbol; -1 = no match, no default
};

struct DefaultValue {
  std::string bytes;   // binary encoding under the reader field's type
  uint32_t entry = 0;  // pc of the identity program for that type
};

// A projection for CompiledDecoder::CompileProjection (the program behind
// FieldExtractor, field_extractor.h, which builds it from field paths): a tree
// over the reader schema that names the parts of a value to deliver.
// Everything else is skipped.
struct ProjectionNode {
  // The slots (caller-chosen numbers) that receive this node's value. Only on
  // nodes whose reader type is a scalar (not record, array or map) or a union
  // of scalars.
  std::vector<uint32_t> slots;
  // Record: reader field index -> subtree. Union: reader branch index ->
  // subtree (the value when the writer's data selects that branch).
  std::map<size_t, std::unique_ptr<ProjectionNode>> children;

  const ProjectionNode* Child(size_t i) const {
    auto it = children.find(i);
    return it == children.end() ? nullptr : it->second.get();
  }
};

// A place where a projection program delivers a value. The value's first op
// has Op::field = the site's index, so the handler sees Field(site) and then
// the value (preceded by Branch(j) if the reader type there is a union).
// Nothing else reaches the handler: no records, arrays or maps.
struct ProjectionSite {
  std::vector<uint32_t> slots;  // never empty
  // The writer's type at this place (never a union; for a field default, the
  // reader's): its logical type gives e.g. the unit of a timestamp.
  const Node* writer = nullptr;
};

struct ProjectionInfo {
  std::vector<ProjectionSite> sites;
  // Slots whose value the writer schema can never provide although the
  // reader schema has the path: a writer type on the path (outside writer
  // union branches) that cannot be read as the reader's type. The program
  // skips such values. In slot order of discovery; one entry per slot.
  std::vector<std::pair<uint32_t, Status>> errors;
};

struct Frame {
  uint32_t pc;        // loop start (collections) or return pc (calls)
  int64_t remaining;  // items left in the current block
  int64_t total;      // items so far (zero-size cap)
};

// Inline varint fast paths for the interpreter. They decode from
// decoder->rest() and advance only on success; on anything unusual (truncated
// input, overlong or out-of-range varints) they return false and the caller
// falls back to the Decoder method, which produces the exact error.
inline bool TryReadLong(Decoder* d, int64_t* v) {
  const std::string_view r = d->rest();
  const auto* p = reinterpret_cast<const uint8_t*>(r.data());
  const size_t n = r.size() < 10 ? r.size() : 10;
  uint64_t u = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t b = p[i];
    u |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (i == 9 && b > 1) return false;
      *v = coding::ZigZagDecode64(u);
      d->Skip(i + 1).IgnoreError();
      return true;
    }
  }
  return false;
}

inline bool TryReadInt(Decoder* d, int32_t* v) {
  const std::string_view r = d->rest();
  const auto* p = reinterpret_cast<const uint8_t*>(r.data());
  const size_t n = r.size() < 5 ? r.size() : 5;
  uint64_t u = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t b = p[i];
    u |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (u > 0xffffffffull) return false;
      *v = coding::ZigZagDecode32(static_cast<uint32_t>(u));
      d->Skip(i + 1).IgnoreError();
      return true;
    }
  }
  return false;
}

}  // namespace internal

// Reusable scratch space for CompiledDecoder::Decode (the frame stack). One per
// thread; reusing it makes steady-state decoding allocation-free.
class DecodeState {
 public:
  DecodeState() = default;

 private:
  friend class CompiledDecoder;
  std::vector<internal::Frame> frames_;
};

class CompiledDecoder {
 public:
  // Compiles the pair. InvalidArgument if the schemas cannot be resolved
  // (CheckResolvable in resolve.h). Keeps both schemas alive. Pass the same
  // schema twice to decode without resolution.
  static Result<std::shared_ptr<const CompiledDecoder>> Compile(const Schema& writer,
                                                                const Schema& reader,
                                                                const DecodeOptions& options = {});

  // Decodes one value from *decoder (advancing it), pushing it to `handler`.
  // On error the handler may have seen a partial value.
  template <typename Handler>
  Status Decode(Decoder* decoder, Handler& handler, DecodeState* state = nullptr) const {
    DecodeState local;
    DecodeState* st = state != nullptr ? state : &local;
    st->frames_.clear();
    return Run(0, decoder, handler, st, 0);
  }

  // Decodes exactly one value occupying all of `bytes`.
  template <typename Handler>
  Status DecodeAll(std::string_view bytes, Handler& handler, DecodeState* state = nullptr) const {
    Decoder d(bytes);
    RETURN_IF_ERROR(Decode(&d, handler, state));
    if (!d.empty()) return d.Corrupt("trailing bytes after the value");
    return Status::OK();
  }

  // Compiles a projection of the pair (FieldExtractor builds `projection`
  // from field paths and documents the semantics). The program delivers the
  // values `projection` selects, each as Field(site) + value (see
  // internal::ProjectionSite), and skips everything else with the same checks
  // as Decode. A value is not delivered when the data does not hold it: a
  // writer union branch not on the path (or not readable as the reader's
  // type), a reader field the writer lacks and that has no default (with a
  // default, the default is delivered). Static mismatches along the path go
  // to info->errors (never a failure). If !read_to_end and both roots are
  // records, the program stops after the last root field that holds a
  // delivered value (the rest of the value is not read). Fills *info.
  // InvalidArgument if `projection` does not fit the reader schema.
  static Result<std::shared_ptr<const CompiledDecoder>> CompileProjection(
      const Schema& writer, const Schema& reader, const internal::ProjectionNode& projection,
      bool read_to_end, const DecodeOptions& options, internal::ProjectionInfo* info);

  const Schema& writer() const { return writer_; }
  const Schema& reader() const { return reader_; }
  size_t op_count() const { return ops_.size(); }
  // A listing of the program, one op per line (for tests and debugging).
  std::string DebugString() const;

 private:
  friend class ProgramCompiler;
  CompiledDecoder() = default;

  template <typename Handler>
  Status Run(uint32_t pc, Decoder* d, Handler& h, DecodeState* st, int nesting) const;
  Status TooDeep(const Decoder* d) const;
  Status EnumError(const Decoder* d, const internal::EnumMap& map, size_t index) const;

  Schema writer_;
  Schema reader_;
  DecodeOptions options_;
  std::vector<internal::Op> ops_;
  std::vector<std::vector<uint32_t>> unions_;
  std::vector<internal::EnumMap> enums_;
  std::vector<internal::DefaultValue> defaults_;
  std::vector<std::string> messages_;
};

// A handler that builds the generic Datum of the reader schema (the same value
// ResolvingDecoder returns). Usable for one value at a time; Take() resets it.
class DatumBuilder {
 public:
  void Null() { Put(Datum::Null()); }
  void Bool(bool v) { Put(Datum::Boolean(v)); }
  void Int(int32_t v) { Put(Datum::Int(v)); }
  void Long(int64_t v) { Put(Datum::Long(v)); }
  void Float(float v) { Put(Datum::Float(v)); }
  void Double(double v) { Put(Datum::Double(v)); }
  void String(std::string_view v) { Put(Datum::String(std::string(v))); }
  void Bytes(std::string_view v) { Put(Datum::Bytes(std::string(v))); }
  void Fixed(const Node& n, std::string_view v) { Put(Datum::Fixed(n, std::string(v))); }
  void Enum(const Node& n, size_t i) { Put(Datum::Enum(n, i)); }
  void StartRecord(const Node& n);
  void Field(size_t i) { stack_.back().index = i; }
  void EndRecord() { Pop(); }
  void StartArray();
  void EndArray() { Pop(); }
  void StartMap();
  void MapKey(std::string_view k) { stack_.back().key.assign(k.data(), k.size()); }
  void EndMap() { Pop(); }
  void Branch(size_t b);

  // The value built so far (complete after a successful Decode).
  Datum Take();

 private:
  enum class Kind : uint8_t { kRecord, kArray, kMap, kUnion };
  struct Ctx {
    Kind kind;
    size_t index = 0;  // record field / union branch
    std::string key;   // map
    Datum value;
  };
  void Put(Datum v);
  void Pop();

  std::vector<Ctx> stack_;
  Datum root_;
};

// Convenience: decodes all of `bytes` with `decoder` into a Datum.
Result<Datum> DecodeToDatum(const CompiledDecoder& decoder, std::string_view bytes);

// ---------------------------------------------------------------------------
// Implementation of the interpreter (a template so that handlers inline).

template <typename Handler>
Status CompiledDecoder::Run(uint32_t pc, Decoder* d, Handler& h, DecodeState* st,
                            int nesting) const {
  using internal::OpCode;
  const internal::Op* ops = ops_.data();
  auto& frames = st->frames_;
  const size_t max_frames = static_cast<size_t>(options_.max_depth > 0 ? options_.max_depth : 1);
  const size_t zero_cap = options_.max_zero_size_items;
  for (;;) {
    const internal::Op& op = ops[pc];
    if (op.field >= 0) h.Field(static_cast<size_t>(op.field));
    switch (op.code) {
      case OpCode::kHalt:
        return Status::OK();
      case OpCode::kReturn:
        pc = frames.back().pc;
        frames.pop_back();
        continue;
      case OpCode::kCall:
        if (frames.size() + static_cast<size_t>(nesting) >= max_frames) return TooDeep(d);
        frames.push_back({pc + 1, 0, 0});
        pc = op.a;
        continue;
      case OpCode::kJump:
        pc = op.a;
        continue;
      case OpCode::kError:
        return d->Corrupt(messages_[op.a]);
      case OpCode::kNull:
        h.Null();
        break;
      case OpCode::kBool: {
        bool v = false;
        RETURN_IF_ERROR(d->ReadBool(&v));
        h.Bool(v);
        break;
      }
      case OpCode::kInt: {
        int32_t v = 0;
        if (!internal::TryReadInt(d, &v)) RETURN_IF_ERROR(d->ReadInt(&v));
        h.Int(v);
        break;
      }
      case OpCode::kLong: {
        int64_t v = 0;
        if (!internal::TryReadLong(d, &v)) RETURN_IF_ERROR(d->ReadLong(&v));
        h.Long(v);
        break;
      }
      case OpCode::kFloat: {
        float v = 0;
        RETURN_IF_ERROR(d->ReadFloat(&v));
        h.Float(v);
        break;
      }
      case OpCode::kDouble: {
        double v = 0;
        RETURN_IF_ERROR(d->ReadDouble(&v));
        h.Double(v);
        break;
      }
      case OpCode::kString: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadString(&v));
        h.String(v);
        break;
      }
      case OpCode::kBytes: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadBytes(&v));
        h.Bytes(v);
        break;
      }
      case OpCode::kFixed: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadFixed(op.a, &v));
        h.Fixed(*op.node, v);
        break;
      }
      case OpCode::kIntToLong: {
        int32_t v = 0;
        RETURN_IF_ERROR(d->ReadInt(&v));
        h.Long(v);
        break;
      }
      case OpCode::kIntToFloat: {
        int32_t v = 0;
        RETURN_IF_ERROR(d->ReadInt(&v));
        h.Float(static_cast<float>(v));
        break;
      }
      case OpCode::kIntToDouble: {
        int32_t v = 0;
        RETURN_IF_ERROR(d->ReadInt(&v));
        h.Double(static_cast<double>(v));
        break;
      }
      case OpCode::kLongToFloat: {
        int64_t v = 0;
        RETURN_IF_ERROR(d->ReadLong(&v));
        h.Float(static_cast<float>(v));
        break;
      }
      case OpCode::kLongToDouble: {
        int64_t v = 0;
        RETURN_IF_ERROR(d->ReadLong(&v));
        h.Double(static_cast<double>(v));
        break;
      }
      case OpCode::kFloatToDouble: {
        float v = 0;
        RETURN_IF_ERROR(d->ReadFloat(&v));
        h.Double(static_cast<double>(v));
        break;
      }
      case OpCode::kStringToBytes: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadString(&v));
        h.Bytes(v);
        break;
      }
      case OpCode::kBytesToString: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadBytes(&v));
        h.String(v);
        break;
      }
      case OpCode::kEnum: {
        const internal::EnumMap& map = enums_[op.a];
        size_t i = 0;
        RETURN_IF_ERROR(d->ReadEnum(map.to_reader.size(), &i));
        const int32_t ri = map.to_reader[i];
        if (ri < 0) return EnumError(d, map, i);
        h.Enum(*op.node, static_cast<size_t>(ri));
        break;
      }
      case OpCode::kRecordStart:
        h.StartRecord(*op.node);
        break;
      case OpCode::kRecordEnd:
        h.EndRecord();
        break;
      case OpCode::kField:
        h.Field(op.a);
        break;
      case OpCode::kDefault: {
        if (frames.size() + static_cast<size_t>(nesting) + 1 >= max_frames) return TooDeep(d);
        const internal::DefaultValue& dv = defaults_[op.a];
        Decoder dd(dv.bytes);
        RETURN_IF_ERROR(Run(dv.entry, &dd, h, st, nesting + 1));
        break;
      }
      case OpCode::kBranch:
        h.Branch(op.a);
        break;
      case OpCode::kUnion: {
        const std::vector<uint32_t>& targets = unions_[op.a];
        size_t i = 0;
        const std::string_view rest = d->rest();
        if (!rest.empty() && static_cast<uint8_t>(rest[0]) < 0x80 &&
            static_cast<size_t>(static_cast<uint8_t>(rest[0])) < 2 * targets.size() &&
            (static_cast<uint8_t>(rest[0]) & 1) == 0) {
          // One-byte non-negative index in range (zig-zag: 2 * index).
          i = static_cast<uint8_t>(rest[0]) >> 1;
          d->Skip(1).IgnoreError();
        } else {
          RETURN_IF_ERROR(d->ReadUnionIndex(targets.size(), &i));
        }
        pc = targets[i];
        continue;
      }
      case OpCode::kArrayStart:
      case OpCode::kMapStart: {
        const bool is_map = op.code == OpCode::kMapStart;
        if (is_map) {
          h.StartMap();
        } else {
          h.StartArray();
        }
        int64_t count = 0;
        RETURN_IF_ERROR(d->ReadBlockCount(&count));
        if (count == 0) {
          if (is_map) {
            h.EndMap();
          } else {
            h.EndArray();
          }
          pc = op.a;
          continue;
        }
        if (frames.size() + static_cast<size_t>(nesting) >= max_frames) return TooDeep(d);
        int64_t total = 0;
        RETURN_IF_ERROR(d->BoundCount(count, op.b, zero_cap, &total));
        frames.push_back({pc + 1, count, total});
        break;
      }
      case OpCode::kArrayNext:
      case OpCode::kMapNext: {
        internal::Frame& f = frames.back();
        if (--f.remaining > 0) {
          pc = f.pc;
          continue;
        }
        int64_t count = 0;
        RETURN_IF_ERROR(d->ReadBlockCount(&count));
        if (count == 0) {
          frames.pop_back();
          if (op.code == OpCode::kMapNext) {
            h.EndMap();
          } else {
            h.EndArray();
          }
          break;
        }
        RETURN_IF_ERROR(d->BoundCount(count, op.b, zero_cap, &f.total));
        f.remaining = count;
        pc = f.pc;
        continue;
      }
      case OpCode::kMapKey: {
        std::string_view k;
        RETURN_IF_ERROR(d->ReadString(&k));
        h.MapKey(k);
        break;
      }
      case OpCode::kSkipBool: {
        bool v = false;
        RETURN_IF_ERROR(d->ReadBool(&v));
        break;
      }
      case OpCode::kSkipInt: {
        int32_t v = 0;
        if (!internal::TryReadInt(d, &v)) RETURN_IF_ERROR(d->ReadInt(&v));
        break;
      }
      case OpCode::kSkipLong: {
        int64_t v = 0;
        if (!internal::TryReadLong(d, &v)) RETURN_IF_ERROR(d->ReadLong(&v));
        break;
      }
      case OpCode::kSkipN:
        RETURN_IF_ERROR(d->Skip(op.a));
        break;
      case OpCode::kSkipLengthPrefixed:
        RETURN_IF_ERROR(d->SkipBytes());
        break;
      case OpCode::kSkipEnum: {
        size_t i = 0;
        RETURN_IF_ERROR(d->ReadEnum(op.a, &i));
        break;
      }
      case OpCode::kSkipArrayStart:
      case OpCode::kSkipMapStart:
      case OpCode::kSkipArrayNext:
      case OpCode::kSkipMapNext: {
        const bool start = op.code == OpCode::kSkipArrayStart || op.code == OpCode::kSkipMapStart;
        if (!start) {
          internal::Frame& f = frames.back();
          if (--f.remaining > 0) {
            pc = f.pc;
            continue;
          }
        }
        // Read block headers; jump over blocks whose byte size is known
        // (unless validate_skipped_blocks: then bytes stays -1).
        int64_t count = 0, bytes = -1;
        for (;;) {
          RETURN_IF_ERROR(
              d->ReadBlockCount(&count, options_.validate_skipped_blocks ? nullptr : &bytes));
          if (count == 0 || bytes < 0) break;
          RETURN_IF_ERROR(d->Skip(static_cast<size_t>(bytes)));
        }
        if (count == 0) {
          if (start) {
            pc = op.a;
            continue;
          }
          frames.pop_back();
          break;
        }
        if (start) {
          if (frames.size() + static_cast<size_t>(nesting) >= max_frames) return TooDeep(d);
          int64_t total = 0;
          RETURN_IF_ERROR(d->BoundCount(count, op.b, zero_cap, &total));
          frames.push_back({pc + 1, count, total});
          break;
        }
        internal::Frame& f = frames.back();
        RETURN_IF_ERROR(d->BoundCount(count, op.b, zero_cap, &f.total));
        f.remaining = count;
        pc = f.pc;
        continue;
      }
    }
    ++pc;
  }
}

}  // namespace braid::avro
