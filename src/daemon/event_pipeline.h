#pragma once
// EventPipeline: what the daemon does with each record a source delivers:
//   decode (JsonLineDecoder per line, DecodeEvtxBuffer per chunk range)
//   -> detect::Matcher -> correlate::Correlator (and the HitJournal)
//   -> Drain(watermark) -> alerts.
// It runs on the daemon's loop thread, synchronously inside Source::Poll,
// which is what gives sources their backpressure.
//
// Streaming watermark: event time, not wall time (archived files are read
// long after the fact). watermark = newest event time seen - (longest rule
// window + allowed lateness); Drain(watermark) emits the windows that end
// before it. The extra window of delay lets files from other hosts, read
// later, still land in their windows.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parsers/json/json_decoder.h"
#include "src/alert/alert.h"
#include "src/core/stats.h"
#include "src/correlate/correlator.h"
#include "src/correlate/cve_watch.h"
#include "src/correlate/sigma_correlator.h"
#include "src/daemon/hit_journal.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"
#include "src/detect/matcher.h"
#include "src/detect/rule_set.h"
#include "src/source/source.h"

namespace eventsift {
class EventSink;
}

namespace eventsift::daemon {

class RecordLedger;

// Where every event goes besides the rules: the events sink and the
// EventRecordID ledger (either may be null). Shared with the pipelines of
// Kafka partitions (counters_from).
struct EventTaps {
  EventSink* sink = nullptr;
  RecordLedger* records = nullptr;
};

struct PipelineStats {
  Counter events;
  Counter parse_errors;
  Counter rule_hits;
  Counter alerts;                // produced by the correlator and sent to sinks, follow-ups aside
  Counter alert_followups;       // follow-ups of immediate alerts (Alert::revision 2) sent
  Counter alerts_deduplicated;   // re-produced by a replay, already sent before
  Counter builds;                // Exchange builds seen in events
  Counter evtx_records_skipped;  // re-read EVTX records already delivered
  Counter cve_alerts;            // exchange_cve_exposure alerts (a verdict became exposed)
};

class EventPipeline : public source::RecordConsumer, public EventHandler {
 public:
  // `counters_from`: another pipeline whose counters this one adds to (a
  // Kafka partition's pipeline counts into the daemon's totals); it must
  // outlive this one.
  EventPipeline(std::shared_ptr<const detect::RuleSet> rules, correlate::CorrelatorOptions options,
                int64_t allowed_lateness_seconds, HitJournal* journal,
                const EventPipeline* counters_from = nullptr);
  ~EventPipeline() override;

  // The source whose records follow (its stats count events and errors).
  // `source` must outlive the records it delivers.
  void set_source(source::Source* source) { source_ = source; }
  // The taps of this pipeline and of those counting into it.
  void set_taps(EventTaps taps) { *taps_ = taps; }

  void OnLine(const source::LineRecord& record) override;
  uint64_t OnEvtx(const source::EvtxRecord& record) override;
  void OnSourceError(const Status& status) override;
  bool WantPayload(const Event& header) override;
  // JSON only: EVTX tailing declines the records it already delivered.
  bool WantsEveryPayload() const override { return !evtx_mode_ && matcher_->MayMatchEveryHeader(); }
  void OnEvent(const Event& event) override;

  // New rules: a new matcher and correlator, with the journal replayed into
  // it. Alerts the replay re-produces come out of the next DrainAlerts and
  // are de-duplicated against the journal's emitted ids.
  void Rebuild(std::shared_ptr<const detect::RuleSet> rules);

  // Closed windows as alerts, without those already emitted (journal), which
  // are noted as emitted. `finish` closes every window (end of input).
  std::vector<Alert> DrainAlerts(bool finish);
  // Hits of `emit: immediate` rules arrived since the last DrainAlerts: an
  // open window may have reached its threshold (the daemon drains sooner).
  bool immediate_pending() const { return immediate_pending_; }
  // Drops journal entries no replay needs any more, and hands the Sigma
  // engine's state to the journal (before a checkpoint).
  void PruneJournal();

  FileTime max_event_time() const { return max_event_time_; }
  void set_max_event_time(FileTime t) { max_event_time_ = t; }
  FileTime watermark() const;
  // The smallest line number (1-based) of a journal hit that may still be in
  // an open window, or 0 when none is. Untimed hits and rules without a
  // window are left out (they close only at Finish, which a stream never
  // reaches). For Kafka, line - 1 is the message offset.
  uint64_t OldestOpenLine() const;
  const detect::RuleSet& rules() const { return *rules_; }
  const std::shared_ptr<const detect::RuleSet>& shared_rules() const { return rules_; }
  // Hits per rule id; entries are never removed, so pointers stay valid.
  const std::map<std::string, std::unique_ptr<Counter>>& hits_by_rule() const {
    return *hits_by_rule_;
  }
  const PipelineStats& stats() const { return *stats_; }
  const correlate::Correlator& correlator() const { return *correlator_; }
  const correlate::SigmaCorrelator& sigma() const { return *sigma_; }
  // The Sigma correlation counters, shared with counters_from and kept
  // across Rebuild (for /metrics).
  const correlate::SigmaCorrelatorStats& sigma_stats() const { return *sigma_stats_; }
  const correlate::CveWatch& cve_watch() const { return cve_watch_; }

 private:
  class Reporter;
  // EEMS errors and successes go to the CVE watch.
  void NoteEems(const std::string& rule_id, const Event& event);
  // Verdicts judged at this watermark: alerts for those that became
  // exposed; the EEMS error alerts name the host's exposed CVEs.
  void DrainCveVerdicts(FileTime watermark, bool finish, std::vector<Alert>* alerts);

  std::shared_ptr<const detect::RuleSet> rules_;
  std::unique_ptr<detect::Matcher> matcher_;
  std::unique_ptr<correlate::Correlator> correlator_;
  std::unique_ptr<correlate::SigmaCorrelator> sigma_;  // Sigma correlation rules
  // Per-server CVE verdicts; independent of the rules, so it outlives a
  // Rebuild. Checkpointed through the journal.
  correlate::CveWatch cve_watch_;
  correlate::CorrelatorOptions correlator_options_;
  std::map<std::string, RuleHorizon> horizons_;
  int64_t max_window_seconds_ = 0;
  int64_t allowed_lateness_seconds_;
  HitJournal* journal_;  // owned by the daemon, outlives us
  json::JsonLineDecoder line_decoder_;
  std::unique_ptr<Reporter> reporter_;
  source::Source* source_ = nullptr;
  std::string origin_;  // names the EVTX input being decoded (must outlive the call)
  // EVTX re-reads: only records above this id are new.
  bool evtx_mode_ = false;
  uint64_t evtx_after_ = 0;
  uint64_t evtx_max_ = 0;
  uint64_t evtx_base_offset_ = 0;
  uint32_t evtx_first_chunk_ = 0;
  FileTime max_event_time_ = 0;
  FileTime last_drained_ = -1;      // watermark of the last Drain
  bool immediate_pending_ = false;  // hits of `emit: immediate` rules since the last Drain
  std::vector<uint32_t> matched_;
  // Shared with the pipelines of Kafka partitions (counters_from).
  std::shared_ptr<std::map<std::string, std::unique_ptr<Counter>>> hits_by_rule_;
  std::shared_ptr<PipelineStats> stats_;
  std::shared_ptr<EventTaps> taps_;
  std::shared_ptr<correlate::SigmaCorrelatorStats> sigma_stats_;
};

}  // namespace eventsift::daemon
