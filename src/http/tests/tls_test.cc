// TLS on the HTTP server and https in the client: certificates made at test
// time with the openssl CLI (a CA, a server certificate for
// 127.0.0.1/localhost, a client certificate); a raw OpenSSL client for
// keep-alive, pipelining, TLS versions and client certificates.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/client.h"
#include "http/server.h"
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace braid::http {
namespace {

namespace fs = std::filesystem;

struct Certs {
  std::string dir, ca, server, server_key, client, client_key, other_ca;
};

bool Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// Makes the test certificates once per process; empty dir if openssl is
// missing.
const Certs& TestCerts() {
  static const Certs certs = [] {
    Certs c;
    if (!Run("openssl version")) return c;
    char tmpl[] = "/tmp/braid-http-tls-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return c;
    const std::string d = tmpl;
    std::ofstream(d + "/san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    const std::string cd = "cd " + d + " && openssl ";
    const bool ok = Run(cd +
                        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=braid test CA' "
                        "-keyout ca.key -out ca.pem") &&
                    Run(cd +
                        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=other CA' "
                        "-keyout other.key -out other.pem") &&
                    Run(cd +
                        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key "
                        "-out server.csr") &&
                    Run(cd +
                        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
                        "-extfile san.ext -out server.pem") &&
                    Run(cd +
                        "req -newkey rsa:2048 -nodes -subj /CN=client-one -keyout client.key "
                        "-out client.csr") &&
                    Run(cd +
                        "x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
                        "-out client.pem");
    if (!ok) return c;
    c.dir = d;
    c.ca = d + "/ca.pem";
    c.other_ca = d + "/other.pem";
    c.server = d + "/server.pem";
    c.server_key = d + "/server.key";
    c.client = d + "/client.pem";
    c.client_key = d + "/client.key";
    return c;
  }();
  return certs;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TestCerts().dir.empty()) GTEST_SKIP() << "openssl CLI missing";
  }

  ServerOptions Options(int idle_timeout_ms = 5000) {
    ServerOptions o{"127.0.0.1:0", 2, 1024, idle_timeout_ms};
    o.tls.cert_file = TestCerts().server;
    o.tls.key_file = TestCerts().server_key;
    return o;
  }

  static void AddRoutes(Server* s) {
    s->Route("GET", "/hello", [](const Request& r) { return Response::Text(200, "hi " + r.path); });
    s->Route("POST", "/echo", [](const Request& r) { return Response::Text(200, r.body); });
  }
};

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};  // no test hangs on a read
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// A blocking OpenSSL client connection.
class TlsClient {
 public:
  struct Options {
    std::string ca_file;
    std::string cert_file, key_file;
    int max_version = 0;  // 0: any
  };
  explicit TlsClient(Options o) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (o.max_version != 0) {
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(ctx_, o.max_version);
      SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    }
    if (!o.ca_file.empty()) SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!o.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, o.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM);
    }
  }
  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  // Connects and handshakes; false if either fails.
  bool Connect(int port) {
    fd_ = http::Connect(port);
    if (fd_ < 0) return false;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    const bool ok = SSL_connect(ssl_) == 1;
    ERR_clear_error();
    return ok;
  }
  bool Write(const std::string& s) {
    return SSL_write(ssl_, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
  }
  // Reads until `n` responses ("HTTP/1.1 " count with their bodies are
  // complete, judged by the server's Content-Length) or the end.
  std::string ReadResponses(int n) {
    std::string out;
    char buf[4096];
    while (Complete(out) < n) {
      const int r = SSL_read(ssl_, buf, sizeof(buf));
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
    ERR_clear_error();
    return out;
  }
  // Reads until the end of the connection.
  std::string ReadAll() { return ReadResponses(1 << 30); }
  const char* version() const { return SSL_get_version(ssl_); }

 private:
  static int Complete(const std::string& s) {
    int n = 0;
    size_t pos = 0;
    for (;;) {
      const size_t hdr = s.find("\r\n\r\n", pos);
      if (hdr == std::string::npos) return n;
      const size_t cl = s.find("Content-Length: ", pos);
      if (cl == std::string::npos || cl > hdr) return n;
      const size_t len = std::strtoul(s.c_str() + cl + 16, nullptr, 10);
      if (s.size() < hdr + 4 + len) return n;
      ++n;
      pos = hdr + 4 + len;
    }
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

int Count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST_F(TlsTest, HttpsRequestWithTheClient) {
  Server s(Options());
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  SetClientCaFile(TestCerts().ca);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto r = HttpRequest("GET", "https://" + host + ":" + std::to_string(s.port()) + "/hello");
    ASSERT_TRUE(r.ok()) << host << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hi /hello");
  }
  auto r = HttpRequest("POST", "https://127.0.0.1:" + std::to_string(s.port()) + "/echo",
                       std::string(1000, 'x'), "text/plain");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, std::string(1000, 'x'));
  // A CA that did not sign the server's certificate: verification fails.
  SetClientCaFile(TestCerts().other_ca);
  r = HttpRequest("GET", "https://127.0.0.1:" + std::to_string(s.port()) + "/hello");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("certificate verify failed"), std::string::npos)
      << r.status().ToString();
  // A plaintext http:// request to the TLS port gets no HTTP answer.
  r = HttpRequest("GET", "http://127.0.0.1:" + std::to_string(s.port()) + "/hello", "", "", 5000);
  EXPECT_FALSE(r.ok() && r->status == 200);
  SetClientCaFile("");
  s.Stop();
}

