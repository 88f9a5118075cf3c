// GroupCoordinator: Kafka's classic consumer-group protocol and committed
// offsets, for one broker that coordinates every group.
//
// The coordinator is independent of the wire format: group_handlers.h maps the
// protocol library's request/response structs onto the types below.
//
// States (Kafka's): Empty -> PreparingRebalance -> CompletingRebalance ->
// Stable, and back to PreparingRebalance on every membership change; a group
// whose members all left is Empty and keeps its committed offsets until
// retention removes them (then it is forgotten, Kafka's Dead).
//
// Asynchrony: JoinGroup and SyncGroup may complete later, when the rebalance
// reaches the point where Kafka answers them. Their callbacks run exactly once
// (on the calling thread if the answer is immediate, else on the thread that
// calls JoinGroup/SyncGroup/LeaveGroup/Heartbeat/Tick for another member), never while the
// coordinator's lock is held, so a callback may call back into the coordinator. The one exception:
// after OnConnectionClosed(c) returns, callbacks of requests that arrived on connection c are
// dropped without being called.
//
// Time: deadlines (session timeouts, rebalance timeouts, the initial
// rebalance delay) use clock->MonotonicMicros(); commit timestamps and
// retention use clock->NowMillis(). Nothing happens by itself: the server
// calls Tick() periodically (every 100 ms is plenty), tests call it after
// advancing a ManualClock.
//
// Thread safety: every method is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "io/file_system.h"
#include "kafka/group/offset_store.h"
#include "kafka/protocol/error_code.h"
#include "log/log.h"

namespace braid::kafka {

struct GroupCoordinatorOptions {
  // The log holding the `__consumer_offsets` topic (created by Open() if
  // missing); also used to check that committed partitions exist. Must
  // outlive the coordinator. Required.
  log::Log* log = nullptr;
  // Store options (sync on every commit by default; partitions of the topic;
  // the directory of a pre-topic offsets file to migrate).
  OffsetStoreOptions store;
  // Accepted JoinGroup session timeouts. Kafka: 6 s .. 30 min; braid is more
  // lenient at the low end so tests can use short sessions.
  // Default: 1000 .. 1'800'000 ms.
  int32_t min_session_timeout_ms = 1000;
  int32_t max_session_timeout_ms = 1'800'000;
  // group.initial.rebalance.delay.ms: when a group goes from Empty to its first
  // rebalance, wait this long (extended by the same amount on every new
  // member, capped at the rebalance timeout) so members starting together land
  // in one generation. Default: 3000 ms.
  int32_t initial_rebalance_delay_ms = 3000;
  // Answer a first JoinGroup v4+ with MEMBER_ID_REQUIRED (KIP-394). Pending
  // member ids never block a rebalance here (cf. librdkafka#5569). Default: true.
  bool require_member_id = true;
  // offsets.retention.minutes: committed offsets of a group that has been
  // empty this long are deleted. Default: 10080 min (7 days).
  int64_t offsets_retention_ms = int64_t{10080} * 60 * 1000;
  // offsets.retention.check.interval.ms. Default: 600'000 ms.
  int64_t offsets_retention_check_interval_ms = 600'000;
  // offset.metadata.max.bytes: longer commit metadata is refused with
  // OFFSET_METADATA_TOO_LARGE. Default: 4096.
  size_t max_metadata_bytes = 4096;
  // group.max.size: JoinGroups beyond this get GROUP_MAX_SIZE_REACHED.
  // Default: 1000.
  size_t max_group_size = 1000;
};

// ---- JoinGroup ----
struct JoinGroupParams {
  std::string group_id;
  std::string member_id;                         // "" on the first join
  std::optional<std::string> group_instance_id;  // static membership (v5+)
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = -1;  // -1 (JoinGroup v0): use the session timeout
  std::string protocol_type;
  std::vector<std::pair<std::string, std::string>> protocols;  // (name, metadata)
  bool require_known_member_id = false;                        // request version >= 4
  uint64_t connection_id = 0;                                  // 0: not tracked
};
struct JoinGroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string metadata;
};
struct JoinGroupResult {
  ErrorCode error = ErrorCode::kNone;
  GenerationId generation_id{-1};
  std::string protocol_type;
  std::string protocol_name;
  std::string leader_id;
  std::string member_id;
  std::vector<JoinGroupMember> members;  // only for the leader
};
using JoinGroupCallback = std::function<void(JoinGroupResult)>;

