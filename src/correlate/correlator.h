#pragma once
// Correlator: turns rule hits into alerts per rule and host (docs/alerts.md,
// "How hits become alerts").
//
// Hits of one rule on one host key are sorted by time (so input order and
// thread scheduling do not matter), cut into tumbling windows of
// CorrelationSpec::window_seconds starting at the series' first hit, held to
// the threshold, and windows that start within suppress_seconds of an
// alert's window end are folded into that alert. Events without a time form
// one extra window per rule and host, emitted by Finish().
//
// Exchange builds (from events or an inventory) attach to every alert of the
// host: the highest version seen wins, because servers are only ever
// upgraded and the highest number does not depend on which file was read
// first. For equal numbers an exact revision beats a CU-only one, then the
// smaller source string, so the choice is deterministic.
//
// Two ways in. Streaming (the daemon): AddHit keeps each hit until Drain or
// Finish closes its window. Batch (scan): PlanHit for every hit first, then
// AddPlannedHit for each; planning fixes where each series' windows start,
// so a hit folds at once into its window's summary (count, first and last
// time, host names, the max_samples earliest events) and memory follows the
// windows, not the hits. Both give the same alerts; one correlator uses one.
//
// Thread-safe: every public method takes one lock. AddHit copies nothing
// (the event is moved in).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/stats.h"
#include "src/core/status.h"
#include "src/core/time_util.h"
#include "src/correlate/correlation_spec.h"
#include "src/correlate/exchange_build.h"
#include "src/correlate/host_key.h"
#include "src/event/owned_event.h"

namespace eventsift::correlate {

struct CorrelatedRule {
  AlertRule meta;
  CorrelationSpec spec;
  // The values an alert shows as Alert::matched, read from its first
  // sample; unset: none.
  std::function<std::vector<std::pair<std::string, std::string>>(const Event&)> matched_values;
};

struct CorrelatorOptions {
  // "ex01" and "ex01.contoso.com" are one host when both appear in the run
  // and no other FQDN starts with "ex01." (see HostResolver).
  bool merge_short_names = true;
};

struct CorrelatorStats {
  Counter hits_received;         // AddHit calls
  Counter hits_rejected;         // dropped: rule index out of range
  Counter hits_late;             // dropped (Drain): older than a window already closed
  Counter hits_below_threshold;  // dropped: their window stayed under the threshold
  Counter hits_suppressed;       // folded into an earlier alert of the same rule and host
  Counter alerts_emitted;        // every alert sent, follow-ups included
  Counter alerts_immediate;      // sent before their window closed (emit: immediate)
  Counter alerts_followed_up;    // a closed window's follow-up to an immediate alert
  Counter alerts_unchanged;      // closed windows whose immediate alert had the final count
  Counter samples_dropped;       // hits of emitted alerts beyond max_samples (counted, not kept)
};

class Correlator {
 public:
  explicit Correlator(std::vector<CorrelatedRule> rules, CorrelatorOptions options = {});
  Correlator(const Correlator&) = delete;  // holds a mutex and per-run state
  Correlator& operator=(const Correlator&) = delete;

  // A rule matched this event; its host is event.computer.
  void AddHit(uint32_t rule_index, OwnedEvent event);
  // Batch: a hit that AddPlannedHit will bring; every hit is planned before
  // the first AddPlannedHit, and so are builds and the inventory (AddBuild,
  // LoadInventory), because host keys and window starts depend on them all.
  void PlanHit(uint32_t rule_index, std::string_view computer, FileTime time);
  // Batch: a planned hit, folded into its window's summary.
  void AddPlannedHit(uint32_t rule_index, OwnedEvent event);
  // An Exchange build seen for a host; `source` says where (it ends up in
  // Alert::exchange->source). The highest version per host wins (see above).
  void AddBuild(std::string_view raw_host, const ExchangeVersion& v, std::string source);
  // Optional host inventory, CSV ("host,build", as Export-Csv writes it) or
  // JSON (as ConvertTo-Json writes Get-ExchangeServer | Select
  // Name,AdminDisplayVersion); formats in src/correlate/inventory.h. A bad
  // entry fails the whole load with its file and line; nothing is applied.
  Status LoadInventory(const std::string& path);

