#include "kafka/group/group_coordinator.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "base/log_limiter.h"
#include "base/logging.h"
#include "kafka/protocol/wire.h"

namespace braid::kafka {

enum class GroupState : uint8_t { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };

namespace {

const char* StateName(GroupState s) {
  switch (s) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
  }
  return "Dead";
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string RandomUuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<uint32_t>(a >> 32),
                static_cast<uint32_t>((a >> 16) & 0xffff), static_cast<uint32_t>(a & 0xffff),
                static_cast<uint32_t>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffull));  // NOLINT(runtime/int)
  return buf;
}

JoinGroupResult JoinError(ErrorCode e, const std::string& member_id = "") {
  JoinGroupResult r;
  r.error = e;
  r.member_id = member_id;
  return r;
}

SyncGroupResult SyncError(ErrorCode e) {
  SyncGroupResult r;
  r.error = e;
  return r;
}

}  // namespace

std::vector<std::string> GroupStateNames() {
  return {"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"};
}

struct GroupCoordinator::Member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::vector<std::pair<std::string, std::string>> protocols;
  std::string assignment;
  JoinGroupCallback join_cb;  // parked JoinGroup
  uint64_t join_conn = 0;
  SyncGroupCallback sync_cb;  // parked SyncGroup
  uint64_t sync_conn = 0;
  int64_t deadline_ms = 0;  // session expiry (monotonic)
  uint64_t join_order = 0;

  const std::string* MetadataFor(const std::string& protocol) const {
    for (const auto& [name, meta] : protocols) {
      if (name == protocol) return &meta;
    }
    return nullptr;
  }
};

struct GroupCoordinator::Group {
  std::string id;
  GroupState state = GroupState::kEmpty;
  GenerationId generation{0};
  std::string protocol_type;
  std::string protocol_name;
  std::string leader_id;
  std::map<std::string, Member> members;
  std::map<std::string, std::string> static_members;  // instance id -> member id
  std::map<std::string, int64_t> pending_members;     // member id -> expiry (KIP-394)
  int64_t join_deadline_ms = 0;                       // end of the join phase
  bool in_initial_delay = false;
  int64_t initial_delay_deadline_ms = 0;
  int64_t initial_delay_cap_ms = 0;
  int64_t sync_deadline_ms = 0;     // end of the sync phase
  int64_t empty_since_wall_ms = 0;  // retention base for consumer groups
  // Topics the members subscribe to (consumer protocol, from their metadata
  // for the chosen protocol), known from the end of a join phase; nullopt
  // when unknown or not a consumer group (OffsetDelete's rule).
  std::optional<std::set<std::string>> subscribed_topics;

  bool AllJoined() const {
    return std::all_of(members.begin(), members.end(),
                       [](const auto& kv) { return static_cast<bool>(kv.second.join_cb); });
  }
};

GroupCoordinator::GroupCoordinator(io::FileSystem* fs, Clock* clock,
                                   GroupCoordinatorOptions options)
    : fs_(fs), clock_(clock), options_(std::move(options)) {}

GroupCoordinator::~GroupCoordinator() = default;

Status GroupCoordinator::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_) return Status::FailedPrecondition("group coordinator already open");
  if (options_.log == nullptr) return Status::InvalidArgument("group coordinator needs a log");
  OffsetStoreOptions so = options_.store;
  if (so.legacy_fs == nullptr) so.legacy_fs = fs_;
  ASSIGN_OR_RETURN(store_, OffsetStore::Open(options_.log, clock_, so));
  int64_t now_wall = clock_->NowMillis();
  for (const auto& [id, stored] : store_->groups()) {
    auto g = std::make_unique<Group>();
    g->id = id;
    g->protocol_type = stored.protocol_type();
    // Generations continue where they were (Kafka reloads them too); the
    // members must rejoin.
    if (stored.metadata) g->generation = stored.metadata->generation;
    const int64_t empty_since = stored.empty_since_ms();
    g->empty_since_wall_ms = empty_since >= 0 ? empty_since : now_wall;
    groups_.emplace(id, std::move(g));
  }
  next_retention_check_ms_ = now_wall + options_.offsets_retention_check_interval_ms;
  ready_ = true;
  LOG_INFO("group coordinator loaded {} groups from {} ({} partitions)", groups_.size(),
           kConsumerOffsetsTopic, store_->partition_count());
  return Status::OK();
}

bool GroupCoordinator::IsReady() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

size_t GroupCoordinator::GroupCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_.size();
}

bool GroupCoordinator::IsFenced(const Group* g, const std::optional<std::string>& instance_id,
                                const std::string& member_id) const {
  if (!instance_id) return false;
  auto it = g->static_members.find(*instance_id);
  return it != g->static_members.end() && it->second != member_id;
}

GroupCoordinator::Group* GroupCoordinator::FindGroup(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

GroupCoordinator::Group* GroupCoordinator::GetOrCreateGroup(const std::string& id) {
  auto& slot = groups_[id];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->id = id;
    slot->empty_since_wall_ms = clock_->NowMillis();
  }
  return slot.get();
}

// ---------------------------------------------------------------- JoinGroup

