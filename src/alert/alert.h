#pragma once
// Alert: what correlation produces and every sink ships. Its wire form is
// schemas/alert.schema.json (rendered by alert_json.cc); docs/alerts.md
// explains every field. Bump kAlertSchemaVersion on any incompatible change.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/time_util.h"
#include "src/event/owned_event.h"

namespace eventsift {

inline constexpr char kAlertSchemaVersion[] = "eventsift.alert/v1";
// The major part of kAlertSchemaVersion; it feeds alert_id (docs/alerts.md).
inline constexpr int kAlertSchemaMajor = 1;
inline constexpr char kProducerName[] = "eventsift";

// Whether a host's Exchange build predates the March 2023 SU, which EEMS needs
// to trust the Office Config Service's new certificate.
enum class BuildStatus : uint8_t {
  kUnknown,     // no build seen for the host
  kOutdated,    // older than March 2023: EEMS cannot fetch mitigations
  kBorderline,  // exactly the March 2023 SU (see docs/alerts.md)
  kCurrent,     // newer than March 2023
  kNoEems,      // build predates EEMS altogether (E2016 < CU22, E2019 < CU11, E2013)
  // The CU is known but not the SU on top of it (Get-ExchangeServer's
  // "Version 15.1 (Build 2507.6)"), and that CU's newest SU is the March 2023
  // one or later: only the ExSetup.exe file version can decide.
  kIndeterminate,
};

// Whether a host on this build can receive EEMS mitigations at all.
enum class EemsMitigations : uint8_t {
  kUnknown,  // the build cannot be placed (CU known but not its SU, unknown version)
  kYes,      // March 2023 SU or newer (the SU itself is borderline, see BuildStatus)
  kNo,       // older than the March 2023 SU, or no EEMS in that build at all
};

// "yes", "no", "unknown": the alert JSON and `eventsift builds check` spelling.
inline std::string_view EemsMitigationsName(EemsMitigations e) {
  switch (e) {
    case EemsMitigations::kYes:
      return "yes";
    case EemsMitigations::kNo:
      return "no";
    case EemsMitigations::kUnknown:
      break;
  }
  return "unknown";
}

struct ExchangeBuildInfo {
  std::string version;  // normalized "15.2.1118.20"
  std::string product;  // "Exchange Server 2019 CU12"
  BuildStatus status = BuildStatus::kUnknown;
  // Whether the build predates the March 2023 SU; empty when that cannot be
  // told (kUnknown, kIndeterminate, Exchange 2013 and older).
  std::optional<bool> older_than_march_2023;
  std::string source;  // where the build came from: "event 4999 @file:line", "inventory"
  // The fields below were added in v1 after the ones above (they stay last so
  // positional initializers of the older fields keep compiling).
  EemsMitigations eems_mitigations = EemsMitigations::kUnknown;
  std::string reason;        // one sentence: why this status and eems_mitigations
  std::string release_date;  // "2023-03-14" when the build is in the build list, else ""
};

// What an exchange_cve_exposure alert is about (docs/exchange-cves.md): one
// CVE of the CVE list and the server's verdict on it.
struct CveExposure {
  std::string id;            // "CVE-2026-42897"
  std::string title;         // the CVE list's title
  std::string kev_added;     // "2026-05-15"; empty: not in CISA KEV (or unconfirmed)
  std::string verdict;       // "exposed_eems_failing", ... (correlate::CveVerdictCode)
  std::string verdict_text;  // "exposed: EEMS failing since 2026-04-02T10:00:00Z"
  std::string exposed_from;  // "2026-05-14", when exposure began; may be empty
  FileTime since = 0;        // the verdict's own date (EEMS failing since); 0: none
  std::string evidence;
  std::string eems_mitigation;  // "M2"; empty: EEMS has none for it
};

struct AlertRule {
  std::string id, title, description, severity, remediation;
  std::vector<std::string> references;
  // Added in v1 after the fields above (kept last for positional
  // initializers). format: "eventsift" or "sigma"; source: the rule's file.
  // status, tags and falsepositives come from Sigma rules (empty otherwise).
  std::string format, source, status;
  std::vector<std::string> tags, falsepositives;
};

// What a Sigma correlation rule saw when it fired (docs/sigma-correlation.md).
struct AlertCorrelation {
  std::string type;                // "event_count", "value_count", "temporal", ...
  std::string condition;           // "gte 10", "gt 100 and lte 200"
  double metric = 0;               // the count, distinct count, sum, average or share compared
  std::string field;               // value_* types: the aggregated field, else empty
  std::string value;               // value_percentile: the value whose share fired, else empty
  std::vector<std::string> rules;  // as the correlation names them
  std::vector<std::pair<std::string, std::string>> group;  // group-by field -> value
};

struct Alert {
  std::string alert_id;  // deterministic: same input, same id
  // The eventsift version that produced the alert; empty means this build
  // (RenderAlertJson fills it in). ParseAlertJson keeps what it read.
  std::string producer_version;
  AlertRule rule;
  std::string host;                     // normalized host key
  std::vector<std::string> host_names;  // raw computer names of this alert's events, sorted
  std::optional<ExchangeBuildInfo> exchange;
  // All times are 0 for the window of events that carry no time.
  FileTime first_seen = 0;
  FileTime last_seen = 0;
  FileTime window_start = 0;
  FileTime window_end = 0;
  uint64_t count = 0;  // matching events in this window
  // Matching events of later windows folded into this alert by suppression
  // (CorrelationSpec::suppress_seconds); not in count, first/last_seen or samples.
  uint64_t suppressed = 0;
  std::vector<OwnedEvent> samples;  // up to the rule's sample limit, earliest first
  // The values of the fields the rule's conditions read, from the first
  // sample, as (field name as the rule spells it, value).
  std::vector<std::pair<std::string, std::string>> matched;
  // Set for alerts of Sigma correlation rules only (the JSON key is absent
  // otherwise, so other alerts are unchanged).
  std::optional<AlertCorrelation> correlation;
  // Added in v1 after the fields above; rendered only when set.
  std::optional<CveExposure> cve;         // exchange_cve_exposure alerts
  std::vector<std::string> exposed_cves;  // eems_mitigation_error: CVEs exposed on the host
  // Added in v1; rendered only when not 0. A streaming correlator sends an
  // `emit: immediate` rule's alert as soon as its window reaches the
  // threshold (revision 1, the count so far), and once more when the window
  // closes if more hits fell in it (revision 2, same alert_id, final count).
  // 0: the alert was sent once, with its window closed (scan, window_end).
  uint32_t revision = 0;
};

}  // namespace eventsift
