// Symmetric (de)serialisation helpers for messages.cc: one function template
// per message, instantiated with DecodeIo (reads fields into the struct) or
// EncodeIo (writes them), so the two directions cannot disagree.
// Private to kafka/protocol.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "kafka/protocol/api_versions.h"
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/messages.h"
#include "kafka/protocol/wire.h"

namespace braid::kafka::internal {

inline Status CheckVersion(ApiKey key, int16_t version) {
  if (!IsSupportedVersion(static_cast<int16_t>(key), version)) {
    return Status::InvalidArgument(std::string("unsupported version ") + std::to_string(version) +
                                   " of " + std::string(ApiKeyName(static_cast<int16_t>(key))));
  }
  return Status::OK();
}

class DecodeIo {
 public:
  static constexpr bool kDecoding = true;
  DecodeIo(Reader* r, bool flexible) : r_(r), flexible_(flexible) {}
  bool flexible() const { return flexible_; }

  Status Bool(bool& v) { return r_->ReadBool(&v); }
  Status Int8(int8_t& v) { return r_->ReadInt8(&v); }
  Status Int16(int16_t& v) { return r_->ReadInt16(&v); }
  Status Int32(int32_t& v) { return r_->ReadInt32(&v); }
  Status Int64(int64_t& v) { return r_->ReadInt64(&v); }
  Status Error(ErrorCode& v) {
    int16_t x = 0;
    RETURN_IF_ERROR(r_->ReadInt16(&x));
    v = static_cast<ErrorCode>(x);
    return Status::OK();
  }
  template <typename Tag, typename T>
  Status Strong(StrongType<Tag, T>& v) {
    T x{};
    if constexpr (sizeof(T) == 2) {
      RETURN_IF_ERROR(r_->ReadInt16(&x));
    } else if constexpr (sizeof(T) == 4) {
      RETURN_IF_ERROR(r_->ReadInt32(&x));
    } else {
      RETURN_IF_ERROR(r_->ReadInt64(&x));
    }
    v = StrongType<Tag, T>(x);
    return Status::OK();
  }
  Status String(std::string& v) {
    return flexible_ ? r_->ReadCompactString(&v) : r_->ReadString(&v);
  }
  Status NullableString(std::optional<std::string>& v) {
    return flexible_ ? r_->ReadCompactNullableString(&v) : r_->ReadNullableString(&v);
  }
  Status Bytes(std::string& v) { return flexible_ ? r_->ReadCompactBytes(&v) : r_->ReadBytes(&v); }
  Status NullableBytes(std::optional<std::string>& v) {
    return flexible_ ? r_->ReadCompactNullableBytes(&v) : r_->ReadNullableBytes(&v);
  }
  // Reads an array count; -1 means null.
  Status Count(int32_t& n, size_t min_size) {
    if (flexible_) return r_->ReadCompactArrayCount(&n, std::max<size_t>(1, min_size / 4));
    return r_->ReadArrayCount(&n, std::max<size_t>(1, min_size));
  }
  template <typename T, typename F>
  Status Array(std::vector<T>& v, size_t min_size, F&& elem) {
    int32_t n = 0;
    RETURN_IF_ERROR(Count(n, min_size));
    if (n < 0) return r_->Error("null array for non-nullable field");
    return Elements(v, n, elem);
  }
  // `nullable`: whether this version allows null. A null array where it is
  // not allowed is an error.
  template <typename T, typename F>
  Status NullableArray(std::optional<std::vector<T>>& v, bool nullable, size_t min_size, F&& elem) {
    int32_t n = 0;
    RETURN_IF_ERROR(Count(n, min_size));
    if (n < 0) {
      if (!nullable) return r_->Error("null array for non-nullable field");
      v.reset();
      return Status::OK();
    }
    v.emplace();
    return Elements(*v, n, elem);
  }
  Status Int32Array(std::vector<int32_t>& v) {
    return Array(v, 4, [](DecodeIo& io, int32_t& x) { return io.Int32(x); });
  }
  Status Int64Array(std::vector<int64_t>& v) {
    return Array(v, 8, [](DecodeIo& io, int64_t& x) { return io.Int64(x); });
  }
  Status StringArray(std::vector<std::string>& v) {
    return Array(v, 2, [](DecodeIo& io, std::string& x) { return io.String(x); });
  }
  // The tagged-field section at the end of a struct (flexible versions only).
  Status Tags() { return flexible_ ? r_->SkipTaggedFields() : Status::OK(); }

 private:
  template <typename T, typename F>
  Status Elements(std::vector<T>& v, int32_t n, F& elem) {
    v.clear();
    v.reserve(std::min<size_t>(static_cast<size_t>(n), 1024));
    for (int32_t i = 0; i < n; ++i) {
      v.emplace_back();
      RETURN_IF_ERROR(elem(*this, v.back()));
    }
    return Status::OK();
  }

