#include "src/daemon/daemon.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <csignal>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "src/alert/alert_json.h"
#include "src/correlate/build_catalog.h"
#include "src/correlate/cve_catalog.h"
#include "src/daemon/clock.h"
#include "src/daemon/log.h"
#include "src/daemon/registry.h"
#include "src/sink/event_sink.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/source/kafka_source.h"
#include "src/source/tls_server.h"
#include "src/source/unique_fd.h"

namespace eventsift::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Bytes one source may deliver per loop turn: fairness between sources, and
// the bound on work between two checks for signals.
constexpr size_t kPollBudget = 1 << 20;
constexpr milliseconds kIdleWait{200};
constexpr milliseconds kDrainInterval{500};
// Sooner when hits of `emit: immediate` rules wait: their alerts are due as
// soon as a window reaches its threshold (docs/rules.md).
constexpr milliseconds kImmediateDrainInterval{100};
// After a failed checkpoint, one a waiting source asks for is not tried
// again sooner than this.
constexpr milliseconds kCommitRetryWait{1000};
// /healthz fails when the loop has not ticked for this long.
constexpr int64_t kStallMs = 30000;

}  // namespace

Result<std::shared_ptr<const detect::RuleSet>> LoadRules(const DaemonConfig& c) {
  auto rules =
      detect::RuleSet::Load(c.rule_paths.empty() ? detect::DefaultRulePaths() : c.rule_paths);
  // Refused Sigma rules do not stop the daemon, but each is logged so none
  // is dropped silently (`eventsift rules check` lists them too).
  if (rules.has_value()) {
    for (const Status& refused : rules.value()->sigma_refused()) {
      LogWarn("sigma rule refused", {{"reason", refused.ToString()}});
    }
  }
  return rules;
}

void ApplyLogConfig(const DaemonConfig& c) {
  Logger::Get().Configure(c.log_format, ParseLogLevel(c.log_level), c.log_max_repeats_per_minute);
}

Status CheckRules(const DaemonConfig& config) {
  auto rules = LoadRules(config);
  if (!rules.has_value()) return rules.error();
  auto builds = correlate::LoadBuildCatalog(config.exchange_builds);
  if (!builds.has_value()) return builds.error();
  auto cves = correlate::LoadCveCatalog(config.exchange_cves);
  if (!cves.has_value()) return cves.error();
  // TLS files are loaded as the source would (readable, PEM, key matches).
  for (const auto& sc : config.sources) {
    if (!sc.tls) continue;
    auto tls = source::TlsServer::Create(TlsOptionsOf(*sc.tls));
    if (!tls.has_value())
      return Status::InvalidArgument(
          fmt::format("source '{}': {}", sc.name, tls.error().ToString()));
  }
  return Status::OK();
}

void BlockDaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A TCP peer or stdout reader going away must be an error, not a kill.
  signal(SIGPIPE, SIG_IGN);
}

Daemon::Daemon(CreateTag, DaemonConfig config)
    : config_(std::move(config)), store_(config_.state_dir) {}

Daemon::~Daemon() { metrics_.Stop(); }

Result<std::unique_ptr<Daemon>> Daemon::Create(DaemonConfig config) {
  auto d = std::make_unique<Daemon>(CreateTag(), std::move(config));
  ES_RETURN_IF_ERROR(d->Init());
  return d;
}

Result<std::vector<Daemon::SourceEntry>> Daemon::MakeSources(const DaemonConfig& c) {
  std::vector<SourceEntry> out;
  for (const auto& sc : c.sources) {
    ES_ASSIGN_OR_RETURN(source, MakeSource(sc));
    out.push_back(SourceEntry{sc, std::move(source)});
  }
  return out;
}

Result<std::vector<Daemon::SinkEntry>> Daemon::MakeSinks(const DaemonConfig& c) {
  std::vector<SinkEntry> out;
  for (const auto& sc : c.sinks) {
    ES_ASSIGN_OR_RETURN(made, MakeSink(sc, c));
    out.push_back(SinkEntry{sc, std::move(made.sink), made.kafka});
  }
  return out;
}

