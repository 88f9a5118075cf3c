// `braid groups list|describe|reset-offsets|delete`: consumer-group
// administration with kafka-consumer-groups semantics, against a running
// braid (or any Kafka broker) over the Kafka protocol.
//
// A small blocking client built on braid's protocol library talks to the
// bootstrap broker, then to the group's coordinator (FindCoordinator).
// Versions used (all inside braid's advertised ranges and Kafka's):
// Metadata v4, ListOffsets v1, FindCoordinator v0, ListGroups v1,
// DescribeGroups v1, OffsetFetch v2, OffsetCommit v2, DeleteGroups v0.
//
// reset-offsets only runs against an inactive group (state Empty or Dead), as
// Kafka's tool does, and only prints the plan unless --execute is given.
// Errors go to stderr as "braid groups <cmd>: <error>"; exit code 1.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "cli/cli.h"
#include "kafka/protocol/protocol.h"

namespace braid::cli {
namespace {

using namespace braid::kafka;  // NOLINT(build/namespaces): message structs

constexpr int kTimeoutMs = 30000;

// One blocking connection; requests are sent and answered one at a time.
class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  static Result<std::unique_ptr<Connection>> Open(const std::string& host_port) {
    ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(host_port));
    const std::string port = std::to_string(hp.port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
      return Status::Unavailable("resolving " + host_port + ": " + ::gai_strerror(rc));
    }
    Status last = Status::Unavailable("no address for " + host_port);
    std::unique_ptr<Connection> conn;
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        last = Status::FromErrno(errno, "socket");
        continue;
      }
      timeval tv{kTimeoutMs / 1000, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        conn.reset(new Connection(fd));
        break;
      }
      last = Status::FromErrno(errno, "connecting to " + host_port);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    if (!conn) return last;
    return conn;
  }

  template <typename Resp, typename Req>
  Result<Resp> Call(int16_t version, const Req& req) {
    int32_t corr = ++correlation_id_;
    ASSIGN_OR_RETURN(std::string frame,
                     EncodeRequestFrame(corr, version, std::string("braid-groups"), req));
    RETURN_IF_ERROR(WriteAll(frame));
    std::string size_bytes;
    RETURN_IF_ERROR(ReadExactly(4, &size_bytes));
    ASSIGN_OR_RETURN(int32_t size, DecodeFrameSize(size_bytes, kDefaultMaxFrameSize));
    std::string body;
    RETURN_IF_ERROR(ReadExactly(static_cast<size_t>(size), &body));
    Reader r(body);
    int32_t got = 0;
    RETURN_IF_ERROR(DecodeResponseHeader(
        &r, ResponseHeaderVersion(static_cast<int16_t>(Req::kApiKey), version), &got));
    if (got != corr) {
      return Status::Corruption("response correlation id " + std::to_string(got) + " != request " +
                                std::to_string(corr));
    }
    Resp resp;
    RETURN_IF_ERROR(resp.Decode(&r, version));
    return resp;
  }

 private:
  explicit Connection(int fd) : fd_(fd) {}

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "sending request");
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }
  Status ReadExactly(size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, out->data() + got, n - got, 0);
      if (r == 0) return Status::Unavailable("broker closed the connection");
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return Status::TimedOut("no response from the broker");
        }
        return Status::FromErrno(errno, "receiving response");
      }
      got += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  int fd_;
  int32_t correlation_id_ = 0;
};

Status KafkaError(ErrorCode e, std::string_view what) {
  return Status::FailedPrecondition(std::string(what) + ": " + std::string(ErrorCodeName(e)));
}

// Connection to the group's coordinator (retrying while it loads).
Result<std::unique_ptr<Connection>> ConnectCoordinator(const std::string& bootstrap,
                                                       const std::string& group) {
  ASSIGN_OR_RETURN(auto conn, Connection::Open(bootstrap));
  for (int attempt = 0;; ++attempt) {
    FindCoordinatorRequest req;
    req.key = group;
    ASSIGN_OR_RETURN(auto resp, conn->Call<FindCoordinatorResponse>(0, req));
    if (resp.error_code == ErrorCode::kNone) {
      std::string addr = resp.host + ":" + std::to_string(resp.port);
      if (addr == bootstrap) return conn;
      auto direct = Connection::Open(addr);
      if (direct.ok()) return direct;
      return conn;  // advertised address unreachable from here: use bootstrap
    }
    if ((resp.error_code != ErrorCode::kCoordinatorNotAvailable &&
         resp.error_code != ErrorCode::kCoordinatorLoadInProgress) ||
        attempt >= 20) {
      return KafkaError(resp.error_code, "FindCoordinator");
    }
    ::usleep(250 * 1000);
  }
}

