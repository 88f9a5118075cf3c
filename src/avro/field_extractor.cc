#include "avro/field_extractor.h"

#include <utility>

namespace braid::avro {

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

// Floor division by a positive divisor.
int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// The branches of union `u` that the steps at `pos` select, with the number
// of steps each selector spans (per branch, the longest selector).
std::vector<std::pair<size_t, size_t>> SelectBranches(const Node& u,
                                                      const std::vector<std::string_view>& steps,
                                                      size_t pos) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t j = 0; j < u.branches().size(); ++j) {
    const Node& b = *u.branches()[j];
    size_t span = 0;
    if (b.is_named()) {
      // The full name, over as many steps as it has parts.
      std::string_view full = b.fullname();
      size_t k = pos;
      for (;;) {
        if (k >= steps.size()) break;
        const size_t dot = full.find('.');
        const std::string_view part = full.substr(0, dot);
        if (steps[k] != part) break;
        ++k;
        if (dot == std::string_view::npos) {
          span = k - pos;
          break;
        }
        full.remove_prefix(dot + 1);
      }
      if (span == 0 && pos < steps.size() && steps[pos] == b.name()) span = 1;
    } else if (pos < steps.size() && steps[pos] == TypeName(b.type())) {
      span = 1;
    }
    if (span > 0) out.emplace_back(j, span);
  }
  return out;
}

// One resolved step: a record field or a union branch (reader indexes).
struct ResolvedStep {
  bool branch = false;
  size_t index = 0;
};

// Resolves `path` against `root`: the steps into *out and the leaf type into
// *leaf. InvalidArgument naming the path and the step.
Status ResolvePath(const Node& root, const std::string& path, std::vector<ResolvedStep>* out,
                   const Node** leaf) {
  std::vector<std::string_view> steps;
  if (!path.empty()) {
    std::string_view rest = path;
    for (;;) {
      const size_t dot = rest.find('.');
      steps.push_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
  }
  auto fail = [&](size_t step, const std::string& why) {
    if (steps.empty()) return Status::InvalidArgument("path \"\" (the whole value): " + why);
    return Status::InvalidArgument("path \"" + path + "\": step " + std::to_string(step + 1) +
                                   " \"" + std::string(steps[step]) + "\": " + why);
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].empty()) return fail(i, "empty step (paths are dot-separated names)");
  }
  const Node* n = &root;
  size_t pos = 0;
  // The last step consumed (for errors at the leaf).
  size_t last = 0;
  for (;;) {
    if (n->type() == Type::kUnion) {
      std::vector<std::pair<size_t, size_t>> sel = SelectBranches(*n, steps, pos);
      if (sel.size() > 1) {
        std::string names;
        for (const auto& [j, span] : sel) {
          names += (names.empty() ? "" : " and ") + TypeLabel(*n->branches()[j]);
        }
        return fail(pos, "ambiguous union branch selector: it matches " + names);
      }
      if (sel.size() == 1) {
        out->push_back({true, sel[0].first});
        n = n->branches()[sel[0].first];
        last = pos + sel[0].second - 1;
        pos += sel[0].second;
        continue;
      }
      if (pos == steps.size()) break;  // the union is the leaf
      // Pass through the only non-null branch if it is a record (the step
      // is then one of its fields).
      std::optional<size_t> only;
      size_t non_null = 0;
      for (size_t j = 0; j < n->branches().size(); ++j) {
        if (n->branches()[j]->type() == Type::kNull) continue;
        ++non_null;
        only = j;
      }
      if (non_null != 1 || n->branches()[*only]->type() != Type::kRecord) {
        std::string why = "no branch of union " + std::string(n->ToJson()) + " is named \"" +
                          std::string(steps[pos]) + "\"";
        if (non_null > 1) {
          why += ", and it has several non-null branches: select one with a step such as \"" +
                 std::string(n->branches()[n->branches()[0]->type() == Type::kNull ? 1 : 0]
                                 ->JsonBranchName()) +
                 "\"";
        }
        return fail(pos, why);
      }
      out->push_back({true, *only});
      n = n->branches()[*only];
      continue;
    }
    if (pos == steps.size()) break;
    if (n->type() != Type::kRecord) {
      return fail(pos, "cannot look up a field in a " + TypeLabel(*n) + " (not a record)");
    }
    const Field* f = n->FindField(steps[pos]);
    if (f == nullptr) {
      return fail(pos,
                  "record " + n->fullname() + " has no field \"" + std::string(steps[pos]) + "\"");
    }
    out->push_back({false, f->index});
    n = f->type;
    last = pos;
    ++pos;
  }
  if (n->type() == Type::kUnion) {
    for (size_t j = 0; j < n->branches().size(); ++j) {
      const Node& b = *n->branches()[j];
      if (!IsScalar(b)) {
        return fail(last, "the path ends at a union whose branch " + std::to_string(j) + " (" +
                              TypeLabel(b) +
                              ") is not a scalar: select a scalar branch, or continue with a "
                              "branch step such as \"" +
                              std::string(b.JsonBranchName()) + "\"");
      }
    }
  } else if (!IsScalar(*n)) {
    return fail(last, "the path ends at a " + TypeLabel(*n) +
                          ", not a scalar (the extractor delivers null, boolean, int, long, "
                          "float, double, bytes, string, fixed, enum and unions of these)");
  }
  *leaf = n;
  return Status::OK();
}

}  // namespace

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kAbsent:
      return "absent";
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kLong:
      return "long";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kString:
      return "string";
  }
  return "?";
}

