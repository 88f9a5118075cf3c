// With request_parser.cc, the only translation units of braid that include
// Boost.Beast; with client.cc, the only ones of src/http that use OpenSSL.
// Also implements http/tls.h (MakeServerTlsContext), shared with the Kafka
// listener.
#include "http/server.h"

#include <utility>  // must precede Asio (Boost 1.74 with g++ 12)

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <type_traits>

#include "base/log_limiter.h"
#include "base/logging.h"
#include "base/strings.h"
#include "http/request_parser.h"
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace braid::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      // Keep valid UTF-8 sequences; replace stray bytes with U+FFFD.
      const int len = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      bool valid = len > 0 && i + static_cast<size_t>(len) <= s.size();
      for (int k = 1; valid && k < len; ++k) {
        valid = (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xc0) == 0x80;
      }
      if (valid) {
        out.append(s.substr(i, static_cast<size_t>(len)));
        i += static_cast<size_t>(len) - 1;
      } else {
        out += "\\ufffd";
      }
    }
  }
  out += "\"";
  return out;
}

Response Response::Error(int status, std::string_view message) {
  return Json(status, "{\"error_code\":" + std::to_string(status) +
                          ",\"message\":" + JsonQuote(message) + "}");
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kCorruption:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return status.IsTooLarge() ? 413 : 507;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kTimedOut:
      return 504;
    default:
      return 500;
  }
}

Response Response::FromStatus(const Status& status) {
  return Error(HttpStatusFor(status), status.ToString());
}

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsOptions& o) {
  if (o.cert_file.empty() || o.key_file.empty()) {
    return Status::InvalidArgument("a TLS listener needs a certificate and a key");
  }
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    return Status::Internal("TLS: cannot require TLS 1.2: " + OpenSslError());
  }
  ctx->use_certificate_chain_file(o.cert_file, ec);
  if (ec) return Status::InvalidArgument("TLS certificate " + o.cert_file + ": " + ec.message());
  ctx->use_private_key_file(o.key_file, asio::ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("TLS key " + o.key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status::InvalidArgument("TLS key " + o.key_file + " does not match certificate " +
                                   o.cert_file);
  }
  if (!o.ca_file.empty()) {
    ctx->load_verify_file(o.ca_file, ec);
    if (ec) return Status::InvalidArgument("TLS CA file " + o.ca_file + ": " + ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer |
                             (o.require_client_cert ? asio::ssl::verify_fail_if_no_peer_cert : 0),
                         ec);
  } else if (o.require_client_cert) {
    return Status::InvalidArgument("requiring client certificates needs a CA file");
  }
  return ctx;
}

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
constexpr int kTlsShutdownTimeoutMs = 1000;

// The TCP layer of a connection's stream (it carries the timeouts).
beast::tcp_stream& TcpOf(beast::tcp_stream& s) { return s; }
beast::tcp_stream& TcpOf(TlsStream& s) { return s.next_layer(); }

std::string PeerOf(beast::tcp_stream& s) {
  boost::system::error_code ec;
  const tcp::endpoint ep = s.socket().remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

struct RouteEntry {
  std::string method;
  std::string prefix;
  AsyncHandler handler;
};

Response ErrorResponse(int status, std::string_view message) {
  return Response::Json(status, "{\"error_code\":" + std::to_string(status) + ",\"message\":\"" +
                                    std::string(message) + "\"}");
}

// A request whose handler answers later. The session coroutine waits on
// `timer`; Complete() stores the answer and expires the timer through the
// session's strand, so the wake-up cannot be lost whichever comes first.
struct PendingReply {
  explicit PendingReply(asio::any_io_executor ex) : timer(ex) {
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  // Returns false if an answer was already given.
  bool Complete(Response r, const std::shared_ptr<PendingReply>& self) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (response.has_value()) return false;
      response = std::move(r);
    }
    asio::post(timer.get_executor(),
               [self] { self->timer.expires_at(asio::steady_timer::time_point::min()); });
    return true;
  }
  std::optional<Response> Take() {
    std::lock_guard<std::mutex> lock(mu);
    return std::move(response);
  }

  asio::steady_timer timer;  // used on the session's strand only
  std::mutex mu;
  std::optional<Response> response;  // guarded by mu
};

bool PrefixMatches(std::string_view prefix, std::string_view path) {
  if (path.substr(0, prefix.size()) != prefix) return false;
  if (path.size() == prefix.size() || prefix.empty() || prefix.back() == '/') return true;
  return path[prefix.size()] == '/' || path[prefix.size()] == '?';
}

