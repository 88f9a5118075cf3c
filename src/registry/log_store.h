// LogStore: the registry's records in a topic of braid's own log (by default
// `_schemas`, one partition, cleanup.policy=compact), like the Confluent
// registry's Kafka topic. Each Append is one RecordBatch v2 (built with the
// Kafka protocol's builder), fsynced before Append returns.
//
// Thread safety: as Store (the Registry serialises calls). Other writers to
// the topic are not expected; the log itself is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "log/log.h"
#include "registry/store.h"

namespace braid::registry {

inline constexpr std::string_view kSchemasTopic = "_schemas";

class LogStore final : public Store {
 public:
  // Uses `topic` of `log` (which must outlive the store), creating it with one
  // partition and cleanup.policy=compact if missing.
  static Result<std::unique_ptr<LogStore>> Open(log::Log* log,
                                                std::string topic = std::string(kSchemasTopic));

  Status Append(const std::vector<StoreRecord>& records) override;
  Status Replay(const std::function<Status(const StoreRecord&)>& fn) override;

 private:
  explicit LogStore(std::shared_ptr<log::Partition> partition) : partition_(std::move(partition)) {}
  std::shared_ptr<log::Partition> partition_;
};

}  // namespace braid::registry
