#include "runtime/runtime.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "io/file_system.h"

namespace braid::runtime {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/braid-runtime-test-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "";
}

std::string Get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// Records start/stop order; adds a route and provides itself as a service.
class TestRole : public Role {
 public:
  TestRole(std::string name, std::vector<std::string>* events, bool fail = false)
      : name_(std::move(name)), events_(events), fail_(fail) {}
  std::string name() const override { return name_; }
  Status Start(Runtime* rt) override {
    if (fail_) return Status::Unavailable("cannot start");
    events_->push_back("start " + name_);
    if (rt->http() != nullptr) {
      rt->http()->Route("GET", "/v1/" + name_,
                        [this](const http::Request&) { return http::Response::Text(200, name_); });
    }
    if (name_ == "first") rt->Provide<TestRole>(this);
    seen_ = rt->Find<TestRole>();
    return Status::OK();
  }
  void Stop() override { events_->push_back("stop " + name_); }
  TestRole* seen() const { return seen_; }

 private:
  std::string name_;
  std::vector<std::string>* events_;
  bool fail_;
  TestRole* seen_ = nullptr;
};

TEST(RuntimeTest, RolesStartInOrderAddRoutesShareServicesAndStopInReverse) {
  const std::string dir = TempDir();
  std::vector<std::string> events;
  RuntimeOptions o;
  o.data_dir = dir;
  o.http_listen = "127.0.0.1:0";
  Runtime rt(o);
  auto first = std::make_unique<TestRole>("first", &events);
  auto second = std::make_unique<TestRole>("second", &events);
  TestRole* first_ptr = first.get();
  TestRole* second_ptr = second.get();
  rt.AddRole(std::move(first));
  rt.AddRole(std::move(second));
  ASSERT_TRUE(rt.Start().ok());
  EXPECT_EQ(second_ptr->seen(), first_ptr);
  const int port = rt.http()->port();
  EXPECT_NE(Get(port, "/v1/second").find("second"), std::string::npos);
  const std::string health = Get(port, "/health");
  EXPECT_NE(health.find("200 OK"), std::string::npos) << health;
  EXPECT_NE(health.find(R"("roles":["first","second"],"not_ready":[])"), std::string::npos)
      << health;
  EXPECT_NE(Get(port, "/metrics").find("200 OK"), std::string::npos);
  // The lock file names us and our HTTP address.
  auto owner = FindDataDirOwner(dir);
  ASSERT_TRUE(owner.ok() && owner->has_value());
  EXPECT_EQ((*owner)->pid, ::getpid());
  EXPECT_EQ((*owner)->http, rt.http_address());
  ASSERT_TRUE(rt.Stop().ok());
  EXPECT_EQ(events,
            (std::vector<std::string>{"start first", "start second", "stop second", "stop first"}));
  owner = FindDataDirOwner(dir);
  ASSERT_TRUE(owner.ok());
  EXPECT_FALSE(owner->has_value());
}

TEST(RuntimeTest, AFailedStartStopsWhatStarted) {
  std::vector<std::string> events;
  RuntimeOptions o;
  o.data_dir = TempDir();
  Runtime rt(o);
  rt.AddRole(std::make_unique<TestRole>("first", &events));
  rt.AddRole(std::make_unique<TestRole>("broken", &events, /*fail=*/true));
  Status s = rt.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("starting broken"), std::string_view::npos) << s.ToString();
  EXPECT_EQ(events, (std::vector<std::string>{"start first", "stop first"}));
}

TEST(DataDirLockTest, SecondHolderGetsAClearErrorWithThePid) {
  const std::string dir = TempDir();
  auto lock = DataDirLock::Acquire(dir);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  // Another process (a forked child) cannot take it and learns our pid.
  const pid_t child = ::fork();
  if (child == 0) {
    auto again = DataDirLock::Acquire(dir);
    const bool clear =
        !again.ok() && again.status().code() == StatusCode::kFailedPrecondition &&
        again.status().message().find(std::to_string(::getppid())) != std::string_view::npos &&
        again.status().message().find(dir) != std::string_view::npos;
    ::_exit(clear ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Released: the next holder gets it.
  lock->reset();
  auto next = DataDirLock::Acquire(dir);
  EXPECT_TRUE(next.ok()) << next.status().ToString();
}

}  // namespace
}  // namespace braid::runtime
