// Builds valid Kafka RecordBatch v2 bytes for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace braid::log::testing {

struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
};

struct BatchOptions {
  int64_t base_offset = 0;  // what the "producer" writes (the log rewrites it)
  int16_t attributes = 0;   // codec bits are only stamped; records stay plain
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

std::string BuildBatch(const std::vector<TestRecord>& records, const BatchOptions& options = {});

// n records with `value_size`-byte values, timestamps ts, ts+1, ...
std::string MakeBatch(int n, int64_t ts, size_t value_size = 10);

}  // namespace braid::log::testing
