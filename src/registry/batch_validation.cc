#include "registry/batch_validation.h"

#include <vector>

#include "kafka/protocol/record_batch.h"

namespace braid::registry {

Status ValidateBatch(const RecordValidator& validator, std::string_view topic,
                     const ValidationPolicy& policy, std::string_view batch) {
  if (!policy.enabled()) return Status::OK();
  ASSIGN_OR_RETURN(std::vector<kafka::RecordBatchView> views, kafka::SplitRecordBatches(batch));
  int index = 0;
  for (const kafka::RecordBatchView& view : views) {
    if (view.header.is_control()) continue;
    ASSIGN_OR_RETURN(kafka::RecordReader reader, kafka::RecordReader::Create(view));
    kafka::RecordView rec;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&rec));
      if (!more) break;
      RETURN_IF_ERROR(validator.Validate(topic, policy, index, rec.key, rec.value));
      ++index;
    }
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
