#include "src/app/scan_events.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace eventsift::app {

void AddEventsOptions(po::options_description* opts, EventsFlags* f) {
  po::options_description e("Events sink (docs/events-sink.md)");
  e.add_options()("events-out", po::value(&f->out),
                  "also write every event as ECS/Winlogbeat JSON to FILE ('-': stdout), or "
                  "'kafka' for --events-topic on --kafka-brokers")(
      "events-topic", po::value(&f->topic)->default_value(f->topic), "events topic")(
      "events-kafka-brokers", po::value(&f->brokers),
      "bootstrap servers of the events topic (default: --kafka-brokers)")(
      "events-spool-dir", po::value(&f->spool_dir),
      "durable spool of the events topic (default: $EVENTSIFT_STATE_DIR/spool-events)")(
      "events-channels", po::value(&f->channels), "only these channels (comma-separated)")(
      "events-providers", po::value(&f->providers), "only these providers (comma-separated)")(
      "events-ids", po::value(&f->event_ids), "only these event ids (comma-separated)")(
      "events-matched", po::bool_switch(&f->matched), "only events some rule matched")(
      "events-overflow", po::value(&f->overflow)->default_value(f->overflow),
      "when the events queue is full: block (lose nothing) or drop (counted)")(
      "events-queue-mb", po::value(&f->queue_mb)->default_value(f->queue_mb),
      "events waiting for the output, in MiB");
  opts->add(e);
}

Result<std::unique_ptr<EventSink>> OpenScanEventSink(const EventsFlags& events,
                                                     const KafkaFlags& kafka) {
  if (events.out.empty()) return std::unique_ptr<EventSink>();
  EventSinkOptions eo;
  auto filter =
      EventFilter::Parse(events.channels, events.providers, events.event_ids, events.matched);
  if (!filter) {
    return Status::InvalidArgument(fmt::format("--events-ids: {}", filter.error().message()));
  }
  eo.filter = std::move(filter).value();
  if (events.overflow != "block" && events.overflow != "drop") {
    return Status::InvalidArgument(
        fmt::format("--events-overflow must be block or drop, not '{}'", events.overflow));
  }
  eo.overflow = events.overflow == "drop" ? EventOverflow::kDrop : EventOverflow::kBlock;
  eo.queue_bytes = std::max<uint64_t>(1, events.queue_mb) << 20;
  if (events.to_kafka()) {
    if (!kafka.enabled() && events.brokers.empty()) {
      return Status::InvalidArgument("--events-out kafka needs --kafka-brokers");
    }
    KafkaSinkOptions ko = ToKafkaSinkOptions(kafka);
    if (!events.brokers.empty()) ko.brokers = events.brokers;
    ko.topic = events.topic;
    ko.spool_dir =
        events.spool_dir.empty() ? DefaultStateDir() + "/spool-events" : events.spool_dir;
    ko.log = [](std::string_view line) {
      fmt::print(stderr, "eventsift: kafka events: {}\n", line);
    };
    eo.kafka = std::move(ko);
  } else {
    eo.path = events.out;
  }
  auto sink = EventSink::Open(std::move(eo));
  if (!sink) {
    return Status::InvalidArgument(fmt::format("events sink: {}", sink.error().ToString()));
  }
  return std::move(sink).value();
}

std::string EventsLine(const EventSink& sink) {
  const EventSinkStats& s = sink.stats();
  std::string text = fmt::format("events sink ({}): {} events, {} written, {} filtered out",
                                 sink.name(), s.offered.Get(), s.written.Get(), s.filtered.Get());
  if (const SinkStats* k = sink.kafka_stats(); k != nullptr) {
    text += fmt::format(", {} delivered {} spooled", k->delivered.Get(), k->spooled.Get());
    if (k->failed.Get() > 0) text += fmt::format(" {} FAILED", k->failed.Get());
  }
  if (s.dropped.Get() > 0) text += fmt::format(", {} DROPPED (queue full)", s.dropped.Get());
  if (s.failed.Get() > 0) text += fmt::format(", {} FAILED", s.failed.Get());
  return text;
}

}  // namespace eventsift::app
