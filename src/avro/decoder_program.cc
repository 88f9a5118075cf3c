#include "avro/decoder_program.h"

#include <map>
#include <utility>

#include "avro/resolve.h"

namespace braid::avro {

using internal::Op;
using internal::OpCode;
using internal::ProjectionNode;

namespace {

std::string TypeLabel(const Node& n) {
  if (n.is_named()) return std::string(TypeName(n.type())) + " " + n.fullname();
  return std::string(TypeName(n.type()));
}

bool IsScalar(const Node& n) {
  return n.type() != Type::kRecord && n.type() != Type::kArray && n.type() != Type::kMap &&
         n.type() != Type::kUnion;
}

// Checks that `p` fits reader type `r` (see ProjectionNode).
Status CheckProjection(const Node& r, const ProjectionNode& p) {
  if (!p.slots.empty()) {
    bool ok = IsScalar(r);
    if (r.type() == Type::kUnion) {
      ok = true;
      for (const Node* b : r.branches()) ok = ok && IsScalar(*b);
    }
    if (!ok) return Status::InvalidArgument("projection: slots on a " + TypeLabel(r));
  }
  for (const auto& [i, child] : p.children) {
    if (r.type() == Type::kRecord && i < r.fields().size()) {
      RETURN_IF_ERROR(CheckProjection(*r.fields()[i].type, *child));
    } else if (r.type() == Type::kUnion && i < r.branches().size()) {
      RETURN_IF_ERROR(CheckProjection(*r.branches()[i], *child));
    } else {
      return Status::InvalidArgument("projection: child " + std::to_string(i) + " of a " +
                                     TypeLabel(r));
    }
  }
  return Status::OK();
}

}  // namespace

// Builds the program of a CompiledDecoder.
//
// Layout: the main program (the root pair; a root record is inlined) ends with
// kHalt; then subroutines (one per (writer record, reader record) pair and per
// writer-only record being skipped), each ending with kReturn; then one
// identity program per field default, ending with kHalt. Records other than
// the root are always subroutines, so the program size is linear in the
// number of record pairs even for DAG-shaped or recursive schemas.
class ProgramCompiler {
 public:
  explicit ProgramCompiler(CompiledDecoder* p) : p_(p) {}

  Status CompileAll() {
    const Node& w = p_->writer_.root();
    const Node& r = p_->reader_.root();
    RETURN_IF_ERROR(CheckResolvable(w, r));
    if (w.type() == Type::kRecord && r.type() == Type::kRecord) {
      RETURN_IF_ERROR(EmitRecordBody(w, &r));
    } else {
      RETURN_IF_ERROR(Emit(w, &r));
    }
    Add(OpCode::kHalt);
    return EmitRest();
  }

  // Projection mode (CompiledDecoder::CompileProjection).
  Status CompileProjection(const ProjectionNode& proj, bool read_to_end,
                           internal::ProjectionInfo* info) {
    info_ = info;
    read_to_end_ = read_to_end;
    const Node& w = p_->writer_.root();
    const Node& r = p_->reader_.root();
    RETURN_IF_ERROR(CheckProjection(r, proj));
    if (w.type() == Type::kRecord && r.type() == Type::kRecord && NamesMatch(r, w)) {
      RETURN_IF_ERROR(EmitProjRecord(w, r, proj, /*root=*/true));
    } else {
      RETURN_IF_ERROR(EmitProj(w, r, proj, /*writer_branch=*/false));
    }
    Add(OpCode::kHalt);
    return EmitRest();
  }

 private:
  struct PendingDefault {
    size_t index;
    const Node* type;
    const ProjectionNode* proj;  // nullptr: the whole value
  };
  using Key = std::pair<const Node*, const Node*>;