void GroupCoordinator::JoinGroup(JoinGroupParams p, JoinGroupCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto fail = [&](ErrorCode e) {
      out.push_back([done = std::move(done), r = JoinError(e, p.member_id)]() mutable {
        done(std::move(r));
      });
    };
    if (!ready_) {
      fail(ErrorCode::kCoordinatorLoadInProgress);
    } else if (p.group_id.empty()) {
      fail(ErrorCode::kInvalidGroupId);
    } else if (p.session_timeout_ms < options_.min_session_timeout_ms ||
               p.session_timeout_ms > options_.max_session_timeout_ms) {
      fail(ErrorCode::kInvalidSessionTimeout);
    } else if (p.protocol_type.empty() || p.protocols.empty()) {
      fail(ErrorCode::kInconsistentGroupProtocol);
    } else {
      if (p.rebalance_timeout_ms < 0) p.rebalance_timeout_ms = p.session_timeout_ms;
      Group* g = p.member_id.empty() ? GetOrCreateGroup(p.group_id) : FindGroup(p.group_id);
      if (g == nullptr) {
        fail(ErrorCode::kUnknownMemberId);
      } else if (!SupportsProtocols(g, p.protocol_type, p.protocols)) {
        fail(ErrorCode::kInconsistentGroupProtocol);
      } else if (p.member_id.empty()) {
        JoinUnknownMember(g, p, done, &out);
      } else {
        JoinKnownMember(g, p, done, &out);
      }
    }
  }
  for (auto& f : out) f();
}

bool GroupCoordinator::SupportsProtocols(
    const Group* g, const std::string& type,
    const std::vector<std::pair<std::string, std::string>>& protocols) const {
  if (g->members.empty()) return true;
  if (type != g->protocol_type) return false;
  for (const auto& protocol : protocols) {
    const std::string& name = protocol.first;  // not a structured binding: captured below
    bool all = std::all_of(g->members.begin(), g->members.end(),
                           [&](const auto& kv) { return kv.second.MetadataFor(name) != nullptr; });
    if (all) return true;
  }
  return false;
}

void GroupCoordinator::JoinUnknownMember(Group* g, JoinGroupParams& p, JoinGroupCallback& done,
                                         Deferred* out) {
  auto reply = [&](JoinGroupResult r) {
    out->push_back([cb = std::move(done), r = std::move(r)]() mutable { cb(std::move(r)); });
  };
  std::string new_id =
      (p.group_instance_id ? *p.group_instance_id : p.client_id) + "-" + RandomUuid();
  if (p.group_instance_id) {
    auto sit = g->static_members.find(*p.group_instance_id);
    if (sit != g->static_members.end()) {
      // A static member restarted: it takes over the old member's identity
      // (Kafka's updateStaticMember). The old incarnation is fenced.
      std::string old_id = sit->second;
      Member m = std::move(g->members.at(old_id));
      g->members.erase(old_id);
      if (m.join_cb) {
        out->push_back([cb = std::move(m.join_cb), old_id]() mutable {
          cb(JoinError(ErrorCode::kFencedInstanceId, old_id));
        });
        m.join_cb = nullptr;
      }
      if (m.sync_cb) {
        out->push_back(
            [cb = std::move(m.sync_cb)]() mutable { cb(SyncError(ErrorCode::kFencedInstanceId)); });
        m.sync_cb = nullptr;
      }
      bool unchanged = m.protocols == p.protocols;
      m.id = new_id;
      if (g->leader_id == old_id) g->leader_id = new_id;
      sit->second = new_id;
      Member& nm = g->members[new_id] = std::move(m);
      nm.client_id = p.client_id;
      nm.client_host = p.client_host;
      nm.session_timeout_ms = p.session_timeout_ms;
      nm.rebalance_timeout_ms = p.rebalance_timeout_ms;
      nm.deadline_ms = NowMs() + nm.session_timeout_ms;
      LOG_INFO("group {}: static member {} rejoined as {}", EscapeForLog(g->id),
               EscapeForLog(*p.group_instance_id), EscapeForLog(new_id));
      if (unchanged &&
          (g->state == GroupState::kStable || g->state == GroupState::kCompletingRebalance)) {
        reply(CurrentJoinResult(g, &nm));
      } else {
        UpdateMemberAndRebalance(g, &nm, p, done, out);
      }
      return;
    }
  } else if (p.require_known_member_id && options_.require_member_id) {
    // KIP-394: hand out the id and let the client come back with it. The
    // pending id does not hold up any rebalance; it expires after the session
    // timeout if the client never returns.
    g->pending_members[new_id] = NowMs() + p.session_timeout_ms;
    reply(JoinError(ErrorCode::kMemberIdRequired, new_id));
    return;
  }
  if (g->members.size() >= options_.max_group_size) {
    reply(JoinError(ErrorCode::kGroupMaxSizeReached));
    return;
  }
  AddMemberAndRebalance(g, new_id, p, done, out);
}

void GroupCoordinator::JoinKnownMember(Group* g, JoinGroupParams& p, JoinGroupCallback& done,
                                       Deferred* out) {
  auto reply = [&](JoinGroupResult r) {
    out->push_back([cb = std::move(done), r = std::move(r)]() mutable { cb(std::move(r)); });
  };
  auto pit = g->pending_members.find(p.member_id);
  if (pit != g->pending_members.end()) {
    g->pending_members.erase(pit);
    if (g->members.size() >= options_.max_group_size) {
      reply(JoinError(ErrorCode::kGroupMaxSizeReached, p.member_id));
      return;
    }
    AddMemberAndRebalance(g, p.member_id, p, done, out);
    return;
  }
  if (p.group_instance_id) {
    auto sit = g->static_members.find(*p.group_instance_id);
    if (sit != g->static_members.end() && sit->second != p.member_id) {
      reply(JoinError(ErrorCode::kFencedInstanceId, p.member_id));
      return;
    }
  }
  auto mit = g->members.find(p.member_id);
  if (mit == g->members.end()) {
    reply(JoinError(ErrorCode::kUnknownMemberId, p.member_id));
    return;
  }
  Member* m = &mit->second;
  if (m->instance_id && m->instance_id != p.group_instance_id) {
    reply(JoinError(ErrorCode::kFencedInstanceId, p.member_id));
    return;
  }
  switch (g->state) {
    case GroupState::kPreparingRebalance:
      UpdateMemberAndRebalance(g, m, p, done, out);
      return;
    case GroupState::kCompletingRebalance:
      if (m->protocols == p.protocols) {
        // The member lost our answer: repeat it.
        reply(CurrentJoinResult(g, m));
      } else {
        UpdateMemberAndRebalance(g, m, p, done, out);
      }
      return;
    case GroupState::kStable:
      if (m->id == g->leader_id || m->protocols != p.protocols) {
        UpdateMemberAndRebalance(g, m, p, done, out);
      } else {
        reply(CurrentJoinResult(g, m));
      }
      return;
    case GroupState::kEmpty:
      reply(JoinError(ErrorCode::kUnknownMemberId, p.member_id));
      return;
  }
}

