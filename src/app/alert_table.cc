#include "src/app/alert_table.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "src/report/fleet.h"

namespace eventsift::app {

std::string RenderAlertTable(const std::vector<Alert>& alerts) {
  using Row = std::array<std::string, 7>;
  std::vector<Row> rows;
  rows.push_back(
      {"HOST", "RULE", "SEVERITY", "COUNT", "FIRST SEEN", "LAST SEEN", "EXCHANGE BUILD"});
  for (const auto& a : alerts) {
    std::string build = "-";
    if (a.exchange) {
      build =
          fmt::format("{} {}", a.exchange->version, report::BuildStatusName(a.exchange->status));
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
