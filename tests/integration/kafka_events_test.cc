// The events sink on a real broker: `eventsift scan --events-out kafka` sends
// every event to its own topic, keyed by host, beside the alerts; when the
// events topic is missing or its brokers are down, the events go to their
// own spool and the alerts still arrive complete and promptly.
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

class KafkaEventsTest : public BrokerTest {
 protected:
  std::string Scan(const fs::path& input, const std::string& alerts_topic,
                   const std::string& events_flags) {
    return std::string(ES_BINARY) + " scan --no-progress --out '" +
           (work_ / "alerts.ndjson").string() + "' --kafka-brokers " + broker_ + " --kafka-topic " +
           alerts_topic + " --spool-dir '" + (work_ / "spool").string() +
           "' --events-out kafka --events-spool-dir '" + (work_ / "spool-events").string() +
           "' --flush-timeout 20 " + events_flags + " '" + input.string() + "'";
  }
};

std::string Field(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return "";
  at += key.size() + 3;
  if (json[at] == '"') return json.substr(at + 1, json.find('"', at + 1) - at - 1);
  return json.substr(at, json.find_first_of(",}", at) - at);
}

TEST_F(KafkaEventsTest, EventsAndAlertsEachOnTheirTopic) {
  const int kHosts = 400;
  const std::string alerts = UniqueName("ev.alerts"), events = UniqueName("ev.events");
  ASSERT_TRUE(CreateTopic(alerts, 2));
  ASSERT_TRUE(CreateTopic(events, 3));
  WriteEemsInput(work_ / "in.ndjson", kHosts);
  CommandResult r = Shell(Scan(work_ / "in.ndjson", alerts, "--events-topic " + events));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("events sink (kafka): 400 events, 400 written, 0 filtered out, 400 "
                       "delivered 0 spooled"),
            std::string::npos)
      << r.err;
  std::vector<Message> got = ReadTopicWithKcat(broker_, events);
  ASSERT_EQ(got.size(), static_cast<size_t>(kHosts));
  std::set<std::string> record_ids;
  for (const Message& m : got) {
    EXPECT_EQ(m.key, Field(m.value, "name")) << "keyed by host.name";
    EXPECT_EQ(m.key.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos);
    EXPECT_EQ(Field(m.value, "code"), "1008");
    record_ids.insert(Field(m.value, "record_id"));
  }
  EXPECT_EQ(record_ids.size(), static_cast<size_t>(kHosts)) << "each event once";
  EXPECT_EQ(ReadTopicWithKcat(broker_, alerts).size(), static_cast<size_t>(kHosts));
}

TEST_F(KafkaEventsTest, AlertsCompleteWhileEventsTopicMissing) {
  const int kHosts = 300;
  const std::string alerts = UniqueName("ev.alerts"), events = UniqueName("ev.missing");
  ASSERT_TRUE(CreateTopic(alerts, 1));
  WriteEemsInput(work_ / "in.ndjson", kHosts);
  CommandResult r = Shell(Scan(work_ / "in.ndjson", alerts, "--events-topic " + events));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 60);
  EXPECT_EQ(ReadTopicWithKcat(broker_, alerts).size(), static_cast<size_t>(kHosts)) << r.err;
  EXPECT_NE(r.err.find("kafka: " + std::to_string(kHosts) + " delivered 0 spooled"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("0 delivered " + std::to_string(kHosts) + " spooled"), std::string::npos)
      << r.err;
  EXPECT_EQ(SpoolPending(work_ / "spool"), 0);
  EXPECT_EQ(SpoolPending(work_ / "spool-events"), kHosts);
  // The events producer's log lines speak of events, not alerts.
  EXPECT_NE(r.err.find("kafka events: topic '" + events + "' does not exist"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("events are spooled in " + (work_ / "spool-events").string()),
            std::string::npos)
      << r.err;

  // Once the topic exists, the next run replays the events first.
  ASSERT_TRUE(CreateTopic(events, 1));
  WriteEemsInput(work_ / "in2.ndjson", 10, kHosts);
  r = Shell(Scan(work_ / "in2.ndjson", alerts, "--events-topic " + events));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SpoolPending(work_ / "spool-events"), 0) << r.err;
  std::vector<Message> got = ReadTopicWithKcat(broker_, events);
  ASSERT_EQ(got.size(), static_cast<size_t>(kHosts + 10));
  EXPECT_EQ(Field(got.front().value, "record_id"), "1") << "spooled events first, in order";
}