void GroupCoordinator::AddMemberAndRebalance(Group* g, const std::string& member_id,
                                             JoinGroupParams& p, JoinGroupCallback& done,
                                             Deferred* out) {
  if (g->members.empty()) g->protocol_type = p.protocol_type;
  Member m;
  m.id = member_id;
  m.instance_id = p.group_instance_id;
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms;
  m.protocols = std::move(p.protocols);
  m.join_cb = std::move(done);
  m.join_conn = p.connection_id;
  m.deadline_ms = NowMs() + m.session_timeout_ms;
  m.join_order = ++member_counter_;
  if (m.instance_id) g->static_members[*m.instance_id] = member_id;
  g->members.emplace(member_id, std::move(m));
  LOG_INFO("group {}: member {} joined ({} members)", EscapeForLog(g->id), EscapeForLog(member_id),
           g->members.size());
  if (g->state == GroupState::kPreparingRebalance && g->in_initial_delay) {
    g->initial_delay_deadline_ms =
        std::min(NowMs() + options_.initial_rebalance_delay_ms, g->initial_delay_cap_ms);
  }
  if (g->state != GroupState::kPreparingRebalance) PrepareRebalance(g, out);
  MaybeCompleteJoin(g, out);
}

void GroupCoordinator::UpdateMemberAndRebalance(Group* g, Member* m, JoinGroupParams& p,
                                                JoinGroupCallback& done, Deferred* out) {
  if (m->join_cb) {
    // A second JoinGroup while one is parked: the client gave up on the first.
    out->push_back([cb = std::move(m->join_cb), id = m->id]() mutable {
      cb(JoinError(ErrorCode::kRebalanceInProgress, id));
    });
  }
  m->protocols = std::move(p.protocols);
  m->session_timeout_ms = p.session_timeout_ms;
  m->rebalance_timeout_ms = p.rebalance_timeout_ms;
  m->client_id = p.client_id;
  m->client_host = p.client_host;
  m->join_cb = std::move(done);
  m->join_conn = p.connection_id;
  m->deadline_ms = NowMs() + m->session_timeout_ms;
  if (g->state != GroupState::kPreparingRebalance) PrepareRebalance(g, out);
  MaybeCompleteJoin(g, out);
}

void GroupCoordinator::PrepareRebalance(Group* g, Deferred* out) {
  if (g->state == GroupState::kCompletingRebalance) {
    ResetAndPropagateSyncError(g, ErrorCode::kRebalanceInProgress, out);
  }
  bool was_empty = g->state == GroupState::kEmpty;
  g->state = GroupState::kPreparingRebalance;
  int64_t max_rebalance = 0;
  for (const auto& [id, m] : g->members) {
    max_rebalance = std::max<int64_t>(max_rebalance, m.rebalance_timeout_ms);
  }
  int64_t now = NowMs();
  g->join_deadline_ms = now + max_rebalance;
  g->in_initial_delay = was_empty && options_.initial_rebalance_delay_ms > 0;
  if (g->in_initial_delay) {
    g->initial_delay_cap_ms = now + max_rebalance;
    g->initial_delay_deadline_ms =
        std::min<int64_t>(now + options_.initial_rebalance_delay_ms, g->initial_delay_cap_ms);
  }
  LOG_INFO("group {}: preparing rebalance (generation {}, {} members)", EscapeForLog(g->id),
           g->generation, g->members.size());
}

void GroupCoordinator::ResetAndPropagateSyncError(Group* g, ErrorCode error, Deferred* out) {
  for (auto& [id, m] : g->members) {
    m.assignment.clear();
    if (m.sync_cb) {
      out->push_back([cb = std::move(m.sync_cb), error]() mutable { cb(SyncError(error)); });
      m.sync_cb = nullptr;
    }
  }
}

void GroupCoordinator::MaybeCompleteJoin(Group* g, Deferred* out) {
  if (g->state != GroupState::kPreparingRebalance) return;
  int64_t now = NowMs();
  if (g->in_initial_delay) {
    if (now < g->initial_delay_deadline_ms && !g->members.empty()) return;
    g->in_initial_delay = false;
  }
  if (g->AllJoined()) {
    CompleteJoin(g, out);
    return;
  }
  if (now < g->join_deadline_ms) return;
  // Rebalance timeout: members that did not rejoin are out.
  std::vector<std::string> gone;
  for (const auto& [id, m] : g->members) {
    if (!m.join_cb) gone.push_back(id);
  }
  for (const auto& id : gone) {
    LOG_INFO("group {}: member {} did not rejoin in time, removing", EscapeForLog(g->id),
             EscapeForLog(id));
    RemoveMemberNoRebalance(g, id, out);
  }
  CompleteJoin(g, out);
}

