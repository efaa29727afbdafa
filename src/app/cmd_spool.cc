// `eventsift spool status|replay|drop`: see and manage the durable spool of
// alerts that Kafka has not acknowledged yet (docs/kafka.md).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/app/kafka_flags.h"
#include "src/event/event_ecs_json.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/spool/spool.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kUsage[] =
    "Usage: eventsift spool status [--spool-dir D] [--format text|json]\n"
    "       eventsift spool replay --kafka-brokers B [--kafka-topic T] [-X k=v]... [--spool-dir "
    "D]\n"
    "                              [--timeout S] [--rejected]\n"
    "       eventsift spool drop [--spool-dir D] [--rejected]\n\n"
    "The spool keeps alerts that Kafka has not acknowledged (broker down, refused,\n"
    "timed out); scan and daemon replay it in order at start and when the brokers\n"
    "come back. 'replay' does it now; 'drop' deletes the alerts for good.\n"
    "'rejected' alerts are ones the broker refused for good (over its size limit):\n"
    "raise the limit, then 'replay --rejected'.\n\n"
    "Examples:\n"
    "  eventsift spool status\n"
    "  eventsift spool replay --kafka-brokers 127.0.0.1:9092 --kafka-topic eventsift.alerts\n"
    "  eventsift spool drop --rejected\n\nOptions";

// The same default as scan and daemon (src/app/kafka_flags.h).
std::string DefaultSpoolDir() { return DefaultStateDir() + "/spool"; }

Result<SpoolStatus> Inspect(const std::string& dir) {
  SpoolOptions o;
  o.dir = dir;
  o.read_only = true;
  auto spool = Spool::Open(o);
  if (!spool) {
    if (spool.error().code() == StatusCode::kNotFound) return SpoolStatus{};
    return spool.error();
  }
  return spool.value()->GetStatus();
}

int ShowStatus(const std::string& dir, const std::string& format) {
  auto main = Inspect(dir);
  auto rejected = Inspect(dir + "/rejected");
  if (!main || !rejected) {
    fmt::print(stderr, "eventsift spool: {}\n",
               (!main ? main.error() : rejected.error()).ToString());
    return kExitFailure;
  }
  const SpoolStatus& m = main.value();
  const SpoolStatus& r = rejected.value();
  if (format == "json") {
    fmt::print(
        "{{\"spool_dir\":\"{}\",\"pending\":{},\"pending_bytes\":{},\"segments\":{},\"rejected\":{}"
        ","
        "\"acked_seq\":{},\"next_seq\":{},\"truncated_bytes\":{}}}\n",
        dir, m.pending_records, m.pending_bytes, m.segments, r.pending_records, m.acked_seq,
        m.next_seq, m.truncated_bytes + r.truncated_bytes);
    return kExitOk;
  }
  fmt::print("spool:     {}\n", dir);
  fmt::print("pending:   {} alerts ({} bytes in {} segments)\n", m.pending_records, m.pending_bytes,
             m.segments);
  fmt::print("rejected:  {} alerts (refused by the broker for good; see 'replay --rejected')\n",
             r.pending_records);
  fmt::print("cursor:    acknowledged through record {}, next record {}\n", m.acked_seq,
             m.next_seq);
  if (m.truncated_bytes + r.truncated_bytes > 0) {
    fmt::print(
        "torn tail: {} bytes of an interrupted write (dropped when the spool is next opened)\n",
        m.truncated_bytes + r.truncated_bytes);
  }
  return kExitOk;
}

int Drop(const std::string& dir, bool rejected) {
  SpoolOptions o;
  o.dir = rejected ? dir + "/rejected" : dir;
  auto spool = Spool::Open(o);
  if (!spool) {
    fmt::print(stderr, "eventsift spool drop: {}\n", spool.error().ToString());
    return kExitFailure;
  }
  uint64_t n = spool.value()->GetStatus().pending_records;
  if (Status st = spool.value()->Drop(); !st.ok()) {
    fmt::print(stderr, "eventsift spool drop: {}\n", st.ToString());
    return kExitFailure;
  }
  fmt::print("dropped {} {}alerts from {}\n", n, rejected ? "rejected " : "", o.dir);
  return kExitOk;
}

