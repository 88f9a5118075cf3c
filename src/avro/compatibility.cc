#include "avro/compatibility.h"

#include <map>
#include <unordered_set>
#include <utility>

namespace braid::avro {
namespace {

// The algorithm below follows python3-avro's ReaderWriterCompatibilityChecker
// (itself a port of Java's SchemaCompatibility) step by step, including its
// memoization by (reader node, writer node) identity, so that verdicts,
// incompatibility order and locations agree with both.
struct PairResult {
  bool compatible = true;
  std::vector<Incompatibility> list;
};

void Merge(PairResult* into, const PairResult& that) {
  into->list.insert(into->list.end(), that.list.begin(), that.list.end());
  if (into->compatible) into->compatible = that.compatible;
}

std::string JoinLocation(const std::vector<std::string>& tokens) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) out += '/';
    out += tokens[i];
  }
  // Tokens start with the root token "/", so a joined path starts with "//".
  if (tokens.size() > 1) out.erase(0, 1);
  return out;
}

PairResult Incompatible(IncompatibilityKind kind, std::string message,
                        const std::vector<std::string>& location) {
  PairResult r;
  r.compatible = false;
  r.list.push_back({kind, std::move(message), JoinLocation(location)});
  return r;
}

std::vector<std::string> With(std::vector<std::string> location,
                              std::initializer_list<std::string> more) {
  for (const auto& m : more) location.push_back(m);
  return location;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

PairResult TypeMismatch(const Node& reader, const Node& writer,
                        const std::vector<std::string>& location) {
  return Incompatible(
      IncompatibilityKind::kTypeMismatch,
      "reader type: " + std::string(TypeName(reader.type())) +
          " not compatible with writer type: " + std::string(TypeName(writer.type())),
      location);
}

bool NameEquals(const Node& reader, const Node& writer) {
  if (reader.name() == writer.name()) return true;
  for (const auto& alias : reader.aliases()) {
    if (alias == writer.fullname()) return true;
  }
  return false;
}

PairResult CheckNames(const Node& reader, const Node& writer,
                      const std::vector<std::string>& location) {
  if (NameEquals(reader, writer)) return {};
  return Incompatible(IncompatibilityKind::kNameMismatch, "expected: " + writer.fullname(),
                      With(location, {"name"}));
}

PairResult CheckFixedSize(const Node& reader, const Node& writer,
                          const std::vector<std::string>& location) {
  if (reader.fixed_size() == writer.fixed_size()) return {};
  return Incompatible(IncompatibilityKind::kFixedSizeMismatch,
                      "expected: " + std::to_string(writer.fixed_size()) +
                          ", found: " + std::to_string(reader.fixed_size()),
                      With(location, {"size"}));
}

PairResult CheckEnumSymbols(const Node& reader, const Node& writer,
                            const std::vector<std::string>& location) {
  std::vector<const std::string*> missing;
  for (const auto& s : writer.symbols()) {
    if (!reader.SymbolIndex(s)) missing.push_back(&s);
  }
  if (missing.empty() || reader.enum_default().has_value()) return {};
  // Formatted like python's str(set): {'A', 'B'}.
  std::string message = "{";
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) message += ", ";
    message += "'" + *missing[i] + "'";
  }
  message += "}";
  return Incompatible(IncompatibilityKind::kMissingEnumSymbols, std::move(message),
                      With(location, {"symbols"}));
}

const Field* LookupWriterField(const Node& writer, const Field& reader_field) {
  if (const Field* f = writer.FindField(reader_field.name)) return f;
  for (const auto& alias : reader_field.aliases) {
    if (const Field* f = writer.FindField(alias)) return f;
  }
  return nullptr;
}

class Checker {
 public:
  PairResult Get(const Node& reader, const Node& writer, const std::string& token,
                 const std::vector<std::string>& location) {
    auto key = std::make_pair(&reader, &writer);
    auto it = memo_.find(key);
    if (it != memo_.end()) {
      if (it->second.in_progress) return {};  // recursion: assume compatible
      return it->second.result;
    }
    memo_[key].in_progress = true;
    PairResult r = Calculate(reader, writer, With(location, {token}));
    Memo& m = memo_[key];
    m.in_progress = false;
    m.result = r;
    return r;
  }

