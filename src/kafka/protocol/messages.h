// Request and response bodies of every Kafka API braid implements, at every
// version listed in api_versions.h.
//
// Each struct mirrors Kafka's JSON schema (clients/src/main/resources/common/
// message/*.json): field names in snake_case, the versions a field exists in
// noted as "vN+" / "vN-M". A field absent in a version keeps its default when
// decoding and is not written when encoding. Nullable strings/bytes/arrays are
// std::optional (nullopt = null on the wire).
//
// Every struct has
//   static constexpr ApiKey kApiKey;
//   Status Decode(Reader* r, int16_t version);        // replaces *this
//   Status Encode(int16_t version, Writer* w) const;  // appends
// Decode and Encode accept exactly the versions FindApi(kApiKey) advertises;
// other versions are InvalidArgument ("unsupported version"). Decode errors on
// malformed input are Corruption with the byte offset; unknown tagged fields
// of flexible versions are skipped. Decode does not require the reader to be
// empty afterwards (Kafka ignores trailing bytes too). Encode fails with
// InvalidArgument if a value cannot be represented in `version` (a string
// longer than 32767 bytes, null where the version has no null).
//
// Requests are decoded by the broker and encoded by tests/clients; responses
// the other way round. Both directions exist for every message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_type.h"
#include "kafka/protocol/api_versions.h"
#include "kafka/protocol/error_code.h"
#include "kafka/protocol/wire.h"
#include "log/partition.h"

