// `eventsift daemon` as a process: files dropped and appended, SIGKILL and
// restart, rotation and truncation, SIGHUP reloads, /metrics, SIGTERM, stdin
// and TCP. Alerts go to an NDJSON file sink; expected alert ids are computed
// from the correlation rules (24 h tumbling windows from a host's first hit,
// 24 h suppression) with the same recipe as the correlator.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "src/alert/alert_id.h"
#include "src/core/time_util.h"
#include "tests/daemon/daemon_harness.h"
#include "tests/unit/source/tls_test_util.h"

namespace eventsift::daemon_test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kT0 = 1714557600;  // 2024-05-01T10:00:00Z
constexpr int64_t kDay = 86400;
const std::string kRule = std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml";

struct DaemonSetup {
  explicit DaemonSetup(std::string sources_yaml, std::string rules_path = kRule)
      : sources(std::move(sources_yaml)), rules(std::move(rules_path)) {}
  std::string sources;  // YAML list items
  std::string rules;
  int64_t checkpoint_ms = 200;
  std::string extra;
};

// Writes <dir>/eventsift.yaml and returns its path; metrics on `port`.
std::string WriteConfig(const ScratchDir& dir, int port, const DaemonSetup& s) {
  std::string path = dir / "eventsift.yaml";
  WriteFile(path, fmt::format(R"(state_dir: {}
checkpoint_interval_ms: {}
shutdown_timeout_ms: 5000
rules:
  paths: [{}]
sources:
{}
sinks:
  - type: file
    path: {}
metrics:
  address: 127.0.0.1:{}
log:
  format: json
{})",
                              dir / "state", s.checkpoint_ms, s.rules, s.sources,
                              dir / "alerts.ndjson", port, s.extra));
  return path;
}

std::string DirSourceYaml(const std::string& path, const std::string& include = "[\"*.ndjson\"]") {
  return fmt::format(
      "  - name: drop\n    type: directory\n    path: {}\n    include: {}\n    rotate_wait_ms: "
      "300\n",
      path, include);
}

// A tcp source named "net" on 127.0.0.1:port, `extra` YAML lines appended.
std::string TcpSourceYaml(int port, const std::string& extra = "") {
  return fmt::format("  - name: net\n    type: tcp\n    address: 127.0.0.1\n    port: {}\n{}", port,
                     extra);
}

double Metric(int port, const std::string& sample) {
  return MetricValue(HttpGet(port, "/metrics"), sample);
}

const char kDropLines[] = "eventsift_source_lines_total{source=\"drop\",type=\"directory\"}";
const char kDropEvents[] = "eventsift_source_events_total{source=\"drop\",type=\"directory\"}";

TEST(DaemonProcessTest, DroppedAndAppendedFilesProduceAlertsAndMetrics) {
  ScratchDir dir("drop");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");

  // A file dropped whole (written elsewhere, renamed in), one appended to.
  std::string a = EemsEvent("EX01.contoso.com", kT0, 1) + "\n" +
                  EemsEvent("EX01.contoso.com", kT0 + 3600, 2) + "\n" +
                  EemsEvent("EX02.contoso.com", kT0 + 7200, 3) + "\n";
  WriteFile(dir / "a.tmp", a);
  std::filesystem::rename(dir / "a.tmp", dir / "in/a.ndjson");
  AppendFile(dir / "in/b.ndjson", EemsEvent("ex03.contoso.com", kT0 + 10000, 1) + "\n");
  AppendFile(dir / "in/b.ndjson", EemsEvent("EX01.contoso.com", kT0 + 7200, 2) + "\n");
  // Event time moves past the windows' end + one window: they close.
  AppendFile(dir / "in/b.ndjson", TickEvent("EX09.contoso.com", kT0 + 3 * kDay, 3) + "\n");

  std::set<std::string> expected = {ExpectedAlertId("EX01.contoso.com", kT0),
                                    ExpectedAlertId("EX02.contoso.com", kT0 + 7200),
                                    ExpectedAlertId("ex03.contoso.com", kT0 + 10000)};
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= 3; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  // The alerts are immediate: they need not wait for the tick, the windows'
  // close or the first checkpoint, which the metrics below show.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string text = HttpGet(port, "/metrics");
        return MetricValue(text, kDropEvents) == 6 &&
               MetricValue(text, "eventsift_checkpoint_age_seconds") >= 0 &&
               MetricValue(text, "eventsift_watermark_seconds") == kT0 + 2 * kDay;
      },
      seconds(10)))
      << HttpGet(port, "/metrics");
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected);
  EXPECT_EQ(ids.size(), 3u);

  std::string m = HttpGet(port, "/metrics");
  EXPECT_EQ(MetricValue(m, kDropLines), 6);
  EXPECT_EQ(MetricValue(m, kDropEvents), 6);
  EXPECT_EQ(MetricValue(m, "eventsift_source_bytes_total{source=\"drop\",type=\"directory\"}"),
            static_cast<double>(ReadFile(dir / "in/a.ndjson").size() +
                                ReadFile(dir / "in/b.ndjson").size()));
  EXPECT_EQ(
      MetricValue(m, "eventsift_source_parse_errors_total{source=\"drop\",type=\"directory\"}"), 0);
  EXPECT_EQ(MetricValue(m, "eventsift_rule_hits_total{rule=\"eems_mitigation_error\"}"), 5);
  EXPECT_EQ(MetricValue(m, "eventsift_alerts_total"), 3);
  EXPECT_EQ(MetricValue(m, "eventsift_sink_delivered_total{sink=\"file\"}"), 3);
  EXPECT_GE(MetricValue(m, "eventsift_checkpoint_age_seconds"), 0);
  EXPECT_EQ(MetricValue(m, "eventsift_max_event_time_seconds"),
            static_cast<double>(kT0 + 3 * kDay));
  EXPECT_EQ(MetricValue(m, "eventsift_watermark_seconds"), static_cast<double>(kT0 + 2 * kDay));
  EXPECT_EQ(HttpGet(port, "/healthz"), "ok\n");

  // SIGTERM: drain, checkpoint, exit 0 within the configured bound (5 s).
  auto start = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0) << ReadFile(dir / "daemon.log");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_TRUE(std::filesystem::exists(dir / "state/state.json"));
  EXPECT_NE(ReadFile(dir / "daemon.log").find("\"msg\":\"stopped\""), std::string::npos);
}

