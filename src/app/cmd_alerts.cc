// `eventsift alerts`: follows the Kafka alert topic and prints each alert, as
// the NDJSON the producer wrote or as table rows (docs/consumers.md).
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "src/alert/alert_json.h"
#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/app/kafka_flags.h"
#include "src/core/time_util.h"
#include "src/sink/kafka/kafka_config.h"
#include "src/sink/kafka/kafka_sink.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kUsage[] =
    "Usage: eventsift alerts --kafka-brokers B [--kafka-topic T] [--group G] [--from-beginning]\n"
    "                        [--format json|table] [--max-messages N] [--timeout S] [-X k=v]...\n\n"
    "Follows the alert topic and prints alerts: 'json' prints each message value\n"
    "(one alert object per line) as the producer wrote it; 'table' one row each.\n"
    "Without --group nothing is committed and only new alerts are shown unless\n"
    "--from-beginning; with --group the group's committed position is resumed.\n"
    "Alerts may be delivered more than once: de-duplicate on alert_id.\n\n"
    "Examples:\n"
    "  eventsift alerts --kafka-brokers 127.0.0.1:9092 --from-beginning --format table --timeout "
    "5\n"
    "  eventsift alerts --kafka-brokers kafka:9093 -X security.protocol=SASL_SSL \\\n"
    "      -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=siem -X sasl.password=... --group "
    "siem\n\n"
    "Options";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct PartitionsDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

// The last transport error, reported once at exit if nothing was received.
struct ErrorState {
  std::string last;
  bool fatal = false;
};

void OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* state = static_cast<ErrorState*>(opaque);
  state->last =
      reason != nullptr ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__FATAL)
    state->fatal = true;
}

std::string Cell(std::string_view s, size_t width) {
  std::string out(s.substr(0, width));
  if (s.size() > width && width > 1) out.back() = '~';
  return out;
}

void PrintTableHeader() {
  fmt::print("{:<20}  {:<8}  {:<28}  {:<24}  {:>6}  {}\n", "LAST SEEN (UTC)", "SEVERITY", "HOST",
             "RULE", "COUNT", "ALERT ID");
}

void PrintTableRow(std::string_view json) {
  auto alert = ParseAlertJson(json);
  if (!alert) {
    fmt::print(stderr, "eventsift alerts: skipping a message that is not an alert: {}\n",
               alert.error().ToString());
    return;
  }
  const Alert& a = alert.value();
  fmt::print("{:<20}  {:<8}  {:<28}  {:<24}  {:>6}  {}\n",
             a.last_seen != 0 ? FormatRfc3339(a.last_seen, 0) : std::string("-"),
             Cell(a.rule.severity, 8), Cell(a.host, 28), Cell(a.rule.id, 24), a.count, a.alert_id);
}

}  // namespace

int RunAlerts(const std::vector<std::string>& args) {
  std::string brokers, topic = "eventsift.alerts", group, format = "json";
  std::vector<std::string> properties;
  uint64_t max_messages = 0;
  double timeout_s = 0;
  po::options_description opts(kUsage);
  opts.add_options()("help,h", "show this help")("kafka-brokers", po::value(&brokers),
                                                 "bootstrap servers (required)")(
      "kafka-topic", po::value(&topic)->default_value(topic), "alert topic")(
      "group", po::value(&group), "consumer group: commit and resume the position")(
      "from-beginning",
      "start at the oldest alert kept by the topic (when the group has no position)")(
      "format", po::value(&format)->default_value(format), "json (the message values) or table")(
      "max-messages", po::value(&max_messages)->default_value(0),
      "exit after N alerts (0: no limit)")(
      "timeout", po::value(&timeout_s)->default_value(0),
      "exit after S seconds without a new alert (0: follow until Ctrl-C)")(
      "kafka-property,X", po::value(&properties)->composing(),
      "librdkafka property key=value, repeatable (TLS, SASL)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0) {
    std::ostringstream help;
    help << opts;
    fmt::print("{}\n", help.str());
    return kExitOk;
  }
  if (brokers.empty() || topic.empty()) {
    fmt::print(stderr, "eventsift alerts: --kafka-brokers and --kafka-topic are required\n");
    return kExitUsage;
  }
  if (format != "json" && format != "table") {
    fmt::print(stderr, "eventsift alerts: --format must be json or table\n");
    return kExitUsage;
  }
  bool commit = !group.empty();
  if (group.empty()) {
    // A private group: sees every partition, commits nothing.
    group = fmt::format("eventsift-alerts-{}-{}", ::getpid(),
                        std::chrono::steady_clock::now().time_since_epoch().count());
  }

  auto user = ParseKafkaPropertyFlags(properties);
  if (!user.has_value()) {
    fmt::print(stderr, "eventsift alerts: {}\n", user.error().message());
    return kExitUsage;
  }
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  char errstr[512];
  const KafkaProperties defaults = {
      {"bootstrap.servers", brokers},
      {"group.id", group},
      {"client.id", "eventsift-alerts"},
      {"auto.offset.reset", vm.count("from-beginning") != 0 ? "earliest" : "latest"},
      {"enable.auto.commit", commit ? "true" : "false"},
      {"log_level", "0"},  // errors come through the error callback
  };
  if (Status st = ApplyKafkaProperties(conf.get(), defaults, user.value()); !st.ok()) {
    fmt::print(stderr, "eventsift alerts: {}\n", st.message());
    return kExitUsage;
  }
  ErrorState errors;
  rd_kafka_conf_set_opaque(conf.get(), &errors);
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (raw == nullptr) {
    fmt::print(stderr, "eventsift alerts: cannot create Kafka consumer: {}\n", errstr);
    return kExitUsage;
  }
  (void)conf.release();  // owned by the consumer now
  std::unique_ptr<rd_kafka_t, KafkaDeleter> consumer(raw);
  rd_kafka_poll_set_consumer(consumer.get());
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionsDeleter> topics(
      rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer.get(), topics.get())) {
    fmt::print(stderr, "eventsift alerts: subscribe to '{}': {}\n", topic, rd_kafka_err2str(err));
    return kExitFailure;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  if (format == "table") PrintTableHeader();
  uint64_t received = 0;
  int exit_code = kExitOk;
  auto idle_limit = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  auto last_activity = std::chrono::steady_clock::now();
  while (!g_stop) {
    if (max_messages != 0 && received >= max_messages) break;
    if (idle_limit.count() > 0 && std::chrono::steady_clock::now() - last_activity >= idle_limit)
      break;
    if (errors.fatal && received == 0) break;
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
        rd_kafka_consumer_poll(consumer.get(), 100));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
          m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        fmt::print(stderr, "eventsift alerts: topic '{}': {}\n", topic,
                   rd_kafka_message_errstr(m.get()));
        exit_code = kExitFailure;
        break;
      }
      errors.last = rd_kafka_message_errstr(m.get());
      continue;
    }
    last_activity = std::chrono::steady_clock::now();
    ++received;
    std::string_view value(static_cast<const char*>(m->payload), m->len);
    if (format == "json") {
      fmt::print("{}\n", value);
    } else {
      PrintTableRow(value);
    }
    std::fflush(stdout);
  }
  if (received == 0 && !errors.last.empty()) {
    // Nothing arrived and the brokers complained: say why, once.
    fmt::print(stderr, "eventsift alerts: no alerts received from {}: {}\n", brokers, errors.last);
    if (exit_code == kExitOk) exit_code = kExitFailure;
  }
  fmt::print(stderr, "eventsift alerts: {} alerts\n", received);
  return exit_code;
}

}  // namespace eventsift::app
