#include "runtime/runtime.h"

#include <signal.h>

#include <cstdio>

#include "base/clock.h"
#include "base/logging.h"
#include "base/strings.h"
#include "io/file_system.h"

namespace braid::runtime {

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {}

Runtime::~Runtime() { Stop().IgnoreError(); }

std::string Runtime::http_address() const {
  if (!http_) return "";
  auto hp = ParseHostPort(options_.http_listen);
  if (!hp.ok()) return "";
  hp->port = static_cast<uint16_t>(http_->port());
  return hp->ToString();
}

std::string Runtime::http_url() const {
  const std::string address = http_address();
  if (address.empty()) return "";
  return (options_.http_tls.enabled() ? "https://" : "http://") + address;
}

Result<log::Log*> Runtime::GetLog() {
  std::lock_guard<std::mutex> lock(log_mu_);
  if (log_) return log_.get();
  if (!lock_) return Status::FailedPrecondition("the log is opened only once the runtime started");
  auto opened = log::Log::Open(io::JoinPath(options_.data_dir, "log"), options_.log_options);
  if (!opened.ok()) return opened.status();
  log_ = std::move(opened).value();
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  return log_.get();
}

void Runtime::AddHttpReadRule(std::string method, std::string pattern) {
  std::unique_lock<std::shared_mutex> lock(http_rules_mu_);
  http_read_rules_.push_back(security::HttpReadRule{std::move(method), std::move(pattern)});
}

http::Authorizer MakeHttpAuthorizer(
    security::HttpAuthenticator* auth,
    std::function<security::HttpScope(const http::Request&)> required) {
  return [auth, required = std::move(required)](
             const http::Request& req) -> std::optional<http::Response> {
    security::HttpAuthRequest ar;
    ar.method = req.method;
    ar.path = req.path;
    ar.authorization = req.Header("Authorization");
    ar.peer = req.peer;
    const security::HttpAuthDecision d = auth->Check(ar, required(req));
    if (d.allowed()) return std::nullopt;
    http::Response r = http::Response::Error(d.status, d.message);
    if (d.status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"braid\"");
    if (d.status == 429) r.headers.emplace_back("Retry-After", "60");
    if ((d.status == 401 && !ar.authorization.empty()) || d.status == 403) {
      LOG_INFO("http: refused {} {} from {} ({}): {}", req.method, req.path, req.peer,
               d.principal.empty() ? "unauthenticated" : d.principal, d.message);
    } else {
      LOG_DEBUG("http: refused {} {} from {} ({}): {}", req.method, req.path, req.peer,
                d.principal.empty() ? "unauthenticated" : d.principal, d.message);
    }
    return r;
  };
}

void Runtime::AddRole(std::unique_ptr<Role> role) { roles_.push_back(std::move(role)); }

Status Runtime::Start() {
  if (options_.data_dir.empty()) return Status::InvalidArgument("--data is required");
  ASSIGN_OR_RETURN(lock_, DataDirLock::Acquire(options_.data_dir));
  if (options_.http_auth) {
    security::HttpAuthOptions ao = options_.http_auth_options;
    if (ao.dir.empty()) ao.dir = security::SecurityDir(options_.data_dir);
    ASSIGN_OR_RETURN(http_auth_, security::HttpAuthenticator::Open(std::move(ao)));
  }
  if (!options_.http_listen.empty()) {
    http::ServerOptions ho;
    ho.listen = options_.http_listen;
    ho.threads = options_.http_threads;
    ho.tls = options_.http_tls;
    if (http_auth_) {
      ho.authorize = MakeHttpAuthorizer(http_auth_.get(), [this](const http::Request& req) {
        std::string_view raw = req.target;
        raw = raw.substr(0, raw.find('?'));
        std::shared_lock<std::shared_mutex> lock(http_rules_mu_);
        return security::RequiredScope(req.method, raw, http_read_rules_);
      });
    }
    http_ = std::make_unique<http::Server>(ho);
    http_->Route("GET", "/health", [this](const http::Request&) {
      // {"status": "ok"|"starting"|"stopping", "roles": [names of the started
      // roles], "not_ready": [names of roles that are not ready yet]}
      // "degraded" (503) when a role reports why it is degraded, with
      // "degraded": {role: reason}.
      std::string roles, not_ready, degraded;
      bool ready = true, stopping = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const Role* r : started_) {
          roles += (roles.empty() ? "\"" : ",\"") + r->name() + "\"";
          if (!r->ready()) not_ready += (not_ready.empty() ? "\"" : ",\"") + r->name() + "\"";
          const std::string why = r->degraded();
          if (!why.empty()) {
            degraded += (degraded.empty() ? "" : ",") + http::JsonQuote(r->name()) + ":" +
                        http::JsonQuote(why);
          }
        }
        ready = not_ready.empty() && started_.size() == roles_.size() && !stopping_;
        stopping = stopping_;
      }
      const bool ok = ready && degraded.empty();
      const char* status = ok ? "ok" : ready ? "degraded" : (stopping ? "stopping" : "starting");
      return http::Response::Json(ok ? 200 : 503, std::string("{\"status\":\"") + status +
                                                      "\",\"roles\":[" + roles +
                                                      "],\"not_ready\":[" + not_ready +
                                                      "],\"degraded\":{" + degraded + "}}");
    });
    metrics::Registry* m = &metrics_;
    http_->Route("GET", "/metrics", [m](const http::Request&) {
      return http::Response{
          200, "text/plain; version=0.0.4; charset=utf-8", m->RenderPrometheus(), {}};
    });
    RETURN_IF_ERROR(http_->Start());
    // Commands find the server through the data directory (http::UrlOf):
    // a plaintext address stays "HOST:PORT", a TLS one names its scheme.
    RETURN_IF_ERROR(
        lock_->SetHttpAddress(options_.http_tls.enabled() ? http_url() : http_address()));
    std::printf("braid: http listening on %s\n", http_url().c_str());
  }
  for (auto& role : roles_) {
    Status s = role->Start(this);
    if (!s.ok()) {
      Status stopped = Stop();
      if (!stopped.ok()) LOG_WARN("stopping after a failed start: {}", stopped.ToString());
      return s.WithContext("starting " + role->name());
    }
    std::lock_guard<std::mutex> lock(mu_);
    started_.push_back(role.get());
  }
  return Status::OK();
}

