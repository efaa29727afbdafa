// `eventsift daemon` with a Kafka sink against a real broker (the
// daemon_kafka_broker CTest fixture, deploy/kafka/kafka.sh): alerts reach the
// topic, and after a SIGKILL mid-stream and a restart every expected alert id
// is in the topic, with duplicates only within the checkpoint bound; as a
// raw-event source, offsets commit after alerts are safe, and two daemons in
// one group share a 4-partition topic and survive the loss of one.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
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

// The fixture's broker address and a fresh topic (3 partitions unless told).
bool BrokerAndTopic(const std::string& prefix, std::string* broker, std::string* topic,
                    int partitions = 3) {
  std::string script = std::string(ES_SOURCE_DIR) + "/deploy/kafka/kafka.sh";
  *broker = Capture(fmt::format("{} status --dir {}", script, KafkaDir()));
  while (!broker->empty() && broker->back() == '\n') broker->pop_back();
  *topic = fmt::format("{}.{}", prefix, ::getpid());
  Capture(
      fmt::format("{} topic {} --partitions {} --dir {}", script, *topic, partitions, KafkaDir()));
  return !broker->empty();
}

// Two daemons of one consumer group reading the raw topic, each with its
// own state, alert file, log and metrics port.
struct GroupMember {
  std::string name, config, alerts, log;
  int port = 0;
  DaemonProcess proc;
};
void WriteMemberConfigs(const ScratchDir& dir, const std::string& broker, const std::string& topic,
                        const std::string& group, GroupMember (&m)[2],
                        const std::string& rules = std::string(ES_SOURCE_DIR) +
                                                   "/rules/eems_mitigation_error.yaml") {
  for (int i = 0; i < 2; ++i) {
    m[i].name = fmt::format("d{}", i);
    m[i].config = dir / (m[i].name + ".yaml");
    m[i].alerts = dir / (m[i].name + ".alerts.ndjson");
    m[i].log = dir / (m[i].name + ".log");
    m[i].port = FreePort();
    // A short session timeout so the group notices a killed member soon.
    WriteFile(m[i].config, fmt::format(R"(state_dir: {}
checkpoint_interval_ms: 200
rules: {{paths: [{}]}}
sources:
  - name: raw
    type: kafka
    brokers: "{}"
    topic: {}
    group_id: {}-{}
    properties: {{session.timeout.ms: "6000", heartbeat.interval.ms: "500"}}
sinks:
  - {{type: file, path: {}}}
metrics: {{address: "127.0.0.1:{}"}}
)",
                                       dir / (m[i].name + ".state"), rules, broker, topic, group,
                                       ::getpid(), m[i].alerts, m[i].port));
  }
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
  // Every alert this process delivered has its delivery latency in the
  // histogram: the +Inf bucket and the count equal the delivered counter
  // (read from one scrape; a delivery report may land between two counters,
  // so the scrape is retried until they agree).
  {
    const std::string kCount = "eventsift_kafka_delivery_latency_seconds_count{sink=\"kafka\"}";
    const std::string kDelivered = "eventsift_sink_delivered_total{sink=\"kafka\"}";
    std::string metrics;
    EXPECT_TRUE(WaitFor(
        [&] {
          metrics = HttpGet(port, "/metrics");
          return MetricValue(metrics, kDelivered) > 0 &&
                 MetricValue(metrics, kCount) == MetricValue(metrics, kDelivered);
        },
        seconds(10)))
        << metrics;
    EXPECT_EQ(MetricValue(metrics,
                          "eventsift_kafka_delivery_latency_seconds_bucket{sink=\"kafka\","
                          "le=\"+Inf\"}"),
              MetricValue(metrics, kCount));
    EXPECT_LE(MetricValue(metrics,
                          "eventsift_kafka_delivery_latency_seconds_bucket{sink=\"kafka\","
                          "le=\"5\"}"),
              MetricValue(metrics, kCount));
    EXPECT_GT(MetricValue(metrics, "eventsift_kafka_delivery_latency_seconds_sum{sink=\"kafka\"}"),
              0);
  }
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
  produce(batch);
  // Windows close per partition (each has its own watermark): time moves on
  // in every partition.
  for (int p = 0; p < 3; ++p) {
    std::string file = dir / "tick.txt";
    WriteFile(file, TickEvent(fmt::format("EX9{}", p), kT0 + 3 * kDay, 100 + p) + "\n");
    Capture(fmt::format("kcat -b {} -t {} -P -p {} -l {} 2>&1", broker, topic, p, file));
  }
  const std::string events = "eventsift_source_events_total{source=\"raw\",type=\"kafka\"}";
  {
    DaemonProcess d;
    d.Start(config, dir / "daemon.log");
    ASSERT_TRUE(WaitFor(
        [&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= expected.size(); }, seconds(60)))
        << ReadFile(dir / "daemon.log");
    EXPECT_EQ(MetricValue(HttpGet(port, "/metrics"), events), 9);
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

// Two daemons in one consumer group over a 4-partition raw topic: in normal
// operation each event is processed once (every alert id exactly once across
// both); after one daemon is SIGKILLed the other takes its partitions and no
// alert of the events produced afterwards is missing.
TEST(DaemonKafkaTest, ConsumerGroupSharesPartitionsAndTakesOverAfterSigkill) {
  if (KafkaDir().empty())
    GTEST_SKIP() << "ES_DAEMON_KAFKA_DIR not set (run through ctest -L kafka)";
  constexpr int kPartitions = 4;
  std::string broker, topic;
  ASSERT_TRUE(BrokerAndTopic("eventsift.group", &broker, &topic, kPartitions))
      << "broker not running";
  ASSERT_NE(Capture(fmt::format("kcat -b {} -L -t {} 2>/dev/null", broker, topic))
                .find(fmt::format("{} partitions", kPartitions)),
            std::string::npos);

  ScratchDir dir("kafkagroup");
  GroupMember m[2];
  WriteMemberConfigs(dir, broker, topic, "daemon-group-test", m);
  auto kcat = [&](const std::string& file, const std::string& how) {
    Capture(fmt::format("kcat -b {} -t {} -P {} -l {} 2>&1", broker, topic, how, file));
  };
  // EEMS events keyed by host (the default partitioner spreads the hosts).
  auto produce_hosts = [&](int first, int count, int64_t t0, std::set<std::string>* expected) {
    std::string text;
    for (int h = first; h < first + count; ++h) {
      std::string host = fmt::format("EX{:03}.contoso.com", h);
      int64_t t = t0 + h * 60;
      expected->insert(ExpectedAlertId(host, t));
      text += host + "\t" + EemsEvent(host, t, static_cast<uint64_t>(h + 1)) + "\n";
    }
    std::string file = dir / "hosts.txt";
    WriteFile(file, text);
    kcat(file, "-K '\t'");
  };
  // One tick into every partition: whoever owns it sees event time move.
  auto tick_all = [&](int64_t t, uint64_t record) {
    std::string file = dir / "tick.txt";
    for (int p = 0; p < kPartitions; ++p) {
      WriteFile(file, TickEvent(fmt::format("TICK{}", p), t, record + p) + "\n");
      kcat(file, fmt::format("-p {}", p));
    }
  };
  const std::string events = "eventsift_source_events_total{source=\"raw\",type=\"kafka\"}";
  auto count = [&](const GroupMember& x) {
    return MetricValue(HttpGet(x.port, "/metrics"), events);
  };

  m[0].proc.Start(m[0].config, m[0].log);
  m[1].proc.Start(m[1].config, m[1].log);
  // Wait until the group is settled with both members: a probe tick into
  // every partition reaches both daemons, four in all. Ticks at kT0 close
  // nothing.
  bool settled = false;
  uint64_t probe = 1000;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(40);
       !settled && std::chrono::steady_clock::now() < deadline; probe += kPartitions) {
    double before[2] = {count(m[0]), count(m[1])};
    tick_all(kT0, probe);
    WaitFor([&] { return count(m[0]) + count(m[1]) >= before[0] + before[1] + kPartitions; },
            seconds(3));
    double d0 = count(m[0]) - before[0], d1 = count(m[1]) - before[1];
    settled = before[0] >= 0 && before[1] >= 0 && d0 > 0 && d1 > 0 && d0 + d1 == kPartitions;
  }
  ASSERT_TRUE(settled) << ReadFile(m[0].log) << ReadFile(m[1].log);

  // (1) Normal operation: each alert exactly once across both daemons.
  constexpr int kHosts = 24;
  std::set<std::string> first;
  produce_hosts(0, kHosts, kT0, &first);
  tick_all(kT0 + 3 * kDay, 2000);
  auto all_ids = [&] {
    auto a = ReadAlertIds(m[0].alerts), b = ReadAlertIds(m[1].alerts);
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = all_ids();
        return std::set<std::string>(ids.begin(), ids.end()).size() >= first.size();
      },
      seconds(30)))
      << ReadFile(m[0].log) << ReadFile(m[1].log);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // checkpoints commit
  {
    auto ids = all_ids();
    EXPECT_EQ(ids.size(), first.size());  // no alert twice
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), first);
    EXPECT_FALSE(ReadAlertIds(m[0].alerts).empty());
    EXPECT_FALSE(ReadAlertIds(m[1].alerts).empty());
  }

  // (2) d1 dies; d0 takes its partitions once the session times out.
  m[1].proc.Signal(SIGKILL);
  ASSERT_EQ(m[1].proc.Wait(seconds(5)), 128 + SIGKILL);
  const size_t dead_alerts = ReadAlertIds(m[1].alerts).size();
  // Wait for the takeover (probes into every partition all reach d0) before
  // the second batch: its events would otherwise be late on d0, whose
  // watermark its own partitions' newer ticks would already have moved on.
  bool took_over = false;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(40);
       !took_over && std::chrono::steady_clock::now() < deadline; probe += kPartitions) {
    double before = count(m[0]);
    tick_all(kT0 + 3 * kDay, probe);
    took_over = WaitFor([&] { return count(m[0]) >= before + kPartitions; }, seconds(2));
  }
  ASSERT_TRUE(took_over) << ReadFile(m[0].log);
  std::set<std::string> second;
  produce_hosts(100, kHosts, kT0 + 5 * kDay, &second);
  tick_all(kT0 + 8 * kDay, 3000);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = ReadAlertIds(m[0].alerts);
        std::set<std::string> got(ids.begin(), ids.end());
        return std::includes(got.begin(), got.end(), second.begin(), second.end());
      },
      seconds(45)))
      << ReadFile(m[0].log);
  m[0].proc.Signal(SIGTERM);
  EXPECT_EQ(m[0].proc.Wait(seconds(12)), 0) << ReadFile(m[0].log);

  EXPECT_EQ(ReadAlertIds(m[1].alerts).size(), dead_alerts);
  auto ids = all_ids();
  std::set<std::string> got(ids.begin(), ids.end()), expected = first;
  expected.insert(second.begin(), second.end());
  EXPECT_EQ(got, expected);
  // At least once: only what the killed daemon had not committed may come
  // again, with the same alert_id.
  EXPECT_LE(ids.size() - got.size(), dead_alerts);
  auto survivor = ReadAlertIds(m[0].alerts);
  for (const auto& id : second)
    EXPECT_EQ(std::count(survivor.begin(), survivor.end(), id), 1) << id;
}