TEST(DaemonProcessTest, SigkillMidStreamThenRestartDeliversEveryAlert) {
  ScratchDir dir("kill");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in")});
  constexpr int kHosts = 40;
  constexpr int kRounds = 6;  // one window per host every 3 days (no suppression)
  std::set<std::string> expected;
  std::vector<std::string> batches;
  uint64_t record = 0;
  for (int r = 0; r < kRounds; ++r) {
    std::string batch;
    for (int h = 0; h < kHosts; ++h) {
      std::string host = fmt::format("EX{:02}.contoso.com", h);
      int64_t t = kT0 + r * 3 * kDay + h * 60;
      expected.insert(ExpectedAlertId(host, t));
      record += 2;
      batch += EemsEvent(host, t, record - 1) + "\n" + EemsEvent(host, t + 600, record) + "\n";
    }
    batches.push_back(batch);
  }
  auto file_of = [&](int r) { return dir / fmt::format("in/host-{}.ndjson", r % 3); };

  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  // Round r's alerts come out once round r+1's events move time on.
  for (int r = 0; r < 3; ++r) AppendFile(file_of(r), batches[r]);
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= 2 * kHosts; },
                      seconds(15)))
      << ReadFile(dir / "daemon.log");
  // A checkpoint after those alerts (written, or the state on disk found
  // current): the bound on duplicates below is what came after the last
  // checkpoint, and a kill before the first one would repeat everything
  // (the daemon reads these rounds faster than its checkpoint interval).
  const auto alerts_seen = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        const double age = Metric(port, "eventsift_checkpoint_age_seconds");
        const double since =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - alerts_seen).count();
        return age >= 0 && age + 0.05 < since;
      },
      seconds(10)));
  AppendFile(file_of(3), batches[3]);
  d.Signal(SIGKILL);  // mid-stream: round 3 may be partly read
  EXPECT_EQ(d.Wait(seconds(5)), 128 + SIGKILL);
  size_t before_restart = ReadAlertIds(dir / "alerts.ndjson").size();

  // While it is down, more arrives.
  AppendFile(file_of(4), batches[4]);
  AppendFile(file_of(5), batches[5]);
  AppendFile(file_of(0),
             TickEvent("EX99.contoso.com", kT0 + (kRounds * 3 + 2) * kDay, ++record) + "\n");
  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = ReadAlertIds(dir / "alerts.ndjson");
        return std::set<std::string>(ids.begin(), ids.end()).size() >= expected.size();
      },
      seconds(20)))
      << ReadFile(dir / "daemon.log");
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(6)), 0);

  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  std::set<std::string> got(ids.begin(), ids.end());
  EXPECT_EQ(got, expected);
  // Duplicates are bounded by what was emitted after the last checkpoint
  // before the kill: at most the alerts of the batch in flight.
  size_t duplicates = ids.size() - got.size();
  EXPECT_LE(duplicates, static_cast<size_t>(kHosts)) << "before restart: " << before_restart;
  RecordProperty("duplicates", static_cast<int>(duplicates));
}

TEST(DaemonProcessTest, RotationAndTruncationLoseAndRepeatNoLine) {
  ScratchDir dir("rotate");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in", "[\"app.ndjson\"]")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  uint64_t record = 0;
  auto lines = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      ++record;
      s += TickEvent("EX01.contoso.com", kT0 + static_cast<int64_t>(record), record) + "\n";
    }
    return s;
  };
  std::string app = dir / "in/app.ndjson";
  AppendFile(app, lines(100));
  ASSERT_TRUE(WaitFor([&] { return Metric(port, kDropLines) == 100; }, seconds(10)))
      << ReadFile(dir / "daemon.log");

  // Rename rotation: the old file gets late writes, the new one starts.
  AppendFile(app, lines(10));
  std::filesystem::rename(app, app + ".1");
  AppendFile(app, lines(50));
  AppendFile(app + ".1", lines(5));
  ASSERT_TRUE(WaitFor([&] { return Metric(port, kDropLines) == 165; }, seconds(10)));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric(port,
                      "eventsift_source_rotations_total{source=\"drop\",type=\"directory\"}") == 1;
      },
      seconds(10)));

  // copytruncate: the file shrinks to 0 and is written again.
  std::filesystem::resize_file(app, 0);
  AppendFile(app, lines(20));
  ASSERT_TRUE(WaitFor([&] { return Metric(port, kDropLines) == 185; }, seconds(10)));
  EXPECT_EQ(Metric(port, "eventsift_source_truncations_total{source=\"drop\",type=\"directory\"}"),
            1);
  // Nothing is read twice later either.
  std::this_thread::sleep_for(milliseconds(1500));
  std::string m = HttpGet(port, "/metrics");
  EXPECT_EQ(MetricValue(m, kDropLines), 185);
  EXPECT_EQ(MetricValue(m, kDropEvents), 185);
  EXPECT_EQ(
      MetricValue(m, "eventsift_source_parse_errors_total{source=\"drop\",type=\"directory\"}"), 0);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