Status Runtime::Stop() {
  std::vector<Role*> started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    started.swap(started_);
  }
  cv_.notify_all();
  // Waiting handlers return, then HTTP stops: no request reaches a role that
  // is stopping.
  for (auto it = started.rbegin(); it != started.rend(); ++it) (*it)->BeginStop();
  if (http_) http_->Stop();
  for (auto it = started.rbegin(); it != started.rend(); ++it) (*it)->Stop();
  if (maintenance_.joinable()) maintenance_.join();
  Status s;
  if (log_) s = log_->Close();
  log_.reset();
  http_.reset();
  http_auth_.reset();
  lock_.reset();
  return s;
}

void Runtime::MaintenanceLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.maintenance_interval_ms));
    if (stopping_) break;
    lock.unlock();
    Status s = log_->RunMaintenance(SystemClock()->NowMillis());
    if (!s.ok()) LOG_WARN("log maintenance: {}", s.ToString());
    lock.lock();
  }
}

int Runtime::RunUntilSignal(const std::string& program) {
  BlockStopSignals();
  Status s = Start();
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), s.ToString().c_str());
    return 1;
  }
  std::printf("braid: ready\n");
  std::fflush(stdout);
  const int sig = WaitForStopSignal();
  std::printf("braid: received %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  s = Stop();
  if (!s.ok()) {
    std::fprintf(stderr, "%s: stopping: %s\n", program.c_str(), s.ToString().c_str());
    return 1;
  }
  std::printf("braid: stopped\n");
  std::fflush(stdout);
  return 0;
}

namespace {
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void BlockStopSignals() {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  const sigset_t set = StopSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace braid::runtime
