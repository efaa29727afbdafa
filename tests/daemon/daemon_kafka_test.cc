// `eventsift daemon` with a Kafka sink against a real broker (the
// daemon_kafka_broker CTest fixture, deploy/kafka/kafka.sh): alerts reach the
// topic, and after a SIGKILL mid-stream and a restart every expected alert id
// is in the topic, with duplicates only within the checkpoint bound.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tests/daemon/daemon_harness.h"

namespace eventsift::daemon_test {
namespace {

using std::chrono::seconds;

constexpr int64_t kT0 = 1714557600;  // 2024-05-01T10:00:00Z
constexpr int64_t kDay = 86400;

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string KafkaDir() {
  const char* d = std::getenv("ES_DAEMON_KAFKA_DIR");
  return d != nullptr ? d : "";
}

std::vector<std::string> TopicAlertIds(const std::string& broker, const std::string& topic) {
  std::string text =
      Capture(fmt::format("kcat -b {} -t {} -C -e -q -f '%s\\n' 2>/dev/null", broker, topic));
  std::vector<std::string> ids;
  const std::string key = "\"alert_id\":\"";
  for (size_t p = text.find(key); p != std::string::npos; p = text.find(key, p)) {
    p += key.size();
    ids.push_back(text.substr(p, text.find('"', p) - p));
  }
  return ids;
}

// The fixture's broker address and a fresh 3-partition topic.
bool BrokerAndTopic(const std::string& prefix, std::string* broker, std::string* topic) {
  std::string script = std::string(ES_SOURCE_DIR) + "/deploy/kafka/kafka.sh";
  *broker = Capture(fmt::format("{} status --dir {}", script, KafkaDir()));
  while (!broker->empty() && broker->back() == '\n') broker->pop_back();
  *topic = fmt::format("{}.{}", prefix, ::getpid());
  Capture(fmt::format("{} topic {} --partitions 3 --dir {}", script, *topic, KafkaDir()));
  return !broker->empty();
}

TEST(DaemonKafkaTest, AlertsReachTheTopicAcrossSigkill) {
  if (KafkaDir().empty())
    GTEST_SKIP() << "ES_DAEMON_KAFKA_DIR not set (run through ctest -L kafka)";
  std::string broker, topic;
  ASSERT_TRUE(BrokerAndTopic("eventsift.daemon", &broker, &topic)) << "broker not running";

  ScratchDir dir("kafka");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = dir / "eventsift.yaml";
  WriteFile(config, fmt::format(R"(state_dir: {}
checkpoint_interval_ms: 200
shutdown_timeout_ms: 10000
rules: {{paths: [{}/rules/eems_mitigation_error.yaml]}}
sources:
  - {{name: drop, type: directory, path: {}, include: ["*.ndjson"]}}
sinks:
  - type: kafka
    brokers: {}
    topic: {}
    properties: {{linger.ms: 5}}
metrics: {{address: "127.0.0.1:{}"}}
)",
                                dir / "state", ES_SOURCE_DIR, dir / "in", broker, topic, port));
  constexpr int kHosts = 10;
  std::set<std::string> expected;
  auto round = [&](int r) {
    std::string s;
    for (int h = 0; h < kHosts; ++h) {
      std::string host = fmt::format("EX{:02}.contoso.com", h);
      int64_t t = kT0 + r * 3 * kDay + h * 60;
      expected.insert(ExpectedAlertId(host, t));
      s += EemsEvent(host, t, static_cast<uint64_t>(r * kHosts + h + 1)) + "\n";
    }
    return s;
  };
  std::string in = dir / "in/a.ndjson";
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  AppendFile(in, round(0) + round(1));  // round 0 closes
  ASSERT_TRUE(WaitFor([&] { return TopicAlertIds(broker, topic).size() >= kHosts; }, seconds(60)))
      << ReadFile(dir / "daemon.log");
  AppendFile(in, round(2));  // round 1 closes, maybe before the kill
  d.Signal(SIGKILL);
  ASSERT_EQ(d.Wait(seconds(5)), 128 + SIGKILL);
  AppendFile(in, round(3) + TickEvent("EX99", kT0 + 15 * kDay, 999) + "\n");
  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = TopicAlertIds(broker, topic);
        return std::set<std::string>(ids.begin(), ids.end()).size() >= expected.size();
      },
      seconds(60)))
      << ReadFile(dir / "daemon.log");
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(12)), 0);
  auto ids = TopicAlertIds(broker, topic);
  std::set<std::string> got(ids.begin(), ids.end());
  EXPECT_EQ(got, expected);
  EXPECT_LE(ids.size() - got.size(),
            static_cast<size_t>(kHosts));  // the batch in flight at the kill
}