TEST_F(KafkaEventsTest, SpoolReplayOfEventsKeepsTheEventSchema) {
  const int kHosts = 50;
  const std::string alerts = UniqueName("ev.alerts"), events = UniqueName("ev.later");
  ASSERT_TRUE(CreateTopic(alerts, 1));
  WriteEemsInput(work_ / "in.ndjson", kHosts);
  CommandResult r = Shell(Scan(work_ / "in.ndjson", alerts, "--events-topic " + events));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(SpoolPending(work_ / "spool-events"), kHosts);
  ASSERT_TRUE(CreateTopic(events, 1));
  r = Shell(std::string(ES_BINARY) + " spool replay --events --kafka-brokers " + broker_ +
            " --kafka-topic " + events + " --spool-dir '" + (work_ / "spool-events").string() +
            "' --timeout 60");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = Shell("kcat -C -b " + broker_ + " -t '" + events + "' -o beginning -e -q -f '%h\\n'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> headers = Lines(r.out);
  ASSERT_EQ(headers.size(), static_cast<size_t>(kHosts));
  for (const std::string& h : headers) {
    EXPECT_NE(h.find("eventsift.schema=eventsift.event/v1"), std::string::npos) << h;
  }
}

// Events to Kafka without alerts to Kafka: -X applies to the events producer
// (an unknown property stops the run, naming it; a valid one is taken).
TEST_F(KafkaEventsTest, PropertiesReachTheEventsProducerWithoutAlertBrokers) {
  const int kHosts = 20;
  const std::string events = UniqueName("ev.only");
  ASSERT_TRUE(CreateTopic(events, 1));
  WriteEemsInput(work_ / "in.ndjson", kHosts);
  const std::string base = std::string(ES_BINARY) + " scan --no-progress --out /dev/null" +
                           " --events-out kafka --events-kafka-brokers " + broker_ +
                           " --events-topic " + events + " --events-spool-dir '" +
                           (work_ / "spool-events").string() + "' ";
  CommandResult r = Shell(base + "-X no.such.property=1 '" + (work_ / "in.ndjson").string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no.such.property"), std::string::npos) << r.err;
  r = Shell(base + "-X linger.ms=1 '" + (work_ / "in.ndjson").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("events sink (kafka): 20 events, 20 written, 0 filtered out, 20 "
                       "delivered 0 spooled"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadTopicWithKcat(broker_, events).size(), static_cast<size_t>(kHosts));
}

TEST_F(KafkaEventsTest, AlertsCompleteWhileEventsBrokerDown) {
  const int kHosts = 300;
  const std::string alerts = UniqueName("ev.alerts");
  ASSERT_TRUE(CreateTopic(alerts, 1));
  WriteEemsInput(work_ / "in.ndjson", kHosts);
  const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  CommandResult r = Shell(Scan(work_ / "in.ndjson", alerts, "--events-kafka-brokers " + dead));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 60);
  EXPECT_EQ(ReadTopicWithKcat(broker_, alerts).size(), static_cast<size_t>(kHosts)) << r.err;
  EXPECT_EQ(SpoolPending(work_ / "spool-events"), kHosts) << r.err;
  EXPECT_EQ(SpoolPending(work_ / "spool"), 0);
}

}  // namespace
}  // namespace eventsift::testing