  // Emits the subroutines and default programs queued so far, then fixes up
  // the calls.
  Status EmitRest() {
    // Subroutines and defaults may add more of each other.
    while (next_sub_ < subs_.size() || next_default_ < pending_defaults_.size()) {
      if (next_sub_ < subs_.size()) {
        auto [w_node, r_node] = subs_[next_sub_++];
        sub_entry_[{w_node, r_node}] = Pc();
        RETURN_IF_ERROR(EmitRecordBody(*w_node, r_node));
        Add(OpCode::kReturn);
        continue;
      }
      const PendingDefault pd = pending_defaults_[next_default_++];
      p_->defaults_[pd.index].entry = Pc();
      if (pd.proj != nullptr) {
        RETURN_IF_ERROR(EmitProj(*pd.type, *pd.type, *pd.proj, /*writer_branch=*/false));
      } else {
        RETURN_IF_ERROR(Emit(*pd.type, pd.type));
      }
      Add(OpCode::kHalt);
    }
    for (const auto& [op_index, key] : call_fixups_) {
      p_->ops_[op_index].a = sub_entry_.at(key);
    }
    return Status::OK();
  }

  uint32_t Pc() const { return static_cast<uint32_t>(p_->ops_.size()); }
  size_t Add(OpCode code, uint32_t a = 0, uint32_t b = 0, const Node* node = nullptr) {
    p_->ops_.push_back(Op{code, a, b, -1, node});
    return p_->ops_.size() - 1;
  }
  static uint32_t Clamp32(size_t v) {
    return v > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(v);
  }

  void EmitCall(const Node& w, const Node* r) {
    Key key{&w, r};
    if (!queued_.count(key)) {
      queued_.insert({key, true});
      subs_.push_back(key);
    }
    call_fixups_.emplace_back(Add(OpCode::kCall), key);
  }

  // Emits the code reading a value of `w` as `r` (nullptr: skip it).
  // Precondition (r != nullptr): CheckResolvable(w, *r) is OK.
  Status Emit(const Node& w, const Node* r) {
    if (r == nullptr) return EmitSkip(w);
    if (w.type() == Type::kUnion) {
      const size_t table = p_->unions_.size();
      p_->unions_.emplace_back(w.branches().size(), 0);
      Add(OpCode::kUnion, static_cast<uint32_t>(table));
      std::vector<size_t> jumps;
      for (size_t i = 0; i < w.branches().size(); ++i) {
        p_->unions_[table][i] = Pc();
        const Node& b = *w.branches()[i];
        Status s = CheckResolvable(b, *r);
        if (s.ok()) {
          RETURN_IF_ERROR(Emit(b, r));
        } else {
          p_->messages_.push_back("writer union branch " + std::to_string(i) + " (" +
                                  std::string(TypeName(b.type())) +
                                  ") cannot be read: " + std::string(s.message()));
          Add(OpCode::kError, static_cast<uint32_t>(p_->messages_.size() - 1));
        }
        if (i + 1 < w.branches().size()) jumps.push_back(Add(OpCode::kJump));
      }
      for (size_t j : jumps) p_->ops_[j].a = Pc();
      return Status::OK();
    }
    if (r->type() == Type::kUnion) {
      std::optional<size_t> idx = SelectReaderBranch(w, *r);
      if (!idx) return Status::Internal("no reader union branch (unchecked pair)");
      Add(OpCode::kBranch, static_cast<uint32_t>(*idx));
      return Emit(w, r->branches()[*idx]);
    }
    const Type wt = w.type();
    switch (r->type()) {
      case Type::kNull:
        Add(OpCode::kNull);
        return Status::OK();
      case Type::kBoolean:
        Add(OpCode::kBool);
        return Status::OK();
      case Type::kInt:
        Add(OpCode::kInt);
        return Status::OK();
      case Type::kLong:
        Add(wt == Type::kInt ? OpCode::kIntToLong : OpCode::kLong);
        return Status::OK();
      case Type::kFloat:
        Add(wt == Type::kInt    ? OpCode::kIntToFloat
            : wt == Type::kLong ? OpCode::kLongToFloat
                                : OpCode::kFloat);
        return Status::OK();
      case Type::kDouble:
        Add(wt == Type::kInt     ? OpCode::kIntToDouble
            : wt == Type::kLong  ? OpCode::kLongToDouble
            : wt == Type::kFloat ? OpCode::kFloatToDouble
                                 : OpCode::kDouble);
        return Status::OK();
      case Type::kBytes:
        Add(wt == Type::kString ? OpCode::kStringToBytes : OpCode::kBytes);
        return Status::OK();
      case Type::kString:
        Add(wt == Type::kBytes ? OpCode::kBytesToString : OpCode::kString);
        return Status::OK();
      case Type::kFixed:
        Add(OpCode::kFixed, Clamp32(r->fixed_size()), 0, r);
        return Status::OK();
      case Type::kEnum: {
        internal::EnumMap map;
        map.writer = &w;
        for (const auto& sym : w.symbols()) {
          std::optional<size_t> ri = r->SymbolIndex(sym);
          if (!ri) ri = r->enum_default();
          map.to_reader.push_back(ri ? static_cast<int32_t>(*ri) : -1);
        }
        p_->enums_.push_back(std::move(map));
        Add(OpCode::kEnum, static_cast<uint32_t>(p_->enums_.size() - 1), 0, r);
        return Status::OK();
      }
      case Type::kArray: {
        const uint32_t min = Clamp32(w.items().min_encoded_size());
        size_t start = Add(OpCode::kArrayStart, 0, min);
        RETURN_IF_ERROR(Emit(w.items(), &r->items()));
        Add(OpCode::kArrayNext, 0, min);
        p_->ops_[start].a = Pc();
        return Status::OK();
      }
      case Type::kMap: {
        const uint32_t min = Clamp32(1 + w.values().min_encoded_size());
        size_t start = Add(OpCode::kMapStart, 0, min);
        Add(OpCode::kMapKey);
        RETURN_IF_ERROR(Emit(w.values(), &r->values()));
        Add(OpCode::kMapNext, 0, min);
        p_->ops_[start].a = Pc();
        return Status::OK();
      }
      case Type::kRecord:
        EmitCall(w, r);
        return Status::OK();
      case Type::kUnion:
        break;
    }
    return Status::Internal("unreachable reader type");
  }

