#include "kafka/server/broker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "kafka/group/producer_state.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/messages.h"
#include "kafka/server/tests/test_client.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

using Client = TestClient;

std::string Batch(int n, int64_t ts = 1700000000000) {
  log::BatchBuilder b;
  for (int i = 0; i < n; ++i) b.Add(ts + i, std::string("k"), "value-" + std::to_string(i));
  return *b.Build();
}

ProduceRequest MakeProduce(const std::string& topic, std::string records, int16_t acks = 1) {
  ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 1000;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = PartitionId(0);
  p.records = std::move(records);
  return req;
}

FetchRequest MakeFetch(const std::string& topic, int64_t offset, int32_t max_wait_ms,
                       int32_t min_bytes = 1) {
  FetchRequest req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = PartitionId(0);
  p.fetch_offset = Offset(offset);
  p.partition_max_bytes = 1 << 20;
  return req;
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("broker_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto log = log::Log::Open(dir_.string());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    BrokerOptions o;
    o.listen = "127.0.0.1:0";
    o.cluster_id = "test-cluster";
    o.max_frame_bytes = 4 << 20;
    broker_ = std::make_unique<Broker>(o, log_.get(), &metrics_);
    ASSERT_TRUE(broker_->Start().ok());
  }
  void TearDown() override {
    broker_.reset();
    ASSERT_TRUE(log_->Close().ok());
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  metrics::Registry metrics_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(BrokerTest, ApiVersionsAdvertisesOnlyImplementedApis) {
  Client c(broker_->port());
  auto resp = c.Call<ApiVersionsResponse>(3, ApiVersionsRequest{"librdkafka", "2.0.2"});
  EXPECT_EQ(resp.error_code, ErrorCode::kNone);
  bool produce = false, find_coordinator = false;
  for (const auto& k : resp.api_keys) {
    if (k.api_key == 0) {
      produce = true;
      EXPECT_EQ(k.min_version, FindApi(ApiKey::kProduce)->min_version);
      EXPECT_EQ(k.max_version, 7);
    }
    if (k.api_key == 10) find_coordinator = true;
  }
  EXPECT_TRUE(produce);
  EXPECT_FALSE(find_coordinator);
  // v0 too (kafka-python), pipelined with Metadata v0.
  c.Send(0, ApiVersionsRequest{});
  c.Send(0, MetadataRequest{});
  EXPECT_EQ(c.Receive<ApiVersionsResponse>(0).error_code, ErrorCode::kNone);
  auto md = c.Receive<MetadataResponse>(0);
  ASSERT_EQ(md.brokers.size(), 1u);
  EXPECT_EQ(md.brokers[0].port, broker_->port());
}

TEST_F(BrokerTest, ApiVersionsTooNewGetsV0ErrorResponse) {
  Client c(broker_->port());
  // ApiVersions v9, flexible header v2: client id + empty tags, empty body tags.
  std::string body;
  Writer w(&body);
  w.WriteInt16(18);
  w.WriteInt16(9);
  w.WriteInt32(7);
  w.WriteNullableString(std::string("x"));
  w.WriteEmptyTaggedFields();
  w.WriteEmptyTaggedFields();
  std::string frame;
  Writer fw(&frame);
  fw.WriteInt32(static_cast<int32_t>(body.size()));
  fw.WriteRaw(body);
  c.SendRaw(frame);
  int32_t corr = 0;
  auto resp = c.Receive<ApiVersionsResponse>(0, &corr);
  EXPECT_EQ(corr, 7);
  EXPECT_EQ(resp.error_code, ErrorCode::kUnsupportedVersion);
  ASSERT_EQ(resp.api_keys.size(), 1u);
  EXPECT_EQ(resp.api_keys[0].api_key, 18);
}

TEST_F(BrokerTest, ProduceFetchListOffsets) {
  Client c(broker_->port());
  MetadataRequest md_req;
  md_req.topics = std::vector<std::string>{"events"};
  auto md = c.Call<MetadataResponse>(4, md_req);
  ASSERT_EQ(md.topics.size(), 1u);
  EXPECT_EQ(md.topics[0].error_code, ErrorCode::kNone);
  ASSERT_EQ(md.topics[0].partitions.size(), 1u);
  EXPECT_EQ(md.topics[0].partitions[0].leader_id, NodeId(0));
  EXPECT_EQ(md.cluster_id, "test-cluster");

  auto pr = c.Call<ProduceResponse>(7, MakeProduce("events", Batch(3)));
  ASSERT_EQ(pr.responses.size(), 1u);
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(pr.responses[0].partitions[0].base_offset, Offset(0));
  pr = c.Call<ProduceResponse>(7, MakeProduce("events", Batch(2, 1700000001000)));
  EXPECT_EQ(pr.responses[0].partitions[0].base_offset, Offset(3));

  // acks=0: no response; the next response is the Fetch's.
  c.Send(7, MakeProduce("events", Batch(1, 1700000002000), 0));
  auto fr = c.Call<FetchResponse>(11, MakeFetch("events", 4, 500));
  ASSERT_EQ(fr.responses.size(), 1u);
  const auto& fp = fr.responses[0].partitions[0];
  EXPECT_EQ(fp.error_code, ErrorCode::kNone);
  EXPECT_EQ(fp.high_watermark, Offset(6));
  EXPECT_EQ(fp.last_stable_offset, Offset(6));
  EXPECT_EQ(fp.log_start_offset, Offset(0));
  EXPECT_EQ(fp.preferred_read_replica, -1);
  // Offset 4 is inside the second batch: it is returned whole (base 3).
  auto batches = log::SplitBatches(*fp.records);
  ASSERT_TRUE(batches.ok()) << batches.status().ToString();
  ASSERT_GE(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].header.base_offset, Offset(3));

  // Out of range.
  fr = c.Call<FetchResponse>(11, MakeFetch("events", 100, 0));
  EXPECT_EQ(fr.responses[0].partitions[0].error_code, ErrorCode::kOffsetOutOfRange);
  // Unknown topic.
  fr = c.Call<FetchResponse>(4, MakeFetch("nope", 0, 0));
  EXPECT_EQ(fr.responses[0].partitions[0].error_code, ErrorCode::kUnknownTopicOrPartition);

  ListOffsetsRequest lo;
  auto& lt = lo.topics.emplace_back();
  lt.name = "events";
  lt.partitions.push_back({PartitionId(0), -1, kListOffsetsEarliest, 1});
  lt.partitions.push_back({PartitionId(0), -1, kListOffsetsLatest, 1});
  lt.partitions.push_back({PartitionId(0), -1, 1700000001001, 1});
  lt.partitions.push_back({PartitionId(0), -1, 1800000000000, 1});
  auto lr = c.Call<ListOffsetsResponse>(2, lo);
  ASSERT_EQ(lr.topics[0].partitions.size(), 4u);
  EXPECT_EQ(lr.topics[0].partitions[0].offset, Offset(0));
  EXPECT_EQ(lr.topics[0].partitions[1].offset, Offset(6));
  EXPECT_EQ(lr.topics[0].partitions[2].offset, Offset(4));
  EXPECT_EQ(lr.topics[0].partitions[2].timestamp, 1700000001001);
  EXPECT_EQ(lr.topics[0].partitions[3].offset, Offset(-1));
}

TEST_F(BrokerTest, FetchLongPollWakesOnAppendAndHonoursMaxWait) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  Client consumer(broker_->port());
  Client producer(broker_->port());
  auto start = std::chrono::steady_clock::now();
  auto fr = consumer.Call<FetchResponse>(11, MakeFetch("t", 0, 300));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_TRUE(fr.responses[0].partitions[0].records->empty());

  start = std::chrono::steady_clock::now();
  consumer.Send(11, MakeFetch("t", 0, 10000));
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto pr = producer.Call<ProduceResponse>(7, MakeProduce("t", Batch(1)));
    EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
  });
  fr = consumer.Receive<FetchResponse>(11);
  waited = std::chrono::steady_clock::now() - start;
  t.join();
  EXPECT_LT(waited, std::chrono::milliseconds(5000));
  EXPECT_FALSE(fr.responses[0].partitions[0].records->empty());
  EXPECT_EQ(fr.responses[0].partitions[0].high_watermark, Offset(1));
}

