// Field layouts follow Kafka's JSON schemas; each Serde* function lists the
// fields in wire order with the versions that carry them.
#include "kafka/protocol/messages.h"

#include "kafka/protocol/header.h"
#include "kafka/protocol/internal/serde.h"

namespace braid::kafka {

using internal::DecodeIo;
using internal::EncodeIo;

#define BRAID_DEFINE_CODEC(Msg, SerdeFn)                                                   \
  Status Msg::Decode(Reader* r, int16_t version) {                                         \
    RETURN_IF_ERROR(internal::CheckVersion(kApiKey, version));                             \
    *this = Msg();                                                                         \
    DecodeIo io(r, IsFlexibleVersion(static_cast<int16_t>(kApiKey), version));             \
    return SerdeFn(io, *this, version);                                                    \
  }                                                                                        \
  Status Msg::Encode(int16_t version, Writer* w) const {                                   \
    RETURN_IF_ERROR(internal::CheckVersion(kApiKey, version));                             \
    size_t start = w->size();                                                              \
    EncodeIo io(w, IsFlexibleVersion(static_cast<int16_t>(kApiKey), version));             \
    Status st = SerdeFn(io, const_cast<Msg&>(*this), version); /* EncodeIo never writes */ \
    if (!st.ok()) w->buffer()->resize(start);                                              \
    return st;                                                                             \
  }

namespace {

// ------------------------------------------------------------------ Produce

template <typename Io>
Status SerdeProduceRequest(Io& io, ProduceRequest& m, int16_t v) {
  if (v >= 3) RETURN_IF_ERROR(io.NullableString(m.transactional_id));
  RETURN_IF_ERROR(io.Int16(m.acks));
  RETURN_IF_ERROR(io.Int32(m.timeout_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, ProduceRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Array(t.partitions, 8, [&](Io& io, ProduceRequest::Partition& p) -> Status {
      RETURN_IF_ERROR(io.Strong(p.partition_index));
      RETURN_IF_ERROR(io.NullableBytes(p.records));
      return io.Tags();
    }));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeProduceResponse(Io& io, ProduceResponse& m, int16_t v) {
  RETURN_IF_ERROR(io.Array(m.responses, 6, [&](Io& io, ProduceResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 14, [&](Io& io, ProduceResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Error(p.error_code));
          RETURN_IF_ERROR(io.Strong(p.base_offset));
          if (v >= 2) RETURN_IF_ERROR(io.Int64(p.log_append_time_ms));
          if (v >= 5) RETURN_IF_ERROR(io.Strong(p.log_start_offset));
          return io.Tags();
        }));
    return io.Tags();
  }));
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  return io.Tags();
}

// -------------------------------------------------------------------- Fetch

template <typename Io>
Status SerdeFetchRequest(Io& io, FetchRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.Int32(m.replica_id));
  RETURN_IF_ERROR(io.Int32(m.max_wait_ms));
  RETURN_IF_ERROR(io.Int32(m.min_bytes));
  if (v >= 3) RETURN_IF_ERROR(io.Int32(m.max_bytes));
  if (v >= 4) RETURN_IF_ERROR(io.Int8(m.isolation_level));
  if (v >= 7) {
    RETURN_IF_ERROR(io.Int32(m.session_id));
    RETURN_IF_ERROR(io.Int32(m.session_epoch));
  }
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, FetchRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Array(t.partitions, 16, [&](Io& io, FetchRequest::Partition& p) -> Status {
      RETURN_IF_ERROR(io.Strong(p.partition_index));
      if (v >= 9) RETURN_IF_ERROR(io.Int32(p.current_leader_epoch));
      RETURN_IF_ERROR(io.Strong(p.fetch_offset));
      if (v >= 5) RETURN_IF_ERROR(io.Strong(p.log_start_offset));
      RETURN_IF_ERROR(io.Int32(p.partition_max_bytes));
      return io.Tags();
    }));
    return io.Tags();
  }));
  if (v >= 7) {
    RETURN_IF_ERROR(
        io.Array(m.forgotten_topics, 6, [&](Io& io, FetchRequest::ForgottenTopic& t) -> Status {
          RETURN_IF_ERROR(io.String(t.name));
          RETURN_IF_ERROR(io.Int32Array(t.partitions));
          return io.Tags();
        }));
  }
  if (v >= 11) RETURN_IF_ERROR(io.String(m.rack_id));
  return io.Tags();
}

template <typename Io>
Status SerdeFetchResponse(Io& io, FetchResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  if (v >= 7) {
    RETURN_IF_ERROR(io.Error(m.error_code));
    RETURN_IF_ERROR(io.Int32(m.session_id));
  }
  RETURN_IF_ERROR(io.Array(m.responses, 6, [&](Io& io, FetchResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Array(t.partitions, 18, [&](Io& io, FetchResponse::Partition& p) -> Status {
      RETURN_IF_ERROR(io.Strong(p.partition_index));
      RETURN_IF_ERROR(io.Error(p.error_code));
      RETURN_IF_ERROR(io.Strong(p.high_watermark));
      if (v >= 4) RETURN_IF_ERROR(io.Strong(p.last_stable_offset));
      if (v >= 5) RETURN_IF_ERROR(io.Strong(p.log_start_offset));
      if (v >= 4) {
        RETURN_IF_ERROR(
            io.NullableArray(p.aborted_transactions, true, 16,
                             [&](Io& io, FetchResponse::AbortedTransaction& a) -> Status {
                               RETURN_IF_ERROR(io.Strong(a.producer_id));
                               RETURN_IF_ERROR(io.Strong(a.first_offset));
                               return io.Tags();
                             }));
      }
      if (v >= 11) RETURN_IF_ERROR(io.Int32(p.preferred_read_replica));
      if constexpr (!Io::kDecoding) {
        if (!p.records_slice.empty()) {
          if (p.records) return Status::InvalidArgument("both records and records_slice are set");
          RETURN_IF_ERROR(io.FileBytes(p.records_slice));
          return io.Tags();
        }
      }
      RETURN_IF_ERROR(io.NullableBytes(p.records));
      return io.Tags();
    }));
    return io.Tags();
  }));
  return io.Tags();
}

// -------------------------------------------------------------- ListOffsets

