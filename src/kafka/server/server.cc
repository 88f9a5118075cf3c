#include "kafka/server/server.h"

#include <utility>  // must precede Asio (Boost 1.74 with g++ 12)

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log_limiter.h"
#include "base/logging.h"
#include "base/strings.h"
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace braid::kafka {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using SteadyClock = std::chrono::steady_clock;

// The TLS context of a listener (http/tls.h), with the flags to name.
Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const TlsOptions& o) {
  if (o.cert_file.empty() || o.key_file.empty()) {
    return Status::InvalidArgument(
        "a TLS listener needs a certificate and a key (--tls-cert, --tls-key)");
  }
  if (o.require_client_cert && o.ca_file.empty()) {
    return Status::InvalidArgument("requiring client certificates needs a CA file (--tls-ca)");
  }
  return http::MakeServerTlsContext(o);
}

// What every connection of a server shares: the request-bytes budget and
// the connection counts.
struct SharedLimits {
  explicit SharedLimits(const ConnectionLimits& o)
      : budget(o.max_request_bytes_in_flight),
        max_per_ip(o.max_connections_per_ip),
        max_total(o.max_connections) {}

  // Charges `n` bytes if they fit in the budget.
  bool TryCharge(int64_t n) {
    int64_t cur = in_flight.load(std::memory_order_relaxed);
    do {
      if (cur + n > budget) return false;
    } while (!in_flight.compare_exchange_weak(cur, cur + n, std::memory_order_acq_rel));
    return true;
  }
  void Release(int64_t n) { in_flight.fetch_sub(n, std::memory_order_acq_rel); }

  // Counts a new connection from `host`; false (nothing counted) when a
  // limit is reached.
  bool AddConnection(const std::string& host) {
    std::lock_guard<std::mutex> l(mu);
    if (total >= max_total) return false;
    int& n = per_ip[host];
    if (n >= max_per_ip) {
      if (n == 0) per_ip.erase(host);
      return false;
    }
    ++n;
    ++total;
    return true;
  }
  void RemoveConnection(const std::string& host) {
    std::lock_guard<std::mutex> l(mu);
    auto it = per_ip.find(host);
    if (it == per_ip.end()) return;
    if (--it->second <= 0) per_ip.erase(it);
    --total;
  }
  int connections() {
    std::lock_guard<std::mutex> l(mu);
    return total;
  }

  const int64_t budget;
  const int max_per_ip;
  const int max_total;
  std::atomic<int64_t> in_flight{0};
  std::mutex mu;
  std::unordered_map<std::string, int> per_ip;  // guarded by mu
  int total = 0;                                // guarded by mu
};

// A request frame's bytes, charged to the budget until the last reference
// (the handler's) is dropped.
struct FrameBuffer {
  ~FrameBuffer() {
    if (charged > 0) limits->Release(charged);
  }
  std::string data;
  int64_t charged = 0;
  std::shared_ptr<SharedLimits> limits;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // The io_context of the one io thread that runs this connection: its
  // reader, writer and response hand-overs never run concurrently.
  using IoExecutor = asio::io_context::executor_type;

  // `socket` belongs to `io`.
  // `socket` belongs to `io`; the connection is already counted in
  // `limits` under `host`.
  // `tls` (null for plaintext listeners) is the listener's TLS context.
  Connection(tcp::socket socket, asio::io_context& io, ConnectionInfo info, std::string host,
             const ServerOptions& opts, RequestHandler* handler,
             std::shared_ptr<std::atomic<bool>> server_stopped,
             std::shared_ptr<SharedLimits> limits, std::shared_ptr<asio::ssl::context> tls)
      : server_stopped_(std::move(server_stopped)),
        limits_(std::move(limits)),
        exec_(io.get_executor()),
        socket_(std::move(socket)),
        tls_ctx_(std::move(tls)),
        wake_writer_(exec_),
        wake_reader_(exec_),
        budget_timer_(exec_),
        watch_timer_(exec_),
        info_(std::move(info)),
        host_(std::move(host)),
        max_frame_(UsesSasl(info_.protocol)
                       ? std::min(opts.max_frame_bytes, opts.max_unauthenticated_frame_bytes)
                       : opts.max_frame_bytes),
        full_max_frame_(opts.max_frame_bytes),
        max_in_flight_(opts.max_in_flight_per_connection),
        incomplete_timeout_(std::chrono::milliseconds(opts.limits.incomplete_request_timeout_ms)),
        idle_timeout_(std::chrono::milliseconds(opts.limits.connections_max_idle_ms)),
        sendfile_(opts.sendfile),
        handler_(handler),
        last_activity_(SteadyClock::now()) {}