TEST_F(BrokerTest, StopWithParkedFetch) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  Client consumer(broker_->port());
  consumer.Send(11, MakeFetch("t", 0, 30000));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  broker_->Stop();
  EXPECT_TRUE(consumer.AtEof());
}

TEST_F(BrokerTest, DisconnectDropsParkedFetch) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  {
    Client consumer(broker_->port());
    consumer.Send(11, MakeFetch("t", 0, 30000));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The connection is gone: the parked fetch is released (no metric of a
  // 30 s wait, and stop does not wait for it).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("braid_kafka_fetch_latency_seconds_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("braid_kafka_connections 0"), std::string::npos) << text;
}

TEST_F(BrokerTest, ProduceErrors) {
  Client c(broker_->port());
  // Bad CRC: CORRUPT_MESSAGE and nothing appended.
  std::string bad = Batch(2);
  bad[bad.size() - 1] ^= 0x5a;
  auto pr = c.Call<ProduceResponse>(7, MakeProduce("p", bad));
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kCorruptMessage);
  auto p = log_->GetPartition("p", PartitionId(0));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->log_end_offset(), Offset(0));
  // Too large for max.message.bytes.
  ASSERT_TRUE(log_->CreateTopic("small", 1, {{"max.message.bytes", "100"}}).ok());
  pr = c.Call<ProduceResponse>(7, MakeProduce("small", Batch(20)));
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kMessageTooLarge);
  // Two batches in one partition: INVALID_RECORD.
  pr = c.Call<ProduceResponse>(7, MakeProduce("p", Batch(1) + Batch(1)));
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kInvalidRecord);
  // Invalid topic name.
  pr = c.Call<ProduceResponse>(7, MakeProduce("bad/name", Batch(1)));
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kInvalidTopicException);
  // Unknown partition.
  auto req = MakeProduce("p", Batch(1));
  req.topics[0].partitions[0].partition_index = PartitionId(7);
  pr = c.Call<ProduceResponse>(7, req);
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kUnknownTopicOrPartition);
  // Bad acks.
  pr = c.Call<ProduceResponse>(7, MakeProduce("p", Batch(1), 5));
  EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kInvalidRequiredAcks);
  // acks=0 with an error closes the connection.
  c.Send(7, MakeProduce("p", bad, 0));
  EXPECT_TRUE(c.AtEof());
}