Status Daemon::Init() {
  ApplyLogConfig(config_);
  ES_RETURN_IF_ERROR(store_.Open());
  DaemonState state;
  auto loaded = store_.Load();
  if (loaded.has_value()) {
    state = std::move(loaded).value();
    last_checkpoint_ms_ = state.saved_at_unix_ms;
  } else if (loaded.error().code() != StatusCode::kNotFound) {
    // Starting without it would read every file again and re-alert: refuse.
    return Status::Corruption(
        fmt::format("{} (move the file away to start from scratch)", loaded.error().ToString()));
  }
  auto loaded_rules = LoadRules(config_);
  if (!loaded_rules.has_value()) return loaded_rules.error();
  // Loaded at start so a missing or broken list stops the daemon here, not
  // at its first alert.
  ES_RETURN_IF_ERROR(correlate::LoadDefaultBuildCatalog(config_.exchange_builds));
  ES_RETURN_IF_ERROR(correlate::LoadDefaultCveCatalog(config_.exchange_cves));
  std::shared_ptr<const detect::RuleSet> rules = std::move(loaded_rules).value();
  journal_.LoadFrom(state);
  pipeline_ = std::make_unique<EventPipeline>(
      rules, correlate::CorrelatorOptions{config_.merge_short_host_names},
      config_.allowed_lateness_seconds, &journal_);
  pipeline_->set_max_event_time(state.max_event_time);
  for (const auto& sc : config_.sources) {
    if (sc.type == SourceType::kKafka) LanesFor(sc.name)->Restore(state.partitions);
  }

  auto made = MakeSources(config_);
  if (!made.has_value()) return made.error();
  std::vector<SourceEntry> sources = std::move(made).value();
  for (auto& e : sources) {
    std::vector<source::FileCheckpoint> mine;
    for (const auto& f : state.files) {
      if (f.source == e.config.name) mine.push_back(f);
    }
    e.source->RestoreCheckpoints(std::move(mine));
    WireSource(e);
    Status s = e.source->Start();
    if (!s.ok())
      return Status::InvalidArgument(fmt::format("source '{}': {}", e.config.name, s.ToString()));
  }
  sources_ = std::move(sources);
  auto sinks = MakeSinks(config_);
  if (!sinks.has_value()) return sinks.error();
  sinks_ = std::move(sinks).value();
  if (config_.events) {
    auto events = MakeEventSink(*config_.events, config_);
    if (!events.has_value()) {
      return Status::InvalidArgument(fmt::format("events: {}", events.error().ToString()));
    }
    events_ = std::move(events).value();
  }
  if (config_.record_ids.enabled) records_ = std::make_unique<RecordLedger>(config_.record_ids);
  pipeline_->set_taps(EventTaps{events_.get(), records_.get()});
  if (!config_.metrics_address.empty()) {
    ES_RETURN_IF_ERROR(metrics_.Start(
        config_.metrics_address, [this] { return RenderMetrics(); }, [this] { return Health(); }));
  }
  LogInfo("daemon started", {{"config", config_.path},
                             {"rules", std::to_string(rules->rules().size())},
                             {"sources", std::to_string(sources_.size())},
                             {"restored_files", std::to_string(state.files.size())},
                             {"restored_hits", std::to_string(state.hits.size())},
                             {"metrics", config_.metrics_address}});
  return Status::OK();
}

PartitionLanes* Daemon::LanesFor(const std::string& source_name) {
  auto& lanes = lanes_[source_name];
  if (!lanes) {
    lanes = std::make_unique<PartitionLanes>(
        source_name, pipeline_->shared_rules(),
        correlate::CorrelatorOptions{config_.merge_short_host_names},
        config_.allowed_lateness_seconds, pipeline_.get());
  }
  return lanes.get();
}