void ParseTarget(std::string_view target, Request* req) {
  size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q));
  if (q == std::string_view::npos) return;
  std::string_view qs = target.substr(q + 1);
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view kv = qs.substr(0, amp);
    size_t eq = kv.find('=');
    std::string key = PercentDecode(kv.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
    if (!key.empty()) req->query.emplace(std::move(key), std::move(value));
    if (amp == std::string_view::npos) break;
    qs = qs.substr(amp + 1);
  }
}

// The client's IP address ("" if the socket has none).
template <typename Stream>
std::string PeerAddress(Stream& stream) {
  boost::system::error_code ec;
  const auto ep = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

// ---- Authorization hook (ServerOptions::authorize).
std::optional<Response> Authorize(const ServerOptions& options, const Request& req) {
  if (!options.authorize) return std::nullopt;
  try {
    return options.authorize(req);
  } catch (const std::exception& e) {
    LOG_ERROR("http authorizer for {} {} threw: {}", req.method, req.path, e.what());
    return ErrorResponse(500, "Internal server error");
  }
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  ServerOptions options;
  std::vector<RouteEntry> routes;
  std::unique_ptr<asio::io_context> own_io;
  asio::io_context* io = nullptr;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::shared_ptr<asio::ssl::context> tls;  // null: plaintext
  std::vector<std::thread> threads;
  std::atomic<int> port{0};
  std::atomic<bool> stopped{false};
  std::unique_ptr<asio::thread_pool> blocking;  // runs RouteBlocking handlers
  std::shared_mutex routes_mu;                  // guards routes
  std::mutex mu;
  // The TCP layer of every open connection (for a TLS connection, an
  // aliasing pointer that owns its ssl stream).
  std::set<std::shared_ptr<beast::tcp_stream>> streams;  // guarded by mu
  std::set<std::shared_ptr<PendingReply>> pending;       // guarded by mu

  // Finds the handler of `req`: the longest matching prefix of its method.
  // Null with *status 404 or 405 when there is none.
  std::optional<AsyncHandler> Match(const Request& req, int* status) {
    std::shared_lock<std::shared_mutex> lock(routes_mu);
    const RouteEntry* best = nullptr;
    bool path_matched = false;
    for (const auto& r : routes) {
      if (!PrefixMatches(r.prefix, req.path)) continue;
      path_matched = true;
      if (r.method != "*" && r.method != req.method) continue;
      if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
    }
    if (best == nullptr) {
      *status = path_matched ? 405 : 404;
      return std::nullopt;
    }
    return best->handler;
  }

  // Runs the handler of `req` and waits (without blocking the thread) for
  // its answer.
  asio::awaitable<Response> Dispatch(std::shared_ptr<const Request> request) {
    const Request& req = *request;
    if (std::optional<Response> refused = Authorize(options, req)) co_return std::move(*refused);
    int status = 0;
    std::optional<AsyncHandler> handler = Match(req, &status);
    if (!handler) {
      co_return status == 405 ? ErrorResponse(405, "Method not allowed")
                              : ErrorResponse(404, "Not found");
    }
    auto reply = std::make_shared<PendingReply>(co_await asio::this_coro::executor);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopped.load()) co_return ErrorResponse(503, "Server is stopping");
      pending.insert(reply);
    }
    try {
      // The Responder owns the request: it stays valid while the handler
      // holds the Responder, even if the session ends first.
      (*handler)(req, [reply, request](Response r) { reply->Complete(std::move(r), reply); });
    } catch (const std::exception& e) {
      LOG_ERROR("http handler for {} {} threw: {}", req.method, req.path, e.what());
      reply->Complete(ErrorResponse(500, "Internal server error"), reply);
    }
    std::optional<Response> resp = reply->Take();
    if (!resp) {
      boost::system::error_code ec;
      co_await reply->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      resp = reply->Take();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      pending.erase(reply);
    }
    if (!resp) co_return ErrorResponse(503, "Server is stopping");
    co_return std::move(*resp);
  }

  // Writes the answer to a malformed request (braid's JSON error body,
  // "Connection: close"); the caller then closes.
  template <typename Stream>
  asio::awaitable<void> WriteError(Stream& stream, int status, std::string_view message,
                                   boost::system::error_code& ec) {
    const std::string wire = SerializeErrorResponse(status, message);
    TcpOf(stream).expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
    co_await asio::async_write(stream, asio::buffer(wire),
                               asio::redirect_error(asio::use_awaitable, ec));
  }

  // Reads the next request into `parser` (bytes come from `buffer` first).
  // Returns false when the connection ended without a request in progress
  // or a malformed one was answered: the caller closes.
  template <typename Stream>
  asio::awaitable<bool> ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                    RequestParser& parser) {
    boost::system::error_code ec;
    // The whole request (header and body) must arrive within the idle
    // timeout: a client that trickles bytes (slowloris) is cut off, without
    // an answer (the timeout closes the socket).
    TcpOf(stream).expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
    for (;;) {
      if (buffer.size() > 0) {
        const auto data = buffer.data();
        const size_t used =
            parser.Put(std::string_view(static_cast<const char*>(data.data()), data.size()));
        buffer.consume(used);
      }
      if (parser.done()) co_return true;
      if (!parser.failed()) {
        const size_t n = co_await stream.async_read_some(
            buffer.prepare(16 * 1024), asio::redirect_error(asio::use_awaitable, ec));
        buffer.commit(n);
        if (!ec) continue;
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) parser.PutEof();
        if (!parser.failed()) co_return false;  // closed, timed out or reset between requests
      }
      co_await WriteError(stream, parser.error_status(), parser.error_message(), ec);
      co_return false;
    }
  }

  // The TLS handshake of a new connection, bounded by the idle timeout (a
  // client that connects and sends nothing is dropped). False when it
  // failed (e.g. a plaintext client, TLS 1.1, no client certificate when one
  // is required): the caller closes.
  asio::awaitable<bool> Handshake(TlsStream& stream) {
    boost::system::error_code ec;
    const std::string peer = PeerOf(TcpOf(stream));
    TcpOf(stream).expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_return true;
    if (!stopped.load()) {
      WarnClientInput("http tls handshake failed", peer,
                      "http: closing connection from {}: TLS handshake failed: {}", peer,
                      ec.message());
    }
    co_return false;
  }

  // One connection: (TLS handshake,) then requests until the client or the
  // server ends it. `Stream` is beast::tcp_stream or TlsStream; requests go
  // through the one Dispatch().
  template <typename Stream>
  asio::awaitable<void> Session(std::shared_ptr<Stream> stream,
                                std::shared_ptr<beast::tcp_stream> tcp) {
    constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    const RequestLimits limits{.max_body_bytes = options.max_body_bytes};
    const std::string peer = PeerAddress(*stream);
    bool handshake_ok = true;
    if constexpr (kTls) handshake_ok = co_await Handshake(*stream);
    while (handshake_ok) {
      RequestParser parser(limits);
      if (!co_await ReadRequest(*stream, buffer, parser)) break;
      auto request = std::make_shared<Request>(parser.TakeRequest());
      Request& req = *request;
      ParseTarget(req.target, &req);
      req.peer = peer;
      const unsigned version = parser.version();
      const bool client_keep_alive = parser.keep_alive();
      Response resp = co_await Dispatch(std::move(request));
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(resp.status), version};
      res.set(bhttp::field::server, "braid");
      res.set(bhttp::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.body() = std::move(resp.body);
      res.keep_alive(client_keep_alive && !stopped.load());
      res.prepare_payload();
      bool keep = res.keep_alive();
      tcp->expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
      co_await bhttp::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) break;
    }
    if constexpr (kTls) {
      // close_notify, briefly (the peer may not answer it).
      if (handshake_ok && !ec && tcp->socket().is_open()) {
        tcp->expires_after(
            std::chrono::milliseconds(std::min(options.idle_timeout_ms, kTlsShutdownTimeoutMs)));
        co_await stream->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    tcp->socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp->close();
    std::lock_guard<std::mutex> lock(mu);
    streams.erase(tcp);
  }

  // Registers a new connection and starts its session on its strand.
  template <typename Stream>
  bool StartSession(std::shared_ptr<Stream> stream, std::shared_ptr<beast::tcp_stream> tcp) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopped.load()) return false;
      streams.insert(tcp);
    }
    auto self = shared_from_this();
    asio::co_spawn(
        tcp->get_executor(),
        [self, stream, tcp]() { return self->Session(std::move(stream), std::move(tcp)); },
        asio::detached);
    return true;
  }

  asio::awaitable<void> Accept() {
    auto self = shared_from_this();
    for (;;) {
      boost::system::error_code ec;
      // Each connection on its own strand: its session and the wake-ups of
      // its asynchronous handlers never run concurrently.
      tcp::socket socket = co_await acceptor->async_accept(
          asio::make_strand(*io), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped.load() || ec == asio::error::operation_aborted) co_return;
        LOG_WARN("http accept failed: {}", ec.message());
        continue;
      }
      if (tls) {
        auto stream = std::make_shared<TlsStream>(std::move(socket), *tls);
        std::shared_ptr<beast::tcp_stream> tcp(stream, &stream->next_layer());
        if (!StartSession(std::move(stream), std::move(tcp))) co_return;
      } else {
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        if (!StartSession(stream, stream)) co_return;
      }
    }
  }
};