  // Batch: closes every window, including the untimed one. Alerts are sorted
  // by (host, rule id, window start).
  std::vector<Alert> Finish();
  // Streaming: emits the windows that end at or before `watermark` and keeps
  // the open ones. Rules with CorrelationSpec::immediate() also get an alert
  // (revision 1) for each open window that reached its threshold, once; when
  // that window closes, a follow-up (revision 2, same alert_id) only if it
  // gained hits since. Sending one fixes the series' window grid (so the
  // alert_id holds); hits older than its first window, still on time, fall
  // in earlier windows of that grid. Suppressed windows are counted in stats (the alert they
  // fold into is already out, so its `suppressed` stays as sent). Untimed hits
  // and window_seconds <= 0 wait for Finish(). Short names are merged with
  // the FQDNs seen so far; a name's key is fixed once it had a window closed.
  std::vector<Alert> Drain(FileTime watermark);

  // The build attached to alerts of `host_key`, if any.
  std::optional<ExchangeBuildInfo> BuildFor(const std::string& host_key) const;

  const CorrelatorStats& stats() const { return stats_; }

 private:
  struct Hit {
    std::string name;  // normalized host name (not yet the key)
    OwnedEvent event;
  };
  // Per rule and host key, what must survive between Drain() calls.
  struct SeriesState {
    bool anchored = false;      // t0 fixed: a window has closed
    FileTime t0 = 0;            // start of the first window
    FileTime closed_until = 0;  // end of the last closed window
    bool has_alert = false;
    FileTime alert_end = 0;  // window end of the last alert (suppression)
    // Open windows whose immediate alert is out, by start: the count it had.
    std::map<FileTime, uint64_t> sent_early;
  };
  struct BuildSeen {
    ExchangeVersion version;
    std::string source;
  };
  // What an alert needs of one window's hits.
  struct WindowSummary {
    uint64_t count = 0;
    FileTime first = 0, last = 0;     // earliest and latest hit time
    std::set<std::string> names;      // computer names as logged, non-empty
    std::vector<OwnedEvent> samples;  // the earliest max_samples (EventLess order)
  };
  // A batch series (rule, host key): its windows by start, and the untimed.
  struct PlannedSeries {
    FileTime t0 = 0;  // start of the first window: the earliest timed hit
    std::map<FileTime, WindowSummary> windows;
    WindowSummary untimed;
  };

  std::vector<Alert> CloseWindows(FileTime limit, bool final);
  // Fixes host keys and each planned series' t0 (on the first AddPlannedHit).
  void FixPlanLocked();
  void EmitPlannedLocked(std::vector<Alert>* out);
  static void FoldIntoWindow(OwnedEvent event, uint32_t max_samples, WindowSummary* window);
  // A window of sorted hits as a summary; moves the samples out of the hits.
  static WindowSummary Summarize(std::vector<Hit>::iterator begin, std::vector<Hit>::iterator end,
                                 uint32_t max_samples, bool copy_samples = false);
  // emit: immediate, streaming: alerts for the open windows of a series
  // (sorted hits [begin, end), all timed) that reached the threshold.
  void EmitOpenWindows(uint32_t rule_index, const std::string& key, SeriesState* state, FileTime t0,
                       std::vector<Hit>::iterator begin, std::vector<Hit>::iterator end,
                       size_t* last, std::vector<Alert>* out);
  void CloseSeries(uint32_t rule_index, const std::string& key, std::vector<Hit> hits,
                   FileTime limit, bool final, std::vector<Hit>* keep, std::vector<Alert>* out);
  // Turns one window's hits into an alert, or folds or drops them. `last`
  // is the index in `out` of this series' previous alert from this call.
  // `revision`: 1 for an open window's immediate alert; otherwise 0, and the
  // window's own immediate alert, if one was sent, is looked up in `state`.
  void EmitWindow(uint32_t rule_index, const std::string& key, SeriesState* state,
                  WindowSummary window, FileTime window_start, FileTime window_end, bool untimed,
                  size_t* last, std::vector<Alert>* out, uint32_t revision = 0);
  void AddBuildLocked(const std::string& name, const ExchangeVersion& v, std::string source);
  std::optional<ExchangeBuildInfo> BuildForLocked(const std::string& host_key) const;

  const std::vector<CorrelatedRule> rules_;
  const CorrelatorOptions options_;
  mutable std::mutex mu_;
  HostResolver hosts_;                                              // guarded by mu_
  std::vector<std::vector<Hit>> pending_;                           // per rule; mu_
  std::map<std::pair<uint32_t, std::string>, SeriesState> series_;  // mu_
  std::map<std::string, BuildSeen> builds_;                         // by normalized name; mu_
  // Batch: earliest timed hit per (rule, normalized name), 0 when none; then,
  // once fixed, the series by (rule, host key). mu_
  std::map<std::pair<uint32_t, std::string>, FileTime> plan_;
  bool plan_fixed_ = false;
  std::map<std::pair<uint32_t, std::string>, PlannedSeries> planned_;
  CorrelatorStats stats_;
};

}  // namespace eventsift::correlate