  Reader* r_;
  bool flexible_;
};

class EncodeIo {
 public:
  static constexpr bool kDecoding = false;
  // With `splices`, FileBytes leaves the file bytes out and records where
  // they belong; without, it reads them into the output.
  EncodeIo(Writer* w, bool flexible, std::vector<RecordsSplice>* splices = nullptr)
      : w_(w), flexible_(flexible), splices_(splices) {}
  bool flexible() const { return flexible_; }

  // A BYTES field whose content is a file range (never null).
  Status FileBytes(const log::FileSlice& s) {
    RETURN_IF_ERROR(CheckLong(s.size));
    if (flexible_) {
      w_->WriteUnsignedVarint(static_cast<uint32_t>(s.size + 1));
    } else {
      w_->WriteInt32(static_cast<int32_t>(s.size));
    }
    if (splices_ != nullptr) {
      splices_->push_back(RecordsSplice{w_->size(), s});
      return Status::OK();
    }
    return s.AppendTo(w_->buffer());
  }

  Status Bool(bool& v) {
    w_->WriteBool(v);
    return Status::OK();
  }
  Status Int8(int8_t& v) {
    w_->WriteInt8(v);
    return Status::OK();
  }
  Status Int16(int16_t& v) {
    w_->WriteInt16(v);
    return Status::OK();
  }
  Status Int32(int32_t& v) {
    w_->WriteInt32(v);
    return Status::OK();
  }
  Status Int64(int64_t& v) {
    w_->WriteInt64(v);
    return Status::OK();
  }
  Status Error(ErrorCode& v) {
    w_->WriteInt16(static_cast<int16_t>(v));
    return Status::OK();
  }
  template <typename Tag, typename T>
  Status Strong(StrongType<Tag, T>& v) {
    if constexpr (sizeof(T) == 2) {
      w_->WriteInt16(v.value());
    } else if constexpr (sizeof(T) == 4) {
      w_->WriteInt32(v.value());
    } else {
      w_->WriteInt64(v.value());
    }
    return Status::OK();
  }
  Status String(std::string& v) {
    if (flexible_) {
      w_->WriteCompactString(v);
      return Status::OK();
    }
    RETURN_IF_ERROR(CheckShort(v));
    w_->WriteString(v);
    return Status::OK();
  }
  Status NullableString(std::optional<std::string>& v) {
    if (flexible_) {
      w_->WriteCompactNullableString(v);
      return Status::OK();
    }
    if (v) RETURN_IF_ERROR(CheckShort(*v));
    w_->WriteNullableString(v);
    return Status::OK();
  }
  Status Bytes(std::string& v) {
    RETURN_IF_ERROR(CheckLong(v.size()));
    if (flexible_) {
      w_->WriteCompactBytes(v);
      return Status::OK();
    }
    w_->WriteBytes(v);
    return Status::OK();
  }
  Status NullableBytes(std::optional<std::string>& v) {
    if (v) RETURN_IF_ERROR(CheckLong(v->size()));
    if (flexible_) {
      w_->WriteCompactNullableBytes(v);
      return Status::OK();
    }
    w_->WriteNullableBytes(v);
    return Status::OK();
  }
  Status Count(int32_t n) {
    if (flexible_) {
      w_->WriteCompactArrayCount(n);
      return Status::OK();
    }
    w_->WriteArrayCount(n);
    return Status::OK();
  }
  template <typename T, typename F>
  Status Array(std::vector<T>& v, size_t /*min_size*/, F&& elem) {
    RETURN_IF_ERROR(CheckLong(v.size()));
    RETURN_IF_ERROR(Count(static_cast<int32_t>(v.size())));
    for (T& x : v) RETURN_IF_ERROR(elem(*this, x));
    return Status::OK();
  }
  template <typename T, typename F>
  Status NullableArray(std::optional<std::vector<T>>& v, bool nullable, size_t min_size, F&& elem) {
    if (!v) {
      if (!nullable) return Status::InvalidArgument("null array in a version without null");
      return Count(-1);
    }
    return Array(*v, min_size, elem);
  }
  Status Int32Array(std::vector<int32_t>& v) {
    return Array(v, 4, [](EncodeIo& io, int32_t& x) { return io.Int32(x); });
  }
  Status Int64Array(std::vector<int64_t>& v) {
    return Array(v, 8, [](EncodeIo& io, int64_t& x) { return io.Int64(x); });
  }
  Status StringArray(std::vector<std::string>& v) {
    return Array(v, 2, [](EncodeIo& io, std::string& x) { return io.String(x); });
  }
  Status Tags() {
    if (flexible_) w_->WriteEmptyTaggedFields();
    return Status::OK();
  }

 private:
  static Status CheckShort(const std::string& s) {
    if (s.size() > 32767) return Status::InvalidArgument("string longer than 32767 bytes");
    return Status::OK();
  }
  static Status CheckLong(size_t n) {
    if (n > static_cast<size_t>(INT32_MAX - 1)) {
      return Status::InvalidArgument("bytes/array larger than INT32_MAX");
    }
    return Status::OK();
  }

  Writer* w_;
  bool flexible_;
  std::vector<RecordsSplice>* splices_;
};

}  // namespace braid::kafka::internal
