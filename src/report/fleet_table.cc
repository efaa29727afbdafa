#include "src/report/fleet_table.h"

#include <algorithm>
#include <array>

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

std::string RenderFleetTable(const std::vector<FleetHost>& fleet) {
  if (fleet.empty()) return "\nExchange fleet: no Exchange hosts seen\n";
  size_t failing = 0, outdated = 0, attacked = 0, unseen = 0;
  using Row = std::array<std::string, 8>;
  std::vector<Row> rows;
  rows.push_back({"HOST", "BUILD", "PRODUCT", "BUILD STATUS", "GETS MITIGATIONS", "EEMS",
                  "LAST EEMS SUCCESS", "ATTACK INDICATORS"});
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
                    EemsSummary(h), last_success, IndicatorSummary(h)});
  }
  std::array<size_t, 8> width{};
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  // Inventory-only hosts are called out, and only when there are some, so a
  // scan without --inventory keeps its title.
  std::string out = fmt::format(
      "\nExchange fleet: {} host{} ({} EEMS failing, {} outdated build{}, {} with attack "
      "indicators{})\n",
      fleet.size(), fleet.size() == 1 ? "" : "s", failing, outdated, outdated == 1 ? "" : "s",
      attacked, unseen > 0 ? fmt::format(", {} not in the scanned logs", unseen) : "");
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