  const ConnectionInfo& info() const { return info_; }
  const IoExecutor& executor() const { return exec_; }

  void Start() {
    auto self = shared_from_this();
    // sendfile(2) must never block an io thread.
    boost::system::error_code ec;
    socket_.native_non_blocking(true, ec);
    if (ec) sendfile_ = false;
    if (tls_ctx_) {
      tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_ctx_);
      sendfile_ = false;  // the bytes must go through the TLS record layer
    }
    handler_->OnConnectionOpened(info_);
    asio::co_spawn(
        exec_, [self] { return self->ReadLoop(); }, asio::detached);
    asio::co_spawn(
        exec_, [self] { return self->WriteLoop(); }, asio::detached);
    asio::co_spawn(
        exec_, [self] { return self->WatchLoop(); }, asio::detached);
  }

  // Thread-safe.
  void Close() {
    auto self = shared_from_this();
    asio::post(exec_, [self] { self->CloseNow(); });
  }

 private:
  struct Slot {
    bool done = false;
    HandlerResult result;
  };

  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    wake_writer_.cancel();
    wake_reader_.cancel();
    budget_timer_.cancel();
    watch_timer_.cancel();
    limits_->RemoveConnection(host_);
    handler_->OnConnectionClosed(info_);
  }

  // Closes the connection when a request started and did not complete in
  // time, or when it has been idle too long. Wakes at most once a second:
  // the read path only stamps times, it never re-arms a timer.
  asio::awaitable<void> WatchLoop() {
    boost::system::error_code ec;
    while (!closed_) {
      const auto now = SteadyClock::now();
      SteadyClock::time_point due;
      if (request_started_ != SteadyClock::time_point{}) {
        due = request_started_ + incomplete_timeout_;
        if (now >= due) {
          WarnClientInput(
              "incomplete request", info_.peer,
              "kafka: closing connection {} from {}: a request started {} ms ago is "
              "incomplete ({} of its bytes arrived)",
              info_.id, info_.peer,
              std::chrono::duration_cast<std::chrono::milliseconds>(now - request_started_).count(),
              request_bytes_);
          CloseNow();
          break;
        }
      } else {
        due = last_activity_ + idle_timeout_;
        if (now >= due) {
          if (slots_.empty()) {
            LOG_DEBUG("kafka: closing connection {} from {}: idle for {} ms", info_.id, info_.peer,
                      idle_timeout_.count());
            CloseNow();
            break;
          }
          last_activity_ = now;  // a request is in flight: not idle
          continue;
        }
      }
      watch_timer_.expires_at(std::min(due, now + std::chrono::seconds(1)));
      co_await watch_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // Grows `frame` to `want` bytes (its first `have` kept), charging the
  // budget first; waits while the budget is spent. False if the connection
  // closed meanwhile. The buffer is exact (no capacity beyond `want`), and
  // the old one is released after the copy, so the charge covers the peak.
  asio::awaitable<bool> GrowFrame(FrameBuffer& frame, size_t have, size_t want) {
    boost::system::error_code ec;
    const auto need = static_cast<int64_t>(want);
    while (!limits_->TryCharge(need)) {
      if (closed_) co_return false;
      budget_timer_.expires_after(std::chrono::milliseconds(5));
      co_await budget_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (closed_) co_return false;
    }
    std::string next;
    next.reserve(want);
    next.append(frame.data, 0, have);
    next.resize(want);
    frame.data.swap(next);
    const int64_t old = frame.charged;
    frame.charged = need;
    { std::string().swap(next); }
    if (old > 0) limits_->Release(old);
    co_return true;
  }

  // Socket or TLS reads and writes.
  asio::awaitable<size_t> ReadSome(asio::mutable_buffer b, boost::system::error_code& ec) {
    if (tls_)
      co_return co_await tls_->async_read_some(b, asio::redirect_error(asio::use_awaitable, ec));
    co_return co_await socket_.async_read_some(b, asio::redirect_error(asio::use_awaitable, ec));
  }
  asio::awaitable<void> WriteAll(asio::const_buffer b, boost::system::error_code& ec) {
    if (tls_) {
      co_await asio::async_write(*tls_, b, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(socket_, b, asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // The TLS handshake, bounded by the incomplete-request timeout. False
  // (connection closed) when it fails: e.g. a plaintext Kafka client.
  asio::awaitable<bool> Handshake() {
    boost::system::error_code ec;
    request_started_ = SteadyClock::now();
    co_await tls_->async_handshake(asio::ssl::stream_base::server,
                                   asio::redirect_error(asio::use_awaitable, ec));
    request_started_ = SteadyClock::time_point{};
    if (ec || closed_) {
      if (!closed_) {
        WarnClientInput("tls handshake failed", info_.peer,
                        "kafka: closing connection {} from {}: TLS handshake failed: {}", info_.id,
                        info_.peer, ec.message());
      }
      co_return false;
    }
    if (X509* cert = SSL_get1_peer_certificate(tls_->native_handle())) {
      if (SSL_get_verify_result(tls_->native_handle()) == X509_V_OK) {
        BIO* bio = BIO_new(BIO_s_mem());
        if (bio != nullptr) {
          X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
          char* data = nullptr;
          const long n = BIO_get_mem_data(bio, &data);
          if (n > 0 && data != nullptr) info_.tls_subject.assign(data, static_cast<size_t>(n));
          BIO_free(bio);
        }
      }
      X509_free(cert);
    }
    last_activity_ = SteadyClock::now();
    co_return true;
  }

  asio::awaitable<void> ReadLoop() {
    boost::system::error_code ec;
    if (tls_ && !co_await Handshake()) {
      CloseNow();
      read_done_ = true;
      co_return;
    }
    for (;;) {
      // The size prefix; its first byte starts the request's clock.
      unsigned char size_buf[4];
      size_t have = 0;
      while (have < 4) {
        const size_t n = co_await ReadSome(asio::buffer(size_buf + have, 4 - have), ec);
        if (ec || closed_) break;
        if (have == 0) request_started_ = SteadyClock::now();
        have += n;
        request_bytes_ = have;
      }
      if (ec || closed_) {
        // EOF or a socket error: the client is gone (Kafka clients never
        // half-close), so pending responses (e.g. parked fetches) are dropped.
        CloseNow();
        break;
      }
      int32_t size =
          static_cast<int32_t>((uint32_t{size_buf[0]} << 24) | (uint32_t{size_buf[1]} << 16) |
                               (uint32_t{size_buf[2]} << 8) | uint32_t{size_buf[3]});
      if (size < 0 || size > max_frame_) {
        WarnClientInput("bad frame size", info_.peer,
                        "kafka: closing connection {} from {}: frame size {} outside [0, {}]",
                        info_.id, info_.peer, size, max_frame_);
        break;
      }
      // The buffer grows with the bytes that arrive: 64 KiB (or what has
      // arrived), then doubling.
      auto holder = std::make_shared<FrameBuffer>();
      holder->limits = limits_;
      const auto total = static_cast<size_t>(size);
      size_t got = 0;
      bool ok = true;
      while (got < total) {
        if (holder->data.size() == got) {
          // Bytes already received count too (one exact buffer for a frame
          // that arrived whole): they cost the sender, not braid.
          boost::system::error_code aec;
          const size_t ready = socket_.available(aec);
          const size_t want = std::min(
              total, std::max({got * 2, size_t{64} << 10, got + (aec ? size_t{0} : ready)}));
          if (!co_await GrowFrame(*holder, got, want)) {
            ok = false;
            break;
          }
        }
        const size_t n = co_await ReadSome(
            asio::buffer(holder->data.data() + got, holder->data.size() - got), ec);
        if (ec || closed_) {
          ok = false;
          break;
        }
        got += n;
        request_bytes_ = 4 + got;
      }
      if (!ok) {
        CloseNow();
        break;
      }
      request_started_ = SteadyClock::time_point{};
      last_activity_ = SteadyClock::now();
      std::shared_ptr<const std::string> frame(holder, &holder->data);
      holder.reset();
      while (!closed_ && static_cast<int>(slots_.size()) >= max_in_flight_) {
        wake_reader_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_reader_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (closed_) break;
      auto slot = std::make_shared<Slot>();
      slots_.push_back(slot);
      auto self = shared_from_this();
      handler_->HandleRequest(info_, std::move(frame), [self, slot](HandlerResult r) {
        if (self->server_stopped_->load()) return;
        // Inline when the handler answered right away (on this thread):
        // one hand-over less per request.
        asio::dispatch(self->exec_, [self, slot, r = std::move(r)]() mutable {
          if (r.authenticated) self->max_frame_ = self->full_max_frame_;
          slot->result = std::move(r);
          slot->done = true;
          self->wake_writer_.cancel();
        });
      });
    }
    read_done_ = true;
    wake_writer_.cancel();
  }

  asio::awaitable<void> WriteLoop() {
    boost::system::error_code ec;
    while (!closed_) {
      while (!closed_ && !slots_.empty() && slots_.front()->done) {
        auto slot = std::move(slots_.front());
        slots_.pop_front();
        wake_reader_.cancel();
        if (slot->result.kind == HandlerResult::Kind::kClose) {
          CloseNow();
          break;
        }
        if (slot->result.kind == HandlerResult::Kind::kResponse && !slot->result.frame.empty()) {
          if (slot->result.file_parts.empty()) {
            co_await WriteAll(asio::buffer(slot->result.frame), ec);
          } else {
            co_await WriteWithFileParts(slot->result, ec);
          }
          if (ec) {
            CloseNow();
            break;
          }
          last_activity_ = SteadyClock::now();
        }
        if (slot->result.close_after) {
          CloseNow();
          break;
        }
      }
      if (closed_) break;
      // The reader stopped at a bad frame: finish the responses already
      // promised, then close.
      if (read_done_ && slots_.empty()) break;
      wake_writer_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_writer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    CloseNow();
  }

  // Writes a response whose file parts come from files: the frame's bytes
  // up to each part, then the part (sendfile(2), or read and copied), then
  // the rest. The socket is corked meanwhile (TCP_CORK), so that the frame
  // header and the file bytes leave together in full segments.
  asio::awaitable<void> WriteWithFileParts(const HandlerResult& r, boost::system::error_code& ec) {
    const bool zero_copy = sendfile_;
    if (zero_copy) SetCork(true);
    size_t at = 0;
    for (const HandlerResult::FilePart& part : r.file_parts) {
      if (part.at > at) {
        co_await WriteAll(asio::buffer(r.frame.data() + at, part.at - at), ec);
        if (ec) co_return;
        at = part.at;
      }
      if (zero_copy && part.file->fd() >= 0) {
        co_await SendFile(part, ec);
      } else {
        co_await CopyFile(part, ec);
      }
      if (ec) co_return;
    }
    if (at < r.frame.size()) {
      co_await WriteAll(asio::buffer(r.frame.data() + at, r.frame.size() - at), ec);
      if (ec) co_return;
    }
    if (zero_copy) SetCork(false);  // pushes the last partial segment out
  }

  asio::awaitable<void> SendFile(const HandlerResult::FilePart& part,
                                 boost::system::error_code& ec) {
    off_t off = static_cast<off_t>(part.position);
    uint64_t left = part.size;
    while (left > 0) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, 1 << 30));
      ssize_t n = ::sendfile(socket_.native_handle(), part.file->fd(), &off, chunk);
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) {
        // The file is shorter than the range: the response cannot be
        // completed, and its size prefix is already out.
        LOG_WARN("kafka: connection {}: segment file ended {} bytes early", info_.id, left);
        ec = asio::error::make_error_code(asio::error::misc_errors::eof);
        co_return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = boost::system::error_code(errno, boost::system::system_category());
        co_return;
      }
      co_await socket_.async_wait(tcp::socket::wait_write,
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }

  asio::awaitable<void> CopyFile(const HandlerResult::FilePart& part,
                                 boost::system::error_code& ec) {
    std::string buf;
    uint64_t done = 0;
    while (done < part.size) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(part.size - done, 1 << 20));
      buf.resize(n);
      Result<size_t> got = part.file->Read(part.position + done, n, buf.data());
      if (!got.ok() || *got != n) {
        LOG_WARN("kafka: connection {}: reading a segment file: {}", info_.id,
                 got.ok() ? "short read" : got.status().ToString());
        ec = asio::error::make_error_code(asio::error::misc_errors::eof);
        co_return;
      }
      co_await WriteAll(asio::buffer(buf), ec);
      if (ec) co_return;
      done += n;
    }
  }

  void SetCork(bool on) {
    int v = on ? 1 : 0;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
  }

  std::shared_ptr<std::atomic<bool>> server_stopped_;
  std::shared_ptr<SharedLimits> limits_;
  IoExecutor exec_;
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> tls_ctx_;           // null: plaintext
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;  // over socket_
  asio::steady_timer wake_writer_;
  asio::steady_timer wake_reader_;
  asio::steady_timer budget_timer_;  // the reader's wait for budget
  asio::steady_timer watch_timer_;   // WatchLoop's
  ConnectionInfo info_;
  std::string host_;
  int32_t max_frame_;  // on exec_: raised to full_max_frame_ on authentication
  int32_t full_max_frame_;
  int max_in_flight_;
  std::chrono::milliseconds incomplete_timeout_;
  std::chrono::milliseconds idle_timeout_;
  bool sendfile_;
  RequestHandler* handler_;
  // On exec_: when the request being read started (epoch: none), how many
  // of its bytes arrived, and the last completed request or response.
  SteadyClock::time_point request_started_{};
  size_t request_bytes_ = 0;
  SteadyClock::time_point last_activity_;
  std::deque<std::shared_ptr<Slot>> slots_;  // on exec_
  bool read_done_ = false;                   // on exec_
  bool closed_ = false;                      // on exec_
};

}  // namespace

std::string_view SecurityProtocolName(SecurityProtocol p) {
  switch (p) {
    case SecurityProtocol::kPlaintext:
      return "PLAINTEXT";
    case SecurityProtocol::kSsl:
      return "SSL";
    case SecurityProtocol::kSaslPlaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl:
      return "SASL_SSL";
  }
  return "PLAINTEXT";
}

Result<ListenerOptions> ParseListener(std::string_view spec) {
  ListenerOptions l;
  const size_t sep = spec.find("://");
  std::string_view addr = spec;
  if (sep != std::string_view::npos) {
    const std::string_view proto = spec.substr(0, sep);
    addr = spec.substr(sep + 3);
    bool found = false;
    for (SecurityProtocol p : {SecurityProtocol::kPlaintext, SecurityProtocol::kSsl,
                               SecurityProtocol::kSaslPlaintext, SecurityProtocol::kSaslSsl}) {
      if (proto == SecurityProtocolName(p)) {
        l.protocol = p;
        found = true;
      }
    }
    if (!found) {
      return Status::InvalidArgument("unknown security protocol '" + std::string(proto) +
                                     "' (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)");
    }
  }
  ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(addr));
  (void)hp;
  l.listen = std::string(addr);
  return l;
}

// One io_context per io thread: a connection lives on one of them (round
// robin), so its reader, writer and hand-overs need no locks and wake no
// other thread; only Executor work and log wake-ups cross threads.
struct Server::Impl : public std::enable_shared_from_this<Server::Impl>, public Executor {
  ServerOptions options;
  RequestHandler* handler = nullptr;
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per io thread
  std::atomic<size_t> next_context{0};
  std::vector<ListenerOptions> listeners;                 // options.listeners, or one from `listen`
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // on contexts[0], per listener
  std::vector<std::shared_ptr<asio::ssl::context>> tls;   // per listener; null: plaintext
  std::vector<std::thread> threads;
  std::unique_ptr<std::atomic<int>[]> ports;
  std::atomic<bool> stopped{false};
  // Shared with connections: respond callbacks that outlive the server must
  // not post to its io_contexts.
  std::shared_ptr<std::atomic<bool>> stopped_flag = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<SharedLimits> limits;
  std::atomic<uint64_t> next_conn_id{1};
  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> conns;  // guarded by mu
  std::set<std::shared_ptr<asio::steady_timer>> timers;           // guarded by mu

  explicit Impl(ServerOptions o)
      : options(std::move(o)), limits(std::make_shared<SharedLimits>(options.limits)) {
    const int n = std::max(1, options.threads);
    for (int i = 0; i < n; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  }

  asio::io_context& NextContext() {
    return *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
  }

  void Post(std::function<void()> fn) override {
    if (stopped.load()) return;
    asio::post(NextContext(), std::move(fn));
  }

  void PostToConnection(uint64_t connection_id, std::function<void()> fn) override {
    if (stopped.load()) return;
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = conns.find(connection_id);
      if (it != conns.end()) conn = it->second.lock();
    }
    if (conn) {
      asio::post(conn->executor(), std::move(fn));
    } else {
      asio::post(NextContext(), std::move(fn));
    }
  }

  std::function<void()> RunAfter(int64_t delay_ms, std::function<void()> fn) override {
    if (stopped.load()) return [] {};
    auto timer = std::make_shared<asio::steady_timer>(NextContext());
    timer->expires_after(std::chrono::milliseconds(std::max<int64_t>(0, delay_ms)));
    {
      std::lock_guard<std::mutex> lock(mu);
      timers.insert(timer);
    }
    std::weak_ptr<asio::steady_timer> weak = timer;
    timer->async_wait([this, weak, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (auto t = weak.lock()) {
        std::lock_guard<std::mutex> lock(mu);
        timers.erase(t);
      }
      if (!ec && !stopped.load()) fn();
    });
    return [weak] {
      if (auto t = weak.lock()) asio::post(t->get_executor(), [t] { t->cancel(); });
    };
  }

  // Runs on contexts[0]; Impl outlives the io threads (Stop() joins).
  asio::awaitable<void> Accept(int listener) {
    tcp::acceptor* acceptor = acceptors[static_cast<size_t>(listener)].get();
    const SecurityProtocol protocol = listeners[static_cast<size_t>(listener)].protocol;
    for (;;) {
      boost::system::error_code ec;
      asio::io_context& io = NextContext();
      tcp::socket socket(io);
      co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped.load() || ec == asio::error::operation_aborted) co_return;
        WarnClientInput("accept failed", "", "kafka: accept failed: {}", ec.message());
        // Out of descriptors, say: do not spin; connections are closing.
        asio::steady_timer pause(co_await asio::this_coro::executor);
        pause.expires_after(std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      ConnectionInfo info;
      info.id = next_conn_id.fetch_add(1);
      info.listener = listener;
      info.protocol = protocol;
      auto remote = socket.remote_endpoint(ec);
      std::string host = ec ? "?" : remote.address().to_string();
      info.peer = ec ? "?" : host + ":" + std::to_string(remote.port());
      if (!limits->AddConnection(host)) {
        WarnClientInput("connection limit", info.peer,
                        "kafka: refusing a connection from {}: {} connections from one address "
                        "(max.connections.per.ip) or {} in all (max.connections) are open",
                        info.peer, options.limits.max_connections_per_ip,
                        options.limits.max_connections);
        socket.close(ec);
        continue;
      }
      auto conn = std::make_shared<Connection>(std::move(socket), io, std::move(info),
                                               std::move(host), options, handler, stopped_flag,
                                               limits, tls[static_cast<size_t>(listener)]);
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stopped.load()) co_return;
        for (auto it = conns.begin(); it != conns.end();) {
          it = it->second.expired() ? conns.erase(it) : std::next(it);
        }
        conns[conn->info().id] = conn;
      }
      conn->Start();
    }
  }
};

