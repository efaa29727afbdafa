#pragma once
// The Kafka producer flags shared by `scan`, `alerts` and `daemon`: one table
// drives parsing, --help and the sink options.

#include <chrono>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>

#include "src/core/result.h"
#include "src/core/status.h"
#include "src/sink/kafka/kafka_sink.h"

namespace eventsift::app {

struct KafkaFlags {
  std::string brokers;
  std::string topic = "eventsift.alerts";
  std::vector<std::string> properties;  // "key=value" as given to -X
  std::string spool_dir;                // default: DefaultStateDir()/spool
  uint64_t spool_max_mb = 1024;
  double flush_timeout_s = 30;

  bool enabled() const { return !brokers.empty(); }
  std::chrono::milliseconds flush_timeout() const {
    return std::chrono::milliseconds(static_cast<int64_t>(flush_timeout_s * 1000));
  }
};

void AddKafkaOptions(boost::program_options::options_description* opts, KafkaFlags* flags);
// Checks -X syntax and that a topic is given with brokers. -X needs a
// producer to apply to: the alerts' (--kafka-brokers) or, with
// `events_to_kafka`, the events sink's (it takes the same properties).
Status ValidateKafkaFlags(const KafkaFlags& flags, bool events_to_kafka = false);
KafkaSinkOptions ToKafkaSinkOptions(const KafkaFlags& flags);

// $EVENTSIFT_STATE_DIR, else $XDG_STATE_HOME/eventsift, else
// $HOME/.local/state/eventsift, else ./.eventsift-state.
std::string DefaultStateDir();

// The one parser of -X key=value (scan, daemon, alerts, spool replay). An
// error shows only the key: the value may be a secret.
Result<KafkaProperties> ParseKafkaPropertyFlags(const std::vector<std::string>& flags);

}  // namespace eventsift::app