void GroupCoordinator::CompleteJoin(Group* g, Deferred* out) {
  g->generation = GenerationId(g->generation.value() + 1);
  if (g->members.empty()) {
    g->protocol_name.clear();
    g->leader_id.clear();
    SetEmpty(g);
    LOG_INFO("group {}: empty at generation {}", EscapeForLog(g->id), g->generation);
    return;
  }
  g->protocol_name = SelectProtocol(g);
  g->subscribed_topics = SubscribedTopics(g);
  if (!g->members.count(g->leader_id)) {
    const Member* first = nullptr;
    for (const auto& [id, m] : g->members) {
      if (first == nullptr || m.join_order < first->join_order) first = &m;
    }
    g->leader_id = first->id;
  }
  g->state = GroupState::kCompletingRebalance;
  int64_t now = NowMs();
  int64_t max_rebalance = 0;
  for (auto& [id, m] : g->members) {
    m.deadline_ms = now + m.session_timeout_ms;
    max_rebalance = std::max<int64_t>(max_rebalance, m.rebalance_timeout_ms);
  }
  g->sync_deadline_ms = now + max_rebalance;
  LOG_INFO("group {}: generation {} with {} members, protocol {}, leader {}", EscapeForLog(g->id),
           g->generation, g->members.size(), EscapeForLog(g->protocol_name),
           EscapeForLog(g->leader_id));
  for (auto& [id, m] : g->members) {
    JoinGroupResult r = CurrentJoinResult(g, &m);
    out->push_back([cb = std::move(m.join_cb), r = std::move(r)]() mutable { cb(std::move(r)); });
    m.join_cb = nullptr;
  }
}

JoinGroupResult GroupCoordinator::CurrentJoinResult(const Group* g, const Member* m) const {
  JoinGroupResult r;
  r.generation_id = g->generation;
  r.protocol_type = g->protocol_type;
  r.protocol_name = g->protocol_name;
  r.leader_id = g->leader_id;
  r.member_id = m->id;
  if (m->id == g->leader_id) {
    std::vector<const Member*> ordered;
    for (const auto& [id, other] : g->members) ordered.push_back(&other);
    std::sort(ordered.begin(), ordered.end(),
              [](const Member* a, const Member* b) { return a->join_order < b->join_order; });
    for (const Member* other : ordered) {
      const std::string* meta = other->MetadataFor(g->protocol_name);
      r.members.push_back({other->id, other->instance_id, meta ? *meta : std::string()});
    }
  }
  return r;
}

