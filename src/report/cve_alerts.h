#pragma once
// Alerts from the fleet's CVE verdicts (docs/exchange-cves.md): one
// exchange_cve_exposure alert per server and exposed CVE, and the exposed
// CVEs named on the host's EEMS error (1008) alerts.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "src/alert/alert.h"
#include "src/report/fleet.h"

namespace eventsift::report {

inline constexpr char kCveExposureRule[] = "exchange_cve_exposure";

// One alert per host and exposed verdict, hosts in fleet order, CVEs in the
// list's order (KEV first). Severity critical for a KEV entry, else high.
std::vector<Alert> CveExposureAlerts(const std::vector<FleetHost>& fleet);

// One such alert: host key, its names as logged, its build, the verdict
// (exposed), and the latest EEMS error and success times (0: none). The
// daemon makes them from its CveWatch, the scan from the fleet.
Alert CveExposureAlert(const std::string& host, const std::vector<std::string>& names,
                       const std::optional<ExchangeBuildInfo>& build,
                       const correlate::CveVerdict& verdict, FileTime last_error,
                       FileTime last_success);

// Fills Alert::exposed_cves of the eems_mitigation_error alerts of exposed hosts.
void NameExposedCves(const std::vector<FleetHost>& fleet, std::vector<Alert>* alerts);
// The same with the exposed CVEs of a host key from elsewhere (the daemon's
// CveWatch); `exposed_of` returns none for a host not exposed.
void NameExposedCves(const std::function<std::vector<std::string>(const std::string&)>& exposed_of,
                     std::vector<Alert>* alerts);

}  // namespace eventsift::report
