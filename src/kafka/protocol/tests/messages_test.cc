#include "kafka/protocol/messages.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "base/coding.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/tests/test_util.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

using std::string_literals::operator""s;
using testing::DecodeAll;
using testing::EncodeToString;
using testing::ReadTestData;

// ------------------------------------------------------------------ samples
// One populated value per message: every field that exists in some version
// carries a non-default value, so version gating bugs change the bytes.

ProduceRequest SampleProduceRequest() {
  ProduceRequest m;
  m.transactional_id = "txn";
  m.acks = -1;
  m.timeout_ms = 1500;
  m.topics = {{"t1", {{PartitionId(0), "batchbytes"}, {PartitionId(3), std::nullopt}}}, {"t2", {}}};
  return m;
}
ProduceResponse SampleProduceResponse() {
  ProduceResponse m;
  m.responses = {{"t1",
                  {{PartitionId(0), ErrorCode::kNone, Offset(100), 1700000000000, Offset(5)},
                   {PartitionId(1), ErrorCode::kCorruptMessage, Offset(-1), -1, Offset(-1)}}}};
  m.throttle_time_ms = 3;
  return m;
}
FetchRequest SampleFetchRequest() {
  FetchRequest m;
  m.max_wait_ms = 500;
  m.min_bytes = 1;
  m.max_bytes = 52428800;
  m.isolation_level = 1;
  m.session_id = 0;
  m.session_epoch = -1;
  m.topics = {{"t1", {{PartitionId(0), 5, Offset(42), Offset(-1), 1048576}}}};
  m.forgotten_topics = {{"old", {1, 2}}};
  m.rack_id = "rack-a";
  return m;
}
FetchResponse SampleFetchResponse() {
  FetchResponse m;
  m.throttle_time_ms = 1;
  m.error_code = ErrorCode::kNone;
  m.session_id = 0;
  FetchResponse::Partition p;
  p.partition_index = PartitionId(2);
  p.high_watermark = Offset(10);
  p.last_stable_offset = Offset(9);
  p.log_start_offset = Offset(1);
  p.aborted_transactions =
      std::vector<FetchResponse::AbortedTransaction>{{ProducerId(7), Offset(3)}};
  p.preferred_read_replica = -1;
  p.records = "recordbytes";
  FetchResponse::Partition q;
  q.partition_index = PartitionId(3);
  q.error_code = ErrorCode::kOffsetOutOfRange;
  m.responses = {{"t1", {p, q}}};
  return m;
}
ListOffsetsRequest SampleListOffsetsRequest() {
  ListOffsetsRequest m;
  m.isolation_level = 1;
  m.topics = {{"t", {{PartitionId(0), 4, kListOffsetsEarliest, 1}, {PartitionId(1), -1, 1234, 1}}}};
  return m;
}
ListOffsetsResponse SampleListOffsetsResponse() {
  ListOffsetsResponse m;
  m.throttle_time_ms = 2;
  m.topics = {{"t", {{PartitionId(0), ErrorCode::kNone, {}, 99, Offset(17), 3}}}};
  return m;
}
MetadataRequest SampleMetadataRequest() {
  MetadataRequest m;
  m.topics = std::vector<std::string>{"a", "b"};
  m.allow_auto_topic_creation = false;
  return m;
}
MetadataResponse SampleMetadataResponse() {
  MetadataResponse m;
  m.throttle_time_ms = 4;
  m.brokers = {{NodeId(1), "localhost", 9092, "r1"}};
  m.cluster_id = "cluster";
  m.controller_id = NodeId(1);
  MetadataResponse::Topic t;
  t.name = "events";
  t.is_internal = true;
  t.partitions = {{ErrorCode::kNone, PartitionId(0), NodeId(1), 6, {1}, {1}, {2}}};
  m.topics = {t, {ErrorCode::kUnknownTopicOrPartition, "missing", false, {}, INT32_MIN}};
  return m;
}
OffsetCommitRequest SampleOffsetCommitRequest() {
  OffsetCommitRequest m;
  m.group_id = "g";
  m.generation_id = GenerationId(3);
  m.member_id = "m-1";
  m.group_instance_id = "inst";
  m.retention_time_ms = 86400000;
  m.topics = {{"t",
               {{PartitionId(0), Offset(10), 2, 1700000000000, "meta"},
                {PartitionId(1), Offset(11), -1, -1, std::nullopt}}}};
  return m;
}
OffsetCommitResponse SampleOffsetCommitResponse() {
  OffsetCommitResponse m;
  m.throttle_time_ms = 5;
  m.topics = {
      {"t", {{PartitionId(0), ErrorCode::kNone}, {PartitionId(1), ErrorCode::kIllegalGeneration}}}};
  return m;
}
OffsetFetchRequest SampleOffsetFetchRequest() {
  OffsetFetchRequest m;
  m.group_id = "g";
  m.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {0, 1, 2}}};
  return m;
}
OffsetFetchResponse SampleOffsetFetchResponse() {
  OffsetFetchResponse m;
  m.throttle_time_ms = 6;
  m.topics = {{"t",
               {{PartitionId(0), Offset(10), 2, "meta", ErrorCode::kNone},
                {PartitionId(1), Offset(-1), -1, std::nullopt, ErrorCode::kNone}}}};
  m.error_code = ErrorCode::kCoordinatorLoadInProgress;
  return m;
}
FindCoordinatorRequest SampleFindCoordinatorRequest() {
  FindCoordinatorRequest m;
  m.key = "group";
  m.key_type = 1;
  return m;
}
FindCoordinatorResponse SampleFindCoordinatorResponse() {
  FindCoordinatorResponse m;
  m.throttle_time_ms = 7;
  m.error_message = "none";
  m.node_id = NodeId(1);
  m.host = "127.0.0.1";
  m.port = 9092;
  return m;
}
JoinGroupRequest SampleJoinGroupRequest() {
  JoinGroupRequest m;
  m.group_id = "g";
  m.session_timeout_ms = 45000;
  m.rebalance_timeout_ms = 300000;
  m.member_id = "";
  m.group_instance_id = "static-1";
  m.protocol_type = "consumer";
  m.protocols = {{"range", "\x00\x01meta"s}, {"roundrobin", ""}};
  return m;
}
JoinGroupResponse SampleJoinGroupResponse() {
  JoinGroupResponse m;
  m.throttle_time_ms = 8;
  m.error_code = ErrorCode::kMemberIdRequired;
  m.generation_id = GenerationId(4);
  m.protocol_name = "range";
  m.leader = "m-1";
  m.member_id = "m-2";
  m.members = {{"m-1", "static-1", "md1"}, {"m-2", std::nullopt, "md2"}};
  return m;
}
HeartbeatRequest SampleHeartbeatRequest() {
  HeartbeatRequest m;
  m.group_id = "g";
  m.generation_id = GenerationId(4);
  m.member_id = "m-1";
  m.group_instance_id = "static-1";
  return m;
}
HeartbeatResponse SampleHeartbeatResponse() {
  HeartbeatResponse m;
  m.throttle_time_ms = 9;
  m.error_code = ErrorCode::kRebalanceInProgress;
  return m;
}
LeaveGroupRequest SampleLeaveGroupRequest() {
  LeaveGroupRequest m;
  m.group_id = "g";
  m.member_id = "m-1";
  return m;
}
LeaveGroupResponse SampleLeaveGroupResponse() {
  LeaveGroupResponse m;
  m.throttle_time_ms = 10;
  m.error_code = ErrorCode::kUnknownMemberId;
  return m;
}
SyncGroupRequest SampleSyncGroupRequest() {
  SyncGroupRequest m;
  m.group_id = "g";
  m.generation_id = GenerationId(4);
  m.member_id = "m-1";
  m.group_instance_id = "static-1";
  m.assignments = {{"m-1", "assign1"}, {"m-2", ""}};
  return m;
}
SyncGroupResponse SampleSyncGroupResponse() {
  SyncGroupResponse m;
  m.throttle_time_ms = 11;
  m.assignment = "assign1";
  return m;
}
DescribeGroupsRequest SampleDescribeGroupsRequest() {
  DescribeGroupsRequest m;
  m.groups = {"g1", "g2"};
  m.include_authorized_operations = true;
  return m;
}
DescribeGroupsResponse SampleDescribeGroupsResponse() {
  DescribeGroupsResponse m;
  m.throttle_time_ms = 12;
  DescribeGroupsResponse::Group g;
  g.group_id = "g1";
  g.group_state = "Stable";
  g.protocol_type = "consumer";
  g.protocol_data = "range";
  g.members = {{"m-1", "static", "client", "/127.0.0.1", "md", "as"}};
  g.authorized_operations = 0x0f;
  m.groups = {g};
  return m;
}
ListGroupsRequest SampleListGroupsRequest() { return {}; }
ListGroupsResponse SampleListGroupsResponse() {
  ListGroupsResponse m;
  m.throttle_time_ms = 13;
  m.groups = {{"g1", "consumer"}, {"g2", ""}};
  return m;
}
ApiVersionsRequest SampleApiVersionsRequest() {
  ApiVersionsRequest m;
  m.client_software_name = "librdkafka";
  m.client_software_version = "2.0.2";
  return m;
}
ApiVersionsResponse SampleApiVersionsResponse() {
  ApiVersionsResponse m = ApiVersionsResponse::Supported();
  m.throttle_time_ms = 14;
  return m;
}
CreateTopicsRequest SampleCreateTopicsRequest() {
  CreateTopicsRequest m;
  m.topics = {{"new",
               -1,
               -1,
               {{PartitionId(0), {1}}},
               {{"cleanup.policy", "compact"}, {"x", std::nullopt}}}};
  m.timeout_ms = 30000;
  m.validate_only = true;
  return m;
}
CreateTopicsResponse SampleCreateTopicsResponse() {
  CreateTopicsResponse m;
  m.throttle_time_ms = 15;
  m.topics = {{"new", ErrorCode::kTopicAlreadyExists, "exists"},
              {"ok", ErrorCode::kNone, std::nullopt}};
  return m;
}
DeleteTopicsRequest SampleDeleteTopicsRequest() {
  DeleteTopicsRequest m;
  m.topic_names = {"a", "b"};
  m.timeout_ms = 1000;
  return m;
}
DeleteTopicsResponse SampleDeleteTopicsResponse() {
  DeleteTopicsResponse m;
  m.throttle_time_ms = 16;
  m.responses = {{"a", ErrorCode::kNone}, {"b", ErrorCode::kUnknownTopicOrPartition}};
  return m;
}
DeleteRecordsRequest SampleDeleteRecordsRequest() {
  DeleteRecordsRequest m;
  m.topics = {{"t", {{PartitionId(0), Offset(5)}}}};
  m.timeout_ms = 100;
  return m;
}
DeleteRecordsResponse SampleDeleteRecordsResponse() {
  DeleteRecordsResponse m;
  m.throttle_time_ms = 17;
  m.topics = {{"t", {{PartitionId(0), Offset(5), ErrorCode::kNone}}}};
  return m;
}
InitProducerIdRequest SampleInitProducerIdRequest() {
  InitProducerIdRequest m;
  m.transactional_id = std::nullopt;
  m.transaction_timeout_ms = 60000;
  return m;
}
InitProducerIdResponse SampleInitProducerIdResponse() {
  InitProducerIdResponse m;
  m.throttle_time_ms = 18;
  m.producer_id = ProducerId(1000);
  m.producer_epoch = ProducerEpoch(0);
  return m;
}
DescribeConfigsRequest SampleDescribeConfigsRequest() {
  DescribeConfigsRequest m;
  m.resources = {{kResourceTypeTopic, "t", std::vector<std::string>{"retention.ms"}},
                 {kResourceTypeBroker, "1", std::nullopt}};
  m.include_synonyms = true;
  return m;
}
DescribeConfigsResponse SampleDescribeConfigsResponse() {
  DescribeConfigsResponse m;
  m.throttle_time_ms = 19;
  DescribeConfigsResponse::Config c;
  c.name = "retention.ms";
  c.value = "1000";
  c.read_only = false;
  c.is_default = true;
  c.config_source = 5;
  c.is_sensitive = false;
  c.synonyms = {{"log.retention.ms", "1000", 5}};
  m.results = {{ErrorCode::kNone, std::nullopt, kResourceTypeTopic, "t", {c}}};
  return m;
}
AlterConfigsRequest SampleAlterConfigsRequest() {
  AlterConfigsRequest m;
  m.resources = {{kResourceTypeTopic, "t", {{"retention.ms", "5"}, {"x", std::nullopt}}}};
  m.validate_only = true;
  return m;
}
AlterConfigsResponse SampleAlterConfigsResponse() {
  AlterConfigsResponse m;
  m.throttle_time_ms = 20;
  m.responses = {{ErrorCode::kInvalidConfig, "bad", kResourceTypeTopic, "t"}};
  return m;
}
CreatePartitionsRequest SampleCreatePartitionsRequest() {
  CreatePartitionsRequest m;
  m.topics = {{"t", 4, std::vector<CreatePartitionsRequest::Assignment>{{{1}}, {{1}}}},
              {"u", 2, std::nullopt}};
  m.timeout_ms = 100;
  m.validate_only = false;
  return m;
}
CreatePartitionsResponse SampleCreatePartitionsResponse() {
  CreatePartitionsResponse m;
  m.throttle_time_ms = 21;
  m.results = {{"t", ErrorCode::kInvalidPartitions, "too few"}};
  return m;
}
DeleteGroupsRequest SampleDeleteGroupsRequest() {
  DeleteGroupsRequest m;
  m.groups_names = {"g1"};
  return m;
}
DeleteGroupsResponse SampleDeleteGroupsResponse() {
  DeleteGroupsResponse m;
  m.throttle_time_ms = 22;
  m.results = {{"g1", ErrorCode::kNonEmptyGroup}};
  return m;
}
IncrementalAlterConfigsRequest SampleIncrementalAlterConfigsRequest() {
  IncrementalAlterConfigsRequest m;
  m.resources = {{kResourceTypeTopic,
                  "t",
                  {{"retention.ms", kConfigOpSet, "5"}, {"x", kConfigOpDelete, std::nullopt}}}};
  return m;
}
IncrementalAlterConfigsResponse SampleIncrementalAlterConfigsResponse() {
  IncrementalAlterConfigsResponse m;
  m.throttle_time_ms = 23;
  m.responses = {{ErrorCode::kNone, std::nullopt, kResourceTypeTopic, "t"}};
  return m;
}