std::string GroupCoordinator::SelectProtocol(const Group* g) const {
  // Candidates: protocols every member supports, in the preference order of
  // the longest-standing member (the tie-breaker).
  const Member* first = nullptr;
  for (const auto& [id, m] : g->members) {
    if (first == nullptr || m.join_order < first->join_order) first = &m;
  }
  std::vector<std::string> candidates;
  for (const auto& protocol : first->protocols) {
    const std::string& name = protocol.first;  // not a structured binding: captured below
    bool all = std::all_of(g->members.begin(), g->members.end(),
                           [&](const auto& kv) { return kv.second.MetadataFor(name) != nullptr; });
    if (all) candidates.push_back(name);
  }
  if (candidates.empty()) return first->protocols.empty() ? "" : first->protocols[0].first;
  std::map<std::string, int> votes;
  for (const auto& [id, m] : g->members) {
    for (const auto& [name, meta] : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
    }
  }
  std::string best = candidates[0];
  for (const auto& c : candidates) {
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

// ---------------------------------------------------------------- SyncGroup

void GroupCoordinator::SyncGroup(SyncGroupParams p, SyncGroupCallback done) {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto reply = [&](SyncGroupResult r) {
      out.push_back([cb = std::move(done), r = std::move(r)]() mutable { cb(std::move(r)); });
    };
    Group* g = ready_ ? FindGroup(p.group_id) : nullptr;
    Member* m = nullptr;
    if (g != nullptr) {
      auto it = g->members.find(p.member_id);
      if (it != g->members.end()) m = &it->second;
    }
    if (!ready_) {
      reply(SyncError(ErrorCode::kCoordinatorLoadInProgress));
    } else if (p.group_id.empty()) {
      reply(SyncError(ErrorCode::kInvalidGroupId));
    } else if (g != nullptr && IsFenced(g, p.group_instance_id, p.member_id)) {
      reply(SyncError(ErrorCode::kFencedInstanceId));
    } else if (m == nullptr) {
      reply(SyncError(ErrorCode::kUnknownMemberId));
    } else if (p.generation_id != g->generation) {
      reply(SyncError(ErrorCode::kIllegalGeneration));
    } else if ((p.protocol_type && *p.protocol_type != g->protocol_type) ||
               (p.protocol_name && *p.protocol_name != g->protocol_name)) {
      reply(SyncError(ErrorCode::kInconsistentGroupProtocol));
    } else {
      switch (g->state) {
        case GroupState::kEmpty:
          reply(SyncError(ErrorCode::kUnknownMemberId));
          break;
        case GroupState::kPreparingRebalance:
          reply(SyncError(ErrorCode::kRebalanceInProgress));
          break;
        case GroupState::kStable: {
          m->deadline_ms = NowMs() + m->session_timeout_ms;
          SyncGroupResult r;
          r.protocol_type = g->protocol_type;
          r.protocol_name = g->protocol_name;
          r.assignment = m->assignment;
          reply(std::move(r));
          break;
        }
        case GroupState::kCompletingRebalance: {
          m->deadline_ms = NowMs() + m->session_timeout_ms;
          if (m->sync_cb) {
            out.push_back([cb = std::move(m->sync_cb)]() mutable {
              cb(SyncError(ErrorCode::kRebalanceInProgress));
            });
          }
          m->sync_cb = std::move(done);
          m->sync_conn = p.connection_id;
          if (m->id == g->leader_id) {
            for (auto& [id, member] : g->members) member.assignment.clear();
            for (auto& [id, bytes] : p.assignments) {
              auto it = g->members.find(id);
              if (it != g->members.end()) it->second.assignment = std::move(bytes);
            }
            g->state = GroupState::kStable;
            LOG_INFO("group {}: stable at generation {}", EscapeForLog(g->id), g->generation);
            StoreStableGroup(g);
            for (auto& [id, member] : g->members) {
              if (!member.sync_cb) continue;
              SyncGroupResult r;
              r.protocol_type = g->protocol_type;
              r.protocol_name = g->protocol_name;
              r.assignment = member.assignment;
              out.push_back([cb = std::move(member.sync_cb), r = std::move(r)]() mutable {
                cb(std::move(r));
              });
              member.sync_cb = nullptr;
            }
          }
          break;
        }
      }
    }
  }
  for (auto& f : out) f();
}

// ---------------------------------------------------------------- Heartbeat

ErrorCode GroupCoordinator::Heartbeat(const HeartbeatParams& p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return ErrorCode::kCoordinatorLoadInProgress;
  if (p.group_id.empty()) return ErrorCode::kInvalidGroupId;
  Group* g = FindGroup(p.group_id);
  if (g == nullptr) return ErrorCode::kUnknownMemberId;
  if (IsFenced(g, p.group_instance_id, p.member_id)) return ErrorCode::kFencedInstanceId;
  auto it = g->members.find(p.member_id);
  if (it == g->members.end()) return ErrorCode::kUnknownMemberId;
  Member& m = it->second;
  if (p.generation_id != g->generation) return ErrorCode::kIllegalGeneration;
  switch (g->state) {
    case GroupState::kEmpty:
      return ErrorCode::kUnknownMemberId;
    case GroupState::kPreparingRebalance:
      m.deadline_ms = NowMs() + m.session_timeout_ms;
      return ErrorCode::kRebalanceInProgress;
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      m.deadline_ms = NowMs() + m.session_timeout_ms;
      return ErrorCode::kNone;
  }
  return ErrorCode::kNone;
}

// ---------------------------------------------------------------- LeaveGroup

LeaveGroupResult GroupCoordinator::LeaveGroup(const std::string& group_id,
                                              const std::vector<LeaveGroupMember>& members) {
  LeaveGroupResult result;
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_) {
      result.error = ErrorCode::kCoordinatorLoadInProgress;
    } else if (group_id.empty()) {
      result.error = ErrorCode::kInvalidGroupId;
    } else {
      Group* g = FindGroup(group_id);
      for (const auto& lm : members) {
        ErrorCode e = ErrorCode::kNone;
        if (g == nullptr) {
          e = ErrorCode::kUnknownMemberId;
        } else if (lm.group_instance_id) {
          auto sit = g->static_members.find(*lm.group_instance_id);
          if (sit == g->static_members.end()) {
            e = ErrorCode::kUnknownMemberId;
          } else if (!lm.member_id.empty() && lm.member_id != sit->second) {
            e = ErrorCode::kFencedInstanceId;
          } else {
            std::string id = sit->second;
            LOG_INFO("group {}: static member {} ({}) left", EscapeForLog(g->id),
                     EscapeForLog(*lm.group_instance_id), EscapeForLog(id));
            RemoveMember(g, id, &out);
          }
        } else if (g->pending_members.erase(lm.member_id) > 0) {
          e = ErrorCode::kNone;
        } else if (!g->members.count(lm.member_id)) {
          e = ErrorCode::kUnknownMemberId;
        } else {
          LOG_INFO("group {}: member {} left", EscapeForLog(g->id), EscapeForLog(lm.member_id));
          RemoveMember(g, lm.member_id, &out);
        }
        result.members.emplace_back(lm, e);
      }
    }
  }
  for (auto& f : out) f();
  return result;
}

void GroupCoordinator::RemoveMemberNoRebalance(Group* g, const std::string& member_id,
                                               Deferred* out) {
  auto it = g->members.find(member_id);
  if (it == g->members.end()) return;
  Member& m = it->second;
  if (m.join_cb) {
    out->push_back([cb = std::move(m.join_cb), member_id]() mutable {
      cb(JoinError(ErrorCode::kUnknownMemberId, member_id));
    });
  }
  if (m.sync_cb) {
    out->push_back(
        [cb = std::move(m.sync_cb)]() mutable { cb(SyncError(ErrorCode::kUnknownMemberId)); });
  }
  if (m.instance_id) {
    auto sit = g->static_members.find(*m.instance_id);
    if (sit != g->static_members.end() && sit->second == member_id) g->static_members.erase(sit);
  }
  g->members.erase(it);
}

void GroupCoordinator::RemoveMember(Group* g, const std::string& member_id, Deferred* out) {
  RemoveMemberNoRebalance(g, member_id, out);
  switch (g->state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      PrepareRebalance(g, out);
      MaybeCompleteJoin(g, out);
      break;
    case GroupState::kPreparingRebalance:
      MaybeCompleteJoin(g, out);
      break;
    case GroupState::kEmpty:
      break;
  }
}

// ---------------------------------------------------------------- Offsets

