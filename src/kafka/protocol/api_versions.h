// The table of Kafka APIs braid implements: API key, the version range it
// advertises in ApiVersions, and the first flexible (KIP-482) version.
//
// The same table drives three things, so they cannot disagree:
//   * the ApiVersions response (SupportedApis()),
//   * which request/response header version a (key, version) uses,
//   * which (key, version) pairs the message codecs accept.
// Ranges follow /work/shared/research/kafka-protocol.md §1.3 ("advertise only
// what is implemented"): every version in a range is decoded and encoded by
// messages.h.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace braid::kafka {

enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kLeaderAndIsr = 4,
  kStopReplica = 5,
  kUpdateMetadata = 6,
  kControlledShutdown = 7,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kSaslHandshake = 17,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kDeleteRecords = 21,
  kInitProducerId = 22,
  kOffsetForLeaderEpoch = 23,
  kAddPartitionsToTxn = 24,
  kAddOffsetsToTxn = 25,
  kEndTxn = 26,
  kWriteTxnMarkers = 27,
  kTxnOffsetCommit = 28,
  kDescribeAcls = 29,
  kCreateAcls = 30,
  kDeleteAcls = 31,
  kDescribeConfigs = 32,
  kAlterConfigs = 33,
  kAlterReplicaLogDirs = 34,
  kDescribeLogDirs = 35,
  kSaslAuthenticate = 36,
  kCreatePartitions = 37,
  kCreateDelegationToken = 38,
  kRenewDelegationToken = 39,
  kExpireDelegationToken = 40,
  kDescribeDelegationToken = 41,
  kDeleteGroups = 42,
  kElectLeaders = 43,
  kIncrementalAlterConfigs = 44,
  kAlterPartitionReassignments = 45,
  kListPartitionReassignments = 46,
  kOffsetDelete = 47,
  kDescribeClientQuotas = 48,
  kAlterClientQuotas = 49,
  kDescribeUserScramCredentials = 50,
  kAlterUserScramCredentials = 51,
};

// Sentinel for "this API has no flexible version".
inline constexpr int16_t kNoFlexibleVersion = INT16_MAX;

struct ApiInfo {
  ApiKey key;
  std::string_view name;   // Kafka's name, e.g. "Produce"
  int16_t min_version;     // advertised minimum
  int16_t max_version;     // advertised maximum
  int16_t first_flexible;  // from Kafka's JSON flexibleVersions
};

// Every API braid implements, ordered by key. These are exactly the entries of
// the ApiVersions response.
std::span<const ApiInfo> SupportedApis();

// The entry for `key`, or nullptr if braid does not implement it.
const ApiInfo* FindApi(int16_t key);
inline const ApiInfo* FindApi(ApiKey key) { return FindApi(static_cast<int16_t>(key)); }

// Kafka's name for any API key (also ones braid does not implement), or
// "Unknown".
std::string_view ApiKeyName(int16_t key);

// True if braid implements (key, version).
bool IsSupportedVersion(int16_t key, int16_t version);

// The first flexible version of any API key Kafka defines (also ones braid
// does not implement); kNoFlexibleVersion if none or unknown.
int16_t FirstFlexibleVersion(int16_t key);

// True if (key, version) uses the flexible encoding (compact strings/arrays,
// tagged fields). Works for versions outside braid's advertised range too.
inline bool IsFlexibleVersion(int16_t key, int16_t version) {
  return version >= FirstFlexibleVersion(key);
}

// Request header version: 2 for flexible versions, else 1. (Header v0, used
// only by ControlledShutdown v0, is never produced.)
int16_t RequestHeaderVersion(int16_t key, int16_t version);

// Response header version: 1 for flexible versions, else 0, except that
// ApiVersions responses always use header v0 (KIP-511).
int16_t ResponseHeaderVersion(int16_t key, int16_t version);

}  // namespace braid::kafka
