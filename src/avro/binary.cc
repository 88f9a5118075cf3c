#include "avro/binary.h"

#include <algorithm>
#include <limits>

namespace braid::avro {

// ---------------------------------------------------------------------------
// Decoder

Status Decoder::Corrupt(std::string_view what) const {
  return Status::Corruption("avro: " + std::string(what) + " at byte offset " +
                            std::to_string(offset()));
}

Status Decoder::BadBool() const {
  if (pos_ >= end_) return Truncated("boolean");
  return Corrupt("invalid boolean byte " + std::to_string(static_cast<uint8_t>(*pos_)));
}

Status Decoder::Truncated(const char* what) const {
  return Corrupt(std::string("truncated ") + what);
}

Status Decoder::BadLength(const char* at, int64_t n, const char* what) {
  size_t off = base_ + static_cast<size_t>(at - begin_);
  std::string msg = n < 0 ? "negative " + std::string(what) + " length " + std::to_string(n)
                          : std::string(what) + " length " + std::to_string(n) + " exceeds the " +
                                std::to_string(remaining()) + " remaining bytes";
  return Status::Corruption("avro: " + msg + " at byte offset " + std::to_string(off));
}

Status Decoder::ReadIntSlow(int32_t* v) {
  uint64_t u = 0;
  const char* p = coding::GetVarint64(pos_, end_, &u, 5);
  if (p == nullptr) {
    return remaining() < 5 ? Truncated("int") : Corrupt("int varint longer than 5 bytes");
  }
  if (u > 0xffffffffull) return Corrupt("int value out of 32-bit range");
  *v = coding::ZigZagDecode32(static_cast<uint32_t>(u));
  pos_ = p;
  return Status::OK();
}

Status Decoder::ReadLongSlow(int64_t* v) {
  uint64_t u = 0;
  const char* p = coding::GetVarint64(pos_, end_, &u, 10);
  if (p == nullptr) {
    return remaining() < 10 ? Truncated("long") : Corrupt("long varint longer than 10 bytes");
  }
  // The tenth byte may only carry the top bit of a 64-bit value.
  if (p - pos_ == 10 && static_cast<uint8_t>(p[-1]) > 1) {
    return Corrupt("long varint overflows 64 bits");
  }
  *v = coding::ZigZagDecode64(u);
  pos_ = p;
  return Status::OK();
}

Status Decoder::ReadEnum(size_t symbol_count, size_t* index) {
  size_t at = offset();
  int32_t v = 0;
  RETURN_IF_ERROR(ReadInt(&v));
  if (v < 0 || static_cast<size_t>(v) >= symbol_count) {
    return Status::Corruption("avro: enum index " + std::to_string(v) + " out of range [0, " +
                              std::to_string(symbol_count) + ") at byte offset " +
                              std::to_string(at));
  }
  *index = static_cast<size_t>(v);
  return Status::OK();
}

Status Decoder::ReadUnionIndex(size_t branch_count, size_t* index) {
  size_t at = offset();
  int32_t v = 0;
  RETURN_IF_ERROR(ReadInt(&v));
  if (v < 0 || static_cast<size_t>(v) >= branch_count) {
    return Status::Corruption("avro: union branch " + std::to_string(v) + " out of range [0, " +
                              std::to_string(branch_count) + ") at byte offset " +
                              std::to_string(at));
  }
  *index = static_cast<size_t>(v);
  return Status::OK();
}

Status Decoder::ReadBlockCount(int64_t* count, int64_t* block_bytes) {
  size_t at = offset();
  int64_t n = 0;
  RETURN_IF_ERROR(ReadLong(&n));
  int64_t bytes = -1;
  if (n < 0) {
    if (n == std::numeric_limits<int64_t>::min()) {
      return Status::Corruption("avro: invalid block count at byte offset " + std::to_string(at));
    }
    n = -n;
    size_t size_at = offset();
    RETURN_IF_ERROR(ReadLong(&bytes));
    if (bytes < 0 || static_cast<uint64_t>(bytes) > remaining()) {
      return Status::Corruption("avro: block byte size " + std::to_string(bytes) +
                                " invalid (remaining " + std::to_string(remaining()) +
                                ") at byte offset " + std::to_string(size_at));
    }
  }
  *count = n;
  if (block_bytes != nullptr) *block_bytes = bytes;
  return Status::OK();
}

Status Decoder::BoundCount(int64_t count, size_t min_item_size, size_t zero_size_cap,
                           int64_t* total) {
  if (count < 0) return Corrupt("negative item count");
  auto ucount = static_cast<uint64_t>(count);
  if (min_item_size > 0) {
    if (ucount > remaining() / min_item_size) {
      return Corrupt("block of " + std::to_string(count) + " items exceeds the " +
                     std::to_string(remaining()) + " remaining bytes");
    }
  } else if (ucount > zero_size_cap || static_cast<uint64_t>(*total) + ucount > zero_size_cap) {
    return Corrupt("collection of more than " + std::to_string(zero_size_cap) + " zero-size items");
  }
  // Items of non-zero size are bounded by the input, so *total cannot
  // overflow: it is at most the input length (or zero_size_cap).
  *total += count;
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Encoding

namespace {

std::string Mismatch(const Node& schema, const Datum& datum, const std::string& path) {
  return "value at " + path + " is " + std::string(TypeName(datum.type())) + ", schema expects " +
         std::string(schema.is_named() ? schema.fullname() : TypeName(schema.type()));
}

Status Encode(const Node& n, const Datum& d, const std::string& path, Encoder* e) {
  if (d.type() != n.type()) return Status::InvalidArgument(Mismatch(n, d, path));
  switch (n.type()) {
    case Type::kNull:
      return Status::OK();
    case Type::kBoolean:
      e->WriteBool(d.boolean());
      return Status::OK();
    case Type::kInt:
      e->WriteInt(d.int_value());
      return Status::OK();
    case Type::kLong:
      e->WriteLong(d.long_value());
      return Status::OK();
    case Type::kFloat:
      e->WriteFloat(d.float_value());
      return Status::OK();
    case Type::kDouble:
      e->WriteDouble(d.double_value());
      return Status::OK();
    case Type::kBytes:
    case Type::kString:
      e->WriteBytes(d.bytes());
      return Status::OK();
    case Type::kFixed:
      if (d.bytes().size() != n.fixed_size()) {
        return Status::InvalidArgument(
            "value at " + path + " has " + std::to_string(d.bytes().size()) + " bytes, fixed " +
            n.fullname() + " has size " + std::to_string(n.fixed_size()));
      }
      e->WriteFixed(d.bytes());
      return Status::OK();
    case Type::kEnum:
      if (d.enum_index() >= n.symbols().size()) {
        return Status::InvalidArgument("enum index " + std::to_string(d.enum_index()) + " at " +
                                       path + " out of range for " + n.fullname());
      }
      e->WriteEnum(d.enum_index());
      return Status::OK();
    case Type::kArray: {
      const auto& items = d.items();
      if (!items.empty()) {
        e->WriteBlockCount(static_cast<int64_t>(items.size()));
        for (size_t i = 0; i < items.size(); ++i) {
          RETURN_IF_ERROR(Encode(n.items(), items[i], path + "[" + std::to_string(i) + "]", e));
        }
      }
      e->WriteBlockCount(0);
      return Status::OK();
    }
    case Type::kMap: {
      if (d.map_size() > 0) {
        e->WriteBlockCount(static_cast<int64_t>(d.map_size()));
        for (size_t i = 0; i < d.map_size(); ++i) {
          e->WriteString(d.map_key(i));
          RETURN_IF_ERROR(Encode(n.values(), d.map_value(i), path + "." + d.map_key(i), e));
        }
      }
      e->WriteBlockCount(0);
      return Status::OK();
    }
    case Type::kUnion:
      if (d.branch() >= n.branches().size()) {
        return Status::InvalidArgument("union branch " + std::to_string(d.branch()) + " at " +
                                       path + " out of range");
      }
      e->WriteUnionIndex(d.branch());
      return Encode(*n.branches()[d.branch()], d.union_value(), path, e);
    case Type::kRecord: {
      if (d.field_count() != n.fields().size()) {
        return Status::InvalidArgument("record at " + path + " has " +
                                       std::to_string(d.field_count()) + " fields, " +
                                       n.fullname() + " has " + std::to_string(n.fields().size()));
      }
      for (const Field& f : n.fields()) {
        RETURN_IF_ERROR(Encode(*f.type, d.field(f.index), path + "." + f.name, e));
      }
      return Status::OK();
    }
  }
  return Status::Internal("unknown type");
}

// ---------------------------------------------------------------------------
// Decoding

}  // namespace

// Decodes into an existing Datum, reusing its strings and vectors when it
// already holds a value of the same type (so decoding record after record
// into one Datum allocates little).
struct internal::DatumAccess {
  // Makes *d a value of type t; keeps its storage if it already had type t.
  static void Become(Datum* d, Type t, const Node* node) {
    if (d->type_ != t) *d = Datum();
    d->type_ = t;
    d->node_ = node;
  }
  static Datum::Scalar& scalar(Datum* d) { return d->scalar_; }
  static size_t& index(Datum* d) { return d->index_; }
  static std::string& bytes(Datum* d) { return d->bytes_; }
  static std::vector<Datum>& children(Datum* d) { return d->children_; }
  static std::vector<std::string>& keys(Datum* d) { return d->keys_; }
};

namespace {

using internal::DatumAccess;

class BinaryReader {
 public:
  BinaryReader(Decoder* d, const DecodeOptions& o) : d_(d), o_(o) {}

  Status Read(const Node& n, Datum* out, int depth) {
    switch (n.type()) {
      case Type::kNull:
        DatumAccess::Become(out, Type::kNull, nullptr);
        return Status::OK();
      case Type::kBoolean: {
        bool v = false;
        RETURN_IF_ERROR(d_->ReadBool(&v));
        DatumAccess::Become(out, Type::kBoolean, nullptr);
        DatumAccess::scalar(out).b = v;
        return Status::OK();
      }
      case Type::kInt: {
        int32_t v = 0;
        RETURN_IF_ERROR(d_->ReadInt(&v));
        DatumAccess::Become(out, Type::kInt, nullptr);
        DatumAccess::scalar(out).i = v;
        return Status::OK();
      }
      case Type::kLong: {
        int64_t v = 0;
        RETURN_IF_ERROR(d_->ReadLong(&v));
        DatumAccess::Become(out, Type::kLong, nullptr);
        DatumAccess::scalar(out).l = v;
        return Status::OK();
      }
      case Type::kFloat: {
        float v = 0;
        RETURN_IF_ERROR(d_->ReadFloat(&v));
        DatumAccess::Become(out, Type::kFloat, nullptr);
        DatumAccess::scalar(out).f = v;
        return Status::OK();
      }
      case Type::kDouble: {
        double v = 0;
        RETURN_IF_ERROR(d_->ReadDouble(&v));
        DatumAccess::Become(out, Type::kDouble, nullptr);
        DatumAccess::scalar(out).d = v;
        return Status::OK();
      }
      case Type::kBytes:
      case Type::kString: {
        std::string_view v;
        RETURN_IF_ERROR(d_->ReadBytes(&v));
        DatumAccess::Become(out, n.type(), nullptr);
        DatumAccess::bytes(out).assign(v);
        return Status::OK();
      }
      case Type::kFixed: {
        std::string_view v;
        RETURN_IF_ERROR(d_->ReadFixed(n.fixed_size(), &v));
        DatumAccess::Become(out, Type::kFixed, &n);
        DatumAccess::bytes(out).assign(v);
        return Status::OK();
      }
      case Type::kEnum: {
        size_t i = 0;
        RETURN_IF_ERROR(d_->ReadEnum(n.symbols().size(), &i));
        DatumAccess::Become(out, Type::kEnum, &n);
        DatumAccess::index(out) = i;
        return Status::OK();
      }
      default:
        break;
    }
    if (depth >= o_.max_depth) return d_->Corrupt("value nested too deeply");
    switch (n.type()) {
      case Type::kUnion: {
        size_t b = 0;
        RETURN_IF_ERROR(d_->ReadUnionIndex(n.branches().size(), &b));
        DatumAccess::Become(out, Type::kUnion, nullptr);
        DatumAccess::index(out) = b;
        std::vector<Datum>& value = DatumAccess::children(out);
        value.resize(1);
        return Read(*n.branches()[b], &value[0], depth + 1);
      }
      case Type::kRecord: {
        DatumAccess::Become(out, Type::kRecord, &n);
        std::vector<Datum>& fields = DatumAccess::children(out);
        fields.resize(n.fields().size());
        for (const Field& f : n.fields()) {
          RETURN_IF_ERROR(Read(*f.type, &fields[f.index], depth + 1));
        }
        return Status::OK();
      }
      case Type::kArray:
      case Type::kMap: {
        bool is_map = n.type() == Type::kMap;
        DatumAccess::Become(out, n.type(), nullptr);
        std::vector<Datum>& items = DatumAccess::children(out);
        std::vector<std::string>& keys = DatumAccess::keys(out);
        const Node& item = n.items();
        // Each map entry has at least a one-byte key length.
        size_t min_size = item.min_encoded_size() + (is_map ? 1 : 0);
        size_t k = 0;
        int64_t total = 0;
        Status st;
        while (st.ok()) {
          int64_t count = 0;
          st = d_->ReadBlockCount(&count);
          if (!st.ok() || count == 0) break;
          st = d_->BoundCount(count, min_size, o_.max_zero_size_items, &total);
          if (!st.ok()) break;
          if (min_size > 0 && items.size() < static_cast<size_t>(total)) {
            items.reserve(static_cast<size_t>(total));
          }
          for (int64_t i = 0; i < count && st.ok(); ++i, ++k) {
            if (k == items.size()) items.emplace_back();
            if (is_map) {
              if (k == keys.size()) keys.emplace_back();
              std::string_view key;
              st = d_->ReadString(&key);
              if (!st.ok()) break;
              keys[k].assign(key);
            }
            st = Read(item, &items[k], depth + 1);
          }
        }
        // Also on error: keep the vectors consistent (keys parallel to items).
        items.resize(std::min(k, items.size()));
        if (is_map) keys.resize(items.size());
        return st;
      }
      default:
        return Status::Internal("unknown type");
    }
  }

  Status Skip(const Node& n, int depth) {
    switch (n.type()) {
      case Type::kNull:
        return Status::OK();
      case Type::kBoolean: {
        bool v = 0;
        return d_->ReadBool(&v);
      }
      case Type::kInt: {
        int32_t v = 0;
        return d_->ReadInt(&v);
      }
      case Type::kLong:
        return d_->SkipLong();
      case Type::kFloat:
        return d_->Skip(4);
      case Type::kDouble:
        return d_->Skip(8);
      case Type::kBytes:
      case Type::kString:
        return d_->SkipBytes();
      case Type::kFixed:
        return d_->Skip(n.fixed_size());
      case Type::kEnum: {
        size_t i = 0;
        return d_->ReadEnum(n.symbols().size(), &i);
      }
      default:
        break;
    }
    if (depth >= o_.max_depth) return d_->Corrupt("value nested too deeply");
    switch (n.type()) {
      case Type::kUnion: {
        size_t b = 0;
        RETURN_IF_ERROR(d_->ReadUnionIndex(n.branches().size(), &b));
        return Skip(*n.branches()[b], depth + 1);
      }
      case Type::kRecord:
        for (const Field& f : n.fields()) RETURN_IF_ERROR(Skip(*f.type, depth + 1));
        return Status::OK();
      case Type::kArray:
      case Type::kMap: {
        bool is_map = n.type() == Type::kMap;
        const Node& item = n.items();
        size_t min_size = item.min_encoded_size() + (is_map ? 1 : 0);
        int64_t total = 0;
        while (true) {
          int64_t count = 0;
          int64_t bytes = 0;
          RETURN_IF_ERROR(d_->ReadBlockCount(&count, &bytes));
          if (count == 0) return Status::OK();
          if (bytes >= 0 && !o_.validate_skipped_blocks) {
            // ReadBlockCount checked bytes <= remaining.
            RETURN_IF_ERROR(d_->Skip(static_cast<size_t>(bytes)));
            continue;
          }
          RETURN_IF_ERROR(d_->BoundCount(count, min_size, o_.max_zero_size_items, &total));
          for (int64_t i = 0; i < count; ++i) {
            if (is_map) RETURN_IF_ERROR(d_->SkipBytes());
            RETURN_IF_ERROR(Skip(item, depth + 1));
          }
        }
      }
      default:
        return Status::Internal("unknown type");
    }
  }

 private:
  Decoder* d_;
  const DecodeOptions& o_;
};

}  // namespace

Status EncodeBinary(const Node& schema, const Datum& datum, std::string* out) {
  Encoder e(out);
  return Encode(schema, datum, "$", &e);
}

Status DecodeBinary(const Node& schema, Decoder* decoder, Datum* out,
                    const DecodeOptions& options) {
  BinaryReader r(decoder, options);
  return r.Read(schema, out, 0);
}

Result<Datum> DecodeBinary(const Schema& schema, std::string_view bytes,
                           const DecodeOptions& options) {
  Decoder d(bytes);
  Datum out;
  RETURN_IF_ERROR(DecodeBinary(schema.root(), &d, &out, options));
  if (!d.empty()) {
    return d.Corrupt(std::to_string(d.remaining()) + " trailing bytes after the value");
  }
  return out;
}

Status SkipBinary(const Node& schema, Decoder* decoder, const DecodeOptions& options) {
  BinaryReader r(decoder, options);
  return r.Skip(schema, 0);
}

}  // namespace braid::avro