// The handler a projection program runs with: Field(site) selects the slot,
// the value call fills it.
struct ExtractHandler : NullHandler {
  using Value = ExtractedFields::Value;
  using Site = FieldExtractor::Site;
  using TimeUnit = FieldExtractor::TimeUnit;

  Value* values = nullptr;
  const Site* sites = nullptr;
  uint32_t* fired = nullptr;
  size_t fired_cap = 0;
  size_t fired_count = 0;
  // Set by Field(), which a projection program calls before every value.
  Value* cur = nullptr;
  const Site* site = nullptr;

  void Field(size_t i) {
    site = sites + i;
    cur = values + site->slot;
    if (site->has_extra && fired_count < fired_cap) fired[fired_count++] = static_cast<uint32_t>(i);
  }
  void Set(ValueKind k, Type t) {
    cur->kind = k;
    cur->type = t;
    cur->logical = site->logical;
  }
  void Null() { Set(ValueKind::kNull, Type::kNull); }
  void Bool(bool v) {
    Set(ValueKind::kBool, Type::kBoolean);
    cur->i = v ? 1 : 0;
  }
  void Integral(int64_t v, Type t) {
    cur->i = v;
    cur->type = t;
    cur->logical = site->logical;
    switch (site->unit) {
      case TimeUnit::kNone:
        cur->kind = ValueKind::kLong;
        return;
      case TimeUnit::kMillis:
        cur->ms = v;
        break;
      case TimeUnit::kMicros:
        cur->ms = FloorDiv(v, 1000);
        break;
      case TimeUnit::kNanos:
        cur->ms = FloorDiv(v, 1000000);
        break;
      case TimeUnit::kDays:
        cur->ms = v * 86400000;  // an int: no overflow
        break;
    }
    cur->kind = ValueKind::kTimestamp;
  }
  void Int(int32_t v) { Integral(v, Type::kInt); }
  void Long(int64_t v) { Integral(v, Type::kLong); }
  void Float(float v) {
    Set(ValueKind::kDouble, Type::kFloat);
    cur->d = static_cast<double>(v);
  }
  void Double(double v) {
    Set(ValueKind::kDouble, Type::kDouble);
    cur->d = v;
  }
  void String(std::string_view v) {
    Set(ValueKind::kString, Type::kString);
    cur->s = v;
  }
  void Bytes(std::string_view v) {
    Set(ValueKind::kString, Type::kBytes);
    cur->s = v;
  }
  void Fixed(const Node&, std::string_view v) {
    Set(ValueKind::kString, Type::kFixed);
    cur->s = v;
  }
  void Enum(const Node& n, size_t i) {
    Set(ValueKind::kString, Type::kEnum);
    cur->s = n.symbols()[i];
    cur->i = static_cast<int64_t>(i);
  }
};

Result<std::shared_ptr<const FieldExtractor>> FieldExtractor::Compile(
    const Schema& writer, const std::vector<std::string>& paths, const ExtractorOptions& options) {
  return Compile(writer, writer, paths, options);
}