TEST(DaemonKafkaTest, RawEventSourceCommitsOffsetsAfterAlertsAreSafe) {
  if (KafkaDir().empty())
    GTEST_SKIP() << "ES_DAEMON_KAFKA_DIR not set (run through ctest -L kafka)";
  std::string broker, topic;
  ASSERT_TRUE(BrokerAndTopic("eventsift.raw", &broker, &topic)) << "broker not running";

  ScratchDir dir("kafkasrc");
  int port = FreePort();
  std::string config = dir / "eventsift.yaml";
  WriteFile(config, fmt::format(R"(state_dir: {}
checkpoint_interval_ms: 200
rules: {{paths: [{}/rules/eems_mitigation_error.yaml]}}
sources:
  - {{name: raw, type: kafka, brokers: "{}", topic: {}, group_id: daemon-test-{}}}
sinks:
  - {{type: file, path: {}}}
metrics: {{address: "127.0.0.1:{}"}}
)",
                                dir / "state", ES_SOURCE_DIR, broker, topic, ::getpid(),
                                dir / "alerts.ndjson", port));
  // Keyed by host, as producers should, so a host stays in one partition.
  auto produce = [&](const std::vector<std::pair<std::string, std::string>>& msgs) {
    std::string file = dir / "produce.txt";
    std::string text;
    for (const auto& [key, value] : msgs) text += key + "\t" + value + "\n";
    WriteFile(file, text);
    Capture(fmt::format("kcat -b {} -t {} -P -K '\t' -l {} 2>&1", broker, topic, file));
  };
  std::set<std::string> expected;
  std::vector<std::pair<std::string, std::string>> batch;
  for (int h = 0; h < 6; ++h) {
    std::string host = fmt::format("EX{:02}.contoso.com", h);
    expected.insert(ExpectedAlertId(host, kT0 + h));
    batch.emplace_back(host, EemsEvent(host, kT0 + h, static_cast<uint64_t>(h + 1)));
  }
  batch.emplace_back("EX99", TickEvent("EX99", kT0 + 3 * kDay, 100));
  produce(batch);
  const std::string events = "eventsift_source_events_total{source=\"raw\",type=\"kafka\"}";
  {
    DaemonProcess d;
    d.Start(config, dir / "daemon.log");
    ASSERT_TRUE(WaitFor(
        [&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= expected.size(); }, seconds(60)))
        << ReadFile(dir / "daemon.log");
    EXPECT_EQ(MetricValue(HttpGet(port, "/metrics"), events), 7);
    d.Signal(SIGTERM);
    ASSERT_EQ(d.Wait(seconds(12)), 0) << ReadFile(dir / "daemon.log");
  }
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected);

  // Restarted, the group resumes after the committed offsets: nothing read
  // twice; new messages are read.
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(
      WaitFor([&] { return MetricValue(HttpGet(port, "/metrics"), events) == 0; }, seconds(10)));
  produce({{"EX50", TickEvent("EX50", kT0 + 4 * kDay, 200)}});
  ASSERT_TRUE(
      WaitFor([&] { return MetricValue(HttpGet(port, "/metrics"), events) == 1; }, seconds(60)))
      << ReadFile(dir / "daemon.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(MetricValue(HttpGet(port, "/metrics"), events), 1);
  EXPECT_EQ(ReadAlertIds(dir / "alerts.ndjson").size(), expected.size());
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(12)), 0);
}

}  // namespace
}  // namespace eventsift::daemon_test