  // Reader record body (r != nullptr) or the skipping of a writer record.
  Status EmitRecordBody(const Node& w, const Node* r) {
    if (r == nullptr) {
      for (const Field& f : w.fields()) RETURN_IF_ERROR(EmitSkip(*f.type));
      return Status::OK();
    }
    ASSIGN_OR_RETURN(RecordMapping m, MapRecordFields(w, *r));
    Add(OpCode::kRecordStart, 0, 0, r);
    for (size_t i = 0; i < w.fields().size(); ++i) {
      const int ri = m.writer_to_reader[i];
      if (ri < 0) {
        RETURN_IF_ERROR(EmitSkip(*w.fields()[i].type));
        continue;
      }
      // The field's first op announces the field (Op::field); that op is
      // never a jump target (loops and union branches start inside a value).
      const size_t first = p_->ops_.size();
      RETURN_IF_ERROR(Emit(*w.fields()[i].type, r->fields()[static_cast<size_t>(ri)].type));
      p_->ops_[first].field = ri;
    }
    for (size_t ri : m.defaulted) {
      const Field& f = r->fields()[ri];
      internal::DefaultValue dv;
      dv.bytes = f.default_binary;
      p_->defaults_.push_back(std::move(dv));
      const size_t index = p_->defaults_.size() - 1;
      pending_defaults_.push_back({index, f.type, nullptr});
      p_->ops_[Add(OpCode::kDefault, static_cast<uint32_t>(index))].field =
          static_cast<int32_t>(ri);
    }
    Add(OpCode::kRecordEnd);
    return Status::OK();
  }