namespace braid::kafka {

#define BRAID_KAFKA_MESSAGE_METHODS(key)         \
  static constexpr ApiKey kApiKey = ApiKey::key; \
  Status Decode(Reader* r, int16_t version);     \
  Status Encode(int16_t version, Writer* w) const;

// ---------------------------------------------------------------- Produce (0)

struct ProduceRequest {
  struct Partition {
    PartitionId partition_index{0};
    // RecordBatch v2 bytes (log/record_batch.h); v0-2 requests carry magic 0/1
    // MessageSets, which log::ParseBatchHeader rejects (InvalidArgument).
    std::optional<std::string> records;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::optional<std::string> transactional_id;  // v3+
  int16_t acks = -1;                            // 0: no response is sent
  int32_t timeout_ms = 0;
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kProduce)
};

struct ProduceResponse {
  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::kNone;
    Offset base_offset{-1};
    int64_t log_append_time_ms = -1;  // v2+; -1 for CreateTime topics
    Offset log_start_offset{-1};      // v5+
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> responses;
  int32_t throttle_time_ms = 0;  // v1+, written AFTER responses
  BRAID_KAFKA_MESSAGE_METHODS(kProduce)
};

// ------------------------------------------------------------------ Fetch (1)

struct FetchRequest {
  struct Partition {
    PartitionId partition_index{0};
    int32_t current_leader_epoch = -1;  // v9+
    Offset fetch_offset{0};
    Offset log_start_offset{-1};  // v5+
    int32_t partition_max_bytes = 0;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  struct ForgottenTopic {  // v7+
    std::string name;
    std::vector<int32_t> partitions;
  };
  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;  // v3+
  int8_t isolation_level = 0;      // v4+: 0 read_uncommitted, 1 read_committed
  int32_t session_id = 0;          // v7+
  int32_t session_epoch = -1;      // v7+
  std::vector<Topic> topics;
  std::vector<ForgottenTopic> forgotten_topics;  // v7+
  std::string rack_id;                           // v11+
  BRAID_KAFKA_MESSAGE_METHODS(kFetch)
};

struct FetchResponse {
  struct AbortedTransaction {
    ProducerId producer_id{-1};
    Offset first_offset{-1};
  };
  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::kNone;
    Offset high_watermark{-1};
    Offset last_stable_offset{-1};  // v4+
    Offset log_start_offset{-1};    // v5+
    // v4+; null and empty are both accepted by clients (Kafka sends null for
    // read_uncommitted).
    std::optional<std::vector<AbortedTransaction>> aborted_transactions;
    int32_t preferred_read_replica = -1;  // v11+; must be -1 (brief §8.15)
    std::optional<std::string> records;   // whole RecordBatches
    // Encode only (the broker's zero-copy path): when not empty, the records
    // are this byte range of a segment file, and `records` must be nullopt.
    // Encode() reads the range into the output; EncodeFetchResponseFrame()
    // leaves it out and says where it belongs, for sendfile(2). Decode never
    // sets it.
    log::FileSlice records_slice;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;             // v1+
  ErrorCode error_code = ErrorCode::kNone;  // v7+
  int32_t session_id = 0;                   // v7+
  std::vector<Topic> responses;
  BRAID_KAFKA_MESSAGE_METHODS(kFetch)
};

// A file range that belongs at byte `position` of an encoded frame.
struct RecordsSplice {
  size_t position = 0;
  log::FileSlice slice;
};

// A frame whose `bytes` leave out the `splices` (ascending positions); the
// frame's size prefix counts them.
struct SplicedFrame {
  std::string bytes;
  std::vector<RecordsSplice> splices;
  uint64_t wire_size() const;
};

// EncodeResponseFrame (header.h) for a Fetch response, except that every
// partition's records_slice is left out of the bytes and listed in
// `splices`, so that the transport can write it from the file (sendfile).
Result<SplicedFrame> EncodeFetchResponseFrame(int32_t correlation_id, int16_t version,
                                              const FetchResponse& resp);

// ------------------------------------------------------------ ListOffsets (2)

// Special timestamps of ListOffsetsRequest.
inline constexpr int64_t kListOffsetsLatest = -1;
inline constexpr int64_t kListOffsetsEarliest = -2;

struct ListOffsetsRequest {
  struct Partition {
    PartitionId partition_index{0};
    int32_t current_leader_epoch = -1;  // v4+
    int64_t timestamp = kListOffsetsLatest;
    int32_t max_num_offsets = 1;  // v0 only
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t replica_id = -1;
  int8_t isolation_level = 0;  // v2+
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kListOffsets)
};

struct ListOffsetsResponse {
  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::kNone;
    std::vector<int64_t> old_style_offsets;  // v0 only
    int64_t timestamp = -1;                  // v1+
    Offset offset{-1};                       // v1+
    int32_t leader_epoch = -1;               // v4+
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kListOffsets)
};

// --------------------------------------------------------------- Metadata (3)

struct MetadataRequest {
  // v0: an empty list means "all topics". v1+: nullopt means all topics, an
  // empty list means none (brokers only).
  std::optional<std::vector<std::string>> topics;
  bool allow_auto_topic_creation = true;               // v4+
  bool include_cluster_authorized_operations = false;  // v8+ (not advertised)
  bool include_topic_authorized_operations = false;    // v8+ (not advertised)
  BRAID_KAFKA_MESSAGE_METHODS(kMetadata)
};

struct MetadataResponse {
  struct Broker {
    NodeId node_id{0};
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;  // v1+
  };
  struct Partition {
    ErrorCode error_code = ErrorCode::kNone;
    PartitionId partition_index{0};
    NodeId leader_id{-1};
    int32_t leader_epoch = -1;  // v7+
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;  // v5+
  };
  struct Topic {
    ErrorCode error_code = ErrorCode::kNone;
    std::string name;
    bool is_internal = false;  // v1+
    std::vector<Partition> partitions;
    int32_t topic_authorized_operations = INT32_MIN;  // v8+
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  NodeId controller_id{-1};               // v1+
  std::vector<Topic> topics;
  int32_t cluster_authorized_operations = INT32_MIN;  // v8+
  BRAID_KAFKA_MESSAGE_METHODS(kMetadata)
};

// ----------------------------------------------------------- OffsetCommit (8)

struct OffsetCommitRequest {
  struct Partition {
    PartitionId partition_index{0};
    Offset committed_offset{-1};
    int32_t committed_leader_epoch = -1;  // v6+
    int64_t commit_timestamp = -1;        // v1 only
    std::optional<std::string> committed_metadata;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::string group_id;
  GenerationId generation_id{-1};                // v1+
  std::string member_id;                         // v1+
  std::optional<std::string> group_instance_id;  // v7+
  int64_t retention_time_ms = -1;                // v2-v4
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kOffsetCommit)
};

struct OffsetCommitResponse {
  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kOffsetCommit)
};

// ------------------------------------------------------------ OffsetFetch (9)

struct OffsetFetchRequest {
  struct Topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
  };
  std::string group_id;
  // nullopt (v2+) = every partition the group has committed.
  std::optional<std::vector<Topic>> topics;
  bool require_stable = false;  // v7+ (not advertised)
  BRAID_KAFKA_MESSAGE_METHODS(kOffsetFetch)
};