TEST(DaemonProcessTest, SighupReloadsValidRulesAndRefusesInvalidOnes) {
  ScratchDir dir("hup");
  std::filesystem::create_directories(dir / "in");
  std::filesystem::create_directories(dir / "rules");
  std::string rule_text = ReadFile(kRule);
  WriteFile(dir / "rules/eems.yaml", rule_text);
  int port = FreePort();
  DaemonSetup setup{DirSourceYaml(dir / "in"), dir / "rules"};
  std::string config = WriteConfig(dir, port, setup);
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)));

  // An invalid rule file: refused, the old rules keep running.
  WriteFile(dir / "rules/bad.yaml", "id: broken\nmatch: {event_ids: [\"not a number\"]}\n");
  d.Signal(SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_reloads_total{result=\"refused\"}") == 1; },
              seconds(10)))
      << ReadFile(dir / "daemon.log");
  EXPECT_NE(ReadFile(dir / "daemon.log").find("reload refused"), std::string::npos);
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n");
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric(port, "eventsift_rule_hits_total{rule=\"eems_mitigation_error\"}") == 1;
      },
      seconds(10)));

  // An invalid config file: refused too.
  std::string good_config = ReadFile(config);
  WriteFile(config, good_config + "unknown_key: 1\n");
  d.Signal(SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_reloads_total{result=\"refused\"}") == 2; },
              seconds(10)));
  EXPECT_NE(ReadFile(dir / "daemon.log").find("unknown_key: unknown key"), std::string::npos);
  WriteFile(config, good_config);

  // A valid new rule: loaded, and it sees the next events. The directory
  // source's settings change too: it is replaced and resumes where the old
  // one stopped (its counters start again at 0).
  std::string changed = good_config;
  changed.replace(changed.find("rotate_wait_ms: 300"), 19, "rotate_wait_ms: 400");
  WriteFile(config, changed);
  std::filesystem::remove(dir / "rules/bad.yaml");
  std::string copy = rule_text;
  copy.replace(copy.find("id: eems_mitigation_error"), 25, "id: eems_copy");
  WriteFile(dir / "rules/copy.yaml", copy);
  d.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Metric(port, "eventsift_reloads_total{result=\"ok\"}") == 1; },
                      seconds(10)))
      << ReadFile(dir / "daemon.log");
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0 + 60, 2) + "\n");
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_rule_hits_total{rule=\"eems_copy\"}") == 1; },
              seconds(10)))
      << HttpGet(port, "/metrics");
  EXPECT_EQ(Metric(port, "eventsift_rule_hits_total{rule=\"eems_mitigation_error\"}"), 2);
  EXPECT_EQ(Metric(port, kDropLines), 1);  // the first line was not read again
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// A reload refused because a new source cannot start (its port is taken, or
// a directory listed after unchanged sources is missing) leaves every running
// source as it was: the directory is still read, the TCP listener still takes
// lines on the old connection and on new ones, and the daemon stays up.
TEST(DaemonProcessTest, RefusedReloadKeepsEverySourceRunning) {
  ScratchDir dir("hup-refused");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  int tcp_port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in") + TcpSourceYaml(tcp_port)});
  const std::string good_config = ReadFile(config);
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  int peer = -1;
  ASSERT_TRUE(WaitFor([&] { return (peer = ConnectTcp(tcp_port)) >= 0; }, seconds(10)));
  const char kNetLines[] = "eventsift_source_lines_total{source=\"net\",type=\"tcp\"}";
  uint64_t record = 0;
  // One line into each source; both must be counted.
  auto feed_both = [&](int fd, double expect_each) {
    ++record;
    AppendFile(dir / "in/a.ndjson",
               TickEvent("EX01", kT0 + 60 * static_cast<int64_t>(record), record) + "\n");
    ++record;
    EXPECT_TRUE(
        SendAll(fd, TickEvent("EX02", kT0 + 60 * static_cast<int64_t>(record), record) + "\n"));
    EXPECT_TRUE(WaitFor(
        [&] {
          return Metric(port, kDropLines) == expect_each && Metric(port, kNetLines) == expect_each;
        },
        seconds(10)))
        << HttpGet(port, "/metrics") << ReadFile(dir / "daemon.log");
  };
  feed_both(peer, 1);

  // The TCP source moves to a port another process holds.
  int busy_port = FreePort();
  int holder = ListenTcp(busy_port);
  ASSERT_GE(holder, 0);
  std::string moved = good_config;
  moved.replace(moved.find(fmt::format("port: {}", tcp_port)),
                fmt::format("port: {}", tcp_port).size(), fmt::format("port: {}", busy_port));
  WriteFile(config, moved);
  d.Signal(SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_reloads_total{result=\"refused\"}") == 1; },
              seconds(10)))
      << ReadFile(dir / "daemon.log");
  feed_both(peer, 2);
  int peer2 = ConnectTcp(tcp_port);
  ASSERT_GE(peer2, 0) << "the old listener no longer accepts";
  feed_both(peer2, 3);
  ::close(holder);

  // A third source, after the unchanged ones, points at a missing directory.
  std::string missing = good_config;
  missing.replace(missing.find("sinks:"), 6,
                  fmt::format("  - name: extra\n    type: directory\n    path: {}\nsinks:",
                              dir / "no-such-dir"));
  WriteFile(config, missing);
  d.Signal(SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, "eventsift_reloads_total{result=\"refused\"}") == 2; },
              seconds(10)))
      << ReadFile(dir / "daemon.log");
  EXPECT_NE(ReadFile(dir / "daemon.log").find("not a readable directory"), std::string::npos);
  feed_both(peer, 4);
  feed_both(peer2, 5);
  ::close(peer);
  ::close(peer2);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0) << ReadFile(dir / "daemon.log");
}

// 500 idle peers on a listener with max_connections 64 cannot keep a real
// sender out: once they have idled past min_idle_to_evict, the sender takes
// the slot of the longest-idle one, and every line it sends is read.
TEST(DaemonProcessTest, IdlePeersCannotKeepARealSenderOut) {
  ScratchDir dir("tcp-idle");
  int port = FreePort();
  int tcp_port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{TcpSourceYaml(tcp_port, "    max_connections: 64\n")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  int probe = -1;
  ASSERT_TRUE(WaitFor([&] { return (probe = ConnectTcp(tcp_port)) >= 0; }, seconds(10)));
  std::vector<int> idle{probe};
  for (int i = 1; i < 500; ++i) {
    int fd = ConnectTcp(tcp_port);
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  const std::string accepted =
      "eventsift_source_connections_accepted_total{source=\"net\",type=\"tcp\"}";
  const std::string rejected =
      "eventsift_source_connections_rejected_total{source=\"net\",type=\"tcp\"}";
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, accepted) + Metric(port, rejected) == 500; }, seconds(10)))
      << HttpGet(port, "/metrics");
  // Let the idle peers become evictable (min_idle_to_evict is 1 s).
  std::this_thread::sleep_for(milliseconds(1500));
  int sender = ConnectTcp(tcp_port);
  ASSERT_GE(sender, 0);
  std::string lines;
  for (int i = 0; i < 100; ++i)
    lines += TickEvent("EX01", kT0 + i, static_cast<uint64_t>(i) + 1) + "\n";
  ASSERT_TRUE(SendAll(sender, lines));
  ::close(sender);
  EXPECT_TRUE(WaitFor(
      [&] {
        return Metric(port, "eventsift_source_lines_total{source=\"net\",type=\"tcp\"}") == 100;
      },
      seconds(10)))
      << HttpGet(port, "/metrics");
  EXPECT_GE(Metric(port, "eventsift_source_connections_evicted_total{source=\"net\",type=\"tcp\"}"),
            1);
  for (int fd : idle) ::close(fd);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// idle_timeout_ms closes a peer that sends nothing, after delivering what it
