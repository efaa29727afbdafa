#include "src/daemon/daemon.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <csignal>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "src/alert/alert_json.h"
#include "src/correlate/build_catalog.h"
#include "src/daemon/log.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/sink/stream_sink.h"
#include "src/source/dir_source.h"
#include "src/source/kafka_source.h"
#include "src/source/stream_source.h"
#include "src/source/tcp_source.h"
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
// /healthz fails when the loop has not ticked for this long.
constexpr int64_t kStallMs = 30000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

source::TlsServerOptions TlsOptionsOf(const TlsConfig& t) {
  return source::TlsServerOptions{t.cert_file, t.key_file, t.client_ca_file, t.min_version};
}

}  // namespace

Status CheckRules(const DaemonConfig& config) {
  auto rules = LoadRules(config);
  if (!rules.has_value()) return rules.error();
  auto builds = correlate::LoadBuildCatalog(config.exchange_builds);
  if (!builds.has_value()) return builds.error();
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
    SourceEntry e{sc, nullptr};
    switch (sc.type) {
      case SourceType::kDirectory: {
        source::DirSourceOptions o;
        o.path = sc.path;
        o.include = sc.include;
        o.exclude = sc.exclude;
        o.start_at_end = sc.start_at_end;
        o.max_line_bytes = sc.max_line_bytes;
        o.rotate_wait = milliseconds(sc.rotate_wait_ms);
        e.source = std::make_unique<source::DirSource>(sc.name, o);
        break;
      }
      case SourceType::kStdin: {
        source::StreamSourceOptions o;
        o.max_line_bytes = sc.max_line_bytes;
        e.source = std::make_unique<source::StreamSource>(sc.name, o);
        break;
      }
      case SourceType::kTcp: {
        source::TcpSourceOptions o;
        o.address = sc.address;
        o.port = sc.port;
        o.max_connections = sc.max_connections;
        o.max_line_bytes = sc.max_line_bytes;
        if (sc.tls) {
          o.tls = TlsOptionsOf(*sc.tls);
          o.handshake_timeout = milliseconds(sc.tls->handshake_timeout_ms);
        }
        e.source = std::make_unique<source::TcpSource>(sc.name, o);
        break;
      }
      case SourceType::kKafka: {
        source::KafkaSourceOptions o;
        o.brokers = sc.brokers;
        o.topic = sc.topic;
        o.group_id = sc.group_id;
        o.properties = sc.properties;
        o.max_line_bytes = sc.max_line_bytes;
        e.source = std::make_unique<source::KafkaSource>(sc.name, o);
        break;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<Daemon::SinkEntry>> Daemon::MakeSinks(const DaemonConfig& c) {
  std::vector<SinkEntry> out;
  for (const auto& sc : c.sinks) {
    SinkEntry e{sc, nullptr, nullptr};
    switch (sc.type) {
      case SinkType::kStdout: {
        ES_ASSIGN_OR_RETURN(s, StreamSink::Open("-"));
        e.sink = std::move(s);
        break;
      }
      case SinkType::kFile: {
        // Appended: a restart must not erase what was already delivered.
        ES_ASSIGN_OR_RETURN(s, StreamSink::Open(sc.path, /*append=*/true));
        e.sink = std::move(s);
        break;
      }
      case SinkType::kKafka: {
        KafkaSinkOptions o;
        o.brokers = sc.brokers;
        o.topic = sc.topic;
        o.properties = sc.properties;
        o.spool_dir = sc.spool_dir;
        o.spool_max_bytes = sc.spool_max_bytes;
        o.flush_timeout = milliseconds(c.shutdown_timeout_ms / 2);
        o.log = [](std::string_view line) { LogWarn("kafka", {{"detail", line}}); };
        ES_ASSIGN_OR_RETURN(s, KafkaSink::Open(o));
        e.kafka = s.get();
        e.sink = std::move(s);
        break;
      }
    }
    out.push_back(std::move(e));
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

void Daemon::EmitAlerts(bool finish) {
  std::vector<Alert> alerts = pipeline_->DrainAlerts(finish);
  for (auto& [name, lanes] : lanes_) {
    std::vector<Alert> more = lanes->DrainAlerts(finish);
    std::move(more.begin(), more.end(), std::back_inserter(alerts));
  }
  for (const auto& a : alerts) {
    std::string json = RenderAlertJson(a);
    for (auto& s : sinks_) {
      Status st = s.sink->Send(a, json);
      if (!st.ok()) {
        sink_errors_.Add();
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
  for (auto& s : sinks_) {
    Status st = s.sink->Flush(flush_timeout);
    if (!st.ok()) {
      checkpoint_failures_.Add();
      LogError("checkpoint skipped: sink flush failed",
               {{"sink", s.sink->name()}, {"error", st.ToString()}});
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
  // Sinks are flushed and the state is written: external positions (Kafka
  // offsets) may now move past the events read so far.
  for (auto& e : sources_) {
    Status c = e.source->Commit();
    if (!c.ok()) {
      Logger::Get().LogLimited(LogLevel::kWarn, e.config.name + ":commit", "offset commit failed",
                               {{"source", e.config.name}, {"error", c.ToString()}});
    }
  }
  return Status::OK();
}

void Daemon::Reload() {
  auto refuse = [&](const std::string& why) {
    reloads_failed_.Add();
    LogError("reload refused, the running configuration stays", {{"reason", why}});
  };
  auto loaded = LoadConfig(config_.path);
  if (!loaded.has_value()) return refuse(loaded.error().ToString());
  DaemonConfig next = std::move(loaded).value();
  if (next.state_dir != config_.state_dir) return refuse("state_dir changed: needs a restart");
  if (next.metrics_address != config_.metrics_address) {
    return refuse("metrics.address changed: needs a restart");
  }
  auto rules = LoadRules(next);
  if (!rules.has_value()) return refuse(rules.error().ToString());
  // A changed build list is checked here and made current once the reload
  // can no longer be refused.
  std::shared_ptr<const correlate::BuildCatalog> next_builds;
  if (next.exchange_builds != config_.exchange_builds) {
    auto builds = correlate::LoadBuildCatalog(next.exchange_builds);
    if (!builds.has_value()) return refuse(builds.error().ToString());
    next_builds = std::make_shared<const correlate::BuildCatalog>(std::move(builds).value());
  }

  std::vector<SinkEntry> next_sinks;
  if (next.sinks != config_.sinks) {
    auto sinks = MakeSinks(next);
    if (!sinks.has_value()) return refuse(sinks.error().ToString());
    next_sinks = std::move(sinks).value();
  }
  auto made = MakeSources(next);
  if (!made.has_value()) return refuse(made.error().ToString());

  // Everything read so far becomes safe first (sinks flushed, state written,
  // Kafka offsets committed), so replaced sources can go without loss.
  (void)Checkpoint(milliseconds(next.shutdown_timeout_ms / 2));
  // Sources whose config is unchanged keep running; others are replaced and
  // resume from the old source's positions.
  std::vector<SourceEntry> next_sources;
  std::vector<source::Source*> stopped;  // old listeners stopped to free their port
  auto put_back = [&] {
    for (auto& n : next_sources) {
      for (auto& old : sources_) {
        if (!old.source && old.config == n.config) {
          old = std::move(n);
          break;
        }
      }
    }
    for (auto* s : stopped) (void)s->Start();
  };
  for (auto& c : made.value()) {
    bool reused = false;
    for (auto& old : sources_) {
      if (old.source && old.config == c.config) {
        next_sources.push_back(std::move(old));
        reused = true;
        break;
      }
    }
    if (reused) continue;
    std::vector<source::FileCheckpoint> cps;
    for (auto& old : sources_) {
      if (!old.source || old.config.name != c.config.name) continue;
      old.source->SaveCheckpoints(&cps);
      if (old.config.type == SourceType::kTcp) {
        old.source->Stop();
        stopped.push_back(old.source.get());
      }
    }
    c.source->RestoreCheckpoints(std::move(cps));
    WireSource(c);
    Status s = c.source->Start();
    if (!s.ok()) {
      put_back();
      return refuse(fmt::format("source '{}': {}", c.config.name, s.ToString()));
    }
    next_sources.push_back(std::move(c));
  }
  // Retired objects are destroyed outside the lock and after the swap: a
  // Kafka consumer leaving its group calls back into the source on close.
  std::vector<SourceEntry> retired;
  for (auto& old : sources_) {
    if (!old.source) continue;
    old.source->Stop();
    retired.push_back(std::move(old));
  }
  std::vector<SinkEntry> retired_sinks;
  {
    std::lock_guard<std::mutex> lock(objects_mu_);
    sources_ = std::move(next_sources);
    if (!next_sinks.empty()) {
      retired_sinks = std::move(sinks_);
      sinks_ = std::move(next_sinks);
    }
    pipeline_->Rebuild(std::move(rules).value());
    for (auto& [name, lanes] : lanes_) lanes->Rebuild(pipeline_->shared_rules());
  }
  for (auto& s : retired_sinks) (void)s.sink->Flush(milliseconds(next.shutdown_timeout_ms / 2));
  retired_sinks.clear();
  retired.clear();
  if (next_builds) correlate::SetDefaultBuildCatalog(std::move(next_builds));
  config_ = std::move(next);
  ApplyLogConfig(config_);
  EmitAlerts(false);
  reloads_ok_.Add();
  LogInfo("reloaded", {{"rules", std::to_string(pipeline_->rules().rules().size())},
                       {"sources", std::to_string(sources_.size())}});
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
  auto next_drain = Clock::now() + kDrainInterval;
  auto next_checkpoint = Clock::now() + milliseconds(config_.checkpoint_interval_ms);
  std::string stop_reason;
  std::vector<pollfd> fds;
  while (stop_reason.empty()) {
    heartbeat_ms_ = SteadyMs();
    fds.clear();
    fds.push_back(pollfd{sigfd.get(), POLLIN, 0});
    for (const auto& e : sources_) e.source->AddPollFds(&fds);
    ::poll(fds.data(), fds.size(), more ? 0 : static_cast<int>(kIdleWait.count()));
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
    if (now >= next_drain) {
      EmitAlerts(false);
      next_drain = now + kDrainInterval;
    }
    if (now >= next_checkpoint) {
      (void)Checkpoint(milliseconds(config_.shutdown_timeout_ms / 2));
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

std::string Daemon::RenderMetrics() const {
  std::lock_guard<std::mutex> lock(objects_mu_);
  PromText p;
  struct SourceCounter {
    const char* name;
    const char* help;
    const Counter source::SourceStats::*field;
  };
  static const SourceCounter kSourceCounters[] = {
      {"eventsift_source_bytes_total", "Bytes read from the input.", &source::SourceStats::bytes},
      {"eventsift_source_lines_total", "Complete NDJSON lines read.", &source::SourceStats::lines},
      {"eventsift_source_evtx_chunks_total", "EVTX chunks read (re-reads included).",
       &source::SourceStats::evtx_chunks},
      {"eventsift_source_events_total", "Events decoded.", &source::SourceStats::events},
      {"eventsift_source_parse_errors_total", "Lines or records that could not be decoded.",
       &source::SourceStats::parse_errors},
      {"eventsift_source_lines_dropped_total", "Lines over max_line_bytes, skipped.",
       &source::SourceStats::lines_dropped},
      {"eventsift_source_files_opened_total", "Files opened.", &source::SourceStats::files_opened},
      {"eventsift_source_open_errors_total", "Matching files that could not be opened (retried).",
       &source::SourceStats::open_errors},
      {"eventsift_source_rotations_total", "Renamed or deleted files drained and closed.",
       &source::SourceStats::rotations},
      {"eventsift_source_truncations_total", "Files that shrank and were read again from 0.",
       &source::SourceStats::truncations},
      {"eventsift_source_connections_accepted_total", "TCP connections accepted.",
       &source::SourceStats::connections_accepted},
      {"eventsift_source_connections_rejected_total", "TCP connections over max_connections.",
       &source::SourceStats::connections_rejected},
      {"eventsift_source_tls_handshakes_total", "TLS sessions established.",
       &source::SourceStats::tls_handshakes},
      {"eventsift_source_tls_handshake_failures_total",
       "TLS peers dropped for a protocol error (plain text, missing or untrusted client cert).",
       &source::SourceStats::tls_handshake_failures},
      {"eventsift_source_tls_handshake_timeouts_total",
       "TLS peers dropped for not finishing the handshake in time.",
       &source::SourceStats::tls_handshake_timeouts},
  };
  for (const auto& c : kSourceCounters) {
    p.Family(c.name, "counter", c.help);
    for (const auto& e : sources_) {
      p.Sample(c.name, {{"source", e.config.name}, {"type", e.source->type()}},
               (e.source->stats().*c.field).Get());
    }
  }
  const PipelineStats& ps = pipeline_->stats();
  p.Family("eventsift_events_total", "counter", "Events decoded from all sources.");
  p.Sample("eventsift_events_total", {}, ps.events.Get());
  p.Family("eventsift_parse_errors_total", "counter", "Input errors reported by the decoders.");
  p.Sample("eventsift_parse_errors_total", {}, ps.parse_errors.Get());
  p.Family("eventsift_rule_hits_total", "counter", "Events matched, per rule.");
  for (const auto& [id, counter] : pipeline_->hits_by_rule()) {
    p.Sample("eventsift_rule_hits_total", {{"rule", id}}, counter->Get());
  }
  p.Family("eventsift_alerts_total", "counter", "Alerts produced and sent to the sinks.");
  p.Sample("eventsift_alerts_total", {}, ps.alerts.Get());
  p.Family("eventsift_alerts_deduplicated_total", "counter",
           "Alerts a replay produced again after a restart or reload, not sent twice.");
  p.Sample("eventsift_alerts_deduplicated_total", {}, ps.alerts_deduplicated.Get());
  struct SinkCounter {
    const char* name;
    const char* help;
    const Counter SinkStats::*field;
  };
  static const SinkCounter kSinkCounters[] = {
      {"eventsift_sink_received_total", "Alerts given to the sink.", &SinkStats::received},
      {"eventsift_sink_delivered_total", "Alerts delivered (acknowledged).", &SinkStats::delivered},
      {"eventsift_sink_spooled_total", "Alerts written to the durable spool.", &SinkStats::spooled},
      {"eventsift_sink_failed_total", "Alerts neither delivered nor spooled.", &SinkStats::failed},
  };
  for (const auto& c : kSinkCounters) {
    p.Family(c.name, "counter", c.help);
    for (const auto& s : sinks_) {
      p.Sample(c.name, {{"sink", SinkTypeName(s.config.type)}}, (s.sink->stats().*c.field).Get());
    }
  }
  p.Family("eventsift_spool_pending", "gauge", "Alerts waiting in the Kafka spool.");
  for (const auto& s : sinks_) {
    if (s.kafka)
      p.Sample("eventsift_spool_pending", {{"sink", "kafka"}}, s.kafka->counters().spool_pending);
  }
  p.Family("eventsift_kafka_delivery_latency_seconds", "histogram",
           "Kafka delivery latency of acknowledged alerts, produce to broker acknowledgement.");
  for (const auto& s : sinks_) {
    if (!s.kafka) continue;
    const KafkaSinkCounters k = s.kafka->counters();
    for (size_t i = 0; i < k.latency_buckets.size(); ++i) {
      p.Sample("eventsift_kafka_delivery_latency_seconds_bucket",
               {{"sink", "kafka"},
                {"le", fmt::format("{}", KafkaSinkCounters::kLatencyBucketsSeconds[i])}},
               k.latency_buckets[i]);
    }
    p.Sample("eventsift_kafka_delivery_latency_seconds_bucket", {{"sink", "kafka"}, {"le", "+Inf"}},
             k.latency_count);
    p.Sample("eventsift_kafka_delivery_latency_seconds_sum", {{"sink", "kafka"}},
             k.latency_sum_seconds);
    p.Sample("eventsift_kafka_delivery_latency_seconds_count", {{"sink", "kafka"}},
             k.latency_count);
  }
  int64_t last = last_checkpoint_ms_.load();
  p.Family("eventsift_checkpoint_age_seconds", "gauge",
           "Seconds since the state on disk was last known current (written, or unchanged).");
  p.Sample("eventsift_checkpoint_age_seconds", {},
           last == 0 ? -1.0 : static_cast<double>(WallMs() - last) / 1000.0);
  p.Family("eventsift_checkpoints_total", "counter", "Checkpoints written.");
  p.Sample("eventsift_checkpoints_total", {}, checkpoints_written_.Get());
  p.Family("eventsift_checkpoint_failures_total", "counter",
           "Checkpoints not written (flush or disk error).");
  p.Sample("eventsift_checkpoint_failures_total", {}, checkpoint_failures_.Get());
  p.Family("eventsift_reloads_total", "counter", "SIGHUP reloads by result.");
  p.Sample("eventsift_reloads_total", {{"result", "ok"}}, reloads_ok_.Get());
  p.Sample("eventsift_reloads_total", {{"result", "refused"}}, reloads_failed_.Get());
  auto unix_seconds = [](FileTime t) {
    return t == 0 ? 0.0 : static_cast<double>(UnixMillisFromFileTime(t)) / 1000.0;
  };
  p.Family("eventsift_max_event_time_seconds", "gauge", "Newest event time seen (unix seconds).");
  p.Sample("eventsift_max_event_time_seconds", {}, unix_seconds(max_event_time_.load()));
  p.Family("eventsift_watermark_seconds", "gauge",
           "Windows ending before this event time (unix seconds) have been emitted.");
  p.Sample("eventsift_watermark_seconds", {}, unix_seconds(watermark_.load()));
  p.Family("eventsift_correlation_partitions", "gauge",
           "Kafka partitions with their own correlation state here.");
  p.Sample("eventsift_correlation_partitions", {}, partition_lanes_.load());
  p.Family("eventsift_source_kafka_lag", "gauge",
           "Messages between the last one read and the end of each assigned partition.");
  for (const auto& e : sources_) {
    if (e.config.type != SourceType::kKafka) continue;
    for (const auto& l : static_cast<const source::KafkaSource*>(e.source.get())->Lag()) {
      p.Sample("eventsift_source_kafka_lag",
               {{"source", e.config.name}, {"partition", std::to_string(l.partition)}},
               static_cast<uint64_t>(l.lag));
    }
  }
  p.Family("eventsift_journal_hits", "gauge",
           "Rule hits kept in the correlation journal (state.json).");
  p.Sample("eventsift_journal_hits", {}, journal_hits_.load());
  p.Family("eventsift_journal_hits_dropped_total", "counter",
           "Journal hits dropped over its bound.");
  p.Sample("eventsift_journal_hits_dropped_total", {}, journal_dropped_.load());
  p.Family("eventsift_log_lines_suppressed_total", "counter",
           "Repeated log lines held back by rate limiting.");
  p.Sample("eventsift_log_lines_suppressed_total", {}, Logger::Get().suppressed_total());
  p.Family("eventsift_uptime_seconds", "gauge", "Seconds since start.");
  p.Sample("eventsift_uptime_seconds", {},
           std::chrono::duration<double>(Clock::now() - start_time_).count());
  return p.text();
}

}  // namespace eventsift::daemon
