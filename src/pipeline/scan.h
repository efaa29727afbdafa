#pragma once
// The batch pipeline behind `eventsift scan`:
//   inputs (files, directories, stdin) -> decoder (registry) -> detect::Matcher
//   -> correlate::Correlator -> alerts.
// Files are decoded in parallel, one worker per file (EVTX files also split
// their chunks across threads when there are fewer files than threads). Rule
// hits are stored per file (HitStore: memory up to a budget, then a
// temporary file) and fed to the correlator in input order after the workers
// finish, so the alerts and their ids do not depend on scheduling: a first
// pass plans every series' windows, the second folds each hit into its
// window's summary, so memory follows the windows, not the hits.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/result.h"
#include "src/core/stats.h"
#include "src/correlate/correlator.h"
#include "src/correlate/record_tracker.h"
#include "src/decoder/decoder.h"
#include "src/detect/matcher.h"
#include "src/detect/rule_set.h"
#include "src/pipeline/input_account.h"

namespace eventsift {

namespace json {
struct LineRange;
}  // namespace json

class HitObserver;  // below

// Sees every event as it is decoded (scan's events sink), from the decoding
// threads: several inputs at once, so it must be thread-safe.
class EventObserver {
 public:
  virtual ~EventObserver() = default;
  // Whether the event's payload must be decoded though no rule needs it.
  virtual bool WantPayload(const Event& header) const = 0;
  // Every event, with whether a rule matched it.
  virtual void OnEvent(const Event& event, bool matched) = 0;
};

struct ScanOptions {
  std::vector<std::string> inputs;  // files, directories (recursive) or "-"
  int threads = 1;                  // worker threads in all
  DecoderOptions decoder;           // strict/carve; threads is set per file
  correlate::CorrelatorOptions correlator;
  std::string inventory_csv;  // optional host,build inventory
  // Maximum corruption reports printed per input; the rest are counted.
  uint32_t max_reports_per_input = 20;
  // When set (SIGINT/SIGTERM), workers take no new input; the inputs already
  // read are still correlated and their alerts delivered or spooled. Must
  // outlive Run().
  const std::atomic<bool>* cancel = nullptr;
  // Rule hits wait in memory until every input is read, up to this many
  // bytes for all inputs together; further hits go, compressed, to one
  // temporary file in $TMPDIR (hit_store.h; plus a block of up to 1 MiB per
  // input being read), so memory does not grow with the hits.
  uint64_t hit_memory_bytes = 64u << 20;
  // Shown every hit after the inputs are read; may be null. Must outlive Run().
  HitObserver* hit_observer = nullptr;
  // Shown every event; may be null. Must outlive Run().
  EventObserver* event_observer = nullptr;
  // Track EventRecordIDs per host and channel (gaps, repeats): records().
  bool track_records = false;
  correlate::RecordTrackerOptions record_tracker;
};

// What one scan saw, for the summary line and exit codes.
struct ScanStats {
  Counter inputs;         // inputs opened
  Counter inputs_failed;  // inputs that could not be read at all
  Counter bytes;
  Counter events;
  Counter errors;           // corruption reports (bad records, malformed lines)
  Counter payload_skipped;  // events whose EventData no rule needed
  Counter incomplete;       // events without a time or a computer (DecoderStats)
  Counter rule_hits;
  Counter alerts;
  Counter inputs_skipped;                   // not started because the scan was cancelled
  std::atomic<bool> strict_failure{false};  // --strict stopped an input
};

// What the fleet view (src/report/fleet.h) needs beyond the alerts: which
// hosts run Exchange; the hits themselves go to a HitObserver.
struct HostSeen {
  std::string name;              // computer name as logged
  uint64_t exchange_events = 0;  // events of an MSExchange* provider
};
struct HitSeen {
  uint32_t rule = 0;     // index into the scan's rule set
  std::string computer;  // as logged
  FileTime time = 0;     // 0 when the event carries no time
  // Mitigation ids ("M2.1.0") an EEMS success event names; empty for other hits.
  std::vector<std::string> mitigations;
};
struct ScanObservations {
  std::vector<HostSeen> exchange_hosts;  // by name, first seen first
  // --inventory's host names as written, in file order: the fleet lists
  // these servers even when the scanned logs hold nothing of them.
  std::vector<std::string> inventory_hosts;
  // The applied mitigation ids of inventory rows that list any, by host name
  // as written, with the row ("inventory FILE:LINE").
  struct InventoryMitigations {
    std::string host, source;
    std::vector<std::string> ids;
  };
  std::vector<InventoryMitigations> inventory_mitigations;
};

// Sees every hit of every rule (alert and state kind) twice once all inputs
// are read, both times in input order: FirstPass for each, BetweenPasses
// (with the Exchange hosts and inventory complete), SecondPass for each. A
// view that needs the whole run's extent (the fleet's timeline) can so keep
// aggregates instead of a list of hits. Called from Run()'s thread.
class HitObserver {
 public:
  virtual ~HitObserver() = default;
  // `mitigations`: the ids ("M2.1.0") an EEMS success event names (HitSeen's).
  virtual void FirstPass(uint32_t rule, std::string_view computer, FileTime time,
                         const std::vector<std::string>& mitigations) = 0;
  virtual void BetweenPasses(const ScanObservations& observations) = 0;
  virtual void SecondPass(uint32_t rule, std::string_view computer, FileTime time) = 0;
};

// Called for every corruption report and unreadable input (stderr in the CLI).
using DiagnosticFn = std::function<void(const Status&)>;

class Scanner {
 public:
  Scanner(std::shared_ptr<const detect::RuleSet> rules, ScanOptions options,
          DiagnosticFn diagnostic);