// Encodes at every supported version, decodes, re-encodes (same bytes), and
// checks that every strict prefix fails to decode and that versions outside
// the advertised range are rejected.
template <typename M>
void CheckAllVersions(const M& m) {
  const ApiInfo* api = FindApi(M::kApiKey);
  ASSERT_NE(api, nullptr);
  for (int16_t v = api->min_version; v <= api->max_version; ++v) {
    SCOPED_TRACE(std::string(api->name) + " v" + std::to_string(v));
    auto bytes = EncodeToString(m, v);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto back = DecodeAll<M>(*bytes, v);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    auto again = EncodeToString(*back, v);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *bytes);
    for (size_t n = 0; n < bytes->size(); ++n) {
      M x;
      Reader r(std::string_view(*bytes).substr(0, n));
      Status st = x.Decode(&r, v);
      EXPECT_FALSE(st.ok()) << "prefix " << n << " of " << bytes->size();
      if (!st.ok()) {
        EXPECT_NE(st.message().find("at byte"), std::string_view::npos) << st.ToString();
      }
    }
  }
  M x;
  Reader r(std::string_view{});
  std::string out;
  Writer w(&out);
  EXPECT_TRUE(x.Decode(&r, api->max_version + 1).IsInvalidArgument());
  EXPECT_TRUE(m.Encode(api->max_version + 1, &w).IsInvalidArgument());
  EXPECT_TRUE(out.empty());
  if (api->min_version > 0) {
    EXPECT_FALSE(x.Decode(&r, api->min_version - 1).ok());
  }
}

