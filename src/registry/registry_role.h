// RegistryRole: the embedded schema registry as a runtime role. Opens the
// registry over the `_schemas` topic of the runtime's log, serves the
// Confluent REST API on its own listener (Confluent clients expect the
// registry at the root of its URL), and provides to later roles:
//   registry::Registry         (the archiver resolves schema ids with it)
//   registry::RecordValidator  (the broker's produce-time validation)
// Start it before the broker and the archiver.
#pragma once

#include <memory>
#include <string>

#include "http/server.h"
#include "registry/registry.h"
#include "registry/validation.h"
#include "runtime/runtime.h"

namespace braid::registry {

struct RegistryRoleOptions {
  // "HOST:PORT" of the registry's REST API. Default: "127.0.0.1:8081".
  std::string listen = "127.0.0.1:8081";
  // TLS of the REST API (https when tls.cert_file is set). Default:
  // plaintext.
  http::TlsOptions tls;
};

class RegistryRole final : public runtime::Role {
 public:
  explicit RegistryRole(RegistryRoleOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "registry"; }
  Status Start(runtime::Runtime* rt) override;
  void Stop() override;
  // The bound port (after Start()).
  int port() const { return http_ ? http_->port() : 0; }

 private:
  RegistryRoleOptions options_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<RecordValidator> validator_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace braid::registry
