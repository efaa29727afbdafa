#pragma once
// SigmaCorrelator: evaluates Sigma correlation rules (event_count,
// value_count, temporal, temporal_ordered, value_sum, value_avg,
// value_percentile) over the hits of the rules they name, and over the
// alerts of other correlations (chains). docs/sigma-correlation.md states
// the semantics; in short:
//
//   * Hits wait in `pending` until the watermark passes them, then are
//     applied in event-time order (time, then content), so input order and
//     thread scheduling do not change the alerts.
//   * Per correlation and group (the group-by values, aliases applied), a
//     sliding window holds the entries of the last `timespan`: the window
//     anchored at the oldest entry is [t0, t0 + timespan), an entry exactly
//     `timespan` after t0 is outside.
//   * Lower-bound conditions (gt, gte; temporal's "all rules") of the count
//     types fire as soon as the entry completing them arrives. Upper bounds
//     (lt, lte, eq, neq, ranges) and the value_sum/avg/percentile metrics
//     are decided when the window anchored at the oldest entry closes (the
//     next entry is past it, or the watermark is). Firing consumes the
//     window's entries, and the group's hits before the alert's window end
//     are absorbed: one alert per group and window.
//   * A hit older than a watermark already applied is late: counted and
//     dropped (stats().hits_late).
//   * Memory is bounded: entries per group, groups per correlation and
//     pending hits (SigmaCorrelatorOptions); what a bound drops is counted.
//
// Its whole state (pending hits and windows) serialises to JSON
// (SaveState/LoadState) so the daemon checkpoints it and restores it after
// a restart or in a partition's lane.
//
// Not thread-safe: scan feeds it from one thread after the workers finish,
// the daemon from its loop thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/stats.h"
#include "src/core/status.h"
#include "src/core/time_util.h"
#include "src/detect/rule_set.h"
#include "src/detect/sigma_correlation.h"
#include "src/event/owned_event.h"

namespace eventsift::correlate {

// The value of a field of a hit's event, as a correlation's group-by and
// `field` name it, for a hit of base rule `base_index` (a Sigma rule's
// logsource decides where its field names are read); nullopt when the
// event has no such field.
using SigmaFieldLookup = std::function<std::optional<std::string>(
    uint32_t base_index, const OwnedEvent& event, std::string_view field)>;

// Sigma's Windows names for the header (Computer, EventID, Channel,
// Provider_Name, ...), else the event's data fields by name (exact, then
// ASCII case-insensitive).
std::optional<std::string> DefaultSigmaField(uint32_t base_index, const OwnedEvent& event,
                                             std::string_view field);

// Reads group-by and `field` values as the base rule would: a Sigma rule's
// field names through its logsource's mapping (Security 4688's
// NewProcessName for Image, ...; the first variant holding the field
// wins), our own rules' and unknown names as DefaultSigmaField does.
SigmaFieldLookup RuleSetFieldLookup(std::shared_ptr<const detect::RuleSet> rules);

using detect::SigmaRuleRef;

struct SigmaCorrelatorStats {
  Counter hits_received;    // AddHit calls for rules some correlation uses
  Counter hits_untimed;     // dropped: the event has no time
  Counter hits_late;        // dropped: older than a watermark already applied
  Counter hits_absorbed;    // in the window of an alert already raised for their group
  Counter entries_dropped;  // dropped by max_entries_per_group (oldest first)
  Counter groups_dropped;   // dropped by max_groups_per_correlation (least recent first)
  Counter chained_hits;     // correlation alerts fed to the correlations naming them
  Counter alerts_emitted;   // alerts of correlations that alert on their own
  // Gauges, summed over the correlators counting here: groups (a
  // correlation's windows for one group-by value) held now, and hits held
  // (in those windows, or waiting for the watermark).
  std::atomic<int64_t> windows_open{0};
  std::atomic<int64_t> hits_held{0};
};

struct SigmaCorrelatorOptions {
  size_t max_entries_per_group = 10000;
  size_t max_groups_per_correlation = 100000;
  // Hits waiting for the watermark; past it the oldest are applied at once
  // (the watermark moves to the newest pending time minus the longest
  // timespan, so later hits older than that are late).
  size_t max_pending = 50000;
  uint32_t max_samples = 3;  // sample events per alert (the latest of the window)
  SigmaFieldLookup field_lookup = DefaultSigmaField;
  // Counted into these when given (the daemon's pipelines share one set
  // across rule reloads and Kafka partitions, for /metrics), else into the
  // correlator's own.
  std::shared_ptr<SigmaCorrelatorStats> stats;
};

class SigmaCorrelator {
 public:
  // Resolves each correlation's `rules` against `base_rules` (id or name)
  // and the other correlations (chains). A correlation naming an unknown
  // rule, or part of a cycle, is refused: its error (file, line, reason)
  // goes to `refused` and the others still work.
  SigmaCorrelator(std::vector<detect::SigmaCorrelation> correlations,
                  std::vector<SigmaRuleRef> base_rules, std::vector<Status>* refused,
                  SigmaCorrelatorOptions options = {});
  SigmaCorrelator(const SigmaCorrelator&) = delete;
  SigmaCorrelator& operator=(const SigmaCorrelator&) = delete;
  ~SigmaCorrelator();