TEST_F(BrokerTest, MalformedRequestsCloseTheConnection) {
  {
    Client c(broker_->port());
    c.SendRaw(std::string("\x00\x00\x00\x02\x00\x00", 6));  // truncated header
    EXPECT_TRUE(c.AtEof());
  }
  {
    Client c(broker_->port());
    std::string f;
    Writer w(&f);
    w.WriteInt32(10);
    w.WriteInt16(999);  // unknown key
    w.WriteInt16(0);
    w.WriteInt32(1);
    w.WriteNullableString(std::nullopt);
    c.SendRaw(f);
    EXPECT_TRUE(c.AtEof());
  }
  {
    Client c(broker_->port());
    std::string f;
    Writer w(&f);
    w.WriteInt32(12);
    w.WriteInt16(0);  // Produce
    w.WriteInt16(7);
    w.WriteInt32(1);
    w.WriteNullableString(std::nullopt);
    w.WriteInt16(1);  // truncated body
    c.SendRaw(f);
    EXPECT_TRUE(c.AtEof());
  }
  {
    Client c(broker_->port());
    std::string f;
    Writer w(&f);
    w.WriteInt32(10);
    w.WriteInt16(1);  // Fetch v12 is not advertised
    w.WriteInt16(12);
    w.WriteInt32(1);
    w.WriteNullableString(std::nullopt);
    c.SendRaw(f);
    EXPECT_TRUE(c.AtEof());
  }
  Client c(broker_->port());
  EXPECT_EQ(c.Call<ApiVersionsResponse>(0, ApiVersionsRequest{}).error_code, ErrorCode::kNone);
}