#define ROUND_TRIP_TEST(Name)                                                               \
  TEST(MessagesRoundTripTest, Name##Request) { CheckAllVersions(Sample##Name##Request()); } \
  TEST(MessagesRoundTripTest, Name##Response) { CheckAllVersions(Sample##Name##Response()); }

ROUND_TRIP_TEST(Produce)
ROUND_TRIP_TEST(Fetch)
ROUND_TRIP_TEST(ListOffsets)
ROUND_TRIP_TEST(Metadata)
ROUND_TRIP_TEST(OffsetCommit)
ROUND_TRIP_TEST(OffsetFetch)
ROUND_TRIP_TEST(FindCoordinator)
ROUND_TRIP_TEST(JoinGroup)
ROUND_TRIP_TEST(Heartbeat)
ROUND_TRIP_TEST(LeaveGroup)
ROUND_TRIP_TEST(SyncGroup)
ROUND_TRIP_TEST(DescribeGroups)
ROUND_TRIP_TEST(ListGroups)
ROUND_TRIP_TEST(ApiVersions)
ROUND_TRIP_TEST(CreateTopics)
ROUND_TRIP_TEST(DeleteTopics)
ROUND_TRIP_TEST(DeleteRecords)
ROUND_TRIP_TEST(InitProducerId)
ROUND_TRIP_TEST(DescribeConfigs)
ROUND_TRIP_TEST(AlterConfigs)
ROUND_TRIP_TEST(CreatePartitions)
ROUND_TRIP_TEST(DeleteGroups)
ROUND_TRIP_TEST(IncrementalAlterConfigs)

// ----------------------------------------------- kafka-python interop bodies

// Decodes `body` as (key, kind, version) with braid and re-encodes it.
Result<std::string> ReencodeBody(int16_t key, int8_t kind, int16_t version, std::string_view body) {
  std::string out;
  auto run = [&](auto msg) -> Status {
    Reader r(body);
    RETURN_IF_ERROR(msg.Decode(&r, version));
    if (!r.empty()) return Status::Corruption(std::to_string(r.remaining()) + " bytes left");
    Writer w(&out);
    return msg.Encode(version, &w);
  };
  Status st;
  switch (static_cast<ApiKey>(key)) {
#define CASE(k, Name)                                              \
  case ApiKey::k:                                                  \
    st = kind == 0 ? run(Name##Request()) : run(Name##Response()); \
    break;
    BRAID_KAFKA_FOR_EACH_API(CASE)
#undef CASE
    default:
      return Status::NotFound("api key " + std::to_string(key));
  }
  RETURN_IF_ERROR(st);
  return out;
}

TEST(KafkaPythonInteropTest, EveryBodyDecodesAndReencodesIdentically) {
  std::string data = ReadTestData("kafka_python_messages.bin");
  ASSERT_FALSE(data.empty());
  Reader r(data);
  int count = 0;
  std::map<int16_t, int> per_key;
  while (!r.empty()) {
    int16_t key = 0, version = 0;
    int8_t kind = 0;
    std::string body;
    ASSERT_TRUE(r.ReadInt16(&key).ok());
    ASSERT_TRUE(r.ReadInt8(&kind).ok());
    ASSERT_TRUE(r.ReadInt16(&version).ok());
    ASSERT_TRUE(r.ReadBytes(&body).ok());
    SCOPED_TRACE(std::string(ApiKeyName(key)) + (kind ? " response" : " request") + " v" +
                 std::to_string(version));
    auto re = ReencodeBody(key, kind, version, body);
    ASSERT_TRUE(re.ok()) << re.status().ToString();
    EXPECT_EQ(*re, body);
    ++count;
    ++per_key[key];
  }
  EXPECT_GE(count, 100);
  EXPECT_GE(per_key.size(), 18u);
}

// ------------------------------------------------------- captured requests

// Splits a captured frame into header and body reader.
struct Frame {
  RequestHeader header;
  std::string bytes;
  size_t body_offset = 0;
};

Frame ParseFrame(const std::string& bytes) {
  Frame f;
  f.bytes = bytes;
  auto size = DecodeFrameSize(bytes, kDefaultMaxFrameSize);
  EXPECT_TRUE(size.ok());
  EXPECT_EQ(static_cast<size_t>(*size) + 4, bytes.size());
  Reader r(std::string_view(bytes).substr(4), 4);
  EXPECT_TRUE(DecodeRequestHeader(&r, &f.header).ok());
  f.body_offset = 4 + r.position();
  return f;
}

TEST(GoldenRequestTest, LibrdkafkaApiVersionsV3) {
  std::string bytes = ReadTestData("rdkafka_api_versions_v3.bin");
  ASSERT_FALSE(bytes.empty());
  Frame f = ParseFrame(bytes);
  EXPECT_EQ(f.header.api_key, 18);
  EXPECT_EQ(f.header.api_version, 3);
  EXPECT_EQ(f.header.header_version, 2);
  EXPECT_EQ(f.header.client_id, "rdkafka");
  auto req = DecodeAll<ApiVersionsRequest>(std::string_view(bytes).substr(f.body_offset), 3);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->client_software_name, "confluent-kafka-python");
  EXPECT_EQ(req->client_software_version.rfind("1.7.0-rdkafka-", 0), 0u);
  // braid's encoder writes the same frame.
  auto again = EncodeRequestFrame(f.header.correlation_id, 3, f.header.client_id, *req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, bytes);
}

TEST(GoldenRequestTest, KafkaPythonProbe) {
  std::string av = ReadTestData("kafka_python_api_versions_v0.bin");
  Frame f = ParseFrame(av);
  EXPECT_EQ(f.header.api_key, 18);
  EXPECT_EQ(f.header.api_version, 0);
  EXPECT_EQ(f.header.correlation_id, 1);
  EXPECT_EQ(f.header.client_id, "kafka-python");
  EXPECT_EQ(f.body_offset, av.size());  // empty body
  auto again = EncodeRequestFrame(1, 0, f.header.client_id, ApiVersionsRequest());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, av);

  std::string md0 = ReadTestData("kafka_python_metadata_v0.bin");
  f = ParseFrame(md0);
  EXPECT_EQ(f.header.api_key, 3);
  auto m0 = DecodeAll<MetadataRequest>(std::string_view(md0).substr(f.body_offset), 0);
  ASSERT_TRUE(m0.ok());
  ASSERT_TRUE(m0->topics.has_value());
  EXPECT_TRUE(m0->topics->empty());  // v0: empty = all topics
  MetadataRequest all;               // nullopt encodes as the empty array at v0
  auto again0 = EncodeRequestFrame(2, 0, std::string("kafka-python"), all);
  ASSERT_TRUE(again0.ok());
  EXPECT_EQ(*again0, md0);

  std::string md1 = ReadTestData("kafka_python_metadata_v1_all.bin");
  f = ParseFrame(md1);
  auto m1 = DecodeAll<MetadataRequest>(std::string_view(md1).substr(f.body_offset), 1);
  ASSERT_TRUE(m1.ok());
  EXPECT_FALSE(m1->topics.has_value());  // v1: null = all topics
  auto again1 = EncodeRequestFrame(3, 1, std::string("kafka-python"), all);
  ASSERT_TRUE(again1.ok());
  EXPECT_EQ(*again1, md1);
}

TEST(GoldenRequestTest, KafkaPythonProduceV7) {
  std::string bytes = ReadTestData("kafka_python_produce_v7.bin");
  Frame f = ParseFrame(bytes);
  EXPECT_EQ(f.header.api_key, 0);
  EXPECT_EQ(f.header.api_version, 7);
  auto req = DecodeAll<ProduceRequest>(std::string_view(bytes).substr(f.body_offset), 7);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_FALSE(req->transactional_id);
  EXPECT_EQ(req->acks, 1);
  EXPECT_EQ(req->timeout_ms, 30000);
  ASSERT_EQ(req->topics.size(), 1u);
  EXPECT_EQ(req->topics[0].name, "events");
  ASSERT_EQ(req->topics[0].partitions.size(), 1u);
  const auto& p = req->topics[0].partitions[0];
  ASSERT_TRUE(p.records);
  auto batches = log::SplitBatches(*p.records);
  ASSERT_TRUE(batches.ok()) << batches.status().ToString();
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_TRUE(log::VerifyBatchRecords((*batches)[0]).ok());
  EXPECT_EQ((*batches)[0].header.record_count, 10);
}

TEST(GoldenRequestTest, LibrdkafkaProduceV7EveryCodec) {
  // Captured from librdkafka 2.0.2 (confluent-kafka-python) by a fake broker
  // advertising braid's table: real librdkafka batches, raw snappy included.
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    SCOPED_TRACE(codec);
    std::string bytes = ReadTestData(std::string("rdkafka_produce_v7_") + codec + ".bin");
    ASSERT_FALSE(bytes.empty());
    Frame f = ParseFrame(bytes);
    EXPECT_EQ(f.header.api_key, 0);
    EXPECT_EQ(f.header.api_version, 7);
    EXPECT_EQ(f.header.client_id, "rdkafka");
    auto req = DecodeAll<ProduceRequest>(std::string_view(bytes).substr(f.body_offset), 7);
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    EXPECT_EQ(req->acks, 1);
    ASSERT_EQ(req->topics.size(), 1u);
    EXPECT_EQ(req->topics[0].name, "t");
    ASSERT_EQ(req->topics[0].partitions.size(), 1u);
    ASSERT_TRUE(req->topics[0].partitions[0].records);
    auto batches = log::SplitBatches(*req->topics[0].partitions[0].records);
    ASSERT_TRUE(batches.ok()) << batches.status().ToString();
    ASSERT_EQ(batches->size(), 1u);
    const log::BatchView& b = (*batches)[0];
    EXPECT_EQ(log::CompressionName(b.header.compression()), codec);
    EXPECT_EQ(b.header.producer_id, ProducerId(-1));
    ASSERT_TRUE(log::VerifyBatchRecords(b).ok());
    auto recs = log::DecodeRecords(b);
    ASSERT_TRUE(recs.ok()) << recs.status().ToString();
    ASSERT_GE(recs->size(), 1u);
    for (size_t i = 0; i < recs->size(); ++i) {
      const log::Record& r = (*recs)[i];
      EXPECT_EQ(r.offset, Offset(static_cast<int64_t>(i)));
      EXPECT_EQ(r.timestamp, 1700000000000 + static_cast<int64_t>(i));
      // (std::string appends, not operator+: g++ 12 -Wrestrict false positive.)
      std::string key = "k";
      key.append(std::to_string(i));
      EXPECT_EQ(r.key, key);
      std::string want;
      for (int k = 0; k < 10; ++k) {
        want.append("librdkafka value ").append(std::to_string(i)).append(" ");
      }
      EXPECT_EQ(r.value, want);
      if (i % 2 == 0) {
        ASSERT_EQ(r.headers.size(), 1u);
        EXPECT_EQ(r.headers[0].key, "hk");
        EXPECT_EQ(r.headers[0].value, std::string("hv").append(std::to_string(i)));
      } else {
        EXPECT_TRUE(r.headers.empty());
      }
    }
    auto again = EncodeRequestFrame(f.header.correlation_id, 7, f.header.client_id, *req);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, bytes);
  }
}

