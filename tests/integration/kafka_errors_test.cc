// (4) A wrong bootstrap address, a missing topic (the test broker does not
// create topics) and bad SASL credentials each end the run within a bounded
// time with a clear error on stderr, the alerts spooled and no secret shown.
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

constexpr int kAlerts = 25;
constexpr double kBoundSeconds = 30;  // connect probe (5 s) + flush (5 s) + slack

class KafkaErrorsTest : public BrokerTest {
 protected:
  CommandResult Produce(const std::string& flags) {
    return Shell(ProduceCommand(
        work_, kAlerts, 0,
        flags + " --spool-dir '" + (work_ / "spool").string() + "' --flush-timeout 5",
        work_ / "alerts.ndjson"));
  }
};

TEST_F(KafkaErrorsTest, WrongBootstrapAddress) {
  const std::string bad = "127.0.0.1:" + std::to_string(FreePort());
  CommandResult r = Produce("--kafka-brokers " + bad + " --kafka-topic eventsift.alerts");
  EXPECT_EQ(r.exit_code, 0) << "spooled alerts are not lost: " << r.err;
  EXPECT_LT(r.seconds, kBoundSeconds);
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
  EXPECT_EQ(SpoolPending(work_ / "spool"), kAlerts);
}

TEST_F(KafkaErrorsTest, MissingTopicWithAutoCreationOff) {
  const std::string topic = UniqueName("absent");
  CommandResult r = Produce("--kafka-brokers " + broker_ + " --kafka-topic " + topic);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, kBoundSeconds);
  EXPECT_NE(r.err.find("topic '" + topic + "' does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(SpoolPending(work_ / "spool"), kAlerts);
}

TEST_F(KafkaErrorsTest, BadCredentialsAreReportedAndNeverPrinted) {
  const std::string sasl = Broker(/*sasl=*/true);
  const std::string secret = "not-the-password-4711";
  CommandResult r =
      Produce("--kafka-brokers " + sasl +
              " --kafka-topic eventsift.alerts -X security.protocol=SASL_PLAINTEXT"
              " -X sasl.mechanism=PLAIN -X sasl.username=eventsift -X sasl.password=" +
              secret);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, kBoundSeconds);
  EXPECT_NE(r.err.find("Authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(secret), std::string::npos) << "secret printed: " << r.err;
  EXPECT_EQ(r.out.find(secret), std::string::npos);
  EXPECT_EQ(SpoolPending(work_ / "spool"), kAlerts);
}

TEST_F(KafkaErrorsTest, GoodCredentialsDeliverThroughPassThroughProperties) {
  const std::string topic = UniqueName("sasl");
  ASSERT_TRUE(CreateTopic(topic, 1));
  CommandResult r = Produce("--kafka-brokers " + Broker(/*sasl=*/true) + " --kafka-topic " + topic +
                            " -X security.protocol=SASL_PLAINTEXT -X sasl.mechanism=PLAIN"
                            " -X sasl.username=eventsift -X sasl.password=eventsift-secret");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("eventsift-secret"), std::string::npos);
  EXPECT_EQ(SpoolPending(work_ / "spool"), 0) << r.err;
  EXPECT_EQ(ReadTopicWithKcat(broker_, topic).size(), static_cast<size_t>(kAlerts));
}

}  // namespace
}  // namespace eventsift::testing