struct OffsetFetchResponse {
  struct Partition {
    PartitionId partition_index{0};
    Offset committed_offset{-1};          // -1: nothing committed
    int32_t committed_leader_epoch = -1;  // v5+
    std::optional<std::string> metadata;
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;
  ErrorCode error_code = ErrorCode::kNone;  // v2+
  BRAID_KAFKA_MESSAGE_METHODS(kOffsetFetch)
};

// -------------------------------------------------------- FindCoordinator (10)

struct FindCoordinatorRequest {
  std::string key;      // the group id (key_type 0) or transactional id (1)
  int8_t key_type = 0;  // v1+
  BRAID_KAFKA_MESSAGE_METHODS(kFindCoordinator)
};

struct FindCoordinatorResponse {
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;  // v1+
  NodeId node_id{-1};
  std::string host;
  int32_t port = -1;
  BRAID_KAFKA_MESSAGE_METHODS(kFindCoordinator)
};

// -------------------------------------------------------------- JoinGroup (11)

struct JoinGroupRequest {
  struct Protocol {
    std::string name;
    std::string metadata;
  };
  std::string group_id;
  int32_t session_timeout_ms = 0;
  // v1+. v0 has none: -1 after decoding; use session_timeout_ms (brief §8.6).
  int32_t rebalance_timeout_ms = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v5+
  std::string protocol_type;
  std::vector<Protocol> protocols;
  BRAID_KAFKA_MESSAGE_METHODS(kJoinGroup)
};

struct JoinGroupResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v5+
    std::string metadata;
  };
  int32_t throttle_time_ms = 0;  // v2+
  ErrorCode error_code = ErrorCode::kNone;
  GenerationId generation_id{-1};
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<Member> members;  // only filled for the leader
  BRAID_KAFKA_MESSAGE_METHODS(kJoinGroup)
};

// -------------------------------------------------------------- Heartbeat (12)

struct HeartbeatRequest {
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  BRAID_KAFKA_MESSAGE_METHODS(kHeartbeat)
};

struct HeartbeatResponse {
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  BRAID_KAFKA_MESSAGE_METHODS(kHeartbeat)
};

// ------------------------------------------------------------- LeaveGroup (13)

struct LeaveGroupRequest {
  std::string group_id;
  std::string member_id;  // v0-v2
  BRAID_KAFKA_MESSAGE_METHODS(kLeaveGroup)
};

struct LeaveGroupResponse {
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  BRAID_KAFKA_MESSAGE_METHODS(kLeaveGroup)
};

// -------------------------------------------------------------- SyncGroup (14)

struct SyncGroupRequest {
  struct Assignment {
    std::string member_id;
    std::string assignment;
  };
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::vector<Assignment> assignments;           // only from the leader
  BRAID_KAFKA_MESSAGE_METHODS(kSyncGroup)
};

struct SyncGroupResponse {
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  std::string assignment;
  BRAID_KAFKA_MESSAGE_METHODS(kSyncGroup)
};

// --------------------------------------------------------- DescribeGroups (15)

struct DescribeGroupsRequest {
  std::vector<std::string> groups;
  bool include_authorized_operations = false;  // v3+
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeGroups)
};