// Correlation state per partition. Both members read the first half of
// windows in every partition; d0's own partitions then move ten days ahead
// (their windows close there); d1 is SIGKILLed with its windows open. d0
// takes d1's partitions over and, from the offsets d1 held back for its open
// windows, reads their first halves again: although they are days older
// than d0's own partitions, they are not late, and with the second halves
// every window alerts with the alert_id and count it would have had on d1.
TEST(DaemonKafkaTest, TakenOverPartitionsKeepTheirOwnWatermarkAndOpenWindows) {
  if (KafkaDir().empty())
    GTEST_SKIP() << "ES_DAEMON_KAFKA_DIR not set (run through ctest -L kafka)";
  constexpr int kPartitions = 4;
  std::string broker, topic;
  ASSERT_TRUE(BrokerAndTopic("eventsift.lanes", &broker, &topic, kPartitions))
      << "broker not running";
  ScratchDir dir("kafkalanes");
  GroupMember m[2];
  // Window-end alerts: the windows left open by the killed member must close
  // at the other with both halves.
  WriteMemberConfigs(dir, broker, topic, "daemon-lanes-test", m, WindowEndEemsRule(dir));
  auto to_partition = [&](int p, const std::string& lines) {
    std::string file = dir / "msgs.txt";
    WriteFile(file, lines);
    Capture(fmt::format("kcat -b {} -t {} -P -p {} -l {} 2>&1", broker, topic, p, file));
  };
  const std::string events = "eventsift_source_events_total{source=\"raw\",type=\"kafka\"}";
  auto count = [&](const GroupMember& x) {
    return MetricValue(HttpGet(x.port, "/metrics"), events);
  };
  // The partitions a member owns: those it reports a consumer lag for.
  auto owned = [&](const GroupMember& x) {
    std::set<int> out;
    std::string text = HttpGet(x.port, "/metrics");
    for (int p = 0; p < kPartitions; ++p) {
      if (MetricValue(text,
                      fmt::format("eventsift_source_kafka_lag{{source=\"raw\",partition=\"{}\"}}",
                                  p)) >= 0) {
        out.insert(p);
      }
    }
    return out;
  };

  m[0].proc.Start(m[0].config, m[0].log);
  m[1].proc.Start(m[1].config, m[1].log);
  // Settled when every partition is owned by exactly one member (ticks at
  // kT0 close nothing and make the lag known).
  std::set<int> own[2];
  uint64_t probe = 1000;
  bool settled = false;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(40);
       !settled && std::chrono::steady_clock::now() < deadline; probe += kPartitions) {
    for (int p = 0; p < kPartitions; ++p)
      to_partition(p, TickEvent(fmt::format("TICK{}", p), kT0, probe + p) + "\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    own[0] = owned(m[0]);
    own[1] = owned(m[1]);
    settled = !own[0].empty() && !own[1].empty() && own[0].size() + own[1].size() == kPartitions;
  }
  ASSERT_TRUE(settled) << ReadFile(m[0].log) << ReadFile(m[1].log);
  double before = count(m[0]) + count(m[1]);

  // First halves: three hosts per partition, one hit each, windows open.
  auto host = [](int p, int k) { return fmt::format("LANE{}-{}.contoso.com", p, k); };
  auto first_time = [](int p, int k) { return kT0 + p * 600 + k * 60; };
  std::set<std::string> expected;
  for (int p = 0; p < kPartitions; ++p) {
    std::string lines;
    for (int k = 0; k < 3; ++k) {
      lines += EemsEvent(host(p, k), first_time(p, k), static_cast<uint64_t>(p * 10 + k)) + "\n";
      expected.insert(ExpectedAlertId(host(p, k), first_time(p, k)));
    }
    to_partition(p, lines);
  }
  ASSERT_TRUE(
      WaitFor([&] { return count(m[0]) + count(m[1]) >= before + 3 * kPartitions; }, seconds(30)));
  // d0's own partitions move ten days on: their windows close there.
  for (int p : own[0])
    to_partition(p, TickEvent(fmt::format("TICK{}", p), kT0 + 10 * kDay, 5000 + p) + "\n");
  ASSERT_TRUE(
      WaitFor([&] { return ReadAlertIds(m[0].alerts).size() >= 3 * own[0].size(); }, seconds(30)))
      << ReadFile(m[0].log);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // d1 checkpoints and commits
  EXPECT_TRUE(ReadAlertIds(m[1].alerts).empty());                // its windows are still open

  m[1].proc.Signal(SIGKILL);
  ASSERT_EQ(m[1].proc.Wait(seconds(5)), 128 + SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return owned(m[0]).size() == kPartitions; }, seconds(40)))
      << ReadFile(m[0].log);
  // Second halves of d1's windows, an hour after the first, then time moves
  // on in those partitions too.
  for (int p : own[1]) {
    std::string lines;
    for (int k = 0; k < 3; ++k) {
      lines +=
          EemsEvent(host(p, k), first_time(p, k) + 3600, static_cast<uint64_t>(p * 10 + k + 5)) +
          "\n";
    }
    lines += TickEvent(fmt::format("TICK{}", p), kT0 + 3 * kDay, 6000 + p) + "\n";
    to_partition(p, lines);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        auto a = ReadAlertIds(m[0].alerts), b = ReadAlertIds(m[1].alerts);
        std::set<std::string> got(a.begin(), a.end());
        got.insert(b.begin(), b.end());
        return got.size() >= expected.size();
      },
      seconds(45)))
      << ReadFile(m[0].log);
  std::string metrics = HttpGet(m[0].port, "/metrics");
  EXPECT_EQ(MetricValue(metrics, "eventsift_correlation_partitions"), kPartitions);
  // Everything produced was read: no consumer lag left on any partition.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string text = HttpGet(m[0].port, "/metrics");
        for (int p = 0; p < kPartitions; ++p) {
          if (MetricValue(text, fmt::format("eventsift_source_kafka_lag{{source=\"raw\",partition="
                                            "\"{}\"}}",
                                            p)) != 0) {
            return false;
          }
        }
        return true;
      },
      seconds(10)))
      << HttpGet(m[0].port, "/metrics");
  m[0].proc.Signal(SIGTERM);
  EXPECT_EQ(m[0].proc.Wait(seconds(12)), 0) << ReadFile(m[0].log);

  auto ids = ReadAlertIds(m[0].alerts), dead = ReadAlertIds(m[1].alerts);
  ids.insert(ids.end(), dead.begin(), dead.end());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected);
  // No alert twice here (duplicates could only be equal ids, from what d1
  // had not committed; d1 sent none).
  EXPECT_EQ(ids.size(), expected.size());
  // The windows of d1's partitions hold both halves: the first was read again.
  std::string text = ReadFile(m[0].alerts);
  for (int p : own[1]) {
    for (int k = 0; k < 3; ++k) {
      std::string id = ExpectedAlertId(host(p, k), first_time(p, k));
      size_t at = text.find(id);
      ASSERT_NE(at, std::string::npos) << id;
      size_t bol = text.rfind('\n', at);
      bol = bol == std::string::npos ? 0 : bol + 1;
      std::string line = text.substr(bol, text.find('\n', at) - bol);
      EXPECT_NE(line.find("\"count\":2"), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace eventsift::daemon_test

namespace eventsift::daemon_test {
namespace {

// winlog.record_id of each message on an events topic.
std::vector<uint64_t> TopicRecordIds(const std::string& broker, const std::string& topic) {
  std::string text =
      Capture(fmt::format("kcat -b {} -t {} -C -e -q -f '%s\\n' 2>/dev/null", broker, topic));
  std::vector<uint64_t> ids;
  const std::string key = "\"record_id\":";
  for (size_t p = text.find(key); p != std::string::npos; p = text.find(key, p)) {
    p += key.size();
    ids.push_back(std::strtoull(text.c_str() + p, nullptr, 10));
  }
  return ids;
}

std::string EventsConfig(const ScratchDir& dir, const std::string& broker,
                         const std::string& alerts_topic, const std::string& events_brokers,
                         const std::string& events_topic, int port) {
  return fmt::format(R"(state_dir: {}
checkpoint_interval_ms: 200
shutdown_timeout_ms: 10000
rules: {{paths: [{}/rules/eems_mitigation_error.yaml]}}
sources:
  - {{name: drop, type: directory, path: {}, include: ["*.ndjson"]}}
sinks:
  - {{type: kafka, brokers: {}, topic: {}}}
events:
  type: kafka
  brokers: {}
  topic: {}
metrics: {{address: "127.0.0.1:{}"}}
)",
                     dir / "state", ES_SOURCE_DIR, dir / "in", broker, alerts_topic, events_brokers,
                     events_topic, port);
}

// Every event reaches the events topic across a SIGKILL and a restart (at
// least once: duplicates only from the last checkpoint interval), and every
// alert its own topic.
TEST(DaemonKafkaTest, EventsTopicGetsEveryEventAcrossSigkill) {
  if (KafkaDir().empty())
    GTEST_SKIP() << "ES_DAEMON_KAFKA_DIR not set (run through ctest -L kafka)";
  std::string broker, alerts, events;
  ASSERT_TRUE(BrokerAndTopic("eventsift.daemon.ev.alerts", &broker, &alerts));
  ASSERT_TRUE(BrokerAndTopic("eventsift.daemon.ev.events", &broker, &events));
  ScratchDir dir("kafka_events");
  std::filesystem::create_directories(dir / "in");
  std::string config = dir / "eventsift.yaml";
  WriteFile(config, EventsConfig(dir, broker, alerts, broker, events, FreePort()));
  constexpr int kHosts = 20;
  std::set<uint64_t> expected;
  auto round = [&](int r) {
    std::string s;
    for (int h = 0; h < kHosts; ++h) {
      const uint64_t id = static_cast<uint64_t>(r * kHosts + h + 1);
      expected.insert(id);
      s += EemsEvent(fmt::format("EX{:02}.contoso.com", h), kT0 + r * 3 * kDay + h * 60, id) + "\n";
    }
    return s;
  };
  auto all_there = [&] {
    auto ids = TopicRecordIds(broker, events);
    std::set<uint64_t> got(ids.begin(), ids.end());
    return std::includes(got.begin(), got.end(), expected.begin(), expected.end());
  };
  std::string in = dir / "in/a.ndjson";
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  AppendFile(in, round(0) + round(1));
  ASSERT_TRUE(WaitFor(all_there, seconds(60))) << ReadFile(dir / "daemon.log");
  AppendFile(in, round(2));
  d.Signal(SIGKILL);
  ASSERT_EQ(d.Wait(seconds(5)), 128 + SIGKILL);
  AppendFile(in, round(3));
  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor(all_there, seconds(60))) << ReadFile(dir / "daemon.log");
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(12)), 0);
  auto ids = TopicRecordIds(broker, events);
  std::set<uint64_t> got(ids.begin(), ids.end());
  EXPECT_EQ(got, expected) << "every event, none foreign";
  EXPECT_LE(ids.size() - got.size(), static_cast<size_t>(2 * kHosts))
      << "re-sent only what was read after the last checkpoint";
  EXPECT_GE(TopicAlertIds(broker, alerts).size(), static_cast<size_t>(3 * kHosts));
}

// With the events brokers unreachable, the events are spooled and the
// alerts still arrive, all of them.
TEST(DaemonKafkaTest, AlertsCompleteWhileEventsBrokerDown) {
  if (KafkaDir().empty())
    GTEST_SKIP() << "ES_DAEMON_KAFKA_DIR not set (run through ctest -L kafka)";
  std::string broker, alerts;
  ASSERT_TRUE(BrokerAndTopic("eventsift.daemon.evdown.alerts", &broker, &alerts));
  ScratchDir dir("kafka_events_down");
  std::filesystem::create_directories(dir / "in");
  const int port = FreePort();
  std::string config = dir / "eventsift.yaml";
  WriteFile(config, EventsConfig(dir, broker, alerts, fmt::format("127.0.0.1:{}", FreePort()),
                                 "eventsift.events", port));
  constexpr int kHosts = 30;
  std::set<std::string> expected;
  std::string text;
  for (int r = 0; r < 2; ++r) {
    for (int h = 0; h < kHosts; ++h) {
      std::string host = fmt::format("EX{:02}.contoso.com", h);
      const int64_t t = kT0 + r * 3 * kDay + h * 60;
      // Round 1's windows stay open, but the shipped rule is `emit:
      // immediate`: their alerts are out too.
      expected.insert(ExpectedAlertId(host, t));
      text += EemsEvent(host, t, static_cast<uint64_t>(r * kHosts + h + 1)) + "\n";
    }
  }
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  AppendFile(dir / "in/a.ndjson", text);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = TopicAlertIds(broker, alerts);
        return std::set<std::string>(ids.begin(), ids.end()) == expected;
      },
      seconds(60)))
      << ReadFile(dir / "daemon.log");
  std::string metrics;
  EXPECT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet(port, "/metrics");
        return MetricValue(metrics, "eventsift_events_sink_spooled_total{sink=\"kafka\"}") ==
               2 * kHosts;
      },
      seconds(20)))
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "eventsift_events_sink_delivered_total{sink=\"kafka\"}"), 0);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(12)), 0);
}

}  // namespace
}  // namespace eventsift::daemon_test
