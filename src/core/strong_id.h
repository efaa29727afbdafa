#pragma once
// Strong ids (redpanda's named_type): an offset cannot pass for a record id.

#include <compare>
#include <cstdint>
#include <functional>

namespace eventsift {

template <typename T, typename Tag>
class StrongId {
 public:
  using value_type = T;
  constexpr StrongId() = default;
  constexpr explicit StrongId(T v) : value_(v) {}
  constexpr T value() const { return value_; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  T value_{};
};

using RecordId = StrongId<uint64_t, struct RecordIdTag>;
using ChunkIndex = StrongId<uint32_t, struct ChunkIndexTag>;
using ByteOffset = StrongId<uint64_t, struct ByteOffsetTag>;

}  // namespace eventsift

template <typename T, typename Tag>
struct std::hash<eventsift::StrongId<T, Tag>> {
  size_t operator()(const eventsift::StrongId<T, Tag>& id) const noexcept {
    return std::hash<T>()(id.value());
  }
};
