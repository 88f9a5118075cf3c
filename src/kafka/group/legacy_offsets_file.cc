#include "kafka/group/legacy_offsets_file.h"

#include <optional>
#include <string_view>
#include <utility>

#include "base/coding.h"
#include "base/crc.h"
#include "base/logging.h"
#include "base/strong_type.h"

namespace braid::kafka {
namespace {

constexpr size_t kFrameHeader = 8;
constexpr uint32_t kMaxRecordBytes = 16u << 20;

enum RecordType : uint8_t {
  kCommit = 1,
  kDeleteOffset = 2,
  kDeleteGroup = 3,
  kGroupState = 4,
};

// Bounds-checked reader over one payload.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view s) : s_(s) {}
  bool U8(uint8_t* v) {
    if (pos_ + 1 > s_.size()) return false;
    *v = static_cast<uint8_t>(s_[pos_++]);
    return true;
  }
  bool I32(int32_t* v) {
    if (s_.size() - pos_ < 4) return false;
    *v = static_cast<int32_t>(coding::DecodeBigEndian32(s_.data() + pos_));
    pos_ += 4;
    return true;
  }
  bool I64(int64_t* v) {
    if (s_.size() - pos_ < 8) return false;
    *v = static_cast<int64_t>(coding::DecodeBigEndian64(s_.data() + pos_));
    pos_ += 8;
    return true;
  }
  // A strong type read as its representation (int32 or int64).
  template <typename Tag, typename T>
  bool Strong(StrongType<Tag, T>* v) {
    T x{};
    bool ok;
    if constexpr (sizeof(T) == 4) {
      ok = I32(&x);
    } else {
      static_assert(sizeof(T) == 8);
      ok = I64(&x);
    }
    if (ok) *v = StrongType<Tag, T>(x);
    return ok;
  }
  bool Str(std::string* v) {
    int32_t n;
    if (!I32(&n) || n < 0 || static_cast<size_t>(n) > s_.size() - pos_) return false;
    v->assign(s_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool NullableStr(std::optional<std::string>* v) {
    int32_t n;
    if (!I32(&n)) return false;
    if (n == -1) {
      v->reset();
      return true;
    }
    if (n < 0 || static_cast<size_t>(n) > s_.size() - pos_) return false;
    v->emplace(s_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool Apply(std::string_view payload, std::map<std::string, LegacyGroup>* groups) {
  PayloadReader r(payload);
  uint8_t type;
  std::string group;
  if (!r.U8(&type) || !r.Str(&group)) return false;
  switch (type) {
    case kCommit: {
      TopicPartition tp;
      CommittedOffset c;
      if (!r.Str(&tp.topic) || !r.Strong(&tp.partition) || !r.Strong(&c.offset) ||
          !r.I32(&c.leader_epoch) || !r.NullableStr(&c.metadata) ||
          !r.I64(&c.commit_timestamp_ms) || !r.done()) {
        return false;
      }
      (*groups)[group].offsets[tp] = std::move(c);
      return true;
    }
    case kDeleteOffset: {
      TopicPartition tp;
      if (!r.Str(&tp.topic) || !r.Strong(&tp.partition) || !r.done()) return false;
      auto it = groups->find(group);
      if (it != groups->end()) it->second.offsets.erase(tp);
      return true;
    }
    case kDeleteGroup:
      if (!r.done()) return false;
      groups->erase(group);
      return true;
    case kGroupState: {
      LegacyGroup& g = (*groups)[group];
      return r.Str(&g.protocol_type) && r.I64(&g.empty_since_ms) && r.done();
    }
    default:
      return false;
  }
}

void PutStr(std::string* dst, std::string_view s) {
  coding::PutBigEndian32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s);
}

void Frame(std::string* out, const std::string& payload) {
  coding::PutBigEndian32(out, static_cast<uint32_t>(payload.size()));
  coding::PutBigEndian32(out, Crc32c(payload));
  out->append(payload);
}

}  // namespace

Result<std::map<std::string, LegacyGroup>> ReadLegacyOffsetsFile(io::FileSystem* fs,
                                                                 const std::string& path,
                                                                 uint64_t max_bytes) {
  if (!fs->FileExists(path)) return Status::NotFound(path + " does not exist");
  ASSIGN_OR_RETURN(std::string data, io::ReadFileToString(fs, path, max_bytes));
  std::map<std::string, LegacyGroup> groups;
  uint64_t good = 0;
  while (good < data.size()) {
    if (data.size() - good < kFrameHeader) break;
    const char* p = data.data() + good;
    uint32_t len = coding::DecodeBigEndian32(p);
    uint32_t crc = coding::DecodeBigEndian32(p + 4);
    if (len > kMaxRecordBytes || len > data.size() - good - kFrameHeader) break;
    std::string_view payload(p + kFrameHeader, len);
    if (Crc32c(payload) != crc) break;
    if (!Apply(payload, &groups)) {
      return Status::Corruption(path + ": malformed record at byte offset " + std::to_string(good));
    }
    good += kFrameHeader + len;
  }
  if (good < data.size()) {
    LOG_WARN("{}: ignoring a torn or corrupt tail at byte offset {} ({} bytes)", path, good,
             data.size() - good);
  }
  return groups;
}

std::string EncodeLegacyOffsetsFile(const std::map<std::string, LegacyGroup>& groups) {
  std::string out;
  for (const auto& [group, g] : groups) {
    std::string p;
    p.push_back(static_cast<char>(kGroupState));
    PutStr(&p, group);
    PutStr(&p, g.protocol_type);
    coding::PutBigEndian64(&p, static_cast<uint64_t>(g.empty_since_ms));
    Frame(&out, p);
    for (const auto& [tp, c] : g.offsets) {
      std::string q;
      q.push_back(static_cast<char>(kCommit));
      PutStr(&q, group);
      PutStr(&q, tp.topic);
      coding::PutBigEndian32(&q, static_cast<uint32_t>(tp.partition.value()));
      coding::PutBigEndian64(&q, static_cast<uint64_t>(c.offset.value()));
      coding::PutBigEndian32(&q, static_cast<uint32_t>(c.leader_epoch));
      if (c.metadata) {
        PutStr(&q, *c.metadata);
      } else {
        coding::PutBigEndian32(&q, 0xffffffffu);
      }
      coding::PutBigEndian64(&q, static_cast<uint64_t>(c.commit_timestamp_ms));
      Frame(&out, q);
    }
  }
  return out;
}

}  // namespace braid::kafka