TEST_F(TlsTest, UrlOfKeepsTheScheme) {
  EXPECT_EQ(UrlOf("127.0.0.1:80"), "http://127.0.0.1:80");
  EXPECT_EQ(UrlOf("https://127.0.0.1:80"), "https://127.0.0.1:80");
}

TEST_F(TlsTest, KeepAliveAndPipeliningOverTls) {
  Server s(Options());
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  TlsClient c({.ca_file = TestCerts().ca});
  ASSERT_TRUE(c.Connect(s.port()));
  // Two pipelined requests in one write, then a third on the same
  // connection, which the client closes.
  ASSERT_TRUE(
      c.Write("GET /hello/1 HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  std::string two = c.ReadResponses(2);
  EXPECT_EQ(Count(two, "HTTP/1.1 200 OK"), 2) << two;
  EXPECT_NE(two.find("hi /hello/1"), std::string::npos) << two;
  EXPECT_NE(two.find("\r\n\r\nhello"), std::string::npos) << two;
  ASSERT_TRUE(c.Write("GET /hello/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string third = c.ReadAll();
  EXPECT_NE(third.find("hi /hello/3"), std::string::npos) << third;
  // Limits apply as on plaintext: a too large body gets 413.
  TlsClient big({.ca_file = TestCerts().ca});
  ASSERT_TRUE(big.Connect(s.port()));
  ASSERT_TRUE(big.Write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
  std::string r = big.ReadAll();
  EXPECT_NE(r.find("413"), std::string::npos) << r;
  s.Stop();
}

TEST_F(TlsTest, PlaintextClientIsDisconnectedAndOthersAreServed) {
  Server s(Options());
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(out.find("HTTP/1.1"), std::string::npos) << out;  // a TLS alert at most
  TlsClient c({.ca_file = TestCerts().ca});
  ASSERT_TRUE(c.Connect(s.port()));
  ASSERT_TRUE(c.Write(req));
  EXPECT_NE(c.ReadAll().find("hi /hello"), std::string::npos);
  s.Stop();
}

TEST_F(TlsTest, OnlyTls12AndLater) {
  Server s(Options());
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  {
    TlsClient c({.ca_file = TestCerts().ca, .max_version = TLS1_2_VERSION});
    ASSERT_TRUE(c.Connect(s.port()));
    EXPECT_STREQ(c.version(), "TLSv1.2");
  }
  {
    TlsClient c({.ca_file = TestCerts().ca, .max_version = TLS1_3_VERSION});
    ASSERT_TRUE(c.Connect(s.port()));
    EXPECT_STREQ(c.version(), "TLSv1.3");
  }
  for (int v : {TLS1_1_VERSION, TLS1_VERSION}) {
    TlsClient c({.ca_file = TestCerts().ca, .max_version = v});
    EXPECT_FALSE(c.Connect(s.port())) << v;
  }
  s.Stop();
}

TEST_F(TlsTest, SilentClientIsDroppedAfterTheIdleTimeout) {
  Server s(Options(/*idle_timeout_ms=*/300));
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  const auto start = std::chrono::steady_clock::now();
  int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  char buf[16];
  EXPECT_EQ(::read(fd, buf, sizeof(buf)), 0);  // closed by the server, not our 10 s timeout
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ::close(fd);
  s.Stop();
}

TEST_F(TlsTest, ClientCertificateRequired) {
  ServerOptions o = Options();
  o.tls.ca_file = TestCerts().ca;
  o.tls.require_client_cert = true;
  Server s(o);
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  const std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  {
    // Without a certificate: refused (with TLS 1.3 the alert may arrive
    // after the client's side of the handshake).
    TlsClient c({.ca_file = TestCerts().ca});
    if (c.Connect(s.port())) {
      c.Write(req);
      EXPECT_EQ(c.ReadAll().find("HTTP/1.1"), std::string::npos);
    }
  }
  {
    TlsClient c({.ca_file = TestCerts().ca,
                 .cert_file = TestCerts().client,
                 .key_file = TestCerts().client_key});
    ASSERT_TRUE(c.Connect(s.port()));
    ASSERT_TRUE(c.Write(req));
    EXPECT_NE(c.ReadAll().find("hi /hello"), std::string::npos);
  }
  s.Stop();
}

TEST_F(TlsTest, StopClosesIdleTlsConnections) {
  Server s(Options(/*idle_timeout_ms=*/60000));
  AddRoutes(&s);
  ASSERT_TRUE(s.Start().ok());
  TlsClient c({.ca_file = TestCerts().ca});
  ASSERT_TRUE(c.Connect(s.port()));
  ASSERT_TRUE(c.Write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(c.ReadResponses(1).find("hi /hello"), std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  s.Stop();  // must not wait for the idle keep-alive connection
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(TlsTest, BadConfigurationFailsStart) {
  {
    ServerOptions o = Options();
    o.tls.key_file = TestCerts().client_key;  // not the certificate's key
    Server s(o);
    Status st = s.Start();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  }
  {
    ServerOptions o = Options();
    o.tls.cert_file = TestCerts().dir + "/missing.pem";
    Server s(o);
    EXPECT_EQ(s.Start().code(), StatusCode::kInvalidArgument);
  }
  {
    ServerOptions o = Options();
    o.tls.require_client_cert = true;  // without a CA
    Server s(o);
    EXPECT_EQ(s.Start().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace braid::http
