// Cut: an offset cut of one topic. For every partition p, the records with
// offset < offsets[p] are below the cut; a partition the cut does not name
// has nothing below it. The boundary between braid's batch and speed layers
// is such a cut (DESIGN.md "The batch/realtime boundary is a log cut"): the
// archiver covers a cut, a batch run computes over the records below one,
// the speed layer seals its generations at one.
#pragma once

#include <algorithm>
#include <map>
#include <string>

#include "base/strong_type.h"

namespace braid::log {

struct Cut {
  std::map<PartitionId, Offset> offsets;

  // The offset of `p` (0 if the cut does not name it).
  Offset at(PartitionId p) const {
    auto it = offsets.find(p);
    return it == offsets.end() ? Offset(0) : it->second;
  }
  // True if every record below `other` is below this cut too.
  bool Covers(const Cut& other) const {
    return std::all_of(other.offsets.begin(), other.offsets.end(),
                       [this](const auto& po) { return at(po.first) >= po.second; });
  }
  // True if nothing is below the cut.
  bool empty() const {
    return std::all_of(offsets.begin(), offsets.end(),
                       [](const auto& po) { return po.second.value() <= 0; });
  }
  // "{0:12,1:7}".
  std::string ToString() const {
    std::string s = "{";
    for (const auto& [p, o] : offsets) {
      if (s.size() > 1) s += ",";
      s += std::to_string(p.value()) + ":" + std::to_string(o.value());
    }
    return s + "}";
  }
  friend bool operator==(const Cut&, const Cut&) = default;
};

}  // namespace braid::log
