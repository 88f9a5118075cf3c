// The Kafka network server: a TCP acceptor and one pair of coroutines per
// connection (a reader and an in-order writer). Each io thread runs its own
// Asio io_context and owns the connections assigned to it (round robin), so
// a connection's work never hops threads. It knows frames, not messages:
// each frame is handed to a
// RequestHandler, which answers through a callback (from any thread, at any
// later time). Responses are written strictly in request order per
// connection, even when handlers complete out of order (a parked Fetch delays
// the responses behind it, as in Kafka).
//
// Framing: int32 big-endian size + payload. A size < 0 or > max_frame_bytes
// closes the connection (Kafka's socket.request.max.bytes behaviour).
//
// Memory under hostile clients: a frame's buffer grows with the bytes that
// actually arrive (never to the declared size up front), and every buffered
// request byte, from its arrival until the handler drops the frame, is
// charged to one broker-wide budget (max_request_bytes_in_flight, Kafka's
// queued.max.request.bytes); a connection whose frame needs more than what
// is left waits (reads nothing) until other requests free it. Connections
// are capped per client address and in total; a connection that starts a
// request and does not finish it within incomplete_request_timeout_ms, or
// sends nothing for connections_max_idle_ms while nothing is in flight, is
// closed. Resident memory therefore stays below the budget plus a
// per-connection constant (see docs/operations.md, "Hostile clients").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/tls.h"
#include "io/file_system.h"
#include "kafka/server/executor.h"

namespace braid::kafka {

// What a handler answers for one request frame.
struct HandlerResult {
  enum class Kind : uint8_t {
    kResponse,    // write `frame` (a complete frame including its size prefix)
    kNoResponse,  // nothing to write (Produce with acks=0)
    kClose,       // close the connection once every earlier response is written
  };
  // A range of a file that belongs right before byte `at` of `frame`: the
  // server writes it from the file (sendfile(2) on plaintext connections)
  // instead of the handler copying it into `frame`. `file` stays open until
  // the range is written.
  struct FilePart {
    size_t at = 0;
    std::shared_ptr<io::RandomAccessFile> file;
    uint64_t position = 0;
    uint64_t size = 0;
  };
  Kind kind = Kind::kResponse;
  // Close the connection right after this response is written (a failed
  // SASL authentication: the client reads the error, then the socket ends).
  bool close_after = false;
  // From this response on the connection is authenticated: frames up to
  // ServerOptions::max_frame_bytes are accepted (before, SASL listeners
  // accept max_unauthenticated_frame_bytes). Applied before the next frame
  // is read when the handler answers inline.
  bool authenticated = false;
  // With file_parts, `frame` holds the frame's other bytes; its size prefix
  // counts every byte on the wire.
  std::string frame;
  std::vector<FilePart> file_parts;  // ascending `at`, each at <= frame.size()
  // The response's first Kafka error code (0: none), for the request log.
  int16_t error_code = 0;

