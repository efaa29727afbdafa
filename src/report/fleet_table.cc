#include "src/report/fleet_table.h"

#include <algorithm>

#include <fmt/format.h>

namespace eventsift::report {

namespace {

std::string TimeText(FileTime t) { return t != 0 ? FormatRfc3339(t, 0) : "time unknown"; }

}  // namespace

std::string LastSuccessText(const FleetHost& h) {
  if (h.eems == EemsState::kNoEvents || h.eems == EemsState::kNotInLogs) return "-";
  return h.eems_successes == 0 ? "never" : TimeText(h.last_success);
}

std::string EemsSummary(const FleetHost& h) {
  switch (h.eems) {
    case EemsState::kNoEvents:
    case EemsState::kNotInLogs:
      return EemsStateName(h.eems);
    case EemsState::kFailing:
      return fmt::format("failing since {} ({} error{})", TimeText(h.failing_since), h.eems_errors,
                         h.eems_errors == 1 ? "" : "s");
    case EemsState::kWorking:
      if (h.eems_errors > 0) {
        return fmt::format("working ({} earlier error{})", h.eems_errors,
                           h.eems_errors == 1 ? "" : "s");
      }
      return fmt::format("working ({} success{})", h.eems_successes,
                         h.eems_successes == 1 ? "" : "es");
  }
  return "";
}

std::string IndicatorSummary(const FleetHost& h) {
  if (h.indicators.empty()) return "-";
  std::string out;
  for (const auto& ind : h.indicators) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} x{}", ind.rule_id, ind.count);
  }
  return out;
}

std::string CveVerdictCell(const correlate::CveVerdict& v) {
  if (v.exposed_from.empty()) return v.text;
  return fmt::format("{} [exposed from {}]", v.text, v.exposed_from);
}

std::string CveColumnName(const correlate::CveEntry& cve) {
  return cve.kev() ? fmt::format("{} (KEV {})", cve.id, cve.kev_added) : cve.id;
}

size_t CountExposed(const std::vector<FleetHost>& fleet) {
  return std::count_if(fleet.begin(), fleet.end(), [](const FleetHost& h) {
    return std::any_of(h.cves.begin(), h.cves.end(),
                       [](const auto& v) { return correlate::IsExposed(v.kind); });
  });
}

std::string RenderFleetTable(const std::vector<FleetHost>& fleet) {
  if (fleet.empty()) return "\nExchange fleet: no Exchange hosts seen\n";
  size_t failing = 0, outdated = 0, attacked = 0, unseen = 0;
  using Row = std::vector<std::string>;
  std::vector<Row> rows;
  rows.push_back({"HOST", "BUILD", "PRODUCT", "BUILD STATUS", "GETS MITIGATIONS", "EEMS",
                  "LAST EEMS SUCCESS", "ATTACK INDICATORS", "APPLIED MITIGATIONS"});
  // Every row judged the same CVE list, so the first row's CVEs name the columns.
  for (const auto& v : fleet.front().cves) rows.front().push_back(CveColumnName(*v.cve));
  for (const auto& h : fleet) {
    failing += h.eems == EemsState::kFailing;
    outdated += h.build && h.build->status == BuildStatus::kOutdated;
    attacked += !h.indicators.empty();
    unseen += !h.in_logs;
    const std::string last_success = LastSuccessText(h);
    rows.push_back({h.host, h.build ? h.build->version : "-",
                    h.build && !h.build->product.empty() ? h.build->product : "-",
                    BuildStatusName(h.build ? h.build->status : BuildStatus::kUnknown),
                    std::string(EemsMitigationsName(h.build ? h.build->eems_mitigations
                                                            : EemsMitigations::kUnknown)),
                    EemsSummary(h), last_success, IndicatorSummary(h), MitigationsText(h)});
    for (const auto& v : h.cves) rows.back().push_back(CveVerdictCell(v));
  }
  std::vector<size_t> width(rows.front().size());
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  // Inventory-only hosts are called out, and only when there are some, so a
  // scan without --inventory keeps its title.
  std::string out = fmt::format(
      "\nExchange fleet: {} host{} ({} EEMS failing, {} outdated build{}, {} with attack "
      "indicators{}{})\n",
      fleet.size(), fleet.size() == 1 ? "" : "s", failing, outdated, outdated == 1 ? "" : "s",
      attacked, unseen > 0 ? fmt::format(", {} not in the scanned logs", unseen) : "",
      fleet.front().cves.empty()
          ? ""
          : fmt::format(", {} exposed to a listed CVE", CountExposed(fleet)));
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(width[i] - r[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace eventsift::report
