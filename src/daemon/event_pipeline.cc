#include "src/daemon/event_pipeline.h"

#include <algorithm>

#include <fmt/format.h>

#include "parsers/evtx/evtx_decoder.h"
#include "src/correlate/cve_catalog.h"
#include "src/correlate/exchange_build.h"
#include "src/correlate/host_key.h"
#include "src/daemon/log.h"
#include "src/daemon/record_ledger.h"
#include "src/pipeline/scan.h"
#include "src/report/cve_alerts.h"
#include "src/report/fleet.h"
#include "src/sink/event_sink.h"

namespace eventsift::daemon {

namespace {

// Exchange builds come from Exchange's own providers and the installer, so
// other events' payloads stay undecoded when no rule needs them (as scan).
bool MayCarryBuild(const Event& header) {
  return header.provider.starts_with("MSExchange") || header.provider == "MsiInstaller";
}

}  // namespace

// Decoder reports: counted on the source and logged, rate-limited per source.
class EventPipeline::Reporter : public CorruptionReporter {
 public:
  explicit Reporter(EventPipeline* p) : p_(p) {}
  void Report(const Status& status, uint64_t bytes_dropped) override {
    p_->stats_->parse_errors.Add();
    std::string source = p_->source_ ? p_->source_->name() : std::string("?");
    if (p_->source_) p_->source_->stats().parse_errors.Add();
    std::string text = status.ToString();
    std::string dropped = std::to_string(bytes_dropped);
    Logger::Get().LogLimited(LogLevel::kWarn, source + ":corruption", "input error",
                             {{"source", source}, {"error", text}, {"bytes_dropped", dropped}});
  }

