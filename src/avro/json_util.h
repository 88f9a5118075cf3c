// Internal helpers for nlohmann JSON values (not part of the public API).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "avro/schema.h"

namespace braid::avro::internal {

// Maximum nesting depth of JSON accepted as a schema or as a JSON-encoded
// value. nlohmann's copy, compare and dump recurse, so deeper input would
// exhaust the stack.
inline constexpr size_t kMaxJsonNesting = 1000;

// True if `j` nests arrays/objects deeper than `limit` levels. Iterative.
inline bool JsonDeeperThan(const Json& j, size_t limit) {
  std::vector<std::pair<const Json*, size_t>> stack{{&j, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth > limit) return true;
    for (const Json& child : *v) {
      if (child.is_structured()) stack.emplace_back(&child, depth + 1);
    }
  }
  return false;
}

}  // namespace braid::avro::internal
