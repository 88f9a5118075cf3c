// `braid up --secure`: the material a secure-by-default braid needs, made on
// first start and reused afterwards — a self-signed CA, a server certificate
// signed by it, and an admin user with a generated password. No sockets.
//
// Layout (inside DATA/security, mode 0700; every file mode 0600, written
// atomically with fsync):
//   tls/ca.pem, tls/ca.key          the CA (clients trust ca.pem)
//   tls/server.pem, tls/server.key  the server certificate (chain: server
//                                   certificate then CA) and its key
//   tls/server.names                the DNS names and IP addresses the
//                                   server certificate covers, one per line
//   admin.password                  the admin user's password (first line)
// The admin user's SCRAM-SHA-256 and SCRAM-SHA-512 credentials go to the
// user store (users.json), never the password itself.
//
// Idempotent: a second call finds the files and changes nothing, except that
// a server certificate that does not cover the requested names is reissued
// from the same CA (clients that trust ca.pem keep trusting the server).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace braid::security {

struct TlsMaterialOptions {
  // Subject CN of the CA. Default: "braid CA".
  std::string ca_common_name = "braid CA";
  // Subject CN of the server certificate. Default: "braid".
  std::string server_common_name = "braid";
  // subjectAltName DNS entries of the server certificate. Default: localhost.
  std::vector<std::string> dns_names = {"localhost"};
  // subjectAltName IP entries (IPv4 or IPv6 text). Default: 127.0.0.1, ::1.
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
  // Validity in days. Defaults: CA 3650, server 825 (the browsers' limit).
  int ca_days = 3650;
  int server_days = 825;
};

// PEM texts. Keys are ECDSA P-256, certificates SHA-256 signed, X.509 v3.
struct TlsMaterial {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_pem;  // the server certificate only
  std::string server_key_pem;
};

// A new CA and a server certificate signed by it.
[[nodiscard]] Result<TlsMaterial> GenerateTlsMaterial(const TlsMaterialOptions& options);
// A new server certificate (and key) signed by an existing CA; fills the
// server fields of the result and copies the CA fields.
[[nodiscard]] Result<TlsMaterial> IssueServerCertificate(const std::string& ca_cert_pem,
                                                         const std::string& ca_key_pem,
                                                         const TlsMaterialOptions& options);

struct SecureSetupOptions {
  // Name of the admin user. Default: "admin".
  std::string admin_user = "admin";
  // Names the server certificate must cover (see TlsMaterialOptions).
  TlsMaterialOptions tls;
};

struct SecureSetup {
  std::string ca_file;    // DATA/security/tls/ca.pem
  std::string cert_file;  // DATA/security/tls/server.pem (with the CA appended)
  std::string key_file;   // DATA/security/tls/server.key
  std::string admin_user;
  std::string admin_password_file;  // DATA/security/admin.password
  // The admin password, set only when this call created the admin user (the
  // one time it is printed).
  std::optional<std::string> new_admin_password;
  bool created_ca = false;            // this call made the CA
  bool reissued_server_cert = false;  // this call (re)issued the server certificate
};

// Makes (first start) or finds (later starts) the secure setup of the data
// directory `data_dir`. The user store is DATA/security/users.json.
[[nodiscard]] Result<SecureSetup> EnsureSecureSetup(const std::string& data_dir,
                                                    const SecureSetupOptions& options);

}  // namespace braid::security
