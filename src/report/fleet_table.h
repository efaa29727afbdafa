#pragma once
// `scan --format table`: the fleet summary printed after the alert table.

#include <string>
#include <vector>

#include "src/report/fleet.h"

namespace eventsift::report {

// One line per Exchange host: host, build, product, build status, whether the
// build can receive EEMS mitigations at all, EEMS state, last success,
// indicators, applied mitigations and one column per listed CVE (KEV first),
// after a blank line and a title line that counts
// them (and the hosts only the inventory listed, if any); an empty fleet is
// one line saying so.
std::string RenderFleetTable(const std::vector<FleetHost>& fleet);

// "failing since 2026-11-20T23:05:12Z (26 errors)", "working (24 successes)",
// "no EEMS events", "no Exchange events in the scanned logs" (an inventory
// host the logs never showed): the EEMS column of the table and the HTML report.
std::string EemsSummary(const FleetHost& h);
// The last EEMS success, "never", or "-" for a host without EEMS events or
// not in the logs.
std::string LastSuccessText(const FleetHost& h);
// A CVE verdict as the table and the report show it: "exposed: EEMS failing
// since ... [exposed from 2026-05-14]".
std::string CveVerdictCell(const correlate::CveVerdict& v);
// "CVE-2026-42897 (KEV 2026-05-15)" or "CVE-2021-42321".
std::string CveColumnName(const correlate::CveEntry& cve);
// Hosts with at least one exposed verdict.
size_t CountExposed(const std::vector<FleetHost>& fleet);
// "proxyshell_mailbox_export x2, ..." or "-".
std::string IndicatorSummary(const FleetHost& h);

}  // namespace eventsift::report
