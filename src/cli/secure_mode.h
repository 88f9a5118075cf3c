// `--secure` of `braid up` and `braid broker`: secure by a single setting.
// On first start security::EnsureSecureSetup() makes a CA, a server
// certificate and an admin user in DATA/security (owner-only); every start
// then turns the Kafka listeners without an explicit protocol into SASL_SSL
// ones with that certificate, makes the admin user a super user, turns TLS
// and authentication on for the HTTP listeners, and prints the settings
// clients need (the admin password only on the start that made it).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kafka/server/broker_role.h"

namespace braid::cli {

// One HTTP listener that --secure covers: its address (for the printed
// settings and the certificate's names) and what it should be told.
struct SecureHttpListener {
  std::string what;    // "HTTP API", "schema registry"
  std::string listen;  // "HOST:PORT"
  std::string path;    // a path to show in the example request ("/v1/views")
};

// What --secure decided, for the HTTP listeners' options.
struct SecureModeResult {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string admin_user;
};

// Applies --secure to `broker` (listeners, TLS files, super users) and
// prints the client settings for it and `http` to stdout. `data_dir` is the
// data directory; `command` names the command in messages.
[[nodiscard]] Result<SecureModeResult> ApplySecureMode(const std::string& command,
                                                       const std::string& data_dir,
                                                       kafka::BrokerRoleOptions* broker,
                                                       const std::vector<SecureHttpListener>& http);

}  // namespace braid::cli