 private:
  struct Memo {
    bool in_progress = false;
    PairResult result;
  };

  PairResult Calculate(const Node& reader, const Node& writer,
                       const std::vector<std::string>& location) {
    PairResult result;
    const Type rt = reader.type();
    const Type wt = writer.type();
    if (rt == wt) {
      switch (rt) {
        case Type::kArray:
          Merge(&result, Get(reader.items(), writer.items(), "items", location));
          return result;
        case Type::kMap:
          Merge(&result, Get(reader.values(), writer.values(), "values", location));
          return result;
        case Type::kFixed:
          Merge(&result, CheckNames(reader, writer, location));
          Merge(&result, CheckFixedSize(reader, writer, location));
          return result;
        case Type::kEnum:
          Merge(&result, CheckNames(reader, writer, location));
          Merge(&result, CheckEnumSymbols(reader, writer, location));
          return result;
        case Type::kRecord:
          Merge(&result, CheckNames(reader, writer, location));
          Merge(&result, CheckRecordFields(reader, writer, location));
          return result;
        case Type::kUnion: {
          const auto& branches = writer.branches();
          for (size_t i = 0; i < branches.size(); ++i) {
            PairResult c = Get(reader, *branches[i], "/", {});
            if (!c.compatible) {
              Merge(&result, Incompatible(IncompatibilityKind::kMissingUnionBranch,
                                          "reader union lacking writer type: " +
                                              Upper(TypeName(branches[i]->type())),
                                          With(location, {std::to_string(i)})));
            }
          }
          return result;
        }
        default:  // primitives
          return result;
      }
    }
    if (wt == Type::kUnion) {
      for (const Node* branch : writer.branches()) {
        Merge(&result, Get(reader, *branch, "/", {}));
      }
      return result;
    }
    bool promotable = false;
    switch (rt) {
      case Type::kLong:
        promotable = wt == Type::kInt;
        break;
      case Type::kFloat:
        promotable = wt == Type::kInt || wt == Type::kLong;
        break;
      case Type::kDouble:
        promotable = wt == Type::kInt || wt == Type::kLong || wt == Type::kFloat;
        break;
      case Type::kBytes:
        promotable = wt == Type::kString;
        break;
      case Type::kString:
        promotable = wt == Type::kBytes;
        break;
      case Type::kUnion: {
        for (const Node* branch : reader.branches()) {
          if (Get(*branch, writer, "/", {}).compatible) return result;
        }
        Merge(&result, Incompatible(IncompatibilityKind::kMissingUnionBranch,
                                    "reader union lacking writer type " + std::string(TypeName(wt)),
                                    location));
        return result;
      }
      default:
        break;
    }
    if (!promotable) Merge(&result, TypeMismatch(reader, writer, location));
    return result;
  }

  PairResult CheckRecordFields(const Node& reader, const Node& writer,
                               const std::vector<std::string>& location) {
    PairResult result;
    const auto& fields = reader.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      const Field& rf = fields[i];
      const Field* wf = LookupWriterField(writer, rf);
      auto field_location = With(location, {"fields", std::to_string(i)});
      if (wf == nullptr) {
        if (rf.has_default) continue;
        if (rf.type->type() == Type::kEnum && rf.type->enum_default().has_value()) {
          // Java and python compare the enum with the writer *record* here
          // (which reports a type mismatch); kept for agreement.
          Merge(&result, Get(*rf.type, writer, "type", field_location));
        } else {
          Merge(&result, Incompatible(IncompatibilityKind::kReaderFieldMissingDefaultValue, rf.name,
                                      field_location));
        }
      } else {
        Merge(&result, Get(*rf.type, *wf->type, "type", field_location));
      }
    }
    return result;
  }

  std::map<std::pair<const Node*, const Node*>, Memo> memo_;
};

}  // namespace

std::string_view IncompatibilityKindName(IncompatibilityKind kind) {
  switch (kind) {
    case IncompatibilityKind::kNameMismatch:
      return "NAME_MISMATCH";
    case IncompatibilityKind::kFixedSizeMismatch:
      return "FIXED_SIZE_MISMATCH";
    case IncompatibilityKind::kMissingEnumSymbols:
      return "MISSING_ENUM_SYMBOLS";
    case IncompatibilityKind::kReaderFieldMissingDefaultValue:
      return "READER_FIELD_MISSING_DEFAULT_VALUE";
    case IncompatibilityKind::kTypeMismatch:
      return "TYPE_MISMATCH";
    case IncompatibilityKind::kMissingUnionBranch:
      return "MISSING_UNION_BRANCH";
  }
  return "UNKNOWN";
}

