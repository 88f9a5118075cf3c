// Rebuilding idempotent-producer state from braid's log after a restart.
#pragma once

#include "base/status.h"
#include "kafka/group/producer_state.h"
#include "log/partition.h"

namespace braid::kafka {

// The producer fields of a stored batch header.
ProducerBatch ProducerBatchFromHeader(const log::BatchHeader& h);

// LoadSnapshot for the partition, then ReplayBatch for every batch from the
// snapshot's offset to the log end. Call once per partition when the broker
// opens it, before accepting Produce requests for it.
Status RecoverFromLog(ProducerStateManager* producers, const log::Partition& partition);

}  // namespace braid::kafka