// sent before (its last line without a newline too).
TEST(DaemonProcessTest, IdleTimeoutClosesSilentPeersAfterDeliveringTheirLines) {
  ScratchDir dir("tcp-idle-timeout");
  int port = FreePort();
  int tcp_port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{TcpSourceYaml(tcp_port, "    idle_timeout_ms: 300\n")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  int fd = -1;
  ASSERT_TRUE(WaitFor([&] { return (fd = ConnectTcp(tcp_port)) >= 0; }, seconds(10)));
  ASSERT_TRUE(SendAll(fd, TickEvent("EX01", kT0, 1) + "\n" + TickEvent("EX01", kT0 + 1, 2)));
  // The daemon closes the connection: the read sees end of stream.
  timeval limit{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  char b;
  EXPECT_EQ(::recv(fd, &b, 1, 0), 0);
  ::close(fd);
  EXPECT_TRUE(WaitFor(
      [&] {
        return Metric(
                   port,
                   "eventsift_source_connections_idle_closed_total{source=\"net\",type=\"tcp\"}") ==
               1;
      },
      seconds(10)));
  EXPECT_EQ(Metric(port, "eventsift_source_lines_total{source=\"net\",type=\"tcp\"}"), 2);
  EXPECT_EQ(Metric(port, "eventsift_parse_errors_total"), 0);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// /healthz answers while 500 idle clients and a few trickling ones are
// connected to the metrics port (it used to wait 4.7 s for 8 of them and
// stop answering at 500).
TEST(DaemonProcessTest, IdleMetricsClientsDoNotStallHealthz) {
  ScratchDir dir("metrics-idle");
  int port = FreePort();
  std::filesystem::create_directories(dir / "in");
  std::string config = WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)));
  std::vector<int> clients;
  for (int i = 0; i < 500; ++i) {
    int fd = ConnectTcp(port);
    ASSERT_GE(fd, 0) << i;
    if (i % 100 == 0) {
      EXPECT_TRUE(SendAll(fd, "GET /healthz HTTP/1.1\r\n"));  // never finished
    }
    clients.push_back(fd);
  }
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(HttpGet(port, "/healthz"), "ok\n") << "round " << round;
  }
  for (int fd : clients) ::close(fd);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

TEST(DaemonProcessTest, StdinPipelineClosesWindowsAtEof) {
  ScratchDir dir("stdin");
  int port = FreePort();
  std::string config = WriteConfig(dir, port, DaemonSetup{"  - name: in\n    type: stdin\n"});
  WriteFile(dir / "input.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n" + "not json\n" +
                                      EemsEvent("EX02", kT0 + 60, 2) + "\n");
  DaemonProcess d;
  d.Start(config, dir / "daemon.log", dir / "input.ndjson");
  ASSERT_EQ(d.Wait(seconds(10)), 0) << ReadFile(dir / "daemon.log");
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  std::set<std::string> expected = {ExpectedAlertId("EX01.contoso.com", kT0),
                                    ExpectedAlertId("EX02", kT0 + 60)};
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected);
  EXPECT_NE(ReadFile(dir / "daemon.log").find("input error"), std::string::npos);
}

// The lines of an NDJSON alert file that carry `"revision":N`.
std::vector<std::string> AlertLinesWithRevision(const std::string& path, int revision) {
  std::vector<std::string> out;
  std::istringstream in(ReadFile(path));
  const std::string key = fmt::format("\"revision\":{}", revision);
  for (std::string line; std::getline(in, line);) {
    if (line.find(key) != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST(DaemonProcessTest, ImmediateAlertLeavesBeforeItsWindowClosesThenOneFollowUp) {
  // The shipped EEMS rule has threshold 1, so `emit: immediate` by default:
  // its alert must not wait for the 24 h window (plus lateness) to close.
  ScratchDir dir("immediate");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  const std::string id = ExpectedAlertId("EX01.contoso.com", kT0);
  const auto sent = std::chrono::steady_clock::now();
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n");
  ASSERT_TRUE(WaitFor([&] { return !AlertLinesWithRevision(dir / "alerts.ndjson", 1).empty(); },
                      seconds(10)))
      << ReadFile(dir / "daemon.log");
  // Generous for a loaded CI machine; the latency is measured in bench/.
  EXPECT_LT(std::chrono::steady_clock::now() - sent, seconds(5));
  auto first = AlertLinesWithRevision(dir / "alerts.ndjson", 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].find(id), std::string::npos) << first[0];
  EXPECT_NE(first[0].find("\"count\":1,"), std::string::npos) << first[0];
  EXPECT_LT(Metric(port, "eventsift_watermark_seconds"), static_cast<double>(kT0 + kDay))
      << "the window must still be open";

  // Two more hits in the same window, then event time moves past its close.
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0 + 3600, 2) + "\n" +
                                      EemsEvent("EX01.contoso.com", kT0 + 7200, 3) + "\n");
  AppendFile(dir / "in/a.ndjson", TickEvent("EX09.contoso.com", kT0 + 3 * kDay, 4) + "\n");
  ASSERT_TRUE(WaitFor([&] { return !AlertLinesWithRevision(dir / "alerts.ndjson", 2).empty(); },
                      seconds(10)))
      << ReadFile(dir / "daemon.log");
  auto follow = AlertLinesWithRevision(dir / "alerts.ndjson", 2);
  ASSERT_EQ(follow.size(), 1u);
  EXPECT_NE(follow[0].find(id), std::string::npos) << follow[0];
  EXPECT_NE(follow[0].find("\"count\":3,"), std::string::npos) << follow[0];
  // One alert per window for consumers that de-duplicate on alert_id.
  EXPECT_EQ(ReadAlertIds(dir / "alerts.ndjson"), std::vector<std::string>{id});
  EXPECT_EQ(Metric(port, "eventsift_alerts_total"), 1);
  EXPECT_EQ(Metric(port, "eventsift_alert_followups_total"), 1);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0) << ReadFile(dir / "daemon.log");
  // Nothing more at exit: the window was already closed and followed up.
  EXPECT_EQ(AlertLinesWithRevision(dir / "alerts.ndjson", 2).size(), 1u);
  EXPECT_EQ(AlertLinesWithRevision(dir / "alerts.ndjson", 1).size(), 1u);
}

