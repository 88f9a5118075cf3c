// The only translation unit of braid that includes Boost.Beast.
#include "http/server.h"

#include <utility>  // must precede Asio (Boost 1.74 with g++ 12)

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <mutex>
#include <set>
#include <thread>

#include "base/logging.h"

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

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out.push_back(static_cast<char>(h * 16 + l));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= s.size()) {
    return Status::InvalidArgument("expected HOST:PORT, got '" + std::string(s) + "'");
  }
  std::string host(s.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  for (char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9') return Status::InvalidArgument("bad port in '" + std::string(s) + "'");
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > 65535)
      return Status::InvalidArgument("port out of range in '" + std::string(s) + "'");
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, static_cast<uint16_t>(port));
}

namespace {

struct RouteEntry {
  std::string method;
  std::string prefix;
  Handler handler;
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

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  ServerOptions options;
  std::vector<RouteEntry> routes;
  std::unique_ptr<asio::io_context> own_io;
  asio::io_context* io = nullptr;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> port{0};
  std::atomic<bool> stopped{false};
  std::mutex mu;
  std::set<std::shared_ptr<beast::tcp_stream>> streams;  // guarded by mu

  Response Dispatch(const Request& req) {
    const RouteEntry* best = nullptr;
    bool path_matched = false;
    for (const auto& r : routes) {
      if (!PrefixMatches(r.prefix, req.path)) continue;
      path_matched = true;
      if (r.method != "*" && r.method != req.method) continue;
      if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
    }
    if (best == nullptr) {
      return path_matched
                 ? Response::Json(405, R"({"error_code":405,"message":"Method not allowed"})")
                 : Response::Json(404, R"({"error_code":404,"message":"Not found"})");
    }
    try {
      return best->handler(req);
    } catch (const std::exception& e) {
      LOG_ERROR("http handler for {} {} threw: {}", req.method, req.path, e.what());
      return Response::Json(500, R"({"error_code":500,"message":"Internal server error"})");
    }
  }

  asio::awaitable<void> Session(std::shared_ptr<beast::tcp_stream> stream) {
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(64 * 1024);
      stream->expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
      co_await bhttp::async_read(*stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec == bhttp::error::body_limit) {
        bhttp::response<bhttp::string_body> res{bhttp::status::payload_too_large, 11};
        res.set(bhttp::field::content_type, "application/json");
        res.body() = R"({"error_code":413,"message":"Request body too large"})";
        res.keep_alive(false);
        res.prepare_payload();
        co_await bhttp::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      if (ec) break;
      auto& breq = parser.get();
      Request req;
      req.method = std::string(breq.method_string());
      req.target = std::string(breq.target());
      ParseTarget(req.target, &req);
      for (const auto& f : breq) {
        req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      }
      req.body = std::move(breq.body());
      Response resp = Dispatch(req);
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(resp.status),
                                              breq.version()};
      res.set(bhttp::field::server, "braid");
      res.set(bhttp::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.body() = std::move(resp.body);
      res.keep_alive(breq.keep_alive() && !stopped.load());
      res.prepare_payload();
      bool keep = res.keep_alive();
      co_await bhttp::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) break;
    }
    stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream->close();
    std::lock_guard<std::mutex> lock(mu);
    streams.erase(stream);
  }

  asio::awaitable<void> Accept() {
    auto self = shared_from_this();
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped.load() || ec == asio::error::operation_aborted) co_return;
        LOG_WARN("http accept failed: {}", ec.message());
        continue;
      }
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stopped.load()) co_return;
        streams.insert(stream);
      }
      asio::co_spawn(
          *io, [self, stream]() { return self->Session(stream); }, asio::detached);
    }
  }
};

Server::Server(ServerOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
}

Server::~Server() { Stop(); }

void Server::Route(std::string method, std::string path_prefix, Handler handler) {
  impl_->routes.push_back(
      RouteEntry{std::move(method), std::move(path_prefix), std::move(handler)});
}

int Server::port() const { return impl_->port.load(); }

Status Server::Start(boost::asio::io_context* io) {
  ASSIGN_OR_RETURN(auto hp, ParseHostPort(impl_->options.listen));
  if (io == nullptr) {
    impl_->own_io = std::make_unique<asio::io_context>();
    io = impl_->own_io.get();
  }
  impl_->io = io;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp.first, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + hp.first + "': " + ec.message());
  tcp::endpoint ep(addr, hp.second);
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
    asio::post(*impl->io, [impl] {
      boost::system::error_code ec;
      impl->acceptor->close(ec);
      std::lock_guard<std::mutex> lock(impl->mu);
      for (const auto& s : impl->streams) {
        s->socket().shutdown(tcp::socket::shutdown_both, ec);
        s->socket().close(ec);
      }
    });
  }
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
