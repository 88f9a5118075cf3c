#include "registry/registry_role.h"

#include <cstdio>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "registry/service.h"
#include "security/http_auth.h"

namespace braid::registry {

Status RegistryRole::Start(runtime::Runtime* rt) {
  ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
  ASSIGN_OR_RETURN(registry_, OpenRegistryOnLog(log));
  validator_ = std::make_unique<RecordValidator>(registry_.get());
  http::ServerOptions ho;
  ho.listen = options_.listen;
  ho.tls = options_.tls;
  if (security::HttpAuthenticator* auth = rt->http_authenticator()) {
    // The POSTs that only read: a lookup and the compatibility checks.
    static const std::vector<security::HttpReadRule> kReadRules = {
        {"POST", "/subjects/*"},
        {"POST", "/compatibility/subjects/*/versions"},
        {"POST", "/compatibility/subjects/*/versions/*"},
    };
    ho.authorize = runtime::MakeHttpAuthorizer(auth, [](const http::Request& req) {
      std::string_view raw = req.target;
      return security::RequiredScope(req.method, raw.substr(0, raw.find('?')), kReadRules);
    });
  }
  http_ = std::make_unique<http::Server>(ho);
  Registry* r = registry_.get();
  http_->Route("*", "/", [r](const http::Request& q) { return ServeHttp<http::Response>(r, q); });
  RETURN_IF_ERROR(http_->Start());
  rt->Provide<Registry>(registry_.get());
  rt->Provide<RecordValidator>(validator_.get());
  ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(options_.listen));
  hp.port = static_cast<uint16_t>(http_->port());
  std::printf("braid: registry listening on %s://%s\n", options_.tls.enabled() ? "https" : "http",
              hp.ToString().c_str());
  return Status::OK();
}

void RegistryRole::Stop() {
  if (http_) http_->Stop();
  http_.reset();
  validator_.reset();
  registry_.reset();
}

}  // namespace braid::registry
