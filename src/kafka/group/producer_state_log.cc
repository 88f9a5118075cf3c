#include "kafka/group/producer_state_log.h"

namespace braid::kafka {

ProducerBatch ProducerBatchFromHeader(const log::BatchHeader& h) {
  ProducerBatch b;
  b.producer_id = h.producer_id.value();
  b.producer_epoch = h.producer_epoch.value();
  b.base_sequence = h.base_sequence;
  b.last_offset_delta = h.last_offset_delta;
  b.max_timestamp = h.max_timestamp;
  b.is_control = h.is_control();
  return b;
}

Status RecoverFromLog(ProducerStateManager* producers, const log::Partition& partition) {
  TopicPartition tp{partition.topic(), partition.id()};
  int64_t start = partition.log_start_offset().value();
  int64_t end = partition.log_end_offset().value();
  ASSIGN_OR_RETURN(int64_t offset, producers->LoadSnapshot(tp, start, end));
  while (offset < end) {
    ASSIGN_OR_RETURN(auto batches, partition.ReadBatches(Offset(offset), 4u << 20));
    if (batches.empty()) break;
    for (const auto& b : batches) {
      if (b.header.next_offset().value() <= offset) continue;
      producers->ReplayBatch(tp, ProducerBatchFromHeader(b.header), b.header.base_offset.value());
      offset = b.header.next_offset().value();
    }
  }
  return Status::OK();
}

}  // namespace braid::kafka