template <typename Io>
Status SerdeListOffsetsRequest(Io& io, ListOffsetsRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.Int32(m.replica_id));
  if (v >= 2) RETURN_IF_ERROR(io.Int8(m.isolation_level));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, ListOffsetsRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 12, [&](Io& io, ListOffsetsRequest::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          if (v >= 4) RETURN_IF_ERROR(io.Int32(p.current_leader_epoch));
          RETURN_IF_ERROR(io.Int64(p.timestamp));
          if (v == 0) RETURN_IF_ERROR(io.Int32(p.max_num_offsets));
          return io.Tags();
        }));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeListOffsetsResponse(Io& io, ListOffsetsResponse& m, int16_t v) {
  if (v >= 2) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, ListOffsetsResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 6, [&](Io& io, ListOffsetsResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Error(p.error_code));
          if (v == 0) RETURN_IF_ERROR(io.Int64Array(p.old_style_offsets));
          if (v >= 1) {
            RETURN_IF_ERROR(io.Int64(p.timestamp));
            RETURN_IF_ERROR(io.Strong(p.offset));
          }
          if (v >= 4) RETURN_IF_ERROR(io.Int32(p.leader_epoch));
          return io.Tags();
        }));
    return io.Tags();
  }));
  return io.Tags();
}

// ----------------------------------------------------------------- Metadata

template <typename Io>
Status SerdeMetadataRequest(Io& io, MetadataRequest& m, int16_t v) {
  if constexpr (!Io::kDecoding) {
    // v0 has no null: "all topics" is the empty array there.
    if (v == 0 && !m.topics) {
      std::optional<std::vector<std::string>> empty(std::in_place);
      RETURN_IF_ERROR(io.NullableArray(empty, false, 2,
                                       [](Io&, std::string&) -> Status { return Status::OK(); }));
      return io.Tags();
    }
  }
  RETURN_IF_ERROR(io.NullableArray(m.topics, v >= 1, 2, [&](Io& io, std::string& name) -> Status {
    RETURN_IF_ERROR(io.String(name));
    return io.Tags();
  }));
  if (v >= 4) RETURN_IF_ERROR(io.Bool(m.allow_auto_topic_creation));
  if (v >= 8) {
    if (v <= 10) RETURN_IF_ERROR(io.Bool(m.include_cluster_authorized_operations));
    RETURN_IF_ERROR(io.Bool(m.include_topic_authorized_operations));
  }
  return io.Tags();
}

template <typename Io>
Status SerdeMetadataResponse(Io& io, MetadataResponse& m, int16_t v) {
  if (v >= 3) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.brokers, 10, [&](Io& io, MetadataResponse::Broker& b) -> Status {
    RETURN_IF_ERROR(io.Strong(b.node_id));
    RETURN_IF_ERROR(io.String(b.host));
    RETURN_IF_ERROR(io.Int32(b.port));
    if (v >= 1) RETURN_IF_ERROR(io.NullableString(b.rack));
    return io.Tags();
  }));
  if (v >= 2) RETURN_IF_ERROR(io.NullableString(m.cluster_id));
  if (v >= 1) RETURN_IF_ERROR(io.Strong(m.controller_id));
  RETURN_IF_ERROR(io.Array(m.topics, 8, [&](Io& io, MetadataResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.Error(t.error_code));
    RETURN_IF_ERROR(io.String(t.name));
    if (v >= 1) RETURN_IF_ERROR(io.Bool(t.is_internal));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 18, [&](Io& io, MetadataResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Error(p.error_code));
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Strong(p.leader_id));
          if (v >= 7) RETURN_IF_ERROR(io.Int32(p.leader_epoch));
          RETURN_IF_ERROR(io.Int32Array(p.replica_nodes));
          RETURN_IF_ERROR(io.Int32Array(p.isr_nodes));
          if (v >= 5) RETURN_IF_ERROR(io.Int32Array(p.offline_replicas));
          return io.Tags();
        }));
    if (v >= 8) RETURN_IF_ERROR(io.Int32(t.topic_authorized_operations));
    return io.Tags();
  }));
  if (v >= 8) RETURN_IF_ERROR(io.Int32(m.cluster_authorized_operations));
  return io.Tags();
}

// ------------------------------------------------------------- OffsetCommit

template <typename Io>
Status SerdeOffsetCommitRequest(Io& io, OffsetCommitRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.String(m.group_id));
  if (v >= 1) {
    RETURN_IF_ERROR(io.Strong(m.generation_id));
    RETURN_IF_ERROR(io.String(m.member_id));
  }
  if (v >= 7) RETURN_IF_ERROR(io.NullableString(m.group_instance_id));
  if (v >= 2 && v <= 4) RETURN_IF_ERROR(io.Int64(m.retention_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, OffsetCommitRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 14, [&](Io& io, OffsetCommitRequest::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Strong(p.committed_offset));
          if (v >= 6) RETURN_IF_ERROR(io.Int32(p.committed_leader_epoch));
          if (v == 1) RETURN_IF_ERROR(io.Int64(p.commit_timestamp));
          RETURN_IF_ERROR(io.NullableString(p.committed_metadata));
          return io.Tags();
        }));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeOffsetCommitResponse(Io& io, OffsetCommitResponse& m, int16_t v) {
  if (v >= 3) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, OffsetCommitResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 6, [&](Io& io, OffsetCommitResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Error(p.error_code));
          return io.Tags();
        }));
    return io.Tags();
  }));
  return io.Tags();
}

// -------------------------------------------------------------- OffsetFetch

template <typename Io>
Status SerdeOffsetFetchRequest(Io& io, OffsetFetchRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.String(m.group_id));
  RETURN_IF_ERROR(
      io.NullableArray(m.topics, v >= 2, 6, [&](Io& io, OffsetFetchRequest::Topic& t) -> Status {
        RETURN_IF_ERROR(io.String(t.name));
        RETURN_IF_ERROR(io.Int32Array(t.partition_indexes));
        return io.Tags();
      }));
  if (v >= 7) RETURN_IF_ERROR(io.Bool(m.require_stable));
  return io.Tags();
}

