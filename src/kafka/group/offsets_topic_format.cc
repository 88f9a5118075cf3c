#include "kafka/group/offsets_topic_format.h"

#include <algorithm>

#include "kafka/protocol/wire.h"

namespace braid::kafka {
namespace {

constexpr int16_t kOffsetCommitKeyVersion = 1;
constexpr int16_t kGroupMetadataKeyVersion = 2;
constexpr int16_t kOffsetCommitValueVersion = 3;
constexpr int16_t kGroupMetadataValueVersion = 3;
constexpr int16_t kFirstFlexibleValueVersion = 4;

// Strings and bytes in the non-flexible or flexible (compact) form.
struct FieldReader {
  Reader* r;
  bool flexible;
  Status String(std::string* v) { return flexible ? r->ReadCompactString(v) : r->ReadString(v); }
  Status NullableString(std::optional<std::string>* v) {
    return flexible ? r->ReadCompactNullableString(v) : r->ReadNullableString(v);
  }
  Status Bytes(std::string* v) { return flexible ? r->ReadCompactBytes(v) : r->ReadBytes(v); }
  Status ArrayCount(int32_t* n, size_t min_element) {
    return flexible ? r->ReadCompactArrayCount(n, min_element) : r->ReadArrayCount(n, min_element);
  }
  Status Tags() { return flexible ? r->SkipTaggedFields() : Status::OK(); }
};

// Java's String.hashCode over the UTF-16 code units of a UTF-8 string.
// Invalid UTF-8 bytes count as U+FFFD (what Java's decoder substitutes).
int32_t JavaStringHashCode(std::string_view s) {
  uint32_t h = 0;
  auto add = [&h](uint32_t unit) { h = 31 * h + unit; };
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    auto cont = [&](size_t k) {
      return i + k < s.size() && (static_cast<uint8_t>(s[i + k]) & 0xC0) == 0x80;
    };
    auto bits = [&](size_t k) {
      return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k]) & 0x3F);
    };
    if (b0 < 0x80) {
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0 && cont(1)) {
      cp = ((b0 & 0x1Fu) << 6) | bits(1);
      len = cp >= 0x80 ? 2 : 1;
      if (len == 1) cp = 0xFFFD;
    } else if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      cp = ((b0 & 0x0Fu) << 12) | (bits(1) << 6) | bits(2);
      len = 3;
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    } else if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      cp = ((b0 & 0x07u) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
      len = 4;
      if (cp < 0x10000 || cp > 0x10FFFF) cp = 0xFFFD;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
    i += len;
  }
  return static_cast<int32_t>(h);
}

}  // namespace

PartitionId OffsetsPartitionFor(std::string_view group, int32_t partitions) {
  if (partitions <= 0) return PartitionId(0);
  const int32_t h = JavaStringHashCode(group);
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  const int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
  return PartitionId(abs % partitions);
}

std::string EncodeOffsetCommitKey(std::string_view group, const TopicPartition& tp) {
  std::string out;
  Writer w(&out);
  w.WriteInt16(kOffsetCommitKeyVersion);
  w.WriteString(group);
  w.WriteString(tp.topic);
  w.WriteInt32(tp.partition.value());
  return out;
}

std::string EncodeOffsetCommitValue(const CommittedOffset& c) {
  std::string out;
  Writer w(&out);
  w.WriteInt16(kOffsetCommitValueVersion);
  w.WriteInt64(c.offset.value());
  w.WriteInt32(c.leader_epoch);
  w.WriteString(c.metadata.value_or(""));
  w.WriteInt64(c.commit_timestamp_ms);
  return out;
}

std::string EncodeGroupMetadataKey(std::string_view group) {
  std::string out;
  Writer w(&out);
  w.WriteInt16(kGroupMetadataKeyVersion);
  w.WriteString(group);
  return out;
}

std::string EncodeGroupMetadataValue(const GroupMetadata& g) {
  std::string out;
  Writer w(&out);
  w.WriteInt16(kGroupMetadataValueVersion);
  w.WriteString(g.protocol_type);
  w.WriteInt32(g.generation.value());
  w.WriteNullableString(g.protocol);
  w.WriteNullableString(g.leader);
  w.WriteInt64(g.current_state_timestamp_ms);
  w.WriteArrayCount(static_cast<int32_t>(g.members.size()));
  for (const GroupMemberMetadata& m : g.members) {
    w.WriteString(m.member_id);
    w.WriteNullableString(m.group_instance_id);
    w.WriteString(m.client_id);
    w.WriteString(m.client_host);
    w.WriteInt32(m.rebalance_timeout_ms);
    w.WriteInt32(m.session_timeout_ms);
    w.WriteBytes(m.subscription);
    w.WriteBytes(m.assignment);
  }
  return out;
}

