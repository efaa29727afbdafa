#pragma once
// KafkaSink: alerts to an Apache Kafka topic through librdkafka, at least
// once: an alert is delivered only when its delivery report says so; what the
// broker refuses or what times out goes to the durable spool (src/spool/).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/core/result.h"
#include "src/sink/alert_sink.h"

namespace eventsift {

struct KafkaSinkOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic;
  // Passed through to librdkafka as-is (-X key=value): TLS, SASL, tuning.
  std::vector<std::pair<std::string, std::string>> properties;
  // Directory of the durable spool for undelivered alerts.
  std::string spool_dir;
  uint64_t spool_max_bytes = 1ULL << 30;
  // Bound on the final flush; what is still undelivered then is spooled.
  std::chrono::milliseconds flush_timeout{30000};
};

Result<std::unique_ptr<AlertSink>> NewKafkaSink(const KafkaSinkOptions& options);

}  // namespace eventsift