// ConsumerProtocolAssignment (opaque to the broker): i16 version,
// [topic string, [i32 partition]], nullable bytes user data.
std::vector<std::pair<std::string, int32_t>> DecodeAssignment(const std::string& bytes) {
  std::vector<std::pair<std::string, int32_t>> out;
  if (bytes.size() < 2) return out;
  Reader r(bytes);
  int16_t version;
  int32_t topics;
  if (!r.ReadInt16(&version).ok() || !r.ReadInt32(&topics).ok() || topics < 0) return {};
  for (int32_t t = 0; t < topics; ++t) {
    std::string topic;
    int32_t n;
    if (!r.ReadString(&topic).ok() || !r.ReadInt32(&n).ok() || n < 0) return out;
    for (int32_t i = 0; i < n; ++i) {
      int32_t p;
      if (!r.ReadInt32(&p).ok()) return out;
      out.emplace_back(topic, p);
    }
  }
  return out;
}

using TopicPartitionKey = std::pair<std::string, int32_t>;

// ListOffsets v1 for the given partitions at `timestamp` (-1 latest, -2
// earliest, else the first offset with a record timestamp >= it; -1 if none).
Result<std::map<TopicPartitionKey, int64_t>> ListOffsets(Connection* conn,
                                                         const std::set<TopicPartitionKey>& tps,
                                                         int64_t timestamp) {
  ListOffsetsRequest req;
  for (const auto& [topic, p] : tps) {
    if (req.topics.empty() || req.topics.back().name != topic) req.topics.push_back({topic, {}});
    ListOffsetsRequest::Partition part;
    part.partition_index = PartitionId(p);
    part.timestamp = timestamp;
    req.topics.back().partitions.push_back(part);
  }
  std::map<TopicPartitionKey, int64_t> out;
  if (req.topics.empty()) return out;
  ASSIGN_OR_RETURN(auto resp, conn->Call<ListOffsetsResponse>(1, req));
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != ErrorCode::kNone) {
        return KafkaError(p.error_code, "ListOffsets " + t.name + "-" +
                                            std::to_string(p.partition_index.value()));
      }
      out[{t.name, p.partition_index.value()}] = p.offset.value();
    }
  }
  return out;
}

Result<std::map<TopicPartitionKey, OffsetFetchResponse::Partition>> FetchCommitted(
    Connection* conn, const std::string& group) {
  OffsetFetchRequest req;
  req.group_id = group;
  req.topics = std::nullopt;  // all
  ASSIGN_OR_RETURN(auto resp, conn->Call<OffsetFetchResponse>(2, req));
  if (resp.error_code != ErrorCode::kNone) return KafkaError(resp.error_code, "OffsetFetch");
  std::map<TopicPartitionKey, OffsetFetchResponse::Partition> out;
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      if (p.committed_offset.value() >= 0) out[{t.name, p.partition_index.value()}] = p;
    }
  }
  return out;
}

Result<DescribeGroupsResponse::Group> Describe(Connection* conn, const std::string& group) {
  DescribeGroupsRequest req;
  req.groups = {group};
  ASSIGN_OR_RETURN(auto resp, conn->Call<DescribeGroupsResponse>(1, req));
  if (resp.groups.size() != 1) return Status::Corruption("DescribeGroups: wrong group count");
  if (resp.groups[0].error_code != ErrorCode::kNone) {
    return KafkaError(resp.groups[0].error_code, "DescribeGroups");
  }
  return resp.groups[0];
}