  Status EmitSkip(const Node& w) {
    switch (w.type()) {
      case Type::kNull:
        return Status::OK();
      case Type::kBoolean:
        Add(OpCode::kSkipBool);
        return Status::OK();
      case Type::kInt:
        Add(OpCode::kSkipInt);
        return Status::OK();
      case Type::kLong:
        Add(OpCode::kSkipLong);
        return Status::OK();
      case Type::kFloat:
        Add(OpCode::kSkipN, 4);
        return Status::OK();
      case Type::kDouble:
        Add(OpCode::kSkipN, 8);
        return Status::OK();
      case Type::kBytes:
      case Type::kString:
        Add(OpCode::kSkipLengthPrefixed);
        return Status::OK();
      case Type::kFixed:
        if (w.fixed_size() > 0) Add(OpCode::kSkipN, Clamp32(w.fixed_size()));
        return Status::OK();
      case Type::kEnum:
        Add(OpCode::kSkipEnum, Clamp32(w.symbols().size()));
        return Status::OK();
      case Type::kUnion: {
        const size_t table = p_->unions_.size();
        p_->unions_.emplace_back(w.branches().size(), 0);
        Add(OpCode::kUnion, static_cast<uint32_t>(table));
        std::vector<size_t> jumps;
        for (size_t i = 0; i < w.branches().size(); ++i) {
          p_->unions_[table][i] = Pc();
          RETURN_IF_ERROR(EmitSkip(*w.branches()[i]));
          if (i + 1 < w.branches().size()) jumps.push_back(Add(OpCode::kJump));
        }
        for (size_t j : jumps) p_->ops_[j].a = Pc();
        return Status::OK();
      }
      case Type::kArray: {
        const uint32_t min = Clamp32(w.items().min_encoded_size());
        size_t start = Add(OpCode::kSkipArrayStart, 0, min);
        RETURN_IF_ERROR(EmitSkip(w.items()));
        Add(OpCode::kSkipArrayNext, 0, min);
        p_->ops_[start].a = Pc();
        return Status::OK();
      }
      case Type::kMap: {
        const uint32_t min = Clamp32(1 + w.values().min_encoded_size());
        size_t start = Add(OpCode::kSkipMapStart, 0, min);
        Add(OpCode::kSkipLengthPrefixed);
        RETURN_IF_ERROR(EmitSkip(w.values()));
        Add(OpCode::kSkipMapNext, 0, min);
        p_->ops_[start].a = Pc();
        return Status::OK();
      }
      case Type::kRecord:
        EmitCall(w, nullptr);
        return Status::OK();
    }
    return Status::Internal("unreachable writer type");
  }

  // ---- Projections (see CompiledDecoder::CompileProjection).

  // Emits the code reading a value of `w` as `r` that delivers what `p`
  // selects and skips the rest. `writer_branch`: `w` is a branch of a writer
  // union, so a `w` that cannot be read as `r` is a branch not on the path
  // (not delivered), not a static mismatch.
  Status EmitProj(const Node& w, const Node& r, const ProjectionNode& p, bool writer_branch) {
    if (p.slots.empty() && p.children.empty()) return EmitSkip(w);
    if (w.type() == Type::kUnion) {
      const size_t table = p_->unions_.size();
      p_->unions_.emplace_back(w.branches().size(), 0);
      Add(OpCode::kUnion, static_cast<uint32_t>(table));
      std::vector<size_t> jumps;
      for (size_t i = 0; i < w.branches().size(); ++i) {
        p_->unions_[table][i] = Pc();
        RETURN_IF_ERROR(EmitProj(*w.branches()[i], r, p, /*writer_branch=*/true));
        if (i + 1 < w.branches().size()) jumps.push_back(Add(OpCode::kJump));
      }
      for (size_t j : jumps) p_->ops_[j].a = Pc();
      return Status::OK();
    }
    if (r.type() == Type::kUnion) {
      const std::optional<size_t> j = SelectReaderBranch(w, r);
      if (!j) {
        if (!writer_branch) {
          MismatchError(p,
                        "writer type " + TypeLabel(w) + " matches no branch of the reader union");
        }
        return EmitSkip(w);
      }
      const ProjectionNode* child = p.Child(*j);
      if (!p.slots.empty()) {
        // The union itself is delivered; a selected branch (a scalar) too
        // when it is the one present.
        std::vector<uint32_t> slots = p.slots;
        if (child != nullptr) slots.insert(slots.end(), child->slots.begin(), child->slots.end());
        return EmitLeaf(w, r, std::move(slots), writer_branch);
      }
      if (child == nullptr) return EmitSkip(w);
      return EmitProj(w, *r.branches()[*j], *child, writer_branch);
    }
    if (!p.slots.empty()) return EmitLeaf(w, r, p.slots, writer_branch);
    // An inner node that is not a union: a record (CheckProjection).
    if (w.type() != Type::kRecord || !NamesMatch(r, w)) {
      if (!writer_branch) {
        MismatchError(p, "writer type " + TypeLabel(w) + " cannot be read as " + TypeLabel(r));
      }
      return EmitSkip(w);
    }
    return EmitProjRecord(w, r, p, /*root=*/false);
  }