TEST(DaemonProcessTest, WindowEndRuleWaitsForItsWindow) {
  ScratchDir dir("window-end");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in"), WindowEndEemsRule(dir)});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n");
  ASSERT_TRUE(WaitFor([&] { return Metric(port, kDropEvents) == 1; }, seconds(10)));
  std::this_thread::sleep_for(milliseconds(1500));  // several drains
  EXPECT_TRUE(ReadAlertIds(dir / "alerts.ndjson").empty());
  AppendFile(dir / "in/a.ndjson", TickEvent("EX09.contoso.com", kT0 + 3 * kDay, 2) + "\n");
  ASSERT_TRUE(WaitFor([&] { return !ReadAlertIds(dir / "alerts.ndjson").empty(); }, seconds(10)));
  EXPECT_EQ(ReadFile(dir / "alerts.ndjson").find("revision"), std::string::npos);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

TEST(DaemonProcessTest, StateRulesRaiseNoAlert) {
  // The whole shipped rule pack, including the EEMS success rule (kind:
  // state): a host with only successes gets no alert, one with errors does.
  ScratchDir dir("state-rules");
  int port = FreePort();
  // Both shipped rules of our format (rules/sigma/ holds the same EEMS rule
  // in Sigma form, which would alert a second time).
  DaemonSetup setup{"  - name: in\n    type: stdin\n",
                    std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml, " +
                        ES_SOURCE_DIR + "/rules/eems_mitigation_success.yaml"};
  std::string config = WriteConfig(dir, port, setup);
  std::string success = EemsEvent("EX03.contoso.com", kT0 + 120, 3);
  const std::string from = "\"event_id\":\"1008\"";
  success.replace(success.find(from), from.size(), "\"event_id\":\"1005\"");
  success.replace(success.find("\"error\""), 7, "\"information\"");
  WriteFile(dir / "input.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n" + success + "\n");
  DaemonProcess d;
  d.Start(config, dir / "daemon.log", dir / "input.ndjson");
  ASSERT_EQ(d.Wait(seconds(10)), 0) << ReadFile(dir / "daemon.log");
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            std::set<std::string>{ExpectedAlertId("EX01.contoso.com", kT0)});
  const std::string alerts = ReadFile(dir / "alerts.ndjson");
  EXPECT_EQ(alerts.find("eems_mitigation_success"), std::string::npos) << alerts;
}

TEST(DaemonProcessTest, SigmaRuleAlertsCarryItsMetadata) {
  // The EEMS rule in Sigma form (rules/sigma/; without the correlation
  // beside it, through which it would alert) mixed with a folder holding
  // a Sigma rule the daemon cannot run: that one is refused and logged, the
  // other loads, and its alerts carry the Sigma id, level, tags and status.
  ScratchDir dir("sigma");
  std::filesystem::create_directories(dir / "rules");
  WriteFile(dir / "rules/refused.yml",
            "title: t\nid: 0a0a0a0a-0000-4000-8000-000000000001\nlogsource:\n  product: linux\n"
            "detection:\n  s:\n    a: b\n  condition: s\n");
  int port = FreePort();
  DaemonSetup setup{"  - name: in\n    type: stdin\n",
                    std::string(ES_SOURCE_DIR) + "/rules/sigma/eems_mitigation_error.yml, " +
                        std::string(dir / "rules")};
  std::string config = WriteConfig(dir, port, setup);
  WriteFile(dir / "input.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n" +
                                      EemsEvent("EX01.contoso.com", kT0 + 60, 2) + "\n" +
                                      EemsEvent("EX02.contoso.com", kT0, 3) + "\n");
  DaemonProcess d;
  d.Start(config, dir / "daemon.log", dir / "input.ndjson");
  ASSERT_EQ(d.Wait(seconds(10)), 0) << ReadFile(dir / "daemon.log");
  const std::string log = ReadFile(dir / "daemon.log");
  EXPECT_NE(log.find("sigma rule refused"), std::string::npos) << log;
  EXPECT_NE(log.find("product 'linux'"), std::string::npos) << log;
  const std::string id = "6f3e9b1c-2d4a-4c8e-9a51-0e1b7c2d8f01";
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            (std::set<std::string>{
                ComputeAlertId(id, "ex01.contoso.com", FileTimeFromUnixMillis(kT0 * 1000)),
                ComputeAlertId(id, "ex02.contoso.com", FileTimeFromUnixMillis(kT0 * 1000))}));
  const std::string alerts = ReadFile(dir / "alerts.ndjson");
  EXPECT_NE(alerts.find("\"format\":\"sigma\""), std::string::npos) << alerts;
  EXPECT_NE(alerts.find("\"severity\":\"high\""), std::string::npos) << alerts;
  EXPECT_NE(alerts.find("\"status\":\"stable\""), std::string::npos) << alerts;
  EXPECT_NE(alerts.find("\"tags\":[\"attack.defense-evasion\",\"attack.t1562.001\"]"),
            std::string::npos)
      << alerts;
  EXPECT_NE(alerts.find("\"count\":2"), std::string::npos) << alerts;  // EX01's two hits
  EXPECT_NE(alerts.find("\"matched\":{\"Provider_Name\":\"MSExchange Mitigation Service\""),
            std::string::npos)
      << alerts;
}