 private:
  EventPipeline* p_;
};

EventPipeline::EventPipeline(std::shared_ptr<const detect::RuleSet> rules,
                             correlate::CorrelatorOptions options, int64_t allowed_lateness_seconds,
                             HitJournal* journal, const EventPipeline* counters_from)
    : correlator_options_(options),
      allowed_lateness_seconds_(allowed_lateness_seconds),
      journal_(journal),
      reporter_(std::make_unique<Reporter>(this)),
      hits_by_rule_(counters_from != nullptr
                        ? counters_from->hits_by_rule_
                        : std::make_shared<std::map<std::string, std::unique_ptr<Counter>>>()),
      stats_(counters_from != nullptr ? counters_from->stats_ : std::make_shared<PipelineStats>()),
      taps_(counters_from != nullptr ? counters_from->taps_ : std::make_shared<EventTaps>()),
      sigma_stats_(counters_from != nullptr ? counters_from->sigma_stats_
                                            : std::make_shared<correlate::SigmaCorrelatorStats>()) {
  if (!journal_->cve_state().empty()) {
    Status s = cve_watch_.LoadState(journal_->cve_state(), "state.json");
    if (!s.ok()) {
      Logger::Get().LogLimited(LogLevel::kWarn, "cve:state", "exchange CVE state dropped",
                               {{"error", s.ToString()}});
    }
  }
  Rebuild(std::move(rules));
}

EventPipeline::~EventPipeline() = default;

void EventPipeline::Rebuild(std::shared_ptr<const detect::RuleSet> rules) {
  // The Sigma engine serialises itself; its windows move to the new rules
  // through the journal (correlations matched by key).
  if (sigma_) journal_->set_sigma_state(sigma_->SaveState());
  rules_ = std::move(rules);
  last_drained_ = -1;
  matcher_ = std::make_unique<detect::Matcher>(rules_);
  correlator_ =
      std::make_unique<correlate::Correlator>(ToCorrelatedRules(*rules_), correlator_options_);
  correlate::SigmaCorrelatorOptions sigma_options;
  sigma_options.field_lookup = correlate::RuleSetFieldLookup(rules_);
  sigma_options.stats = sigma_stats_;
  sigma_ = std::make_unique<correlate::SigmaCorrelator>(
      rules_->sigma_correlations(), rules_->SigmaRefs(), nullptr, std::move(sigma_options));
  if (!journal_->sigma_state().empty()) {
    Status s = sigma_->LoadState(journal_->sigma_state(), "state.json");
    if (!s.ok()) {
      Logger::Get().LogLimited(LogLevel::kWarn, "sigma:state", "sigma correlation state dropped",
                               {{"error", s.ToString()}});
    }
  }
  horizons_.clear();
  max_window_seconds_ = 0;
  std::map<std::string, uint32_t> index;
  for (uint32_t i = 0; i < rules_->rules().size(); ++i) {
    const auto& r = rules_->rules()[i];
    index[r.id] = i;
    horizons_[r.id] = RuleHorizon{r.correlation.window_seconds, r.correlation.suppress_seconds,
                                  r.correlation.threshold, r.correlation.max_samples};
    max_window_seconds_ = std::max(max_window_seconds_, r.correlation.window_seconds);
    if (!hits_by_rule_->count(r.id)) (*hits_by_rule_)[r.id] = std::make_unique<Counter>();
  }
  // Sigma windows close at the same watermark, so it waits for the longest.
  max_window_seconds_ = std::max(max_window_seconds_, sigma_->max_timespan_seconds());
  for (const auto& b : journal_->builds()) {
    correlate::ExchangeVersion v{b.major, b.minor, b.build, b.revision, b.revision_known};
    correlator_->AddBuild(b.host, v, b.source);
  }
  for (const auto& h : journal_->hits()) {
    auto it = index.find(h.rule_id);
    if (it != index.end() && sigma_->Standalone(it->second))
      correlator_->AddHit(it->second, h.event);
  }
}

void EventPipeline::OnLine(const source::LineRecord& record) {
  evtx_mode_ = false;
  Status s = line_decoder_.DecodeLine(record.line, record.line_no, record.origin, *this);
  if (!s.ok()) reporter_->Report(s, record.line.size());
}

uint64_t EventPipeline::OnEvtx(const source::EvtxRecord& record) {
  evtx_mode_ = true;
  evtx_after_ = record.after_record_id;
  evtx_max_ = record.after_record_id;
  evtx_first_chunk_ = record.first_chunk;
  // Chunk offsets in the buffer are relative to its first chunk.
  evtx_base_offset_ = static_cast<uint64_t>(record.first_chunk) * 65536;
  origin_.assign(record.origin);
  DecoderOptions options;
  Status s = evtx::DecodeEvtxBuffer(record.bytes, origin_, options, *this, *reporter_, nullptr);
  if (!s.ok()) reporter_->Report(s, record.bytes.size());
  evtx_mode_ = false;
  return evtx_max_;
}

void EventPipeline::OnSourceError(const Status& status) {
  // Counted like a decoder report, but rate-limited on its own key: a
  // corrupt compressed file's garbage lines must not hide the error that
  // names the file.
  stats_->parse_errors.Add();
  std::string source = source_ ? source_->name() : std::string("?");
  if (source_) source_->stats().parse_errors.Add();
  Logger::Get().LogLimited(LogLevel::kWarn, source + ":source", "input error",
                           {{"source", source}, {"error", status.ToString()}});
}

bool EventPipeline::WantPayload(const Event& header) {
  // Tailing resumes by the record header's number: it grows with the live
  // file, and it is known before the gate (EventRecordID may not be yet).
  if (evtx_mode_ && header.record_number <= evtx_after_) return false;
  if (matcher_->MayMatch(header) || MayCarryBuild(header)) return true;
  if (taps_->sink != nullptr && taps_->sink->WantsHeader(header)) return true;
  return taps_->records != nullptr && correlate::RecordTracker::WantsPayload(header);
}

void EventPipeline::OnEvent(const Event& event) {
  if (evtx_mode_) {
    if (event.record_number <= evtx_after_) {
      stats_->evtx_records_skipped.Add();
      return;
    }
    evtx_max_ = std::max(evtx_max_, event.record_number);
  }
  stats_->events.Add();
  if (source_) source_->stats().events.Add();
  if (taps_->records != nullptr) taps_->records->Add(event);
  if (event.time > max_event_time_) max_event_time_ = event.time;
  if (MayCarryBuild(event)) {
    if (auto v = correlate::ExtractExchangeBuild(event)) {
      stats_->builds.Add();
      std::string where = event.where.line != 0
                              ? fmt::format("{}:{}", event.where.file, event.where.line)
                              : std::string(event.where.file);
      std::string src = fmt::format("event {} {} at {}", event.provider, event.event_id, where);
      journal_->NoteBuild(SavedBuild{std::string(event.computer), v->major, v->minor, v->build,
                                     v->revision, v->revision_known, src});
      correlator_->AddBuild(event.computer, *v, std::move(src));
      cve_watch_.NoteBuild(event.computer, event.time);
    }
  }
  matched_.clear();
  matcher_->Match(event, &matched_);
  if (taps_->sink != nullptr) taps_->sink->Offer(event, !matched_.empty());
  if (matched_.empty()) return;
  for (uint32_t idx : matched_) {
    stats_->rule_hits.Add();
    const detect::Rule& rule = rules_->rules()[idx];
    const std::string& id = rule.id;
    (*hits_by_rule_)[id]->Add();
    NoteEems(id, event);
    const bool sigma = sigma_->Uses(idx);
    // State rules (EEMS successes) describe a host and raise no alert
    // (docs/rules.md, "State rules"): counted above, never correlated.
    // Rules named by Sigma correlations alert only through them, unless
    // `generate` (docs/sigma-correlation.md).
    const bool standalone = rule.kind != detect::RuleKind::kState && sigma_->Standalone(idx);
    if (!sigma && !standalone) continue;
    OwnedEvent owned = OwnedEvent::From(event);
    if (evtx_mode_ && owned.chunk != UINT32_MAX) owned.chunk += evtx_first_chunk_;
    if (evtx_mode_ && owned.offset != UINT64_MAX) owned.offset += evtx_base_offset_;
    if (sigma) sigma_->AddHit(idx, owned);
    if (!standalone) continue;
    journal_->Add(id, owned);
    // An open window may now reach its threshold: drain soon (daemon.cc).
    if (rule.correlation.immediate()) immediate_pending_ = true;
    correlator_->AddHit(idx, std::move(owned));
  }
}

void EventPipeline::NoteEems(const std::string& rule_id, const Event& event) {
  if (rule_id == report::kEemsErrorRule) {
    cve_watch_.NoteEemsError(event.computer, event.time);
  } else if (rule_id == report::kEemsSuccessRule) {
    cve_watch_.NoteEemsSuccess(event.computer, event.time,
                               correlate::MitigationIdsOfEvent(OwnedEvent::From(event)));
  }
}

void EventPipeline::DrainCveVerdicts(FileTime watermark, bool finish, std::vector<Alert>* alerts) {
  // The list the daemon loaded at start (or its last reload); none: no verdicts.
  const std::shared_ptr<const correlate::CveCatalog> catalog = correlate::DefaultCveCatalog();
  if (catalog == nullptr) return;
  auto build_for = [this](const std::string& key) { return correlator_->BuildFor(key); };
  for (const correlate::CveVerdictChange& c :
       cve_watch_.Drain(*catalog, watermark, finish, build_for)) {
    if (!correlate::IsExposed(c.verdict.kind)) continue;
    stats_->cve_alerts.Add();
    alerts->push_back(report::CveExposureAlert(c.host, c.names, c.build, c.verdict, c.last_error,
                                               c.last_success));
  }
  report::NameExposedCves(
      [this](const std::string& host) {
        return cve_watch_.ExposedCves(correlate::NormalizeHostName(host));
      },
      alerts);
}

FileTime EventPipeline::watermark() const {
  if (max_event_time_ == 0) return 0;
  return max_event_time_ - (max_window_seconds_ + allowed_lateness_seconds_) * kTicksPerSecond;
}

std::vector<Alert> EventPipeline::DrainAlerts(bool finish) {
  FileTime wm = watermark();
  // Nothing new can close while the watermark stands still (Rebuild resets it).
  if (!finish && wm == last_drained_ && !immediate_pending_) return {};
  last_drained_ = wm;
  immediate_pending_ = false;
  std::vector<Alert> alerts = finish ? correlator_->Finish() : correlator_->Drain(wm);
  AppendSigmaAlerts(finish ? sigma_->Finish() : sigma_->Drain(wm), &alerts);
  DrainCveVerdicts(wm, finish, &alerts);
  std::vector<Alert> fresh;
  for (auto& a : alerts) {
    // A closed window whose immediate alert went out before a restart: the
    // new correlator does not know it. Its follow-up is due if it grew.
    if (a.revision == 0 && !journal_->WasEmitted(a)) {
      if (auto sent = journal_->ImmediateCount(a.alert_id)) {
        if (a.count <= *sent) {
          stats_->alerts_deduplicated.Add();
          continue;
        }
        a.revision = 2;
      }
    }
    if (journal_->WasEmitted(a)) {
      stats_->alerts_deduplicated.Add();
      continue;
    }
    journal_->NoteEmitted(a);
    (a.revision >= 2 ? stats_->alert_followups : stats_->alerts).Add();
    fresh.push_back(std::move(a));
  }
  return fresh;
}

uint64_t EventPipeline::OldestOpenLine() const {
  const FileTime wm = watermark();
  uint64_t oldest = 0;
  for (const auto& h : journal_->hits()) {
    if (h.event.time == 0 || h.event.line == 0) continue;
    auto it = horizons_.find(h.rule_id);
    if (it == horizons_.end() || it->second.window_seconds <= 0) continue;
    // A window holding this hit ends by time + window: closed once that is
    // at or before the watermark.
    if (wm > 0 && h.event.time <= wm - it->second.window_seconds * kTicksPerSecond) continue;
    if (oldest == 0 || h.event.line < oldest) oldest = h.event.line;
  }
  // Hits in open Sigma windows are part of the state too.
  const uint64_t sigma = sigma_->OldestOpenLine();
  if (sigma != 0 && (oldest == 0 || sigma < oldest)) oldest = sigma;
  return oldest;
}

void EventPipeline::PruneJournal() {
  journal_->Prune(watermark(), horizons_);
  journal_->set_sigma_state(sigma_->SaveState());
  journal_->set_cve_state(cve_watch_.SaveState());
}

}  // namespace eventsift::daemon
