// RequestParser: the HTTP/1.1 request parser of http::Server, incremental
// (bytes are fed as they arrive) and strict. A request that is not
// well-formed HTTP/1.x stops the parser with the status the server answers
// (then closes the connection):
//
//   400  bad request line, bad header field or value, bare LF line endings,
//        a Content-Length that is negative, not a number, too large for 64
//        bits, or given twice; a malformed chunked body; a connection closed
//        in the middle of a request
//   413  a body larger than RequestLimits::max_body_bytes
//   414  a request target longer than RequestLimits::max_target_bytes
//   431  a header block larger than max_header_bytes, or more than
//        max_header_count fields
//   501  a method other than GET HEAD POST PUT DELETE PATCH OPTIONS TRACE
//        CONNECT, or a Transfer-Encoding other than chunked
//   505  an HTTP version other than 1.0 and 1.1
//
// Memory: at most max_header_bytes of unparsed header bytes are held (the
// caller keeps them in its buffer), the body up to max_body_bytes.
// Boost.Beast stays inside request_parser.cc.
//
// Thread safety: one parser per connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/server.h"

namespace braid::http {

struct RequestLimits {
  // Longest request target (path and query). Default: 8192 bytes.
  size_t max_target_bytes = 8192;
  // Largest request line plus header fields. Default: 65536 bytes.
  uint32_t max_header_bytes = 64 * 1024;
  // Most header fields. Default: 100.
  size_t max_header_count = 100;
  // Largest body. Default: 16 MiB.
  uint64_t max_body_bytes = 16 << 20;
};

class RequestParser {
 public:
  explicit RequestParser(const RequestLimits& limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Feeds the next received bytes; returns how many were used. Bytes not
  // used must be offered again, followed by more (a header is parsed only
  // once it is complete). Does nothing after done() or failed().
  size_t Put(std::string_view data);
  // The peer closed the connection. A request in progress fails with 400.
  void PutEof();

  // A complete request was parsed: take it with TakeRequest().
  bool done() const;
  // The request is malformed: answer error_status() and close.
  bool failed() const;
  // Some bytes of this request were received (and not all of it).
  bool started() const;
  int error_status() const;                  // 0 unless failed()
  const std::string& error_message() const;  // "" unless failed()

  // After done(): the request's method, target, headers and body (path and
  // query are left to the caller).
  Request TakeRequest();
  // After done(): the connection may stay open after the answer.
  bool keep_alive() const;
  // After done(): 10 or 11.
  unsigned version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The response braid sends for a malformed request: braid's JSON error body
// and "Connection: close", serialized (status line, headers, body).
std::string SerializeErrorResponse(int status, std::string_view message);

}  // namespace braid::http
