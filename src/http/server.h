// A small HTTP/1.1 server: routes (method, path prefix) to synchronous
// handlers. Keep-alive, bounded request sizes, graceful stop. Boost.Beast is
// used only inside server.cc; this header has no Asio/Beast includes.
//
// Thread safety: Route() must be called before Start(). Handlers run on the
// server's io threads and may run concurrently with each other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace braid::http {

struct Request {
  std::string method;  // "GET", "POST", ... (upper case, as sent)
  std::string target;  // the raw request target, e.g. "/subjects/x/versions?deleted=true"
  std::string path;    // target without the query string, percent-decoded
  std::map<std::string, std::string> query;                  // decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;

  // The first header named `name` (case-insensitive), or "" if absent.
  std::string_view Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response Json(int status, std::string body) {
    return Response{status, "application/json", std::move(body), {}};
  }
  static Response Text(int status, std::string body) {
    return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  // Address to listen on, "HOST:PORT"; port 0 picks a free port.
  // Default: "127.0.0.1:8080".
  std::string listen = "127.0.0.1:8080";
  // Io threads started by Start() when no io_context is given. Default: 1.
  int threads = 1;
  // Largest accepted request body; larger requests get 413. Default: 16 MiB.
  uint64_t max_body_bytes = 16 << 20;
  // An idle keep-alive connection is closed after this long. Default: 60 s.
  int idle_timeout_ms = 60000;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Stops the server.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a handler for requests whose method equals `method` ("*" = any)
  // and whose path starts with `path_prefix`. The longest matching prefix
  // wins; a prefix ending without '/' also matches only at a segment boundary
  // or exactly ("/health" matches "/health" and "/health/x", not "/healthz").
  // Unmatched requests get 404 (405 if the path matched another method).
  void Route(std::string method, std::string path_prefix, Handler handler);

  // Binds and starts accepting. With `io` == nullptr the server runs its own
  // `options.threads` threads; otherwise it runs on `io` (the caller runs it).
  Status Start(boost::asio::io_context* io = nullptr);

  // The bound port (after Start()).
  int port() const;

  // Stops accepting, closes connections, joins own threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Splits "HOST:PORT" (also "[v6]:PORT"); fails with InvalidArgument.
Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view s);

// Percent-decodes a URL component ('+' stays '+').
std::string PercentDecode(std::string_view s);

}  // namespace braid::http
