#pragma once
// KafkaSink: alerts to an Apache Kafka topic through librdkafka, at least
// once: an alert is delivered only when its delivery report says so; what the
// broker refuses or what times out goes to the durable spool (src/spool/).
//
// Messages: key = Alert::host (the normalized host, so one host's alerts stay
// in one partition, in order), value = the alert JSON, headers
// kSchemaHeader = kAlertSchemaVersion and kRuleHeader = the rule id.
//
// Order: while the spool holds anything, new alerts are appended to it rather
// than produced, and a background thread replays the spool in order whenever
// the brokers answer; once it is empty, alerts go straight to the producer
// again. docs/kafka.md has the guarantees and the at-least-once bound.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/result.h"
#include "src/sink/alert_sink.h"
#include "src/sink/kafka/kafka_config.h"

namespace eventsift {

inline constexpr char kSchemaHeader[] = "eventsift.schema";
inline constexpr char kRuleHeader[] = "eventsift.rule_id";

struct KafkaSinkOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic;
  // The kSchemaHeader value: the alert schema, or the events sink's.
  std::string schema = kAlertSchemaVersion;
  // What one message is, in log lines ("alert", or the events sink's
  // "event"), so an operator reading them knows which topic they are about.
  std::string item = "alert";
  // This producer's own defaults (the events sink's compression, say): set
  // after eventsift's (compression.type zstd where librdkafka has it, else
  // lz4; linger.ms 5; ...) and before `properties`, which override them.
  KafkaProperties defaults;
  // Passed through to librdkafka as-is (-X key=value): TLS, SASL, tuning.
  KafkaProperties properties;
  // Directory of the durable spool for undelivered alerts.
  std::string spool_dir;
  uint64_t spool_max_bytes = 1ULL << 30;
  // Bound on the final flush; what is still undelivered then is spooled.
  std::chrono::milliseconds flush_timeout{30000};
  // How long Open waits for the brokers to answer a metadata request for the
  // topic. When they do not (or the topic is missing), alerts go to the spool
  // at once instead of each waiting for message.timeout.ms.
  std::chrono::milliseconds connect_timeout{5000};
  // Delay between replay attempts while the brokers are unreachable.
  std::chrono::milliseconds replay_backoff{1000};
  // Replay the spool in the background (start, and whenever the brokers come
  // back). Off only for `eventsift spool status`-like tools and tests.
  bool replay = true;
  // Also retry alerts parked as rejected (e.g. over the broker's size limit),
  // after the limit was raised: `eventsift spool replay --rejected`.
  bool replay_rejected = false;
  // Where operational messages go (one line each, no trailing newline).
  // Default: stderr with an "eventsift: kafka: " prefix. Never gets secrets.
  std::function<void(std::string_view)> log;
};

// Counters beyond SinkStats, for logs, `spool replay` and the daemon.
struct KafkaSinkCounters {
  uint64_t replayed = 0;          // spool records (of earlier runs) delivered
  uint64_t spool_pending = 0;     // records in the spool, not yet acknowledged
  uint64_t rejected_pending = 0;  // records parked as rejected (size limit...)
  std::string last_error;         // last broker/transport error, "" if none
  // Delivery latency of the alerts counted as delivered, from produce
  // to delivery report (librdkafka's rd_kafka_message_latency), as a
  // Prometheus histogram: latency_buckets[i] counts deliveries at or under
  // kLatencyBucketsSeconds[i] (cumulative); latency_count is all of them.
  static constexpr std::array<double, 8> kLatencyBucketsSeconds = {0.005, 0.01, 0.05, 0.1,
                                                                   0.5,   1,    5,    30};
  std::array<uint64_t, 8> latency_buckets{};
  uint64_t latency_count = 0;
  double latency_sum_seconds = 0;
};

class KafkaSink : public AlertSink {
 public:
  static Result<std::unique_ptr<KafkaSink>> Open(const KafkaSinkOptions& options);
  // Flushes with flush_timeout unless Flush was called, then stops.
  ~KafkaSink() override;
  KafkaSink(const KafkaSink&) = delete;  // owns the producer and its thread
  KafkaSink& operator=(const KafkaSink&) = delete;

  std::string_view name() const override { return "kafka"; }
  // Counts in stats(): delivered once the broker acknowledged it, spooled
  // while it waits in the spool, failed when it could be neither.
  Status Send(const Alert& alert, std::string_view json) override;
  // The producer references the shared JSON instead of copying it into its
  // queue (a copy and a fresh 3.7 KB allocation per alert otherwise), and
  // lets go of it after the alert's delivery report; failed or purged, it
  // is spooled from those bytes first.
  Status SendShared(const Alert& alert, std::shared_ptr<const std::string> json) override;
  // The same with the message fields given directly (tools and tests).
  Status SendMessage(std::string_view key, std::string_view rule_id, std::string_view json);
  // Messages whose bytes `owner` keeps alive: the producer references them
  // instead of copying each into its queue, and lets go of `owner` after the
  // last one's delivery report. For many messages rendered into one buffer
  // (the events sink). Otherwise SendMessage for each, in order.
  struct BorrowedMessage {
    std::string_view key, rule_id, json;
  };
  Status SendBorrowed(const std::vector<BorrowedMessage>& messages,
                      std::shared_ptr<const void> owner);
  Status Flush(std::chrono::milliseconds timeout) override;
  // Waits until the spool is empty (replayed) or `timeout` passes.
  Status DrainSpool(std::chrono::milliseconds timeout);
  KafkaSinkCounters counters() const;
  // The producer's effective value of a librdkafka property ("" if unknown).
  std::string property(const std::string& name) const;

  class Impl;

 private:
  explicit KafkaSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

Result<std::unique_ptr<AlertSink>> NewKafkaSink(const KafkaSinkOptions& options);

}  // namespace eventsift
