// (2) Outage: with the broker down, a run producing thousands of alerts ends
// with all of them spooled; once a broker is up, the spool drains (eventsift
// spool replay, and the next run's start), and the topic holds exactly the
// alert ids produced: none missing, duplicates only as identical copies.
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

class KafkaOutageTest : public ::testing::Test {
 protected:
  void SetUp() override { work_ = ScratchDir(); }
  void TearDown() override {
    // A broker of this test's own: stopped whatever happened.
    Shell(KafkaScript() + " stop --dir '" + (work_ / "broker").string() + "'");
    fs::remove_all(work_);
  }
  fs::path work_;
};

TEST_F(KafkaOutageTest, SpooledWhileDownDeliveredExactlyOnceIdsAfterRecovery) {
  const int kAlerts = 3000;
  const int port = FreePort();
  const std::string brokers = "127.0.0.1:" + std::to_string(port);
  const std::string topic = UniqueName("outage");
  const fs::path spool = work_ / "spool";
  const std::string flags = "--kafka-brokers " + brokers + " --kafka-topic " + topic +
                            " --spool-dir '" + spool.string() + "' --flush-timeout 10";

  // Nothing listens on the port: everything goes to the spool, promptly.
  CommandResult down = Shell(ProduceCommand(work_, kAlerts, 0, flags, work_ / "run1.ndjson"));
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_LT(down.seconds, 60);
  EXPECT_NE(down.err.find("spool"), std::string::npos) << down.err;
  EXPECT_EQ(SpoolPending(spool), kAlerts);
  std::vector<std::string> run1 = Lines(ReadAll(work_ / "run1.ndjson"));
  ASSERT_EQ(run1.size(), static_cast<size_t>(kAlerts));

  // The broker comes up on that port (with the topic).
  CommandResult start = Shell("ES_KAFKA_PARTITIONS=3 ES_KAFKA_TOPICS='" + topic + "' " +
                              KafkaScript() + " start --port " + std::to_string(port) + " --dir '" +
                              (work_ / "broker").string() + "'");
  ASSERT_EQ(start.exit_code, 0) << start.err;

  // Half the way: an explicit replay drains the spool.
  CommandResult replay =
      Shell(std::string(ES_BINARY) + " spool replay --kafka-brokers " + brokers +
            " --kafka-topic " + topic + " --spool-dir '" + spool.string() + "' --timeout 120");
  ASSERT_EQ(replay.exit_code, 0) << replay.err << replay.out;
  EXPECT_NE(replay.out.find("replayed " + std::to_string(kAlerts)), std::string::npos)
      << replay.out;
  EXPECT_EQ(SpoolPending(spool), 0);

  // The next run delivers its own alerts.
  CommandResult up = Shell(ProduceCommand(work_, 200, kAlerts, flags, work_ / "run2.ndjson"));
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::vector<std::string> run2 = Lines(ReadAll(work_ / "run2.ndjson"));

  std::map<std::string, std::string> want = AlertsById(run1);
  for (const auto& [id, json] : AlertsById(run2)) want[id] = json;
  std::vector<Message> got = ReadTopicWithKcat(brokers, topic);
  std::map<std::string, std::string> seen;
  size_t duplicates = 0;
  for (const Message& m : got) {
    std::string id = AlertId(m.value);
    auto [it, fresh] = seen.emplace(id, m.value);
    if (!fresh) {
      ++duplicates;
      EXPECT_EQ(it->second, m.value) << "a duplicate is an identical copy";
    }
  }
  EXPECT_EQ(seen, want) << "every alert id exactly, none missing, none foreign";
  // Nothing was in flight to a live broker when the outage began.
  EXPECT_EQ(duplicates, 0u);
}

TEST_F(KafkaOutageTest, NextStartReplaysTheSpoolBeforeNewAlerts) {
  const int port = FreePort();
  const std::string brokers = "127.0.0.1:" + std::to_string(port);
  const std::string topic = UniqueName("nextstart");
  const fs::path spool = work_ / "spool";
  const std::string flags = "--kafka-brokers " + brokers + " --kafka-topic " + topic +
                            " --spool-dir '" + spool.string() + "' --flush-timeout 20";
  ASSERT_EQ(Shell(ProduceCommand(work_, 500, 0, flags, work_ / "run1.ndjson")).exit_code, 0);
  ASSERT_EQ(SpoolPending(spool), 500);
  ASSERT_EQ(Shell("ES_KAFKA_PARTITIONS=1 ES_KAFKA_TOPICS='" + topic + "' " + KafkaScript() +
                  " start --port " + std::to_string(port) + " --dir '" +
                  (work_ / "broker").string() + "'")
                .exit_code,
            0);
  CommandResult next = Shell(ProduceCommand(work_, 50, 500, flags, work_ / "run2.ndjson"));
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(SpoolPending(spool), 0) << next.err;
  std::vector<Message> got = ReadTopicWithKcat(brokers, topic);
  ASSERT_EQ(got.size(), 550u);
  // One partition: the spooled alerts come first, in their order.
  std::vector<std::string> run1 = Lines(ReadAll(work_ / "run1.ndjson"));
  for (size_t i = 0; i < run1.size(); ++i) EXPECT_EQ(AlertId(got[i].value), AlertId(run1[i])) << i;
}

}  // namespace
}  // namespace eventsift::testing
