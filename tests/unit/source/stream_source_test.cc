#include "src/source/stream_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/unit/source/fake_consumer.h"

namespace eventsift::source {
namespace {

TEST(StreamSourceTest, ReadsLinesUntilEof) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  StreamSource s("stdin", StreamSourceOptions{p[0], "pipe", 16});
  ASSERT_TRUE(s.Start().ok());
  FakeConsumer c;
  std::string data = "{\"a\":1}\n" + std::string(40, 'x') + "\n{\"b\"";
  ASSERT_EQ(::write(p[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  auto more = s.Poll(c, 1 << 20);
  ASSERT_TRUE(more.has_value());
  EXPECT_FALSE(s.finished());
  ASSERT_EQ(::write(p[1], ":2}", 3), 3);
  ::close(p[1]);
  while (!s.finished()) ASSERT_TRUE(s.Poll(c, 1 << 20).has_value());
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(s.stats().lines_dropped.Get(), 1u);
  EXPECT_EQ(c.origins[0], "pipe");
  ::close(p[0]);
}

}  // namespace
}  // namespace eventsift::source
