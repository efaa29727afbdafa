#include "src/sink/kafka/kafka_config.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <memory>
#include <string>

namespace eventsift {
namespace {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

std::string Get(rd_kafka_conf_t* conf, const char* key) {
  std::array<char, 256> buf{};
  size_t size = buf.size();
  if (rd_kafka_conf_get(conf, key, buf.data(), &size) != RD_KAFKA_CONF_OK) return "?";
  return buf.data();
}

TEST(KafkaConfigTest, UserPropertiesOverrideDefaults) {
  ConfPtr conf(rd_kafka_conf_new());
  Status st = ApplyKafkaProperties(conf.get(), {{"linger.ms", "5"}, {"client.id", "eventsift"}},
                                   {{"linger.ms", "50"}});
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Get(conf.get(), "linger.ms"), "50");
  EXPECT_EQ(Get(conf.get(), "client.id"), "eventsift");
}

TEST(KafkaConfigTest, ErrorsNameTheKeyAndNeverShowASecretsValue) {
  ConfPtr conf(rd_kafka_conf_new());
  Status plain = ApplyKafkaProperties(conf.get(), {}, {{"linger.ms", "soon"}});
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.message().rfind("-X linger.ms: ", 0), 0u) << plain.ToString();

  Status secret =
      ApplyKafkaProperties(conf.get(), {}, {{"my.sasl.password.x", "hunter2"}}, "properties.");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.message(), "properties.my.sasl.password.x: invalid value (not shown: secret)");
  EXPECT_EQ(secret.ToString().find("hunter2"), std::string::npos);

  // A default librdkafka refuses is named without the user label.
  Status bad_default = ApplyKafkaProperties(conf.get(), {{"acks", "most"}}, {});
  ASSERT_FALSE(bad_default.ok());
  EXPECT_EQ(bad_default.message().rfind("acks: ", 0), 0u) << bad_default.ToString();
}

TEST(KafkaConfigTest, SecretNamesAreRecognisedInAnyCase) {
  EXPECT_TRUE(IsSecretKafkaProperty("SSL.Key.Password"));
  EXPECT_TRUE(IsSecretKafkaProperty("SASL.PASSWORD"));
  EXPECT_FALSE(IsSecretKafkaProperty("SASL.USERNAME"));
}

}  // namespace
}  // namespace eventsift
