// The batch layer's HTTP/JSON answers, shared by BatchRole's routes and by
// `braid batch` on a data directory no process holds (so both print the
// same thing):
//
//   GET  /v1/batch/status                       running job, last run
//   GET  /v1/batch/views                        views and live versions
//   GET  /v1/batch/views/V/versions             every version's manifest
//   GET  /v1/batch/views/V/get?key=K&granularity=G&time=T[&version=N]
//   GET  /v1/batch/views/V/scan?[prefix=P][&granularity=G][&from=T&to=T]
//                                 [&limit=N][&version=N]
//   POST /v1/batch/views/V/rollback
//   POST /v1/batch/views/V/swap?version=N
//
// Times are milliseconds since the epoch or ISO-8601 UTC
// (2024-02-29, 2024-02-29T13:00:00Z, 2024-02-29T13:00:00.250Z). A cell is
// {"key", "granularity", "bucket_start", "bucket" (ISO), "value" (the
// monoid's JSON, null if the monoid is unknown to this process),
// "value_base64"}. The version read is the live one unless `version` names
// another.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "batch/batch_layer.h"
#include "views/monoid.h"

namespace braid::batch {

// The monoid that renders a version's values (null: values are shown as
// base64 only).
using MonoidResolver = std::function<const views::Monoid*(const VersionManifest&)>;
// The monoids this build knows by spec.
MonoidResolver DefaultMonoidResolver();

// Milliseconds since the epoch, from digits (optionally negative) or
// ISO-8601 UTC. InvalidArgument otherwise.
Result<int64_t> ParseTime(std::string_view s);
// "2024-02-29T13:00:00Z" ("all" for the all-time bucket).
std::string FormatTime(int64_t ms);

struct BatchApi {
  BatchLayer* layer = nullptr;
  MonoidResolver monoids = DefaultMonoidResolver();

  Result<std::string> StatusJson() const;
  Result<std::string> Views() const;
  Result<std::string> Versions(const std::string& view) const;
  // `query`: key, granularity, time, version.
  Result<std::string> Get(const std::string& view,
                          const std::map<std::string, std::string>& query) const;
  // `query`: prefix, granularity, from, to, limit (default 100, at most
  // 100,000), version.
  Result<std::string> Scan(const std::string& view,
                           const std::map<std::string, std::string>& query) const;
  Result<std::string> Rollback(const std::string& view) const;
  Result<std::string> Swap(const std::string& view, uint64_t version) const;

  // Dispatches "GET|POST" + path ("/v1/batch/...") + query: what the HTTP
  // routes and the CLI both call. NotFound for an unknown path.
  Result<std::string> Handle(const std::string& method, const std::string& path,
                             const std::map<std::string, std::string>& query) const;
};

// JSON of one job status (also the `braid batch run` summary).
std::string JobStatusJson(const JobStatus& s);

}  // namespace braid::batch
