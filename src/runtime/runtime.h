// Roles and the runtime that runs them: the seam every long-running part of
// braid plugs into.
//
// A Role is one long-running part (the Kafka broker, the schema registry, the
// archiver, the speed layer, the batch scheduler, the serving API). Its code
// lives with its subsystem (kafka/server/broker_role.h, registry/registry_role.h,
// archive/archiver_role.h, ...); it adds its own HTTP routes and metrics to
// the runtime's and shares services with the roles started after it. `braid
// up` only composes roles (src/cli); `braid broker`, `braid registry`, ... run
// one.
//
// Runtime::Start() takes the data directory's lock (data_dir.h), starts the
// HTTP server (so that roles can add routes to it), then starts the roles in
// order; Stop() stops the HTTP server (requests still waiting for an
// asynchronous answer get 503), then the roles in reverse order, then closes
// the log. RunUntilSignal() is the one signal loop of every server
// command.
//
// Thread safety: Start/Stop/AddRole/RunUntilSignal from one thread. metrics(),
// http(), GetLog() and the service lookups are thread-safe once Start() has
// begun; services are provided by a role's Start() and stay valid until that
// role's Stop() (roles started later stop earlier).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <typeindex>
#include <vector>

#include "base/status.h"
#include "http/server.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "runtime/data_dir.h"
#include "security/http_auth.h"

namespace braid::runtime {

class Runtime;

class Role {
 public:
  virtual ~Role() = default;
  // A short name: "broker", "registry", "archiver", ... (shown by /health).
  virtual std::string name() const = 0;
  // Starts the role; may add HTTP routes (rt->http()), metrics collectors
  // (rt->metrics()) and services (rt->Provide). Errors stop the start-up.
  virtual Status Start(Runtime* rt) = 0;
  // Stops the role; called once, in reverse start order, only if Start()
  // succeeded. Must not fail; problems are logged.
  virtual void Stop() = 0;
  // False while the role cannot serve yet (/health answers 503). Default: true.
  virtual bool ready() const { return true; }
  // Why the role is degraded (serving, but not fully: the disk is full,
  // say), or "" when it is not. /health then answers 503 with status
  // "degraded" and the reasons. Thread-safe. Default: "".
  virtual std::string degraded() const { return ""; }
  // Called on every started role, before the HTTP server stops: make
  // handlers that wait (for a batch run, for the archive to cover a cut)
  // return now. The role keeps serving otherwise. Default: nothing.
  virtual void BeginStop() {}
};

struct RuntimeOptions {
  // The data directory. Required.
  std::string data_dir;
  // "HOST:PORT" of the HTTP API (/health, /metrics and the roles' routes);
  // empty: no HTTP server. Default: empty.
  std::string http_listen;
  // Io threads of the HTTP server. Default: 2.
  int http_threads = 2;
  // TLS of the HTTP server (https when http_tls.cert_file is set; the data
  // directory then records the address as "https://HOST:PORT").
  // Default: plaintext.
  http::TlsOptions http_tls;
  // Require credentials (basic auth of the SASL users, bearer tokens) on the
  // HTTP server and the schema registry's (security/http_auth.h). Default:
  // false (open, for a laptop on loopback).
  bool http_auth = false;
  // Options of the authenticator when http_auth; an empty dir means
  // DATA/security. Default: HttpAuthOptions{}.
  security::HttpAuthOptions http_auth_options;
  // How often the log's retention, segment.ms and flush.ms run, when a role
  // opened the log. Default: 5000 ms.
  int64_t maintenance_interval_ms = 5000;
  // Options of the log under <data>/log (fs and clock: defaults). Default:
  // LogOptions{}.
  log::LogOptions log_options;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);
  ~Runtime();  // Stop()s if needed
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const RuntimeOptions& options() const { return options_; }
  const std::string& data_dir() const { return options_.data_dir; }
  metrics::Registry* metrics() { return &metrics_; }
  // The HTTP server (already serving when roles start), or null when
  // options.http_listen is empty.
  http::Server* http() { return http_.get(); }
  // "host:port" the HTTP server listens on (empty without one).
  std::string http_address() const;
  // Its URL: "http://host:port" or "https://host:port" (empty without one).
  std::string http_url() const;
  // The authenticator of options.http_auth (created by Start() before the
  // HTTP server), or null when HTTP auth is off.
  security::HttpAuthenticator* http_authenticator() { return http_auth_.get(); }
  // On the runtime's HTTP server, requests with `method` whose raw path
  // matches `pattern` (security::MatchPathPattern) need only the read scope
  // (GET and HEAD always do; everything else needs admin). Roles add the
  // POSTs that only read. Thread-safe; no effect without HTTP auth.
  void AddHttpReadRule(std::string method, std::string pattern);

  // The log under <data>/log, opened (and recovered) on first use; the
  // runtime runs its maintenance and closes it after the roles stopped.
  Result<log::Log*> GetLog();

  // Services shared between roles, one per type: a role provides what later
  // roles may use (the registry, the record validator, the archiver...).
  template <typename T>
  void Provide(T* service) {
    std::lock_guard<std::mutex> lock(mu_);
    services_[std::type_index(typeid(T))] = service;
  }
  // The service of type T, or null.
  template <typename T>
  T* Find() const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = services_.find(std::type_index(typeid(T)));
    return it == services_.end() ? nullptr : static_cast<T*>(it->second);
  }

  void AddRole(std::unique_ptr<Role> role);

  // Locks the data directory, starts HTTP (/health, /metrics), the roles in
  // order and the log maintenance. On error, what started is stopped again.
  Status Start();
  // Stops the roles in reverse order, then HTTP, then closes the log
  // (flushing it) and releases the lock. Idempotent.
  Status Stop();

  // Start(), print "braid: ready", wait for SIGINT or SIGTERM, Stop().
  // Returns the process exit code (0, or 1 after an error, printed to
  // stderr prefixed with `program`).
  int RunUntilSignal(const std::string& program = "braid");

 private:
  void MaintenanceLoop();

  const RuntimeOptions options_;
  metrics::Registry metrics_;
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<security::HttpAuthenticator> http_auth_;
  mutable std::shared_mutex http_rules_mu_;
  std::vector<security::HttpReadRule> http_read_rules_;  // guarded by http_rules_mu_
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<log::Log> log_;
  std::vector<std::unique_ptr<Role>> roles_;
  std::vector<Role*> started_;
  std::thread maintenance_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                      // guarded by mu_
  std::map<std::type_index, void*> services_;  // guarded by mu_
  std::mutex log_mu_;                          // serializes GetLog()
};

// The authorization hook of an HTTP server (http::ServerOptions::authorize)
// that checks every request with `auth` (which must outlive the server):
// `required` says which scope a request needs. Refusals are braid's error
// shape: 401 (with `WWW-Authenticate: Basic realm="braid"`), 403, 429, 503.
// Refused credentials (401 with an Authorization header) and 403s are logged
// at info, other refusals at debug.
http::Authorizer MakeHttpAuthorizer(
    security::HttpAuthenticator* auth,
    std::function<security::HttpScope(const http::Request&)> required);

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it
// starts later), so that only WaitForStopSignal() receives them. Call before
// starting threads.
void BlockStopSignals();
// Waits for SIGINT or SIGTERM (blocked with BlockStopSignals()); returns it.
int WaitForStopSignal();

}  // namespace braid::runtime