TEST(DaemonProcessTest, TcpListenerFeedsThePipeline) {
  ScratchDir dir("tcp");
  int port = FreePort();
  int tcp_port = FreePort();
  std::string config = WriteConfig(dir, port, DaemonSetup{TcpSourceYaml(tcp_port)});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  int fd = -1;
  ASSERT_TRUE(WaitFor([&] { return (fd = ConnectTcp(tcp_port)) >= 0; }, seconds(10)));
  std::string data =
      EemsEvent("EX01.contoso.com", kT0, 1) + "\n" + TickEvent("EX01", kT0 + 3 * kDay, 2) + "\n";
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() == 1; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  EXPECT_EQ(ReadAlertIds(dir / "alerts.ndjson")[0], ExpectedAlertId("EX01.contoso.com", kT0));
  EXPECT_EQ(Metric(port, "eventsift_source_lines_total{source=\"net\",type=\"tcp\"}"), 2);
  ::close(fd);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// Repeated input errors are logged at most log.max_repeats_per_minute times
// per source and kind; the rest are counted in /metrics.
TEST(DaemonProcessTest, RepeatedInputErrorsAreRateLimitedInTheLog) {
  ScratchDir dir("ratelimit");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  DaemonSetup setup{DirSourceYaml(dir / "in")};
  setup.extra = "  max_repeats_per_minute: 3\n";
  std::string config = WriteConfig(dir, port, setup);
  std::string bad;
  for (int i = 0; i < 25; ++i) bad += fmt::format("not json {}\n", i);
  WriteFile(dir / "in/a.ndjson", bad + EemsEvent("EX01", kT0, 1) + "\n");
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric(port,
                      "eventsift_source_parse_errors_total{source=\"drop\",type=\"directory\"}") ==
               25;
      },
      seconds(10)))
      << ReadFile(dir / "daemon.log");
  EXPECT_EQ(Metric(port, kDropEvents), 1);
  EXPECT_EQ(Metric(port, "eventsift_log_lines_suppressed_total"), 22);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
  std::string log = ReadFile(dir / "daemon.log");
  size_t logged = 0;
  for (size_t p = log.find("input error"); p != std::string::npos;
       p = log.find("input error", p + 1))
    ++logged;
  EXPECT_EQ(logged, 3u) << log;
}

// TLS on the TCP listener, through the real binary: a bad key stops the
// start with a clear error; a TLS client's lines produce alerts while a
// plaintext client on the same port is dropped; with a client CA, a client
// without a certificate is refused and one with a signed certificate is read.
TEST(DaemonProcessTest, TlsListenerAlertsAndRejections) {
  ScratchDir dir("tls");
  tls_test::TestCerts certs;
  std::string error;
  ASSERT_TRUE(tls_test::MakeTestCerts(dir.path(), &certs, &error)) << error;
  int port = FreePort();
  int tls_port = FreePort();
  int mtls_port = FreePort();
  auto sources = [&](const std::string& key) {
    return fmt::format(
        "  - name: tls\n    type: tcp\n    port: {}\n    tls: {{cert_file: {}, key_file: {}}}\n"
        "  - name: mtls\n    type: tcp\n    port: {}\n"
        "    tls: {{cert_file: {}, key_file: {}, client_ca_file: {}, min_version: \"1.2\"}}\n",
        tls_port, certs.server_crt, key, mtls_port, certs.server_crt, certs.server_key,
        certs.ca_crt);
  };
  {
    std::string bad = WriteConfig(dir, port, DaemonSetup{sources(certs.other_key)});
    DaemonProcess d;
    d.Start(bad, dir / "bad.log");
    EXPECT_EQ(d.Wait(seconds(10)), 2);
    std::string log = ReadFile(dir / "bad.log");
    EXPECT_NE(log.find("source 'tls'"), std::string::npos) << log;
    EXPECT_NE(log.find("tls.key_file: '" + certs.other_key + "'"), std::string::npos) << log;
    EXPECT_NE(log.find("does not match the certificate"), std::string::npos) << log;
  }
  std::string config = WriteConfig(dir, port, DaemonSetup{sources(certs.server_key)});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");

  tls_test::TlsClient client;
  ASSERT_TRUE(client.Connect(static_cast<uint16_t>(tls_port), certs.ca_crt)) << client.error();
  ASSERT_TRUE(client.Send(EemsEvent("EX01.contoso.com", kT0, 1) + "\n"));
  // Plain text to the TLS port while the TLS client is connected: dropped.
  EXPECT_TRUE(tls_test::PlainClientIsClosed(static_cast<uint16_t>(tls_port),
                                            EemsEvent("EX09", kT0, 9) + "\n", seconds(5)));

  tls_test::TlsClient anonymous;
  if (anonymous.Connect(static_cast<uint16_t>(mtls_port), certs.ca_crt)) {
    (void)anonymous.Send(EemsEvent("EX02", kT0, 2) + "\n");  // TLS 1.3: refused after
  }
  EXPECT_TRUE(anonymous.ClosedByServer(seconds(5)));
  tls_test::TlsClient signed_client;
  ASSERT_TRUE(signed_client.Connect(static_cast<uint16_t>(mtls_port), certs.ca_crt,
                                    certs.client_crt, certs.client_key))
      << signed_client.error();
  ASSERT_TRUE(signed_client.Send(EemsEvent("EX03", kT0 + 60, 3) + "\n"));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric(port, "eventsift_source_events_total{source=\"mtls\",type=\"tcp\"}") == 1;
      },
      seconds(10)))
      << ReadFile(dir / "daemon.log");
  // The first TLS client is still served: its tick closes both windows.
  ASSERT_TRUE(client.Send(TickEvent("EX01", kT0 + 3 * kDay, 4) + "\n")) << client.error();
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= 2; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  // The alerts are immediate (they need not wait for the tick): wait for it.
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric(port, "eventsift_source_lines_total{source=\"tls\",type=\"tcp\"}") == 2;
      },
      seconds(10)));
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            (std::set<std::string>{ExpectedAlertId("EX01.contoso.com", kT0),
                                   ExpectedAlertId("EX03", kT0 + 60)}));
  EXPECT_EQ(ids.size(), 2u);
  std::string m = HttpGet(port, "/metrics");
  EXPECT_EQ(MetricValue(m, "eventsift_source_lines_total{source=\"tls\",type=\"tcp\"}"), 2);
  EXPECT_EQ(MetricValue(m, "eventsift_source_lines_total{source=\"mtls\",type=\"tcp\"}"), 1);
  EXPECT_EQ(MetricValue(m, "eventsift_source_tls_handshakes_total{source=\"tls\",type=\"tcp\"}"),
            1);
  EXPECT_EQ(
      MetricValue(m, "eventsift_source_tls_handshake_failures_total{source=\"tls\",type=\"tcp\"}"),
      1);
  EXPECT_EQ(MetricValue(m, "eventsift_source_tls_handshakes_total{source=\"mtls\",type=\"tcp\"}"),
            1);
  EXPECT_EQ(
      MetricValue(m, "eventsift_source_tls_handshake_failures_total{source=\"mtls\",type=\"tcp\"}"),
      1);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