  size_t size() const { return nodes_.size(); }  // correlations accepted
  const detect::SigmaCorrelation& correlation(size_t i) const;
  // Whether some correlation uses hits of base rule `base_index`.
  bool Uses(uint32_t base_index) const;
  // Whether base rule `base_index` still alerts on its own: not named by a
  // correlation, or named by one with `generate: true`.
  bool Standalone(uint32_t base_index) const;
  // The longest timespan, in seconds (the daemon's watermark delay).
  int64_t max_timespan_seconds() const { return max_timespan_seconds_; }

  // Base rule `base_index` matched `event`.
  void AddHit(uint32_t base_index, const OwnedEvent& event);
  // Applies the hits at or before `watermark` and closes the windows that
  // end at or before it; returns the alerts, in the order they fired.
  std::vector<Alert> Drain(FileTime watermark);
  // End of input: applies everything and decides every open window.
  std::vector<Alert> Finish();

  // The smallest line of a hit still pending or in an open window (Kafka:
  // line - 1 is the offset to re-read from), or 0 when none.
  uint64_t OldestOpenLine() const;
  // Entries in open windows plus pending hits (for /metrics and tests).
  size_t open_entries() const;

  // The state as one JSON object; LoadState accepts what SaveState wrote
  // (correlations matched by key, rules by reference; unknown ones are
  // skipped, as after a rule reload).
  std::string SaveState() const;
  Status LoadState(std::string_view json, const std::string& origin);

  const SigmaCorrelatorStats& stats() const { return *stats_; }

 private:
  struct Item;
  struct Entry;
  struct Group;
  struct Node;
  struct Consumer {
    uint32_t node;
    uint32_t slot;  // index in the node's rules
  };

  // A hit for consumer `c` at `time`, its group-by and `field` values read
  // through `lookup` (an event's fields, or an inner correlation's group).
  Item MakeItem(const Consumer& c, FileTime time,
                const std::function<std::optional<std::string>(const std::string&)>& lookup) const;
  void Push(Item item);
  std::vector<Alert> Apply(FileTime watermark, bool final);
  void ApplyItem(Item item, std::vector<Item>* derived, std::vector<Alert>* out);
  // Closes windows of `group` whose end is at or before `limit`.
  void CloseUntil(Node& node, Group& group, FileTime limit, std::vector<Item>* derived,
                  std::vector<Alert>* out);
  void PushEntry(Node& node, Group& group, Entry entry);
  void PopFront(Node& node, Group& group);
  // The value compared to the condition and whether it holds (value_percentile:
  // the rarest or commonest value that satisfies it is reported).
  bool Evaluate(const Node& node, const Group& group, double* metric, std::string* value) const;
  void Fire(Node& node, Group& group, double metric, const std::string& value,
            std::vector<Item>* derived, std::vector<Alert>* out);
  void EvictGroups(Node& node);
  // Brings stats().windows_open and hits_held in line with what is held now.
  void CountHeld();

  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::vector<Consumer>> base_consumers_;  // per base rule
  std::vector<bool> base_standalone_;
  std::vector<std::vector<Consumer>> node_consumers_;  // per node (chains)
  SigmaCorrelatorOptions options_;
  int64_t max_timespan_seconds_ = 0;
  std::vector<Item> pending_;
  std::vector<Alert> forced_;   // fired by the max_pending bound, out with the next Drain
  FileTime applied_until_ = 0;  // watermark already applied; older hits are late
  uint64_t seq_ = 0;            // arrival order, the last tie-breaker
  std::shared_ptr<SigmaCorrelatorStats> stats_;
  int64_t groups_counted_ = 0;  // this correlator's share of stats_->windows_open
  int64_t hits_counted_ = 0;    // and of stats_->hits_held
};

}  // namespace eventsift::correlate
