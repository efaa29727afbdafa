#pragma once
// Alerts from the fleet's CVE verdicts (docs/exchange-cves.md): one
// exchange_cve_exposure alert per server and exposed CVE, and the exposed
// CVEs named on the host's EEMS error (1008) alerts.

#include <vector>

#include "src/alert/alert.h"
#include "src/report/fleet.h"

namespace eventsift::report {

inline constexpr char kCveExposureRule[] = "exchange_cve_exposure";

// One alert per host and exposed verdict, hosts in fleet order, CVEs in the
// list's order (KEV first). Severity critical for a KEV entry, else high.
std::vector<Alert> CveExposureAlerts(const std::vector<FleetHost>& fleet);

// Fills Alert::exposed_cves of the eems_mitigation_error alerts of exposed hosts.
void NameExposedCves(const std::vector<FleetHost>& fleet, std::vector<Alert>* alerts);

}  // namespace eventsift::report