  // A delivered value: writer `w` (not a union) read as `r`, announced by
  // Field(site) on its first op.
  Status EmitLeaf(const Node& w, const Node& r, std::vector<uint32_t> slots, bool writer_branch) {
    Status s = CheckResolvable(w, r);
    if (!s.ok()) {
      if (!writer_branch) {
        for (uint32_t slot : slots) AddError(slot, s);
      }
      return EmitSkip(w);
    }
    const size_t site = info_->sites.size();
    info_->sites.push_back({std::move(slots), &w});
    const size_t first = p_->ops_.size();
    RETURN_IF_ERROR(Emit(w, &r));
    p_->ops_[first].field = static_cast<int32_t>(site);
    return Status::OK();
  }

  // The fields of a record pair (inlined: a projection is a finite tree, so
  // even recursive types unroll to its depth). Defaults of reader fields the
  // writer lacks come first (they do not read the input); with !read_to_end_
  // the root stops after its last delivered field.
  Status EmitProjRecord(const Node& w, const Node& r, const ProjectionNode& p, bool root) {
    // As MapRecordFields, except that a reader field without writer
    // counterpart and without default is just not delivered.
    std::vector<int> w2r(w.fields().size(), -1);
    for (const Field& rf : r.fields()) {
      const Field* wf = w.FindField(rf.name);
      for (size_t a = 0; wf == nullptr && a < rf.aliases.size(); ++a) {
        wf = w.FindField(rf.aliases[a]);
      }
      if (wf != nullptr && w2r[wf->index] < 0) {
        w2r[wf->index] = static_cast<int>(rf.index);
        continue;
      }
      const ProjectionNode* child = p.Child(rf.index);
      if (child == nullptr || !rf.has_default) continue;
      internal::DefaultValue dv;
      dv.bytes = rf.default_binary;
      p_->defaults_.push_back(std::move(dv));
      const size_t index = p_->defaults_.size() - 1;
      pending_defaults_.push_back({index, rf.type, child});
      Add(OpCode::kDefault, static_cast<uint32_t>(index));
    }
    size_t end = w.fields().size();
    if (root && !read_to_end_) {
      end = 0;
      for (size_t i = 0; i < w.fields().size(); ++i) {
        if (w2r[i] >= 0 && p.Child(static_cast<size_t>(w2r[i])) != nullptr) end = i + 1;
      }
    }
    for (size_t i = 0; i < end; ++i) {
      const Field& wf = w.fields()[i];
      const ProjectionNode* child = w2r[i] >= 0 ? p.Child(static_cast<size_t>(w2r[i])) : nullptr;
      if (child == nullptr) {
        RETURN_IF_ERROR(EmitSkip(*wf.type));
        continue;
      }
      RETURN_IF_ERROR(EmitProj(*wf.type, *r.fields()[static_cast<size_t>(w2r[i])].type, *child,
                               /*writer_branch=*/false));
    }
    return Status::OK();
  }

