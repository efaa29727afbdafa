#include "src/report/cve_alerts.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/alert/alert_id.h"

namespace eventsift::report {

Alert CveExposureAlert(const std::string& host, const std::vector<std::string>& names,
                       const std::optional<ExchangeBuildInfo>& build,
                       const correlate::CveVerdict& v, FileTime last_error, FileTime last_success) {
  const correlate::CveEntry& c = *v.cve;
  const std::string verdict(correlate::CveVerdictCode(v.kind));
  Alert a;
  a.alert_id = ComputeCveAlertId(host, c.id, verdict);
  a.rule.id = kCveExposureRule;
  a.rule.title = fmt::format("Exchange server exposed to {}", c.id);
  a.rule.severity = c.kev() ? "critical" : "high";
  a.rule.description = fmt::format(
      "{}: {}. {} disclosed it on {}{}. Exposed since {}.", c.id, c.title, "Microsoft", c.disclosed,
      c.kev() ? fmt::format(" and CISA added it to the KEV catalog on {}", c.kev_added) : "",
      v.exposed_from.empty() ? c.disclosed : v.exposed_from);
  a.rule.remediation = correlate::CveRemediation(c, v.kind);
  a.rule.references = c.sources;
  a.host = host;
  a.host_names = names;
  a.exchange = build;
  // One verdict, no window: the times say when exposure began and the
  // latest EEMS evidence behind it.
  const FileTime began = ParseEventTime(v.exposed_from + "T00:00:00Z").value_or(0);
  a.first_seen = began;
  a.last_seen = std::max({began, v.since, last_error, last_success});
  a.count = 1;
  CveExposure e;
  e.id = c.id;
  e.title = c.title;
  e.kev_added = c.kev_added;
  e.verdict = verdict;
  e.verdict_text = v.text;
  e.exposed_from = v.exposed_from;
  e.since = v.since;
  e.evidence = v.evidence;
  e.eems_mitigation = c.eems_mitigation;
  a.cve = std::move(e);
  return a;
}

std::vector<Alert> CveExposureAlerts(const std::vector<FleetHost>& fleet) {
  std::vector<Alert> out;
  for (const FleetHost& h : fleet) {
    for (const correlate::CveVerdict& v : h.cves) {
      if (!correlate::IsExposed(v.kind)) continue;
      out.push_back(CveExposureAlert(h.host, h.names, h.build, v, h.last_error, h.last_success));
    }
  }
  return out;
}

void NameExposedCves(const std::vector<FleetHost>& fleet, std::vector<Alert>* alerts) {
  std::map<std::string, std::vector<std::string>> exposed;  // host key -> CVEs
  for (const FleetHost& h : fleet) {
    for (const auto& v : h.cves) {
      if (correlate::IsExposed(v.kind)) exposed[h.host].push_back(v.cve->id);
    }
  }
  NameExposedCves(
      [&exposed](const std::string& host) {
        auto it = exposed.find(host);
        return it == exposed.end() ? std::vector<std::string>{} : it->second;
      },
      alerts);
}

void NameExposedCves(const std::function<std::vector<std::string>(const std::string&)>& exposed_of,
                     std::vector<Alert>* alerts) {
  for (Alert& a : *alerts) {
    if (a.rule.id != kEemsErrorRule) continue;
    std::vector<std::string> cves = exposed_of(a.host);
    if (cves.empty()) continue;
    a.rule.description += fmt::format(" This server is exposed to: {}.", fmt::join(cves, ", "));
    a.exposed_cves = std::move(cves);
  }
}

}  // namespace eventsift::report