struct DescribeGroupsResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v4+
    std::string client_id;
    std::string client_host;
    std::string member_metadata;
    std::string member_assignment;
  };
  struct Group {
    ErrorCode error_code = ErrorCode::kNone;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<Member> members;
    int32_t authorized_operations = INT32_MIN;  // v3+
  };
  int32_t throttle_time_ms = 0;  // v1+
  std::vector<Group> groups;
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeGroups)
};

// ------------------------------------------------------------- ListGroups (16)

struct ListGroupsRequest {
  // v4+ (KIP-518): only groups in these states (case-insensitive); empty =
  // all groups.
  std::vector<std::string> states_filter;
  BRAID_KAFKA_MESSAGE_METHODS(kListGroups)
};

struct ListGroupsResponse {
  struct Group {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;  // v4+
  };
  int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<Group> groups;
  BRAID_KAFKA_MESSAGE_METHODS(kListGroups)
};

// ------------------------------------------------------------ ApiVersions (18)

struct ApiVersionsRequest {
  std::string client_software_name;     // v3+
  std::string client_software_version;  // v3+
  BRAID_KAFKA_MESSAGE_METHODS(kApiVersions)
};

struct ApiVersionsResponse {
  struct ApiVersion {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
  };
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<ApiVersion> api_keys;
  int32_t throttle_time_ms = 0;  // v1+
  // v3+ tagged fields (SupportedFeatures etc.) are never written and are
  // skipped when decoding.
  BRAID_KAFKA_MESSAGE_METHODS(kApiVersions)

  // The response listing SupportedApis().
  static ApiVersionsResponse Supported();
  // The answer to an ApiVersions request of an unsupported version: error
  // UNSUPPORTED_VERSION with only the ApiVersions entry; encode it at
  // version 0 (Kafka's behaviour, brief §2.5).
  static ApiVersionsResponse UnsupportedVersion();
};

// ----------------------------------------------------------- CreateTopics (19)

struct CreateTopicsRequest {
  struct Assignment {
    PartitionId partition_index{0};
    std::vector<int32_t> broker_ids;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
  };
  struct Topic {
    std::string name;
    int32_t num_partitions = -1;      // -1: broker default (any version)
    int16_t replication_factor = -1;  // -1: broker default (any version)
    std::vector<Assignment> assignments;
    std::vector<Config> configs;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;  // v1+
  BRAID_KAFKA_MESSAGE_METHODS(kCreateTopics)
};

struct CreateTopicsResponse {
  struct Topic {
    std::string name;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;  // v1+
  };
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kCreateTopics)
};

// ----------------------------------------------------------- DeleteTopics (20)

struct DeleteTopicsRequest {
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteTopics)
};

struct DeleteTopicsResponse {
  struct Result {
    std::string name;
    ErrorCode error_code = ErrorCode::kNone;
  };
  int32_t throttle_time_ms = 0;  // v1+
  std::vector<Result> responses;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteTopics)
};

// ---------------------------------------------------------- DeleteRecords (21)

struct DeleteRecordsRequest {
  struct Partition {
    PartitionId partition_index{0};
    Offset offset{-1};  // delete below this; -1 = high watermark
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteRecords)
};

struct DeleteRecordsResponse {
  struct Partition {
    PartitionId partition_index{0};
    Offset low_watermark{-1};
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteRecords)
};

// --------------------------------------------------------- InitProducerId (22)

struct InitProducerIdRequest {
  std::optional<std::string> transactional_id;
  int32_t transaction_timeout_ms = 0;
  BRAID_KAFKA_MESSAGE_METHODS(kInitProducerId)
};

struct InitProducerIdResponse {
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  BRAID_KAFKA_MESSAGE_METHODS(kInitProducerId)
};

// -------------------------------------------------------- DescribeConfigs (32)

// ConfigResource types.
inline constexpr int8_t kResourceTypeTopic = 2;
inline constexpr int8_t kResourceTypeBroker = 4;

