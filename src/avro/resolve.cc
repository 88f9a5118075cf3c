#include "avro/resolve.h"

#include <map>
#include <utility>

namespace braid::avro {
namespace {

std::string TypeLabel(const Node& n) {
  if (n.is_named()) return std::string(TypeName(n.type())) + " " + n.fullname();
  return std::string(TypeName(n.type()));
}

class StaticChecker {
 public:
  Status Check(const Node& w, const Node& r, const std::string& path) {
    auto key = std::make_pair(&w, &r);
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;  // in progress (OK) or done
    memo_.emplace(key, Status::OK());
    Status s = Calc(w, r, path);
    memo_[key] = s;
    return s;
  }

 private:
  Status Calc(const Node& w, const Node& r, const std::string& path) {
    // Writer union: each branch is resolved when a value of it is decoded.
    if (w.type() == Type::kUnion) return Status::OK();
    if (r.type() == Type::kUnion) {
      std::optional<size_t> b = SelectReaderBranch(w, r);
      if (!b) {
        return Status::InvalidArgument(path + ": writer type " + TypeLabel(w) +
                                       " matches no branch of the reader union");
      }
      return Check(w, *r.branches()[*b], path);
    }
    if (w.type() != r.type()) {
      if (IsPromotion(w.type(), r.type())) return Status::OK();
      return Status::InvalidArgument(path + ": writer type " + TypeLabel(w) +
                                     " cannot be read as " + TypeLabel(r));
    }
    switch (r.type()) {
      case Type::kRecord: {
        if (!NamesMatch(r, w)) {
          return Status::InvalidArgument(path + ": writer record " + w.fullname() +
                                         " does not match reader record " + r.fullname());
        }
        ASSIGN_OR_RETURN(RecordMapping m, MapRecordFields(w, r));
        for (size_t i = 0; i < m.writer_to_reader.size(); ++i) {
          if (m.writer_to_reader[i] < 0) continue;
          const Field& rf = r.fields()[static_cast<size_t>(m.writer_to_reader[i])];
          RETURN_IF_ERROR(Check(*w.fields()[i].type, *rf.type, path + "." + rf.name));
        }
        return Status::OK();
      }
      case Type::kEnum:
        if (!NamesMatch(r, w)) {
          return Status::InvalidArgument(path + ": writer enum " + w.fullname() +
                                         " does not match reader enum " + r.fullname());
        }
        return Status::OK();
      case Type::kFixed:
        if (!NamesMatch(r, w)) {
          return Status::InvalidArgument(path + ": writer fixed " + w.fullname() +
                                         " does not match reader fixed " + r.fullname());
        }
        if (w.fixed_size() != r.fixed_size()) {
          return Status::InvalidArgument(path + ": writer fixed " + w.fullname() + " has size " +
                                         std::to_string(w.fixed_size()) + ", reader size " +
                                         std::to_string(r.fixed_size()));
        }
        return Status::OK();
      case Type::kArray:
        return Check(w.items(), r.items(), path + "[]");
      case Type::kMap:
        return Check(w.values(), r.values(), path + "{}");
      default:
        return Status::OK();
    }
  }

  std::map<std::pair<const Node*, const Node*>, Status> memo_;
};

class GenericResolver {
 public:
  explicit GenericResolver(const DecodeOptions& options) : options_(options) {}