  // Expands directories (recursively, sorted) into the ordered list of inputs.
  static Result<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& inputs,
                                                       DiagnosticFn diagnostic, ScanStats* stats);

  // Runs the whole scan and returns the correlated alerts, sorted by host,
  // rule id and window start. Hits of state rules (Rule::kind kState) are
  // recorded in observations() only: they raise no alert.
  Result<std::vector<Alert>> Run();

  // After Run(): the Exchange hosts seen, for the fleet view.
  const ScanObservations& observations() const { return observations_; }
  // After Run(): the build the correlator attaches to alerts of `host_key`
  // (from events and the inventory), if any.
  std::optional<ExchangeBuildInfo> BuildFor(const std::string& host_key) const;

  const ScanStats& stats() const { return stats_; }
  // After Run(): what became of each input, in input order (--stats).
  const std::vector<InputAccount>& accounts() const { return accounts_; }
  // After Run() with track_records: the record ids seen, every hole settled.
  const correlate::RecordTracker& records() const { return records_; }
  // Inputs finished so far and total, for a progress display (any thread).
  uint64_t inputs_done() const { return inputs_done_.load(std::memory_order_relaxed); }
  uint64_t inputs_total() const { return inputs_total_.load(std::memory_order_relaxed); }

 private:
  struct FileResult;
  struct SplitOutcome;
  void ScanOne(const std::string& path, int decoder_threads, FileResult* out);
  // One NDJSON file decoded as `ranges` on one thread each; the parts land in
  // out->parts, their reports in `reporter` in file order with whole-file
  // lines; reports past what can be shown go to `count_unshown` as a count.
  SplitOutcome ScanSplit(const std::string& path, const std::vector<json::LineRange>& ranges,
                         FileResult* out, CorruptionReporter& reporter,
                         const std::function<void(uint64_t)>& count_unshown, DecoderStats* stats);

  std::shared_ptr<const detect::RuleSet> rules_;
  detect::Matcher matcher_;
  ScanOptions options_;
  DiagnosticFn diagnostic_;
  ScanStats stats_;
  ScanObservations observations_;
  std::vector<InputAccount> accounts_;
  correlate::RecordTracker records_;
  std::unique_ptr<correlate::Correlator> correlator_;  // kept after Run() for BuildFor
  std::atomic<uint64_t> hit_memory_{0};                // bytes all HitStores hold in memory
  std::atomic<uint64_t> inputs_done_{0};
  std::atomic<uint64_t> inputs_total_{0};
};

// Adds the alerts of Sigma correlations to the correlator's, keeping its
// order (host, rule id, window start).
void AppendSigmaAlerts(std::vector<Alert> sigma, std::vector<Alert>* alerts);

// Correlation rules (alert metadata + correlation spec) of a loaded rule set.
std::vector<correlate::CorrelatedRule> ToCorrelatedRules(const detect::RuleSet& rules);

}  // namespace eventsift
