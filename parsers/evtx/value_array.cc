#include "parsers/evtx/value_array.h"

#include <cstring>

#include <fmt/format.h>

#include "src/core/byte_reader.h"

namespace eventsift::evtx {

namespace {

// ReadValueArray's error for value `i`, the first that runs past the chunk.
[[gnu::cold]] Status ValueOutsideChunk(uint32_t i, uint16_t size, size_t have, size_t pos) {
  return Status::Truncated(
             fmt::format("substitution value {}: need {} bytes, have {}", i, size, have))
      .AtOffset(pos);
}

}  // namespace

Status ReadValueArray(std::span<const uint8_t> chunk, uint32_t offset,
                      std::vector<ValueRef>* values, uint32_t* end) {
  uint32_t count = 0;
  if (!ByteReader::LoadAt(chunk, offset, &count)) [[unlikely]] {
    // The ByteReader's own messages, for the same cases.
    ByteReader r(chunk);
    ES_RETURN_IF_ERROR(r.Seek(offset, "substitution array"));
    return r.ReadU32("substitution count", &count);
  }
  const size_t descriptors = size_t{offset} + 4;
  if (count > kMaxValues || size_t{count} * 4 > chunk.size() - descriptors) {
    return Status::Corruption(fmt::format("substitution count {} too large", count))
        .AtOffset(offset);
  }
  // The count check above keeps every descriptor inside the chunk, so they
  // are read straight from memory; each value's bytes are bounds-checked in
  // turn. One pass per record on the hot path: descriptors are 4 bytes
  // (u16 size, u8 type, u8 padding). Two loops, so the one that fills values
  // (nearly every call) does not ask per value whether to.
  const uint8_t* desc = chunk.data() + descriptors;
  size_t pos = descriptors + size_t{count} * 4;
  if (values == nullptr) {
    for (uint32_t i = 0; i < count; ++i) {
      uint16_t size = 0;
      std::memcpy(&size, desc + 4 * size_t{i}, 2);
      if (size > chunk.size() - pos) return ValueOutsideChunk(i, size, chunk.size() - pos, pos);
      pos += size;
    }
    *end = static_cast<uint32_t>(pos);
    return Status::OK();
  }
  // Every item is overwritten below, so resizing a reused vector constructs
  // nothing in steady state (clear() first would re-initialise them all).
  values->resize(count);
  ValueRef* out = values->data();
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t size = 0;
    std::memcpy(&size, desc + 4 * size_t{i}, 2);
    if (size > chunk.size() - pos) return ValueOutsideChunk(i, size, chunk.size() - pos, pos);
    out[i].type = desc[4 * size_t{i} + 2];
    out[i].chunk_offset = static_cast<uint32_t>(pos);
    out[i].bytes = {chunk.data() + pos, size};  // inside: checked above
    pos += size;
  }
  *end = static_cast<uint32_t>(pos);
  return Status::OK();
}

void SplitArray(const ValueRef& v, std::vector<ValueRef>* items) {
  items->clear();
  const uint8_t base = v.type & ~kArrayFlag;
  std::span<const uint8_t> b = v.bytes;
  auto add = [&](size_t pos, size_t len) {
    items->push_back(
        ValueRef{base, b.subspan(pos, len), v.chunk_offset + static_cast<uint32_t>(pos)});
  };
  if (base == kString) {
    size_t n = b.size() & ~size_t{1};
    // The last item's terminator ends the array, it does not start an item.
    if (n >= 2 && b[n - 1] == 0 && b[n - 2] == 0) n -= 2;
    size_t start = 0;
    for (size_t pos = 0; pos + 1 < n; pos += 2) {
      if (b[pos] == 0 && b[pos + 1] == 0) {
        add(start, pos - start);
        start = pos + 2;
      }
    }
    add(start, n >= start ? n - start : 0);
  } else if (base == kSid) {
    size_t pos = 0;
    while (pos + 8 <= b.size()) {
      const size_t len = 8 + 4 * size_t{b[pos + 1]};
      if (pos + len > b.size()) break;
      add(pos, len);
      pos += len;
    }
  } else {
    size_t size = base == kSizeT ? 8 : FixedSizeOf(base);
    if (size == 0 || b.size() % size != 0) size = b.size();  // unsplittable: one item
    for (size_t pos = 0; size != 0 && pos < b.size(); pos += size) add(pos, size);
  }
  if (items->empty()) add(0, 0);
}

}  // namespace eventsift::evtx
