#include "src/core/utf16.h"

#include <gtest/gtest.h>

#include <vector>

namespace eventsift {
namespace {

std::vector<uint8_t> Le(std::initializer_list<uint16_t> units) {
  std::vector<uint8_t> b;
  for (uint16_t u : units) {
    b.push_back(static_cast<uint8_t>(u));
    b.push_back(static_cast<uint8_t>(u >> 8));
  }
  return b;
}

TEST(Utf16Test, AsciiAndMultibyte) {
  std::string out;
  auto b = Le({'E', 'X', '0', '1', '.', 'c', 'o', 'n', 0x00E9, 0x20AC});
  AppendUtf16LeAsUtf8(b, &out);
  EXPECT_EQ(out, "EX01.con\xC3\xA9\xE2\x82\xAC");
}

TEST(Utf16Test, SurrogatePairsAndUnpairedSurrogates) {
  std::string out;
  AppendUtf16LeAsUtf8(Le({0xD83D, 0xDE00}), &out);  // U+1F600
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
  out.clear();
  AppendUtf16LeAsUtf8(Le({'a', 0xD800, 'b', 0xDC00}), &out);
  EXPECT_EQ(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  out.clear();
  AppendUtf16LeAsUtf8(Le({0xD800}), &out);  // lone high surrogate at the end
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

TEST(Utf16Test, StopsAtNulAndIgnoresOddByte) {
  Arena arena;
  auto b = Le({'a', 'b', 'c', 'd', 'e', 0, 'x'});
  EXPECT_EQ(Utf16LeToUtf8(b, &arena, true), "abcde");
  EXPECT_EQ(Utf16LeToUtf8(b, &arena, false).size(), 7u);
  b.push_back(0x41);  // odd trailing byte is not a unit
  EXPECT_EQ(Utf16LeToUtf8(b, &arena, false).size(), 7u);
}

}  // namespace
}  // namespace eventsift