// ------------------------------------------------------ specific encodings

TEST(ApiVersionsTest, ResponseV3BytesAndHeaderV0) {
  ApiVersionsResponse r;
  r.api_keys = {{18, 0, 3}};
  auto frame = EncodeResponseFrame(7, 3, r);
  ASSERT_TRUE(frame.ok());
  // size | corr id (header v0: no tags) | error | compact array (1+1) |
  // key min max + tags | throttle | tags
  EXPECT_EQ(*frame,
            "\x00\x00\x00\x13"
            "\x00\x00\x00\x07"
            "\x00\x00"
            "\x02"
            "\x00\x12\x00\x00\x00\x03\x00"
            "\x00\x00\x00\x00"
            "\x00"s);
  auto v0 = EncodeResponseFrame(7, 0, ApiVersionsResponse::UnsupportedVersion());
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(*v0,
            "\x00\x00\x00\x10"
            "\x00\x00\x00\x07"
            "\x00\x23"
            "\x00\x00\x00\x01"
            "\x00\x12\x00\x00\x00\x03"s);
}

TEST(ApiVersionsTest, V3SkipsUnknownTaggedFields) {
  // Response with SupportedFeatures (tag 0) and an unknown tag 7, plus a tag
  // inside the array element.
  std::string body =
      "\x00\x00"
      "\x02"
      "\x00\x12\x00\x00\x00\x03"
      "\x01\x03\x01z"
      "\x00\x00\x00\x05"
      "\x02\x00\x02\x01\x00\x07\x01q"s;
  auto r = DecodeAll<ApiVersionsResponse>(body, 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->api_keys.size(), 1u);
  EXPECT_EQ(r->api_keys[0].max_version, 3);
  EXPECT_EQ(r->throttle_time_ms, 5);
  // Request v3 with top-level tags.
  std::string req =
      "\x05"
      "name"
      "\x04"
      "1.0"
      "\x01\x02\x00"s;
  auto q = DecodeAll<ApiVersionsRequest>(req, 3);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->client_software_name, "name");
  // Tags out of order are an error.
  std::string bad =
      "\x05"
      "name"
      "\x04"
      "1.0"
      "\x02\x05\x00\x01\x00"s;
  EXPECT_FALSE(DecodeAll<ApiVersionsRequest>(bad, 3).ok());
}

