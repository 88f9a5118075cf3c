#include "kafka/group/group_handlers.h"

#include <gtest/gtest.h>

#include <optional>

#include "io/memory_file_system.h"

namespace braid::kafka {
namespace {

// Encodes a response at `version` and decodes it back (catches fields the
// version cannot carry, e.g. null where null is not allowed).
template <typename Resp>
Resp RoundTrip(const Resp& r, int16_t version) {
  std::string buf;
  Writer w(&buf);
  Status s = r.Encode(version, &w);
  EXPECT_TRUE(s.ok()) << s.ToString();
  Reader rd(buf);
  Resp out;
  s = out.Decode(&rd, version);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class GroupHandlersTest : public ::testing::Test {
 protected:
  GroupHandlersTest() {
    log::LogOptions lo;
    lo.fs = &fs_;
    lo.clock = &clock_;
    log_ = std::move(*log::Log::Open("/data/log", lo));
    EXPECT_TRUE(log_->CreateTopic("t", 2).ok());
    GroupCoordinatorOptions o;
    o.log = log_.get();
    o.store.num_partitions = 2;
    o.initial_rebalance_delay_ms = 0;
    coord_ = std::make_unique<GroupCoordinator>(&fs_, &clock_, o);
    ids_ = *ProducerIdManager::Open(&fs_, "/data/producer_ids");
    h_ = std::make_unique<GroupHandlers>(coord_.get(), ids_.get(), [] {
      return CoordinatorEndpoint{0, "127.0.0.1", 9092};
    });
  }
  GroupRequestContext Ctx(int16_t v, uint64_t conn = 1) {
    return GroupRequestContext{v, conn, "rdkafka", "127.0.0.1:5555"};
  }
  std::optional<JoinGroupResponse> Join(int16_t v, const std::string& member) {
    JoinGroupRequest req;
    req.group_id = "g";
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = v >= 1 ? 30000 : -1;
    req.member_id = member;
    req.protocol_type = "consumer";
    req.protocols = {{"range", std::string("\x00\x01", 2)}};
    std::optional<JoinGroupResponse> out;
    h_->JoinGroup(Ctx(v), req, [&](const JoinGroupResponse& r) { out = RoundTrip(r, v); });
    return out;
  }

  io::MemoryFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<GroupCoordinator> coord_;
  std::unique_ptr<ProducerIdManager> ids_;
  std::unique_ptr<GroupHandlers> h_;
};

TEST_F(GroupHandlersTest, CoordinatorNotAvailableUntilOpen) {
  FindCoordinatorRequest req;
  req.key = "g";
  auto r = h_->FindCoordinator(Ctx(0), req);
  EXPECT_EQ(r.error_code, ErrorCode::kCoordinatorNotAvailable);
  ASSERT_TRUE(coord_->Open().ok());
  r = RoundTrip(h_->FindCoordinator(Ctx(2), req), 2);
  EXPECT_EQ(r.error_code, ErrorCode::kNone);
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.port, 9092);
  RoundTrip(h_->FindCoordinator(Ctx(0), req), 0);
}

TEST_F(GroupHandlersTest, FullCycleAtEveryVersion) {
  ASSERT_TRUE(coord_->Open().ok());
  // v5 (librdkafka): MEMBER_ID_REQUIRED, then the real join.
  auto j = Join(5, "");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->error_code, ErrorCode::kMemberIdRequired);
  auto j2 = Join(5, j->member_id);
  ASSERT_TRUE(j2);
  EXPECT_EQ(j2->error_code, ErrorCode::kNone);
  ASSERT_EQ(j2->members.size(), 1u);
  EXPECT_EQ(j2->members[0].metadata, std::string("\x00\x01", 2));
  std::string id = j2->member_id;

  SyncGroupRequest sreq;
  sreq.group_id = "g";
  sreq.generation_id = j2->generation_id;
  sreq.member_id = id;
  sreq.assignments = {{id, "ASSIGN"}};
  std::optional<SyncGroupResponse> s;
  h_->SyncGroup(Ctx(3), sreq, [&](const SyncGroupResponse& r) { s = RoundTrip(r, 3); });
  ASSERT_TRUE(s);
  EXPECT_EQ(s->assignment, "ASSIGN");

  for (int16_t v = 0; v <= 3; ++v) {
    HeartbeatRequest hb;
    hb.group_id = "g";
    hb.generation_id = j2->generation_id;
    hb.member_id = id;
    EXPECT_EQ(RoundTrip(h_->Heartbeat(Ctx(v), hb), v).error_code, ErrorCode::kNone);
  }

