#pragma once
// Equality of strings that are usually short (host names, channel names) on
// a per-record path: up to 32 bytes are compared with overlapping word
// loads instead of a call to memcmp, whose call and dispatch cost more than
// the compare at these sizes.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace eventsift {

inline bool SameShortText(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  auto word_differs = [&](size_t at) {
    uint64_t u = 0, v = 0;
    std::memcpy(&u, x + at, 8);
    std::memcpy(&v, y + at, 8);
    return u ^ v;
  };
  if (n < 8) {
    if (n >= 4) {
      uint32_t u0 = 0, v0 = 0, u1 = 0, v1 = 0;
      std::memcpy(&u0, x, 4);
      std::memcpy(&v0, y, 4);
      std::memcpy(&u1, x + n - 4, 4);
      std::memcpy(&v1, y + n - 4, 4);
      return ((u0 ^ v0) | (u1 ^ v1)) == 0;
    }
    for (size_t i = 0; i < n; ++i) {
      if (x[i] != y[i]) return false;
    }
    return true;
  }
  if (n <= 16) return (word_differs(0) | word_differs(n - 8)) == 0;
  if (n <= 32) {
    return (word_differs(0) | word_differs(8) | word_differs(n - 16) | word_differs(n - 8)) == 0;
  }
  return std::memcmp(x, y, n) == 0;
}

}  // namespace eventsift
