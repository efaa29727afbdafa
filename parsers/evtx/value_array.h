#pragma once
// Substitution value arrays: reading a template instance's values, and
// splitting array values into their items.

#include <cstdint>
#include <span>
#include <vector>

#include "parsers/evtx/binxml_value.h"
#include "src/core/status.h"

namespace eventsift::evtx {

inline constexpr size_t kMaxValues = 4096;  // substitutions per instance

// Splits an array value (type | 0x80) into items of the base type: strings
// at their NUL terminators, fixed-size types by size, SIDs by their own
// length. An empty array yields one empty item.
void SplitArray(const ValueRef& v, std::vector<ValueRef>* items);

// Reads the substitution array at `offset` (u32 count, count x {u16 size,
// u8 type, u8 pad}, then the data) into `values` (may be null to only find
// the end); `*end` is the offset just past the data. On failure `*values`
// holds no meaningful items.
Status ReadValueArray(std::span<const uint8_t> chunk, uint32_t offset,
                      std::vector<ValueRef>* values, uint32_t* end);

}  // namespace eventsift::evtx