OffsetCommitResult GroupCoordinator::OffsetCommit(const OffsetCommitParams& p) {
  OffsetCommitResult result;
  std::lock_guard<std::mutex> lock(mu_);
  ErrorCode error = ErrorCode::kNone;
  Group* g = nullptr;
  if (!ready_) {
    error = ErrorCode::kCoordinatorLoadInProgress;
  } else if (p.group_id.empty()) {
    error = ErrorCode::kInvalidGroupId;
  } else {
    g = FindGroup(p.group_id);
    if (g == nullptr) {
      if (p.generation_id.value() < 0) {
        g = GetOrCreateGroup(p.group_id);  // simple consumer group
      } else {
        error = ErrorCode::kIllegalGeneration;
      }
    } else if (p.generation_id.value() < 0 && g->state == GroupState::kEmpty) {
      // Simple commit into an empty group.
    } else if (IsFenced(g, p.group_instance_id, p.member_id)) {
      error = ErrorCode::kFencedInstanceId;
    } else if (!g->members.count(p.member_id)) {
      error = ErrorCode::kUnknownMemberId;
    } else if (p.generation_id != g->generation) {
      error = ErrorCode::kIllegalGeneration;
    } else if (g->state == GroupState::kCompletingRebalance) {
      error = ErrorCode::kRebalanceInProgress;
    } else {
      Member& m = g->members.at(p.member_id);
      m.deadline_ms = NowMs() + m.session_timeout_ms;
    }
  }
  std::vector<std::pair<TopicPartition, CommittedOffset>> commits;
  std::vector<size_t> commit_index;
  int64_t now_wall = clock_->NowMillis();
  for (const auto& part : p.partitions) {
    ErrorCode e = error;
    if (e == ErrorCode::kNone && part.metadata &&
        part.metadata->size() > options_.max_metadata_bytes) {
      e = ErrorCode::kOffsetMetadataTooLarge;
    }
    if (e == ErrorCode::kNone &&
        !options_.log->GetPartition(part.tp.topic, part.tp.partition).ok()) {
      // Kafka checks every partition against its metadata cache.
      e = ErrorCode::kUnknownTopicOrPartition;
    }
    if (e == ErrorCode::kNone) {
      CommittedOffset c;
      c.offset = part.offset;
      c.leader_epoch = part.leader_epoch;
      c.metadata = part.metadata.value_or("");  // Kafka stores null as ""
      c.commit_timestamp_ms = now_wall;
      commits.emplace_back(part.tp, std::move(c));
      commit_index.push_back(result.partitions.size());
    }
    result.partitions.emplace_back(part.tp, e);
  }
  if (!commits.empty()) {
    Status s = store_->Commit(p.group_id, commits);
    if (!s.ok()) {
      LOG_ERROR("group {}: storing offsets failed: {}", EscapeForLog(p.group_id), s.ToString());
      // Kafka: a commit whose records exceed the offsets topic's
      // max.message.bytes is INVALID_COMMIT_OFFSET_SIZE; other storage errors
      // make the client retry (COORDINATOR_NOT_AVAILABLE).
      const ErrorCode e = s.IsTooLarge() ? ErrorCode::kInvalidCommitOffsetSize
                                         : ErrorCode::kCoordinatorNotAvailable;
      for (size_t i : commit_index) result.partitions[i].second = e;
    }
  }
  return result;
}

OffsetFetchResult GroupCoordinator::OffsetFetch(
    const std::string& group_id, const std::optional<std::vector<TopicPartition>>& partitions) {
  OffsetFetchResult result;
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_ || group_id.empty()) {
    result.error = !ready_ ? ErrorCode::kCoordinatorLoadInProgress : ErrorCode::kInvalidGroupId;
    if (partitions) {
      for (const auto& tp : *partitions) {
        OffsetFetchResult::Partition part;
        part.tp = tp;
        part.metadata = "";
        part.error = result.error;
        result.partitions.push_back(std::move(part));
      }
    }
    return result;
  }
  const StoredGroup* stored = store_->Find(group_id);
  auto fill = [&](const TopicPartition& tp) {
    OffsetFetchResult::Partition part;
    part.tp = tp;
    part.metadata = "";
    if (stored != nullptr) {
      auto it = stored->offsets.find(tp);
      if (it != stored->offsets.end()) {
        part.offset = it->second.offset;
        part.leader_epoch = it->second.leader_epoch;
        part.metadata = it->second.metadata;
      }
    }
    result.partitions.push_back(std::move(part));
  };
  if (partitions) {
    for (const auto& tp : *partitions) fill(tp);
  } else if (stored != nullptr) {
    for (const auto& [tp, c] : stored->offsets) fill(tp);
  }
  return result;
}

std::optional<std::set<std::string>> GroupCoordinator::SubscribedTopics(const Group* g) const {
  if (g->protocol_type != "consumer" || g->members.empty()) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, m] : g->members) {
    const std::string* meta = m.MetadataFor(g->protocol_name);
    if (meta == nullptr) return std::nullopt;
    // ConsumerProtocolSubscription, the version-0 prefix every version has:
    // int16 version, [string topic].
    Reader r(*meta);
    int16_t version = 0;
    int32_t n = 0;
    if (!r.ReadInt16(&version).ok() || version < 0 || !r.ReadArrayCount(&n, 2).ok() || n < 0) {
      return std::nullopt;
    }
    for (int32_t i = 0; i < n; ++i) {
      std::string topic;
      if (!r.ReadString(&topic).ok()) return std::nullopt;
      topics.insert(std::move(topic));
    }
  }
  return topics;
}