struct DescribeConfigsRequest {
  struct Resource {
    int8_t resource_type = 0;
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;  // null = all
  };
  std::vector<Resource> resources;
  bool include_synonyms = false;  // v1+
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeConfigs)
};

struct DescribeConfigsResponse {
  struct Synonym {  // v1+
    std::string name;
    std::optional<std::string> value;
    int8_t source = 0;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;    // v0 only
    int8_t config_source = -1;  // v1+
    bool is_sensitive = false;
    std::vector<Synonym> synonyms;  // v1+
  };
  struct Result {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<Config> configs;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeConfigs)
};

// ----------------------------------------------------------- AlterConfigs (33)

struct AlterConfigsRequest {
  struct Config {
    std::string name;
    std::optional<std::string> value;
  };
  struct Resource {
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<Config> configs;
  };
  std::vector<Resource> resources;
  bool validate_only = false;
  BRAID_KAFKA_MESSAGE_METHODS(kAlterConfigs)
};

// Also the shape of IncrementalAlterConfigsResponse.
struct AlterConfigsResourceResponse {
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  int8_t resource_type = 0;
  std::string resource_name;
};

struct AlterConfigsResponse {
  int32_t throttle_time_ms = 0;
  std::vector<AlterConfigsResourceResponse> responses;
  BRAID_KAFKA_MESSAGE_METHODS(kAlterConfigs)
};

// ------------------------------------------------------- CreatePartitions (37)

struct CreatePartitionsRequest {
  struct Assignment {
    std::vector<int32_t> broker_ids;
  };
  struct Topic {
    std::string name;
    int32_t count = 0;  // the new total partition count
    std::optional<std::vector<Assignment>> assignments;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
  bool validate_only = false;
  BRAID_KAFKA_MESSAGE_METHODS(kCreatePartitions)
};

struct CreatePartitionsResponse {
  struct Result {
    std::string name;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  BRAID_KAFKA_MESSAGE_METHODS(kCreatePartitions)
};

// ----------------------------------------------------------- DeleteGroups (42)

struct DeleteGroupsRequest {
  std::vector<std::string> groups_names;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteGroups)
};

struct DeleteGroupsResponse {
  struct Result {
    std::string group_id;
    ErrorCode error_code = ErrorCode::kNone;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteGroups)
};

// ----------------------------------------------------------- OffsetDelete (47)

struct OffsetDeleteRequest {
  struct Topic {
    std::string name;
    std::vector<int32_t> partitions;
  };
  std::string group_id;
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kOffsetDelete)
};

struct OffsetDeleteResponse {
  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::kNone;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  ErrorCode error_code = ErrorCode::kNone;
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  BRAID_KAFKA_MESSAGE_METHODS(kOffsetDelete)
};

// ------------------------------------------------ IncrementalAlterConfigs (44)

// IncrementalAlterConfigs config operations.
inline constexpr int8_t kConfigOpSet = 0;
inline constexpr int8_t kConfigOpDelete = 1;
inline constexpr int8_t kConfigOpAppend = 2;
inline constexpr int8_t kConfigOpSubtract = 3;

struct IncrementalAlterConfigsRequest {
  struct Config {
    std::string name;
    int8_t config_operation = kConfigOpSet;
    std::optional<std::string> value;
  };
  struct Resource {
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<Config> configs;
  };
  std::vector<Resource> resources;
  bool validate_only = false;
  BRAID_KAFKA_MESSAGE_METHODS(kIncrementalAlterConfigs)
};

struct IncrementalAlterConfigsResponse {
  int32_t throttle_time_ms = 0;
  std::vector<AlterConfigsResourceResponse> responses;
  BRAID_KAFKA_MESSAGE_METHODS(kIncrementalAlterConfigs)
};

// ---------------------------------------------------------- SaslHandshake (17)

// v0: after the response the SASL tokens follow as raw size-prefixed frames;
// v1: they travel in SaslAuthenticate requests (KIP-152).
struct SaslHandshakeRequest {
  std::string mechanism;
  BRAID_KAFKA_MESSAGE_METHODS(kSaslHandshake)
};