template <typename Io>
Status SerdeOffsetFetchResponse(Io& io, OffsetFetchResponse& m, int16_t v) {
  if (v >= 3) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, OffsetFetchResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 16, [&](Io& io, OffsetFetchResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Strong(p.committed_offset));
          if (v >= 5) RETURN_IF_ERROR(io.Int32(p.committed_leader_epoch));
          RETURN_IF_ERROR(io.NullableString(p.metadata));
          RETURN_IF_ERROR(io.Error(p.error_code));
          return io.Tags();
        }));
    return io.Tags();
  }));
  if (v >= 2) RETURN_IF_ERROR(io.Error(m.error_code));
  return io.Tags();
}

// ---------------------------------------------------------- FindCoordinator

template <typename Io>
Status SerdeFindCoordinatorRequest(Io& io, FindCoordinatorRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.String(m.key));
  if (v >= 1) RETURN_IF_ERROR(io.Int8(m.key_type));
  return io.Tags();
}

template <typename Io>
Status SerdeFindCoordinatorResponse(Io& io, FindCoordinatorResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  if (v >= 1) RETURN_IF_ERROR(io.NullableString(m.error_message));
  RETURN_IF_ERROR(io.Strong(m.node_id));
  RETURN_IF_ERROR(io.String(m.host));
  RETURN_IF_ERROR(io.Int32(m.port));
  return io.Tags();
}

// ---------------------------------------------------------------- JoinGroup

template <typename Io>
Status SerdeJoinGroupRequest(Io& io, JoinGroupRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.String(m.group_id));
  RETURN_IF_ERROR(io.Int32(m.session_timeout_ms));
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.rebalance_timeout_ms));
  RETURN_IF_ERROR(io.String(m.member_id));
  if (v >= 5) RETURN_IF_ERROR(io.NullableString(m.group_instance_id));
  RETURN_IF_ERROR(io.String(m.protocol_type));
  RETURN_IF_ERROR(io.Array(m.protocols, 6, [&](Io& io, JoinGroupRequest::Protocol& p) -> Status {
    RETURN_IF_ERROR(io.String(p.name));
    RETURN_IF_ERROR(io.Bytes(p.metadata));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeJoinGroupResponse(Io& io, JoinGroupResponse& m, int16_t v) {
  if (v >= 2) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.Strong(m.generation_id));
  RETURN_IF_ERROR(io.String(m.protocol_name));
  RETURN_IF_ERROR(io.String(m.leader));
  RETURN_IF_ERROR(io.String(m.member_id));
  RETURN_IF_ERROR(io.Array(m.members, 6, [&](Io& io, JoinGroupResponse::Member& mem) -> Status {
    RETURN_IF_ERROR(io.String(mem.member_id));
    if (v >= 5) RETURN_IF_ERROR(io.NullableString(mem.group_instance_id));
    RETURN_IF_ERROR(io.Bytes(mem.metadata));
    return io.Tags();
  }));
  return io.Tags();
}

// ---------------------------------------------------------------- Heartbeat

template <typename Io>
Status SerdeHeartbeatRequest(Io& io, HeartbeatRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.String(m.group_id));
  RETURN_IF_ERROR(io.Strong(m.generation_id));
  RETURN_IF_ERROR(io.String(m.member_id));
  if (v >= 3) RETURN_IF_ERROR(io.NullableString(m.group_instance_id));
  return io.Tags();
}

template <typename Io>
Status SerdeHeartbeatResponse(Io& io, HeartbeatResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  return io.Tags();
}

// --------------------------------------------------------------- LeaveGroup

template <typename Io>
Status SerdeLeaveGroupRequest(Io& io, LeaveGroupRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.String(m.group_id));
  RETURN_IF_ERROR(io.String(m.member_id));
  return io.Tags();
}

template <typename Io>
Status SerdeLeaveGroupResponse(Io& io, LeaveGroupResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  return io.Tags();
}

// ---------------------------------------------------------------- SyncGroup

template <typename Io>
Status SerdeSyncGroupRequest(Io& io, SyncGroupRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.String(m.group_id));
  RETURN_IF_ERROR(io.Strong(m.generation_id));
  RETURN_IF_ERROR(io.String(m.member_id));
  if (v >= 3) RETURN_IF_ERROR(io.NullableString(m.group_instance_id));
  RETURN_IF_ERROR(
      io.Array(m.assignments, 6, [&](Io& io, SyncGroupRequest::Assignment& a) -> Status {
        RETURN_IF_ERROR(io.String(a.member_id));
        RETURN_IF_ERROR(io.Bytes(a.assignment));
        return io.Tags();
      }));
  return io.Tags();
}

template <typename Io>
Status SerdeSyncGroupResponse(Io& io, SyncGroupResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.Bytes(m.assignment));
  return io.Tags();
}

// ----------------------------------------------------------- DescribeGroups

template <typename Io>
Status SerdeDescribeGroupsRequest(Io& io, DescribeGroupsRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.StringArray(m.groups));
  if (v >= 3) RETURN_IF_ERROR(io.Bool(m.include_authorized_operations));
  return io.Tags();
}

template <typename Io>
Status SerdeDescribeGroupsResponse(Io& io, DescribeGroupsResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.groups, 14, [&](Io& io, DescribeGroupsResponse::Group& g) -> Status {
    RETURN_IF_ERROR(io.Error(g.error_code));
    RETURN_IF_ERROR(io.String(g.group_id));
    RETURN_IF_ERROR(io.String(g.group_state));
    RETURN_IF_ERROR(io.String(g.protocol_type));
    RETURN_IF_ERROR(io.String(g.protocol_data));
    RETURN_IF_ERROR(
        io.Array(g.members, 14, [&](Io& io, DescribeGroupsResponse::Member& mem) -> Status {
          RETURN_IF_ERROR(io.String(mem.member_id));
          if (v >= 4) RETURN_IF_ERROR(io.NullableString(mem.group_instance_id));
          RETURN_IF_ERROR(io.String(mem.client_id));
          RETURN_IF_ERROR(io.String(mem.client_host));
          RETURN_IF_ERROR(io.Bytes(mem.member_metadata));
          RETURN_IF_ERROR(io.Bytes(mem.member_assignment));
          return io.Tags();
        }));
    if (v >= 3) RETURN_IF_ERROR(io.Int32(g.authorized_operations));
    return io.Tags();
  }));
  return io.Tags();
}