// ---- SyncGroup ----
struct SyncGroupParams {
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;                      // v5+, checked if present
  std::optional<std::string> protocol_name;                      // v5+, checked if present
  std::vector<std::pair<std::string, std::string>> assignments;  // leader only
  uint64_t connection_id = 0;
};
struct SyncGroupResult {
  ErrorCode error = ErrorCode::kNone;
  std::string protocol_type;
  std::string protocol_name;
  std::string assignment;
};
using SyncGroupCallback = std::function<void(SyncGroupResult)>;

// ---- Heartbeat ----
struct HeartbeatParams {
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

// ---- LeaveGroup ----
struct LeaveGroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};
struct LeaveGroupResult {
  ErrorCode error = ErrorCode::kNone;  // top level
  std::vector<std::pair<LeaveGroupMember, ErrorCode>> members;
};

// ---- OffsetCommit / OffsetFetch ----
struct OffsetCommitParams {
  std::string group_id;
  GenerationId generation_id{-1};  // -1: simple (assign()) commit
  std::string member_id;
  std::optional<std::string> group_instance_id;
  struct Partition {
    TopicPartition tp;
    Offset offset{-1};
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
  };
  std::vector<Partition> partitions;
};
struct OffsetCommitResult {
  std::vector<std::pair<TopicPartition, ErrorCode>> partitions;  // request order
};

struct OffsetDeleteResult {
  ErrorCode error = ErrorCode::kNone;  // top level; no partitions when set
  std::vector<std::pair<TopicPartition, ErrorCode>> partitions;  // request order
};

struct OffsetFetchResult {
  ErrorCode error = ErrorCode::kNone;  // top level (v2+)
  struct Partition {
    TopicPartition tp;
    Offset offset{-1};
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;  // "" when nothing is committed
    ErrorCode error = ErrorCode::kNone;
  };
  std::vector<Partition> partitions;
};

// ---- Describe / List / Delete ----
struct GroupMemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;    // for the chosen protocol; only when Stable
  std::string assignment;  // only when Stable
};
struct GroupDescription {
  ErrorCode error = ErrorCode::kNone;
  std::string group_id;
  std::string state;  // "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"
  std::string protocol_type;
  std::string protocol_name;
  std::vector<GroupMemberDescription> members;
};
struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