Server::Server(ServerOptions options, RequestHandler* handler)
    : impl_(std::make_shared<Impl>(std::move(options))) {
  impl_->handler = handler;
}

Server::~Server() { Stop(); }

int Server::port(int listener) const {
  if (!impl_->ports || listener < 0 || static_cast<size_t>(listener) >= impl_->listeners.size()) {
    return 0;
  }
  return impl_->ports[static_cast<size_t>(listener)].load();
}

Executor* Server::executor() { return impl_.get(); }

int64_t Server::request_bytes_in_flight() const { return impl_->limits->in_flight.load(); }

int Server::connection_count() const { return impl_->limits->connections(); }

Status Server::Start() {
  const ConnectionLimits& o = impl_->options.limits;
  if (o.max_request_bytes_in_flight < impl_->options.max_frame_bytes) {
    return Status::InvalidArgument("max request bytes in flight (" +
                                   std::to_string(o.max_request_bytes_in_flight) +
                                   ") must be at least the largest frame (" +
                                   std::to_string(impl_->options.max_frame_bytes) + ")");
  }
  if (o.max_connections_per_ip < 1 || o.max_connections < 1 ||
      o.incomplete_request_timeout_ms < 1 || o.connections_max_idle_ms < 1) {
    return Status::InvalidArgument(
        "connection limits and timeouts must be positive (max connections per ip, max "
        "connections, incomplete request timeout, connections max idle)");
  }
  Impl* impl = impl_.get();
  impl->listeners = impl->options.listeners;
  if (impl->listeners.empty()) {
    ListenerOptions l;
    l.listen = impl->options.listen;
    impl->listeners.push_back(std::move(l));
  }
  const size_t n = impl->listeners.size();
  impl->ports = std::make_unique<std::atomic<int>[]>(n);
  for (size_t i = 0; i < n; ++i) {
    const ListenerOptions& l = impl->listeners[i];
    std::shared_ptr<asio::ssl::context> tls;
    if (UsesTls(l.protocol)) {
      ASSIGN_OR_RETURN(tls, MakeTlsContext(l.tls));
    }
    const std::string where = std::string(SecurityProtocolName(l.protocol)) + "://" + l.listen;
    ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(l.listen));
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(hp.host, ec);
    if (ec) return Status::InvalidArgument("bad listen address '" + hp.host + "': " + ec.message());
    tcp::endpoint ep(addr, hp.port);
    auto acceptor = std::make_unique<tcp::acceptor>(*impl->contexts[0]);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("kafka listen on " + where + ": " + ec.message());
    impl->ports[i] = acceptor->local_endpoint().port();
    impl->acceptors.push_back(std::move(acceptor));
    impl->tls.push_back(std::move(tls));
  }
  for (size_t i = 0; i < n; ++i) {
    const int listener = static_cast<int>(i);
    asio::co_spawn(
        *impl->contexts[0], [impl, listener] { return impl->Accept(listener); }, asio::detached);
  }
  for (auto& io : impl_->contexts) {
    asio::io_context* ctx = io.get();
    impl_->threads.emplace_back([ctx] {
      auto guard = asio::make_work_guard(*ctx);
      ctx->run();
    });
  }
  return Status::OK();
}

