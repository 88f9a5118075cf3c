// The records of Kafka's `__consumer_offsets` topic, in the key and value
// formats Kafka 3.x writes (group-coordinator/src/main/resources/common/
// message/*.json), so that any consumer of the topic (Burrow, lag exporters,
// kafka-console-consumer's offsets formatter) decodes what braid writes.
//
//   OffsetCommitKey   (key version 0/1): group string, topic string,
//                     partition int32. braid writes version 1.
//   OffsetCommitValue (v0-3; v4 flexible): offset int64, [leader epoch
//                     int32 v3+], metadata string, commit timestamp int64,
//                     [expire timestamp int64 v1 only]. braid writes v3.
//   GroupMetadataKey  (key version 2): group string.
//   GroupMetadataValue (v0-3; v4 flexible): protocol type string, generation
//                     int32, protocol nullable string, leader nullable
//                     string, [current state timestamp int64 v2+], members
//                     [member id, [group instance id v3+], client id, client
//                     host, [rebalance timeout int32 v1+], session timeout
//                     int32, subscription bytes, assignment bytes]. braid
//                     writes v3.
// Every key and value starts with its int16 version; strings have an int16
// length (compact forms in flexible versions). A null value is a tombstone.
//
// Decoding accepts every version listed (also the flexible v4 ones other
// Kafka versions write) and rejects anything else with Corruption; nothing
// is allocated from an unchecked length.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"

namespace braid::kafka {

inline constexpr std::string_view kConsumerOffsetsTopic = "__consumer_offsets";

// The public types use braid's strong types (base/strong_type.h); the wire
// integers of the protocol messages and of the records below are converted
// at their boundaries (group_handlers.cc, the encoders and decoders here).
struct TopicPartition {
  std::string topic;
  PartitionId partition{0};
  auto operator<=>(const TopicPartition&) const = default;
};

struct CommittedOffset {
  Offset offset{-1};
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // written as "" when null (Kafka's rule)
  int64_t commit_timestamp_ms = 0;      // wall clock at commit
};

struct GroupMemberMetadata {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = -1;
  int32_t session_timeout_ms = 0;
  std::string subscription;  // the member's metadata for the chosen protocol
  std::string assignment;
};

// A group's state as Kafka records it after a rebalance completes and when
// the group becomes empty.
struct GroupMetadata {
  std::string protocol_type;  // "consumer", ...
  GenerationId generation{0};
  std::optional<std::string> protocol;  // chosen protocol; null when empty
  std::optional<std::string> leader;    // null when empty
  int64_t current_state_timestamp_ms = -1;
  std::vector<GroupMemberMetadata> members;
};

// Kafka's partition of `group` in a `partitions`-partition offsets topic:
// abs(Java String.hashCode of the group id) % partitions (hashCode over
// UTF-16 code units).
PartitionId OffsetsPartitionFor(std::string_view group, int32_t partitions);

std::string EncodeOffsetCommitKey(std::string_view group, const TopicPartition& tp);
std::string EncodeOffsetCommitValue(const CommittedOffset& c);
std::string EncodeGroupMetadataKey(std::string_view group);
std::string EncodeGroupMetadataValue(const GroupMetadata& g);

struct OffsetsTopicKey {
  enum class Kind : uint8_t { kOffsetCommit, kGroupMetadata };
  Kind kind = Kind::kOffsetCommit;
  int16_t version = 0;
  std::string group;
  TopicPartition tp;  // kOffsetCommit only
};

Result<OffsetsTopicKey> DecodeOffsetsTopicKey(std::string_view key);
Result<CommittedOffset> DecodeOffsetCommitValue(std::string_view value);
Result<GroupMetadata> DecodeGroupMetadataValue(std::string_view value);

}  // namespace braid::kafka