class GroupCoordinator {
 public:
  // Does not load anything: until Open() succeeds every group API answers
  // COORDINATOR_LOAD_IN_PROGRESS and IsReady() is false.
  GroupCoordinator(io::FileSystem* fs, Clock* clock, GroupCoordinatorOptions options);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Opens the offsets store (the `__consumer_offsets` topic of options.log,
  // migrating a legacy offsets file). Call once, before or after the
  // listener opens.
  Status Open();
  bool IsReady() const;

  void JoinGroup(JoinGroupParams params, JoinGroupCallback done);
  void SyncGroup(SyncGroupParams params, SyncGroupCallback done);
  ErrorCode Heartbeat(const HeartbeatParams& params);
  // `members` holds one entry for LeaveGroup v0-2 (member id only).
  LeaveGroupResult LeaveGroup(const std::string& group_id,
                              const std::vector<LeaveGroupMember>& members);
  OffsetCommitResult OffsetCommit(const OffsetCommitParams& params);
  // `partitions` nullopt: every committed partition of the group.
  OffsetFetchResult OffsetFetch(const std::string& group_id,
                                const std::optional<std::vector<TopicPartition>>& partitions);
  GroupDescription DescribeGroup(const std::string& group_id);
  // OffsetDelete (KIP-496), Kafka's rules: an unknown group is
  // GROUP_ID_NOT_FOUND; an Empty group's offsets are deleted; an active
  // consumer group's offsets are deleted except for topics its members are
  // subscribed to (GROUP_SUBSCRIBED_TO_TOPIC; all topics count as subscribed
  // while the subscriptions are unknown); another active group is
  // NON_EMPTY_GROUP. Partitions that do not exist: UNKNOWN_TOPIC_OR_PARTITION.
  OffsetDeleteResult DeleteOffsets(const std::string& group_id,
                                   const std::vector<TopicPartition>& partitions);
  // `states_filter` empty: all groups.
  std::vector<GroupListing> ListGroups(const std::vector<std::string>& states_filter = {});
  // GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or NONE (offsets deleted).
  ErrorCode DeleteGroup(const std::string& group_id);
  // Deletes committed offsets of a topic in every group (DeleteTopics).
  void OnTopicDeleted(const std::string& topic);

  // Expires sessions, ends join phases whose time is up, applies retention.
  void Tick();
  // Drops the callbacks of JoinGroup/SyncGroup requests parked on this
  // connection (their answers cannot be delivered). Membership does not
  // change: as in Kafka, a member leaves only by LeaveGroup or session
  // expiry (or, static, by being replaced); a member whose parked request is
  // dropped still counts as having joined/synced.
  void OnConnectionClosed(uint64_t connection_id);

  // Number of known groups (with members or offsets); for tests and metrics.
  size_t GroupCount() const;

 private:
  struct Member;
  struct Group;
  using Deferred = std::vector<std::function<void()>>;

  int64_t NowMs() const { return clock_->MonotonicMicros() / 1000; }
  Group* FindGroup(const std::string& id);
  // True if `instance_id` belongs to a static member other than `member_id`.
  bool IsFenced(const Group* g, const std::optional<std::string>& instance_id,
                const std::string& member_id) const;
  Group* GetOrCreateGroup(const std::string& id);

  void JoinUnknownMember(Group* g, JoinGroupParams& p, JoinGroupCallback& done, Deferred* out);
  void JoinKnownMember(Group* g, JoinGroupParams& p, JoinGroupCallback& done, Deferred* out);
  void AddMemberAndRebalance(Group* g, const std::string& member_id, JoinGroupParams& p,
                             JoinGroupCallback& done, Deferred* out);
  void UpdateMemberAndRebalance(Group* g, Member* m, JoinGroupParams& p, JoinGroupCallback& done,
                                Deferred* out);
  void PrepareRebalance(Group* g, Deferred* out);
  void MaybeCompleteJoin(Group* g, Deferred* out);
  void CompleteJoin(Group* g, Deferred* out);
  void RemoveMember(Group* g, const std::string& member_id, Deferred* out);
  void RemoveMemberNoRebalance(Group* g, const std::string& member_id, Deferred* out);
  void ResetAndPropagateSyncError(Group* g, ErrorCode error, Deferred* out);
  JoinGroupResult CurrentJoinResult(const Group* g, const Member* m) const;
  bool SupportsProtocols(const Group* g, const std::string& type,
                         const std::vector<std::pair<std::string, std::string>>& protocols) const;
  std::string SelectProtocol(const Group* g) const;
  std::optional<std::set<std::string>> SubscribedTopics(const Group* g) const;
  void SetEmpty(Group* g);
  // Records the group's metadata (members and assignments) once stable.
  void StoreStableGroup(const Group* g);
  void ApplyRetention();

  io::FileSystem* fs_;
  Clock* clock_;
  GroupCoordinatorOptions options_;

  mutable std::mutex mu_;
  bool ready_ = false;
  std::unique_ptr<OffsetStore> store_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  int64_t next_retention_check_ms_ = 0;
  uint64_t member_counter_ = 0;
};

// "Empty", "PreparingRebalance", ... for the state names used on the wire.
std::vector<std::string> GroupStateNames();

}  // namespace braid::kafka
