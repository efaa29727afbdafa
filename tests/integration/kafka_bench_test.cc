// bench/kafka_bench.sh, short, against the fixture broker: every alert of the
// three runs (es_kafka_throughput through KafkaSink, `eventsift scan` to
// Kafka, `eventsift daemon` fed live) is on its topic exactly once. Counts
// are read back here with kcat, apart from the script's own checks; no timing
// is asserted (the machine is shared).
#include <map>
#include <set>
#include <string>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

class KafkaBenchTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = ScratchDir(); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// How often each key occurs on the topic.
std::map<std::string, int> KeyCounts(const std::string& broker, const std::string& topic) {
  std::map<std::string, int> counts;
  for (const Message& m : ReadTopicWithKcat(broker, topic)) ++counts[m.key];
  return counts;
}

// Keys that do not occur exactly once, or are missing, for the log.
std::string Mismatches(const std::map<std::string, int>& counts,
                       const std::set<std::string>& expected) {
  std::string out;
  int shown = 0;
  for (const auto& e : expected) {
    auto it = counts.find(e);
    int n = it == counts.end() ? 0 : it->second;
    if (n != 1 && shown++ < 5) out += fmt::format("{} x{}; ", e, n);
  }
  for (const auto& [k, n] : counts) {
    if (!expected.count(k) && shown++ < 5) out += fmt::format("unexpected {} x{}; ", k, n);
  }
  return out;
}

TEST_F(KafkaBenchTest, ShortRunDeliversEveryAlertOnce) {
  std::string broker = Broker();
  ASSERT_FALSE(broker.empty()) << "fixture broker not running";
  constexpr int kAlerts = 20000, kScanEvents = 3000;
  std::string prefix = UniqueName("kbench");
  fs::path work = dir_ / "work";
  CommandResult r = Shell(fmt::format(
      "{}/bench/kafka_bench.sh --build-dir {} --brokers {} --alerts {} --scan-events {} "
      "--rate 2000 --seconds 5 --hosts 1000 --work {} --keep --topic-prefix {}",
      ES_SOURCE_DIR, ES_BUILD_DIR, broker, kAlerts, kScanEvents, work.string(), prefix));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("| kafka | alerts/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| kafka | events/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| kafka | e2e alert latency p50/p99 ms at 2000 events/s"),
            std::string::npos)
      << r.out;

  // 1. The pool is as large as the run: each of its hosts once.
  std::set<std::string> pool;
  for (int i = 0; i < kAlerts; ++i) pool.insert(fmt::format("tp{}.bench.local", i));
  auto alerts = KeyCounts(broker, prefix + ".alerts");
  EXPECT_EQ(alerts.size(), pool.size());
  EXPECT_EQ(Mismatches(alerts, pool), "");

  // 2. scan: one alert per event, each host once.
  std::set<std::string> scanned;
  for (int i = 0; i < kScanEvents; ++i) scanned.insert(fmt::format("sc{}.bench.local", i));
  EXPECT_EQ(Mismatches(KeyCounts(broker, prefix + ".scan"), scanned), "");

  // 3. daemon: the feed went round robin over 1000 hosts; for each host the
  // final counts of its alerts add up to the events fed for it (the padding
  // hosts that follow only move event time on; some of their windows stay
  // open). The bench rule has threshold 1, so `emit: immediate`: an alert
  // may come as an immediate message (revision 1) and a follow-up with the
  // final count (revision 2, same alert_id); the highest revision counts.
  std::map<std::string, int> fed;
  size_t fed_total = 0;
  for (const std::string& line : Lines(ReadAll(work / "feed.log"))) {
    ++fed[line.substr(0, line.find('\t'))];
    ++fed_total;
  }
  EXPECT_EQ(fed_total, 2000u * 5u);
  EXPECT_EQ(fed.size(), 1000u);
  // alert_id -> (revision, host, count) of its latest message
  std::map<std::string, std::tuple<int, std::string, int>> latest;
  std::set<std::pair<std::string, int>> seen;
  size_t latency_messages = 0;
  auto number_after = [](const std::string& json, const std::string& key, int absent) {
    auto at = json.find(key);
    return at == std::string::npos ? absent : std::stoi(json.substr(at + key.size()));
  };
  for (const Message& m : ReadTopicWithKcat(broker, prefix + ".latency")) {
    if (!m.key.starts_with("lat")) continue;
    ++latency_messages;
    ASSERT_NE(m.value.find("\"count\":"), std::string::npos) << m.value;
    const int count = number_after(m.value, "\"count\":", 0);
    const int revision = number_after(m.value, "\"revision\":", 0);
    const std::string id = AlertId(m.value);
    seen.insert({id, revision});
    auto [it, fresh] = latest.try_emplace(id, revision, m.key, count);
    if (!fresh && revision > std::get<0>(it->second)) it->second = {revision, m.key, count};
  }
  EXPECT_EQ(seen.size(), latency_messages) << "an alert was delivered twice";
  std::map<std::string, int> counted;
  for (const auto& [id, last] : latest) counted[std::get<1>(last)] += std::get<2>(last);
  EXPECT_EQ(counted, fed);
}

}  // namespace
}  // namespace eventsift::testing