Server::Server(ServerOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
}

Server::~Server() { Stop(); }

void Server::RouteAsync(std::string method, std::string path_prefix, AsyncHandler handler) {
  std::unique_lock<std::shared_mutex> lock(impl_->routes_mu);
  impl_->routes.push_back(
      RouteEntry{std::move(method), std::move(path_prefix), std::move(handler)});
}

void Server::Route(std::string method, std::string path_prefix, Handler handler) {
  RouteAsync(std::move(method), std::move(path_prefix),
             [h = std::move(handler)](const Request& req, Responder respond) { respond(h(req)); });
}

void Server::RouteBlocking(std::string method, std::string path_prefix, Handler handler) {
  std::weak_ptr<Impl> weak = impl_;
  RouteAsync(std::move(method), std::move(path_prefix),
             [weak, h = std::move(handler)](const Request& req, Responder respond) {
               auto impl = weak.lock();
               if (!impl || !impl->blocking) {
                 respond(ErrorResponse(503, "Server is stopping"));
                 return;
               }
               // `req` stays valid while `respond` (which owns it) lives.
               asio::post(*impl->blocking, [h, &req, respond = std::move(respond)] {
                 try {
                   respond(h(req));
                 } catch (const std::exception& e) {
                   LOG_ERROR("http handler for {} {} threw: {}", req.method, req.path, e.what());
                   respond(ErrorResponse(500, "Internal server error"));
                 }
               });
             });
}