std::vector<std::string> CompatibilityResult::Messages() const {
  std::vector<std::string> out;
  out.reserve(incompatibilities.size());
  for (const auto& inc : incompatibilities) {
    out.push_back(std::string(IncompatibilityKindName(inc.kind)) + " at " + inc.location + ": " +
                  inc.message);
  }
  return out;
}

CompatibilityResult CheckReaderWriter(const Node& reader, const Node& writer) {
  Checker checker;
  PairResult r = checker.Get(reader, writer, "/", {});
  CompatibilityResult out;
  out.compatible = r.compatible;
  out.incompatibilities = std::move(r.list);
  return out;
}

CompatibilityResult CheckReaderWriter(const Schema& reader, const Schema& writer) {
  return CheckReaderWriter(reader.root(), writer.root());
}

std::string_view CompatibilityLevelName(CompatibilityLevel level) {
  switch (level) {
    case CompatibilityLevel::kNone:
      return "NONE";
    case CompatibilityLevel::kBackward:
      return "BACKWARD";
    case CompatibilityLevel::kBackwardTransitive:
      return "BACKWARD_TRANSITIVE";
    case CompatibilityLevel::kForward:
      return "FORWARD";
    case CompatibilityLevel::kForwardTransitive:
      return "FORWARD_TRANSITIVE";
    case CompatibilityLevel::kFull:
      return "FULL";
    case CompatibilityLevel::kFullTransitive:
      return "FULL_TRANSITIVE";
  }
  return "UNKNOWN";
}

Result<CompatibilityLevel> ParseCompatibilityLevel(std::string_view name) {
  for (auto level : {CompatibilityLevel::kNone, CompatibilityLevel::kBackward,
                     CompatibilityLevel::kBackwardTransitive, CompatibilityLevel::kForward,
                     CompatibilityLevel::kForwardTransitive, CompatibilityLevel::kFull,
                     CompatibilityLevel::kFullTransitive}) {
    if (CompatibilityLevelName(level) == name) return level;
  }
  return Status::InvalidArgument("unknown compatibility level '" + std::string(name) + "'");
}

CompatibilityCheck Check(CompatibilityLevel level, const Schema& new_schema,
                         const std::vector<Schema>& existing) {
  CompatibilityCheck out;
  if (level == CompatibilityLevel::kNone || existing.empty()) return out;
  bool backward = false, forward = false, transitive = false;
  switch (level) {
    case CompatibilityLevel::kBackward:
      backward = true;
      break;
    case CompatibilityLevel::kBackwardTransitive:
      backward = transitive = true;
      break;
    case CompatibilityLevel::kForward:
      forward = true;
      break;
    case CompatibilityLevel::kForwardTransitive:
      forward = transitive = true;
      break;
    case CompatibilityLevel::kFull:
      backward = forward = true;
      break;
    case CompatibilityLevel::kFullTransitive:
      backward = forward = transitive = true;
      break;
    case CompatibilityLevel::kNone:
      break;
  }
  const std::string level_name(CompatibilityLevelName(level));
  const size_t first = transitive ? 0 : existing.size() - 1;
  // Newest first: the most relevant failure is reported first.
  for (size_t i = existing.size(); i-- > first;) {
    const std::string version = "version " + std::to_string(i + 1);
    if (backward) {
      CompatibilityResult r = CheckReaderWriter(new_schema, existing[i]);
      for (const auto& m : r.Messages()) {
        out.messages.push_back("new schema cannot read " + version + " (" + level_name + "): " + m);
      }
      out.compatible = out.compatible && r.compatible;
    }
    if (forward) {
      CompatibilityResult r = CheckReaderWriter(existing[i], new_schema);
      for (const auto& m : r.Messages()) {
        out.messages.push_back(version + " cannot read the new schema (" + level_name + "): " + m);
      }
      out.compatible = out.compatible && r.compatible;
    }
  }
  return out;
}

}  // namespace braid::avro