  for (int16_t v = 0; v <= 7; ++v) {
    OffsetCommitRequest oc;
    oc.group_id = "g";
    oc.generation_id = j2->generation_id;
    oc.member_id = id;
    oc.topics = {{"t", {{PartitionId(0), Offset(10 + v), -1, -1, std::string("meta")}}}};
    auto r = RoundTrip(h_->OffsetCommit(Ctx(v), oc), v);
    ASSERT_EQ(r.topics.size(), 1u);
    // v0 is a simple commit: refused while the group has members.
    EXPECT_EQ(r.topics[0].partitions[0].error_code,
              v == 0 ? ErrorCode::kUnknownMemberId : ErrorCode::kNone)
        << v;
  }
  for (int16_t v = 1; v <= 5; ++v) {
    OffsetFetchRequest of;
    of.group_id = "g";
    of.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {0, 1}}};
    auto r = RoundTrip(h_->OffsetFetch(Ctx(v), of), v);
    ASSERT_EQ(r.topics.size(), 1u);
    ASSERT_EQ(r.topics[0].partitions.size(), 2u);
    EXPECT_EQ(r.topics[0].partitions[0].committed_offset, Offset(17));
    EXPECT_EQ(r.topics[0].partitions[0].metadata, "meta");
    EXPECT_EQ(r.topics[0].partitions[1].committed_offset, Offset(-1));
    if (v >= 2) {
      of.topics.reset();
      r = RoundTrip(h_->OffsetFetch(Ctx(v), of), v);
      ASSERT_EQ(r.topics.size(), 1u);
      EXPECT_EQ(r.topics[0].partitions.size(), 1u);
    }
  }
  for (int16_t v = 0; v <= 4; ++v) {
    DescribeGroupsRequest d;
    d.groups = {"g", "nope"};
    auto r = RoundTrip(h_->DescribeGroups(Ctx(v), d), v);
    ASSERT_EQ(r.groups.size(), 2u);
    EXPECT_EQ(r.groups[0].group_state, "Stable");
    EXPECT_EQ(r.groups[0].protocol_data, "range");
    ASSERT_EQ(r.groups[0].members.size(), 1u);
    EXPECT_EQ(r.groups[0].members[0].member_assignment, "ASSIGN");
    EXPECT_EQ(r.groups[0].members[0].client_host, "/127.0.0.1");
    EXPECT_EQ(r.groups[1].group_state, "Dead");
  }
  for (int16_t v = 0; v <= 2; ++v) {
    auto r = RoundTrip(h_->ListGroups(Ctx(v), ListGroupsRequest{}), v);
    ASSERT_EQ(r.groups.size(), 1u);
    EXPECT_EQ(r.groups[0].protocol_type, "consumer");
  }
  DeleteGroupsRequest del;
  del.groups_names = {"g", "nope"};
  auto dr = RoundTrip(h_->DeleteGroups(Ctx(1), del), 1);
  EXPECT_EQ(dr.results[0].error_code, ErrorCode::kNonEmptyGroup);
  EXPECT_EQ(dr.results[1].error_code, ErrorCode::kGroupIdNotFound);

  LeaveGroupRequest lv;
  lv.group_id = "g";
  lv.member_id = id;
  EXPECT_EQ(RoundTrip(h_->LeaveGroup(Ctx(1), lv), 1).error_code, ErrorCode::kNone);
  EXPECT_EQ(RoundTrip(h_->LeaveGroup(Ctx(0), lv), 0).error_code, ErrorCode::kUnknownMemberId);
  dr = RoundTrip(h_->DeleteGroups(Ctx(0), del), 0);
  EXPECT_EQ(dr.results[0].error_code, ErrorCode::kNone);
}

TEST_F(GroupHandlersTest, JoinV0UsesSessionTimeoutAsRebalanceTimeout) {
  ASSERT_TRUE(coord_->Open().ok());
  auto a = Join(0, "");
  ASSERT_TRUE(a && a->error_code == ErrorCode::kNone);
  SyncGroupRequest sreq;
  sreq.group_id = "g";
  sreq.generation_id = a->generation_id;
  sreq.member_id = a->member_id;
  h_->SyncGroup(Ctx(0), sreq, [](const SyncGroupResponse&) {});
  // B joins; A never rejoins (but heartbeats): the join phase ends after the
  // session timeout (10 s), not never.
  JoinGroupRequest req;
  req.group_id = "g";
  req.session_timeout_ms = 10000;
  req.protocol_type = "consumer";
  req.protocols = {{"range", ""}};
  std::optional<JoinGroupResponse> b;
  h_->JoinGroup(Ctx(0, 2), req, [&](const JoinGroupResponse& r) { b = r; });
  for (int i = 0; i < 6 && !b; ++i) {
    clock_.AdvanceMillis(2000);
    HeartbeatRequest hb;
    hb.group_id = "g";
    hb.generation_id = a->generation_id;
    hb.member_id = a->member_id;
    h_->Heartbeat(Ctx(0), hb);
    coord_->Tick();
  }
  ASSERT_TRUE(b);
  EXPECT_EQ(b->error_code, ErrorCode::kNone);
  EXPECT_EQ(b->members.size(), 1u);
}

TEST_F(GroupHandlersTest, OffsetFetchV1CarriesLoadErrorPerPartition) {
  OffsetFetchRequest of;
  of.group_id = "g";
  of.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {0}}};
  auto r = RoundTrip(h_->OffsetFetch(Ctx(1), of), 1);
  EXPECT_EQ(r.topics[0].partitions[0].error_code, ErrorCode::kCoordinatorLoadInProgress);
}

TEST_F(GroupHandlersTest, InitProducerId) {
  InitProducerIdRequest req;
  auto a = RoundTrip(h_->InitProducerId(Ctx(1), req), 1);
  auto b = RoundTrip(h_->InitProducerId(Ctx(0), req), 0);
  EXPECT_EQ(a.error_code, ErrorCode::kNone);
  EXPECT_GE(a.producer_id.value(), 0);
  EXPECT_NE(a.producer_id, b.producer_id);
  EXPECT_EQ(a.producer_epoch, ProducerEpoch(0));
  req.transactional_id = "tx";
  EXPECT_EQ(h_->InitProducerId(Ctx(1), req).error_code, ErrorCode::kInvalidRequest);
}

TEST(ClientHostTest, Forms) {
  EXPECT_EQ(GroupHandlers::ClientHost("127.0.0.1:5000"), "/127.0.0.1");
  EXPECT_EQ(GroupHandlers::ClientHost("[::1]:5000"), "/::1");
}

}  // namespace
}  // namespace braid::kafka
