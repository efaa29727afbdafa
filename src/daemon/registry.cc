#include "src/daemon/registry.h"

#include <chrono>

#include <fmt/format.h>

#include "src/daemon/log.h"
#include "src/sink/event_sink.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/sink/stream_sink.h"
#include "src/source/dir_source.h"
#include "src/source/http_source.h"
#include "src/source/kafka_source.h"
#include "src/source/relp_source.h"
#include "src/source/stream_source.h"
#include "src/source/tcp_source.h"

namespace eventsift::daemon {

namespace {

using std::chrono::milliseconds;

std::unique_ptr<source::Source> MakeDirectory(const SourceConfig& sc) {
  source::DirSourceOptions o;
  o.path = sc.path;
  o.include = sc.include;
  o.exclude = sc.exclude;
  o.start_at_end = sc.start_at_end;
  o.max_line_bytes = sc.max_line_bytes;
  o.rotate_wait = milliseconds(sc.rotate_wait_ms);
  o.incomplete_after = milliseconds(sc.incomplete_after_ms);
  o.max_decompressed_bytes = sc.max_decompressed_bytes;
  return std::make_unique<source::DirSource>(sc.name, o);
}

std::unique_ptr<source::Source> MakeStdin(const SourceConfig& sc) {
  source::StreamSourceOptions o;
  o.max_line_bytes = sc.max_line_bytes;
  return std::make_unique<source::StreamSource>(sc.name, o);
}

source::TcpSourceOptions TcpOptionsOf(const SourceConfig& sc) {
  source::TcpSourceOptions o;
  o.address = sc.address;
  o.port = sc.port;
  o.max_connections = sc.max_connections;
  o.idle_timeout = milliseconds(sc.idle_timeout_ms);
  o.max_line_bytes = sc.max_line_bytes;
  if (sc.tls) {
    o.tls = TlsOptionsOf(*sc.tls);
    o.handshake_timeout = milliseconds(sc.tls->handshake_timeout_ms);
  }
  return o;
}

std::unique_ptr<source::Source> MakeTcp(const SourceConfig& sc) {
  return std::make_unique<source::TcpSource>(sc.name, TcpOptionsOf(sc));
}

// Syslog over TCP: the TCP listener with syslog framing.
std::unique_ptr<source::Source> MakeSyslog(const SourceConfig& sc) {
  source::TcpSourceOptions o = TcpOptionsOf(sc);
  o.framing = source::TcpFraming::kSyslog;
  return std::make_unique<source::TcpSource>(sc.name, o);
}

std::unique_ptr<source::Source> MakeRelp(const SourceConfig& sc) {
  source::RelpSourceOptions o;
  o.address = sc.address;
  o.port = sc.port;
  o.max_line_bytes = sc.max_line_bytes;
  o.journal_dir = sc.journal_dir;
  o.journal_max_bytes = sc.journal_max_bytes;
  if (sc.tls) o.tls = TlsOptionsOf(*sc.tls);
  return std::make_unique<source::RelpSource>(sc.name, o);
}

std::unique_ptr<source::Source> MakeHttp(const SourceConfig& sc) {
  source::HttpSourceOptions o;
  o.address = sc.address;
  o.port = sc.port;
  if (sc.tls) o.tls = TlsOptionsOf(*sc.tls);
  o.auth_token_file = sc.auth_token_file;
  o.max_body_bytes = sc.max_body_bytes;
  o.max_line_bytes = sc.max_line_bytes;
  o.max_pending = sc.max_pending_requests;
  o.ack_timeout = milliseconds(sc.ack_timeout_ms);
  o.commit_delay = milliseconds(sc.commit_delay_ms);
  o.retry_after_seconds = static_cast<int>(sc.retry_after_seconds);
  o.backpressure_status = static_cast<int>(sc.backpressure_status);
  o.idle_timeout = milliseconds(sc.idle_timeout_ms);
  o.on_error = [name = sc.name](const std::string& client, const std::string& what) {
    Logger::Get().LogLimited(LogLevel::kWarn, name + ":http", "http batch refused records",
                             {{"source", name}, {"client", client}, {"error", what}});
  };
  return std::make_unique<source::HttpSource>(sc.name, o);
}

std::unique_ptr<source::Source> MakeKafka(const SourceConfig& sc) {
  source::KafkaSourceOptions o;
  o.brokers = sc.brokers;
  o.topic = sc.topic;
  o.group_id = sc.group_id;
  o.properties = sc.properties;
  o.max_line_bytes = sc.max_line_bytes;
  return std::make_unique<source::KafkaSource>(sc.name, o);
}

Result<MadeSink> MakeStdoutSink(const SinkConfig&, const DaemonConfig&) {
  ES_ASSIGN_OR_RETURN(s, StreamSink::Open("-"));
  return MadeSink{std::move(s), nullptr};
}

Result<MadeSink> MakeFileSink(const SinkConfig& sc, const DaemonConfig&) {
  // Appended: a restart must not erase what was already delivered.
  ES_ASSIGN_OR_RETURN(s, StreamSink::Open(sc.path, /*append=*/true));
  return MadeSink{std::move(s), nullptr};
}

// The producer options of a Kafka sink's config; `what` prefixes its log lines.
KafkaSinkOptions KafkaOptionsOf(const SinkConfig& sc, const DaemonConfig& c, std::string what) {
  KafkaSinkOptions o;
  o.brokers = sc.brokers;
  o.topic = sc.topic;
  o.properties = sc.properties;
  o.spool_dir = sc.spool_dir;
  o.spool_max_bytes = sc.spool_max_bytes;
  o.flush_timeout = milliseconds(c.shutdown_timeout_ms / 2);
  o.log = [what](std::string_view line) { LogWarn(what, {{"detail", line}}); };
  return o;
}

Result<MadeSink> MakeKafkaSink(const SinkConfig& sc, const DaemonConfig& c) {
  ES_ASSIGN_OR_RETURN(s, KafkaSink::Open(KafkaOptionsOf(sc, c, "kafka")));
  KafkaSink* kafka = s.get();
  return MadeSink{std::move(s), kafka};
}

struct SourceMaker {
  SourceType type;
  std::unique_ptr<source::Source> (*make)(const SourceConfig&);
};
constexpr SourceMaker kSourceMakers[] = {
    {SourceType::kDirectory, &MakeDirectory},
    {SourceType::kStdin, &MakeStdin},
    {SourceType::kTcp, &MakeTcp},
    {SourceType::kKafka, &MakeKafka},
    {SourceType::kHttp, &MakeHttp},
    {SourceType::kSyslog, &MakeSyslog},
    {SourceType::kRelp, &MakeRelp},
};

struct SinkMaker {
  SinkType type;
  Result<MadeSink> (*make)(const SinkConfig&, const DaemonConfig&);
};
constexpr SinkMaker kSinkMakers[] = {
    {SinkType::kStdout, &MakeStdoutSink},
    {SinkType::kFile, &MakeFileSink},
    {SinkType::kKafka, &MakeKafkaSink},
};

}  // namespace

source::TlsServerOptions TlsOptionsOf(const TlsConfig& t) {
  return source::TlsServerOptions{t.cert_file, t.key_file, t.client_ca_file, t.min_version};
}

Result<std::unique_ptr<source::Source>> MakeSource(const SourceConfig& config) {
  for (const auto& m : kSourceMakers) {
    if (m.type == config.type) return m.make(config);
  }
  return Status::InvalidArgument(
      fmt::format("source '{}': no maker for type '{}'", config.name, SourceTypeName(config.type)));
}

Result<std::unique_ptr<EventSink>> MakeEventSink(const EventsConfig& ec, const DaemonConfig& c) {
  EventSinkOptions o;
  o.filter.channels = ec.channels;
  o.filter.providers = ec.providers;
  o.filter.event_ids = ec.event_ids;
  o.filter.matched_only = ec.matched_only;
  o.queue_bytes = ec.queue_bytes;
  o.overflow = ec.drop_when_full ? EventOverflow::kDrop : EventOverflow::kBlock;
  if (ec.output.type == SinkType::kKafka) {
    o.kafka = KafkaOptionsOf(ec.output, c, "kafka events");
  } else {
    o.path = ec.output.path;
    o.append = true;  // a restart must not erase what was written
  }
  return EventSink::Open(std::move(o));
}

Result<MadeSink> MakeSink(const SinkConfig& config, const DaemonConfig& daemon) {
  for (const auto& m : kSinkMakers) {
    if (m.type == config.type) return m.make(config, daemon);
  }
  return Status::InvalidArgument(
      fmt::format("sink: no maker for type '{}'", SinkTypeName(config.type)));
}

}  // namespace eventsift::daemon
