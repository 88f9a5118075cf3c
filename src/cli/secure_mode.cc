#include "cli/secure_mode.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "base/strings.h"
#include "kafka/server/server.h"
#include "security/secure_setup.h"

namespace braid::cli {

namespace {

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsWildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

// Adds `host` (an address clients connect to) to the certificate's names.
void AddName(const std::string& host, security::TlsMaterialOptions* t) {
  if (IsWildcard(host)) return;
  std::vector<std::string>& list = IsIpLiteral(host) ? t->ip_addresses : t->dns_names;
  if (std::find(list.begin(), list.end(), host) == list.end()) list.push_back(host);
}

// The host of "[PROTOCOL://]HOST:PORT" (empty if it does not parse).
std::string HostOf(std::string_view spec) {
  const size_t scheme = spec.find("://");
  if (scheme != std::string_view::npos) spec.remove_prefix(scheme + 3);
  auto hp = ParseHostPort(spec);
  return hp.ok() ? hp->host : std::string();
}

// What clients should connect to for a listen address: a wildcard host
// becomes 127.0.0.1 (the broker advertises that too).
std::string ConnectAddress(const std::string& listen) {
  auto hp = ParseHostPort(listen);
  if (!hp.ok()) return listen;
  if (IsWildcard(hp->host)) hp->host = "127.0.0.1";
  return hp->ToString();
}

}  // namespace

Result<SecureModeResult> ApplySecureMode(const std::string& command, const std::string& data_dir,
                                         kafka::BrokerRoleOptions* broker,
                                         const std::vector<SecureHttpListener>& http) {
  // Listeners without an explicit protocol become SASL_SSL; explicit ones
  // (PLAINTEXT://127.0.0.1:9093 for a trusted local client, say) are kept.
  std::vector<std::string> secured_bootstrap, plaintext_kept;
  for (size_t i = 0; i < broker->listen.size(); ++i) {
    std::string& spec = broker->listen[i];
    if (spec.find("://") == std::string::npos) spec = "SASL_SSL://" + spec;
    ASSIGN_OR_RETURN(kafka::ListenerOptions l, kafka::ParseListener(spec));
    const std::string addr =
        i < broker->advertise.size() ? broker->advertise[i] : ConnectAddress(l.listen);
    if (l.protocol == kafka::SecurityProtocol::kSaslSsl) {
      secured_bootstrap.push_back(addr);
    } else {
      plaintext_kept.push_back(std::string(kafka::SecurityProtocolName(l.protocol)) + "://" + addr);
    }
  }

  security::SecureSetupOptions o;
  char hostname[256] = {};
  if (gethostname(hostname, sizeof(hostname) - 1) == 0 && hostname[0] != '\0') {
    AddName(hostname, &o.tls);
  }
  for (const std::string& spec : broker->listen) AddName(HostOf(spec), &o.tls);
  for (const std::string& a : broker->advertise) AddName(HostOf(a), &o.tls);
  for (const SecureHttpListener& h : http) AddName(HostOf(h.listen), &o.tls);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("creating " + data_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(security::SecureSetup s, security::EnsureSecureSetup(data_dir, o));

  if (broker->tls.cert_file.empty() && broker->tls.key_file.empty()) {
    broker->tls.cert_file = s.cert_file;
    broker->tls.key_file = s.key_file;
  }
  if (std::find(broker->super_users.begin(), broker->super_users.end(), s.admin_user) ==
      broker->super_users.end()) {
    broker->super_users.push_back(s.admin_user);
  }

  // The settings clients need, on stdout (the log goes to stderr).
  const std::string password_shown = s.new_admin_password
                                         ? *s.new_admin_password
                                         : "<the first line of " + s.admin_password_file + ">";
  std::string out;
  out += command + " --secure: ";
  if (s.created_ca) {
    out += "first start: made a CA, a server certificate and the admin user in " + data_dir +
           "/security (owner-only).\n";
  } else if (s.reissued_server_cert) {
    out += "issued a new server certificate (names changed or it expires soon) from the CA in " +
           s.ca_file + ".\n";
  } else {
    out += "using the CA, server certificate and users in " + data_dir + "/security.\n";
  }
  if (s.new_admin_password) {
    out += "  admin user '" + s.admin_user + "', password: " + *s.new_admin_password +
           "\n  (shown this once; also in " + s.admin_password_file + ", mode 0600)\n";
  }
  std::string bootstrap;
  for (const std::string& b : secured_bootstrap) bootstrap += (bootstrap.empty() ? "" : ",") + b;
  out += "Kafka clients (librdkafka / confluent-kafka names):\n";
  out += "  bootstrap.servers=" + bootstrap + "\n";
  out += "  security.protocol=SASL_SSL\n  sasl.mechanisms=SCRAM-SHA-512\n";
  out += "  sasl.username=" + s.admin_user + "\n  sasl.password=" + password_shown + "\n";
  out += "  ssl.ca.location=" + s.ca_file + "\n";
  for (const std::string& p : plaintext_kept) {
    out += "  (also unprotected, as given with --listen: " + p + ")\n";
  }
  for (const SecureHttpListener& h : http) {
    const std::string url = "https://" + ConnectAddress(h.listen);
    out += h.what + ": " + url + " (HTTP basic auth as " + s.admin_user +
           ", or a token from `braid tokens create`)\n";
    out += "  curl --cacert " + s.ca_file + " -u " + s.admin_user + ":" + password_shown + " " +
           url + h.path + "\n";
  }
  const bool registry = std::any_of(http.begin(), http.end(), [](const SecureHttpListener& h) {
    return h.what == "schema registry";
  });
  if (registry) {
    out += "  schema registry clients: basic.auth.user.info=" + s.admin_user + ":" +
           password_shown + ", ssl.ca.location=" + s.ca_file + "\n";
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);

  SecureModeResult r;
  r.ca_file = s.ca_file;
  r.cert_file = s.cert_file;
  r.key_file = s.key_file;
  r.admin_user = s.admin_user;
  return r;
}

}  // namespace braid::cli
