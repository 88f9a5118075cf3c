#include "kafka/group/producer_state_log.h"

namespace braid::kafka {

ProducerBatch ProducerBatchFromHeader(const log::BatchHeader& h) {
  ProducerBatch b;
  b.producer_id = h.producer_id;
  b.producer_epoch = h.producer_epoch;
  b.base_sequence = h.base_sequence;
  b.last_offset_delta = h.last_offset_delta;
  b.max_timestamp = h.max_timestamp;
  b.is_control = h.is_control();
  return b;
}

Status RecoverFromLog(ProducerStateManager* producers, const log::Partition& partition) {
  TopicPartition tp{partition.topic(), partition.id()};
  Offset start = partition.log_start_offset();
  Offset end = partition.log_end_offset();
  ASSIGN_OR_RETURN(Offset offset, producers->LoadSnapshot(tp, start, end));
  while (offset < end) {
    ASSIGN_OR_RETURN(auto batches, partition.ReadBatches(offset, 4u << 20));
    if (batches.empty()) break;
    for (const auto& b : batches) {
      if (b.header.next_offset() <= offset) continue;
      producers->ReplayBatch(tp, ProducerBatchFromHeader(b.header), b.header.base_offset);
      offset = b.header.next_offset();
    }
  }
  return Status::OK();
}

}  // namespace braid::kafka