std::string OrDash(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

Status ListCmd(const std::string& bootstrap) {
  ASSIGN_OR_RETURN(auto conn, Connection::Open(bootstrap));
  ASSIGN_OR_RETURN(auto resp, conn->Call<ListGroupsResponse>(1, ListGroupsRequest{}));
  if (resp.error_code != ErrorCode::kNone) return KafkaError(resp.error_code, "ListGroups");
  for (const auto& g : resp.groups) std::printf("%s\n", g.group_id.c_str());
  return Status::OK();
}

Status DescribeCmd(const std::string& bootstrap, const std::string& group) {
  ASSIGN_OR_RETURN(auto conn, ConnectCoordinator(bootstrap, group));
  ASSIGN_OR_RETURN(auto desc, Describe(conn.get(), group));
  if (desc.group_state == "Dead") {
    return Status::NotFound("consumer group '" + group + "' does not exist");
  }
  ASSIGN_OR_RETURN(auto committed, FetchCommitted(conn.get(), group));
  // Partition -> owning member (from the assignments, when Stable).
  std::map<TopicPartitionKey, const DescribeGroupsResponse::Member*> owner;
  for (const auto& m : desc.members) {
    for (const auto& tp : DecodeAssignment(m.member_assignment)) owner[tp] = &m;
  }
  std::set<TopicPartitionKey> tps;
  for (const auto& [tp, c] : committed) tps.insert(tp);
  for (const auto& [tp, m] : owner) tps.insert(tp);
  auto bconn = Connection::Open(bootstrap);
  std::map<TopicPartitionKey, int64_t> ends;
  if (bconn.ok()) {
    auto e = ListOffsets(bconn->get(), tps, kListOffsetsLatest);
    if (e.ok()) ends = std::move(*e);
  }
  std::printf("Consumer group '%s' (state %s, protocol %s)\n", group.c_str(),
              desc.group_state.c_str(),
              desc.protocol_data.empty() ? "-" : desc.protocol_data.c_str());
  if (desc.members.empty())
    std::printf("Consumer group '%s' has no active members.\n", group.c_str());
  std::printf("\n%-24s %-24s %-10s %-15s %-15s %-8s %-40s %-16s %s\n", "GROUP", "TOPIC",
              "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
              "CLIENT-ID");
  for (const auto& tp : tps) {
    auto c = committed.find(tp);
    int64_t cur = c == committed.end() ? -1 : c->second.committed_offset.value();
    auto e = ends.find(tp);
    int64_t end = e == ends.end() ? -1 : e->second;
    std::string lag = cur >= 0 && end >= 0 ? std::to_string(std::max<int64_t>(0, end - cur)) : "-";
    auto o = owner.find(tp);
    const DescribeGroupsResponse::Member* m = o == owner.end() ? nullptr : o->second;
    std::printf("%-24s %-24s %-10d %-15s %-15s %-8s %-40s %-16s %s\n", group.c_str(),
                tp.first.c_str(), tp.second, OrDash(cur).c_str(), OrDash(end).c_str(), lag.c_str(),
                m ? m->member_id.c_str() : "-", m ? m->client_host.c_str() : "-",
                m ? m->client_id.c_str() : "-");
  }
  if (!desc.members.empty()) {
    std::printf("\n%-40s %-16s %-20s %s\n", "MEMBER-ID", "HOST", "CLIENT-ID", "#PARTITIONS");
    for (const auto& m : desc.members) {
      std::printf("%-40s %-16s %-20s %zu\n", m.member_id.c_str(), m.client_host.c_str(),
                  m.client_id.c_str(), DecodeAssignment(m.member_assignment).size());
    }
  }
  return Status::OK();
}

// Parses "YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM|-HH:MM]" (no zone: local time,
// as Kafka's tool) or plain epoch milliseconds.
Result<int64_t> ParseDateTime(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    return static_cast<int64_t>(std::stoll(s));
  }
  std::tm tm{};
  int ms = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return Status::InvalidArgument("bad --to-datetime '" + s +
                                   "' (expected YYYY-MM-DDTHH:mm:SS.sss)");
  }
  std::string rest = s.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    std::string frac;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) frac += rest[i++];
    frac = (frac + "000").substr(0, 3);
    ms = std::stoi(frac);
    rest = rest.substr(i);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t secs;
  if (rest.empty()) {
    tm.tm_isdst = -1;
    secs = static_cast<int64_t>(std::mktime(&tm));
  } else if (rest == "Z") {
    secs = static_cast<int64_t>(timegm(&tm));
  } else {
    int hh = 0, mm = 0;
    if ((rest[0] != '+' && rest[0] != '-') ||
        std::sscanf(rest.c_str() + 1, "%2d:%2d", &hh, &mm) != 2) {
      return Status::InvalidArgument("bad time zone in --to-datetime '" + s + "'");
    }
    int64_t off = (hh * 60 + mm) * 60;
    secs = static_cast<int64_t>(timegm(&tm)) - (rest[0] == '+' ? off : -off);
  }
  return secs * 1000 + ms;
}

struct ResetOptions {
  std::string group;
  std::vector<std::string> topics;  // "t" or "t:0,1,2"
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<std::string> to_datetime;
  std::optional<int64_t> shift_by;
  bool dry_run = false;
  bool execute = false;
};

