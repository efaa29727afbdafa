#pragma once
// The daemon's sources and sinks, built from their config by `type` through
// one explicit table each (fluent-bit's plugin tables, Vector's
// SourceConfig::build). Adding a source type means one row in registry.cc,
// and the daemon's loop never switches on the type to build one.

#include <memory>

#include "src/core/result.h"
#include "src/daemon/config.h"
#include "src/sink/alert_sink.h"
#include "src/source/source.h"
#include "src/source/tls_server.h"

namespace eventsift {
class KafkaSink;
class EventSink;
}  // namespace eventsift

namespace eventsift::daemon {

// A sink built from its config; `kafka` is borrowed from `sink` when it is a
// KafkaSink (the daemon reads its spool counters for /metrics).
struct MadeSink {
  std::unique_ptr<AlertSink> sink;
  KafkaSink* kafka = nullptr;
};

// Builds the source `config` describes, not yet started (Start opens its
// descriptors, so a reload can build all before starting any).
Result<std::unique_ptr<source::Source>> MakeSource(const SourceConfig& config);
// Opens the sink `config` describes; `daemon` supplies shared settings
// (the shutdown bound that sizes a Kafka flush).
Result<MadeSink> MakeSink(const SinkConfig& config, const DaemonConfig& daemon);

// Opens the events sink `config` describes (its writer thread starts).
Result<std::unique_ptr<EventSink>> MakeEventSink(const EventsConfig& config,
                                                 const DaemonConfig& daemon);

source::TlsServerOptions TlsOptionsOf(const TlsConfig& tls);

}  // namespace eventsift::daemon
