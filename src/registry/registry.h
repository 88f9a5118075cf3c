// braid's embedded Confluent-compatible schema registry.
//
// Registry implements the Confluent Schema Registry REST API (the subset of
// research/avro-registry-sketches.md §3.3) as a pure request → response
// function, Handle(), with no HTTP dependency: an HTTP server routes every
// request to it. Schemas are Avro only. The state is the replay of a Store
// (store.h): every change is appended to the store, durably, before the
// response is produced and before it becomes visible to other requests.
//
// Thread safety: all public methods are thread-safe (one internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "avro/compatibility.h"
#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "registry/store.h"

namespace braid::registry {

using avro::CompatibilityLevel;

// Messages describing why `candidate` may not follow `existing` (previous
// versions, oldest first, as (version number, schema) pairs) under `level`;
// empty if it may. Non-transitive levels compare with existing.back() only;
// transitive ones with every version, newest first, stopping at the first
// failing version. Empty `existing` and NONE always pass.
std::vector<std::string> CheckCompatibility(
    CompatibilityLevel level, const avro::Schema& candidate,
    const std::vector<std::pair<int32_t, const avro::Schema*>>& existing);

// The response of Handle().
struct HttpResult {
  int status = 200;
  std::string content_type = "application/vnd.schemaregistry.v1+json";
  std::string body;
};

struct RegistryOptions {
  // The compatibility level of subjects without their own level while no
  // global level has been PUT. Default: BACKWARD.
  CompatibilityLevel default_level = CompatibilityLevel::kBackward;
  // Largest accepted request body (schema text). Default: 8 MiB.
  size_t max_body_bytes = 8u << 20;
};

// A schema known to the registry.
struct RegisteredSchema {
  SchemaId id;
  std::string text;  // the stored canonical JSON (avro::Schema::ToJson())
  avro::Schema schema;
};

class Registry {
 public:
  // Replays `store` and returns the registry over it. Fails if the store
  // cannot be read; records that do not parse are skipped with a warning.
  static Result<std::unique_ptr<Registry>> Open(RegistryOptions options,
                                                std::unique_ptr<Store> store);

  // Serves one REST request. `method` is upper case; `raw_path` is the request
  // path as sent (still percent-encoded, without the query string); `query`
  // holds the decoded query parameters; `content_type` is the request's
  // Content-Type header ("" if absent). Never fails: errors are JSON bodies
  // {"error_code": N, "message": "..."} with the matching HTTP status.
  HttpResult Handle(std::string_view method, std::string_view raw_path,
                    const std::map<std::string, std::string>& query, std::string_view body,
                    std::string_view content_type = "");
  // The same with `target` = path plus optional "?query" (for tests and tools).
  HttpResult HandleTarget(std::string_view method, std::string_view target,
                          std::string_view body = "", std::string_view content_type = "");

  // Typed access for in-process users (produce validation).
  // The schema with this global id (also if only soft-deleted versions use it).
  Result<std::shared_ptr<const RegisteredSchema>> GetSchemaById(SchemaId id) const;
  // True if `subject` has a non-deleted version whose schema has this id.
  bool IsRegisteredUnder(std::string_view subject, SchemaId id) const;
  // Registers `schema_text` under `subject` exactly as POST
  // /subjects/{subject}/versions does; returns the id.
  Result<SchemaId> Register(std::string_view subject, std::string_view schema_text);

  // Bumped on every change (caches keyed on ids may use it to expire).
  uint64_t generation() const;

 private:
  struct VersionEntry {
    int32_t id = 0;
    bool deleted = false;
  };
  struct Subject {
    std::map<int32_t, VersionEntry> versions;  // by version number
    std::optional<CompatibilityLevel> level;   // subject-level config
  };
  struct SchemaEntry {
    std::shared_ptr<const RegisteredSchema> schema;
    int refs = 0;  // stored versions (deleted included) using this id
  };

  Registry(RegistryOptions options, std::unique_ptr<Store> store);

  // State changes: every change is a record, applied the same way when
  // served and when replayed.
  Status ApplyRecord(const StoreRecord& record);
  Status AppendAndApply(const std::vector<StoreRecord>& records);
  void PutVersion(const std::string& subject, int32_t version, int32_t id, bool deleted,
                  const std::string& text, const avro::Schema* parsed);
  void RemoveVersion(const std::string& subject, int32_t version);

  HttpResult Route(std::string_view method, const std::vector<std::string>& segs,
                   const std::map<std::string, std::string>& query, std::string_view body);
  HttpResult GetSchemaByIdRest(const std::string& id_text, std::string_view what);
  HttpResult ListSubjects(const std::map<std::string, std::string>& query);
  HttpResult ListVersions(const std::string& subject,
                          const std::map<std::string, std::string>& query);
  HttpResult GetVersion(const std::string& subject, const std::string& version,
                        const std::map<std::string, std::string>& query, bool schema_only);
  HttpResult RegisterRest(const std::string& subject, std::string_view body);
  HttpResult LookupRest(const std::string& subject, std::string_view body,
                        const std::map<std::string, std::string>& query);
  HttpResult DeleteSubject(const std::string& subject,
                           const std::map<std::string, std::string>& query);
  HttpResult DeleteVersion(const std::string& subject, const std::string& version,
                           const std::map<std::string, std::string>& query);
  HttpResult GetConfig(const std::string* subject, const std::map<std::string, std::string>& query);
  HttpResult PutConfig(const std::string* subject, std::string_view body);
  HttpResult DeleteConfig(const std::string* subject);
  HttpResult TestCompatibility(const std::string& subject, const std::string* version,
                               std::string_view body,
                               const std::map<std::string, std::string>& query);

  Result<SchemaId> RegisterLocked(const std::string& subject, const avro::Schema& schema,
                                  HttpResult* error);
  CompatibilityLevel LevelFor(const std::string& subject) const;
  const Subject* FindSubject(const std::string& subject) const;
  bool HasLiveVersions(const Subject& s) const;

  const RegistryOptions options_;
  std::unique_ptr<Store> store_;

  mutable std::mutex mu_;
  std::map<std::string, Subject> subjects_;
  std::unordered_map<int32_t, SchemaEntry> schemas_;
  std::unordered_map<std::string, int32_t> id_by_text_;
  std::optional<CompatibilityLevel> global_level_;
  int32_t next_id_ = 1;
  uint64_t generation_ = 0;
};

}  // namespace braid::registry
