// A minimal blocking HTTP/1.1 client for braid's commands (`braid schemas`,
// commands that talk to a running `braid up`; one request per
// connection, "Connection: close"). Plain POSIX sockets; http:// only.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace braid::http {

struct HttpClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Sends `method` `url` ("http://HOST:PORT/path?query") with `body` (typed
// `content_type` if non-empty) and returns the response. Fails with
// InvalidArgument for a malformed URL, IOError/TimedOut for connection
// problems, Corruption for a malformed response. Responses are capped at
// 64 MiB. Default timeout: 30 s for connect and for the whole exchange.
Result<HttpClientResponse> HttpRequest(std::string_view method, std::string_view url,
                                       std::string_view body = "",
                                       std::string_view content_type = "", int timeout_ms = 30000);

// Credentials: the value of an "Authorization" header ("Bearer TOKEN",
// "Basic BASE64") sent with every later HttpRequest of this process; "" (the
// default) sends none. Set once at start-up (the CLI's --token, BRAID_TOKEN,
// --http-user); not synchronized with concurrent requests.
void SetDefaultAuthorization(std::string value);

}  // namespace braid::http
