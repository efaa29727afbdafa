#include "src/core/utf16.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace eventsift {
namespace {

std::vector<uint8_t> Le(const std::vector<uint16_t>& units) {
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
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
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

// Reference conversion, one unit at a time, written from the Unicode rules
// (not from the code under test): the vector and word paths must agree with
// it on every mix of ASCII runs, multibyte units, pairs and bad surrogates.
std::string Reference(const std::vector<uint16_t>& units, bool stop_at_nul) {
  std::string out;
  auto put = [&](uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  };
  for (size_t i = 0; i < units.size(); ++i) {
    const uint32_t u = units[i];
    if (u == 0 && stop_at_nul) break;
    const bool high = u >= 0xD800 && u <= 0xDBFF;
    const bool next_low = i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF;
    if (high && next_low) {
      put(0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      put(0xFFFD);
    } else {
      put(u);
    }
  }
  return out;
}

TEST(Utf16Test, LongAsciiRunsAcrossBlockBoundaries) {
  // 8-unit (SSE2) and 4-unit (word) steps, then a tail of every length.
  for (size_t len = 0; len <= 40; ++len) {
    std::vector<uint16_t> units;
    for (size_t i = 0; i < len; ++i) units.push_back(static_cast<uint16_t>('a' + i % 26));
    std::string out = "prefix:";
    AppendUtf16LeAsUtf8(Le(units), &out);
    EXPECT_EQ(out, "prefix:" + Reference(units, false)) << len;
  }
}

TEST(Utf16Test, NonAsciiAtEveryPositionOfABlock) {
  // A 2-byte, 3-byte, paired, unpaired-high, unpaired-low, 0x7F/0x80 edge or
  // 0x7FF/0x800 edge unit at each position of a 24-unit ASCII string: the
  // block step must stop exactly there and resume after it.
  const std::vector<std::vector<uint16_t>> specials = {
      {0x00E9},
      {0x20AC},
      {0xD83D, 0xDE00},
      {0xD800},
      {0xDC00},
      {0x007F},
      {0x0080},
      {0x07FF},
      {0x0800},
      {0xFFFF},
      {0xD800, 0xD800, 0xDC00},  // high, then a real pair
      {0xDBFF, 0xDFFF},          // the last pair: U+10FFFF
  };
  for (const auto& special : specials) {
    for (size_t pos = 0; pos <= 24; ++pos) {
      std::vector<uint16_t> units;
      for (size_t i = 0; i < 24; ++i) units.push_back(static_cast<uint16_t>('A' + i % 26));
      units.insert(units.begin() + static_cast<std::ptrdiff_t>(pos), special.begin(),
                   special.end());
      std::string out;
      AppendUtf16LeAsUtf8(Le(units), &out);
      EXPECT_EQ(out, Reference(units, false)) << "special[0]=" << special[0] << " pos=" << pos;
    }
  }
}

TEST(Utf16Test, NonLatinTextWithSpaces) {
  // Cyrillic words with ASCII spaces and digits: the unit-at-a-time path goes
  // back to the block copy only when ASCII follows.
  std::vector<uint16_t> units;
  for (int rep = 0; rep < 5; ++rep) {
    for (uint16_t u : {0x041F, 0x0440, 0x0438, 0x0432, 0x0435, 0x0442}) units.push_back(u);
    units.push_back(' ');
    for (char c : std::string("12345678 ok")) units.push_back(static_cast<uint16_t>(c));
    units.push_back(0x4E2D);  // CJK, 3 bytes
  }
  std::string out;
  AppendUtf16LeAsUtf8(Le(units), &out);
  EXPECT_EQ(out, Reference(units, false));
  EXPECT_EQ(out.substr(0, 12), "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
}

TEST(Utf16Test, NulInsideBlocksStopsOrIsKept) {
  Arena arena;
  for (size_t pos = 0; pos < 20; ++pos) {
    std::vector<uint16_t> units(20, 'x');
    units[pos] = 0;
    const auto b = Le(units);
    EXPECT_EQ(Utf16LeToUtf8(b, &arena, true), std::string(pos, 'x')) << pos;
    // Without stop_at_nul the NUL is an ordinary (ASCII) unit.
    EXPECT_EQ(Utf16LeToUtf8(b, &arena, false), Reference(units, false)) << pos;
    // A NUL after a non-ASCII unit stops the unit-at-a-time path too.
    units.insert(units.begin(), 0x00E9);
    EXPECT_EQ(Utf16LeToUtf8(Le(units), &arena, true), "\xC3\xA9" + std::string(pos, 'x'));
  }
}

TEST(Utf16Test, WorstCaseExpansionFitsTheBound) {
  // Every unit 3 bytes, and pairs mixed in: the output never exceeds
  // MaxUtf8ForUtf16Units, so the arena and string room are enough.
  std::vector<uint16_t> units;
  for (int i = 0; i < 50; ++i) {
    units.push_back(0xFFFD);
    if (i % 7 == 0) {
      units.push_back(0xD83D);
      units.push_back(0xDE00);
    }
    if (i % 5 == 0) units.push_back(0xDC00);
  }
  Arena arena;
  std::string_view v = Utf16LeToUtf8(Le(units), &arena);
  EXPECT_EQ(v, Reference(units, false));
  EXPECT_LE(v.size(), MaxUtf8ForUtf16Units(units.size()));
}

TEST(Utf16Test, PseudoRandomMixesMatchTheReference) {
  // A fixed linear congruential sequence: ASCII-heavy strings of random
  // length with any unit, including surrogates, sprinkled in.
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint16_t> units(next() % 70);
    for (auto& u : units) {
      const uint32_t r = next() % 100;
      u = static_cast<uint16_t>(r < 70   ? 0x20 + next() % 0x5F
                                : r < 80 ? next() % 0x800
                                : r < 90 ? 0xD800 + next() % 0x800
                                         : next() % 0x10000);
    }
    const bool stop = round % 2 == 1;
    Arena arena;
    EXPECT_EQ(Utf16LeToUtf8(Le(units), &arena, stop), Reference(units, stop)) << round;
  }
}

}  // namespace
}  // namespace eventsift
