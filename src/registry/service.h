// Wiring helpers for processes that run the registry: open it over braid's
// log, and serve it from any HTTP server whose request/response types look
// like braid::http::Request/Response (a template, so that this module does
// not depend on the HTTP module).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> reg,
//                    registry::OpenRegistryOnLog(log.get()));
//   http::Server server({.listen = "127.0.0.1:8081"});
//   server.Route("*", "/", [r = reg.get()](const http::Request& q) {
//     return registry::ServeHttp<http::Response>(r, q);
//   });
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "log/log.h"
#include "registry/registry.h"

namespace braid::registry {

// Opens the registry over the `_schemas` topic of `log` (created if missing),
// replaying it. `log` must outlive the registry.
Result<std::unique_ptr<Registry>> OpenRegistryOnLog(log::Log* log, RegistryOptions options = {});

// Serves one HTTP request. Request needs: method, target (raw, with query),
// query (decoded map), body, Header(name). Response must be aggregate
// {status, content_type, body, ...}.
template <typename Response, typename Request>
Response ServeHttp(Registry* registry, const Request& request) {
  std::string_view target = request.target;
  const size_t q = target.find('?');
  HttpResult r = registry->Handle(request.method, target.substr(0, q), request.query, request.body,
                                  request.Header("Content-Type"));
  Response out;
  out.status = r.status;
  out.content_type = std::move(r.content_type);
  out.body = std::move(r.body);
  return out;
}

}  // namespace braid::registry
