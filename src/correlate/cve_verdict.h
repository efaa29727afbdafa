#pragma once
// Per Exchange server and CVE of the CVE list (cve_catalog.h): patched,
// mitigated by EEMS, exposed (and why), or unknown, with the evidence
// (docs/exchange-cves.md). Pure: the fleet view gathers the inputs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/time_util.h"
#include "src/correlate/cve_catalog.h"
#include "src/event/owned_event.h"

namespace eventsift::correlate {

// Mitigation ids in free text ("Applied mitigation M2.1.0", "m1.1.0",
// "M2.1.x"), upper-cased, in order of appearance, without repeats. An id is
// 'M' and digits at a word start, optionally followed by ".digits" or ".x"
// parts; "PING1" and "M21a" are not ids.
std::vector<std::string> ExtractMitigationIds(std::string_view text);

// The state rule whose hits (EEMS 1005/1006) name applied mitigations.
inline constexpr char kEemsSuccessRuleId[] = "eems_mitigation_success";

// The mitigation ids an EEMS success event names, in its rendered message
// (JSON exports) and its data values (EVTX has no message).
std::vector<std::string> MitigationIdsOfEvent(const OwnedEvent& e);

// Whether the applied id `seen` ("M2.1.0", "M2.1.x", "M2") covers the
// catalog's `want` ("M2"): equal, or `want` then a '.'. "M21" does not cover "M2".
bool MitigationCovers(std::string_view seen, std::string_view want);

// A mitigation a host is known to have: from an EEMS success event (with its
// time) or from the inventory (time 0).
struct AppliedMitigation {
  std::string id;      // "M2.1.0"
  FileTime time = 0;   // first success event naming it; 0 for the inventory
  std::string source;  // "EEMS event 1005" or "inventory FILE:LINE"
};

// Adds `m` to `to`, keeping the earliest sighting of each id (timed beats
// untimed: the inventory's entries carry no time).
void NoteAppliedMitigation(AppliedMitigation m, std::vector<AppliedMitigation>* to);

// Whether a host's EEMS is failing, given its EEMS errors (at least one) and
// successes: errors after the last success mean EEMS stopped working.
// Without times on either side the order is unknown; an error then counts as
// failing, since missing a broken server is worse than a second look at a
// good one. `error_after_success`: the earliest timed error after the last
// success (0: none). `since` is that error, else the first error. The fleet
// view (report/fleet.cc) and the daemon's CveWatch both decide through it.
struct EemsFailing {
  bool failing = false;
  FileTime since = 0;
};
EemsFailing DecideEemsFailing(uint64_t successes, FileTime first_error, FileTime last_success,
                              FileTime error_after_success);

struct HostCveInput {
  std::optional<ExchangeBuildInfo> build;
  bool in_logs = true;  // false: only the inventory lists the host
  std::vector<AppliedMitigation> mitigations;
  uint64_t eems_errors = 0, eems_successes = 0;
  bool eems_failing = false;   // errors and no success after the last one
  FileTime failing_since = 0;  // first error after the last success
  FileTime last_success = 0;
};

enum class CveVerdictKind : uint8_t {
  kPatched,
  kMitigated,
  kExposedCannotFetch,  // the build is older than March 2023: EEMS cannot fetch mitigations
  kExposedFailing,      // EEMS errors (1008) and no success since
  kExposedSilent,       // no mitigation seen and no EEMS event at all
  kExposedNotFixed,     // not fixed, and EEMS has no mitigation for this CVE
  kUnknown,
};

// "patched", "mitigated", "exposed_eems_cannot_fetch", "exposed_eems_failing",
// "exposed_eems_silent", "exposed_not_fixed", "unknown": the JSON spelling.
std::string_view CveVerdictCode(CveVerdictKind k);
bool IsExposed(CveVerdictKind k);

struct CveVerdict {
  const CveEntry* cve = nullptr;  // in the catalog judged against
  CveVerdictKind kind = CveVerdictKind::kUnknown;
  // For people: "patched", "mitigated since 2026-05-14T03:10:00Z",
  // "exposed: EEMS failing since 2026-04-02T10:00:00Z", ...
  std::string text;
  // The date the verdict holds from: the mitigation's first event, EEMS's
  // first failure; 0 when there is none.
  FileTime since = 0;
  // When exposure began ("2026-05-14", the disclosure): set for exposed
  // verdicts and for mitigations applied after the disclosure.
  std::string exposed_from;
  std::string evidence;       // sentences: the build check, the EEMS evidence
  std::string mitigation_id;  // the applied id that mitigates, when mitigated
};

CveVerdict JudgeCve(const CveEntry& cve, const HostCveInput& in);

// The verdicts of every CVE in `catalog`, in CveCatalog::Ordered() order.
std::vector<CveVerdict> JudgeCves(const CveCatalog& catalog, const HostCveInput& in);

// `eventsift builds check`: whether a build is fixed for `cve`, can be
// mitigated by EEMS, or cannot ("fixed", "eems_can_mitigate", "cannot",
// "unknown"), with one or two sentences why.
struct BuildCveAnswer {
  std::string_view code;
  std::string text;
};
BuildCveAnswer AnswerForBuild(const CveEntry& cve, const ExchangeVersion& v,
                              const ExchangeBuildInfo& info);

// What to do: update; else EOMT with the CVE; keep EEMS able to fetch.
std::string CveRemediation(const CveEntry& cve, CveVerdictKind kind);

}  // namespace eventsift::correlate
