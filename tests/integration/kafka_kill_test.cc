// (3) SIGKILL mid-delivery, then a restart: no alert missing. Two ways to
// die: a run killed while it sends (the rerun re-sends its alerts: alert ids
// are deterministic), and `eventsift spool replay` killed while it drains the
// spool (the restart resumes at the durable cursor).
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

// Producer tuning (plain -X pass-through) that spreads delivery over more
// round trips, so the kill lands midway.
constexpr char kSlow[] = " -X batch.num.messages=10 -X max.in.flight.requests.per.connection=1";

class KafkaKillTest : public BrokerTest {
 protected:
  // Messages in the (3-partition) topic: the sum of its end offsets, which
  // kcat -Q answers in milliseconds (reading the topic would take longer
  // than a whole replay).
  std::string CountCommand(const std::string& topic) const {
    std::string cmd = "kcat -b " + broker_ + " -Q";
    for (int p = 0; p < 3; ++p) cmd += " -t '" + topic + ":" + std::to_string(p) + ":-1'";
    return cmd + " 2>/dev/null | awk '{s+=$NF} END {print s+0}'";
  }

  // Starts `command` in the background, waits until the topic holds at
  // least `threshold` messages, then SIGKILLs it. Returns the messages there
  // then.
  long KillOnceDelivering(const std::string& command, const std::string& topic,
                          long threshold = 1) {
    std::string script = "(" + command + ") >'" + (work_ / "killed.out").string() +
                         "' 2>&1 &\n"
                         "pid=$!\n"
                         "for i in $(seq 1 2000); do\n"
                         "  n=$(" +
                         CountCommand(topic) +
                         ")\n"
                         "  if [ \"$n\" -ge " +
                         std::to_string(threshold) +
                         " ]; then break; fi\n"
                         "  kill -0 $pid 2>/dev/null || break\n"
                         "  sleep 0.01\n"
                         "done\n"
                         "kill -KILL $pid 2>/dev/null && echo killed\n"
                         "wait $pid 2>/dev/null\n" +
                         CountCommand(topic) + "\n";
    CommandResult r = Shell(script);
    killed_ = r.out.find("killed") != std::string::npos;
    std::vector<std::string> lines = Lines(r.out);
    return lines.empty() ? -1 : std::stol(lines.back());
  }

  // Checks the topic holds exactly the ids of `expected`, duplicates only as
  // identical copies; returns the number of duplicates.
  size_t ExpectAllIds(const std::string& topic, const std::vector<std::string>& expected) {
    std::map<std::string, std::string> seen;
    size_t duplicates = 0;
    for (const Message& m : ReadTopicWithKcat(broker_, topic)) {
      auto [it, fresh] = seen.emplace(AlertId(m.value), m.value);
      if (!fresh) {
        ++duplicates;
        EXPECT_EQ(it->second, m.value);
      }
    }
    EXPECT_EQ(seen, AlertsById(expected)) << "no alert missing";
    return duplicates;
  }

  bool killed_ = false;
};

TEST_F(KafkaKillTest, SpoolReplayKilledMidwayResumesWithoutLoss) {
  const int kAlerts = 20000;
  const std::string topic = UniqueName("killreplay");
  ASSERT_TRUE(CreateTopic(topic, 3));
  const fs::path spool = work_ / "spool";
  // Fill the spool: no broker on that port.
  CommandResult fill = Shell(
      ProduceCommand(work_, kAlerts, 0,
                     "--kafka-brokers 127.0.0.1:" + std::to_string(FreePort()) + " --kafka-topic " +
                         topic + " --spool-dir '" + spool.string() + "' --flush-timeout 5",
                     work_ / "alerts.ndjson"));
  ASSERT_EQ(fill.exit_code, 0) << fill.err;
  ASSERT_EQ(SpoolPending(spool), kAlerts);
  std::vector<std::string> expected = Lines(ReadAll(work_ / "alerts.ndjson"));

  const std::string replay = std::string(ES_BINARY) + " spool replay --kafka-brokers " + broker_ +
                             " --kafka-topic " + topic + " --spool-dir '" + spool.string() +
                             "' --timeout 120";
  long at_kill = KillOnceDelivering(replay + kSlow, topic, /*threshold=*/5000);
  ASSERT_TRUE(killed_) << "the replay finished before it could be killed";
  EXPECT_GT(at_kill, 0);
  long pending = SpoolPending(spool);
  EXPECT_GT(pending, 0) << "killed midway, part of the spool is left";
  EXPECT_LT(pending, kAlerts) << "the cursor kept the progress made before the kill";
  CommandResult again = Shell(replay);
  ASSERT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_EQ(SpoolPending(spool), 0);
  size_t duplicates = ExpectAllIds(topic, expected);
  // The at-least-once bound, exactly: only alerts delivered after the last
  // durable cursor position come again (everything in the topic at the kill
  // minus what the cursor covered).
  EXPECT_LE(duplicates, static_cast<size_t>(at_kill - (kAlerts - pending)));
  std::fprintf(stderr,
               "killed with %ld of %d delivered; %ld still spooled; %zu duplicates after restart\n",
               at_kill, kAlerts, pending, duplicates);
}

TEST_F(KafkaKillTest, RunKilledWhileSendingLosesNothingOnRerun) {
  const int kAlerts = 20000;
  const std::string topic = UniqueName("killrun");
  ASSERT_TRUE(CreateTopic(topic, 3));
  const std::string flags = "--kafka-brokers " + broker_ + " --kafka-topic " + topic +
                            " --spool-dir '" + (work_ / "spool").string() + "' --flush-timeout 30";
  KillOnceDelivering(ProduceCommand(work_, kAlerts, 0, flags + kSlow, work_ / "first.ndjson"),
                     topic);
  EXPECT_TRUE(killed_) << "the run finished before it could be killed";
  // Rerun the same input: the same alerts with the same ids.
  CommandResult again = Shell(ProduceCommand(work_, kAlerts, 0, flags, work_ / "alerts.ndjson"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ExpectAllIds(topic, Lines(ReadAll(work_ / "alerts.ndjson")));
}

}  // namespace
}  // namespace eventsift::testing