// --------------------------------------------------------------- ListGroups

template <typename Io>
Status SerdeListGroupsRequest(Io& io, ListGroupsRequest& m, int16_t v) {
  if (v >= 4) {
    RETURN_IF_ERROR(
        io.Array(m.states_filter, 1, [](Io& io, std::string& s) { return io.String(s); }));
  }
  return io.Tags();
}

template <typename Io>
Status SerdeListGroupsResponse(Io& io, ListGroupsResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.Array(m.groups, 3, [&](Io& io, ListGroupsResponse::Group& g) -> Status {
    RETURN_IF_ERROR(io.String(g.group_id));
    RETURN_IF_ERROR(io.String(g.protocol_type));
    if (v >= 4) RETURN_IF_ERROR(io.String(g.group_state));
    return io.Tags();
  }));
  return io.Tags();
}

// -------------------------------------------------------------- ApiVersions

template <typename Io>
Status SerdeApiVersionsRequest(Io& io, ApiVersionsRequest& m, int16_t v) {
  if (v >= 3) {
    RETURN_IF_ERROR(io.String(m.client_software_name));
    RETURN_IF_ERROR(io.String(m.client_software_version));
  }
  return io.Tags();
}

template <typename Io>
Status SerdeApiVersionsResponse(Io& io, ApiVersionsResponse& m, int16_t v) {
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(
      io.Array(m.api_keys, 6, [&](Io& io, ApiVersionsResponse::ApiVersion& a) -> Status {
        RETURN_IF_ERROR(io.Int16(a.api_key));
        RETURN_IF_ERROR(io.Int16(a.min_version));
        RETURN_IF_ERROR(io.Int16(a.max_version));
        return io.Tags();
      }));
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  return io.Tags();
}

// ------------------------------------------------------------- CreateTopics

template <typename Io>
Status SerdeCreateTopicsRequest(Io& io, CreateTopicsRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.Array(m.topics, 16, [&](Io& io, CreateTopicsRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Int32(t.num_partitions));
    RETURN_IF_ERROR(io.Int16(t.replication_factor));
    RETURN_IF_ERROR(
        io.Array(t.assignments, 8, [&](Io& io, CreateTopicsRequest::Assignment& a) -> Status {
          RETURN_IF_ERROR(io.Strong(a.partition_index));
          RETURN_IF_ERROR(io.Int32Array(a.broker_ids));
          return io.Tags();
        }));
    RETURN_IF_ERROR(io.Array(t.configs, 4, [&](Io& io, CreateTopicsRequest::Config& c) -> Status {
      RETURN_IF_ERROR(io.String(c.name));
      RETURN_IF_ERROR(io.NullableString(c.value));
      return io.Tags();
    }));
    return io.Tags();
  }));
  RETURN_IF_ERROR(io.Int32(m.timeout_ms));
  if (v >= 1) RETURN_IF_ERROR(io.Bool(m.validate_only));
  return io.Tags();
}

template <typename Io>
Status SerdeCreateTopicsResponse(Io& io, CreateTopicsResponse& m, int16_t v) {
  if (v >= 2) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 4, [&](Io& io, CreateTopicsResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Error(t.error_code));
    if (v >= 1) RETURN_IF_ERROR(io.NullableString(t.error_message));
    return io.Tags();
  }));
  return io.Tags();
}

// ------------------------------------------------------------- DeleteTopics

template <typename Io>
Status SerdeDeleteTopicsRequest(Io& io, DeleteTopicsRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.StringArray(m.topic_names));
  RETURN_IF_ERROR(io.Int32(m.timeout_ms));
  return io.Tags();
}

template <typename Io>
Status SerdeDeleteTopicsResponse(Io& io, DeleteTopicsResponse& m, int16_t v) {
  if (v >= 1) RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.responses, 4, [&](Io& io, DeleteTopicsResponse::Result& r) -> Status {
    RETURN_IF_ERROR(io.String(r.name));
    RETURN_IF_ERROR(io.Error(r.error_code));
    return io.Tags();
  }));
  return io.Tags();
}

// ------------------------------------------------------------ DeleteRecords

template <typename Io>
Status SerdeDeleteRecordsRequest(Io& io, DeleteRecordsRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, DeleteRecordsRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 12, [&](Io& io, DeleteRecordsRequest::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Strong(p.offset));
          return io.Tags();
        }));
    return io.Tags();
  }));
  RETURN_IF_ERROR(io.Int32(m.timeout_ms));
  return io.Tags();
}

template <typename Io>
Status SerdeDeleteRecordsResponse(Io& io, DeleteRecordsResponse& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, DeleteRecordsResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 14, [&](Io& io, DeleteRecordsResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Strong(p.low_watermark));
          RETURN_IF_ERROR(io.Error(p.error_code));
          return io.Tags();
        }));
    return io.Tags();
  }));
  return io.Tags();
}

// ----------------------------------------------------------- InitProducerId

template <typename Io>
Status SerdeInitProducerIdRequest(Io& io, InitProducerIdRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.NullableString(m.transactional_id));
  RETURN_IF_ERROR(io.Int32(m.transaction_timeout_ms));
  return io.Tags();
}

template <typename Io>
Status SerdeInitProducerIdResponse(Io& io, InitProducerIdResponse& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.Strong(m.producer_id));
  RETURN_IF_ERROR(io.Strong(m.producer_epoch));
  return io.Tags();
}

// ---------------------------------------------------------- DescribeConfigs

template <typename Io>
Status SerdeDescribeConfigsRequest(Io& io, DescribeConfigsRequest& m, int16_t v) {
  RETURN_IF_ERROR(
      io.Array(m.resources, 7, [&](Io& io, DescribeConfigsRequest::Resource& r) -> Status {
        RETURN_IF_ERROR(io.Int8(r.resource_type));
        RETURN_IF_ERROR(io.String(r.resource_name));
        RETURN_IF_ERROR(io.NullableArray(r.configuration_keys, true, 2,
                                         [&](Io& io, std::string& k) { return io.String(k); }));
        return io.Tags();
      }));
  if (v >= 1) RETURN_IF_ERROR(io.Bool(m.include_synonyms));
  return io.Tags();
}