TEST(ApiVersionsTest, SupportedListsTheTable) {
  ApiVersionsResponse r = ApiVersionsResponse::Supported();
  EXPECT_EQ(r.api_keys.size(), SupportedApis().size());
  bool found = false;
  for (const auto& a : r.api_keys) {
    if (a.api_key == 1) {
      found = true;
      EXPECT_EQ(a.min_version, 0);
      EXPECT_EQ(a.max_version, 11);
    }
  }
  EXPECT_TRUE(found);
}

TEST(ProduceTest, ResponseThrottleComesAfterResponses) {
  ProduceResponse r;
  r.responses = {{"t", {{PartitionId(0), ErrorCode::kNone, Offset(5), -1, Offset(0)}}}};
  r.throttle_time_ms = 0x01020304;
  auto b = EncodeToString(r, 7);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->substr(b->size() - 4), "\x01\x02\x03\x04"s);
}

TEST(MetadataTest, NullTopicsPerVersion) {
  MetadataRequest all;
  auto v1 = EncodeToString(all, 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, "\xff\xff\xff\xff"s);
  auto v4 = EncodeToString(all, 4);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*v4, "\xff\xff\xff\xff\x01"s);
  // v0 has no null array.
  EXPECT_FALSE(DecodeAll<MetadataRequest>("\xff\xff\xff\xff"s, 0).ok());
}

