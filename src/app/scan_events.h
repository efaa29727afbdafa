#pragma once
// scan's events sink flags (--events-*): parsing, --help, opening the sink
// they describe, and its summary line.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/program_options/options_description.hpp>

#include "src/app/kafka_flags.h"
#include "src/core/result.h"
#include "src/sink/event_sink.h"

namespace eventsift::app {

struct EventsFlags {
  std::string out;  // FILE, "-" or "kafka"; empty: no events sink
  std::string topic = "eventsift.events";
  std::string brokers;    // default: --kafka-brokers
  std::string spool_dir;  // default: DefaultStateDir()/spool-events
  std::string channels, providers, event_ids, overflow = "block";
  bool matched = false;
  uint64_t queue_mb = 64;

  bool to_kafka() const { return out == "kafka"; }
};

void AddEventsOptions(boost::program_options::options_description* opts, EventsFlags* flags);

// The sink --events-out asks for (null when it is not given), sending to
// Kafka with the alerts' -X properties and flush timeout. An error is a
// usage error; its message is ready to print after "eventsift scan: ".
Result<std::unique_ptr<EventSink>> OpenScanEventSink(const EventsFlags& events,
                                                     const KafkaFlags& kafka);

// "events sink (kafka): N events, N written, ...": the summary line.
std::string EventsLine(const EventSink& sink);

}  // namespace eventsift::app
