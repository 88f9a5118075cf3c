// Facade of braid's Kafka wire codec (no sockets, no log): primitives,
// headers, the API table, message bodies, error codes, RecordBatch v2.
#pragma once

#include "kafka/protocol/api_versions.h"  // IWYU pragma: export
#include "kafka/protocol/compression.h"   // IWYU pragma: export
#include "kafka/protocol/error_code.h"    // IWYU pragma: export
#include "kafka/protocol/header.h"        // IWYU pragma: export
#include "kafka/protocol/messages.h"      // IWYU pragma: export
#include "kafka/protocol/record_batch.h"  // IWYU pragma: export
#include "kafka/protocol/wire.h"          // IWYU pragma: export