Result<OffsetsTopicKey> DecodeOffsetsTopicKey(std::string_view key) {
  Reader r(key);
  OffsetsTopicKey k;
  RETURN_IF_ERROR(r.ReadInt16(&k.version));
  switch (k.version) {
    case 0:
    case 1: {
      k.kind = OffsetsTopicKey::Kind::kOffsetCommit;
      RETURN_IF_ERROR(r.ReadString(&k.group));
      RETURN_IF_ERROR(r.ReadString(&k.tp.topic));
      int32_t partition = 0;
      RETURN_IF_ERROR(r.ReadInt32(&partition));
      k.tp.partition = PartitionId(partition);
      break;
    }
    case 2:
      k.kind = OffsetsTopicKey::Kind::kGroupMetadata;
      RETURN_IF_ERROR(r.ReadString(&k.group));
      break;
    default:
      return Status::Corruption("unknown __consumer_offsets key version " +
                                std::to_string(k.version));
  }
  return k;
}

Result<CommittedOffset> DecodeOffsetCommitValue(std::string_view value) {
  Reader r(value);
  int16_t version = 0;
  RETURN_IF_ERROR(r.ReadInt16(&version));
  if (version < 0 || version > kFirstFlexibleValueVersion) {
    return Status::Corruption("unknown offset commit value version " + std::to_string(version));
  }
  FieldReader f{&r, version >= kFirstFlexibleValueVersion};
  CommittedOffset c;
  int64_t offset = 0;
  RETURN_IF_ERROR(r.ReadInt64(&offset));
  c.offset = Offset(offset);
  if (version >= 3) RETURN_IF_ERROR(r.ReadInt32(&c.leader_epoch));
  std::string metadata;
  RETURN_IF_ERROR(f.String(&metadata));
  c.metadata = std::move(metadata);
  RETURN_IF_ERROR(r.ReadInt64(&c.commit_timestamp_ms));
  if (version == 1) {
    int64_t expire = 0;
    RETURN_IF_ERROR(r.ReadInt64(&expire));
  }
  RETURN_IF_ERROR(f.Tags());
  return c;
}

Result<GroupMetadata> DecodeGroupMetadataValue(std::string_view value) {
  Reader r(value);
  int16_t version = 0;
  RETURN_IF_ERROR(r.ReadInt16(&version));
  if (version < 0 || version > kFirstFlexibleValueVersion) {
    return Status::Corruption("unknown group metadata value version " + std::to_string(version));
  }
  FieldReader f{&r, version >= kFirstFlexibleValueVersion};
  GroupMetadata g;
  RETURN_IF_ERROR(f.String(&g.protocol_type));
  int32_t generation = 0;
  RETURN_IF_ERROR(r.ReadInt32(&generation));
  g.generation = GenerationId(generation);
  RETURN_IF_ERROR(f.NullableString(&g.protocol));
  RETURN_IF_ERROR(f.NullableString(&g.leader));
  if (version >= 2) RETURN_IF_ERROR(r.ReadInt64(&g.current_state_timestamp_ms));
  int32_t n = 0;
  // The smallest member (flexible form): 6 one-byte lengths, two int32,
  // one tag count.
  RETURN_IF_ERROR(f.ArrayCount(&n, 15));
  g.members.reserve(static_cast<size_t>(std::max(n, 0)));
  for (int32_t i = 0; i < n; ++i) {
    GroupMemberMetadata m;
    RETURN_IF_ERROR(f.String(&m.member_id));
    if (version >= 3) RETURN_IF_ERROR(f.NullableString(&m.group_instance_id));
    RETURN_IF_ERROR(f.String(&m.client_id));
    RETURN_IF_ERROR(f.String(&m.client_host));
    if (version >= 1) RETURN_IF_ERROR(r.ReadInt32(&m.rebalance_timeout_ms));
    RETURN_IF_ERROR(r.ReadInt32(&m.session_timeout_ms));
    RETURN_IF_ERROR(f.Bytes(&m.subscription));
    RETURN_IF_ERROR(f.Bytes(&m.assignment));
    RETURN_IF_ERROR(f.Tags());
    g.members.push_back(std::move(m));
  }
  RETURN_IF_ERROR(f.Tags());
  return g;
}

}  // namespace braid::kafka
