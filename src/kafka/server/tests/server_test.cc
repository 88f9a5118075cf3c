#include "kafka/server/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace braid::kafka {
namespace {

std::string Frame(const std::string& payload) {
  uint32_t n = static_cast<uint32_t>(payload.size());
  std::string out = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8), static_cast<char>(n)};
  return out + payload;
}

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Echoes each frame; frames starting with 'd' answer after a delay (out of
// order internally), 'n' gets no response, 'c' closes.
class TestHandler : public RequestHandler {
 public:
  Executor* executor = nullptr;
  void HandleRequest(const ConnectionInfo&, std::shared_ptr<const std::string> frame,
                     RespondFn respond) override {
    std::string f = *frame;
    if (!f.empty() && f[0] == 'd') {
      executor->RunAfter(50, [f, respond] { respond(HandlerResult::Response(Frame(f))); });
    } else if (!f.empty() && f[0] == 'n') {
      respond(HandlerResult::NoResponse());
    } else if (!f.empty() && f[0] == 'c') {
      respond(HandlerResult::Close());
    } else {
      respond(HandlerResult::Response(Frame(f)));
    }
  }
};

TEST(KafkaServerTest, PipelinedResponsesInOrder) {
  TestHandler h;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.max_frame_bytes = 1024;
  Server s(o, &h);
  h.executor = s.executor();
  ASSERT_TRUE(s.Start().ok());
  int fd = Connect(s.port());
  std::string req = Frame("d1") + Frame("a2") + Frame("n3") + Frame("d4") + Frame("a5") +
                    Frame("c6") + Frame("a7");
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string got = ReadAll(fd);
  EXPECT_EQ(got, Frame("d1") + Frame("a2") + Frame("d4") + Frame("a5"));
  ::close(fd);
  s.Stop();
}

TEST(KafkaServerTest, OversizedAndNegativeFramesClose) {
  TestHandler h;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.max_frame_bytes = 1024;
  Server s(o, &h);
  h.executor = s.executor();
  ASSERT_TRUE(s.Start().ok());
  for (std::string bad : {std::string("\x00\x00\x10\x00", 4), std::string("\xff\xff\xff\xff", 4)}) {
    int fd = Connect(s.port());
    std::string req = Frame("ok") + bad + std::string(100, 'x');
    ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    EXPECT_EQ(ReadAll(fd), Frame("ok"));
    ::close(fd);
  }
  // Truncated frame then EOF: no crash, no response.
  int fd = Connect(s.port());
  std::string req = std::string("\x00\x00\x00\x10", 4) + "abc";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(ReadAll(fd), "");
  ::close(fd);
  // Still serving.
  fd = Connect(s.port());
  req = Frame("hi") + Frame("c");
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  EXPECT_EQ(ReadAll(fd), Frame("hi"));
  ::close(fd);
  s.Stop();
}

TEST(KafkaServerTest, StopWithOpenConnectionsAndPendingTimers) {
  TestHandler h;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  Server s(o, &h);
  h.executor = s.executor();
  ASSERT_TRUE(s.Start().ok());
  int fd = Connect(s.port());
  std::atomic<int> fired{0};
  s.executor()->RunAfter(60000, [&fired] { fired++; });
  auto cancel = s.executor()->RunAfter(60000, [&fired] { fired++; });
  cancel();
  s.Stop();
  EXPECT_EQ(fired.load(), 0);
  ::close(fd);
}

}  // namespace
}  // namespace braid::kafka