  static HandlerResult Response(std::string frame, std::vector<FilePart> file_parts = {}) {
    HandlerResult r;
    r.frame = std::move(frame);
    r.file_parts = std::move(file_parts);
    return r;
  }
  static HandlerResult NoResponse() {
    HandlerResult r;
    r.kind = Kind::kNoResponse;
    return r;
  }
  static HandlerResult Close() {
    HandlerResult r;
    r.kind = Kind::kClose;
    return r;
  }
  // Bytes written on the wire for this result.
  uint64_t wire_size() const {
    uint64_t n = frame.size();
    for (const FilePart& p : file_parts) n += p.size;
    return n;
  }
};

// Called exactly once per request; thread-safe; may be called inline.
using RespondFn = std::function<void(HandlerResult)>;

// A listener's security protocol, as Kafka's listeners= names them.
enum class SecurityProtocol : uint8_t {
  kPlaintext,      // PLAINTEXT://
  kSsl,            // SSL://  (TLS, no SASL)
  kSaslPlaintext,  // SASL_PLAINTEXT://
  kSaslSsl,        // SASL_SSL://
};
std::string_view SecurityProtocolName(SecurityProtocol p);
inline bool UsesTls(SecurityProtocol p) {
  return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl;
}
inline bool UsesSasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

struct ConnectionInfo {
  uint64_t id = 0;   // unique per server
  std::string peer;  // "host:port" of the client
  int listener = 0;  // index into ServerOptions::listeners
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  // TLS listeners with a verified client certificate: its subject
  // (RFC 2253 form, e.g. "CN=alice,O=example"); "" otherwise. Set once the
  // handshake completed, i.e. before the first request.
  std::string tls_subject;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // `frame` is the request without its size prefix. Runs on an io thread;
  // must not block for long (disk appends are acceptable, waiting is not:
  // use the Executor).
  virtual void HandleRequest(const ConnectionInfo& conn, std::shared_ptr<const std::string> frame,
                             RespondFn respond) = 0;
  virtual void OnConnectionOpened(const ConnectionInfo& conn) {}
  virtual void OnConnectionClosed(const ConnectionInfo& conn) {}
};

// The listener's defences (see the file comment); the flags of `braid
// broker` and `braid up` of the same names set them.
struct ConnectionLimits {
  // Request bytes buffered at once, over all connections (Kafka's
  // queued.max.request.bytes); at least max_frame_bytes. Default: 256 MiB.
  int64_t max_request_bytes_in_flight = int64_t{256} << 20;
  // Connections from one client address (Kafka's max.connections.per.ip);
  // more are closed at once. Default: 1000 (Kafka: unlimited).
  int max_connections_per_ip = 1000;
  // Connections in total (Kafka's max.connections). Default: 10000 (Kafka:
  // unlimited).
  int max_connections = 10000;
  // A request whose first byte arrived must be complete within this long,
  // or the connection is closed (slowloris; a connection waiting for the
  // budget counts as not completing). Default: 60000 ms.
  int64_t incomplete_request_timeout_ms = 60000;
  // A connection that sends nothing for this long while no request of it
  // is in flight is closed (Kafka's connections.max.idle.ms).
  // Default: 600000 ms.
  int64_t connections_max_idle_ms = 600000;
};

// TLS of one listener (OpenSSL through Asio's ssl streams; TLS 1.2+): the
// options of http/tls.h, whose MakeServerTlsContext both listeners use.
using TlsOptions = http::TlsOptions;

struct ListenerOptions {
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  // "HOST:PORT" to bind; port 0 picks a free port.
  std::string listen = "127.0.0.1:9092";
  // For kSsl and kSaslSsl.
  TlsOptions tls;
};

// Parses Kafka's listener syntax: "PROTOCOL://HOST:PORT" (PLAINTEXT, SSL,
// SASL_PLAINTEXT, SASL_SSL) or a bare "HOST:PORT" (PLAINTEXT). TLS options
// are not part of it.
Result<ListenerOptions> ParseListener(std::string_view spec);

struct ServerOptions {
  // "HOST:PORT" to bind when `listeners` is empty (one PLAINTEXT listener);
  // port 0 picks a free port. Default: "127.0.0.1:9092".
  std::string listen = "127.0.0.1:9092";
  // The listeners (each its own acceptor; connections carry its index and
  // protocol in ConnectionInfo). Default: none (use `listen`).
  std::vector<ListenerOptions> listeners;
  // Largest request frame a connection of a SASL listener may send before
  // it authenticated (Kafka's sasl.server.max.receive.size); larger frames
  // close the connection. Default: 524288.
  int32_t max_unauthenticated_frame_bytes = 524288;
  // Io threads, each with its own io_context and connections. Default: 2.
  int threads = 2;
  // Largest accepted request frame (socket.request.max.bytes).
  // Default: 104857600 (100 MiB).
  int32_t max_frame_bytes = 100 * 1024 * 1024;
  // Memory and connection limits against hostile clients.
  ConnectionLimits limits;
  // Requests read ahead on one connection before their responses are
  // written; the reader pauses above this. Default: 1000.
  int max_in_flight_per_connection = 1000;
  // Write HandlerResult::file_parts with sendfile(2) (the connection is
  // corked meanwhile, so the frame's bytes and the file ranges leave in
  // full-sized segments). false: read them and write the copy, as a TLS
  // connection must. Default: true.
  bool sendfile = true;
};

class Server {
 public:
  // `handler` must outlive the server.
  Server(ServerOptions options, RequestHandler* handler);
  ~Server();  // Stop()s.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the io threads.
  Status Start();
  // The bound port of listener `listener` (after Start()).
  int port(int listener = 0) const;
  // The executor of the io threads (valid from construction until
  // destruction; work posted after Stop() is dropped).
  Executor* executor();
  // Stops accepting, closes every connection, joins the io threads. Pending
  // handler callbacks become no-ops. Idempotent.
  void Stop();

  // Request bytes buffered now (charged to max_request_bytes_in_flight).
  int64_t request_bytes_in_flight() const;
  // Connections open now.
  int connection_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace braid::kafka
