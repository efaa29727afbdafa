#include "src/report/html_report.h"
#include "src/report/record_ids_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "src/report/fleet_table.h"

namespace eventsift::report {

namespace {

// The page's fixed parts. Kept here, in one place, so the HTML a reader
// sees is the HTML the tests check; {{...}} marks are filled below.
constexpr std::string_view kHead = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="generator" content="eventsift {{version}}">
<title>eventsift: Exchange fleet report{{title_suffix}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.5em 0 .4em}
.meta{color:#555;margin:0 0 1em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
tr:nth-child(even) td{background:#fafafa}
.bad{color:#a00;font-weight:600}.good{color:#060}.muted{color:#777}
.sev-critical{color:#a00;font-weight:600}.sev-high{color:#c50}
.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
svg text{font:12px system-ui,sans-serif}
</style>
</head>
<body>
<h1>Exchange fleet{{title_suffix}}</h1>
<p class="meta">{{summary}}</p>
<table id="fleet">
<thead><tr>
<th data-col="host">Host</th><th data-col="build" data-type="version">Build</th><th data-col="product">Product</th><th data-col="status">Build status</th><th data-col="mitigations">Gets mitigations</th><th data-col="eems">EEMS</th><th data-col="last_success">Last EEMS success</th><th data-col="indicators" data-type="num">Attack indicators</th>{{extra_heads}}
</tr></thead>
<tbody>
)html";

constexpr std::string_view kMiddle = R"html(</tbody>
</table>
<h2>Timeline</h2>
<p class="legend"><span><i style="background:#c00"></i>EEMS errors (1008)</span><span><i style="background:#2a2"></i>EEMS successes (1005/1006)</span><span><i style="background:#73c"></i>attack indicators</span></p>
)html";

// Sorting: a click on a header sorts by that column, a second click reverses.
// "#sort=<col>" or "#sort=<col>:desc" in the URL sorts on load through the
// same function (bookmarks, and the headless-browser test). The order reached
// is written to <body data-sorted> so it can be checked from the DOM.
constexpr std::string_view kTail = R"html(<script>
(function () {
  var table = document.getElementById('fleet');
  var heads = table.tHead.rows[0].cells;
  function key(cell, type) {
    var v = cell.getAttribute('data-sort');
    if (v === null) v = cell.textContent;
    if (type === 'num') return parseFloat(v) || 0;
    if (type === 'version') return v.split('.').map(function (p) { return ('0000000000' + p).slice(-10); }).join('.');
    return v.toLowerCase();
  }
  function sortBy(col, desc) {
    var idx = -1;
    for (var i = 0; i < heads.length; i++) if (heads[i].getAttribute('data-col') === col) idx = i;
    if (idx < 0) return;
    var type = heads[idx].getAttribute('data-type');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[idx], type), y = key(b.cells[idx], type);
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (c === 0) c = a.getAttribute('data-host') < b.getAttribute('data-host') ? -1 : 1;
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var j = 0; j < heads.length; j++) heads[j].removeAttribute('aria-sort');
    heads[idx].setAttribute('aria-sort', desc ? 'descending' : 'ascending');
    document.body.setAttribute('data-sorted', col + (desc ? ':desc' : ''));
  }
  for (var i = 0; i < heads.length; i++) {
    heads[i].addEventListener('click', function () {
      sortBy(this.getAttribute('data-col'), this.getAttribute('aria-sort') === 'ascending');
    });
  }
  var m = /^#sort=([a-z_]+)(:desc)?$/.exec(location.hash);
  if (m) sortBy(m[1], !!m[2]);
})();
</script>
</body>
</html>
)html";

// Replaces each {{name}} in `tmpl` by its value (values are escaped already).
std::string Fill(std::string_view tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find("}}", open);
    out.append(tmpl.substr(pos, open - pos));
    auto it = values.find(std::string(tmpl.substr(open + 2, close - open - 2)));
    if (it != values.end()) out += it->second;
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

std::string TimeText(FileTime t) { return t != 0 ? FormatRfc3339(t, 0) : ""; }

// Build versions sort as numbers: each part zero-padded.
std::string VersionKey(const std::optional<ExchangeBuildInfo>& b) { return b ? b->version : ""; }

// Worst first when sorted ascending: what needs attention comes to the top.
int StatusRank(const std::optional<ExchangeBuildInfo>& b) {
  if (!b) return 6;
  switch (b->status) {
    case BuildStatus::kNoEems:
      return 0;
    case BuildStatus::kOutdated:
      return 1;
    case BuildStatus::kBorderline:
      return 2;
    case BuildStatus::kIndeterminate:
      return 3;
    case BuildStatus::kUnknown:
      return 4;
    case BuildStatus::kCurrent:
      return 5;
  }
  return 6;
}

int EemsRank(EemsState s) {
  switch (s) {
    case EemsState::kFailing:
      return 0;
    case EemsState::kNoEvents:
    case EemsState::kNotInLogs:  // unknown too; kept beside "no EEMS events"
      return 1;
    case EemsState::kWorking:
      return 2;
  }
  return 1;
}

// Exposed first when sorted ascending.
int VerdictRank(correlate::CveVerdictKind k) {
  if (correlate::IsExposed(k)) return 0;
  switch (k) {
    case correlate::CveVerdictKind::kUnknown:
      return 1;
    case correlate::CveVerdictKind::kMitigated:
      return 2;
    default:
      return 3;
  }
}

// The applied-mitigations and per-CVE header cells; empty without a CVE list.
std::string CveHeads(const std::vector<FleetHost>& fleet) {
  if (fleet.empty() || fleet.front().cves.empty()) return "";
  std::string out = "<th data-col=\"applied\">Applied mitigations</th>";
  for (const auto& v : fleet.front().cves) {
    const auto& c = *v.cve;
    out += fmt::format(
        "<th data-col=\"cve-{id}\" data-cve=\"{id}\" data-kev=\"{kev}\" "
        "title=\"{title}\">{name}</th>",
        fmt::arg("id", HtmlEscape(c.id)), fmt::arg("kev", HtmlEscape(c.kev_added)),
        fmt::arg("title",
                 HtmlEscape(fmt::format(
                     "{} (disclosed {}{}{})", c.title, c.disclosed,
                     c.kev() ? ", CISA KEV " + c.kev_added : "",
                     c.eems_mitigation.empty() ? "" : ", EEMS mitigation " + c.eems_mitigation))),
        fmt::arg("name", HtmlEscape(CveColumnName(c))));
  }
  return out;
}

std::string CveCells(const FleetHost& h) {
  if (h.cves.empty()) return "";
  std::string out = fmt::format("<td class=\"applied\">{}</td>", HtmlEscape(MitigationsText(h)));
  for (const auto& v : h.cves) {
    const char* cls = correlate::IsExposed(v.kind)                    ? "bad"
                      : v.kind == correlate::CveVerdictKind::kUnknown ? "muted"
                                                                      : "good";
    out += fmt::format(
        "<td data-cve=\"{}\" data-verdict=\"{}\" data-since=\"{}\" data-exposed-from=\"{}\" "
        "data-sort=\"{}{}\" class=\"{}\" title=\"{}\">{}</td>",
        HtmlEscape(v.cve->id), correlate::CveVerdictCode(v.kind), TimeText(v.since),
        HtmlEscape(v.exposed_from), VerdictRank(v.kind), TimeText(v.since), cls,
        HtmlEscape(v.evidence), HtmlEscape(CveVerdictCell(v)));
  }
  return out;
}

void AppendRow(const FleetHost& h, std::string* out) {
  const std::string host = HtmlEscape(h.host);
  std::string names;
  for (const auto& n : h.names) {
    if (!names.empty()) names += ", ";
    names += n;
  }
  const char* eems_class = h.eems == EemsState::kFailing   ? "bad"
                           : h.eems == EemsState::kWorking ? "good"
                                                           : "muted";
  const bool outdated = h.build && (h.build->status == BuildStatus::kOutdated ||
                                    h.build->status == BuildStatus::kNoEems);
  std::string indicators = "-";
  if (!h.indicators.empty()) {
    indicators.clear();
    for (const auto& ind : h.indicators) {
      indicators += fmt::format(
          "<div class=\"sev-{}\" title=\"{}\" data-rule=\"{}\" data-count=\"{}\">{} "
          "&times;{}</div>",
          HtmlEscape(ind.severity),
          HtmlEscape(ind.title + ": " + TimeText(ind.first) + " .. " + TimeText(ind.last)),
          HtmlEscape(ind.rule_id), ind.count, HtmlEscape(ind.rule_id), ind.count);
    }
  }
  *out += fmt::format(
      "<tr data-host=\"{host}\" data-eems=\"{eems_state}\">"
      "<td title=\"{names}\">{host}</td>"
      "<td data-sort=\"{build}\">{build_text}</td>"
      "<td>{product}</td>"
      "<td data-sort=\"{status_rank}\" class=\"{status_class}\" title=\"{source}\">{status}</td>"
      "<td title=\"{reason}\">{mitigations}</td>"
      "<td data-sort=\"{eems_rank}{failing_since}\" class=\"{eems_class}\">{eems}</td>"
      "<td data-sort=\"{last_success_key}\">{last_success}</td>"
      "<td data-sort=\"{indicator_hits}\">{indicators}</td>{extra}</tr>\n",
      fmt::arg("host", host), fmt::arg("names", HtmlEscape(names)),
      fmt::arg("build", HtmlEscape(VersionKey(h.build))),
      fmt::arg("build_text", h.build ? HtmlEscape(h.build->version) : "-"),
      fmt::arg("product",
               h.build && !h.build->product.empty() ? HtmlEscape(h.build->product) : "-"),
      fmt::arg("status_rank", StatusRank(h.build)), fmt::arg("status_class", outdated ? "bad" : ""),
      fmt::arg("source", h.build ? HtmlEscape(h.build->source) : ""),
      fmt::arg("status",
               HtmlEscape(BuildStatusName(h.build ? h.build->status : BuildStatus::kUnknown))),
      fmt::arg("reason", h.build ? HtmlEscape(h.build->reason) : ""),
      fmt::arg("mitigations", EemsMitigationsName(h.build ? h.build->eems_mitigations
                                                          : EemsMitigations::kUnknown)),
      fmt::arg("eems_rank", EemsRank(h.eems)), fmt::arg("failing_since", TimeText(h.failing_since)),
      fmt::arg("eems_class", eems_class), fmt::arg("eems_state", HtmlEscape(EemsStateName(h.eems))),
      fmt::arg("eems", HtmlEscape(EemsSummary(h))),
      fmt::arg("last_success_key", TimeText(h.last_success)),
      fmt::arg("last_success", HtmlEscape(LastSuccessText(h))),
      fmt::arg("indicator_hits", h.indicator_hits), fmt::arg("indicators", indicators),
      fmt::arg("extra", CveCells(h)));
}

// One lane of a host's timeline: one rect per non-empty bucket of the
// fleet's time span (FleetBuilder cut it into kTimelineBuckets columns), its
// count in a tooltip.
constexpr int kLabelWidth = 230, kPlotWidth = 960, kLaneHeight = 10, kHostHeight = 44;

void AppendLane(const std::vector<TimelineBucket>& lane, int y, const char* cls, const char* color,
                const char* what, std::string* out) {
  const double w = static_cast<double>(kPlotWidth) / kTimelineBuckets;
  for (const TimelineBucket& b : lane) {
    *out += fmt::format(
        "<rect class=\"{}\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\" "
        "data-count=\"{}\"><title>{} {}: {} .. {}</title></rect>\n",
        cls, kLabelWidth + b.index * w, y, std::max(w - 0.5, 1.0), kLaneHeight, color, b.count,
        b.count, what, TimeText(b.first), TimeText(b.last));
  }
}

void AppendTimeline(const std::vector<FleetHost>& fleet, std::string* out) {
  FileTime t0 = 0, t1 = 0;
  auto extend = [&](const std::vector<TimelineBucket>& lane) {
    for (const TimelineBucket& b : lane) {
      if (t0 == 0 || b.first < t0) t0 = b.first;
      t1 = std::max(t1, b.last);
    }
  };
  for (const auto& h : fleet) {
    extend(h.error_lane);
    extend(h.success_lane);
    extend(h.indicator_lane);
  }
  if (t0 == 0) {
    *out +=
        "<p class=\"muted\" id=\"timeline-empty\">No timed EEMS events or indicator hits.</p>\n";
    return;
  }
  const int height = 30 + static_cast<int>(fleet.size()) * kHostHeight;
  *out += fmt::format(
      "<svg id=\"timeline\" width=\"{}\" height=\"{}\" "
      "data-start=\"{}\" data-end=\"{}\">\n",
      kLabelWidth + kPlotWidth + 10, height, TimeText(t0), TimeText(t1));
  // Axis: five dates across the span.
  for (int i = 0; i <= 4; ++i) {
    const FileTime t = t0 + (t1 - t0) / 4 * i;
    const int x = kLabelWidth + kPlotWidth * i / 4;
    *out += fmt::format(
        "<line x1=\"{x}\" y1=\"16\" x2=\"{x}\" y2=\"{h}\" stroke=\"#ddd\"/>"
        "<text x=\"{x}\" y=\"12\" text-anchor=\"{a}\">{t}</text>\n",
        fmt::arg("x", x), fmt::arg("h", height),
        fmt::arg("a", i == 0   ? "start"
                      : i == 4 ? "end"
                               : "middle"),
        fmt::arg("t", FormatRfc3339(t, 0).substr(0, 16)));
  }
  int y = 24;
  for (const auto& h : fleet) {
    *out += fmt::format("<g class=\"host\" data-host=\"{}\">\n<text x=\"0\" y=\"{}\">{}</text>\n",
                        HtmlEscape(h.host), y + 18, HtmlEscape(h.host));
    AppendLane(h.error_lane, y + 2, "eems-error", "#c00", "EEMS errors", out);
    AppendLane(h.success_lane, y + 2 + kLaneHeight + 2, "eems-success", "#2a2", "EEMS successes",
               out);
    AppendLane(h.indicator_lane, y + 2 + 2 * (kLaneHeight + 2), "indicator", "#73c",
               "indicator hits", out);
    *out += fmt::format("<line x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#eee\"/>\n</g>\n",
                        y + kHostHeight - 4, kLabelWidth + kPlotWidth);
    y += kHostHeight;
  }
  *out += "</svg>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderFleetHtml(const std::vector<FleetHost>& fleet, const ReportInfo& info) {
  size_t failing = 0, attacked = 0, unseen = 0;
  for (const auto& h : fleet) {
    failing += h.eems == EemsState::kFailing;
    attacked += !h.indicators.empty();
    unseen += !h.in_logs;
  }
  // As the table's title: inventory-only hosts named only when there are some.
  const std::string summary = fmt::format(
      "{} Exchange host{}: {} with EEMS failing, {} with attack indicators{}. From {} input{}, {} "
      "events, {} alert{}; eventsift {}.",
      fleet.size(), fleet.size() == 1 ? "" : "s", failing, attacked,
      unseen > 0 ? fmt::format(", {} not in the scanned logs (inventory only)", unseen) : "",
      info.inputs, info.inputs == 1 ? "" : "s", info.events, info.alerts,
      info.alerts == 1 ? "" : "s", info.producer_version);
  // The title counts the servers exposed to a listed CVE, when there is a list.
  const std::string title_suffix =
      fleet.empty() || fleet.front().cves.empty()
          ? ""
          : fmt::format(": {} of {} server{} exposed to a listed CVE", CountExposed(fleet),
                        fleet.size(), fleet.size() == 1 ? "" : "s");
  std::string out = Fill(kHead, {{"version", HtmlEscape(info.producer_version)},
                                 {"summary", HtmlEscape(summary)},
                                 {"title_suffix", HtmlEscape(title_suffix)},
                                 {"extra_heads", CveHeads(fleet)}});
  for (const auto& h : fleet) AppendRow(h, &out);
  if (fleet.empty())
    out += "<tr><td colspan=\"8\" class=\"muted\">No Exchange hosts seen.</td></tr>\n";
  out += kMiddle;
  AppendTimeline(fleet, &out);
  AppendRecordIdsHtml(info.record_ids, &out);
  out += kTail;
  return out;
}

}  // namespace eventsift::report