TEST(DaemonProcessTest, ImmediateAlertIsNotSentAgainAfterRestart) {
  ScratchDir dir("immediate-restart");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in")});
  std::string in = dir / "in/a.ndjson";
  {
    DaemonProcess d;
    d.Start(config, dir / "daemon.log");
    AppendFile(in, EemsEvent("EX02.contoso.com", kT0, 1) + "\n");
    ASSERT_TRUE(WaitFor(
        [&] { return AlertLinesWithRevision(dir / "alerts.ndjson", 1).size() == 1; }, seconds(10)))
        << ReadFile(dir / "daemon.log");
    d.Signal(SIGTERM);
    ASSERT_EQ(d.Wait(seconds(6)), 0);
  }
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  // A replay that raises the immediate alert again is held back by the
  // journal; a second hit after the restart, then the window closes: its
  // follow-up is due, though this correlator never sent the immediate alert.
  AppendFile(in, EemsEvent("EX02.contoso.com", kT0 + 60, 2) + "\n" +
                     TickEvent("EX09", kT0 + 3 * kDay, 3) + "\n");
  ASSERT_TRUE(WaitFor([&] { return AlertLinesWithRevision(dir / "alerts.ndjson", 2).size() == 1; },
                      seconds(10)))
      << ReadFile(dir / "alerts.ndjson") << ReadFile(dir / "daemon.log");
  std::this_thread::sleep_for(milliseconds(700));  // a wrong extra alert would show by now
  EXPECT_EQ(AlertLinesWithRevision(dir / "alerts.ndjson", 1).size(), 1u);
  auto follow = AlertLinesWithRevision(dir / "alerts.ndjson", 2);
  ASSERT_EQ(follow.size(), 1u);
  EXPECT_NE(follow[0].find(ExpectedAlertId("EX02.contoso.com", kT0)), std::string::npos);
  EXPECT_NE(follow[0].find("\"count\":2,"), std::string::npos) << follow[0];
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

TEST(DaemonProcessTest, CorrelationStateSurvivesRestart) {
  ScratchDir dir("resume");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  // Window-end alerts: the window open at the restart must close with hits
  // from both runs.
  std::string config =
      WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in"), WindowEndEemsRule(dir)});
  std::string in = dir / "in/a.ndjson";
  {
    DaemonProcess d;
    d.Start(config, dir / "daemon.log");
    // EX01's first window closes and alerts; EX02's window is still open.
    AppendFile(in, EemsEvent("EX01.contoso.com", kT0, 1) + "\n" +
                       EemsEvent("EX02.contoso.com", kT0 + kDay, 2) + "\n" +
                       TickEvent("EX09", kT0 + 2 * kDay + 1, 3) + "\n");
    ASSERT_TRUE(
        WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() == 1; }, seconds(10)))
        << ReadFile(dir / "daemon.log");
    d.Signal(SIGTERM);
    ASSERT_EQ(d.Wait(seconds(6)), 0);
  }
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  // EX01's next window starts where the alert ended: folded into it by
  // suppression, which only the restored state knows. EX02's window gets a
  // second hit and closes with the start of its first hit, before the restart.
  AppendFile(in, EemsEvent("EX01.contoso.com", kT0 + kDay + 7200, 4) + "\n" +
                     EemsEvent("EX02.contoso.com", kT0 + kDay + 60, 5) + "\n" +
                     TickEvent("EX09", kT0 + 4 * kDay, 6) + "\n");
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= 2; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return Metric(port, kDropEvents) == 3; }, seconds(10)));
  std::this_thread::sleep_for(milliseconds(700));  // a wrong extra alert would show by now
  auto ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(ids, (std::vector<std::string>{ExpectedAlertId("EX01.contoso.com", kT0),
                                           ExpectedAlertId("EX02.contoso.com", kT0 + kDay)}));
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// Counts the events `eventsift dump` decodes from a whole file.
size_t DumpEventCount(const std::string& path) {
  std::string cmd = fmt::format("{} dump --format jsonl '{}' 2>/dev/null", ES_BINARY, path);
  FILE* p = ::popen(cmd.c_str(), "r");
  size_t lines = 0;
  for (int c; (c = std::fgetc(p)) != EOF;) lines += c == '\n';
  ::pclose(p);
  return lines;
}

TEST(DaemonProcessTest, GrowingEvtxFileIsReadByChunksWithoutDuplicates) {
  const std::string corpus = std::string(ES_SOURCE_DIR) + "/../shared/corpus/evtx/security.evtx";
  if (!std::filesystem::exists(corpus)) GTEST_SKIP() << "corpus file not present: " << corpus;
  ScratchDir dir("evtx");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in", "[\"*.evtx\"]")});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)));
  std::string bytes = ReadFile(corpus);
  size_t expected = DumpEventCount(corpus);
  ASSERT_GT(expected, 0u);
  // Written the way a slow copy does: uneven pieces, chunks completed later.
  std::string target = dir / "in/security.evtx";
  size_t piece = 4096 + 65536 + 30000;
  for (size_t at = 0; at < bytes.size(); at += piece, piece = piece * 3 / 2) {
    AppendFile(target, bytes.substr(at, piece));
    std::this_thread::sleep_for(milliseconds(150));
  }
  const std::string events = "eventsift_source_events_total{source=\"drop\",type=\"directory\"}";
  ASSERT_TRUE(
      WaitFor([&] { return Metric(port, events) == static_cast<double>(expected); }, seconds(20)))
      << "events " << Metric(port, events) << " of " << expected << "\n"
      << ReadFile(dir / "daemon.log");
  std::this_thread::sleep_for(milliseconds(600));
  std::string m = HttpGet(port, "/metrics");
  EXPECT_EQ(MetricValue(m, events), static_cast<double>(expected));  // nothing twice
  // Chunks completed while being written were read again (and deduplicated).
  EXPECT_GT(
      MetricValue(m, "eventsift_source_evtx_chunks_total{source=\"drop\",type=\"directory\"}"),
      static_cast<double>((bytes.size() - 4096) / 65536));
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(seconds(6)), 0);
}

