#include "security/acl.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "security/private_file.h"

namespace braid::security {

namespace {

using json = nlohmann::json;

constexpr const char* kAclsFileName = "acls.json";

bool NameMatches(const AclBinding& b, std::string_view name) {
  if (b.pattern_type == PatternType::kLiteral) {
    return b.resource_name == "*" || b.resource_name == name;
  }
  if (b.pattern_type == PatternType::kPrefixed) {
    return name.substr(0, b.resource_name.size()) == b.resource_name;
  }
  return false;
}

bool Implies(AclOperation granted, AclOperation wanted) {
  if (granted == AclOperation::kAll || granted == wanted) return true;
  if (wanted == AclOperation::kDescribe) {
    return granted == AclOperation::kRead || granted == AclOperation::kWrite ||
           granted == AclOperation::kDelete || granted == AclOperation::kAlter;
  }
  if (wanted == AclOperation::kDescribeConfigs) return granted == AclOperation::kAlterConfigs;
  return false;
}

json ToJson(const AclBinding& b) {
  return {{"resource_type", static_cast<int>(b.resource_type)},
          {"resource_name", b.resource_name},
          {"pattern_type", static_cast<int>(b.pattern_type)},
          {"principal", b.principal},
          {"host", b.host},
          {"operation", static_cast<int>(b.operation)},
          {"permission", static_cast<int>(b.permission)}};
}

}  // namespace

std::string_view ResourceTypeName(ResourceType t) {
  switch (t) {
    case ResourceType::kAny:
      return "ANY";
    case ResourceType::kTopic:
      return "TOPIC";
    case ResourceType::kGroup:
      return "GROUP";
    case ResourceType::kCluster:
      return "CLUSTER";
    case ResourceType::kTransactionalId:
      return "TRANSACTIONAL_ID";
  }
  return "UNKNOWN";
}

std::string_view OperationName(AclOperation o) {
  static constexpr std::string_view kNames[] = {"UNKNOWN",
                                                "ANY",
                                                "ALL",
                                                "READ",
                                                "WRITE",
                                                "CREATE",
                                                "DELETE",
                                                "ALTER",
                                                "DESCRIBE",
                                                "CLUSTER_ACTION",
                                                "DESCRIBE_CONFIGS",
                                                "ALTER_CONFIGS",
                                                "IDEMPOTENT_WRITE"};
  const int i = static_cast<int>(o);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

Status ValidateBinding(const AclBinding& b) {
  const int t = static_cast<int>(b.resource_type);
  if (t < 2 || t > 5) return Status::InvalidArgument("unknown or ANY resource type");
  if (b.pattern_type != PatternType::kLiteral && b.pattern_type != PatternType::kPrefixed) {
    return Status::InvalidArgument("pattern type must be LITERAL or PREFIXED");
  }
  if (b.resource_name.empty()) return Status::InvalidArgument("empty resource name");
  if (b.resource_type == ResourceType::kCluster && b.resource_name != "kafka-cluster") {
    return Status::InvalidArgument("the cluster resource is named kafka-cluster");
  }
  const int op = static_cast<int>(b.operation);
  if (op < 2 || op > 12) return Status::InvalidArgument("unknown or ANY operation");
  if (b.permission != AclPermission::kAllow && b.permission != AclPermission::kDeny) {
    return Status::InvalidArgument("permission must be ALLOW or DENY");
  }
  const size_t colon = b.principal.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == b.principal.size()) {
    return Status::InvalidArgument("principal must be Type:name, e.g. User:alice");
  }
  if (b.host.empty()) return Status::InvalidArgument("empty host (use *)");
  return Status::OK();
}

bool FilterMatches(const AclFilter& f, const AclBinding& b) {
  if (f.resource_type != ResourceType::kAny && f.resource_type != b.resource_type) return false;
  if (f.pattern_type == PatternType::kMatch) {
    if (f.resource_name && !NameMatches(b, *f.resource_name)) return false;
  } else {
    if (f.pattern_type != PatternType::kAny && f.pattern_type != b.pattern_type) return false;
    if (f.resource_name && *f.resource_name != b.resource_name) return false;
  }
  if (f.principal && *f.principal != b.principal) return false;
  if (f.host && *f.host != b.host) return false;
  if (f.operation != AclOperation::kAny && f.operation != b.operation) return false;
  if (f.permission != AclPermission::kAny && f.permission != b.permission) return false;
  return true;
}

Result<std::unique_ptr<AclStore>> AclStore::Open(std::string dir) {
  RETURN_IF_ERROR(MakePrivateDir(dir));
  std::unique_ptr<AclStore> s(new AclStore(std::move(dir)));
  const std::string path = s->dir_ + "/" + kAclsFileName;
  auto text = ReadPrivateFile(path);
  if (!text.ok()) {
    if (text.status().IsNotFound()) return s;
    return text.status();
  }
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("acls") || !doc["acls"].is_array()) {
    return Status::Corruption(path + ": not a braid ACL file");
  }
  for (const json& j : doc["acls"]) {
    AclBinding b;
    try {
      b.resource_type = static_cast<ResourceType>(j.at("resource_type").get<int>());
      b.resource_name = j.at("resource_name").get<std::string>();
      b.pattern_type = static_cast<PatternType>(j.at("pattern_type").get<int>());
      b.principal = j.at("principal").get<std::string>();
      b.host = j.at("host").get<std::string>();
      b.operation = static_cast<AclOperation>(j.at("operation").get<int>());
      b.permission = static_cast<AclPermission>(j.at("permission").get<int>());
    } catch (const std::exception& e) {
      return Status::Corruption(path + ": malformed ACL: " + e.what());
    }
    Status v = ValidateBinding(b);
    if (!v.ok()) return Status::Corruption(path + ": " + std::string(v.message()));
    s->acls_.push_back(std::move(b));
  }
  return s;
}