void Daemon::WireSource(SourceEntry& e) {
  if (e.config.type != SourceType::kKafka) return;
  auto* kafka = static_cast<source::KafkaSource*>(e.source.get());
  PartitionLanes* lanes = LanesFor(e.config.name);
  // Before a rebalance takes partitions away: make what was read from them
  // safe (sinks flushed, state written) so their offsets can be committed.
  kafka->set_before_revoke([this] {
    EmitAlerts(false);
    (void)Checkpoint(milliseconds(config_.shutdown_timeout_ms / 2));
  });
  // Partitions not assigned again were committed up to their commit floors
  // before the revoke: their next owner reads the open windows again, so
  // their state here can go.
  kafka->set_on_assigned([lanes](const std::vector<int32_t>& parts) { lanes->Retain(parts); });
  kafka->set_commit_floor([lanes](int32_t p) { return lanes->CommitFloor(p); });
}

bool Daemon::ImmediatePending() const {
  if (pipeline_->immediate_pending()) return true;
  for (const auto& [name, lanes] : lanes_) {
    if (lanes->immediate_pending()) return true;
  }
  return false;
}

void Daemon::EmitAlerts(bool finish) {
  std::vector<Alert> alerts = pipeline_->DrainAlerts(finish);
  for (auto& [name, lanes] : lanes_) {
    std::vector<Alert> more = lanes->DrainAlerts(finish);
    std::move(more.begin(), more.end(), std::back_inserter(alerts));
  }
  if (records_) {
    std::vector<Alert> gaps = records_->Settle(finish);
    std::move(gaps.begin(), gaps.end(), std::back_inserter(alerts));
  }
  for (const auto& a : alerts) {
    // Shared with the sinks: Kafka keeps it until the delivery report
    // instead of copying it.
    const auto json = std::make_shared<const std::string>(RenderAlertJson(a));
    for (auto& s : sinks_) {
      Status st = s.sink->SendShared(a, json);
      if (!st.ok()) {
        sink_errors_.Add();
        alert_lost_ = true;
        Logger::Get().LogLimited(
            LogLevel::kError, "sink:send", "alert not delivered",
            {{"sink", s.sink->name()}, {"alert_id", a.alert_id}, {"error", st.ToString()}});
      }
    }
  }
}

Status Daemon::Checkpoint(milliseconds flush_timeout) {
  // Offsets must never get ahead of the alerts their events produced: flush
  // (deliver or spool) first, and keep the old state if that fails.
  if (alert_lost_) {
    checkpoint_failures_.Add();
    Logger::Get().LogLimited(
        LogLevel::kError, "checkpoint:alert_lost", "checkpoint withheld",
        {{"why",
          "a sink did not take an alert; a restart re-reads from the last checkpoint "
          "and sends it again"}});
    return Status::IOError("checkpoint withheld: a sink did not take an alert");
  }
  for (auto& s : sinks_) {
    Status st = s.sink->Flush(flush_timeout);
    if (!st.ok()) {
      checkpoint_failures_.Add();
      LogError("checkpoint skipped: sink flush failed",
               {{"sink", s.sink->name()}, {"error", st.ToString()}});
      return st;
    }
  }
  // The events read so far are written (or spooled) before the positions
  // past them are saved; with overflow: drop, the dropped ones are counted.
  if (events_) {
    Status st = events_->Flush(flush_timeout);
    if (!st.ok()) {
      checkpoint_failures_.Add();
      LogError("checkpoint skipped: events sink flush failed", {{"error", st.ToString()}});
      return st;
    }
  }
  pipeline_->PruneJournal();
  for (auto& [name, lanes] : lanes_) lanes->PruneJournals();
  // An idle daemon does not rewrite an unchanged state (it can be large).
  uint64_t mark = journal_.generation() + static_cast<uint64_t>(pipeline_->max_event_time());
  for (const auto& [name, lanes] : lanes_) mark += lanes->Mark();
  for (const auto& e : sources_) {
    const source::SourceStats& s = e.source->stats();
    mark += s.bytes.Get() + s.files_opened.Get() + s.rotations.Get() + s.truncations.Get();
  }
  if (mark == last_saved_mark_ && checkpoints_written_.Get() > 0) {
    last_checkpoint_ms_ = WallMs();  // the state on disk is current
    // Only sources waiting for it: an idle Kafka source is not committed
    // again every interval.
    CommitSources(/*only_waiting=*/true);
    return Status::OK();
  }
  DaemonState state;
  state.saved_at_unix_ms = WallMs();
  state.max_event_time = pipeline_->max_event_time();
  for (const auto& e : sources_) e.source->SaveCheckpoints(&state.files);
  journal_.SaveTo(&state);
  for (const auto& [name, lanes] : lanes_) lanes->SaveTo(&state);
  journal_hits_ = state.hits.size();
  journal_dropped_ = journal_.dropped();
  Status st = store_.Save(state);
  if (!st.ok()) {
    checkpoint_failures_.Add();
    LogError("checkpoint failed", {{"error", st.ToString()}});
    return st;
  }
  checkpoints_written_.Add();
  last_checkpoint_ms_ = state.saved_at_unix_ms;
  last_saved_mark_ = mark;
  CommitSources(/*only_waiting=*/false);
  return Status::OK();
}