template <typename Io>
Status SerdeDescribeConfigsResponse(Io& io, DescribeConfigsResponse& m, int16_t v) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(
      io.Array(m.results, 11, [&](Io& io, DescribeConfigsResponse::Result& r) -> Status {
        RETURN_IF_ERROR(io.Error(r.error_code));
        RETURN_IF_ERROR(io.NullableString(r.error_message));
        RETURN_IF_ERROR(io.Int8(r.resource_type));
        RETURN_IF_ERROR(io.String(r.resource_name));
        RETURN_IF_ERROR(
            io.Array(r.configs, 7, [&](Io& io, DescribeConfigsResponse::Config& c) -> Status {
              RETURN_IF_ERROR(io.String(c.name));
              RETURN_IF_ERROR(io.NullableString(c.value));
              RETURN_IF_ERROR(io.Bool(c.read_only));
              if (v == 0) RETURN_IF_ERROR(io.Bool(c.is_default));
              if (v >= 1) RETURN_IF_ERROR(io.Int8(c.config_source));
              RETURN_IF_ERROR(io.Bool(c.is_sensitive));
              if (v >= 1) {
                RETURN_IF_ERROR(io.Array(
                    c.synonyms, 5, [&](Io& io, DescribeConfigsResponse::Synonym& s) -> Status {
                      RETURN_IF_ERROR(io.String(s.name));
                      RETURN_IF_ERROR(io.NullableString(s.value));
                      RETURN_IF_ERROR(io.Int8(s.source));
                      return io.Tags();
                    }));
              }
              return io.Tags();
            }));
        return io.Tags();
      }));
  return io.Tags();
}

// ------------------------------------------------------------- AlterConfigs

template <typename Io>
Status SerdeAlterConfigsRequest(Io& io, AlterConfigsRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Array(m.resources, 7, [&](Io& io, AlterConfigsRequest::Resource& r) -> Status {
    RETURN_IF_ERROR(io.Int8(r.resource_type));
    RETURN_IF_ERROR(io.String(r.resource_name));
    RETURN_IF_ERROR(io.Array(r.configs, 4, [&](Io& io, AlterConfigsRequest::Config& c) -> Status {
      RETURN_IF_ERROR(io.String(c.name));
      RETURN_IF_ERROR(io.NullableString(c.value));
      return io.Tags();
    }));
    return io.Tags();
  }));
  RETURN_IF_ERROR(io.Bool(m.validate_only));
  return io.Tags();
}

template <typename Io>
Status SerdeAlterConfigsResourceResponses(Io& io, std::vector<AlterConfigsResourceResponse>& v) {
  return io.Array(v, 7, [&](Io& io, AlterConfigsResourceResponse& r) -> Status {
    RETURN_IF_ERROR(io.Error(r.error_code));
    RETURN_IF_ERROR(io.NullableString(r.error_message));
    RETURN_IF_ERROR(io.Int8(r.resource_type));
    RETURN_IF_ERROR(io.String(r.resource_name));
    return io.Tags();
  });
}

template <typename Io>
Status SerdeAlterConfigsResponse(Io& io, AlterConfigsResponse& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(SerdeAlterConfigsResourceResponses(io, m.responses));
  return io.Tags();
}

// --------------------------------------------------------- CreatePartitions

template <typename Io>
Status SerdeCreatePartitionsRequest(Io& io, CreatePartitionsRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Array(m.topics, 10, [&](Io& io, CreatePartitionsRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Int32(t.count));
    RETURN_IF_ERROR(io.NullableArray(t.assignments, true, 4,
                                     [&](Io& io, CreatePartitionsRequest::Assignment& a) -> Status {
                                       RETURN_IF_ERROR(io.Int32Array(a.broker_ids));
                                       return io.Tags();
                                     }));
    return io.Tags();
  }));
  RETURN_IF_ERROR(io.Int32(m.timeout_ms));
  RETURN_IF_ERROR(io.Bool(m.validate_only));
  return io.Tags();
}

template <typename Io>
Status SerdeCreatePartitionsResponse(Io& io, CreatePartitionsResponse& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(
      io.Array(m.results, 6, [&](Io& io, CreatePartitionsResponse::Result& r) -> Status {
        RETURN_IF_ERROR(io.String(r.name));
        RETURN_IF_ERROR(io.Error(r.error_code));
        RETURN_IF_ERROR(io.NullableString(r.error_message));
        return io.Tags();
      }));
  return io.Tags();
}

// ------------------------------------------------------------- DeleteGroups

template <typename Io>
Status SerdeDeleteGroupsRequest(Io& io, DeleteGroupsRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.StringArray(m.groups_names));
  return io.Tags();
}

template <typename Io>
Status SerdeDeleteGroupsResponse(Io& io, DeleteGroupsResponse& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.results, 4, [&](Io& io, DeleteGroupsResponse::Result& r) -> Status {
    RETURN_IF_ERROR(io.String(r.group_id));
    RETURN_IF_ERROR(io.Error(r.error_code));
    return io.Tags();
  }));
  return io.Tags();
}

// ------------------------------------------------------------- OffsetDelete

template <typename Io>
Status SerdeOffsetDeleteRequest(Io& io, OffsetDeleteRequest& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.String(m.group_id));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, OffsetDeleteRequest::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(io.Int32Array(t.partitions));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeOffsetDeleteResponse(Io& io, OffsetDeleteResponse& m, int16_t /*v*/) {
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.topics, 6, [&](Io& io, OffsetDeleteResponse::Topic& t) -> Status {
    RETURN_IF_ERROR(io.String(t.name));
    RETURN_IF_ERROR(
        io.Array(t.partitions, 6, [&](Io& io, OffsetDeleteResponse::Partition& p) -> Status {
          RETURN_IF_ERROR(io.Strong(p.partition_index));
          RETURN_IF_ERROR(io.Error(p.error_code));
          return io.Tags();
        }));
    return io.Tags();
  }));
  return io.Tags();
}

// -------------------------------------------------- IncrementalAlterConfigs