OffsetDeleteResult GroupCoordinator::DeleteOffsets(const std::string& group_id,
                                                   const std::vector<TopicPartition>& partitions) {
  OffsetDeleteResult result;
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) {
    result.error = ErrorCode::kCoordinatorLoadInProgress;
    return result;
  }
  if (group_id.empty()) {
    result.error = ErrorCode::kInvalidGroupId;
    return result;
  }
  Group* g = FindGroup(group_id);
  if (g == nullptr) {
    result.error = ErrorCode::kGroupIdNotFound;
    return result;
  }
  const bool empty = g->state == GroupState::kEmpty;
  if (!empty && g->protocol_type != "consumer") {
    result.error = ErrorCode::kNonEmptyGroup;
    return result;
  }
  std::vector<TopicPartition> eligible;
  std::vector<size_t> eligible_index;
  for (const TopicPartition& tp : partitions) {
    ErrorCode e = ErrorCode::kNone;
    if (!options_.log->GetPartition(tp.topic, tp.partition).ok()) {
      e = ErrorCode::kUnknownTopicOrPartition;
    } else if (!empty && (!g->subscribed_topics || g->subscribed_topics->count(tp.topic) != 0)) {
      e = ErrorCode::kGroupSubscribedToTopic;
    } else {
      eligible.push_back(tp);
      eligible_index.push_back(result.partitions.size());
    }
    result.partitions.emplace_back(tp, e);
  }
  if (!eligible.empty()) {
    Status s = store_->DeleteOffsets(group_id, eligible);
    if (!s.ok()) {
      LOG_ERROR("group {}: deleting offsets failed: {}", EscapeForLog(group_id), s.ToString());
      for (size_t i : eligible_index) {
        result.partitions[i].second = ErrorCode::kCoordinatorNotAvailable;
      }
    } else {
      LOG_INFO("group {}: deleted the committed offsets of {} partitions", EscapeForLog(group_id),
               eligible.size());
    }
  }
  return result;
}

// ---------------------------------------------------------------- Admin

GroupDescription GroupCoordinator::DescribeGroup(const std::string& group_id) {
  GroupDescription d;
  d.group_id = group_id;
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) {
    d.error = ErrorCode::kCoordinatorLoadInProgress;
    return d;
  }
  if (group_id.empty()) {
    d.error = ErrorCode::kInvalidGroupId;
    return d;
  }
  Group* g = FindGroup(group_id);
  if (g == nullptr) {
    d.state = "Dead";
    return d;
  }
  d.state = StateName(g->state);
  d.protocol_type = g->protocol_type;
  bool stable = g->state == GroupState::kStable;
  if (stable) d.protocol_name = g->protocol_name;
  std::vector<const Member*> ordered;
  for (const auto& [id, m] : g->members) ordered.push_back(&m);
  std::sort(ordered.begin(), ordered.end(),
            [](const Member* a, const Member* b) { return a->join_order < b->join_order; });
  for (const Member* m : ordered) {
    GroupMemberDescription md;
    md.member_id = m->id;
    md.group_instance_id = m->instance_id;
    md.client_id = m->client_id;
    md.client_host = m->client_host;
    if (stable) {
      const std::string* meta = m->MetadataFor(g->protocol_name);
      if (meta) md.metadata = *meta;
      md.assignment = m->assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

std::vector<GroupListing> GroupCoordinator::ListGroups(
    const std::vector<std::string>& states_filter) {
  std::vector<GroupListing> out;
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return out;
  for (const auto& [id, g] : groups_) {
    std::string state = StateName(g->state);
    if (!states_filter.empty() &&
        std::none_of(states_filter.begin(), states_filter.end(),
                     [&](const std::string& s) { return EqualsIgnoreCase(s, state); })) {
      continue;
    }
    out.push_back({id, g->protocol_type, state});
  }
  return out;
}

ErrorCode GroupCoordinator::DeleteGroup(const std::string& group_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return ErrorCode::kCoordinatorLoadInProgress;
  if (group_id.empty()) return ErrorCode::kInvalidGroupId;
  Group* g = FindGroup(group_id);
  if (g == nullptr) return ErrorCode::kGroupIdNotFound;
  if (!g->members.empty() || g->state != GroupState::kEmpty) return ErrorCode::kNonEmptyGroup;
  if (store_->Find(group_id) != nullptr) {
    Status s = store_->DeleteGroup(group_id);
    if (!s.ok()) {
      LOG_ERROR("group {}: delete failed: {}", EscapeForLog(group_id), s.ToString());
      return ErrorCode::kCoordinatorNotAvailable;
    }
  }
  groups_.erase(group_id);
  LOG_INFO("group {}: deleted", EscapeForLog(group_id));
  return ErrorCode::kNone;
}

void GroupCoordinator::OnTopicDeleted(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return;
  std::vector<std::pair<std::string, std::vector<TopicPartition>>> victims;
  for (const auto& [id, stored] : store_->groups()) {
    std::vector<TopicPartition> tps;
    for (const auto& [tp, c] : stored.offsets) {
      if (tp.topic == topic) tps.push_back(tp);
    }
    if (!tps.empty()) victims.emplace_back(id, std::move(tps));
  }
  for (const auto& [id, tps] : victims) {
    Status s = store_->DeleteOffsets(id, tps);
    if (!s.ok())
      LOG_ERROR("group {}: deleting offsets of {}: {}", EscapeForLog(id), topic, s.ToString());
  }
}

// ---------------------------------------------------------------- Time

void GroupCoordinator::Tick() {
  Deferred out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_) return;
    int64_t now = NowMs();
    for (auto& [gid, gp] : groups_) {
      Group* g = gp.get();
      for (auto it = g->pending_members.begin(); it != g->pending_members.end();) {
        it = it->second <= now ? g->pending_members.erase(it) : std::next(it);
      }
      std::vector<std::string> expired;
      for (const auto& [id, m] : g->members) {
        if (!m.join_cb && !m.sync_cb && m.deadline_ms <= now) expired.push_back(id);
      }
      for (const auto& id : expired) {
        if (!g->members.count(id)) continue;
        LOG_INFO("group {}: member {} session expired", EscapeForLog(g->id), EscapeForLog(id));
        RemoveMember(g, id, &out);
      }
      if (g->state == GroupState::kCompletingRebalance && now >= g->sync_deadline_ms) {
        // The leader never sent its assignment (or members never synced):
        // drop the members that did not sync and start over.
        std::vector<std::string> lagging;
        for (const auto& [id, m] : g->members) {
          if (!m.sync_cb) lagging.push_back(id);
        }
        for (const auto& id : lagging) {
          LOG_INFO("group {}: member {} did not sync in time, removing", EscapeForLog(g->id),
                   EscapeForLog(id));
          RemoveMemberNoRebalance(g, id, &out);
        }
        PrepareRebalance(g, &out);
      }
      MaybeCompleteJoin(g, &out);
    }
    if (clock_->NowMillis() >= next_retention_check_ms_) {
      ApplyRetention();
      next_retention_check_ms_ = clock_->NowMillis() + options_.offsets_retention_check_interval_ms;
    }
  }
  for (auto& f : out) f();
}

