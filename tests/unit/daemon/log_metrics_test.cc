#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "src/daemon/log.h"
#include "src/daemon/metrics_server.h"

namespace eventsift::daemon {
namespace {

TEST(LoggerTest, RateLimitsRepeatedKeys) {
  Logger& log = Logger::Get();
  log.Configure(LogFormat::kLogfmt, LogLevel::kInfo, 3);
  uint64_t before = log.suppressed_total();
  for (int i = 0; i < 10; ++i)
    log.LogLimited(LogLevel::kWarn, "src:parse", "bad line", {{"line", "7"}});
  log.LogLimited(LogLevel::kWarn, "other:parse", "bad line");
  EXPECT_EQ(log.suppressed_total() - before, 7u);
}

TEST(PromTextTest, EscapesLabels) {
  PromText p;
  p.Family("eventsift_events_total", "counter", "Events decoded.");
  p.Sample("eventsift_events_total", {{"source", "a\"b"}}, uint64_t{5});
  p.Sample("eventsift_up", {}, 1.0);
  EXPECT_EQ(p.text(),
            "# HELP eventsift_events_total Events decoded.\n# TYPE eventsift_events_total counter\n"
            "eventsift_events_total{source=\"a\\\"b\"} 5\neventsift_up 1\n");
}

TEST(MetricsServerTest, ServesMetricsAndHealth) {
  std::atomic<bool> healthy{true};
  MetricsServer server;
  ASSERT_TRUE(server
                  .Start(
                      "127.0.0.1:0", [] { return std::string("eventsift_up 1\n"); },
                      [&] { return healthy ? std::string() : std::string("loop stalled"); })
                  .ok());
  httplib::Client client("127.0.0.1", server.port());
  auto m = client.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->body, "eventsift_up 1\n");
  auto h = client.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  healthy = false;
  h = client.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  server.Stop();
}

int ConnectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Idle clients and clients trickling a byte at a time hold no thread and
// no slot a probe needs: /healthz is answered while hundreds of them are
// connected, long before any of them times out. (The header timeout is set
// far beyond the client's own timeout so that only a prompt answer passes.)
TEST(MetricsServerTest, IdleAndTricklingClientsDoNotHoldUpHealthz) {
  MetricsServer server;
  MetricsServerOptions o;
  o.header_timeout = std::chrono::seconds(60);
  ASSERT_TRUE(server
                  .Start(
                      "127.0.0.1:0", [] { return std::string("eventsift_up 1\n"); },
                      [] { return std::string(); }, o)
                  .ok());
  std::vector<int> idle;
  for (int i = 0; i < 500; ++i) {
    int fd = ConnectTo(server.port());
    ASSERT_GE(fd, 0);
    if (i % 50 == 0) {
      ASSERT_EQ(::write(fd, "GET /he", 7), 7);  // a request never finished
    }
    idle.push_back(fd);
  }
  for (int round = 0; round < 3; ++round) {
    httplib::Client client("127.0.0.1", server.port());
    client.set_connection_timeout(2);
    client.set_read_timeout(2);
    auto h = client.Get("/healthz");
    ASSERT_TRUE(h) << "round " << round << ": " << httplib::to_string(h.error());
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->body, "ok\n");
  }
  // Past max_connections the oldest were closed for the newer ones.
  EXPECT_GE(server.counters().evicted.load(), 500u - o.max_connections);
  for (int fd : idle) ::close(fd);
  server.Stop();
}

// The request head has one deadline in all: a client sending a byte every
// 100 ms is cut off at header_timeout, counted, and not answered.
TEST(MetricsServerTest, ATricklingClientIsCutOffAtTheHeaderTimeout) {
  MetricsServer server;
  MetricsServerOptions o;
  o.header_timeout = std::chrono::milliseconds(300);
  ASSERT_TRUE(server
                  .Start(
                      "127.0.0.1:0", [] { return std::string(); }, [] { return std::string(); }, o)
                  .ok());
  int fd = ConnectTo(server.port());
  ASSERT_GE(fd, 0);
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaa";
  bool cut = false;
  for (char ch : request) {
    if (::send(fd, &ch, 1, MSG_NOSIGNAL) != 1) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    char b;
    if (::recv(fd, &b, 1, MSG_DONTWAIT) == 0) {
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << "still connected after " << request.size() * 100 << " ms";
  EXPECT_EQ(server.counters().header_timeouts.load(), 1u);
  ::close(fd);
  server.Stop();
}

TEST(MetricsServerTest, RefusesHugeHeadsOtherMethodsAndUnknownPaths) {
  MetricsServer server;
  ASSERT_TRUE(
      server
          .Start(
              "127.0.0.1:0", [] { return std::string("m\n"); }, [] { return std::string(); })
          .ok());
  httplib::Client client("127.0.0.1", server.port());
  auto big = client.Get("/metrics", {{"X-Big", std::string(10000, 'a')}});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
  EXPECT_EQ(server.counters().too_large.load(), 1u);
  auto post = client.Delete("/metrics");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto head = client.Head("/metrics?x=1");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  server.Stop();
}

TEST(MetricsServerTest, RefusesBadAddresses) {
  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1:12ab", "127.0.0.1", ":0"}) {
    MetricsServer server;
    EXPECT_FALSE(server
                     .Start(
                         bad, [] { return std::string(); }, [] { return std::string(); })
                     .ok())
        << bad;
  }
}

}  // namespace
}  // namespace eventsift::daemon