Status AclStore::Save(const std::vector<AclBinding>& next) {
  json arr = json::array();
  for (const AclBinding& b : next) arr.push_back(ToJson(b));
  json doc = {{"version", 1}, {"acls", std::move(arr)}};
  return WritePrivateFile(dir_, dir_ + "/" + kAclsFileName, doc.dump(2) + "\n");
}

Status AclStore::Add(const std::vector<AclBinding>& bindings) {
  for (const AclBinding& b : bindings) RETURN_IF_ERROR(ValidateBinding(b));
  std::lock_guard<std::mutex> l(mu_);
  std::vector<AclBinding> next = acls_;
  for (const AclBinding& b : bindings) {
    if (std::find(next.begin(), next.end(), b) == next.end()) next.push_back(b);
  }
  RETURN_IF_ERROR(Save(next));
  acls_ = std::move(next);
  return Status::OK();
}

Result<std::vector<AclBinding>> AclStore::Remove(const AclFilter& filter) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<AclBinding> next, removed;
  for (const AclBinding& b : acls_) (FilterMatches(filter, b) ? removed : next).push_back(b);
  if (removed.empty()) return removed;
  RETURN_IF_ERROR(Save(next));
  acls_ = std::move(next);
  return removed;
}

std::vector<AclBinding> AclStore::Find(const AclFilter& filter) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<AclBinding> out;
  for (const AclBinding& b : acls_) {
    if (FilterMatches(filter, b)) out.push_back(b);
  }
  return out;
}

size_t AclStore::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return acls_.size();
}

bool AclStore::Authorize(const std::string& principal, const std::string& host, AclOperation op,
                         ResourceType type, std::string_view name) const {
  std::lock_guard<std::mutex> l(mu_);
  bool allowed = false;
  for (const AclBinding& b : acls_) {
    if (b.resource_type != type || !NameMatches(b, name)) continue;
    if (b.principal != principal && b.principal != "User:*") continue;
    if (b.host != "*" && b.host != host) continue;
    if (b.permission == AclPermission::kDeny) {
      if (b.operation == AclOperation::kAll || b.operation == op) return false;
    } else if (Implies(b.operation, op)) {
      allowed = true;
    }
  }
  return allowed;
}

}  // namespace braid::security