Status ResetCmd(const std::string& bootstrap, const ResetOptions& o) {
  int modes = int{o.to_earliest} + int{o.to_latest} + int{o.to_offset.has_value()} +
              int{o.to_datetime.has_value()} + int{o.shift_by.has_value()};
  if (modes != 1) {
    return Status::InvalidArgument(
        "give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, "
        "--shift-by");
  }
  if (o.topics.empty() == !o.all_topics) {
    return Status::InvalidArgument("give --topic (repeatable) or --all-topics");
  }
  if (o.dry_run && o.execute) {
    return Status::InvalidArgument("--dry-run and --execute are exclusive");
  }
  ASSIGN_OR_RETURN(auto coord, ConnectCoordinator(bootstrap, o.group));
  ASSIGN_OR_RETURN(auto desc, Describe(coord.get(), o.group));
  if (desc.group_state != "Empty" && desc.group_state != "Dead") {
    return Status::FailedPrecondition("assignments can only be reset if the group '" + o.group +
                                      "' is inactive, but the current state is " +
                                      desc.group_state);
  }
  ASSIGN_OR_RETURN(auto committed, FetchCommitted(coord.get(), o.group));
  ASSIGN_OR_RETURN(auto conn, Connection::Open(bootstrap));

  // Which partitions.
  std::set<TopicPartitionKey> tps;
  if (o.all_topics) {
    for (const auto& [tp, c] : committed) tps.insert(tp);
  } else {
    std::vector<std::string> whole;
    for (const auto& spec : o.topics) {
      size_t colon = spec.find(':');
      if (colon == std::string::npos) {
        whole.push_back(spec);
        continue;
      }
      std::string topic = spec.substr(0, colon);
      std::string list = spec.substr(colon + 1);
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string part =
            list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) {
          return Status::InvalidArgument("bad partition list in --topic '" + spec + "'");
        }
        tps.insert({topic, std::stoi(part)});
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    }
    if (!whole.empty()) {
      MetadataRequest mreq;
      mreq.topics = whole;
      mreq.allow_auto_topic_creation = false;  // v4+: never create what we look up
      ASSIGN_OR_RETURN(auto meta, conn->Call<MetadataResponse>(4, mreq));
      for (const auto& t : meta.topics) {
        if (t.error_code != ErrorCode::kNone) {
          return KafkaError(t.error_code, "topic '" + t.name + "'");
        }
        for (const auto& p : t.partitions) tps.insert({t.name, p.partition_index.value()});
      }
    }
  }
  if (tps.empty()) return Status::NotFound("no partitions to reset");

  ASSIGN_OR_RETURN(auto earliest, ListOffsets(conn.get(), tps, kListOffsetsEarliest));
  ASSIGN_OR_RETURN(auto latest, ListOffsets(conn.get(), tps, kListOffsetsLatest));
  std::map<TopicPartitionKey, int64_t> by_time;
  if (o.to_datetime) {
    ASSIGN_OR_RETURN(int64_t ts, ParseDateTime(*o.to_datetime));
    ASSIGN_OR_RETURN(by_time, ListOffsets(conn.get(), tps, ts));
  }
  std::map<TopicPartitionKey, int64_t> target;
  for (const auto& tp : tps) {
    int64_t lo = earliest[tp], hi = latest[tp], t;
    if (o.to_earliest) {
      t = lo;
    } else if (o.to_latest) {
      t = hi;
    } else if (o.to_offset) {
      t = *o.to_offset;
    } else if (o.to_datetime) {
      t = by_time[tp] < 0 ? hi : by_time[tp];
    } else {
      auto c = committed.find(tp);
      t = (c == committed.end() ? lo : c->second.committed_offset.value()) + *o.shift_by;
    }
    target[tp] = std::clamp(t, lo, hi);
  }

  if (!o.execute && !o.dry_run) {
    std::fprintf(stderr,
                 "WARN: No action will be performed as the --execute option is missing. "
                 "In a future major release, the default behavior of this command will be to "
                 "prompt the user before executing the reset rather than doing a dry run. You "
                 "should add the --dry-run option explicitly if you are scripting this command "
                 "and want to keep the current default behavior without prompting.\n");
  }
  if (o.execute) {
    OffsetCommitRequest req;
    req.group_id = o.group;
    req.generation_id = GenerationId(-1);
    req.member_id = "";
    req.retention_time_ms = -1;
    for (const auto& [tp, off] : target) {
      if (req.topics.empty() || req.topics.back().name != tp.first) {
        req.topics.push_back({tp.first, {}});
      }
      OffsetCommitRequest::Partition p;
      p.partition_index = PartitionId(tp.second);
      p.committed_offset = Offset(off);
      p.committed_metadata = "";
      req.topics.back().partitions.push_back(p);
    }
    ASSIGN_OR_RETURN(auto resp, coord->Call<OffsetCommitResponse>(2, req));
    for (const auto& t : resp.topics) {
      for (const auto& p : t.partitions) {
        if (p.error_code != ErrorCode::kNone) {
          return KafkaError(p.error_code, "OffsetCommit " + t.name + "-" +
                                              std::to_string(p.partition_index.value()));
        }
      }
    }
  }
  std::printf("%-24s %-24s %-10s %s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
  for (const auto& [tp, off] : target) {
    std::printf("%-24s %-24s %-10d %" PRId64 "\n", o.group.c_str(), tp.first.c_str(), tp.second,
                off);
  }
  return Status::OK();
}

