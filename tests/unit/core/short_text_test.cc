#include "src/core/short_text.h"

#include <string>

#include <gtest/gtest.h>

namespace eventsift {
namespace {

// Every length on both sides of the load cases (0-3 bytes one by one, 4-7
// two 4-byte words, 8-16 two 8-byte words, 17-32 four, longer memcmp), a
// difference at every position, and strings that differ only in length,
// against operator==.
// Each string sits inside a larger buffer so that a load past its end would
// read the neighbouring bytes (which differ) and show up as a wrong answer.
TEST(ShortTextTest, AgreesWithStringEqualityAtEveryLengthAndPosition) {
  int compared = 0;
  for (size_t n = 0; n <= 40; ++n) {
    std::string a_buf = std::string(n, 'x') + "AAAAAAAA";
    std::string b_buf = std::string(n, 'x') + "BBBBBBBB";
    for (size_t i = 0; i < n; ++i) a_buf[i] = b_buf[i] = static_cast<char>('a' + i % 26);
    const std::string_view a(a_buf.data(), n), b(b_buf.data(), n);
    EXPECT_TRUE(SameShortText(a, b)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string c_buf = b_buf;
      c_buf[i] = static_cast<char>(c_buf[i] ^ 0x20);
      const std::string_view c(c_buf.data(), n);
      EXPECT_EQ(SameShortText(a, c), a == c) << n << " at " << i;
      EXPECT_FALSE(SameShortText(a, c)) << n << " at " << i;
      ++compared;
    }
    if (n > 0) {
      EXPECT_FALSE(SameShortText(a, a.substr(0, n - 1))) << n;
      EXPECT_FALSE(SameShortText(a.substr(0, n - 1), a)) << n;
    }
  }
  EXPECT_EQ(compared, 40 * 41 / 2);
}

}  // namespace
}  // namespace eventsift
