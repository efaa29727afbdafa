// Daemon::Reload: SIGHUP. The new config, rules and build list are loaded
// and checked, the new sinks and sources built and started, then swapped in
// for the running ones (daemon.h says what needs a restart). A refusal at
// any step leaves the running sources, sinks and rules in place: a listener
// stopped to free its port for a replacement is started again.

#include <cstdint>

#include <fmt/format.h>

#include "src/correlate/build_catalog.h"
#include "src/correlate/cve_catalog.h"
#include "src/daemon/daemon.h"
#include "src/daemon/log.h"

namespace eventsift::daemon {

using std::chrono::milliseconds;

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
  std::shared_ptr<const correlate::CveCatalog> next_cves;
  if (next.exchange_cves != config_.exchange_cves) {
    auto cves = correlate::LoadCveCatalog(next.exchange_cves);
    if (!cves.has_value()) return refuse(cves.error().ToString());
    next_cves = std::make_shared<const correlate::CveCatalog>(std::move(cves).value());
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
  // resume from the old source's positions. Nothing leaves sources_ until
  // every new source has started, so a refusal finds it whole.
  std::vector<SourceEntry>& fresh = made.value();
  constexpr size_t kNew = SIZE_MAX;
  std::vector<size_t> kept(fresh.size(), kNew);  // index into sources_, or kNew
  std::vector<bool> old_kept(sources_.size(), false);
  for (size_t i = 0; i < fresh.size(); ++i) {
    for (size_t j = 0; j < sources_.size(); ++j) {
      if (!old_kept[j] && sources_[j].config == fresh[i].config) {
        kept[i] = j;
        old_kept[j] = true;
        break;
      }
    }
  }
  std::vector<SourceEntry*> stopped;  // old listeners stopped to free their port
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (kept[i] != kNew) continue;
    SourceEntry& c = fresh[i];
    std::vector<source::FileCheckpoint> cps;
    for (size_t j = 0; j < sources_.size(); ++j) {
      SourceEntry& old = sources_[j];
      if (old_kept[j] || old.config.name != c.config.name) continue;
      old.source->SaveCheckpoints(&cps);
      if (old.config.type == SourceType::kTcp || old.config.type == SourceType::kHttp ||
          old.config.type == SourceType::kSyslog || old.config.type == SourceType::kRelp) {
        old.source->Stop();
        stopped.push_back(&old);
      }
    }
    c.source->RestoreCheckpoints(std::move(cps));
    WireSource(c);
    Status s = c.source->Start();
    if (!s.ok()) {
      for (SourceEntry* old : stopped) RestartSource(*old);
      return refuse(fmt::format("source '{}': {}", c.config.name, s.ToString()));
    }
  }
  for (size_t j = 0; j < sources_.size(); ++j) {
    if (!old_kept[j]) sources_[j].source->Stop();
  }
  // Retired objects are destroyed outside the lock and after the swap: a
  // Kafka consumer leaving its group calls back into the source on close.
  std::vector<SourceEntry> retired;
  std::vector<SinkEntry> retired_sinks;
  {
    std::lock_guard<std::mutex> lock(objects_mu_);
    // Entries leave sources_ under the lock: /metrics walks sources_ under
    // it from its own thread, and an entry moved from has no source (UBSan
    // caught a scrape during a reload calling through that null pointer).
    std::vector<SourceEntry> next_sources;
    for (size_t i = 0; i < fresh.size(); ++i) {
      next_sources.push_back(kept[i] == kNew ? std::move(fresh[i]) : std::move(sources_[kept[i]]));
    }
    for (size_t j = 0; j < sources_.size(); ++j) {
      if (!old_kept[j]) retired.push_back(std::move(sources_[j]));
    }
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
  if (next_cves) correlate::SetDefaultCveCatalog(std::move(next_cves));
  config_ = std::move(next);
  ApplyLogConfig(config_);
  EmitAlerts(false);
  reloads_ok_.Add();
  LogInfo("reloaded", {{"rules", std::to_string(pipeline_->rules().rules().size())},
                       {"sources", std::to_string(sources_.size())}});
}

void Daemon::RestartSource(SourceEntry& e) {
  Status s = e.source->Start();
  if (s.ok()) return;
  // The listener was stopped for a replacement that did not start; it stays
  // closed until a reload succeeds, its open connections keep being read.
  source_restart_failures_.Add();
  LogError("source could not be restarted after a refused reload",
           {{"source", e.config.name}, {"error", s.ToString()}});
}

}  // namespace eventsift::daemon
