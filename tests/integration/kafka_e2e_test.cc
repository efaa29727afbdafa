// (1) Alerts sent to a real broker and consumed back, with Debian's kcat and
// with `eventsift alerts`, equal the --out file of the same run, field for
// field (byte for byte: the message value is the rendered alert), with the
// host as the message key.
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

using KafkaE2eTest = BrokerTest;

std::string HostOf(const std::string& json) {
  const std::string key = "\"host\":\"";
  auto at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return json.substr(at, json.find('"', at) - at);
}

TEST_F(KafkaE2eTest, ConsumedAlertsEqualTheOutFile) {
  const std::string topic = UniqueName("e2e");
  ASSERT_TRUE(CreateTopic(topic, 3));
  const int kAlerts = 300;
  fs::path out = work_ / "alerts.ndjson";
  CommandResult run = Shell(ProduceCommand(work_, kAlerts, 0,
                                           "--kafka-brokers " + broker_ + " --kafka-topic " +
                                               topic + " --spool-dir '" +
                                               (work_ / "spool").string() + "' --flush-timeout 20",
                                           out));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  std::vector<std::string> expected = Lines(ReadAll(out));
  ASSERT_EQ(expected.size(), static_cast<size_t>(kAlerts));
  EXPECT_EQ(SpoolPending(work_ / "spool"), 0);
  auto want = AlertsById(expected);
  ASSERT_EQ(want.size(), expected.size()) << "alert ids are unique";

  // kcat: values and keys.
  std::vector<Message> kcat = ReadTopicWithKcat(broker_, topic);
  ASSERT_EQ(kcat.size(), expected.size());
  std::map<std::string, std::string> got;
  for (const Message& m : kcat) {
    EXPECT_EQ(m.key, HostOf(m.value)) << "the key is the alert's host";
    got[AlertId(m.value)] = m.value;
  }
  EXPECT_EQ(got, want);

  // eventsift alerts --format json prints the values as the producer wrote them.
  CommandResult consumed =
      Shell(std::string(ES_BINARY) + " alerts --kafka-brokers " + broker_ + " --kafka-topic " +
            topic + " --from-beginning --format json --max-messages " + std::to_string(kAlerts) +
            " --timeout 30");
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  std::vector<std::string> lines = Lines(consumed.out);
  EXPECT_EQ(lines.size(), expected.size());
  EXPECT_EQ(AlertsById(lines), want);
}

TEST_F(KafkaE2eTest, HeadersCarrySchemaVersionAndRuleId) {
  const std::string topic = UniqueName("headers");
  ASSERT_TRUE(CreateTopic(topic, 1));
  fs::path out = work_ / "alerts.ndjson";
  CommandResult run =
      Shell(ProduceCommand(work_, 5, 0,
                           "--kafka-brokers " + broker_ + " --kafka-topic " + topic +
                               " --spool-dir '" + (work_ / "spool").string() + "'",
                           out));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  CommandResult headers =
      Shell("kcat -C -b " + broker_ + " -t '" + topic + "' -o beginning -e -q -f '%h\\n'");
  std::vector<std::string> lines = Lines(headers.out);
  ASSERT_EQ(lines.size(), 5u) << headers.err;
  for (const std::string& h : lines) {
    EXPECT_NE(h.find("eventsift.schema=eventsift.alert/v1"), std::string::npos) << h;
    EXPECT_NE(h.find("eventsift.rule_id=eems_mitigation_error"), std::string::npos) << h;
  }
}

TEST_F(KafkaE2eTest, TableFormatPrintsOneRowPerAlert) {
  const std::string topic = UniqueName("table");
  ASSERT_TRUE(CreateTopic(topic, 1));
  fs::path out = work_ / "alerts.ndjson";
  ASSERT_EQ(Shell(ProduceCommand(work_, 4, 0,
                                 "--kafka-brokers " + broker_ + " --kafka-topic " + topic +
                                     " --spool-dir '" + (work_ / "spool").string() + "'",
                                 out))
                .exit_code,
            0);
  CommandResult table =
      Shell(std::string(ES_BINARY) + " alerts --kafka-brokers " + broker_ + " --kafka-topic " +
            topic + " --from-beginning --format table --max-messages 4 --timeout 30");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::vector<std::string> rows = Lines(table.out);
  ASSERT_EQ(rows.size(), 5u) << table.out;  // header + 4
  for (const std::string& json : Lines(ReadAll(out))) {
    EXPECT_NE(table.out.find(AlertId(json)), std::string::npos);
  }
}

}  // namespace
}  // namespace eventsift::testing
