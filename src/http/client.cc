#include "http/client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <utility>

namespace braid::http {

namespace {

constexpr size_t kMaxResponse = 64u << 20;

std::string& DefaultAuthorization() {
  static std::string value;
  return value;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::mutex ca_mu;
std::string ca_file;  // guarded by ca_mu

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

Result<Url> ParseUrl(std::string_view url) {
  constexpr std::string_view kHttp = "http://", kHttps = "https://";
  Url out;
  if (url.substr(0, kHttps.size()) == kHttps) {
    out.tls = true;
    url.remove_prefix(kHttps.size());
  } else if (url.substr(0, kHttp.size()) == kHttp) {
    url.remove_prefix(kHttp.size());
  } else {
    return Status::InvalidArgument("only http:// and https:// URLs are supported: " +
                                   std::string(url));
  }
  const std::string default_port = out.tls ? "443" : "80";
  size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad URL host");
    out.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    out.port = hostport.empty() ? default_port : std::string(hostport.substr(1));
  } else {
    size_t colon = hostport.rfind(':');
    out.host = std::string(hostport.substr(0, colon));
    out.port =
        colon == std::string_view::npos ? default_port : std::string(hostport.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) {
    return Status::InvalidArgument("bad URL: " + std::string(url));
  }
  return out;
}

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

Status WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return Status::OK();
    if (n == 0) return Status::TimedOut("HTTP request timed out");
    if (errno != EINTR) return Status::FromErrno(errno, "poll");
  }
}

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// The connection: the socket, or TLS over it (OpenSSL on the non-blocking
// socket; every wait bounded by the request's deadline).
class Conn {
 public:
  Conn(int fd, std::chrono::steady_clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // The TLS handshake; the server's certificate must verify against
  // `ca_file` ("" = the system's CA paths) and name `host`.
  Status StartTls(const std::string& host, const std::string& ca_file) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return Status::Internal("TLS: " + OpenSslError());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    if (!ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
        return Status::InvalidArgument("TLS CA file " + ca_file + ": " + OpenSslError());
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
      return Status::Internal("TLS: no default CA paths: " + OpenSslError());
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
      return Status::Internal("TLS: " + OpenSslError());
    }
    in6_addr ip;
    const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &ip) == 1 ||
                       ::inet_pton(AF_INET6, host.c_str(), &ip) == 1;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (is_ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
        return Status::InvalidArgument("TLS: bad host " + host);
      }
    } else {
      SSL_set_tlsext_host_name(ssl_, host.c_str());
      if (SSL_set1_host(ssl_, host.c_str()) != 1) {
        return Status::InvalidArgument("TLS: bad host " + host);
      }
    }
    for (;;) {
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return Status::OK();
      Status s = Wait(rc, "TLS handshake with " + host);
      if (!s.ok()) {
        const long v = SSL_get_verify_result(ssl_);
        if (v != X509_V_OK) {
          return Status::IOError("TLS handshake with " + host + ": certificate verify failed: " +
                                 X509_verify_cert_error_string(v));
        }
        return s;
      }
    }
  }

  // Writes all of `data`.
  Status SendAll(std::string_view data) {
    size_t sent = 0;
    while (sent < data.size()) {
      if (ssl_ != nullptr) {
        const int n = SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
        if (n > 0) {
          sent += static_cast<size_t>(n);
        } else {
          RETURN_IF_ERROR(Wait(n, "TLS write"));
        }
        continue;
      }
      RETURN_IF_ERROR(WaitFor(fd_, POLLOUT, deadline_));
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return Status::FromErrno(errno, "send");
      }
      sent += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  // Reads some bytes; 0 at the end of the stream.
  Result<size_t> Recv(char* buf, size_t len) {
    for (;;) {
      if (ssl_ != nullptr) {
        errno = 0;
        const int n = SSL_read(ssl_, buf, static_cast<int>(len));
        if (n > 0) return static_cast<size_t>(n);
        const int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) {
          return size_t{0};
        }
        RETURN_IF_ERROR(Wait(n, "TLS read"));
        continue;
      }
      RETURN_IF_ERROR(WaitFor(fd_, POLLIN, deadline_));
      ssize_t n = ::recv(fd_, buf, len, 0);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return Status::FromErrno(errno, "recv");
      }
      return static_cast<size_t>(n);
    }
  }

 private:
  // After an SSL call returned `rc`: waits for the socket when OpenSSL
  // wants it, else the error.
  Status Wait(int rc, const std::string& what) {
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) return WaitFor(fd_, POLLIN, deadline_);
    if (err == SSL_ERROR_WANT_WRITE) return WaitFor(fd_, POLLOUT, deadline_);
    if (err == SSL_ERROR_SYSCALL) {
      ERR_clear_error();
      return errno != 0 ? Status::FromErrno(errno, what)
                        : Status::IOError(what + ": connection closed");
    }
    return Status::IOError(what + ": " + OpenSslError());
  }

  int fd_;
  std::chrono::steady_clock::time_point deadline_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

