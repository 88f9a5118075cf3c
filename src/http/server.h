// A small HTTP/1.1 server: routes (method, path prefix) to handlers.
// Keep-alive, bounded request sizes, graceful stop. Boost.Beast is used only
// inside server.cc; this header has no Asio/Beast includes.
//
// Three kinds of handler:
//   Route          synchronous and quick: runs on an io thread;
//   RouteBlocking  may wait (a batch run with wait=true, a slow disk): runs on
//                  the server's pool of blocking threads, never on an io thread;
//   RouteAsync     answers later through a Responder, from any thread.
// An io thread is never blocked by a handler that waits.
//
// TLS: ServerOptions::tls makes it an https server (same routes, keep-alive,
// pipelining, limits and Stop()).
//
// Thread safety: routes may be added at any time, also after Start() (roles
// add theirs to a server that is already serving); a request sees the routes
// present when it arrives. Handlers may run concurrently with each other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/tls.h"

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
  std::string peer;  // the client's IP address as the server sees it ("" if unknown)

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
  // braid's error shape: {"error_code": status, "message": "..."} (JSON-escaped).
  static Response Error(int status, std::string_view message);
  // The error of a non-OK Status, with HttpStatusFor(status).
  static Response FromStatus(const Status& status);
};

// The one map from Status to an HTTP status: InvalidArgument, OutOfRange,
// Corruption → 400; NotFound → 404; AlreadyExists, FailedPrecondition,
// Aborted → 409; ResourceExhausted → 413 with subcode kTooLarge, else 507;
// Unimplemented → 501; Unavailable → 503; TimedOut → 504; others → 500.
int HttpStatusFor(const Status& status);

// `s` as a JSON string literal (quotes included), with control characters and
// invalid UTF-8 escaped.
std::string JsonQuote(std::string_view s);

using Handler = std::function<Response(const Request&)>;
// Completes an asynchronous request; call exactly once, from any thread.
using Responder = std::function<void(Response)>;
// An asynchronous handler. `request` stays valid as long as `respond` (or a
// copy of it) exists.
using AsyncHandler = std::function<void(const Request& request, Responder respond)>;

// Authorization hook: called on an io thread for every request before
// routing (also for paths no route matches). nullopt lets the request
// through; a Response is sent instead of routing it (401, 403, ...). Must be
// thread-safe and quick; an exception becomes a 500.
using Authorizer = std::function<std::optional<Response>(const Request& request)>;

struct ServerOptions {
  // Address to listen on, "HOST:PORT"; port 0 picks a free port.
  // Default: "127.0.0.1:8080".
  std::string listen = "127.0.0.1:8080";
  // Io threads started by Start() when no io_context is given. Default: 2.
  int threads = 2;
  // Largest accepted request body; larger requests get 413. Default: 16 MiB.
  uint64_t max_body_bytes = 16 << 20;
  // An idle keep-alive connection is closed after this long. Default: 60 s.
  int idle_timeout_ms = 60000;
  // Threads that run RouteBlocking handlers. Default: 4.
  int blocking_threads = 4;
  // TLS (https): on when tls.cert_file is set; TLS 1.2+ only, client
  // certificates per tls.ca_file/require_client_cert. The handshake must
  // finish within idle_timeout_ms; a client whose handshake fails (a
  // plaintext client, TLS 1.1, a missing required certificate) is
  // disconnected. Start() fails for unusable files. Default: plaintext.
  TlsOptions tls;

  // ---- Authorization hook (see Authorizer). Default: none (every request
  // is routed).
  Authorizer authorize;
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
  // Same matching; `handler` runs on a blocking thread (it may wait, but for
  // a bounded time: Stop() waits for running blocking handlers; a handler
  // that waits for an event should be a RouteAsync handler).
  void RouteBlocking(std::string method, std::string path_prefix, Handler handler);
  // Same matching; the answer is sent when `handler` calls its Responder.
  // Requests still waiting when the server stops get 503.
  void RouteAsync(std::string method, std::string path_prefix, AsyncHandler handler);

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

}  // namespace braid::http
