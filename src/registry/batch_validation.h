// Produce-time validation of a whole Kafka RecordBatch v2 (the unit a broker
// appends), on top of RecordValidator (validation.h).
#pragma once

#include <functional>
#include <string_view>

#include "base/status.h"
#include "log/log.h"
#include "registry/validation.h"

namespace braid::registry {

// Checks every record of `batch` (exactly one whole RecordBatch v2, as
// received in a Produce request; compressed batches are decompressed) against
// `policy` for `topic`. Returns OK if the policy is off or every record
// passes; else InvalidArgument naming the first failing record's index in the
// batch and the reason (see RecordValidator::Validate), or the batch parsing
// error. Control batches (transaction markers) are not checked.
Status ValidateBatch(const RecordValidator& validator, std::string_view topic,
                     const ValidationPolicy& policy, std::string_view batch);

// The broker's Produce hook: a thread-safe function that reads `topic`'s
// effective configs from `log` (braid.value.schema.validation,
// braid.key.schema.validation) and runs ValidateBatch. Unknown topics and
// topics without the configs pass. `log` and `validator` must outlive it.
using ProduceBatchValidator = std::function<Status(std::string_view topic, std::string_view batch)>;
ProduceBatchValidator MakeProduceValidator(const log::Log* log, const RecordValidator* validator);

}  // namespace braid::registry
