// Fuzzes http::RequestParser, the parser of every HTTP request braid
// receives. The first input byte picks how the rest is cut into the pieces a
// socket would deliver; the rest is a stream of pipelined requests. Every
// piece is offered as the server does (unused bytes again, with more); a
// parsed request must respect the limits, a refused one must carry one of
// the documented statuses, and the parser must never use more bytes than it
// is given.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"
#include "http/request_parser.h"

namespace {

using braid::http::Request;
using braid::http::RequestLimits;
using braid::http::RequestParser;

bool IsDocumentedStatus(int s) {
  return s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + (data[0] % 64) * (data[0] >= 128 ? 97 : 1);
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Small limits, so that the fuzzer reaches them.
  const RequestLimits limits{.max_target_bytes = 256,
                             .max_header_bytes = 2048,
                             .max_header_count = 16,
                             .max_body_bytes = 4096};
  size_t fed = 0;      // bytes of `input` delivered so far
  std::string buffer;  // delivered, not yet used
  for (int requests = 0; requests < 64; ++requests) {
    RequestParser parser(limits);
    for (;;) {
      const size_t used = parser.Put(buffer);
      CHECK(used <= buffer.size());
      buffer.erase(0, used);
      if (parser.done() || parser.failed()) break;
      if (fed == input.size()) {
        parser.PutEof();
        break;
      }
      const size_t n = std::min(piece, input.size() - fed);
      buffer.append(input.substr(fed, n));
      fed += n;
      CHECK(buffer.size() <= limits.max_header_bytes + limits.max_body_bytes + 2 * piece + 4096);
    }
    if (parser.failed()) {
      CHECK(IsDocumentedStatus(parser.error_status()));
      const std::string wire =
          braid::http::SerializeErrorResponse(parser.error_status(), parser.error_message());
      CHECK(wire.compare(0, 9, "HTTP/1.1 ") == 0);
      return 0;
    }
    if (!parser.done()) return 0;  // input ended between requests
    CHECK(parser.version() == 10 || parser.version() == 11);
    Request req = parser.TakeRequest();
    CHECK(!req.method.empty());
    CHECK(req.target.size() <= limits.max_target_bytes);
    CHECK(req.headers.size() <= limits.max_header_count);
    CHECK(req.body.size() <= limits.max_body_bytes);
    if (!parser.keep_alive()) return 0;
  }
  return 0;
}
