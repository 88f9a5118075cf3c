// TLS of braid's listeners (the HTTP servers here and the Kafka listener):
// the options and the one place that builds a server's OpenSSL context
// (TLS 1.2+ only; no SSLv2/v3, TLS 1.0, TLS 1.1). No Asio includes: the
// context is forward-declared; server.cc implements MakeServerTlsContext.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace braid::http {

// TLS of one listener (OpenSSL through Asio's ssl streams).
struct TlsOptions {
  // PEM certificate chain and private key of the server. Both required for
  // a TLS listener; for an HTTP server, an empty cert_file means plaintext.
  // Default: "" (plaintext).
  std::string cert_file;
  std::string key_file;
  // PEM CA certificates that client certificates are verified against;
  // "" asks for no client certificate. Default: "".
  std::string ca_file;
  // Whether clients must present a certificate that verifies against
  // ca_file (Kafka's ssl.client.auth=required); false: optional (requested
  // when ca_file is set; a certificate that is sent must verify).
  // Default: false.
  bool require_client_cert = false;

  bool enabled() const { return !cert_file.empty(); }
};

// The server context of `options`: TLS 1.2+, the chain and key (checked to
// match), and client-certificate verification when ca_file is set.
// InvalidArgument for missing or unreadable files, a key that does not match,
// or require_client_cert without ca_file.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsOptions& options);

}  // namespace braid::http
