#include "src/app/kafka_flags.h"

#include <cstdlib>

#include <fmt/format.h>
#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace eventsift::app {

void AddKafkaOptions(po::options_description* opts, KafkaFlags* flags) {
  po::options_description k("Kafka");
  k.add_options()("kafka-brokers", po::value(&flags->brokers),
                  "bootstrap servers; enables the Kafka sink")(
      "kafka-topic", po::value(&flags->topic)->default_value(flags->topic), "alert topic")(
      "kafka-property,X", po::value(&flags->properties)->composing(),
      "librdkafka property key=value, repeatable (TLS, SASL, tuning)")(
      "spool-dir", po::value(&flags->spool_dir),
      "durable spool for undelivered alerts (default: $EVENTSIFT_STATE_DIR/spool)")(
      "spool-max-mb", po::value(&flags->spool_max_mb)->default_value(flags->spool_max_mb),
      "spool size cap in MiB")(
      "flush-timeout", po::value(&flags->flush_timeout_s)->default_value(flags->flush_timeout_s),
      "seconds to wait for delivery reports at exit; the rest is spooled");
  opts->add(k);
}

Result<KafkaProperties> ParseKafkaPropertyFlags(const std::vector<std::string>& flags) {
  KafkaProperties out;
  for (const auto& p : flags) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(
          fmt::format("-X expects key=value, got '{}'", p.substr(0, eq)));
    }
    out.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  return out;
}

Status ValidateKafkaFlags(const KafkaFlags& flags, bool events_to_kafka) {
  auto parsed = ParseKafkaPropertyFlags(flags.properties);
  if (!parsed.has_value()) return parsed.error();
  if (!flags.properties.empty() && !flags.enabled() && !events_to_kafka) {
    return Status::InvalidArgument("-X given without --kafka-brokers or --events-out kafka");
  }
  if (flags.enabled() && flags.topic.empty()) {
    return Status::InvalidArgument("--kafka-topic must not be empty");
  }
  if (flags.flush_timeout_s < 0) return Status::InvalidArgument("--flush-timeout must be >= 0");
  return Status::OK();
}

std::string DefaultStateDir() {
  if (const char* d = std::getenv("EVENTSIFT_STATE_DIR"); d != nullptr && *d) return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x) {
    return std::string(x) + "/eventsift";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h) {
    return std::string(h) + "/.local/state/eventsift";
  }
  return ".eventsift-state";
}

KafkaSinkOptions ToKafkaSinkOptions(const KafkaFlags& flags) {
  KafkaSinkOptions o;
  o.brokers = flags.brokers;
  o.topic = flags.topic;
  // Checked by ValidateKafkaFlags first; a malformed one is left out here.
  auto parsed = ParseKafkaPropertyFlags(flags.properties);
  if (parsed.has_value()) o.properties = std::move(parsed).value();
  o.spool_dir = flags.spool_dir.empty() ? DefaultStateDir() + "/spool" : flags.spool_dir;
  o.spool_max_bytes = flags.spool_max_mb << 20;
  o.flush_timeout = flags.flush_timeout();
  return o;
}

}  // namespace eventsift::app
