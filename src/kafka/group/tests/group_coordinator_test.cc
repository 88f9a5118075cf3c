#include "kafka/group/group_coordinator.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "io/memory_file_system.h"

namespace braid::kafka {
namespace {

struct JoinBox {
  std::optional<JoinGroupResult> r;
};
struct SyncBox {
  std::optional<SyncGroupResult> r;
};

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(int32_t initial_delay_ms = 0) {
    coord_.reset();
    log_.reset();
    log::LogOptions lo;
    lo.fs = &fs_;
    lo.clock = &clock_;
    auto log = log::Log::Open("/data/log", lo);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    if (!log_->HasTopic("t")) {
      ASSERT_TRUE(log_->CreateTopic("t", 3).ok());
    }
    GroupCoordinatorOptions o;
    o.log = log_.get();
    o.store.num_partitions = 4;
    o.initial_rebalance_delay_ms = initial_delay_ms;
    o.offsets_retention_ms = retention_ms_;
    o.offsets_retention_check_interval_ms = 1000;
    coord_ = std::make_unique<GroupCoordinator>(&fs_, &clock_, o);
    ASSERT_TRUE(coord_->Open().ok());
  }

  std::shared_ptr<JoinBox> Join(const std::string& member_id, uint64_t conn = 1, bool v4 = false,
                                std::optional<std::string> instance = {},
                                std::vector<std::pair<std::string, std::string>> protocols = {
                                    {"range", "meta-r"}, {"roundrobin", "meta-rr"}}) {
    JoinGroupParams p;
    p.group_id = "g";
    p.member_id = member_id;
    p.group_instance_id = instance;
    p.client_id = "client";
    p.client_host = "/127.0.0.1";
    p.session_timeout_ms = 10000;
    p.rebalance_timeout_ms = 30000;
    p.protocol_type = "consumer";
    p.protocols = protocols;
    p.require_known_member_id = v4;
    p.connection_id = conn;
    auto box = std::make_shared<JoinBox>();
    coord_->JoinGroup(p, [box](JoinGroupResult r) {
      EXPECT_FALSE(box->r.has_value()) << "callback called twice";
      box->r = std::move(r);
    });
    return box;
  }

  std::shared_ptr<SyncBox> Sync(const std::string& member_id, int32_t gen,
                                std::vector<std::pair<std::string, std::string>> a = {},
                                uint64_t conn = 1) {
    SyncGroupParams p;
    p.group_id = "g";
    p.member_id = member_id;
    p.generation_id = GenerationId(gen);
    p.assignments = std::move(a);
    p.connection_id = conn;
    auto box = std::make_shared<SyncBox>();
    coord_->SyncGroup(p, [box](SyncGroupResult r) {
      EXPECT_FALSE(box->r.has_value()) << "callback called twice";
      box->r = std::move(r);
    });
    return box;
  }

  ErrorCode Beat(const std::string& member_id, int32_t gen) {
    HeartbeatParams p;
    p.group_id = "g";
    p.member_id = member_id;
    p.generation_id = GenerationId(gen);
    return coord_->Heartbeat(p);
  }

  void Advance(int64_t ms) {
    clock_.AdvanceMillis(ms);
    coord_->Tick();
  }

  std::string State() { return coord_->DescribeGroup("g").state; }

  // One member joins a fresh group and becomes stable; returns its id.
  std::string JoinStableSingle(uint64_t conn = 1) {
    auto j = Join("", conn);
    EXPECT_TRUE(j->r);
    std::string id = j->r->member_id;
    auto s = Sync(id, j->r->generation_id.value(), {{id, "A1"}}, conn);
    EXPECT_TRUE(s->r);
    EXPECT_EQ(s->r->assignment, "A1");
    return id;
  }