TEST_F(BrokerTest, TopicAdmin) {
  Client c(broker_->port());
  CreateTopicsRequest ct;
  ct.topics.push_back({"a", 3, 1, {}, {{"retention.ms", std::string("1000")}}});
  ct.topics.push_back({"b", -1, 3, {}, {}});
  ct.topics.push_back({"c", 0, 1, {}, {}});
  ct.topics.push_back({"bad name", 1, 1, {}, {}});
  ct.topics.push_back({"d", 1, 1, {}, {{"no.such.config", std::string("1")}}});
  auto cr = c.Call<CreateTopicsResponse>(4, ct);
  ASSERT_EQ(cr.topics.size(), 5u);
  EXPECT_EQ(cr.topics[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(cr.topics[1].error_code, ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(cr.topics[2].error_code, ErrorCode::kInvalidPartitions);
  EXPECT_EQ(cr.topics[3].error_code, ErrorCode::kInvalidTopicException);
  EXPECT_EQ(cr.topics[4].error_code, ErrorCode::kInvalidConfig);
  cr = c.Call<CreateTopicsResponse>(4, ct);
  EXPECT_EQ(cr.topics[0].error_code, ErrorCode::kTopicAlreadyExists);

  CreatePartitionsRequest cp;
  cp.topics.push_back({"a", 5, std::nullopt});
  cp.topics.push_back({"a2", 5, std::nullopt});
  auto cpr = c.Call<CreatePartitionsResponse>(1, cp);
  ASSERT_EQ(cpr.results.size(), 2u);
  EXPECT_EQ(cpr.results[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(cpr.results[1].error_code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(log_->DescribeTopic("a")->partition_count, 5);

  DescribeConfigsRequest dc;
  dc.resources.push_back({kResourceTypeTopic, "a", std::nullopt});
  dc.resources.push_back({kResourceTypeBroker, "0", std::nullopt});
  auto dr = c.Call<DescribeConfigsResponse>(1, dc);
  ASSERT_EQ(dr.results.size(), 2u);
  bool found = false;
  for (const auto& cfg : dr.results[0].configs) {
    if (cfg.name == "retention.ms") {
      found = true;
      EXPECT_EQ(cfg.value, "1000");
      EXPECT_EQ(cfg.config_source, 1);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(dr.results[1].configs.empty());

  AlterConfigsRequest ac;
  ac.resources.push_back({kResourceTypeTopic, "a", {{"segment.bytes", std::string("1024")}}});
  auto ar = c.Call<AlterConfigsResponse>(0, ac);
  EXPECT_EQ(ar.responses[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(log_->DescribeTopic("a")->config.segment_bytes, 1024);

  DeleteTopicsRequest dt;
  dt.topic_names = {"a", "zzz"};
  auto dtr = c.Call<DeleteTopicsResponse>(1, dt);
  EXPECT_EQ(dtr.responses[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(dtr.responses[1].error_code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_FALSE(log_->HasTopic("a"));
}

TEST_F(BrokerTest, DeleteRecordsMovesLogStart) {
  Client c(broker_->port());
  for (int i = 0; i < 3; ++i) {
    auto pr = c.Call<ProduceResponse>(7, MakeProduce("dr", Batch(2)));
    ASSERT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
  }
  DeleteRecordsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = "dr";
  t.partitions.push_back({PartitionId(0), Offset(4)});
  auto resp = c.Call<DeleteRecordsResponse>(1, req);
  EXPECT_EQ(resp.topics[0].partitions[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(resp.topics[0].partitions[0].low_watermark, Offset(4));
  auto fr = c.Call<FetchResponse>(11, MakeFetch("dr", 0, 0));
  EXPECT_EQ(fr.responses[0].partitions[0].error_code, ErrorCode::kOffsetOutOfRange);
  std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("braid_log_start_offset{topic=\"dr\",partition=\"0\"} 4"), std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_kafka_requests_total{api=\"Produce\"} 3"), std::string::npos);
}

// ACLs: each topic of a request is authorized on its own, as Kafka does. The
// test connection is User:ANONYMOUS, allowed everything on topic "a" only.
class BrokerAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("broker_acl_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto log = log::Log::Open((dir_ / "log").string());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    ASSERT_TRUE(log_->CreateTopic("a", 1).ok());
    ASSERT_TRUE(log_->CreateTopic("b", 1).ok());
    auto acls = security::AclStore::Open((dir_ / "security").string());
    ASSERT_TRUE(acls.ok()) << acls.status().ToString();
    acls_ = std::move(acls).value();
    security::AclBinding allow_a;
    allow_a.resource_type = security::ResourceType::kTopic;
    allow_a.resource_name = "a";
    allow_a.principal = "User:ANONYMOUS";
    ASSERT_TRUE(acls_->Add({allow_a}).ok());
    BrokerOptions o;
    o.listen = "127.0.0.1:0";
    o.auto_create_topics = false;
    o.acls = acls_.get();
    broker_ = std::make_unique<Broker>(o, log_.get(), nullptr);
    ASSERT_TRUE(broker_->Start().ok());
  }
  void TearDown() override {
    broker_.reset();
    ASSERT_TRUE(log_->Close().ok());
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<security::AclStore> acls_;
  std::unique_ptr<Broker> broker_;
};

template <typename Topics>
std::map<std::string, ErrorCode> FirstErrors(const Topics& topics) {
  std::map<std::string, ErrorCode> out;
  for (const auto& t : topics) out[t.name] = t.partitions.at(0).error_code;
  return out;
}

TEST_F(BrokerAclTest, DeniedTopicsAreAnsweredTheAllowedServed) {
  Client c(broker_->port());
  ProduceRequest produce = MakeProduce("a", Batch(2));
  produce.topics.push_back(MakeProduce("b", Batch(1)).topics[0]);
  auto pr = c.Call<ProduceResponse>(7, produce);
  const std::map<std::string, ErrorCode> a_ok_b_denied = {
      {"a", ErrorCode::kNone}, {"b", ErrorCode::kTopicAuthorizationFailed}};
  EXPECT_EQ(FirstErrors(pr.responses), a_ok_b_denied);
  EXPECT_EQ((*log_->GetPartition("a", PartitionId(0)))->high_watermark(), Offset(2));
  EXPECT_EQ((*log_->GetPartition("b", PartitionId(0)))->high_watermark(), Offset(0));

  for (int16_t v : {4, 11}) {
    FetchRequest fetch = MakeFetch("a", 0, 0);
    fetch.topics.push_back(MakeFetch("b", 0, 0).topics[0]);
    auto fr = c.Call<FetchResponse>(v, fetch);
    EXPECT_EQ(FirstErrors(fr.responses), a_ok_b_denied) << "v" << v;
    for (const auto& t : fr.responses) {
      const auto& p = t.partitions.at(0);
      if (t.name == "a") {
        EXPECT_EQ(p.high_watermark, Offset(2));
        EXPECT_FALSE(p.records->empty());
      } else {
        EXPECT_EQ(p.high_watermark, Offset(-1));
        EXPECT_TRUE(p.records && p.records->empty());
      }
    }
  }

  for (int16_t v : {0, 1, 3}) {
    ListOffsetsRequest lo;
    for (const char* name : {"b", "a"}) {
      auto& t = lo.topics.emplace_back();
      t.name = name;
      t.partitions.push_back({PartitionId(0), -1, kListOffsetsLatest, 1});
    }
    auto lr = c.Call<ListOffsetsResponse>(v, lo);
    EXPECT_EQ(FirstErrors(lr.topics), a_ok_b_denied) << "v" << v;
    for (const auto& t : lr.topics) {
      if (t.name == "a" && v > 0) {
        EXPECT_EQ(t.partitions[0].offset, Offset(2));
      }
    }
  }

  for (int16_t v : {0, 1}) {
    DescribeConfigsRequest dc;
    dc.resources.push_back({2, "a", std::nullopt});
    dc.resources.push_back({2, "b", std::nullopt});
    dc.resources.push_back({4, "0", std::nullopt});
    auto dr = c.Call<DescribeConfigsResponse>(v, dc);
    std::map<std::string, ErrorCode> got;
    for (const auto& r : dr.results) {
      got[r.resource_name] = r.error_code;
      if (r.resource_name == "a") {
        EXPECT_FALSE(r.configs.empty());
      } else {
        EXPECT_TRUE(r.configs.empty());
      }
    }
    const std::map<std::string, ErrorCode> want = {{"a", ErrorCode::kNone},
                                                   {"b", ErrorCode::kTopicAuthorizationFailed},
                                                   {"0", ErrorCode::kClusterAuthorizationFailed}};
    EXPECT_EQ(got, want) << "v" << v;
  }

  {
    AlterConfigsRequest ac;
    for (const char* name : {"a", "b"}) {
      ac.resources.push_back({2, name, {{"retention.ms", "100000"}}});
    }
    ac.resources.push_back({4, "0", {}});
    auto ar = c.Call<AlterConfigsResponse>(0, ac);
    IncrementalAlterConfigsRequest ic;
    for (const char* name : {"a", "b"}) {
      ic.resources.push_back({2, name, {{"retention.ms", kConfigOpSet, "200000"}}});
    }
    auto ir = c.Call<IncrementalAlterConfigsResponse>(0, ic);
    const std::map<std::string, ErrorCode> want = {{"a", ErrorCode::kNone},
                                                   {"b", ErrorCode::kTopicAuthorizationFailed},
                                                   {"0", ErrorCode::kClusterAuthorizationFailed}};
    std::map<std::string, ErrorCode> got;
    for (const auto& r : ar.responses) got[r.resource_name] = r.error_code;
    EXPECT_EQ(got, want);
    got.clear();
    for (const auto& r : ir.responses) got[r.resource_name] = r.error_code;
    EXPECT_EQ(got, a_ok_b_denied);
  }

  // Only denied parts: answered, and the connection stays open.
  DeleteTopicsRequest dt;
  dt.topic_names = {"b"};
  auto dtr = c.Call<DeleteTopicsResponse>(3, dt);
  ASSERT_EQ(dtr.responses.size(), 1u);
  EXPECT_EQ(dtr.responses[0].error_code, ErrorCode::kTopicAuthorizationFailed);
  CreatePartitionsRequest cp;
  cp.topics.push_back({"b", 3, std::nullopt});
  cp.topics.push_back({"a", 2, std::nullopt});
  auto cpr = c.Call<CreatePartitionsResponse>(1, cp);
  std::map<std::string, ErrorCode> got;
  for (const auto& r : cpr.results) got[r.name] = r.error_code;
  EXPECT_EQ(got, a_ok_b_denied);
  EXPECT_EQ(log_->ListTopics().size(), 2u);
  EXPECT_EQ((*log_->GetPartition("a", PartitionId(1)))->high_watermark(), Offset(0));
  EXPECT_FALSE(log_->GetPartition("b", PartitionId(1)).ok());
}

std::string IdempotentBatch(int64_t pid, int32_t seq, int n) {
  log::BatchBuilderOptions o;
  o.producer_id = ProducerId(pid);
  o.producer_epoch = ProducerEpoch(0);
  o.base_sequence = seq;
  log::BatchBuilder b(o);
  for (int i = 0; i < n; ++i) {
    std::string value = "v";  // not "v" + ...: g++ 12 -Wrestrict false positive
    value += std::to_string(i);
    b.Add(1700000000000 + i, std::string("k"), value);
  }
  return *b.Build();
}

TEST_F(BrokerTest, HooksValidationIdempotenceConnectionCloseTopicDelete) {
  std::string existing_dir = (dir_ / "producer-state").string();
  std::filesystem::create_directories(existing_dir);
  // A partition with an idempotent batch before the hooked broker starts:
  // Start() recovers it, so its retry is a duplicate.
  ASSERT_TRUE(log_->CreateTopic("old", 1).ok());
  {
    Client c(broker_->port());
    auto pr = c.Call<ProduceResponse>(7, MakeProduce("old", IdempotentBatch(7, 0, 2)));
    ASSERT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
  }
  broker_.reset();
  ProducerStateOptions po;
  po.snapshot_dir = existing_dir;
  ProducerStateManager producers(io::DefaultFileSystem(), SystemClock(), po);
  std::mutex mu;
  std::vector<uint64_t> closed;
  std::vector<std::string> deleted;
  BrokerOptions o;
  o.listen = "127.0.0.1:0";
  o.producers = &producers;
  o.on_connection_closed = [&](uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    closed.push_back(id);
  };
  o.on_topic_deleted = [&](const std::string& t) {
    std::lock_guard<std::mutex> lock(mu);
    deleted.push_back(t);
  };
  o.validate_batch = [](std::string_view topic, std::string_view) {
    return topic == "strict" ? Status::InvalidArgument("no") : Status::OK();
  };
  broker_ = std::make_unique<Broker>(o, log_.get(), nullptr);
  ASSERT_TRUE(broker_->Start().ok());
  {
    Client c(broker_->port());
    // Recovered at start: the retry is answered with the original offset.
    auto pr = c.Call<ProduceResponse>(7, MakeProduce("old", IdempotentBatch(7, 0, 2)));
    EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
    EXPECT_EQ(pr.responses[0].partitions[0].base_offset, Offset(0));
    // Validation failure: INVALID_RECORD, nothing appended.
    pr = c.Call<ProduceResponse>(7, MakeProduce("strict", IdempotentBatch(8, 0, 1)));
    EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kInvalidRecord);
    EXPECT_EQ((*log_->GetPartition("strict", PartitionId(0)))->log_end_offset(), Offset(0));
    // New partition (recovered lazily): append, duplicate, gap.
    pr = c.Call<ProduceResponse>(7, MakeProduce("new", IdempotentBatch(9, 0, 3)));
    EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
    pr = c.Call<ProduceResponse>(7, MakeProduce("new", IdempotentBatch(9, 3, 1)));
    EXPECT_EQ(pr.responses[0].partitions[0].base_offset, Offset(3));
    pr = c.Call<ProduceResponse>(7, MakeProduce("new", IdempotentBatch(9, 0, 3)));
    EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kNone);
    EXPECT_EQ(pr.responses[0].partitions[0].base_offset, Offset(0));
    pr = c.Call<ProduceResponse>(7, MakeProduce("new", IdempotentBatch(9, 9, 1)));
    EXPECT_EQ(pr.responses[0].partitions[0].error_code, ErrorCode::kOutOfOrderSequenceNumber);
    EXPECT_EQ((*log_->GetPartition("new", PartitionId(0)))->log_end_offset(), Offset(4));
    EXPECT_EQ(producers.ProducerCount({"new", PartitionId(0)}), 1u);
    DeleteTopicsRequest del;
    del.topic_names = {"new"};
    del.timeout_ms = 1000;
    auto dr = c.Call<DeleteTopicsResponse>(3, del);
    EXPECT_EQ(dr.responses[0].error_code, ErrorCode::kNone);
    EXPECT_EQ(producers.ProducerCount({"new", PartitionId(0)}), 0u);
  }
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!closed.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  broker_.reset();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(closed.size(), 1u);
  EXPECT_EQ(deleted, std::vector<std::string>{"new"});
}

}  // namespace
}  // namespace braid::kafka