struct SaslHandshakeResponse {
  ErrorCode error_code = ErrorCode::kNone;
  std::vector<std::string> mechanisms;  // the mechanisms the listener enables
  BRAID_KAFKA_MESSAGE_METHODS(kSaslHandshake)
};

// ------------------------------------------------------- SaslAuthenticate (36)

struct SaslAuthenticateRequest {
  std::string auth_bytes;
  BRAID_KAFKA_MESSAGE_METHODS(kSaslAuthenticate)
};

struct SaslAuthenticateResponse {
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::string auth_bytes;
  int64_t session_lifetime_ms = 0;  // v1+; 0: no re-authentication (KIP-368)
  BRAID_KAFKA_MESSAGE_METHODS(kSaslAuthenticate)
};

// ------------------------------------------- DescribeUserScramCredentials (50)

// KIP-554. Mechanism codes: 0 unknown, 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
struct DescribeUserScramCredentialsRequest {
  struct User {
    std::string name;
  };
  std::optional<std::vector<User>> users;  // null or empty: every user
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeUserScramCredentials)
};

struct DescribeUserScramCredentialsResponse {
  struct CredentialInfo {
    int8_t mechanism = 0;
    int32_t iterations = 0;
  };
  struct Result {
    std::string user;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    std::vector<CredentialInfo> credential_infos;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::vector<Result> results;
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeUserScramCredentials)
};

// ---------------------------------------------- AlterUserScramCredentials (51)

struct AlterUserScramCredentialsRequest {
  struct Deletion {
    std::string name;
    int8_t mechanism = 0;
  };
  struct Upsertion {
    std::string name;
    int8_t mechanism = 0;
    int32_t iterations = 0;
    std::string salt;
    std::string salted_password;
  };
  std::vector<Deletion> deletions;
  std::vector<Upsertion> upsertions;
  BRAID_KAFKA_MESSAGE_METHODS(kAlterUserScramCredentials)
};

struct AlterUserScramCredentialsResponse {
  struct Result {
    std::string user;
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  BRAID_KAFKA_MESSAGE_METHODS(kAlterUserScramCredentials)
};

// ------------------------------------------ DescribeAcls (29), CreateAcls (30),
// DeleteAcls (31). Codes: security/acl.h (Kafka's ResourceType, PatternType,
// AclOperation, AclPermissionType). v0 has no pattern type: LITERAL.

struct DescribeAclsRequest {
  int8_t resource_type_filter = 1;
  std::optional<std::string> resource_name_filter;
  int8_t pattern_type_filter = 3;  // v1+
  std::optional<std::string> principal_filter;
  std::optional<std::string> host_filter;
  int8_t operation = 1;
  int8_t permission_type = 1;
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeAcls)
};

struct AclDescription {
  std::string principal;
  std::string host;
  int8_t operation = 0;
  int8_t permission_type = 0;
};