  io::MemoryFileSystem fs_;
  ManualClock clock_;
  int64_t retention_ms_ = 7LL * 24 * 3600 * 1000;
  std::unique_ptr<log::Log> log_;
  std::unique_ptr<GroupCoordinator> coord_;
};

TEST_F(GroupCoordinatorTest, SingleMemberJoinSyncHeartbeat) {
  auto j = Join("");
  ASSERT_TRUE(j->r);
  EXPECT_EQ(j->r->error, ErrorCode::kNone);
  EXPECT_EQ(j->r->generation_id.value(), 1);
  EXPECT_EQ(j->r->leader_id, j->r->member_id);
  EXPECT_EQ(j->r->protocol_name, "range");
  ASSERT_EQ(j->r->members.size(), 1u);
  EXPECT_EQ(j->r->members[0].metadata, "meta-r");
  EXPECT_EQ(State(), "CompletingRebalance");
  std::string id = j->r->member_id;
  EXPECT_EQ(Beat(id, 1), ErrorCode::kNone);
  auto s = Sync(id, 1, {{id, "assign"}});
  ASSERT_TRUE(s->r);
  EXPECT_EQ(s->r->error, ErrorCode::kNone);
  EXPECT_EQ(s->r->assignment, "assign");
  EXPECT_EQ(State(), "Stable");
  EXPECT_EQ(Beat(id, 1), ErrorCode::kNone);
  auto d = coord_->DescribeGroup("g");
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].assignment, "assign");
  EXPECT_EQ(d.protocol_name, "range");
}

