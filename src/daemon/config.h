#pragma once
// DaemonConfig: the one YAML file that configures `eventsift daemon`
// (deploy/eventsift.yaml is the documented example, schemas/config.schema.json
// its schema). LoadConfig validates everything before the daemon starts or
// reloads: an error names the key path ("sources[1].port: ...") and the
// running configuration is kept. Unknown keys are errors, so a typo cannot
// silently fall back to a default (Vector's deny_unknown_fields).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/core/result.h"

namespace eventsift::daemon {

enum class SourceType : uint8_t { kDirectory, kStdin, kTcp, kKafka, kHttp, kSyslog, kRelp };
enum class SinkType : uint8_t { kStdout, kFile, kKafka };
enum class LogFormat : uint8_t { kJson, kLogfmt };

// TLS on a tcp or http source (the files are loaded and checked when it starts).
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set: mutual TLS, clients need a cert it signed
  std::string min_version = "1.2";
  int64_t handshake_timeout_ms = 10000;

  bool operator==(const TlsConfig&) const = default;
};

struct SourceConfig {
  std::string name;  // unique; metrics label and checkpoint key
  SourceType type = SourceType::kDirectory;
  // directory
  std::string path;
  std::vector<std::string> include = {"*.json",       "*.ndjson",    "*.jsonl",    "*.evtx",
                                      "*.json.gz",    "*.ndjson.gz", "*.jsonl.gz", "*.json.zst",
                                      "*.ndjson.zst", "*.jsonl.zst"};
  std::vector<std::string> exclude;
  bool start_at_end = false;  // start_at: beginning | end
  int64_t rotate_wait_ms = 2000;
  // Compressed files: cut-short report delay, and decompressed size bound.
  int64_t incomplete_after_ms = 60000;
  uint64_t max_decompressed_bytes = uint64_t{64} << 30;
  // tcp, syslog
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  uint32_t max_connections = 64;
  // A peer that sends nothing for this long is closed; 0: never.
  int64_t idle_timeout_ms = 300000;
  std::optional<TlsConfig> tls;
  // http (also address, port, tls, idle_timeout_ms: keep-alive)
  std::string auth_token_file;  // set: requests need "Authorization: Bearer <token>"
  uint64_t max_body_bytes = 10 << 20;
  uint32_t max_pending_requests = 16;
  int64_t ack_timeout_ms = 30000;
  int64_t commit_delay_ms = 100;
  int64_t retry_after_seconds = 1;
  int64_t backpressure_status = 503;
  // relp (also address, port, tls): the journal that makes `rsp 200` durable;
  // journal_dir defaults to <state_dir>/relp-<name>.
  std::string journal_dir;
  uint64_t journal_max_bytes = uint64_t{1} << 30;
  // kafka (raw events in a consumer group)
  std::string brokers;
  std::string topic;
  std::string group_id = "eventsift";
  std::vector<std::pair<std::string, std::string>> properties;
  // all
  uint64_t max_line_bytes = 1 << 20;

  bool operator==(const SourceConfig&) const = default;
};

struct SinkConfig {
  SinkType type = SinkType::kStdout;
  std::string path;  // file
  // kafka
  std::string brokers;
  std::string topic;
  std::vector<std::pair<std::string, std::string>> properties;
  std::string spool_dir;  // default: <state_dir>/spool
  uint64_t spool_max_bytes = 1ULL << 30;

  bool operator==(const SinkConfig&) const = default;
};

// The events sink (every event as ECS JSON, docs/events-sink.md): a file or
// its own Kafka topic, beside the alert sinks and never in their way.
struct EventsConfig {
  // type file (appended) or kafka; a Kafka spool_dir defaults to
  // <state_dir>/spool-events.
  SinkConfig output;
  std::vector<std::string> channels, providers;
  std::vector<uint32_t> event_ids;
  bool matched_only = false;
  uint64_t queue_bytes = 64u << 20;
  bool drop_when_full = false;  // overflow: drop (counted) instead of block

  bool operator==(const EventsConfig&) const = default;
};

// EventRecordID gaps and repeats per host and channel (docs/operations.md).
struct RecordIdsConfig {
  bool enabled = true;
  uint64_t reorder_window = 100000;
  uint32_t max_ranges = 1024;
  uint32_t max_keys = 100000;
  // Missing records of one host and channel, settled since its last
  // pipeline_gap alert, that raise the next one; 0: no alert.
  uint64_t gap_alert_threshold = 0;

  bool operator==(const RecordIdsConfig&) const = default;
};

struct DaemonConfig {
  std::string path;  // the file it was loaded from
  // Checkpoints and correlation state live here (created if missing).
  std::string state_dir = "/var/lib/eventsift";
  // Upper bound on how old the newest checkpoint can be while running.
  int64_t checkpoint_interval_ms = 5000;
  // SIGTERM: stop reading, drain, flush sinks, checkpoint, exit within this.
  int64_t shutdown_timeout_ms = 20000;
  // Rule files/directories; empty: detect::DefaultRulePaths().
  std::vector<std::string> rule_paths;
  // The Exchange build list (docs/exchange-builds.md); empty:
  // correlate::DefaultBuildCatalogPath().
  std::string exchange_builds;
  // The Exchange CVE list (docs/exchange-cves.md); empty:
  // correlate::DefaultCveCatalogPath().
  std::string exchange_cves;
  // Streaming watermark = newest event time seen - (longest rule window +
  // allowed_lateness): windows ending before it are emitted.
  int64_t allowed_lateness_seconds = 0;
  bool merge_short_host_names = true;
  std::vector<SourceConfig> sources;
  std::vector<SinkConfig> sinks;
  std::optional<EventsConfig> events;
  RecordIdsConfig record_ids;
  // host:port of /healthz and /metrics; empty disables the endpoint.
  std::string metrics_address = "127.0.0.1:9464";
  LogFormat log_format = LogFormat::kJson;
  std::string log_level = "info";
  // The same input error (source + kind) is logged at most this many times a
  // minute; the rest are counted (metrics) and summarised.
  uint32_t log_max_repeats_per_minute = 10;
  // Stop (drain, flush, exit 0) once every source has ended (stdin at EOF).
  bool exit_when_sources_end = true;
};

// Reads and validates the file. Never throws.
Result<DaemonConfig> LoadConfig(const std::string& path);
// Validates YAML text (`origin` names it in errors). Never throws.
Result<DaemonConfig> ParseConfig(const std::string& yaml_text, const std::string& origin);

std::string_view SourceTypeName(SourceType t);
std::string_view SinkTypeName(SinkType t);

}  // namespace eventsift::daemon