void GroupCoordinator::OnConnectionClosed(uint64_t connection_id) {
  if (connection_id == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return;
  // Kafka's coordinator never learns about connections: a member stays until
  // its session times out, it leaves, or (static) it is replaced. Only the
  // answers parked for this connection become undeliverable; the member
  // still counts as waiting in JoinGroup/SyncGroup (as in Kafka, whose
  // response then goes nowhere), so a rebalance completes with it and its
  // session timeout applies afterwards.
  for (auto& [gid, gp] : groups_) {
    for (auto& [id, m] : gp->members) {
      if (m.join_cb && m.join_conn == connection_id) {
        m.join_cb = [](JoinGroupResult) {};
        m.join_conn = 0;
      }
      if (m.sync_cb && m.sync_conn == connection_id) {
        m.sync_cb = [](SyncGroupResult) {};
        m.sync_conn = 0;
      }
    }
  }
}

void GroupCoordinator::SetEmpty(Group* g) {
  g->state = GroupState::kEmpty;
  g->subscribed_topics.reset();
  g->empty_since_wall_ms = clock_->NowMillis();
  if (g->protocol_type.empty()) return;
  // Kafka records an empty group's metadata: generation, no members, and the
  // time it became empty (the base of offset retention, KIP-211).
  GroupMetadata md;
  md.protocol_type = g->protocol_type;
  md.generation = g->generation;
  md.current_state_timestamp_ms = g->empty_since_wall_ms;
  Status s = store_->StoreGroupMetadata(g->id, md);
  if (!s.ok()) LOG_WARN("group {}: recording empty state: {}", EscapeForLog(g->id), s.ToString());
}

void GroupCoordinator::StoreStableGroup(const Group* g) {
  GroupMetadata md;
  md.protocol_type = g->protocol_type;
  md.generation = g->generation;
  md.protocol = g->protocol_name;
  md.leader = g->leader_id;
  md.current_state_timestamp_ms = clock_->NowMillis();
  std::vector<const Member*> ordered;
  for (const auto& [id, m] : g->members) ordered.push_back(&m);
  std::sort(ordered.begin(), ordered.end(),
            [](const Member* a, const Member* b) { return a->join_order < b->join_order; });
  for (const Member* m : ordered) {
    GroupMemberMetadata mm;
    mm.member_id = m->id;
    mm.group_instance_id = m->instance_id;
    mm.client_id = m->client_id;
    mm.client_host = m->client_host;
    mm.rebalance_timeout_ms = m->rebalance_timeout_ms;
    mm.session_timeout_ms = m->session_timeout_ms;
    if (const std::string* meta = m->MetadataFor(g->protocol_name)) mm.subscription = *meta;
    mm.assignment = m->assignment;
    md.members.push_back(std::move(mm));
  }
  Status s = store_->StoreGroupMetadata(g->id, md);
  if (!s.ok())
    LOG_WARN("group {}: recording generation {}: {}", EscapeForLog(g->id), g->generation,
             s.ToString());
}

void GroupCoordinator::ApplyRetention() {
  int64_t now = clock_->NowMillis();
  std::vector<std::string> forget;
  for (auto& [gid, gp] : groups_) {
    Group* g = gp.get();
    if (g->state != GroupState::kEmpty || !g->members.empty() || !g->pending_members.empty()) {
      continue;
    }
    const StoredGroup* stored = store_->Find(gid);
    if (stored != nullptr) {
      std::vector<TopicPartition> expired;
      for (const auto& [tp, c] : stored->offsets) {
        // Consumer groups: retention counts from when the group became empty
        // (KIP-211); simple-commit groups: from each commit.
        int64_t base = g->protocol_type.empty() ? c.commit_timestamp_ms : g->empty_since_wall_ms;
        if (base + options_.offsets_retention_ms <= now) expired.push_back(tp);
      }
      if (!expired.empty()) {
        LOG_INFO("group {}: {} committed offsets expired", EscapeForLog(gid), expired.size());
        Status s = store_->DeleteOffsets(gid, expired);
        if (!s.ok()) {
          LOG_WARN("group {}: expiring offsets: {}", EscapeForLog(gid), s.ToString());
          continue;
        }
      }
      stored = store_->Find(gid);
    }
    if (stored == nullptr || stored->offsets.empty()) forget.push_back(gid);
  }
  for (const auto& gid : forget) {
    if (store_->Find(gid) != nullptr) {
      Status s = store_->DeleteGroup(gid);
      if (!s.ok()) {
        LOG_WARN("group {}: forgetting: {}", EscapeForLog(gid), s.ToString());
        continue;
      }
    }
    groups_.erase(gid);
  }
}

}  // namespace braid::kafka
