#pragma once
// Daemon: `eventsift daemon`. One loop thread reads the sources, runs the
// EventPipeline synchronously, emits alerts to the sinks and checkpoints;
// the metrics endpoint runs in its own thread and only reads counters.
//
//   SIGTERM/SIGINT  stop reading, emit closed windows, flush the sinks,
//                   write the state, exit 0, all within shutdown_timeout_ms
//                   (a watchdog exits non-zero if a sink hangs past it).
//   SIGHUP          reload the config file and the rules; when either is
//                   invalid the reason is logged and the old ones keep
//                   running. state_dir and metrics.address need a restart.
//
// Signals are taken through a signalfd, so the caller must have blocked
// them in every thread first (BlockDaemonSignals, before any thread starts).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/result.h"
#include "src/daemon/config.h"
#include "src/daemon/event_pipeline.h"
#include "src/daemon/hit_journal.h"
#include "src/daemon/metrics_server.h"
#include "src/daemon/partition_lanes.h"
#include "src/daemon/record_ledger.h"
#include "src/daemon/state_store.h"
#include "src/sink/alert_sink.h"
#include "src/source/source.h"

namespace eventsift {
class KafkaSink;
class EventSink;
}  // namespace eventsift

namespace eventsift::daemon {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads it
// starts later) and ignores SIGPIPE. Call first thing in main's thread.
void BlockDaemonSignals();

// Loads the config's rules and TLS files (for --check-config).
Status CheckRules(const DaemonConfig& config);
// The rules the config names, or the default pack.
Result<std::shared_ptr<const detect::RuleSet>> LoadRules(const DaemonConfig& config);
// Makes the config's log format, level and rate limit current.
void ApplyLogConfig(const DaemonConfig& config);

class Daemon {
 public:
  // Loads rules, opens the state directory and restores it, opens sinks and
  // sources. Errors name what failed (startup is an edge: the caller prints
  // them and exits 2).
  static Result<std::unique_ptr<Daemon>> Create(DaemonConfig config);
  // Only Create can make a tag, so every Daemon went through Init.
  struct CreateTag {
    explicit CreateTag() = default;
  };
  Daemon(CreateTag, DaemonConfig config);
  ~Daemon();
  Daemon(const Daemon&) = delete;  // owns threads and descriptors
  Daemon& operator=(const Daemon&) = delete;

  // Runs until a stop signal or the end of every source; returns the exit code.
  int Run();

 private:
  struct SinkEntry {
    SinkConfig config;
    std::unique_ptr<AlertSink> sink;
    KafkaSink* kafka = nullptr;  // borrowed from `sink` when it is Kafka
  };
  struct SourceEntry {
    SourceConfig config;
    std::unique_ptr<source::Source> source;
  };

  Status Init();
  static Result<std::vector<SourceEntry>> MakeSources(const DaemonConfig& config);
  static Result<std::vector<SinkEntry>> MakeSinks(const DaemonConfig& config);
  void Reload();
  // Starts again a source a refused reload had stopped; a failure is logged
  // and counted, the source's open connections keep being read.
  void RestartSource(SourceEntry& e);
  void WireSource(SourceEntry& e);
  // The per-partition correlation state of a Kafka source (made on first use).
  PartitionLanes* LanesFor(const std::string& source_name);
  void EmitAlerts(bool finish);
  bool ImmediatePending() const;  // hits of `emit: immediate` rules wait for a drain
  Status Checkpoint(std::chrono::milliseconds flush_timeout);
  // Tells the sources that what they delivered is durable (Source::Commit);
  // `only_waiting`: those whose CommitDueInMs says something waits.
  void CommitSources(bool only_waiting);
  std::string RenderMetrics() const;
  // Per-client counters and answers of the HTTP sources.
  void RenderHttpMetrics(PromText* p) const;
  std::string Health() const;

  DaemonConfig config_;
  StateStore store_;
  HitJournal journal_;
  // Shared correlation state of the file, stdin and TCP sources.
  std::unique_ptr<EventPipeline> pipeline_;
  // Per Kafka source (by name), per partition. Declared after pipeline_
  // (they count into it) and before sources_ (a consumer closing calls
  // CommitFloor), so both outlive what uses them.
  std::map<std::string, std::unique_ptr<PartitionLanes>> lanes_;
  // Guards the vectors (not the counters) against a reload while /metrics
  // renders them.
  mutable std::mutex objects_mu_;
  std::vector<SourceEntry> sources_;
  std::vector<SinkEntry> sinks_;
  // The events sink (config `events`) and the EventRecordID ledger
  // (`record_ids`); made at start, kept across reloads.
  std::unique_ptr<EventSink> events_;
  std::unique_ptr<RecordLedger> records_;
  MetricsServer metrics_;
  std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
  std::atomic<int64_t> heartbeat_ms_{0};        // loop's last tick (steady clock)
  std::atomic<int64_t> last_checkpoint_ms_{0};  // wall clock of the last good checkpoint
  uint64_t last_saved_mark_ = 0;                // progress when the state was last written
  std::atomic<uint64_t> journal_hits_{0};       // for /metrics
  std::atomic<uint64_t> journal_dropped_{0};
  std::atomic<int64_t> max_event_time_{0};  // FileTime, for /metrics
  std::atomic<int64_t> watermark_{0};
  std::atomic<uint64_t> partition_lanes_{0};  // for /metrics
  Counter checkpoints_written_;
  Counter checkpoint_failures_;
  Counter reloads_ok_;
  Counter reloads_failed_;
  Counter source_restart_failures_;
  Counter sink_errors_;
  // An alert a sink did not take (Send failed): no checkpoint may be taken
  // any more, so a restart re-reads its input and sends it again.
  bool alert_lost_ = false;
};

}  // namespace eventsift::daemon