TEST(JoinGroupTest, V0HasNoRebalanceTimeout) {
  JoinGroupRequest m = SampleJoinGroupRequest();
  auto b = EncodeToString(m, 0);
  ASSERT_TRUE(b.ok());
  auto back = DecodeAll<JoinGroupRequest>(*b, 0);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->rebalance_timeout_ms, -1);
  EXPECT_EQ(back->session_timeout_ms, 45000);
  EXPECT_FALSE(back->group_instance_id);
  ASSERT_EQ(back->protocols.size(), 2u);
  EXPECT_EQ(back->protocols[0].metadata, "\x00\x01meta"s);
}

TEST(OffsetFetchTest, NullTopicsOnlyFromV2) {
  OffsetFetchRequest m;
  m.group_id = "g";
  EXPECT_TRUE(EncodeToString(m, 1).status().IsInvalidArgument());
  auto b = EncodeToString(m, 2);
  ASSERT_TRUE(b.ok());
  auto back = DecodeAll<OffsetFetchRequest>(*b, 2);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->topics);
}

TEST(EncodeTest, OverlongStringIsAnError) {
  FindCoordinatorRequest m;
  m.key.assign(40000, 'x');
  std::string out = "keep";
  Writer w(&out);
  EXPECT_TRUE(m.Encode(0, &w).IsInvalidArgument());
  EXPECT_EQ(out, "keep");  // nothing appended on failure
}

TEST(DecodeTest, AbsurdArrayCountIsRejectedCheaply) {
  // Fetch v11 request claiming 2^31-1 topics.
  std::string body;
  Writer w(&body);
  w.WriteInt32(-1);
  w.WriteInt32(500);
  w.WriteInt32(1);
  w.WriteInt32(1000);
  w.WriteInt8(0);
  w.WriteInt32(0);
  w.WriteInt32(-1);
  w.WriteInt32(INT32_MAX);
  FetchRequest f;
  Reader r(body);
  Status st = f.Decode(&r, 11);
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("at byte 25"), std::string_view::npos) << st.ToString();
}

}  // namespace
}  // namespace braid::kafka