Result<std::string> Dechunk(std::string_view in) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return Status::Corruption("truncated chunked body");
    size_t size = 0;
    std::string_view line = in.substr(pos, eol - pos);
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc() || p == line.data()) return Status::Corruption("bad chunk size");
    pos = eol + 2;
    if (size == 0) return out;
    if (size > in.size() - pos) return Status::Corruption("truncated chunk");
    out.append(in.substr(pos, size));
    pos += size + 2;
    if (pos > in.size()) return Status::Corruption("truncated chunk");
  }
}

}  // namespace

void SetClientCaFile(std::string path) {
  std::lock_guard<std::mutex> lock(ca_mu);
  ca_file = std::move(path);
}

std::string ClientCaFile() {
  {
    std::lock_guard<std::mutex> lock(ca_mu);
    if (!ca_file.empty()) return ca_file;
  }
  const char* env = std::getenv("BRAID_CA_FILE");
  return env != nullptr ? env : "";
}

std::string UrlOf(std::string_view address) {
  if (address.find("://") != std::string_view::npos) return std::string(address);
  return "http://" + std::string(address);
}

Result<HttpClientResponse> HttpRequest(std::string_view method, std::string_view url,
                                       std::string_view body, std::string_view content_type,
                                       int timeout_ms) {
  ASSIGN_OR_RETURN(Url u, ParseUrl(url));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::IOError("resolve " + u.host + ": " + std::string(::gai_strerror(rc)));
  }
  Status last = Status::IOError("no address for " + u.host);
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    int s =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (s < 0) continue;
    if (::connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Status::FromErrno(errno, "connect " + u.host + ":" + u.port);
      ::close(s);
      continue;
    }
    Status w = WaitFor(s, POLLOUT, deadline);
    int err = 0;
    socklen_t len = sizeof(err);
    if (w.ok() && ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      fd = s;
    } else {
      last = w.ok() ? Status::FromErrno(err, "connect " + u.host + ":" + u.port) : w;
      ::close(s);
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) return last;
  Fd sock(fd);
  Conn conn(fd, deadline);
  if (u.tls) RETURN_IF_ERROR(conn.StartTls(u.host, ClientCaFile()));

  std::string req = std::string(method) + " " + u.target + " HTTP/1.1\r\nHost: " + u.host + ":" +
                    u.port +
                    "\r\nAccept: application/vnd.schemaregistry.v1+json, "
                    "application/vnd.schemaregistry+json, application/json\r\n"
                    "Connection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  if (!content_type.empty()) req += "Content-Type: " + std::string(content_type) + "\r\n";
  if (!DefaultAuthorization().empty()) req += "Authorization: " + DefaultAuthorization() + "\r\n";
  req += "\r\n";
  req += body;
  RETURN_IF_ERROR(conn.SendAll(req));
  std::string in;
  char buf[16384];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, conn.Recv(buf, sizeof(buf)));
    if (n == 0) break;
    in.append(buf, n);
    if (in.size() > kMaxResponse) return Status::TooLarge("HTTP response too large");
    // Stop early once a Content-Length body is complete.
    size_t hdr_end = in.find("\r\n\r\n");
    if (hdr_end != std::string::npos) {
      std::string head = Lower(std::string_view(in).substr(0, hdr_end));
      size_t cl = head.find("\r\ncontent-length:");
      if (cl != std::string::npos) {
        size_t v = cl + 17;
        while (v < head.size() && head[v] == ' ') ++v;
        size_t want = 0;
        std::from_chars(head.data() + v, head.data() + head.size(), want);
        if (in.size() - hdr_end - 4 >= want) break;
      }
    }
  }
  size_t hdr_end = in.find("\r\n\r\n");
  if (hdr_end == std::string::npos || in.compare(0, 5, "HTTP/") != 0) {
    return Status::Corruption("malformed HTTP response");
  }
  HttpClientResponse out;
  size_t sp = in.find(' ');
  if (sp == std::string::npos || sp + 4 > hdr_end) return Status::Corruption("bad status line");
  auto [p, ec] = std::from_chars(in.data() + sp + 1, in.data() + sp + 4, out.status);
  if (ec != std::errc()) return Status::Corruption("bad status code");
  std::string_view head = std::string_view(in).substr(0, hdr_end);
  bool chunked = false;
  size_t content_length = std::string::npos;
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    size_t next = head.find("\r\n", pos + 2);
    std::string_view line =
        head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name = Lower(line.substr(0, colon));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-type") out.content_type = std::string(value);
      if (name == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) {
        chunked = true;
      }
      if (name == "content-length") {
        std::from_chars(value.data(), value.data() + value.size(), content_length);
      }
    }
    pos = next;
  }
  std::string_view rest = std::string_view(in).substr(hdr_end + 4);
  if (chunked) {
    ASSIGN_OR_RETURN(out.body, Dechunk(rest));
  } else if (content_length != std::string::npos) {
    if (rest.size() < content_length) return Status::Corruption("truncated HTTP body");
    out.body = std::string(rest.substr(0, content_length));
  } else {
    out.body = std::string(rest);
  }
  return out;
}

void SetDefaultAuthorization(std::string value) { DefaultAuthorization() = std::move(value); }

}  // namespace braid::http