void Server::Stop() {
  Impl* impl = impl_.get();
  if (impl->stopped.exchange(true)) return;
  impl->stopped_flag->store(true);
  if (!impl->acceptors.empty()) {
    asio::post(*impl->contexts[0], [impl] {
      boost::system::error_code ec;
      for (auto& a : impl->acceptors) a->close(ec);
    });
  }
  std::vector<std::shared_ptr<Connection>> conns;
  std::set<std::shared_ptr<asio::steady_timer>> timers;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    for (auto& [id, weak] : impl->conns) {
      if (auto c = weak.lock()) conns.push_back(std::move(c));
    }
    impl->conns.clear();
    timers.swap(impl->timers);
  }
  for (auto& c : conns) c->Close();
  conns.clear();
  for (auto& t : timers) asio::post(t->get_executor(), [t] { t->cancel(); });
  timers.clear();
  // Let the closes and cancellations run, then stop the loops.
  if (!impl->threads.empty()) {
    for (auto& io : impl->contexts) {
      std::promise<void> drained;
      auto fut = drained.get_future();
      asio::post(*io, [&drained] { drained.set_value(); });
      fut.wait_for(std::chrono::seconds(2));
    }
  }
  for (auto& io : impl->contexts) io->stop();
  for (auto& t : impl->threads) t.join();
  impl->threads.clear();
  // Run what is still ready (aborted operations) so that their captures,
  // which may own connections, are released before the io_contexts die.
  for (auto& io : impl->contexts) {
    io->restart();
    io->poll();
  }
}

}  // namespace braid::kafka