template <typename Io>
Status SerdeIncrementalAlterConfigsRequest(Io& io, IncrementalAlterConfigsRequest& m,
                                           int16_t /*v*/) {
  RETURN_IF_ERROR(
      io.Array(m.resources, 7, [&](Io& io, IncrementalAlterConfigsRequest::Resource& r) -> Status {
        RETURN_IF_ERROR(io.Int8(r.resource_type));
        RETURN_IF_ERROR(io.String(r.resource_name));
        RETURN_IF_ERROR(io.Array(r.configs, 5,
                                 [&](Io& io, IncrementalAlterConfigsRequest::Config& c) -> Status {
                                   RETURN_IF_ERROR(io.String(c.name));
                                   RETURN_IF_ERROR(io.Int8(c.config_operation));
                                   RETURN_IF_ERROR(io.NullableString(c.value));
                                   return io.Tags();
                                 }));
        return io.Tags();
      }));
  RETURN_IF_ERROR(io.Bool(m.validate_only));
  return io.Tags();
}

template <typename Io>
Status SerdeIncrementalAlterConfigsResponse(Io& io, IncrementalAlterConfigsResponse& m,
                                            int16_t /*v*/) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(SerdeAlterConfigsResourceResponses(io, m.responses));
  return io.Tags();
}

// ------------------------------------------------------------ SASL, KIP-554

template <typename Io>
Status SerdeSaslHandshakeRequest(Io& io, SaslHandshakeRequest& m, int16_t) {
  return io.String(m.mechanism);
}

template <typename Io>
Status SerdeSaslHandshakeResponse(Io& io, SaslHandshakeResponse& m, int16_t) {
  RETURN_IF_ERROR(io.Error(m.error_code));
  return io.StringArray(m.mechanisms);
}

template <typename Io>
Status SerdeSaslAuthenticateRequest(Io& io, SaslAuthenticateRequest& m, int16_t) {
  RETURN_IF_ERROR(io.Bytes(m.auth_bytes));
  return io.Tags();
}

template <typename Io>
Status SerdeSaslAuthenticateResponse(Io& io, SaslAuthenticateResponse& m, int16_t v) {
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.NullableString(m.error_message));
  RETURN_IF_ERROR(io.Bytes(m.auth_bytes));
  if (v >= 1) RETURN_IF_ERROR(io.Int64(m.session_lifetime_ms));
  return io.Tags();
}

template <typename Io>
Status SerdeDescribeUserScramCredentialsRequest(Io& io, DescribeUserScramCredentialsRequest& m,
                                                int16_t) {
  RETURN_IF_ERROR(io.NullableArray(
      m.users, true, 2, [&](Io& io, DescribeUserScramCredentialsRequest::User& u) -> Status {
        RETURN_IF_ERROR(io.String(u.name));
        return io.Tags();
      }));
  return io.Tags();
}

