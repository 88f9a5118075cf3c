#include "kafka/protocol/api_versions.h"

#include <algorithm>
#include <array>

namespace braid::kafka {
namespace {

// braid's advertisement (brief §1.3). first_flexible comes from each API's
// flexibleVersions in Kafka's JSON schemas.
//
// Produce advertises min 0, not 3: librdkafka <= 2.11 only compresses with
// gzip, snappy or lz4 if the broker's Produce range intersects [0, 0]
// (rdkafka_msgset_writer.c, compr_req table; verified against librdkafka
// 2.0.2 with tests/data/gen_batches.py's fake broker: with 3-7 it logs
// "Broker does not support compression type gzip: not compressing batch").
// Produce v0-2 (magic 0/1 MessageSets), Fetch v0-3 and ListOffsets v0 are
// served as Kafka 3.x serves them: the broker up-converts old MessageSets to
// RecordBatch v2 on append and down-converts for Fetch v0-3
// (log/legacy_records.h). Clients that only speak these versions: Debian's
// kafka-go 0.2.1 (Produce v2, Fetch v2, ListOffsets v1), sarama configured
// for Kafka 0.8-0.10 as Burrow 1.2 runs it (Fetch v0, ListOffsets v0), and
// kafka-python with api_version (0, 9) / (0, 10).
constexpr ApiInfo kSupported[] = {
    {ApiKey::kProduce, "Produce", 0, 7, 9},
    {ApiKey::kFetch, "Fetch", 0, 11, 12},
    {ApiKey::kListOffsets, "ListOffsets", 0, 3, 6},
    {ApiKey::kMetadata, "Metadata", 0, 7, 9},
    {ApiKey::kOffsetCommit, "OffsetCommit", 0, 7, 8},
    {ApiKey::kOffsetFetch, "OffsetFetch", 1, 5, 6},
    {ApiKey::kFindCoordinator, "FindCoordinator", 0, 2, 3},
    {ApiKey::kJoinGroup, "JoinGroup", 0, 5, 6},
    {ApiKey::kHeartbeat, "Heartbeat", 0, 3, 4},
    {ApiKey::kLeaveGroup, "LeaveGroup", 0, 1, 4},
    {ApiKey::kSyncGroup, "SyncGroup", 0, 3, 4},
    {ApiKey::kDescribeGroups, "DescribeGroups", 0, 4, 5},
    {ApiKey::kListGroups, "ListGroups", 0, 4, 3},
    {ApiKey::kSaslHandshake, "SaslHandshake", 0, 1, kNoFlexibleVersion},
    {ApiKey::kApiVersions, "ApiVersions", 0, 3, 3},
    {ApiKey::kCreateTopics, "CreateTopics", 0, 4, 5},
    {ApiKey::kDeleteTopics, "DeleteTopics", 0, 3, 4},
    {ApiKey::kDeleteRecords, "DeleteRecords", 0, 1, 2},
    {ApiKey::kInitProducerId, "InitProducerId", 0, 1, 2},
    {ApiKey::kDescribeAcls, "DescribeAcls", 0, 1, 2},
    {ApiKey::kCreateAcls, "CreateAcls", 0, 1, 2},
    {ApiKey::kDeleteAcls, "DeleteAcls", 0, 1, 2},
    {ApiKey::kDescribeConfigs, "DescribeConfigs", 0, 1, 4},
    {ApiKey::kAlterConfigs, "AlterConfigs", 0, 0, 2},
    {ApiKey::kSaslAuthenticate, "SaslAuthenticate", 0, 2, 2},
    {ApiKey::kCreatePartitions, "CreatePartitions", 0, 1, 2},
    {ApiKey::kDeleteGroups, "DeleteGroups", 0, 1, 2},
    {ApiKey::kIncrementalAlterConfigs, "IncrementalAlterConfigs", 0, 0, 1},
    {ApiKey::kOffsetDelete, "OffsetDelete", 0, 0, kNoFlexibleVersion},
    {ApiKey::kDescribeUserScramCredentials, "DescribeUserScramCredentials", 0, 0, 0},
    {ApiKey::kAlterUserScramCredentials, "AlterUserScramCredentials", 0, 0, 0},
};

struct KeyInfo {
  std::string_view name;
  int16_t first_flexible;
};

// Every key 0..47: Kafka's name and first flexible version, so that headers of
// APIs braid does not implement still parse correctly.
constexpr KeyInfo kAllKeys[] = {
    {"Produce", 9},
    {"Fetch", 12},
    {"ListOffsets", 6},
    {"Metadata", 9},
    {"LeaderAndIsr", 4},
    {"StopReplica", 2},
    {"UpdateMetadata", 6},
    {"ControlledShutdown", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 6},
    {"FindCoordinator", 3},
    {"JoinGroup", 6},
    {"Heartbeat", 4},
    {"LeaveGroup", 4},
    {"SyncGroup", 4},
    {"DescribeGroups", 5},
    {"ListGroups", 3},
    {"SaslHandshake", kNoFlexibleVersion},
    {"ApiVersions", 3},
    {"CreateTopics", 5},
    {"DeleteTopics", 4},
    {"DeleteRecords", 2},
    {"InitProducerId", 2},
    {"OffsetForLeaderEpoch", 4},
    {"AddPartitionsToTxn", 3},
    {"AddOffsetsToTxn", 3},
    {"EndTxn", 3},
    {"WriteTxnMarkers", 1},
    {"TxnOffsetCommit", 3},
    {"DescribeAcls", 2},
    {"CreateAcls", 2},
    {"DeleteAcls", 2},
    {"DescribeConfigs", 4},
    {"AlterConfigs", 2},
    {"AlterReplicaLogDirs", 2},
    {"DescribeLogDirs", 2},
    {"SaslAuthenticate", 2},
    {"CreatePartitions", 2},
    {"CreateDelegationToken", 2},
    {"RenewDelegationToken", 2},
    {"ExpireDelegationToken", 2},
    {"DescribeDelegationToken", 2},
    {"DeleteGroups", 2},
    {"ElectLeaders", 2},
    {"IncrementalAlterConfigs", 1},
    {"AlterPartitionReassignments", 0},
    {"ListPartitionReassignments", 0},
    {"OffsetDelete", kNoFlexibleVersion},
    {"DescribeClientQuotas", 1},
    {"AlterClientQuotas", 1},
    {"DescribeUserScramCredentials", 0},
    {"AlterUserScramCredentials", 0},
};

}  // namespace

std::span<const ApiInfo> SupportedApis() { return kSupported; }

const ApiInfo* FindApi(int16_t key) {
  for (const ApiInfo& a : kSupported) {
    if (static_cast<int16_t>(a.key) == key) return &a;
  }
  return nullptr;
}

std::string_view ApiKeyName(int16_t key) {
  if (key < 0 || static_cast<size_t>(key) >= std::size(kAllKeys)) return "Unknown";
  return kAllKeys[key].name;
}

bool IsSupportedVersion(int16_t key, int16_t version) {
  const ApiInfo* a = FindApi(key);
  return a != nullptr && version >= a->min_version && version <= a->max_version;
}

int16_t FirstFlexibleVersion(int16_t key) {
  if (key < 0 || static_cast<size_t>(key) >= std::size(kAllKeys)) return kNoFlexibleVersion;
  return kAllKeys[key].first_flexible;
}

int16_t RequestHeaderVersion(int16_t key, int16_t version) {
  return IsFlexibleVersion(key, version) ? 2 : 1;
}

int16_t ResponseHeaderVersion(int16_t key, int16_t version) {
  if (key == static_cast<int16_t>(ApiKey::kApiVersions)) return 0;
  return IsFlexibleVersion(key, version) ? 1 : 0;
}

}  // namespace braid::kafka
