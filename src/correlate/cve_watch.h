#pragma once
// CveWatch: the daemon's per-server CVE verdicts (cve_verdict.h), kept as
// events arrive. It holds, per host, what `scan` learns from a whole run: the
// EEMS errors and successes, the mitigation ids the successes name. A host
// is judged again once its last change is behind the watermark, so that the
// events of one burst (a build event, then the EEMS success an hour later in
// event time, say) are judged together as a scan would judge them; a verdict
// that changed is handed on. The daemon turns the exposed ones into
// exchange_cve_exposure alerts (docs/exchange-cves.md, "In the daemon").
// Bounded: hosts, error times and mitigation ids per host (Options). Not
// thread-safe: one event pipeline owns it.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/core/time_util.h"
#include "src/correlate/cve_catalog.h"
#include "src/correlate/cve_verdict.h"

namespace eventsift::correlate {

// A verdict of one host and CVE that differs from the last one judged.
struct CveVerdictChange {
  std::string host;                // the host key (normalized name)
  std::vector<std::string> names;  // computer names as logged
  std::optional<ExchangeBuildInfo> build;
  CveVerdict verdict;  // points into the catalog Drain was given
  FileTime last_error = 0, last_success = 0;
};

struct CveWatchStats {
  uint64_t hosts = 0;          // hosts followed now
  uint64_t hosts_dropped = 0;  // hosts not followed: max_hosts reached
  uint64_t judged = 0;         // host judgements
  uint64_t changes = 0;        // verdicts that changed
  uint64_t error_times_dropped = 0;
};

class CveWatch {
 public:
  struct Options {
    size_t max_hosts = 100000;
    // Error times kept per host after its last success: enough to find when
    // failing began (1008 is logged hourly: 512 is three weeks); beyond it
    // the latest go, and a success past every kept one falls back to the
    // latest error as "failing since".
    size_t max_error_times = 512;
    size_t max_mitigations = 64;  // distinct ids per host
    size_t max_names = 8;         // raw names per host, for the alert
  };
  CveWatch() : CveWatch(Options{}) {}
  explicit CveWatch(Options options) : options_(options) {}

  void NoteEemsError(std::string_view computer, FileTime time);
  void NoteEemsSuccess(std::string_view computer, FileTime time,
                       const std::vector<std::string>& mitigation_ids);
  // A build event of the host: its verdicts may change (the build itself is
  // looked up at judgement, through Drain's `build_for`).
  void NoteBuild(std::string_view computer, FileTime time);

  // The build of a host key or computer name, as the correlator knows it.
  using BuildLookup = std::function<std::optional<ExchangeBuildInfo>(const std::string&)>;

  // Judges the hosts whose last change is at or before `watermark` (every
  // changed host when `finish`; untimed changes at once) against `catalog`,
  // and returns the verdicts that differ from the host's last ones.
  std::vector<CveVerdictChange> Drain(const CveCatalog& catalog, FileTime watermark, bool finish,
                                      const BuildLookup& build_for);

  // The CVEs the host's latest verdicts say it is exposed to (for the EEMS
  // error alert's exposed_cves), in catalog order.
  std::vector<std::string> ExposedCves(std::string_view host_key) const;

  // The state as JSON, and back (docs/operations.md, "Restart semantics").
  std::string SaveState() const;
  Status LoadState(std::string_view json, const std::string& origin);

  const CveWatchStats& stats() const { return stats_; }

 private:
  struct Host {
    std::set<std::string> names;
    uint64_t errors = 0, successes = 0;
    FileTime first_error = 0, last_error = 0, last_success = 0;
    std::set<FileTime> error_times;  // timed errors after last_success, earliest kept
    std::vector<AppliedMitigation> mitigations;
    std::map<std::string, std::string> verdicts;  // CVE id -> verdict code
    std::vector<std::string> exposed;             // CVE ids, catalog order
    bool pending = false;
    FileTime changed_at = 0;  // latest event time of a pending change
  };
  Host* Touch(std::string_view computer, FileTime time);
  HostCveInput InputOf(const std::string& key, const Host& h, const BuildLookup& build_for,
                       std::optional<ExchangeBuildInfo>* build) const;

  Options options_;
  std::map<std::string, Host, std::less<>> hosts_;
  CveWatchStats stats_;
};

}  // namespace eventsift::correlate
