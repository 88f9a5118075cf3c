#include "registry/batch_validation.h"

#include "log/records.h"

namespace braid::registry {

Status ValidateBatch(const RecordValidator& validator, std::string_view topic,
                     const ValidationPolicy& policy, std::string_view batch) {
  if (!policy.enabled()) return Status::OK();
  log::RecordIteratorOptions options;
  options.verify_crc = true;
  options.allow_partial_tail = false;
  log::RecordIterator it(batch, options);
  log::RecordView rec;
  for (int index = 0;; ++index) {
    ASSIGN_OR_RETURN(bool more, it.Next(&rec));
    if (!more) break;
    RETURN_IF_ERROR(validator.Validate(topic, policy, index, rec.key, rec.value));
  }
  return Status::OK();
}

ProduceBatchValidator MakeProduceValidator(const log::Log* log, const RecordValidator* validator) {
  return [log, validator](std::string_view topic, std::string_view batch) -> Status {
    Result<log::TopicInfo> info = log->DescribeTopic(topic);
    if (!info.ok()) return Status::OK();
    const ValidationPolicy policy = PolicyFromTopicConfigs(info->config.other);
    if (!policy.enabled()) return Status::OK();
    return ValidateBatch(*validator, topic, policy, batch);
  };
}

}  // namespace braid::registry