  Status Decode(const Node& w, const Node& r, Decoder* d, Datum* out, int depth) {
    if (depth > options_.max_depth) return d->Corrupt("value nested too deeply");
    if (w.type() == Type::kUnion) {
      size_t i = 0;
      RETURN_IF_ERROR(d->ReadUnionIndex(w.branches().size(), &i));
      const Node& b = *w.branches()[i];
      Status s = CheckResolvable(b, r);
      if (!s.ok()) {
        return d->Corrupt("writer union branch " + std::to_string(i) + " (" + TypeLabel(b) +
                          ") cannot be read: " + std::string(s.message()));
      }
      return Decode(b, r, d, out, depth + 1);
    }
    if (r.type() == Type::kUnion) {
      std::optional<size_t> idx = SelectReaderBranch(w, r);
      if (!idx) return d->Corrupt("writer type matches no reader union branch");
      Datum v;
      RETURN_IF_ERROR(Decode(w, *r.branches()[*idx], d, &v, depth + 1));
      *out = Datum::Union(*idx, std::move(v));
      return Status::OK();
    }
    switch (r.type()) {
      case Type::kNull:
        *out = Datum::Null();
        return Status::OK();
      case Type::kBoolean: {
        bool v = false;
        RETURN_IF_ERROR(d->ReadBool(&v));
        *out = Datum::Boolean(v);
        return Status::OK();
      }
      case Type::kInt: {
        int32_t v = 0;
        RETURN_IF_ERROR(d->ReadInt(&v));
        *out = Datum::Int(v);
        return Status::OK();
      }
      case Type::kLong: {
        int64_t v = 0;
        RETURN_IF_ERROR(ReadIntegral(w, d, &v));
        *out = Datum::Long(v);
        return Status::OK();
      }
      case Type::kFloat: {
        if (w.type() == Type::kFloat) {
          float f = 0;
          RETURN_IF_ERROR(d->ReadFloat(&f));
          *out = Datum::Float(f);
        } else {
          int64_t v = 0;
          RETURN_IF_ERROR(ReadIntegral(w, d, &v));
          *out = Datum::Float(static_cast<float>(v));
        }
        return Status::OK();
      }
      case Type::kDouble: {
        if (w.type() == Type::kDouble) {
          double v = 0;
          RETURN_IF_ERROR(d->ReadDouble(&v));
          *out = Datum::Double(v);
        } else if (w.type() == Type::kFloat) {
          float f = 0;
          RETURN_IF_ERROR(d->ReadFloat(&f));
          *out = Datum::Double(static_cast<double>(f));
        } else {
          int64_t v = 0;
          RETURN_IF_ERROR(ReadIntegral(w, d, &v));
          *out = Datum::Double(static_cast<double>(v));
        }
        return Status::OK();
      }
      case Type::kBytes:
      case Type::kString: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadBytes(&v));
        *out =
            r.type() == Type::kBytes ? Datum::Bytes(std::string(v)) : Datum::String(std::string(v));
        return Status::OK();
      }
      case Type::kFixed: {
        std::string_view v;
        RETURN_IF_ERROR(d->ReadFixed(r.fixed_size(), &v));
        *out = Datum::Fixed(r, std::string(v));
        return Status::OK();
      }
      case Type::kEnum: {
        size_t i = 0;
        RETURN_IF_ERROR(d->ReadEnum(w.symbols().size(), &i));
        std::optional<size_t> ri = r.SymbolIndex(w.symbols()[i]);
        if (!ri) ri = r.enum_default();
        if (!ri) {
          return d->Corrupt("writer enum symbol '" + w.symbols()[i] + "' is not in reader enum " +
                            r.fullname() + ", which has no default");
        }
        *out = Datum::Enum(r, *ri);
        return Status::OK();
      }
      case Type::kArray: {
        std::vector<Datum> items;
        int64_t total = 0;
        for (;;) {
          int64_t count = 0;
          RETURN_IF_ERROR(d->ReadBlockCount(&count));
          if (count == 0) break;
          RETURN_IF_ERROR(d->BoundCount(count, w.items().min_encoded_size(),
                                        options_.max_zero_size_items, &total));
          for (int64_t k = 0; k < count; ++k) {
            items.emplace_back();
            RETURN_IF_ERROR(Decode(w.items(), r.items(), d, &items.back(), depth + 1));
          }
        }
        *out = Datum::Array(std::move(items));
        return Status::OK();
      }
      case Type::kMap: {
        std::vector<std::pair<std::string, Datum>> entries;
        int64_t total = 0;
        for (;;) {
          int64_t count = 0;
          RETURN_IF_ERROR(d->ReadBlockCount(&count));
          if (count == 0) break;
          RETURN_IF_ERROR(d->BoundCount(count, 1 + w.values().min_encoded_size(),
                                        options_.max_zero_size_items, &total));
          for (int64_t k = 0; k < count; ++k) {
            std::string_view key;
            RETURN_IF_ERROR(d->ReadString(&key));
            entries.emplace_back(std::string(key), Datum());
            RETURN_IF_ERROR(Decode(w.values(), r.values(), d, &entries.back().second, depth + 1));
          }
        }
        *out = Datum::Map(std::move(entries));
        return Status::OK();
      }
      case Type::kRecord: {
        // Checked by CheckResolvable before any decoding.
        Result<RecordMapping> m = MapRecordFields(w, r);
        if (!m.ok()) return m.status();
        std::vector<Datum> fields(r.fields().size());
        for (size_t i = 0; i < w.fields().size(); ++i) {
          int ri = m->writer_to_reader[i];
          if (ri < 0) {
            RETURN_IF_ERROR(SkipBinary(*w.fields()[i].type, d, options_));
          } else {
            const Field& rf = r.fields()[static_cast<size_t>(ri)];
            RETURN_IF_ERROR(Decode(*w.fields()[i].type, *rf.type, d,
                                   &fields[static_cast<size_t>(ri)], depth + 1));
          }
        }
        for (size_t ri : m->defaulted) {
          const Field& rf = r.fields()[ri];
          Decoder dd(rf.default_binary);
          Status s = DecodeBinary(*rf.type, &dd, &fields[ri], options_);
          if (!s.ok()) {
            return Status::Internal("default of field '" + rf.name + "': " + s.ToString());
          }
        }
        *out = Datum::Record(r, std::move(fields));
        return Status::OK();
      }
      case Type::kUnion:
        break;
    }
    return Status::Internal("unreachable reader type");
  }