void Daemon::CommitSources(bool only_waiting) {
  // Sinks are flushed and the state is written: external positions (Kafka
  // offsets) may now move past the events read so far, and HTTP clients get
  // their answer.
  for (auto& e : sources_) {
    if (only_waiting && e.source->CommitDueInMs() < 0) continue;
    Status c = e.source->Commit();
    if (!c.ok()) {
      Logger::Get().LogLimited(LogLevel::kWarn, e.config.name + ":commit", "offset commit failed",
                               {{"source", e.config.name}, {"error", c.ToString()}});
    }
  }
}

int Daemon::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  source::UniqueFd sigfd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sigfd.valid()) {
    LogError("signalfd failed", {{"error", std::strerror(errno)}});
    return 1;
  }
  bool finish = false;
  bool more = false;
  int64_t commit_due_ms = -1;  // a source's delivered input waits for a checkpoint
  auto commit_retry_at = Clock::now();
  auto next_drain = Clock::now() + kDrainInterval;
  auto last_drain = Clock::now();
  auto next_checkpoint = Clock::now() + milliseconds(config_.checkpoint_interval_ms);
  std::string stop_reason;
  std::vector<pollfd> fds;
  while (stop_reason.empty()) {
    heartbeat_ms_ = SteadyMs();
    fds.clear();
    fds.push_back(pollfd{sigfd.get(), POLLIN, 0});
    for (const auto& e : sources_) e.source->AddPollFds(&fds);
    // A batch waiting for its checkpoint shortens the wait to when it is due.
    int64_t wait_ms = more ? 0 : kIdleWait.count();
    if (commit_due_ms >= 0) wait_ms = std::min(wait_ms, commit_due_ms);
    ::poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    signalfd_siginfo si{};
    while (::read(sigfd.get(), &si, sizeof(si)) == sizeof(si)) {
      if (si.ssi_signo == SIGHUP) {
        LogInfo("SIGHUP: reloading", {{"config", config_.path}});
        Reload();
      } else {
        stop_reason = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
      }
    }
    if (!stop_reason.empty()) break;
    more = false;
    bool all_ended = true;
    for (auto& e : sources_) {
      if (e.source->finished()) continue;
      all_ended = false;
      source::RecordConsumer* consumer = pipeline_.get();
      if (e.config.type == SourceType::kKafka) {
        PartitionLanes* lanes = LanesFor(e.config.name);
        lanes->set_source(e.source.get());
        consumer = lanes;
      } else {
        pipeline_->set_source(e.source.get());
      }
      auto r = e.source->Poll(*consumer, kPollBudget);
      if (!r.has_value()) {
        Logger::Get().LogLimited(LogLevel::kWarn, e.config.name + ":io", "source error",
                                 {{"source", e.config.name}, {"error", r.error().ToString()}});
      } else {
        more = more || r.value();
      }
    }
    watermark_ = pipeline_->watermark();
    uint64_t n_lanes = 0;
    for (const auto& [name, lanes] : lanes_) n_lanes += lanes->size();
    partition_lanes_ = n_lanes;
    max_event_time_ = pipeline_->max_event_time();
    auto now = Clock::now();
    if (now >= next_drain || (now >= last_drain + kImmediateDrainInterval && ImmediatePending())) {
      EmitAlerts(false);
      next_drain = now + kDrainInterval;
      last_drain = now;
    }
    commit_due_ms = -1;
    for (const auto& e : sources_) {
      int64_t due = e.source->CommitDueInMs();
      if (due >= 0 && (commit_due_ms < 0 || due < commit_due_ms)) commit_due_ms = due;
    }
    if (commit_due_ms >= 0 && now < commit_retry_at) {
      // The last such checkpoint failed (a sink cannot flush): not again at once.
      commit_due_ms = std::max<int64_t>(
          commit_due_ms,
          std::chrono::duration_cast<milliseconds>(commit_retry_at - now).count() + 1);
    }
    bool commit_wanted = commit_due_ms == 0;
    if (commit_wanted) {
      // A client waits for its batch to be durable: its alerts go out (or
      // to the spool) with this checkpoint instead of the next drain.
      EmitAlerts(false);
      next_drain = now + kDrainInterval;
      last_drain = now;
    }
    if (now >= next_checkpoint || commit_wanted) {
      Status st = Checkpoint(milliseconds(config_.shutdown_timeout_ms / 2));
      if (!st.ok()) commit_retry_at = Clock::now() + kCommitRetryWait;
      next_checkpoint = Clock::now() + milliseconds(config_.checkpoint_interval_ms);
    }
    if (all_ended && config_.exit_when_sources_end) {
      stop_reason = "all sources ended";
      finish = true;
    }
  }

  // Shutdown, bounded: if a sink hangs past the bound, the watchdog ends the
  // process (non-zero: the state was not written, the next start resumes
  // from the previous checkpoint).
  auto deadline = Clock::now() + milliseconds(config_.shutdown_timeout_ms);
  LogInfo("stopping", {{"reason", stop_reason}});
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(done_mu);
    if (!done_cv.wait_until(lock, deadline, [&] { return done; })) {
      LogError("shutdown timed out; exiting without a final checkpoint");
      std::_Exit(1);
    }
  });
  for (auto& e : sources_) e.source->Stop();
  // Windows still open stay open (persisted with the state) unless the input
  // ended for good, when they are closed now (Finish).
  EmitAlerts(finish);
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  Status st = Checkpoint(std::max(milliseconds(100), left - milliseconds(500)));
  {
    std::lock_guard<std::mutex> lock(done_mu);
    done = true;
  }
  done_cv.notify_all();
  watchdog.join();
  if (events_) {
    Status es = events_->Close(milliseconds(0));
    if (!es.ok()) LogError("events sink", {{"error", es.ToString()}});
  }
  metrics_.Stop();
  LogInfo("stopped", {{"events", std::to_string(pipeline_->stats().events.Get())},
                      {"alerts", std::to_string(pipeline_->stats().alerts.Get())},
                      {"checkpoint", st.ok() ? "written" : st.ToString()}});
  return st.ok() ? 0 : 4;
}

std::string Daemon::Health() const {
  int64_t age = SteadyMs() - heartbeat_ms_.load();
  if (heartbeat_ms_.load() != 0 && age > kStallMs)
    return fmt::format("event loop stalled for {} ms", age);
  return {};
}

}  // namespace eventsift::daemon