int Server::port() const { return impl_->port.load(); }

Status Server::Start(boost::asio::io_context* io) {
  ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(impl_->options.listen));
  if (io == nullptr) {
    impl_->own_io = std::make_unique<asio::io_context>();
    io = impl_->own_io.get();
  }
  impl_->io = io;
  if (impl_->options.tls.enabled()) {
    auto tls = MakeServerTlsContext(impl_->options.tls);
    if (!tls.ok()) return tls.status().WithContext("http listener " + impl_->options.listen);
    impl_->tls = std::move(tls).value();
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp.host, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + hp.host + "': " + ec.message());
  tcp::endpoint ep(addr, hp.port);
  auto acceptor = std::make_unique<tcp::acceptor>(*io);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("http listen on " + impl_->options.listen + ": " + ec.message());
  }
  impl_->port = acceptor->local_endpoint().port();
  impl_->acceptor = std::move(acceptor);
  impl_->blocking =
      std::make_unique<asio::thread_pool>(std::max(1, impl_->options.blocking_threads));
  auto impl = impl_;
  asio::co_spawn(
      *io, [impl]() { return impl->Accept(); }, asio::detached);
  if (impl_->own_io) {
    for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
      impl_->threads.emplace_back([impl] { impl->own_io->run(); });
    }
  }
  return Status::OK();
}

void Server::Stop() {
  auto impl = impl_;
  if (impl->stopped.exchange(true)) return;
  if (impl->acceptor) {
    asio::post(impl->acceptor->get_executor(), [impl] {
      boost::system::error_code ec;
      impl->acceptor->close(ec);
    });
    // 1. Requests whose handler has not answered get 503; connections stop
    //    reading, so idle ones end and busy ones end after their answer.
    std::vector<std::shared_ptr<beast::tcp_stream>> streams;
    std::vector<std::shared_ptr<PendingReply>> pending;
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      streams.assign(impl->streams.begin(), impl->streams.end());
      pending.assign(impl->pending.begin(), impl->pending.end());
    }
    for (const auto& p : pending) p->Complete(ErrorResponse(503, "Server is stopping"), p);
    for (const auto& st : streams) {
      asio::post(st->get_executor(), [st] {
        boost::system::error_code ec;
        st->socket().shutdown(tcp::socket::shutdown_receive, ec);
      });
    }
    // 2. After a short grace period, close what is left (slow readers).
    for (int i = 0; i < 40; ++i) {
      {
        std::lock_guard<std::mutex> lock(impl->mu);
        if (impl->streams.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      streams.assign(impl->streams.begin(), impl->streams.end());
    }
    for (const auto& st : streams) {
      asio::post(st->get_executor(), [st] {
        boost::system::error_code ec;
        st->socket().shutdown(tcp::socket::shutdown_both, ec);
        st->socket().close(ec);
      });
    }
  }
  // Blocking handlers finish (their late answers go nowhere).
  if (impl->blocking) impl->blocking->join();
  if (impl->own_io) {
    for (auto& t : impl->threads) t.join();
    impl->threads.clear();
    // Destroy pending handlers (and the coroutine frames that own sockets)
    // while the io_context is still valid.
    impl->own_io->stop();
    impl->own_io->restart();
    impl->own_io->poll();
  }
}

}  // namespace braid::http
