// With server.cc, the only translation units of braid that include
// Boost.Beast.
#include "http/request_parser.h"

#include <utility>  // must precede Asio (Boost 1.74 with g++ 12)

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace braid::http {

namespace bhttp = boost::beast::http;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsImplementedMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::post:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
    case bhttp::verb::patch:
    case bhttp::verb::options:
    case bhttp::verb::trace:
    case bhttp::verb::connect:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct RequestParser::Impl {
  explicit Impl(const RequestLimits& l) : limits(l) {
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    parser.eager(false);  // stop after the header, so it is checked first
  }

  void Fail(int s, std::string m) {
    status = s;
    message = std::move(m);
  }

  // The request line has not fully arrived (`pending`: the bytes so far):
  // one that is already too long cannot carry an acceptable target.
  void CheckPartialRequestLine(std::string_view pending) {
    const size_t eol = pending.find('\n');
    const size_t line = eol == std::string_view::npos ? pending.size() : eol;
    // Method, two spaces and "HTTP/1.1\r": a generous allowance.
    if (line > limits.max_target_bytes + 64) {
      Fail(414, "URI too long (limit " + std::to_string(limits.max_target_bytes) + " bytes)");
    }
  }

  void FailFromBeast(const boost::system::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      if (request_line.empty()) {
        Fail(414, "URI too long (limit " + std::to_string(limits.max_target_bytes) + " bytes)");
      } else {
        Fail(431, "Request header fields too large (limit " +
                      std::to_string(limits.max_header_bytes) + " bytes)");
      }
    } else if (ec == bhttp::error::body_limit) {
      Fail(413, "Request body too large");
    } else if (ec == bhttp::error::bad_line_ending) {
      Fail(400, "Bad request: line endings must be CRLF");
    } else if (ec == bhttp::error::bad_content_length) {
      Fail(400, "Bad request: invalid Content-Length");
    } else if (ec == bhttp::error::bad_version) {
      // Beast refuses versions other than 1.x, and a request line that
      // does not end in CRLF; a well-formed other version is 505.
      std::string_view line = request_line;
      const bool crlf = line.size() >= 2 && line.substr(line.size() - 2) == "\r\n";
      if (crlf) line.remove_suffix(2);
      const size_t sp = line.rfind(' ');
      const std::string_view v = sp == std::string_view::npos ? line : line.substr(sp + 1);
      const bool well_formed = crlf && v.size() == 8 && v.substr(0, 5) == "HTTP/" &&
                               std::isdigit(static_cast<unsigned char>(v[5])) && v[6] == '.' &&
                               std::isdigit(static_cast<unsigned char>(v[7])) && v[5] != '1';
      if (!crlf) {
        Fail(400, "Bad request: line endings must be CRLF");
      } else if (well_formed) {
        Fail(505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 are)");
      } else {
        Fail(400, "Bad request: malformed HTTP version");
      }
    } else {
      Fail(400, "Bad request: " + ec.message());
    }
  }

  // The header is complete: checks what Beast accepts but braid does not.
  void CheckHeader() {
    const auto& req = parser.get();
    const unsigned v = req.version();
    if (v != 10 && v != 11) {
      Fail(505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 are)");
      return;
    }
    if (req.target().size() > limits.max_target_bytes) {
      Fail(414, "URI too long (limit " + std::to_string(limits.max_target_bytes) + " bytes)");
      return;
    }
    size_t fields = 0, content_lengths = 0, transfer_encodings = 0;
    std::string_view te;
    for (const auto& f : req) {
      ++fields;
      if (EqualsIgnoreCase(View(f.name_string()), "content-length")) ++content_lengths;
      if (EqualsIgnoreCase(View(f.name_string()), "transfer-encoding")) {
        ++transfer_encodings;
        te = Trim(View(f.value()));
      }
    }
    if (fields > limits.max_header_count) {
      Fail(431, "Request header fields too large (limit " +
                    std::to_string(limits.max_header_count) + " fields)");
      return;
    }
    if (content_lengths > 1) {
      Fail(400, "Bad request: more than one Content-Length");
      return;
    }
    if (transfer_encodings > 0 && content_lengths > 0) {
      Fail(400, "Bad request: both Content-Length and Transfer-Encoding");
      return;
    }
    if (transfer_encodings > 1 || (transfer_encodings == 1 && !EqualsIgnoreCase(te, "chunked"))) {
      Fail(501, "Transfer-Encoding not implemented (only chunked is)");
      return;
    }
    if (!IsImplementedMethod(req.method())) {
      Fail(501, "Method not implemented");
      return;
    }
  }

  RequestLimits limits;
  bhttp::request_parser<bhttp::string_body> parser;
  int status = 0;
  std::string message;
  bool started = false;
  bool header_checked = false;
  // The request line with its line ending, once it has fully arrived
  // (Beast uses no byte before that).
  std::string request_line;
};

RequestParser::RequestParser(const RequestLimits& limits) : impl_(std::make_unique<Impl>(limits)) {}

RequestParser::~RequestParser() = default;

size_t RequestParser::Put(std::string_view data) {
  Impl& m = *impl_;
  if (failed() || done() || data.empty()) return 0;
  m.started = true;
  if (m.request_line.empty()) {
    const size_t eol = data.find('\n');
    if (eol != std::string_view::npos) m.request_line.assign(data.substr(0, eol + 1));
  }
  size_t used = 0;
  while (!m.parser.is_done() && m.status == 0) {
    boost::system::error_code ec;
    const std::string_view rest = data.substr(used);
    const size_t n = m.parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    used += n;
    if (ec == bhttp::error::need_more) {
      if (m.request_line.empty()) m.CheckPartialRequestLine(data.substr(used));
      break;
    }
    if (ec) {
      m.FailFromBeast(ec);
      break;
    }
    if (m.parser.is_header_done() && !m.header_checked) {
      m.header_checked = true;
      m.CheckHeader();
    }
    if (n == 0 || used == data.size()) break;
  }
  return used;
}

void RequestParser::PutEof() {
  if (failed() || done() || !impl_->started) return;
  impl_->Fail(400, "Bad request: connection closed before the request was complete");
}

bool RequestParser::done() const { return impl_->status == 0 && impl_->parser.is_done(); }
bool RequestParser::failed() const { return impl_->status != 0; }
bool RequestParser::started() const { return impl_->started; }
int RequestParser::error_status() const { return impl_->status; }
const std::string& RequestParser::error_message() const { return impl_->message; }

Request RequestParser::TakeRequest() {
  auto& req = impl_->parser.get();
  Request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& f : req) {
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  out.body = std::move(req.body());
  return out;
}

bool RequestParser::keep_alive() const { return impl_->parser.get().keep_alive(); }

unsigned RequestParser::version() const { return impl_->parser.get().version(); }

std::string SerializeErrorResponse(int status, std::string_view message) {
  // Response::Error's shape; the messages are the parser's own ASCII text
  // (kept apart from server.cc so that the fuzz build, which cannot compile
  // the server's coroutines, links the parser alone).
  std::string body = "{\"error_code\":" + std::to_string(status) + ",\"message\":\"";
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      body += '\\';
      body += c;
    } else if (u >= 0x20 && u < 0x7f) {
      body += c;
    } else {
      body += '?';
    }
  }
  body += "\"}";
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(reason.data(), reason.size()) +
                    "\r\nServer: braid\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

}  // namespace braid::http