  void AddError(uint32_t slot, const Status& s) {
    for (const auto& e : info_->errors) {
      if (e.first == slot) return;
    }
    info_->errors.emplace_back(slot, s);
  }
  // Every slot under `p` can never be delivered.
  void MismatchError(const ProjectionNode& p, const std::string& message) {
    for (uint32_t slot : p.slots) AddError(slot, Status::InvalidArgument(message));
    for (const auto& [i, child] : p.children) MismatchError(*child, message);
  }

  CompiledDecoder* p_;
  internal::ProjectionInfo* info_ = nullptr;
  bool read_to_end_ = true;
  std::vector<Key> subs_;
  size_t next_sub_ = 0;
  std::map<Key, bool> queued_;
  std::map<Key, uint32_t> sub_entry_;
  std::vector<std::pair<size_t, Key>> call_fixups_;
  std::vector<PendingDefault> pending_defaults_;
  size_t next_default_ = 0;
};

Result<std::shared_ptr<const CompiledDecoder>> CompiledDecoder::Compile(
    const Schema& writer, const Schema& reader, const DecodeOptions& options) {
  std::shared_ptr<CompiledDecoder> p(new CompiledDecoder());
  p->writer_ = writer;
  p->reader_ = reader;
  p->options_ = options;
  ProgramCompiler compiler(p.get());
  RETURN_IF_ERROR(compiler.CompileAll());
  return std::shared_ptr<const CompiledDecoder>(std::move(p));
}

Result<std::shared_ptr<const CompiledDecoder>> CompiledDecoder::CompileProjection(
    const Schema& writer, const Schema& reader, const internal::ProjectionNode& projection,
    bool read_to_end, const DecodeOptions& options, internal::ProjectionInfo* info) {
  std::shared_ptr<CompiledDecoder> p(new CompiledDecoder());
  p->writer_ = writer;
  p->reader_ = reader;
  p->options_ = options;
  *info = internal::ProjectionInfo();
  ProgramCompiler compiler(p.get());
  RETURN_IF_ERROR(compiler.CompileProjection(projection, read_to_end, info));
  return std::shared_ptr<const CompiledDecoder>(std::move(p));
}

Status CompiledDecoder::TooDeep(const Decoder* d) const {
  return d->Corrupt("value nested deeper than " + std::to_string(options_.max_depth) + " levels");
}

Status CompiledDecoder::EnumError(const Decoder* d, const internal::EnumMap& map,
                                  size_t index) const {
  return d->Corrupt("writer enum symbol '" + map.writer->symbols()[index] +
                    "' is not in the reader enum, which has no default");
}

namespace {
const char* OpName(OpCode c) {
  switch (c) {
#define BRAID_OP_NAME(x) \
  case OpCode::x:        \
    return #x;
    BRAID_OP_NAME(kHalt)
    BRAID_OP_NAME(kReturn)
    BRAID_OP_NAME(kCall)
    BRAID_OP_NAME(kJump)
    BRAID_OP_NAME(kError)
    BRAID_OP_NAME(kNull)
    BRAID_OP_NAME(kBool)
    BRAID_OP_NAME(kInt)
    BRAID_OP_NAME(kLong)
    BRAID_OP_NAME(kFloat)
    BRAID_OP_NAME(kDouble)
    BRAID_OP_NAME(kString)
    BRAID_OP_NAME(kBytes)
    BRAID_OP_NAME(kFixed)
    BRAID_OP_NAME(kIntToLong)
    BRAID_OP_NAME(kIntToFloat)
    BRAID_OP_NAME(kIntToDouble)
    BRAID_OP_NAME(kLongToFloat)
    BRAID_OP_NAME(kLongToDouble)
    BRAID_OP_NAME(kFloatToDouble)
    BRAID_OP_NAME(kStringToBytes)
    BRAID_OP_NAME(kBytesToString)
    BRAID_OP_NAME(kEnum)
    BRAID_OP_NAME(kRecordStart)
    BRAID_OP_NAME(kRecordEnd)
    BRAID_OP_NAME(kField)
    BRAID_OP_NAME(kDefault)
    BRAID_OP_NAME(kBranch)
    BRAID_OP_NAME(kUnion)
    BRAID_OP_NAME(kArrayStart)
    BRAID_OP_NAME(kArrayNext)
    BRAID_OP_NAME(kMapStart)
    BRAID_OP_NAME(kMapKey)
    BRAID_OP_NAME(kMapNext)
    BRAID_OP_NAME(kSkipBool)
    BRAID_OP_NAME(kSkipInt)
    BRAID_OP_NAME(kSkipLong)
    BRAID_OP_NAME(kSkipN)
    BRAID_OP_NAME(kSkipLengthPrefixed)
    BRAID_OP_NAME(kSkipEnum)
    BRAID_OP_NAME(kSkipArrayStart)
    BRAID_OP_NAME(kSkipArrayNext)
    BRAID_OP_NAME(kSkipMapStart)
    BRAID_OP_NAME(kSkipMapNext)
#undef BRAID_OP_NAME
  }
  return "?";
}
}  // namespace

std::string CompiledDecoder::DebugString() const {
  std::string out;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    out.append(std::to_string(i)).append(": ").append(OpName(op.code));
    out.append(" ").append(std::to_string(op.a)).append(" ").append(std::to_string(op.b));
    if (op.field >= 0) out.append(" field=").append(std::to_string(op.field));
    if (op.code == OpCode::kUnion) {
      out.append(" ->");
      for (uint32_t t : unions_[op.a]) out.append(" ").append(std::to_string(t));
    }
    if (op.node != nullptr && op.node->is_named()) out.append(" ").append(op.node->fullname());
    out.append("\n");
  }
  return out;
}

