#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace braid::http {
namespace {

// Sends `raw` to 127.0.0.1:port and reads until the peer closes.
std::string RoundTrip(int port, const std::string& raw) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, raw.data(), raw.size());
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(ServerTest, RoutesByLongestPrefixAndMethod) {
  Server s(ServerOptions{"127.0.0.1:0", 1, 1024, 5000});
  s.Route("GET", "/health",
          [](const Request&) { return Response::Json(200, R"({"status":"ok"})"); });
  s.Route("*", "/subjects", [](const Request& r) {
    return Response::Text(200, r.method + " " + r.path + " q=" +
                                   (r.query.count("a") ? r.query.at("a") : "") + " b=" + r.body);
  });
  s.Route("GET", "/subjects/special",
          [](const Request&) { return Response::Text(201, "special"); });
  ASSERT_TRUE(s.Start().ok());
  ASSERT_GT(s.port(), 0);

  std::string r =
      RoundTrip(s.port(), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"status":"ok"})"), std::string::npos) << r;

  // Two pipelined keep-alive requests; the second closes.
  r = RoundTrip(s.port(),
                "POST /subjects/a%20b?a=1%2F2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
                "GET /subjects/special HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("POST /subjects/a b q=1/2 b=xyz"), std::string::npos) << r;
  EXPECT_NE(r.find("201 Created"), std::string::npos) << r;

  r = RoundTrip(s.port(), "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("404"), std::string::npos) << r;
  r = RoundTrip(s.port(), "DELETE /health HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("405"), std::string::npos) << r;
  r = RoundTrip(s.port(),
                "POST /subjects HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'));
  EXPECT_NE(r.find("413"), std::string::npos) << r;
  r = RoundTrip(s.port(), "garbage\r\n\r\n");
  EXPECT_EQ(r.find("200"), std::string::npos);
  s.Stop();
  s.Stop();
}

// The status code of an answer ("HTTP/1.1 400 Bad Request..." → 400).
int StatusOf(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

TEST(ServerTest, MalformedRequestsGetTheirStatusAndAJsonBody) {
  Server s(ServerOptions{"127.0.0.1:0", 1, 1024, 5000});
  s.Route("*", "/", [](const Request& r) { return Response::Text(200, "ok " + r.body); });
  ASSERT_TRUE(s.Start().ok());
  const std::string ok_post =
      "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab";
  EXPECT_EQ(StatusOf(RoundTrip(s.port(), ok_post)), 200);
  struct Case {
    std::string name;
    std::string raw;
    int status;
  };
  const std::vector<Case> cases = {
      {"negative Content-Length", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"non-numeric Content-Length", "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400},
      {"20-digit Content-Length",
       "POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"duplicate Content-Length",
       "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 400},
      {"Content-Length and Transfer-Encoding",
       "POST /x HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nab", 400},
      {"HTTP/9.9", "GET /x HTTP/9.9\r\n\r\n", 505},
      {"HTTP/2.0", "GET /x HTTP/2.0\r\n\r\n", 505},
      {"malformed version", "GET /x HTTP/x\r\n\r\n", 400},
      {"bare LF", "GET /x HTTP/1.1\nHost: x\n\n", 400},
      {"100 KB URL", "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"9 KB URL", "GET /" + std::string(9 * 1024, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"unknown method", "BREW /x HTTP/1.1\r\n\r\n", 501},
      {"WebDAV method", "PROPFIND /x HTTP/1.1\r\n\r\n", 501},
      {"unknown Transfer-Encoding", "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"oversized header", "GET /x HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'b') + "\r\n\r\n",
       431},
      {"too many headers",
       [] {
         std::string r = "GET /x HTTP/1.1\r\n";
         for (int i = 0; i < 101; ++i) r += "X-H" + std::to_string(i) + ": v\r\n";
         return r + "\r\n";
       }(),
       431},
      {"truncated body", "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nab", 400},
      {"garbage", "garbage\r\n\r\n", 400},
      {"body too large", "POST /x HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413},
  };
  for (const Case& c : cases) {
    // The truncated body needs the client to half-close (RoundTrip keeps
    // its side open): see IncompleteRequestIsClosedAfterTheTimeout.
    if (c.name == "truncated body") continue;
    const std::string r = RoundTrip(s.port(), c.raw);
    EXPECT_EQ(StatusOf(r), c.status) << c.name << ": " << r.substr(0, 200);
    EXPECT_NE(r.find("{\"error_code\":" + std::to_string(c.status) + ",\"message\":"),
              std::string::npos)
        << c.name << ": " << r.substr(0, 300);
    EXPECT_NE(r.find("Connection: close"), std::string::npos) << c.name;
  }
  // The server still answers well-formed requests.
  EXPECT_EQ(StatusOf(RoundTrip(s.port(), ok_post)), 200);
  s.Stop();
}

TEST(ServerTest, IncompleteRequestIsClosedAfterTheTimeout) {
  Server s(ServerOptions{"127.0.0.1:0", 1, 1024, 300});
  s.Route("*", "/", [](const Request&) { return Response::Text(200, "ok"); });
  ASSERT_TRUE(s.Start().ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RoundTrip(s.port(), "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"), "");
  EXPECT_EQ(RoundTrip(s.port(), "GET /x HTTP/1.1\r\nHost:"), "");
  EXPECT_EQ(RoundTrip(s.port(), ""), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  s.Stop();
}

TEST(ServerTest, StopClosesIdleConnections) {
  Server s(ServerOptions{"127.0.0.1:0", 2, 1024, 60000});
  s.Route("GET", "/", [](const Request&) { return Response::Text(200, "root"); });
  ASSERT_TRUE(s.Start().ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(s.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  s.Stop();  // must not hang on the idle keep-alive connection
  ::close(fd);
}

// A handler that waits does not hold an io thread: with one io thread, a
// quick request is answered while a blocking one and an asynchronous one are
// still pending; routes added after Start() are served.
TEST(ServerTest, WaitingHandlersDoNotBlockIoThreads) {
  Server s(ServerOptions{"127.0.0.1:0", /*threads=*/1, 1024, 5000, /*blocking_threads=*/2});
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Responder parked;
  s.RouteBlocking("POST", "/wait", [&](const Request&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return Response::Text(200, "waited");
  });
  s.RouteAsync("GET", "/later", [&](const Request& r, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    parked = [respond, path = r.path](Response) { respond(Response::Text(200, "later " + path)); };
  });
  ASSERT_TRUE(s.Start().ok());
  s.Route("GET", "/quick", [](const Request&) { return Response::Text(200, "quick"); });

  std::string waited, later;
  std::thread t1([&] {
    waited = RoundTrip(s.port(),
                       "POST /wait HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  std::thread t2(
      [&] { later = RoundTrip(s.port(), "GET /later HTTP/1.1\r\nConnection: close\r\n\r\n"); });
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (parked) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string quick = RoundTrip(s.port(), "GET /quick HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(quick.find("quick"), std::string::npos) << quick;
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(waited.empty());
    EXPECT_TRUE(later.empty());
    release = true;
    ASSERT_TRUE(parked);
    parked(Response{});
  }
  cv.notify_all();
  t1.join();
  t2.join();
  EXPECT_NE(waited.find("waited"), std::string::npos) << waited;
  EXPECT_NE(later.find("later /later"), std::string::npos) << later;
  s.Stop();
}

// Stop() answers requests whose asynchronous handler never replies.
TEST(ServerTest, StopAnswersPendingAsyncRequests) {
  Server s(ServerOptions{"127.0.0.1:0", 1, 1024, 5000});
  std::atomic<int> arrived{0};
  std::vector<Responder> kept;
  std::mutex mu;
  s.RouteAsync("GET", "/never", [&](const Request&, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    kept.push_back(std::move(respond));
    ++arrived;
  });
  ASSERT_TRUE(s.Start().ok());
  std::string r;
  std::thread t(
      [&] { r = RoundTrip(s.port(), "GET /never HTTP/1.1\r\nConnection: close\r\n\r\n"); });
  while (arrived.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  s.Stop();
  t.join();
  EXPECT_NE(r.find("503"), std::string::npos) << r;
  std::lock_guard<std::mutex> lock(mu);
  for (auto& k : kept) k(Response::Text(200, "too late"));  // harmless after stop
}

// The authorization hook runs before routing (also for unknown paths), its
// Response replaces the handler's, and a throwing hook is a 500, not a crash.
TEST(ServerTest, AuthorizeHookRunsBeforeRouting) {
  ServerOptions o{"127.0.0.1:0", 1, 1024, 5000};
  std::atomic<int> handled{0};
  std::mutex mu;
  std::string seen_peer;
  o.authorize = [&](const Request& r) -> std::optional<Response> {
    {
      std::lock_guard<std::mutex> l(mu);
      seen_peer = r.peer;
    }
    if (r.path == "/throw") throw std::runtime_error("boom");
    if (r.Header("Authorization") == "ok") return std::nullopt;
    Response resp = Response::Error(401, "authentication required");
    resp.headers.emplace_back("WWW-Authenticate", "Basic realm=\"braid\"");
    return resp;
  };
  Server s(o);
  s.Route("GET", "/a", [&](const Request& r) {
    ++handled;
    return Response::Text(200, "peer=" + r.peer);
  });
  ASSERT_TRUE(s.Start().ok());
  std::string r = RoundTrip(s.port(), "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("401 Unauthorized"), std::string::npos) << r;
  EXPECT_NE(r.find("WWW-Authenticate: Basic realm=\"braid\""), std::string::npos) << r;
  EXPECT_NE(r.find(R"({"error_code":401,"message":"authentication required"})"), std::string::npos)
      << r;
  EXPECT_EQ(handled.load(), 0);
  r = RoundTrip(s.port(), "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("401 Unauthorized"), std::string::npos) << r;
  r = RoundTrip(s.port(),
                "GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: ok\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find("peer=127.0.0.1"), std::string::npos) << r;
  EXPECT_EQ(handled.load(), 1);
  r = RoundTrip(s.port(), "GET /throw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("500 Internal Server Error"), std::string::npos) << r;
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(seen_peer, "127.0.0.1");
}

}  // namespace
}  // namespace braid::http
