// A minimal blocking HTTP/1.1 client for braid's commands (`braid schemas`,
// commands that talk to a running `braid up`; one request per
// connection, "Connection: close"). Plain POSIX sockets; https:// with
// OpenSSL (TLS 1.2+, the server's certificate verified against
// ClientCaFile(), or the system's CAs, and its name checked).
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

// The CA file (PEM) that https servers are verified against, for the whole
// process: SetClientCaFile(path) (the CLI's --ca), else the environment
// variable BRAID_CA_FILE, else "" (the system's default CA paths).
void SetClientCaFile(std::string path);
std::string ClientCaFile();

// The base URL of a running braid's HTTP address as its data directory
// records it: "HOST:PORT" → "http://HOST:PORT"; an address with a scheme
// ("https://HOST:PORT") is returned as is.
std::string UrlOf(std::string_view address);

// Sends `method` `url` ("http[s]://HOST:PORT/path?query") with `body` (typed
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