 private:
  // Reads an int or long writer value widened to 64 bits.
  static Status ReadIntegral(const Node& w, Decoder* d, int64_t* v) {
    if (w.type() == Type::kInt) {
      int32_t i = 0;
      RETURN_IF_ERROR(d->ReadInt(&i));
      *v = i;
      return Status::OK();
    }
    return d->ReadLong(v);
  }

  const DecodeOptions& options_;
};

}  // namespace

bool NamesMatch(const Node& reader, const Node& writer) {
  if (reader.name() == writer.name()) return true;
  for (const auto& alias : reader.aliases()) {
    if (alias == writer.fullname()) return true;
  }
  return false;
}

bool IsPromotion(Type writer, Type reader) {
  switch (writer) {
    case Type::kInt:
      return reader == Type::kLong || reader == Type::kFloat || reader == Type::kDouble;
    case Type::kLong:
      return reader == Type::kFloat || reader == Type::kDouble;
    case Type::kFloat:
      return reader == Type::kDouble;
    case Type::kString:
      return reader == Type::kBytes;
    case Type::kBytes:
      return reader == Type::kString;
    default:
      return false;
  }
}

std::optional<size_t> SelectReaderBranch(const Node& writer, const Node& reader_union) {
  const auto& branches = reader_union.branches();
  // An exact match first (same type; for named types the same full name), so
  // that a union of two records with the same simple name in different
  // namespaces resolves each to itself (Java's bestBranch does the same).
  for (size_t i = 0; i < branches.size(); ++i) {
    const Node& b = *branches[i];
    if (b.type() != writer.type()) continue;
    if (!b.is_named() || b.fullname() == writer.fullname()) return i;
  }
  for (size_t i = 0; i < branches.size(); ++i) {
    const Node& b = *branches[i];
    if (b.type() == writer.type() && NamesMatch(b, writer)) return i;
  }
  for (size_t i = 0; i < branches.size(); ++i) {
    if (IsPromotion(writer.type(), branches[i]->type())) return i;
  }
  return std::nullopt;
}

Result<RecordMapping> MapRecordFields(const Node& writer, const Node& reader) {
  RecordMapping m;
  m.writer_to_reader.assign(writer.fields().size(), -1);
  for (const Field& rf : reader.fields()) {
    const Field* wf = writer.FindField(rf.name);
    for (size_t a = 0; wf == nullptr && a < rf.aliases.size(); ++a) {
      wf = writer.FindField(rf.aliases[a]);
    }
    if (wf != nullptr && m.writer_to_reader[wf->index] < 0) {
      m.writer_to_reader[wf->index] = static_cast<int>(rf.index);
      continue;
    }
    if (!rf.has_default) {
      return Status::InvalidArgument("reader field '" + rf.name + "' of record " +
                                     reader.fullname() +
                                     " is missing from the writer and has no default");
    }
    m.defaulted.push_back(rf.index);
  }
  return m;
}

Status CheckResolvable(const Node& writer, const Node& reader) {
  StaticChecker checker;
  return checker.Check(writer, reader, "$");
}

Result<ResolvingDecoder> ResolvingDecoder::Create(const Schema& writer, const Schema& reader,
                                                  const DecodeOptions& options) {
  RETURN_IF_ERROR(CheckResolvable(writer.root(), reader.root()));
  ResolvingDecoder d;
  d.writer_ = writer;
  d.reader_ = reader;
  d.options_ = options;
  return d;
}

Status ResolvingDecoder::Decode(Decoder* decoder, Datum* out) const {
  GenericResolver r(options_);
  return r.Decode(writer_.root(), reader_.root(), decoder, out, 0);
}

Result<Datum> ResolvingDecoder::Decode(std::string_view bytes) const {
  Decoder d(bytes);
  Datum out;
  RETURN_IF_ERROR(Decode(&d, &out));
  if (!d.empty()) return d.Corrupt("trailing bytes after the value");
  return out;
}

Result<Datum> DecodeResolving(const Schema& writer, const Schema& reader, std::string_view bytes,
                              const DecodeOptions& options) {
  ASSIGN_OR_RETURN(ResolvingDecoder d, ResolvingDecoder::Create(writer, reader, options));
  return d.Decode(bytes);
}

}  // namespace braid::avro
