#pragma once
// `scan --report FILE.html`: the fleet as one self-contained HTML page
// (docs/report.md). Inline CSS and JS only, and a Content-Security-Policy
// that forbids every fetch, so the file opens offline and leaks nothing.
// Every event-derived string is HTML-escaped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/correlate/record_tracker.h"
#include "src/report/fleet.h"

namespace eventsift::report {

struct ReportInfo {
  std::string producer_version;  // eventsift version
  uint64_t inputs = 0, events = 0, alerts = 0;
  // Host/channels with EventRecordID gaps or repeats (record_ids_report.h).
  std::vector<correlate::RecordKeyStats> record_ids;
};

std::string RenderFleetHtml(const std::vector<FleetHost>& fleet, const ReportInfo& info);

// & < > " ' as entities, anything else unchanged: safe in text and in quoted
// attribute values. (Decoders hand us UTF-8; a stray invalid byte shows as
// U+FFFD in the browser and cannot end an element or attribute.)
std::string HtmlEscape(std::string_view s);

}  // namespace eventsift::report