void DatumBuilder::StartRecord(const Node& n) {
  Ctx c{Kind::kRecord, 0, {}, Datum::Record(n, std::vector<Datum>(n.fields().size()))};
  stack_.push_back(std::move(c));
}

void DatumBuilder::StartArray() {
  Ctx c{Kind::kArray, 0, {}, Datum::Array({})};
  stack_.push_back(std::move(c));
}

void DatumBuilder::StartMap() {
  Ctx c{Kind::kMap, 0, {}, Datum::Map({})};
  stack_.push_back(std::move(c));
}

void DatumBuilder::Branch(size_t b) {
  Ctx c{Kind::kUnion, b, {}, Datum()};
  stack_.push_back(std::move(c));
}

void DatumBuilder::Put(Datum v) {
  for (;;) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Ctx& c = stack_.back();
    switch (c.kind) {
      case Kind::kRecord:
        c.value.field(c.index) = std::move(v);
        return;
      case Kind::kArray:
        c.value.mutable_items().push_back(std::move(v));
        return;
      case Kind::kMap:
        c.value.MapAppend(c.key, std::move(v));
        return;
      case Kind::kUnion: {
        Datum u = Datum::Union(c.index, std::move(v));
        stack_.pop_back();
        v = std::move(u);
        continue;
      }
    }
  }
}

void DatumBuilder::Pop() {
  Datum v = std::move(stack_.back().value);
  stack_.pop_back();
  Put(std::move(v));
}

Datum DatumBuilder::Take() {
  stack_.clear();
  Datum out = std::move(root_);
  root_ = Datum();
  return out;
}

Result<Datum> DecodeToDatum(const CompiledDecoder& decoder, std::string_view bytes) {
  DatumBuilder b;
  RETURN_IF_ERROR(decoder.DecodeAll(bytes, b));
  return b.Take();
}

}  // namespace braid::avro
