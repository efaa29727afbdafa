#pragma once
// The fleet view: one row per Exchange host a scan saw, with its build, the
// state of its Emergency Mitigation Service (EEMS) and the attack indicators
// found (docs/report.md). Built from the scan's observations (hosts seen,
// every rule hit, the --inventory's hosts) rather than from the alerts, so
// suppressed repeats and state rules count too, and an inventory server whose
// logs were not collected is listed instead of invisible. Rendered as text
// (fleet_table.h) and as a self-contained HTML page (html_report.h).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/time_util.h"
#include "src/correlate/cve_catalog.h"
#include "src/correlate/cve_verdict.h"
#include "src/detect/rule.h"
#include "src/pipeline/scan.h"

namespace eventsift::report {

// The two rules whose hits make the EEMS state rather than indicators. Any
// other alert rule that hits an Exchange host is an attack indicator.
inline constexpr char kEemsErrorRule[] = "eems_mitigation_error";
inline constexpr char kEemsSuccessRule[] = "eems_mitigation_success";

enum class EemsState : uint8_t {
  kNoEvents,   // neither an error nor a success logged
  kWorking,    // successes, and no error after the last one
  kFailing,    // errors and no success after the last error
  kNotInLogs,  // listed in the inventory only: nothing of it was in the scanned logs
};

// "no EEMS events", "working", "failing", "no Exchange events in the scanned logs".
std::string EemsStateName(EemsState s);

struct IndicatorHits {
  std::string rule_id, title, severity;
  uint64_t count = 0;
  FileTime first = 0, last = 0;  // 0 when no hit carried a time
};

// A host's timeline lanes cut the fleet's time span (its earliest to its
// latest timed hit) into kTimelineBuckets columns; a bucket holds the timed
// hits of one lane that fall in one column.
inline constexpr int kTimelineBuckets = 240;
struct TimelineBucket {
  int index = 0;  // column, 0 .. kTimelineBuckets - 1
  uint64_t count = 0;
  FileTime first = 0, last = 0;
};

struct FleetHost {
  std::string host;                // host key, normalized as alerts have it
  std::vector<std::string> names;  // computer names as logged, sorted
  uint64_t exchange_events = 0;    // events of MSExchange* providers
  // Whether the scanned logs showed the host (an Exchange event, a build or a
  // rule hit) and whether --inventory listed it; a row has at least one.
  bool in_logs = true;
  bool in_inventory = false;
  std::optional<ExchangeBuildInfo> build;

  EemsState eems = EemsState::kNoEvents;
  uint64_t eems_errors = 0, eems_successes = 0;
  FileTime first_error = 0, last_error = 0;      // 0: none, or none with a time
  FileTime first_success = 0, last_success = 0;  // 0: none, or none with a time
  // kFailing: the first error after the last success (the first error when
  // EEMS never succeeded in the data).
  FileTime failing_since = 0;

  std::vector<IndicatorHits> indicators;  // by rule id
  uint64_t indicator_hits = 0;            // sum of indicators' counts

  // EEMS mitigations known applied: from success events (earliest time per
  // id) and the inventory's mitigations column. By id.
  std::vector<correlate::AppliedMitigation> mitigations;
  // One verdict per CVE of the CVE list, KEV first (FleetBuilder's `cves`).
  std::vector<correlate::CveVerdict> cves;

  // Timeline lanes: EEMS errors, EEMS successes, indicator hits; non-empty
  // buckets by index.
  std::vector<TimelineBucket> error_lane, success_lane, indicator_lane;
};

// The build of a host key or normalized name (Scanner::BuildFor).
using BuildLookup = std::function<std::optional<ExchangeBuildInfo>(const std::string&)>;

// Builds the fleet from a scan's hits in memory that follows the hosts and
// rules, not the hits: the scan shows it every hit twice (HitObserver), the
// first pass for counts, first and last times, mitigation ids and the
// fleet's time span, the second for what depends on them (failing since,
// timeline buckets).
class FleetBuilder final : public HitObserver {
 public:
  // `rules` (the scan's; hit indexes point into it) must outlive us, and so
  // must `cves`, the CVEs to judge every host against (none when null).
  FleetBuilder(const detect::RuleSet* rules, bool merge_short_names,
               const correlate::CveCatalog* cves = nullptr);
  FleetBuilder(const FleetBuilder&) = delete;  // holds pointers into its own maps
  FleetBuilder& operator=(const FleetBuilder&) = delete;

  void FirstPass(uint32_t rule, std::string_view computer, FileTime time,
                 const std::vector<std::string>& mitigations) override;
  void BetweenPasses(const ScanObservations& observations) override;
  void SecondPass(uint32_t rule, std::string_view computer, FileTime time) override;

  // After the second pass: rows sorted by host key. `build_for` may be empty.
  std::vector<FleetHost> Build(const BuildLookup& build_for);

 private:
  struct Summary {  // hits of one rule on one computer name as logged
    uint64_t count = 0;
    FileTime first = 0, last = 0;  // 0 when none carried a time
    // The ids the hits named, each with its earliest time: one per distinct id.
    std::vector<correlate::AppliedMitigation> mitigations;
  };
  struct Row {
    FleetHost host;
    FileTime error_after_success = 0;  // earliest timed error after the last success
  };
  void Bucket(FileTime time, std::vector<TimelineBucket>* lane) const;

  const detect::RuleSet* rules_;
  bool merge_short_names_;
  const correlate::CveCatalog* cves_;
  std::map<uint32_t, std::map<std::string, Summary, std::less<>>> summaries_;  // rule, name
  std::map<std::string, Row> by_key_;
  std::map<std::string, std::set<std::string>> names_;       // key -> raw names
  std::map<std::string, std::set<std::string>> normalized_;  // key -> normalized names
  std::map<std::string, Row*, std::less<>> row_of_name_;     // raw name -> row (null: none)
  FileTime span_first_ = 0, span_last_ = 0;                  // the fleet's timed hits
};

struct FleetInput {
  const detect::RuleSet* rules = nullptr;  // the scan's rules (hit indexes point here)
  const ScanObservations* observations = nullptr;
  const std::vector<HitSeen>* hits = nullptr;  // every hit, in input order
  BuildLookup build_for;                       // may be empty
  bool merge_short_names = true;               // as the scan's correlator (--no-merge-short-names)
  // The CVEs to judge every host against; none when null. Must outlive the fleet.
  const correlate::CveCatalog* cves = nullptr;
};

// The verdicts' inputs for one host.
correlate::HostCveInput CveInputOf(const FleetHost& h);

// "applied mitigations" text: "M2.1.0 (2026-05-20T08:00:00Z), M1.1.0 (inventory)" or "-".
std::string MitigationsText(const FleetHost& h);

// A FleetBuilder run over a list of hits. Rows sorted by host key.
std::vector<FleetHost> BuildFleet(const FleetInput& in);

// "15.1.2507.16" and friends: how a BuildStatus reads for people.
std::string BuildStatusName(BuildStatus s);

}  // namespace eventsift::report
