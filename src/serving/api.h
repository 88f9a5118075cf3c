// The serving layer's HTTP/JSON API (routes on the runtime's HTTP server):
//
//   GET  /v1/views                                   every view: topic, monoid,
//                                                    granularities, coverage
//   GET  /v1/views/{view}/value?key=K[&from=T&to=T]  {"view","key","value",
//                                                    "from","to","rounded",
//                                                    "cell_reads","coverage"}
//   GET  /v1/views/{view}/series?key=K&from=T&to=T&granularity=G
//                                                    {"buckets":[{"start","value"}],...}
//   POST /v1/views/{view}/values  {"keys":[...],"from":T,"to":T}
//                                                    {"values":[{"key","value"}],...}
//   GET  /v1/views/{view}/keys?prefix=P&after=K&limit=N  {"keys":[...],"more":b}
//
// T is epoch milliseconds (an integer, negative allowed) or ISO-8601 UTC
// ("2024-02-29", "2024-02-29T13:00:00Z", "...T13:00:00.250Z", "+00:00").
// Values are the monoid's JSON (counts and sums as numbers, HyperLogLog as
// its estimate, tuples as objects). A key with no events has the monoid's
// identity, not an error. Errors are braid's HTTP error shape
// ({"error_code", "message"}): 400 for bad parameters or JSON, 404 for an
// unknown view, never a 500 for client input.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "http/server.h"
#include "serving/query.h"

namespace braid::serving {

// Parses a time parameter (see the file comment). InvalidArgument naming it.
Result<int64_t> ParseTime(std::string_view name, std::string_view text);

// Registers the routes above on `server`. `engine` must outlive it.
void RegisterViewRoutes(http::Server* server, QueryEngine* engine, SnapshotProvider* provider);

// The handlers, for tests (`path` is the decoded path after "/v1/views").
http::Response HandleViews(QueryEngine* engine, SnapshotProvider* provider,
                           const http::Request& req);

}  // namespace braid::serving
