// ACLs with Kafka's semantics (AclAuthorizer): bindings of a resource
// pattern (type, name, LITERAL or PREFIXED) to an entry (principal, host,
// operation, ALLOW or DENY), a durable store (DATA/security/acls.json,
// written like users.json), and the decision:
//   * super users may do everything;
//   * a DENY binding that matches principal (or "User:*"), host (or "*"),
//     operation (or ALL) and resource wins;
//   * else an ALLOW binding must match; DESCRIBE is implied by READ, WRITE,
//     DELETE and ALTER, DESCRIBE_CONFIGS by ALTER_CONFIGS;
//   * no matching binding: denied (allow.everyone.if.no.acl.found=false).
// A LITERAL pattern matches its exact name, or every name when it is "*";
// a PREFIXED pattern every name that starts with it.
//
// The numeric codes are Kafka's (AclOperation, AclPermissionType,
// ResourceType, PatternType). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace braid::security {

enum class ResourceType : int8_t {
  kAny = 1,
  kTopic = 2,
  kGroup = 3,
  kCluster = 4,
  kTransactionalId = 5,
};
enum class PatternType : int8_t {
  kAny = 1,
  kMatch = 2,
  kLiteral = 3,
  kPrefixed = 4,
};
enum class AclOperation : int8_t {
  kAny = 1,
  kAll = 2,
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
  kClusterAction = 9,
  kDescribeConfigs = 10,
  kAlterConfigs = 11,
  kIdempotentWrite = 12,
};
enum class AclPermission : int8_t {
  kAny = 1,
  kDeny = 2,
  kAllow = 3,
};

// Kafka's names ("TOPIC", "READ", "ALLOW", "LITERAL", ...), for logs.
std::string_view ResourceTypeName(ResourceType t);
std::string_view OperationName(AclOperation o);

struct AclBinding {
  ResourceType resource_type = ResourceType::kTopic;
  std::string resource_name;
  PatternType pattern_type = PatternType::kLiteral;
  std::string principal;  // "User:alice", "User:*"
  std::string host = "*";
  AclOperation operation = AclOperation::kAll;
  AclPermission permission = AclPermission::kAllow;
  bool operator==(const AclBinding&) const = default;
};

// A filter of Describe/DeleteAcls: kAny / nullopt fields match everything;
// PatternType::kMatch matches the bindings that would apply to the name.
struct AclFilter {
  ResourceType resource_type = ResourceType::kAny;
  std::optional<std::string> resource_name;
  PatternType pattern_type = PatternType::kAny;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::kAny;
  AclPermission permission = AclPermission::kAny;
};

// InvalidArgument when a binding cannot be stored (ANY/MATCH values, an
// empty name, a principal without "Type:", a cluster resource not named
// "kafka-cluster").
Status ValidateBinding(const AclBinding& b);
bool FilterMatches(const AclFilter& f, const AclBinding& b);

class AclStore {
 public:
  // Opens DIR/acls.json (created on the first change).
  static Result<std::unique_ptr<AclStore>> Open(std::string dir);
  // Adds the bindings (duplicates are kept once). Durable when it returns.
  Status Add(const std::vector<AclBinding>& bindings);
  // Removes and returns the bindings matching `filter`.
  Result<std::vector<AclBinding>> Remove(const AclFilter& filter);
  std::vector<AclBinding> Find(const AclFilter& filter) const;
  // The decision for `principal` connecting from `host`.
  bool Authorize(const std::string& principal, const std::string& host, AclOperation op,
                 ResourceType type, std::string_view name) const;
  size_t size() const;

 private:
  explicit AclStore(std::string dir) : dir_(std::move(dir)) {}
  Status Save(const std::vector<AclBinding>& next);
  const std::string dir_;
  mutable std::mutex mu_;
  std::vector<AclBinding> acls_;  // guarded by mu_
};

}  // namespace braid::security