Status DeleteCmd(const std::string& bootstrap, const std::string& group) {
  ASSIGN_OR_RETURN(auto conn, ConnectCoordinator(bootstrap, group));
  DeleteGroupsRequest req;
  req.groups_names = {group};
  ASSIGN_OR_RETURN(auto resp, conn->Call<DeleteGroupsResponse>(0, req));
  for (const auto& r : resp.results) {
    if (r.error_code != ErrorCode::kNone) return KafkaError(r.error_code, "DeleteGroups");
  }
  std::printf("Deletion of requested consumer groups ('%s') was successful.\n", group.c_str());
  return Status::OK();
}

int Report(const char* cmd, const Status& s) {
  std::fflush(stdout);
  if (s.ok()) return 0;
  std::fprintf(stderr, "braid groups %s: %s\n", cmd, s.ToString().c_str());
  return 1;
}

}  // namespace

void AddGroupsCommands(CLI::App* root, int* exit_code) {
  CLI::App* groups = root->add_subcommand(
      "groups", "Consumer groups of a running braid (kafka-consumer-groups semantics)");
  groups->require_subcommand(1);
  auto bootstrap = std::make_shared<std::string>("127.0.0.1:9092");
  auto add_bootstrap = [bootstrap](CLI::App* cmd) {
    cmd->add_option("--bootstrap-server", *bootstrap, "HOST:PORT of the broker")
        ->capture_default_str();
  };

  CLI::App* list = groups->add_subcommand("list", "List the consumer groups");
  add_bootstrap(list);
  list->callback([=] { *exit_code = Report("list", ListCmd(*bootstrap)); });

  auto group = std::make_shared<std::string>();
  CLI::App* describe = groups->add_subcommand(
      "describe", "Committed offsets, log end offsets, lag and members of a group");
  add_bootstrap(describe);
  describe->add_option("--group", *group, "Group id")->required();
  describe->callback([=] { *exit_code = Report("describe", DescribeCmd(*bootstrap, *group)); });

  auto ro = std::make_shared<ResetOptions>();
  CLI::App* reset = groups->add_subcommand(
      "reset-offsets", "Reset an inactive group's committed offsets (dry run unless --execute)");
  add_bootstrap(reset);
  reset->add_option("--group", ro->group, "Group id")->required();
  reset->add_option("--topic", ro->topics, "TOPIC or TOPIC:P1,P2 (repeatable)");
  reset->add_flag("--all-topics", ro->all_topics, "Every topic the group has committed");
  reset->add_flag("--to-earliest", ro->to_earliest, "Reset to the log start offset");
  reset->add_flag("--to-latest", ro->to_latest, "Reset to the log end offset");
  reset->add_option("--to-offset", ro->to_offset, "Reset to this offset (clamped to the log)");
  reset->add_option("--to-datetime", ro->to_datetime,
                    "Reset to the first offset at or after YYYY-MM-DDTHH:mm:SS.sss[Z|+HH:MM]");
  reset->add_option("--shift-by", ro->shift_by, "Move the committed offsets by N (may be < 0)");
  reset->add_flag("--dry-run", ro->dry_run, "Only print the new offsets (the default)");
  reset->add_flag("--execute", ro->execute, "Commit the new offsets");
  reset->callback([=] { *exit_code = Report("reset-offsets", ResetCmd(*bootstrap, *ro)); });

  auto del_group = std::make_shared<std::string>();
  CLI::App* del = groups->add_subcommand("delete", "Delete an inactive group and its offsets");
  add_bootstrap(del);
  del->add_option("--group", *del_group, "Group id")->required();
  del->callback([=] { *exit_code = Report("delete", DeleteCmd(*bootstrap, *del_group)); });
}

}  // namespace braid::cli
