#include "src/source/line_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventsift::source {
namespace {

std::vector<std::string> FeedAll(LineFramer& f, const std::vector<std::string>& parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) f.Feed(p, [&](std::string_view l, uint64_t) { out.emplace_back(l); });
  return out;
}

TEST(LineFramerTest, JoinsLinesSplitAcrossReads) {
  LineFramer f(100);
  auto lines = FeedAll(f, {"{\"a\":", "1}\n{\"b\"", ":2}\r\n", "{\"c\":3}"});
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(f.pending_bytes(), 7u);
  f.Finish([&](std::string_view l, uint64_t n) {
    EXPECT_EQ(l, "{\"c\":3}");
    EXPECT_EQ(n, 3u);
  });
}

TEST(LineFramerTest, DropsOverlongLinesAndKeepsNumbering) {
  LineFramer f(8);
  std::vector<uint64_t> numbers;
  std::vector<std::string> lines;
  auto on = [&](std::string_view l, uint64_t n) {
    lines.emplace_back(l);
    numbers.push_back(n);
  };
  f.Feed("short\n0123456789", on);
  EXPECT_TRUE(f.skipping());
  EXPECT_EQ(f.pending_bytes(), 0u);  // nothing buffered for the long line
  f.Feed("abcdef\nok\n", on);
  f.Feed("0123456789abc\n", on);  // over the bound within one read
  EXPECT_EQ(lines, (std::vector<std::string>{"short", "ok"}));
  EXPECT_EQ(numbers, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(f.dropped(), 2u);
}

TEST(LineFramerTest, SkipsEmptyLines) {
  LineFramer f(100);
  auto lines = FeedAll(f, {"\n\r\nx\n\n"});
  EXPECT_EQ(lines, (std::vector<std::string>{"x"}));
  EXPECT_EQ(f.line_no(), 4u);
}

}  // namespace
}  // namespace eventsift::source
