#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <string>

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

}  // namespace
}  // namespace eventsift::daemon
