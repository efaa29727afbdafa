#include "src/app/alert_table.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace eventsift::app {

std::string BuildStatusName(BuildStatus s) {
  switch (s) {
    case BuildStatus::kUnknown: return "unknown";
    case BuildStatus::kOutdated: return "OUTDATED (<Mar 2023)";
    case BuildStatus::kBorderline: return "Mar 2023 SU (borderline)";
    case BuildStatus::kCurrent: return "current";
    case BuildStatus::kNoEems: return "no EEMS (pre-2021)";
    case BuildStatus::kIndeterminate: return "CU known, SU unknown";
  }
  return "unknown";
}

std::string RenderAlertTable(const std::vector<Alert>& alerts) {
  using Row = std::array<std::string, 7>;
  std::vector<Row> rows;
  rows.push_back({"HOST", "RULE", "SEVERITY", "COUNT", "FIRST SEEN", "LAST SEEN", "EXCHANGE BUILD"});
  for (const auto& a : alerts) {
    std::string build = "-";
    if (a.exchange) {
      build = fmt::format("{} {}", a.exchange->version, BuildStatusName(a.exchange->status));
    }
    rows.push_back({a.host, a.rule.id, a.rule.severity, std::to_string(a.count),
                    a.first_seen ? FormatRfc3339(a.first_seen, 0) : "-",
                    a.last_seen ? FormatRfc3339(a.last_seen, 0) : "-", build});
  }
  std::array<size_t, 7> width{};
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(width[i] - r[i].size() + 2, ' ');
    }
    out += '\n';
  }
  out += fmt::format("{} alert{}\n", alerts.size(), alerts.size() == 1 ? "" : "s");
  return out;
}

}  // namespace eventsift::app
