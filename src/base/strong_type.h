// StrongType<Tag, T>: a value of type T that does not mix with other
// StrongTypes of the same representation (an Offset is not a PartitionId).
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace braid {

template <typename Tag, typename T>
class StrongType {
 public:
  using ValueType = T;
  constexpr StrongType() = default;
  constexpr explicit StrongType(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr auto operator<=>(const StrongType&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const StrongType& s) { return os << s.v_; }

 private:
  T v_{};
};

// A position in a partition's log (Kafka offset).
using Offset = StrongType<struct OffsetTag, int64_t>;
// A partition number within a topic.
using PartitionId = StrongType<struct PartitionIdTag, int32_t>;
// A broker node id.
using NodeId = StrongType<struct NodeIdTag, int32_t>;
// A schema registry global schema id (ids start at 1).
using SchemaId = StrongType<struct SchemaIdTag, int32_t>;
// An idempotent producer's id and epoch.
using ProducerId = StrongType<struct ProducerIdTag, int64_t>;
using ProducerEpoch = StrongType<struct ProducerEpochTag, int16_t>;
// A consumer group generation.
using GenerationId = StrongType<struct GenerationIdTag, int32_t>;
// A generation of the speed layer's realtime views (src/stream): sealed at a
// log cut, dropped once a batch view covers it. Starts at 1.
using RealtimeGeneration = StrongType<struct RealtimeGenerationTag, uint64_t>;

}  // namespace braid

template <typename Tag, typename T>
struct std::hash<braid::StrongType<Tag, T>> {
  size_t operator()(const braid::StrongType<Tag, T>& s) const noexcept {
    return std::hash<T>()(s.value());
  }
};

// fmt / spdlog print a StrongType as its value.
template <typename Tag, typename T>
struct fmt::formatter<braid::StrongType<Tag, T>> : fmt::formatter<T> {
  template <typename FormatContext>
  auto format(const braid::StrongType<Tag, T>& s, FormatContext& ctx) const {
    return fmt::formatter<T>::format(s.value(), ctx);
  }
};
