#pragma once
// Unsigned integers as decimal text, for renderers that write numbers by the
// million (every record of `dump` has a dozen): the digit count from a few
// compares, then two digits per table load from the end. std::to_chars
// counts digits in a loop first and showed as ~5 % of `dump`.

#include <charconv>
#include <cstdint>
#include <cstring>

namespace eventsift {

namespace decimal_detail {
inline constexpr char kPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
}  // namespace decimal_detail

// Writes the two digits of `v` (below 100) at `p`, leading zero included;
// returns the end. Clock fields and fractions of timestamps use it too.
inline char* WriteTwoDigits(char* p, uint64_t v) {
  std::memcpy(p, &decimal_detail::kPairs[2 * v], 2);
  return p + 2;
}

// Writes `v` in decimal at `p` (room: 20 bytes); returns the end.
inline char* WriteDecimal(char* p, uint64_t v) {
  if (v >= 10000000000ULL) return std::to_chars(p, p + 20, v).ptr;  // rare in event data
  const int n = v < 10           ? 1
                : v < 100        ? 2
                : v < 1000       ? 3
                : v < 10000      ? 4
                : v < 100000     ? 5
                : v < 1000000    ? 6
                : v < 10000000   ? 7
                : v < 100000000  ? 8
                : v < 1000000000 ? 9
                                 : 10;
  char* const end = p + n;
  char* q = end;
  auto x = static_cast<uint32_t>(v);  // below 10^10: fits after the first pair
  if (v >= 100) {
    uint64_t w = v;
    while (w >= 100) {
      q -= 2;
      WriteTwoDigits(q, w % 100);
      w /= 100;
    }
    x = static_cast<uint32_t>(w);
  }
  if (x >= 10) {
    q -= 2;
    WriteTwoDigits(q, x);
  } else {
    *--q = static_cast<char>('0' + x);
  }
  return end;
}

}  // namespace eventsift
