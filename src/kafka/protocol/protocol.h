// Facade of braid's Kafka wire codec (no sockets): primitives,
// headers, the API table, message bodies, error codes. The records inside
// Produce and Fetch are the log's record model (log/records.h).
#pragma once

#include "kafka/protocol/api_versions.h"  // IWYU pragma: export
#include "kafka/protocol/error_code.h"    // IWYU pragma: export
#include "kafka/protocol/header.h"        // IWYU pragma: export
#include "kafka/protocol/messages.h"      // IWYU pragma: export
#include "kafka/protocol/wire.h"          // IWYU pragma: export