int Replay(KafkaSinkOptions options, double timeout_s) {
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  auto sink = KafkaSink::Open(options);
  if (!sink) {
    fmt::print(stderr, "eventsift spool replay: {}\n", sink.error().ToString());
    return sink.error().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  KafkaSink& s = *sink.value();
  uint64_t before = s.counters().spool_pending;
  Status drained = s.DrainSpool(timeout);
  Status flushed = s.Flush(std::chrono::milliseconds(2000));
  KafkaSinkCounters c = s.counters();
  fmt::print("replayed {} of {} spooled alerts; {} still spooled, {} rejected\n", c.replayed,
             before, c.spool_pending, c.rejected_pending);
  if (!drained.ok() || !flushed.ok()) {
    fmt::print(stderr, "eventsift spool replay: {}\n",
               (!drained.ok() ? drained : flushed).ToString());
    return kExitSinkError;
  }
  return c.spool_pending == 0 ? kExitOk : kExitSinkError;
}

}  // namespace

int RunSpool(const std::vector<std::string>& args) {
  std::string action, spool_dir, format = "text";
  KafkaSinkOptions kafka;
  kafka.topic = "eventsift.alerts";
  std::vector<std::string> properties;
  double timeout_s = 60;
  po::options_description opts(kUsage);
  opts.add_options()("help,h", "show this help")(
      "spool-dir", po::value(&spool_dir), "spool directory (default: $EVENTSIFT_STATE_DIR/spool)")(
      "format", po::value(&format)->default_value(format), "status output: text or json")(
      "kafka-brokers", po::value(&kafka.brokers), "bootstrap servers (replay)")(
      "kafka-topic", po::value(&kafka.topic)->default_value(kafka.topic), "alert topic (replay)")(
      "kafka-property,X", po::value(&properties)->composing(),
      "librdkafka property key=value, repeatable (replay: TLS, SASL)")(
      "timeout", po::value(&timeout_s)->default_value(timeout_s),
      "replay: seconds to wait for the spool to drain")(
      "rejected", "replay or drop the alerts parked as rejected")(
      "events",
      "the spool holds events (the events sink's, docs/events-sink.md): replay them with the "
      "event schema header");
  po::options_description hidden;
  hidden.add_options()("action", po::value(&action));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("action", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0 || action.empty()) {
    std::ostringstream help;
    help << opts;
    fmt::print(vm.count("help") != 0 ? stdout : stderr, "{}\n", help.str());
    return vm.count("help") != 0 ? kExitOk : kExitUsage;
  }
  if (spool_dir.empty()) spool_dir = DefaultSpoolDir();
  bool rejected = vm.count("rejected") != 0;
  if (action == "status") {
    if (format != "text" && format != "json") {
      fmt::print(stderr, "eventsift spool: --format must be text or json\n");
      return kExitUsage;
    }
    return ShowStatus(spool_dir, format);
  }
  if (action == "drop") return Drop(spool_dir, rejected);
  if (action == "replay") {
    if (kafka.brokers.empty()) {
      fmt::print(stderr, "eventsift spool replay: --kafka-brokers is required\n");
      return kExitUsage;
    }
    auto user = ParseKafkaPropertyFlags(properties);
    if (!user.has_value()) {
      fmt::print(stderr, "eventsift spool replay: {}\n", user.error().message());
      return kExitUsage;
    }
    kafka.properties = std::move(user).value();
    kafka.spool_dir = spool_dir;
    kafka.replay_rejected = rejected;
    if (vm.count("events") != 0) kafka.schema = kEventSchemaVersion;
    return Replay(kafka, timeout_s);
  }
  fmt::print(stderr, "eventsift spool: unknown action '{}' (status, replay or drop)\n", action);
  return kExitUsage;
}

}  // namespace eventsift::app
