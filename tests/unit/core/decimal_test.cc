#include "src/core/decimal.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <string>

namespace eventsift {
namespace {

std::string Reference(uint64_t v) {
  char buf[24];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

std::string Written(uint64_t v) {
  char buf[24];
  return std::string(buf, WriteDecimal(buf, v));
}

TEST(DecimalTest, EveryDigitCountBoundaryMatchesToChars) {
  uint64_t p = 1;
  for (int digits = 1; digits <= 20; ++digits) {
    for (uint64_t v : {p - 1, p, p + 1, p * 5, p * 9 + (p - 1)}) {
      ASSERT_EQ(Written(v), Reference(v)) << v;
    }
    if (digits < 20) p *= 10;
  }
  EXPECT_EQ(Written(UINT64_MAX), "18446744073709551615");
  EXPECT_EQ(Written(0), "0");
}

TEST(DecimalTest, PseudoRandomValuesMatchToChars) {
  uint64_t state = 88172645463325252ULL;
  for (int i = 0; i < 200000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const uint64_t v = state >> (state % 64);  // every magnitude
    ASSERT_EQ(Written(v), Reference(v)) << v;
  }
}

}  // namespace
}  // namespace eventsift
