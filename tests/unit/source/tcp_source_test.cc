#include "src/source/tcp_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/unit/source/fake_consumer.h"

namespace eventsift::source {
namespace {

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void PollFor(TcpSource& s, FakeConsumer& c, size_t budget, std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(s.Poll(c, budget).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(TcpSourceTest, ReadsLinesFromPeersAndBoundsConnections) {
  TcpSourceOptions o;
  o.max_connections = 1;
  TcpSource s("tcp", o);
  ASSERT_TRUE(s.Start().ok());
  ASSERT_NE(s.port(), 0);
  int a = Connect(s.port());
  ASSERT_GE(a, 0);
  FakeConsumer c;
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(50));
  int b = Connect(s.port());  // over the bound: accepted, then closed
  ASSERT_GE(b, 0);
  std::string data = "{\"x\":1}\n{\"x\":2}\n{\"x\"";
  ASSERT_EQ(::write(a, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(a);  // the final line without newline is delivered at EOF
  PollFor(s, c, 1 << 20, std::chrono::milliseconds(100));
  EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"x\":1}", "{\"x\":2}", "{\"x\""}));
  EXPECT_EQ(s.stats().connections_accepted.Get(), 1u);
  EXPECT_EQ(s.stats().connections_rejected.Get(), 1u);
  EXPECT_EQ(s.connections(), 0u);
  ::close(b);
}

TEST(TcpSourceTest, BudgetLimitsWhatIsReadPerPoll) {
  TcpSource s("tcp", TcpSourceOptions{});
  ASSERT_TRUE(s.Start().ok());
  int a = Connect(s.port());
  ASSERT_GE(a, 0);
  std::string data;
  for (int i = 0; i < 100; ++i) data += "0123456789\n";
  ASSERT_EQ(::write(a, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  FakeConsumer c;
  PollFor(s, c, 0, std::chrono::milliseconds(20));  // pipeline full: nothing read
  EXPECT_EQ(c.lines.size(), 0u);
  PollFor(s, c, 110, std::chrono::milliseconds(200));
  EXPECT_EQ(c.lines.size(), 100u);
  ::close(a);
}

}  // namespace
}  // namespace eventsift::source
