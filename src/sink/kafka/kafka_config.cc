#include "src/sink/kafka/kafka_config.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace eventsift {

bool IsSecretKafkaProperty(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view word : {"password", "secret", "token", "jaas", "sasl.oauthbearer.config",
                                "ssl.key.pem", "ssl_key", "credentials", "private"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

Status ApplyKafkaProperties(rd_kafka_conf_t* conf, const KafkaProperties& defaults,
                            const KafkaProperties& user, std::string_view user_label) {
  std::array<char, 512> errstr{};
  auto set = [&](const std::string& key, const std::string& value,
                 std::string_view label) -> Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr.data(), errstr.size()) ==
        RD_KAFKA_CONF_OK) {
      return Status::OK();
    }
    std::string why = IsSecretKafkaProperty(key) ? std::string("invalid value (not shown: secret)")
                                                 : std::string(errstr.data());
    return Status::InvalidArgument(fmt::format("{}{}: {}", label, key, why));
  };
  for (const auto& [key, value] : defaults) ES_RETURN_IF_ERROR(set(key, value, ""));
  for (const auto& [key, value] : user) ES_RETURN_IF_ERROR(set(key, value, user_label));
  return Status::OK();
}

}  // namespace eventsift