// A Sigma event_count correlation (three EEMS failures per Computer within
// 24 h, over the shipped rule) with SIGKILL in the middle of its window:
// two failures before the kill, the third after the restart. The restarted
// daemon reads only what came after its checkpoint, so the alert needs the
// two hits the checkpoint kept (state.json "sigma_correlation").
TEST(DaemonProcessTest, SigmaCorrelationWindowSurvivesSigkill) {
  ScratchDir dir("sigma_corr");
  std::filesystem::create_directories(dir / "in");
  std::filesystem::create_directories(dir / "rules");
  std::filesystem::copy_file(kRule, dir / "rules/eems_mitigation_error.yaml");
  WriteFile(dir / "rules/mr_eems.yml", R"(title: EEMS failing repeatedly on a host
id: eems-3-per-host-24h
level: high
correlation:
    type: event_count
    rules: [eems_mitigation_error]
    group-by: [Computer]
    timespan: 24h
    condition: {gte: 3}
)");
  int port = FreePort();
  std::string config =
      WriteConfig(dir, port, DaemonSetup{DirSourceYaml(dir / "in"), dir / "rules"});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n" +
                                      EemsEvent("EX01.contoso.com", kT0 + 3600, 2) + "\n");
  // Both hits are in a checkpoint (they wait for the watermark, 24 h on).
  auto saved_hits = [&] {
    std::string state = ReadFile(dir / "state/state.json");
    size_t n = 0;
    for (size_t at = state.find("\"rule\":\"eems_mitigation_error\""); at != std::string::npos;
         at = state.find("\"rule\":\"eems_mitigation_error\"", at + 1)) {
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return saved_hits() == 2; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  // /metrics: both hits received and held (waiting for the watermark, so no
  // window is open yet), nothing sent, nothing dropped.
  EXPECT_EQ(Metric(port, "eventsift_sigma_correlation_hits_total"), 2);
  EXPECT_EQ(Metric(port, "eventsift_sigma_correlation_hits_held"), 2);
  EXPECT_EQ(Metric(port, "eventsift_sigma_correlation_windows_open"), 0);
  EXPECT_EQ(Metric(port, "eventsift_sigma_correlation_alerts_total"), 0);
  EXPECT_EQ(Metric(port, "eventsift_sigma_correlation_dropped_total{reason=\"late\"}"), 0);
  d.Signal(SIGKILL);
  EXPECT_EQ(d.Wait(seconds(5)), 128 + SIGKILL);
  EXPECT_TRUE(ReadAlertIds(dir / "alerts.ndjson").empty());

  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0 + 7200, 3) + "\n" +
                                      TickEvent("EX09.contoso.com", kT0 + 3 * kDay, 4) + "\n");
  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !ReadAlertIds(dir / "alerts.ndjson").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  // /metrics of the restarted daemon: its one new hit, the alert sent, and
  // (the tick 3 days on moved the watermark past the window) nothing held.
  EXPECT_TRUE(WaitFor(
      [&] {
        return Metric(port, "eventsift_sigma_correlation_alerts_total") == 1 &&
               Metric(port, "eventsift_sigma_correlation_windows_open") == 0 &&
               Metric(port, "eventsift_sigma_correlation_hits_held") == 0;
      },
      seconds(10)))
      << HttpGet(port, "/metrics");
  EXPECT_EQ(Metric(port, "eventsift_sigma_correlation_hits_total"), 1);
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(6)), 0);
  std::vector<std::string> ids = ReadAlertIds(dir / "alerts.ndjson");
  // The group (Computer, as its host key) stands where the host key stands
  // in the id recipe.
  EXPECT_EQ(ids,
            std::vector<std::string>{ComputeAlertId("eems-3-per-host-24h", "ex01.contoso.com\x1f",
                                                    FileTimeFromUnixMillis(kT0 * 1000))});
  std::string alert = ReadFile(dir / "alerts.ndjson");
  EXPECT_NE(alert.find("\"count\":3,"), std::string::npos) << alert;
  EXPECT_NE(alert.find("\"group\":{\"Computer\":\"ex01.contoso.com\"}"), std::string::npos)
      << alert;
  // The named rule alerts only through the correlation.
  EXPECT_EQ(alert.find("\"id\":\"eems_mitigation_error\""), std::string::npos) << alert;
}

// The shipped Sigma pair rules/sigma (the EEMS 1008 rule and its
// event_count correlation per Computer over 24 h) with SIGKILL inside the
// first window: one alert per host and 24 h, so the failure 2 h after the
// first one is absorbed by its window and the one 25 h after opens the
// next. Had the restart lost the window, the 2 h failure would open a
// window of its own (another alert id) and the first would be missing.
TEST(DaemonProcessTest, ShippedSigmaEemsCorrelationAcrossSigkill) {
  ScratchDir dir("sigma_eems");
  std::filesystem::create_directories(dir / "in");
  int port = FreePort();
  std::string config = WriteConfig(
      dir, port,
      DaemonSetup{DirSourceYaml(dir / "in"), std::string(ES_SOURCE_DIR) + "/rules/sigma"});
  DaemonProcess d;
  d.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return !HttpGet(port, "/healthz").empty(); }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0, 1) + "\n");
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(dir / "state/state.json").find("\"sigma_correlation\"") !=
               std::string::npos;
      },
      seconds(10)))
      << ReadFile(dir / "daemon.log");
  d.Signal(SIGKILL);
  EXPECT_EQ(d.Wait(seconds(5)), 128 + SIGKILL);

  AppendFile(dir / "in/a.ndjson", EemsEvent("EX01.contoso.com", kT0 + 7200, 2) + "\n" +
                                      EemsEvent("EX01.contoso.com", kT0 + 25 * 3600, 3) + "\n" +
                                      TickEvent("EX09.contoso.com", kT0 + 4 * kDay, 4) + "\n");
  DaemonProcess again;
  again.Start(config, dir / "daemon.log");
  ASSERT_TRUE(WaitFor([&] { return ReadAlertIds(dir / "alerts.ndjson").size() >= 2; }, seconds(10)))
      << ReadFile(dir / "daemon.log");
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(seconds(6)), 0);
  const std::string id = "71d6e570-6a89-481e-8241-5a3fda5278ee";  // the correlation's id
  const std::string group = "ex01.contoso.com\x1f";               // the host key
  std::vector<std::string> ids = ReadAlertIds(dir / "alerts.ndjson");
  EXPECT_EQ(ids, (std::vector<std::string>{
                     ComputeAlertId(id, group, FileTimeFromUnixMillis(kT0 * 1000)),
                     ComputeAlertId(id, group, FileTimeFromUnixMillis((kT0 + 25 * 3600) * 1000))}))
      << ReadFile(dir / "alerts.ndjson");
}

}  // namespace
}  // namespace eventsift::daemon_test