template <typename Io>
Status SerdeDescribeUserScramCredentialsResponse(Io& io, DescribeUserScramCredentialsResponse& m,
                                                 int16_t) {
  using Resp = DescribeUserScramCredentialsResponse;
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.NullableString(m.error_message));
  RETURN_IF_ERROR(io.Array(m.results, 5, [&](Io& io, Resp::Result& r) -> Status {
    RETURN_IF_ERROR(io.String(r.user));
    RETURN_IF_ERROR(io.Error(r.error_code));
    RETURN_IF_ERROR(io.NullableString(r.error_message));
    RETURN_IF_ERROR(io.Array(r.credential_infos, 6, [&](Io& io, Resp::CredentialInfo& c) -> Status {
      RETURN_IF_ERROR(io.Int8(c.mechanism));
      RETURN_IF_ERROR(io.Int32(c.iterations));
      return io.Tags();
    }));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeAlterUserScramCredentialsRequest(Io& io, AlterUserScramCredentialsRequest& m, int16_t) {
  using Req = AlterUserScramCredentialsRequest;
  RETURN_IF_ERROR(io.Array(m.deletions, 3, [&](Io& io, Req::Deletion& d) -> Status {
    RETURN_IF_ERROR(io.String(d.name));
    RETURN_IF_ERROR(io.Int8(d.mechanism));
    return io.Tags();
  }));
  RETURN_IF_ERROR(io.Array(m.upsertions, 9, [&](Io& io, Req::Upsertion& u) -> Status {
    RETURN_IF_ERROR(io.String(u.name));
    RETURN_IF_ERROR(io.Int8(u.mechanism));
    RETURN_IF_ERROR(io.Int32(u.iterations));
    RETURN_IF_ERROR(io.Bytes(u.salt));
    RETURN_IF_ERROR(io.Bytes(u.salted_password));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeAlterUserScramCredentialsResponse(Io& io, AlterUserScramCredentialsResponse& m,
                                              int16_t) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(
      io.Array(m.results, 4, [&](Io& io, AlterUserScramCredentialsResponse::Result& r) -> Status {
        RETURN_IF_ERROR(io.String(r.user));
        RETURN_IF_ERROR(io.Error(r.error_code));
        RETURN_IF_ERROR(io.NullableString(r.error_message));
        return io.Tags();
      }));
  return io.Tags();
}

// ------------------------------------------------------------------- ACLs

template <typename Io>
Status SerdeDescribeAclsRequest(Io& io, DescribeAclsRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.Int8(m.resource_type_filter));
  RETURN_IF_ERROR(io.NullableString(m.resource_name_filter));
  if (v >= 1) RETURN_IF_ERROR(io.Int8(m.pattern_type_filter));
  RETURN_IF_ERROR(io.NullableString(m.principal_filter));
  RETURN_IF_ERROR(io.NullableString(m.host_filter));
  RETURN_IF_ERROR(io.Int8(m.operation));
  RETURN_IF_ERROR(io.Int8(m.permission_type));
  return io.Tags();
}

template <typename Io>
Status SerdeDescribeAclsResponse(Io& io, DescribeAclsResponse& m, int16_t v) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Error(m.error_code));
  RETURN_IF_ERROR(io.NullableString(m.error_message));
  RETURN_IF_ERROR(
      io.Array(m.resources, 7, [&](Io& io, DescribeAclsResponse::Resource& r) -> Status {
        RETURN_IF_ERROR(io.Int8(r.resource_type));
        RETURN_IF_ERROR(io.String(r.resource_name));
        if (v >= 1) RETURN_IF_ERROR(io.Int8(r.pattern_type));
        RETURN_IF_ERROR(io.Array(r.acls, 6, [&](Io& io, AclDescription& a) -> Status {
          RETURN_IF_ERROR(io.String(a.principal));
          RETURN_IF_ERROR(io.String(a.host));
          RETURN_IF_ERROR(io.Int8(a.operation));
          RETURN_IF_ERROR(io.Int8(a.permission_type));
          return io.Tags();
        }));
        return io.Tags();
      }));
  return io.Tags();
}

template <typename Io>
Status SerdeCreateAclsRequest(Io& io, CreateAclsRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.Array(m.creations, 9, [&](Io& io, CreateAclsRequest::Creation& c) -> Status {
    RETURN_IF_ERROR(io.Int8(c.resource_type));
    RETURN_IF_ERROR(io.String(c.resource_name));
    if (v >= 1) RETURN_IF_ERROR(io.Int8(c.resource_pattern_type));
    RETURN_IF_ERROR(io.String(c.principal));
    RETURN_IF_ERROR(io.String(c.host));
    RETURN_IF_ERROR(io.Int8(c.operation));
    RETURN_IF_ERROR(io.Int8(c.permission_type));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeCreateAclsResponse(Io& io, CreateAclsResponse& m, int16_t) {
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.results, 4, [&](Io& io, CreateAclsResponse::Result& r) -> Status {
    RETURN_IF_ERROR(io.Error(r.error_code));
    RETURN_IF_ERROR(io.NullableString(r.error_message));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeDeleteAclsRequest(Io& io, DeleteAclsRequest& m, int16_t v) {
  RETURN_IF_ERROR(io.Array(m.filters, 9, [&](Io& io, DeleteAclsRequest::Filter& f) -> Status {
    RETURN_IF_ERROR(io.Int8(f.resource_type_filter));
    RETURN_IF_ERROR(io.NullableString(f.resource_name_filter));
    if (v >= 1) RETURN_IF_ERROR(io.Int8(f.pattern_type_filter));
    RETURN_IF_ERROR(io.NullableString(f.principal_filter));
    RETURN_IF_ERROR(io.NullableString(f.host_filter));
    RETURN_IF_ERROR(io.Int8(f.operation));
    RETURN_IF_ERROR(io.Int8(f.permission_type));
    return io.Tags();
  }));
  return io.Tags();
}

template <typename Io>
Status SerdeDeleteAclsResponse(Io& io, DeleteAclsResponse& m, int16_t v) {
  using Resp = DeleteAclsResponse;
  RETURN_IF_ERROR(io.Int32(m.throttle_time_ms));
  RETURN_IF_ERROR(io.Array(m.filter_results, 5, [&](Io& io, Resp::FilterResult& f) -> Status {
    RETURN_IF_ERROR(io.Error(f.error_code));
    RETURN_IF_ERROR(io.NullableString(f.error_message));
    RETURN_IF_ERROR(io.Array(f.matching_acls, 13, [&](Io& io, Resp::MatchingAcl& a) -> Status {
      RETURN_IF_ERROR(io.Error(a.error_code));
      RETURN_IF_ERROR(io.NullableString(a.error_message));
      RETURN_IF_ERROR(io.Int8(a.resource_type));
      RETURN_IF_ERROR(io.String(a.resource_name));
      if (v >= 1) RETURN_IF_ERROR(io.Int8(a.pattern_type));
      RETURN_IF_ERROR(io.String(a.principal));
      RETURN_IF_ERROR(io.String(a.host));
      RETURN_IF_ERROR(io.Int8(a.operation));
      RETURN_IF_ERROR(io.Int8(a.permission_type));
      return io.Tags();
    }));
    return io.Tags();
  }));
  return io.Tags();
}

}  // namespace

BRAID_DEFINE_CODEC(ProduceRequest, SerdeProduceRequest)
BRAID_DEFINE_CODEC(ProduceResponse, SerdeProduceResponse)
BRAID_DEFINE_CODEC(FetchRequest, SerdeFetchRequest)
BRAID_DEFINE_CODEC(FetchResponse, SerdeFetchResponse)

uint64_t SplicedFrame::wire_size() const {
  uint64_t n = bytes.size();
  for (const RecordsSplice& s : splices) n += s.slice.size;
  return n;
}

Result<SplicedFrame> EncodeFetchResponseFrame(int32_t correlation_id, int16_t version,
                                              const FetchResponse& resp) {
  RETURN_IF_ERROR(internal::CheckVersion(FetchResponse::kApiKey, version));
  SplicedFrame frame;
  Writer w(&frame.bytes);
  const size_t size_pos = w.ReserveInt32();
  EncodeResponseHeader(correlation_id,
                       ResponseHeaderVersion(static_cast<int16_t>(FetchResponse::kApiKey), version),
                       &w);
  EncodeIo io(&w, IsFlexibleVersion(static_cast<int16_t>(FetchResponse::kApiKey), version),
              &frame.splices);
  RETURN_IF_ERROR(SerdeFetchResponse(io, const_cast<FetchResponse&>(resp), version));
  const uint64_t size = frame.wire_size() - 4;
  if (size > static_cast<uint64_t>(INT32_MAX)) {
    return Status::InvalidArgument("Fetch response larger than INT32_MAX");
  }
  w.PatchInt32(size_pos, static_cast<int32_t>(size));
  return frame;
}
BRAID_DEFINE_CODEC(ListOffsetsRequest, SerdeListOffsetsRequest)
BRAID_DEFINE_CODEC(ListOffsetsResponse, SerdeListOffsetsResponse)
BRAID_DEFINE_CODEC(MetadataRequest, SerdeMetadataRequest)
BRAID_DEFINE_CODEC(MetadataResponse, SerdeMetadataResponse)
BRAID_DEFINE_CODEC(OffsetCommitRequest, SerdeOffsetCommitRequest)
BRAID_DEFINE_CODEC(OffsetCommitResponse, SerdeOffsetCommitResponse)
BRAID_DEFINE_CODEC(OffsetFetchRequest, SerdeOffsetFetchRequest)
BRAID_DEFINE_CODEC(OffsetFetchResponse, SerdeOffsetFetchResponse)
BRAID_DEFINE_CODEC(FindCoordinatorRequest, SerdeFindCoordinatorRequest)
BRAID_DEFINE_CODEC(FindCoordinatorResponse, SerdeFindCoordinatorResponse)
BRAID_DEFINE_CODEC(JoinGroupRequest, SerdeJoinGroupRequest)
BRAID_DEFINE_CODEC(JoinGroupResponse, SerdeJoinGroupResponse)
BRAID_DEFINE_CODEC(HeartbeatRequest, SerdeHeartbeatRequest)
BRAID_DEFINE_CODEC(HeartbeatResponse, SerdeHeartbeatResponse)
BRAID_DEFINE_CODEC(LeaveGroupRequest, SerdeLeaveGroupRequest)
BRAID_DEFINE_CODEC(LeaveGroupResponse, SerdeLeaveGroupResponse)
BRAID_DEFINE_CODEC(SyncGroupRequest, SerdeSyncGroupRequest)
BRAID_DEFINE_CODEC(SyncGroupResponse, SerdeSyncGroupResponse)
BRAID_DEFINE_CODEC(DescribeGroupsRequest, SerdeDescribeGroupsRequest)
BRAID_DEFINE_CODEC(DescribeGroupsResponse, SerdeDescribeGroupsResponse)
BRAID_DEFINE_CODEC(ListGroupsRequest, SerdeListGroupsRequest)
BRAID_DEFINE_CODEC(ListGroupsResponse, SerdeListGroupsResponse)
BRAID_DEFINE_CODEC(ApiVersionsRequest, SerdeApiVersionsRequest)
BRAID_DEFINE_CODEC(ApiVersionsResponse, SerdeApiVersionsResponse)
BRAID_DEFINE_CODEC(CreateTopicsRequest, SerdeCreateTopicsRequest)
BRAID_DEFINE_CODEC(CreateTopicsResponse, SerdeCreateTopicsResponse)
BRAID_DEFINE_CODEC(DeleteTopicsRequest, SerdeDeleteTopicsRequest)
BRAID_DEFINE_CODEC(DeleteTopicsResponse, SerdeDeleteTopicsResponse)
BRAID_DEFINE_CODEC(DeleteRecordsRequest, SerdeDeleteRecordsRequest)
BRAID_DEFINE_CODEC(DeleteRecordsResponse, SerdeDeleteRecordsResponse)
BRAID_DEFINE_CODEC(InitProducerIdRequest, SerdeInitProducerIdRequest)
BRAID_DEFINE_CODEC(InitProducerIdResponse, SerdeInitProducerIdResponse)
BRAID_DEFINE_CODEC(DescribeConfigsRequest, SerdeDescribeConfigsRequest)
BRAID_DEFINE_CODEC(DescribeConfigsResponse, SerdeDescribeConfigsResponse)
BRAID_DEFINE_CODEC(AlterConfigsRequest, SerdeAlterConfigsRequest)
BRAID_DEFINE_CODEC(AlterConfigsResponse, SerdeAlterConfigsResponse)
BRAID_DEFINE_CODEC(CreatePartitionsRequest, SerdeCreatePartitionsRequest)
BRAID_DEFINE_CODEC(CreatePartitionsResponse, SerdeCreatePartitionsResponse)
BRAID_DEFINE_CODEC(DeleteGroupsRequest, SerdeDeleteGroupsRequest)
BRAID_DEFINE_CODEC(DeleteGroupsResponse, SerdeDeleteGroupsResponse)
BRAID_DEFINE_CODEC(IncrementalAlterConfigsRequest, SerdeIncrementalAlterConfigsRequest)
BRAID_DEFINE_CODEC(IncrementalAlterConfigsResponse, SerdeIncrementalAlterConfigsResponse)
BRAID_DEFINE_CODEC(OffsetDeleteRequest, SerdeOffsetDeleteRequest)
BRAID_DEFINE_CODEC(OffsetDeleteResponse, SerdeOffsetDeleteResponse)
BRAID_DEFINE_CODEC(SaslHandshakeRequest, SerdeSaslHandshakeRequest)
BRAID_DEFINE_CODEC(SaslHandshakeResponse, SerdeSaslHandshakeResponse)
BRAID_DEFINE_CODEC(SaslAuthenticateRequest, SerdeSaslAuthenticateRequest)
BRAID_DEFINE_CODEC(SaslAuthenticateResponse, SerdeSaslAuthenticateResponse)
BRAID_DEFINE_CODEC(DescribeUserScramCredentialsRequest, SerdeDescribeUserScramCredentialsRequest)
BRAID_DEFINE_CODEC(DescribeUserScramCredentialsResponse, SerdeDescribeUserScramCredentialsResponse)
BRAID_DEFINE_CODEC(AlterUserScramCredentialsRequest, SerdeAlterUserScramCredentialsRequest)
BRAID_DEFINE_CODEC(AlterUserScramCredentialsResponse, SerdeAlterUserScramCredentialsResponse)
BRAID_DEFINE_CODEC(DescribeAclsRequest, SerdeDescribeAclsRequest)
BRAID_DEFINE_CODEC(DescribeAclsResponse, SerdeDescribeAclsResponse)
BRAID_DEFINE_CODEC(CreateAclsRequest, SerdeCreateAclsRequest)
BRAID_DEFINE_CODEC(CreateAclsResponse, SerdeCreateAclsResponse)
BRAID_DEFINE_CODEC(DeleteAclsRequest, SerdeDeleteAclsRequest)
BRAID_DEFINE_CODEC(DeleteAclsResponse, SerdeDeleteAclsResponse)

#undef BRAID_DEFINE_CODEC

ApiVersionsResponse ApiVersionsResponse::Supported() {
  ApiVersionsResponse r;
  for (const ApiInfo& a : SupportedApis()) {
    r.api_keys.push_back({static_cast<int16_t>(a.key), a.min_version, a.max_version});
  }
  return r;
}

ApiVersionsResponse ApiVersionsResponse::UnsupportedVersion() {
  ApiVersionsResponse r;
  r.error_code = ErrorCode::kUnsupportedVersion;
  const ApiInfo* a = FindApi(ApiKey::kApiVersions);
  r.api_keys.push_back({static_cast<int16_t>(a->key), a->min_version, a->max_version});
  return r;
}

}  // namespace braid::kafka