Result<std::shared_ptr<const FieldExtractor>> FieldExtractor::Compile(
    const Schema& writer, const Schema& reader, const std::vector<std::string>& paths,
    const ExtractorOptions& options) {
  std::shared_ptr<FieldExtractor> ex(new FieldExtractor());
  ex->options_ = options;
  ex->paths_ = paths;
  ex->path_status_.assign(paths.size(), Status::OK());
  ex->leaves_.assign(paths.size(), nullptr);
  ProjectionNode root;
  for (size_t i = 0; i < paths.size(); ++i) {
    std::vector<ResolvedStep> steps;
    const Node* leaf = nullptr;
    Status s = ResolvePath(reader.root(), paths[i], &steps, &leaf);
    if (!s.ok()) {
      if (options.strict_paths) return s;
      ex->path_status_[i] = std::move(s);
      continue;
    }
    ProjectionNode* t = &root;
    for (const ResolvedStep& step : steps) {
      std::unique_ptr<ProjectionNode>& child = t->children[step.index];
      if (child == nullptr) child = std::make_unique<ProjectionNode>();
      t = child.get();
    }
    t->slots.push_back(static_cast<uint32_t>(i));
    ex->leaves_[i] = leaf;
  }
  internal::ProjectionInfo info;
  ASSIGN_OR_RETURN(ex->program_,
                   CompiledDecoder::CompileProjection(writer, reader, root, options.read_to_end,
                                                      options.decode, &info));
  for (const auto& [slot, error] : info.errors) {
    std::string_view why = error.message();
    if (why.substr(0, 3) == "$: ") why.remove_prefix(3);  // CheckResolvable's root path
    Status s = Status::InvalidArgument("path \"" + paths[slot] + "\": " + std::string(why) +
                                       " (writer schema)");
    if (options.strict_paths) return s;
    ex->path_status_[slot] = std::move(s);
    ex->leaves_[slot] = nullptr;
  }
  for (const internal::ProjectionSite& ps : info.sites) {
    Site s;
    s.slot = ps.slots[0];
    s.logical = ps.writer->logical_type();
    switch (s.logical) {
      case LogicalType::kTimestampMillis:
      case LogicalType::kLocalTimestampMillis:
        s.unit = TimeUnit::kMillis;
        break;
      case LogicalType::kTimestampMicros:
      case LogicalType::kLocalTimestampMicros:
        s.unit = TimeUnit::kMicros;
        break;
      case LogicalType::kTimestampNanos:
      case LogicalType::kLocalTimestampNanos:
        s.unit = TimeUnit::kNanos;
        break;
      case LogicalType::kDate:
        s.unit = TimeUnit::kDays;
        break;
      default:
        s.unit = TimeUnit::kNone;
    }
    s.extra_begin = static_cast<uint32_t>(ex->extra_slots_.size());
    ex->extra_slots_.insert(ex->extra_slots_.end(), ps.slots.begin() + 1, ps.slots.end());
    s.extra_end = static_cast<uint32_t>(ex->extra_slots_.size());
    s.has_extra = s.extra_end != s.extra_begin;
    if (s.has_extra) ++ex->sites_with_extras_;
    ex->sites_.push_back(s);
  }
  return std::shared_ptr<const FieldExtractor>(std::move(ex));
}

// Inlined into both Extract overloads (one call less per record).
[[gnu::always_inline]] inline Status FieldExtractor::Run(Decoder* decoder,
                                                         ExtractedFields* out) const {
  const size_t n = paths_.size();
  if (out->values_.size() != n) out->values_.resize(n);
  for (ExtractedFields::Value& v : out->values_) v.kind = ValueKind::kAbsent;
  if (sites_with_extras_ > 0 && out->fired_.size() < sites_with_extras_) {
    out->fired_.resize(sites_with_extras_);
  }
  ExtractHandler h;
  h.values = out->values_.data();
  h.sites = sites_.data();
  h.fired = out->fired_.data();
  h.fired_cap = out->fired_.size();
  RETURN_IF_ERROR(program_->Decode(decoder, h, &out->state_));
  for (size_t k = 0; k < h.fired_count; ++k) {
    const Site& s = sites_[h.fired[k]];
    for (uint32_t e = s.extra_begin; e < s.extra_end; ++e) {
      out->values_[extra_slots_[e]] = out->values_[s.slot];
    }
  }
  return Status::OK();
}

Status FieldExtractor::Extract(std::string_view bytes, ExtractedFields* out) const {
  Decoder d(bytes);
  RETURN_IF_ERROR(Run(&d, out));
  if (options_.read_to_end && !options_.allow_trailing_bytes && !d.empty()) {
    return d.Corrupt(std::to_string(d.remaining()) + " trailing bytes after the value");
  }
  return Status::OK();
}

Status FieldExtractor::Extract(Decoder* decoder, ExtractedFields* out) const {
  if (!options_.read_to_end) {
    return Status::InvalidArgument(
        "FieldExtractor::Extract(Decoder*) needs ExtractorOptions::read_to_end");
  }
  return Run(decoder, out);
}

}  // namespace braid::avro
