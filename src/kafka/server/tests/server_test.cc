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
  void HandleRequest(const ConnectionInfo& conn, std::shared_ptr<const std::string> frame,
                     RespondFn respond) override {
    std::string f = *frame;
    if (!f.empty() && f[0] == 'd') {
      executor->RunAfter(50, [f, respond] { respond(HandlerResult::Response(Frame(f))); });
    } else if (!f.empty() && f[0] == 'n') {
      respond(HandlerResult::NoResponse());
    } else if (!f.empty() && f[0] == 'c') {
      respond(HandlerResult::Close());
    } else if (!f.empty() && f[0] == 'a') {  // authenticates the connection
      HandlerResult r = HandlerResult::Response(Frame(f));
      r.authenticated = true;
      respond(std::move(r));
    } else if (!f.empty() && f[0] == 'x') {  // answers, then closes
      HandlerResult r = HandlerResult::Response(Frame(f));
      r.close_after = true;
      respond(std::move(r));
    } else if (!f.empty() && f[0] == 'p') {  // names the listener
      respond(HandlerResult::Response(Frame(std::to_string(conn.listener) + " " +
                                            std::string(SecurityProtocolName(conn.protocol)))));
    } else if (!f.empty() && f[0] == 's') {  // big frame: answers its size
      respond(HandlerResult::Response(Frame(std::to_string(f.size()))));
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

TEST(KafkaServerTest, ParseListener) {
  auto l = ParseListener("SASL_SSL://127.0.0.1:9094");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->protocol, SecurityProtocol::kSaslSsl);
  EXPECT_EQ(l->listen, "127.0.0.1:9094");
  l = ParseListener("127.0.0.1:9092");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->protocol, SecurityProtocol::kPlaintext);
  EXPECT_FALSE(ParseListener("TLS://127.0.0.1:1").ok());
  EXPECT_FALSE(ParseListener("SSL://nohost").ok());
}

// Several listeners; a SASL listener limits frames until the handler says
// the connection authenticated; close_after closes after the answer.
TEST(KafkaServerTest, ListenersAndUnauthenticatedFrameLimit) {
  TestHandler h;
  ServerOptions o;
  ListenerOptions plain;
  plain.listen = "127.0.0.1:0";
  ListenerOptions sasl;
  sasl.listen = "127.0.0.1:0";
  sasl.protocol = SecurityProtocol::kSaslPlaintext;
  o.listeners = {plain, sasl};
  o.max_unauthenticated_frame_bytes = 1000;
  Server s(o, &h);
  h.executor = s.executor();
  ASSERT_TRUE(s.Start().ok());
  ASSERT_NE(s.port(0), s.port(1));

  int fd = Connect(s.port(1));
  std::string req = Frame("p") + Frame("x");
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  EXPECT_EQ(ReadAll(fd), Frame("1 SASL_PLAINTEXT") + Frame("x"));
  ::close(fd);

  const std::string big = "s" + std::string(5000, 'y');
  fd = Connect(s.port(1));  // unauthenticated: the big frame closes
  req = Frame(big);
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  EXPECT_EQ(ReadAll(fd), "");
  ::close(fd);

  fd = Connect(s.port(1));  // authenticated first: accepted
  req = Frame("a") + Frame(big) + Frame("c");
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  EXPECT_EQ(ReadAll(fd), Frame("a") + Frame("5001"));
  ::close(fd);

  fd = Connect(s.port(0));  // PLAINTEXT: no such limit
  req = Frame("p") + Frame(big) + Frame("c");
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  EXPECT_EQ(ReadAll(fd), Frame("0 PLAINTEXT") + Frame("5001"));
  ::close(fd);
  s.Stop();
}

TEST(KafkaServerTest, TlsListenerNeedsCertificate) {
  TestHandler h;
  ServerOptions o;
  ListenerOptions tls;
  tls.listen = "127.0.0.1:0";
  tls.protocol = SecurityProtocol::kSsl;
  o.listeners = {tls};
  Server s(o, &h);
  EXPECT_FALSE(s.Start().ok());
}

}  // namespace
}  // namespace braid::kafka