TEST_F(GroupCoordinatorTest, MemberIdRequiredForV4) {
  auto j = Join("", 1, /*v4=*/true);
  ASSERT_TRUE(j->r);
  EXPECT_EQ(j->r->error, ErrorCode::kMemberIdRequired);
  ASSERT_FALSE(j->r->member_id.empty());
  EXPECT_EQ(j->r->member_id.rfind("client-", 0), 0u);
  // The pending id blocks nothing: the group is still empty.
  EXPECT_EQ(State(), "Empty");
  auto j2 = Join(j->r->member_id, 1, true);
  ASSERT_TRUE(j2->r);
  EXPECT_EQ(j2->r->error, ErrorCode::kNone);
  EXPECT_EQ(j2->r->member_id, j->r->member_id);
  // An id that was never handed out is unknown.
  auto j3 = Join("made-up", 1, true);
  ASSERT_TRUE(j3->r);
  EXPECT_EQ(j3->r->error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, PendingMemberIdExpires) {
  auto j = Join("", 1, true);
  Advance(10001);
  auto j2 = Join(j->r->member_id, 1, true);
  ASSERT_TRUE(j2->r);
  EXPECT_EQ(j2->r->error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, TwoThenThreeMembers) {
  std::string a = JoinStableSingle(1);
  // B joins: parked until A rejoins.
  auto jb = Join("", 2);
  EXPECT_FALSE(jb->r);
  EXPECT_EQ(State(), "PreparingRebalance");
  EXPECT_EQ(Beat(a, 1), ErrorCode::kRebalanceInProgress);
  auto ja = Join(a, 1);
  ASSERT_TRUE(ja->r);
  ASSERT_TRUE(jb->r);
  EXPECT_EQ(ja->r->generation_id.value(), 2);
  EXPECT_EQ(jb->r->generation_id.value(), 2);
  EXPECT_EQ(ja->r->leader_id, a);  // the old leader stays leader
  EXPECT_EQ(ja->r->members.size(), 2u);
  EXPECT_TRUE(jb->r->members.empty());  // followers get no member list
  std::string b = jb->r->member_id;
  // Follower syncs first: parked until the leader's assignment arrives.
  auto sb = Sync(b, 2);
  EXPECT_FALSE(sb->r);
  auto sa = Sync(a, 2, {{a, "pa"}, {b, "pb"}});
  ASSERT_TRUE(sa->r);
  ASSERT_TRUE(sb->r);
  EXPECT_EQ(sa->r->assignment, "pa");
  EXPECT_EQ(sb->r->assignment, "pb");

  // C joins; both old members must rejoin.
  auto jc = Join("", 3);
  EXPECT_EQ(Beat(b, 2), ErrorCode::kRebalanceInProgress);
  auto jb2 = Join(b, 2);
  EXPECT_FALSE(jb2->r);
  auto ja2 = Join(a, 1);
  ASSERT_TRUE(jc->r && jb2->r && ja2->r);
  EXPECT_EQ(ja2->r->generation_id.value(), 3);
  EXPECT_EQ(ja2->r->members.size(), 3u);
  std::string c = jc->r->member_id;
  auto sc = Sync(c, 3);
  auto sa2 = Sync(a, 3, {{a, "1"}, {b, "2"}});  // leader omitted c
  auto sb2 = Sync(b, 3);
  ASSERT_TRUE(sc->r && sa2->r && sb2->r);
  EXPECT_EQ(sc->r->assignment, "");  // omitted members get empty bytes
  EXPECT_EQ(sb2->r->assignment, "2");
  EXPECT_EQ(State(), "Stable");
}

TEST_F(GroupCoordinatorTest, IllegalGenerationAndUnknownMember) {
  std::string a = JoinStableSingle();
  EXPECT_EQ(Beat(a, 7), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(Beat("nobody", 1), ErrorCode::kUnknownMemberId);
  auto s = Sync(a, 5);
  ASSERT_TRUE(s->r);
  EXPECT_EQ(s->r->error, ErrorCode::kIllegalGeneration);
  auto s2 = Sync("nobody", 1);
  EXPECT_EQ(s2->r->error, ErrorCode::kUnknownMemberId);
  HeartbeatParams p;
  p.group_id = "other";
  p.member_id = a;
  p.generation_id = GenerationId(1);
  EXPECT_EQ(coord_->Heartbeat(p), ErrorCode::kUnknownMemberId);
  auto j = Join("nobody");
  EXPECT_EQ(j->r->error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SyncDuringRebalanceAndWaitingSyncGetsRebalanceInProgress) {
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  auto ja = Join(a, 1);
  std::string b = jb->r->member_id;
  auto sb = Sync(b, 2);  // parked
  EXPECT_FALSE(sb->r);
  // C joins before the leader syncs: B's parked sync is answered 27.
  auto jc = Join("", 3);
  ASSERT_TRUE(sb->r);
  EXPECT_EQ(sb->r->error, ErrorCode::kRebalanceInProgress);
  auto sa = Sync(a, 2, {{a, "x"}});
  EXPECT_EQ(sa->r->error, ErrorCode::kRebalanceInProgress);
}

TEST_F(GroupCoordinatorTest, LeaveTriggersRebalanceAndEmpty) {
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  auto ja = Join(a, 1);
  std::string b = jb->r->member_id;
  Sync(b, 2);
  Sync(a, 2, {{a, "x"}, {b, "y"}});
  auto r = coord_->LeaveGroup("g", {{b, std::nullopt}});
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].second, ErrorCode::kNone);
  EXPECT_EQ(State(), "PreparingRebalance");
  auto ja2 = Join(a, 1);
  ASSERT_TRUE(ja2->r);
  EXPECT_EQ(ja2->r->generation_id.value(), 3);
  EXPECT_EQ(ja2->r->members.size(), 1u);
  r = coord_->LeaveGroup("g", {{a, std::nullopt}});
  EXPECT_EQ(State(), "Empty");
  r = coord_->LeaveGroup("g", {{a, std::nullopt}});
  EXPECT_EQ(r.members[0].second, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SessionTimeoutExpiresMember) {
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  auto ja = Join(a, 1);
  std::string b = jb->r->member_id;
  Sync(b, 2);
  Sync(a, 2, {{a, "x"}, {b, "y"}});
  // A keeps heartbeating, B goes silent.
  for (int i = 0; i < 4; ++i) {
    Advance(3000);
    ErrorCode e = Beat(a, 2);
    if (i < 3) {
      EXPECT_EQ(e, ErrorCode::kNone) << i;
    } else {
      EXPECT_EQ(e, ErrorCode::kRebalanceInProgress);
    }
  }
  auto ja2 = Join(a, 1);
  ASSERT_TRUE(ja2->r);
  EXPECT_EQ(ja2->r->members.size(), 1u);
  EXPECT_EQ(Beat(b, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, RebalanceTimeoutDropsMembersThatDoNotRejoin) {
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  EXPECT_FALSE(jb->r);
  // A heartbeats (keeps its session) but never rejoins: after the rebalance
  // timeout (30 s) B completes alone.
  for (int t = 0; t < 30000; t += 2000) {
    Advance(2000);
    Beat(a, 1);
  }
  Advance(1000);
  ASSERT_TRUE(jb->r);
  EXPECT_EQ(jb->r->error, ErrorCode::kNone);
  EXPECT_EQ(jb->r->members.size(), 1u);
  EXPECT_EQ(jb->r->leader_id, jb->r->member_id);
  EXPECT_EQ(Beat(a, 1), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, DisconnectKeepsMemberUntilSessionTimeout) {
  // Kafka's rule: a closed connection means nothing; a killed consumer
  // leaves after its session timeout.
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  auto ja = Join(a, 1);
  std::string b = jb->r->member_id;
  Sync(b, 2, {}, 2);
  Sync(a, 2, {{a, "x"}, {b, "y"}}, 1);
  coord_->OnConnectionClosed(2);  // B was kill -9'ed
  EXPECT_EQ(State(), "Stable");
  EXPECT_EQ(Beat(a, 2), ErrorCode::kNone);
  // B never heartbeats again: gone after its 10 s session.
  for (int i = 0; i < 3; ++i) {
    Advance(3000);
    EXPECT_EQ(Beat(a, 2), ErrorCode::kNone);
  }
  Advance(1500);
  EXPECT_EQ(Beat(a, 2), ErrorCode::kRebalanceInProgress);
  auto ja2 = Join(a, 1);
  ASSERT_TRUE(ja2->r);
  EXPECT_EQ(ja2->r->members.size(), 1u);
}

TEST_F(GroupCoordinatorTest, RequestsOnNewConnectionsKeepTheMember) {
  // Old kafka-go: JoinGroup, SyncGroup and Heartbeat each on a short-lived
  // connection of its own; current kafka-go rejoins on a new connection.
  auto j = Join("", 1);
  ASSERT_TRUE(j->r);
  std::string a = j->r->member_id;
  coord_->OnConnectionClosed(1);
  auto s = Sync(a, j->r->generation_id.value(), {{a, "A"}}, 2);
  ASSERT_TRUE(s->r);
  EXPECT_EQ(s->r->error, ErrorCode::kNone);
  EXPECT_EQ(s->r->assignment, "A");
  coord_->OnConnectionClosed(2);
  EXPECT_EQ(Beat(a, j->r->generation_id.value()), ErrorCode::kNone);
  auto j2 = Join(a, 3);
  ASSERT_TRUE(j2->r);
  EXPECT_EQ(j2->r->error, ErrorCode::kNone);
  EXPECT_EQ(j2->r->member_id, a);
  // The leader's rejoin starts a new generation (Kafka's rule); a follower's
  // unchanged rejoin in Stable would get the current one.
  EXPECT_EQ(j2->r->generation_id.value(), j->r->generation_id.value() + 1);
}

TEST_F(GroupCoordinatorTest, DisconnectDropsParkedCallbacksButMemberCountsAsJoined) {
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  EXPECT_FALSE(jb->r);
  coord_->OnConnectionClosed(2);
  // B's join is never answered (its connection is gone) but B is a member
  // that joined: the rebalance completes with both, as in Kafka.
  auto ja = Join(a, 1);
  ASSERT_TRUE(ja->r);
  EXPECT_EQ(ja->r->members.size(), 2u);
  EXPECT_FALSE(jb->r);
  // B never syncs nor heartbeats: after its session timeout it is removed
  // and A gets the group alone.
  auto sa = Sync(a, 2, {{a, "x"}}, 1);
  Advance(5000);
  EXPECT_EQ(Beat(a, 2), ErrorCode::kNone);
  Advance(5500);
  EXPECT_EQ(Beat(a, 2), ErrorCode::kRebalanceInProgress);
  auto ja2 = Join(a, 1);
  ASSERT_TRUE(ja2->r);
  EXPECT_EQ(ja2->r->members.size(), 1u);
}

TEST_F(GroupCoordinatorTest, LeaderSyncTimeoutRestartsRebalance) {
  std::string a = JoinStableSingle(1);
  auto jb = Join("", 2);
  auto ja = Join(a, 1);
  std::string b = jb->r->member_id;
  auto sb = Sync(b, 2, {}, 2);
  // The leader never syncs but keeps heartbeating.
  for (int i = 0; i < 11; ++i) {
    Advance(3000);
    Beat(a, 2);
    Beat(b, 2);
  }
  ASSERT_TRUE(sb->r);
  EXPECT_EQ(sb->r->error, ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(Beat(a, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, StaticMemberRejoinKeepsAssignmentWithoutRebalance) {
  auto j = Join("", 1, true, std::string("inst-1"));
  ASSERT_TRUE(j->r);
  EXPECT_EQ(j->r->error, ErrorCode::kNone);  // static members skip MEMBER_ID_REQUIRED
  std::string a = j->r->member_id;
  EXPECT_EQ(a.rfind("inst-1-", 0), 0u);
  auto s = Sync(a, 1, {{a, "mine"}});
  ASSERT_TRUE(s->r);
  // The process restarts (new connection, empty member id, same instance id).
  coord_->OnConnectionClosed(1);  // static members survive a disconnect
  EXPECT_EQ(State(), "Stable");
  auto j2 = Join("", 5, true, std::string("inst-1"));
  ASSERT_TRUE(j2->r);
  EXPECT_EQ(j2->r->error, ErrorCode::kNone);
  EXPECT_EQ(j2->r->generation_id.value(), 1);  // no rebalance
  std::string a2 = j2->r->member_id;
  EXPECT_NE(a2, a);
  auto s2 = Sync(a2, 1, {}, 5);
  ASSERT_TRUE(s2->r);
  EXPECT_EQ(s2->r->assignment, "mine");
  // The old incarnation is fenced / unknown.
  HeartbeatParams hp;
  hp.group_id = "g";
  hp.member_id = a;
  hp.generation_id = GenerationId(1);
  hp.group_instance_id = "inst-1";
  EXPECT_EQ(coord_->Heartbeat(hp), ErrorCode::kFencedInstanceId);
  auto jold = Join(a, 1, true, std::string("inst-1"));
  EXPECT_EQ(jold->r->error, ErrorCode::kFencedInstanceId);
  // Leaving by instance id.
  auto r = coord_->LeaveGroup("g", {{"", std::string("inst-1")}});
  EXPECT_EQ(r.members[0].second, ErrorCode::kNone);
  EXPECT_EQ(State(), "Empty");
}

TEST_F(GroupCoordinatorTest, InconsistentProtocol) {
  JoinStableSingle();
  auto j = Join("", 2, false, std::nullopt, {{"RoundRobinAssigner", "x"}});
  ASSERT_TRUE(j->r);
  EXPECT_EQ(j->r->error, ErrorCode::kInconsistentGroupProtocol);
}

TEST_F(GroupCoordinatorTest, ProtocolVote) {
  auto ja = Join("", 1, false, std::nullopt, {{"roundrobin", "a"}, {"range", "a"}});
  std::string a = ja->r->member_id;
  Sync(a, 1, {{a, ""}});
  auto jb = Join("", 2, false, std::nullopt, {{"range", "b"}});
  auto ja2 = Join(a, 1, false, std::nullopt, {{"roundrobin", "a"}, {"range", "a"}});
  ASSERT_TRUE(ja2->r && jb->r);
  EXPECT_EQ(ja2->r->protocol_name, "range");  // the only common protocol
}

TEST_F(GroupCoordinatorTest, InitialRebalanceDelayGathersMembers) {
  Reopen(3000);
  auto ja = Join("", 1);
  EXPECT_FALSE(ja->r);
  Advance(2000);
  auto jb = Join("", 2);
  Advance(2000);  // delay extended by B's join
  EXPECT_FALSE(ja->r);
  Advance(1100);
  ASSERT_TRUE(ja->r && jb->r);
  EXPECT_EQ(ja->r->generation_id.value(), 1);
  EXPECT_EQ(jb->r->generation_id.value(), 1);
  EXPECT_EQ(ja->r->members.size() + jb->r->members.size(), 2u);
}

TEST_F(GroupCoordinatorTest, LoadInProgressBeforeOpen) {
  GroupCoordinatorOptions o;
  o.log = log_.get();
  GroupCoordinator c(&fs_, &clock_, o);
  EXPECT_FALSE(c.IsReady());
  HeartbeatParams p;
  p.group_id = "g";
  EXPECT_EQ(c.Heartbeat(p), ErrorCode::kCoordinatorLoadInProgress);
  auto r = c.OffsetFetch("g", std::vector<TopicPartition>{{"t", PartitionId(0)}});
  EXPECT_EQ(r.error, ErrorCode::kCoordinatorLoadInProgress);
}

TEST_F(GroupCoordinatorTest, InvalidSessionTimeoutAndGroupId) {
  JoinGroupParams p;
  p.group_id = "g";
  p.session_timeout_ms = 10;
  p.protocol_type = "consumer";
  p.protocols = {{"range", ""}};
  ErrorCode got = ErrorCode::kNone;
  coord_->JoinGroup(p, [&](JoinGroupResult r) { got = r.error; });
  EXPECT_EQ(got, ErrorCode::kInvalidSessionTimeout);
  p.group_id = "";
  p.session_timeout_ms = 10000;
  coord_->JoinGroup(p, [&](JoinGroupResult r) { got = r.error; });
  EXPECT_EQ(got, ErrorCode::kInvalidGroupId);
}

// ------------------------------------------------------------ offsets

OffsetCommitParams Commit(int32_t gen, const std::string& member, int64_t offset,
                          std::optional<std::string> meta = "m") {
  OffsetCommitParams p;
  p.group_id = "g";
  p.generation_id = GenerationId(gen);
  p.member_id = member;
  OffsetCommitParams::Partition a;
  a.tp.topic = "t";
  a.tp.partition = PartitionId(0);
  a.offset = Offset(offset);
  a.leader_epoch = 3;
  a.metadata = std::move(meta);
  p.partitions.push_back(a);
  OffsetCommitParams::Partition b;
  b.tp.topic = "t";
  b.tp.partition = PartitionId(1);
  b.offset = Offset(offset + 1);
  p.partitions.push_back(b);
  return p;
}

TEST_F(GroupCoordinatorTest, SimpleCommitAndFetch) {
  auto r = coord_->OffsetCommit(Commit(-1, "", 42, std::string("hello \0 world", 13)));
  ASSERT_EQ(r.partitions.size(), 2u);
  EXPECT_EQ(r.partitions[0].second, ErrorCode::kNone);
  auto f = coord_->OffsetFetch(
      "g", std::vector<TopicPartition>{
               {"t", PartitionId(0)}, {"t", PartitionId(1)}, {"t", PartitionId(2)}});
  ASSERT_EQ(f.partitions.size(), 3u);
  EXPECT_EQ(f.partitions[0].offset.value(), 42);
  EXPECT_EQ(f.partitions[0].leader_epoch, 3);
  EXPECT_EQ(f.partitions[0].metadata, std::string("hello \0 world", 13));
  EXPECT_EQ(f.partitions[1].offset.value(), 43);
  EXPECT_EQ(f.partitions[1].metadata, "");
  EXPECT_EQ(f.partitions[2].offset.value(), -1);
  EXPECT_EQ(f.partitions[2].metadata, "");
  EXPECT_EQ(f.partitions[2].error, ErrorCode::kNone);
  auto all = coord_->OffsetFetch("g", std::nullopt);
  EXPECT_EQ(all.partitions.size(), 2u);
  auto none = coord_->OffsetFetch("unknown", std::vector<TopicPartition>{{"t", PartitionId(0)}});
  EXPECT_EQ(none.partitions[0].offset.value(), -1);
}

TEST_F(GroupCoordinatorTest, CommitValidation) {
  // Unknown group with a generation: illegal generation.
  auto r = coord_->OffsetCommit(Commit(3, "x", 1));
  EXPECT_EQ(r.partitions[0].second, ErrorCode::kIllegalGeneration);
  std::string a = JoinStableSingle();
  EXPECT_EQ(coord_->OffsetCommit(Commit(1, a, 5)).partitions[0].second, ErrorCode::kNone);
  EXPECT_EQ(coord_->OffsetCommit(Commit(2, a, 5)).partitions[0].second,
            ErrorCode::kIllegalGeneration);
  EXPECT_EQ(coord_->OffsetCommit(Commit(1, "zz", 5)).partitions[0].second,
            ErrorCode::kUnknownMemberId);
  // Simple commit into a non-empty group (e.g. reset-offsets on a live group).
  EXPECT_EQ(coord_->OffsetCommit(Commit(-1, "", 5)).partitions[0].second,
            ErrorCode::kUnknownMemberId);
  // Metadata too large.
  auto p = Commit(1, a, 5, std::string(5000, 'x'));
  auto rr = coord_->OffsetCommit(p);
  EXPECT_EQ(rr.partitions[0].second, ErrorCode::kOffsetMetadataTooLarge);
  EXPECT_EQ(rr.partitions[1].second, ErrorCode::kNone);
  // During CompletingRebalance: rebalance in progress. During Preparing: ok.
  auto jb = Join("", 2);
  EXPECT_EQ(coord_->OffsetCommit(Commit(1, a, 6)).partitions[0].second, ErrorCode::kNone);
  Join(a, 1);
  EXPECT_EQ(coord_->OffsetCommit(Commit(2, a, 7)).partitions[0].second,
            ErrorCode::kRebalanceInProgress);
}

TEST_F(GroupCoordinatorTest, CommitToUnknownTopicOrPartitionFailsPerPartition) {
  OffsetCommitParams p = Commit(-1, "", 5);
  OffsetCommitParams::Partition missing;
  missing.tp = {"nope", PartitionId(0)};
  missing.offset = Offset(1);
  p.partitions.push_back(missing);
  missing.tp = {"t", PartitionId(9)};  // the topic has 3 partitions
  p.partitions.push_back(missing);
  auto r = coord_->OffsetCommit(p);
  ASSERT_EQ(r.partitions.size(), 4u);
  EXPECT_EQ(r.partitions[0].second, ErrorCode::kNone);
  EXPECT_EQ(r.partitions[1].second, ErrorCode::kNone);
  EXPECT_EQ(r.partitions[2].second, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(r.partitions[3].second, ErrorCode::kUnknownTopicOrPartition);
  auto f = coord_->OffsetFetch("g", std::nullopt);
  EXPECT_EQ(f.partitions.size(), 2u);
}

TEST_F(GroupCoordinatorTest, GenerationsContinueAfterRestart) {
  std::string a = JoinStableSingle();  // generation 1, recorded when stable
  Reopen();
  auto j = Join("");
  ASSERT_TRUE(j->r);
  EXPECT_EQ(j->r->generation_id.value(), 2);
}

TEST_F(GroupCoordinatorTest, OffsetsSurviveRestart) {
  std::string a = JoinStableSingle();
  ASSERT_EQ(coord_->OffsetCommit(Commit(1, a, 100, std::string("meta"))).partitions[0].second,
            ErrorCode::kNone);
  ASSERT_EQ(coord_->OffsetCommit(Commit(1, a, 200, std::string("meta2"))).partitions[0].second,
            ErrorCode::kNone);
  fs_.SimulateCrash();  // commits are synced before they are acknowledged
  Reopen();
  auto f = coord_->OffsetFetch(
      "g", std::vector<TopicPartition>{{"t", PartitionId(0)}, {"t", PartitionId(1)}});
  EXPECT_EQ(f.partitions[0].offset.value(), 200);
  EXPECT_EQ(f.partitions[0].metadata, "meta2");
  EXPECT_EQ(f.partitions[1].offset.value(), 201);
  // The group is known (Empty) after the restart; members must rejoin.
  EXPECT_EQ(State(), "Empty");
  EXPECT_EQ(Beat(a, 1), ErrorCode::kUnknownMemberId);
  auto groups = coord_->ListGroups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].protocol_type, "consumer");
}

TEST_F(GroupCoordinatorTest, RetentionOfEmptyGroup) {
  retention_ms_ = 60'000;
  Reopen();
  std::string a = JoinStableSingle();
  coord_->OffsetCommit(Commit(1, a, 10));
  // Active groups keep their offsets however old.
  for (int i = 0; i < 30; ++i) {
    Advance(3000);
    ASSERT_EQ(Beat(a, 1), ErrorCode::kNone);
  }
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 2u);
  coord_->LeaveGroup("g", {{a, std::nullopt}});
  Advance(59'000);
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 2u);
  Advance(2000);
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 0u);
  EXPECT_EQ(coord_->GroupCount(), 0u);
  Reopen();
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 0u);
}

TEST_F(GroupCoordinatorTest, RetentionClockSurvivesRestart) {
  retention_ms_ = 60'000;
  Reopen();
  coord_->OffsetCommit(Commit(-1, "", 10));  // simple group: from the commit time
  Advance(40'000);
  Reopen();
  Advance(21'000);
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 0u);
}

TEST_F(GroupCoordinatorTest, DescribeListDelete) {
  EXPECT_EQ(coord_->DeleteGroup("g"), ErrorCode::kGroupIdNotFound);
  EXPECT_EQ(coord_->DescribeGroup("g").state, "Dead");
  std::string a = JoinStableSingle();
  coord_->OffsetCommit(Commit(1, a, 10));
  EXPECT_EQ(coord_->DeleteGroup("g"), ErrorCode::kNonEmptyGroup);
  auto l = coord_->ListGroups({"stable"});
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].state, "Stable");
  EXPECT_TRUE(coord_->ListGroups({"Empty"}).empty());
  coord_->LeaveGroup("g", {{a, std::nullopt}});
  EXPECT_EQ(coord_->DeleteGroup("g"), ErrorCode::kNone);
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 0u);
  Reopen();
  EXPECT_EQ(coord_->GroupCount(), 0u);
}

TEST_F(GroupCoordinatorTest, TopicDeletionRemovesOffsets) {
  coord_->OffsetCommit(Commit(-1, "", 10));
  coord_->OnTopicDeleted("t");
  EXPECT_EQ(coord_->OffsetFetch("g", std::nullopt).partitions.size(), 0u);
}

TEST_F(GroupCoordinatorTest, CallbackMayReenter) {
  JoinGroupParams p;
  p.group_id = "g";
  p.session_timeout_ms = 10000;
  p.protocol_type = "consumer";
  p.protocols = {{"range", ""}};
  bool synced = false;
  coord_->JoinGroup(p, [&](JoinGroupResult r) {
    SyncGroupParams s;
    s.group_id = "g";
    s.member_id = r.member_id;
    s.generation_id = r.generation_id;
    s.assignments = {{r.member_id, "x"}};
    coord_->SyncGroup(s, [&](SyncGroupResult sr) { synced = sr.error == ErrorCode::kNone; });
  });
  EXPECT_TRUE(synced);
}

}  // namespace
}  // namespace braid::kafka