struct DescribeAclsResponse {
  struct Resource {
    int8_t resource_type = 0;
    std::string resource_name;
    int8_t pattern_type = 3;  // v1+
    std::vector<AclDescription> acls;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::vector<Resource> resources;
  BRAID_KAFKA_MESSAGE_METHODS(kDescribeAcls)
};

struct CreateAclsRequest {
  struct Creation {
    int8_t resource_type = 0;
    std::string resource_name;
    int8_t resource_pattern_type = 3;  // v1+
    std::string principal;
    std::string host;
    int8_t operation = 0;
    int8_t permission_type = 0;
  };
  std::vector<Creation> creations;
  BRAID_KAFKA_MESSAGE_METHODS(kCreateAcls)
};

struct CreateAclsResponse {
  struct Result {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  BRAID_KAFKA_MESSAGE_METHODS(kCreateAcls)
};

struct DeleteAclsRequest {
  struct Filter {
    int8_t resource_type_filter = 1;
    std::optional<std::string> resource_name_filter;
    int8_t pattern_type_filter = 3;  // v1+
    std::optional<std::string> principal_filter;
    std::optional<std::string> host_filter;
    int8_t operation = 1;
    int8_t permission_type = 1;
  };
  std::vector<Filter> filters;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteAcls)
};

struct DeleteAclsResponse {
  struct MatchingAcl {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    int8_t pattern_type = 3;  // v1+
    std::string principal;
    std::string host;
    int8_t operation = 0;
    int8_t permission_type = 0;
  };
  struct FilterResult {
    ErrorCode error_code = ErrorCode::kNone;
    std::optional<std::string> error_message;
    std::vector<MatchingAcl> matching_acls;
  };
  int32_t throttle_time_ms = 0;
  std::vector<FilterResult> filter_results;
  BRAID_KAFKA_MESSAGE_METHODS(kDeleteAcls)
};

#undef BRAID_KAFKA_MESSAGE_METHODS

// The first non-zero error code in a response, for logs: the top-level
// error_code first, then those of its responses/topics/partitions/groups/
// results in order; kNone if every part succeeded.
template <typename T>
ErrorCode FirstErrorCode(const T& msg) {
  ErrorCode first = ErrorCode::kNone;
  auto note = [&first](ErrorCode e) {
    if (first == ErrorCode::kNone) first = e;
  };
  if constexpr (requires { msg.error_code; }) note(msg.error_code);
  auto each = [&](const auto& items) {
    for (const auto& item : items) note(FirstErrorCode(item));
  };
  if constexpr (requires { msg.responses.begin(); }) each(msg.responses);
  if constexpr (requires { msg.topics.begin(); }) each(msg.topics);
  if constexpr (requires { msg.partitions.begin(); }) each(msg.partitions);
  if constexpr (requires { msg.groups.begin(); }) each(msg.groups);
  if constexpr (requires { msg.results.begin(); }) each(msg.results);
  if constexpr (requires { msg.filter_results.begin(); }) each(msg.filter_results);
  return first;
}

// X(key, Name) once per API with a NameRequest/NameResponse pair above, `key`
// being its ApiKey enumerator: one list for code that must handle every API.
#define BRAID_KAFKA_FOR_EACH_API(X)                              \
  X(kProduce, Produce)                                           \
  X(kFetch, Fetch)                                               \
  X(kListOffsets, ListOffsets)                                   \
  X(kMetadata, Metadata)                                         \
  X(kOffsetCommit, OffsetCommit)                                 \
  X(kOffsetFetch, OffsetFetch)                                   \
  X(kFindCoordinator, FindCoordinator)                           \
  X(kJoinGroup, JoinGroup)                                       \
  X(kHeartbeat, Heartbeat)                                       \
  X(kLeaveGroup, LeaveGroup)                                     \
  X(kSyncGroup, SyncGroup)                                       \
  X(kDescribeGroups, DescribeGroups)                             \
  X(kListGroups, ListGroups)                                     \
  X(kApiVersions, ApiVersions)                                   \
  X(kCreateTopics, CreateTopics)                                 \
  X(kDeleteTopics, DeleteTopics)                                 \
  X(kDeleteRecords, DeleteRecords)                               \
  X(kInitProducerId, InitProducerId)                             \
  X(kDescribeConfigs, DescribeConfigs)                           \
  X(kAlterConfigs, AlterConfigs)                                 \
  X(kCreatePartitions, CreatePartitions)                         \
  X(kDeleteGroups, DeleteGroups)                                 \
  X(kIncrementalAlterConfigs, IncrementalAlterConfigs)           \
  X(kOffsetDelete, OffsetDelete)                                 \
  X(kSaslHandshake, SaslHandshake)                               \
  X(kSaslAuthenticate, SaslAuthenticate)                         \
  X(kDescribeUserScramCredentials, DescribeUserScramCredentials) \
  X(kAlterUserScramCredentials, AlterUserScramCredentials)       \
  X(kDescribeAcls, DescribeAcls)                                 \
  X(kCreateAcls, CreateAcls)                                     \
  X(kDeleteAcls, DeleteAcls)

}  // namespace braid::kafka
