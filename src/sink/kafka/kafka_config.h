#pragma once
// The one place librdkafka configurations are filled: the alert sink's
// producer, the daemon's Kafka source and `eventsift alerts` each pass their
// defaults and the user's properties (-X key=value, or a config file's
// `properties:`) here. Defaults go first so the user's can tune them, and an
// error names the property but never shows a secret's value: librdkafka may
// echo the value in its error text.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/status.h"

struct rd_kafka_conf_s;

namespace eventsift {

using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// True for librdkafka property names whose values must never be printed
// (passwords, secrets, private keys, tokens).
bool IsSecretKafkaProperty(std::string_view key);

// Sets `defaults`, then `user`, on `conf`. The first property librdkafka
// refuses is the error: "<user_label><key>: <why>" for a user property
// ("-X " names the flag), "<key>: <why>" for a default.
Status ApplyKafkaProperties(rd_kafka_conf_s* conf, const KafkaProperties& defaults,
                            const KafkaProperties& user, std::string_view user_label = "-X ");

}  // namespace eventsift
