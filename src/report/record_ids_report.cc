#include "src/report/record_ids_report.h"

#include <algorithm>

#include <fmt/format.h>

#include "src/report/html_report.h"

namespace eventsift::report {

std::string GapRangesText(const correlate::RecordKeyStats& k, size_t max) {
  std::string out;
  const size_t from = k.recent.size() > max ? k.recent.size() - max : 0;
  if (from > 0 || k.gaps > k.recent.size()) out = "... ";
  for (size_t i = from; i < k.recent.size(); ++i) {
    const auto& g = k.recent[i];
    out += fmt::format("{}{}-{}{}", i == from ? "" : " ", g.first, g.last,
                       g.cleared ? " (log cleared)" : "");
  }
  return out;
}

namespace {

std::string RangesText(const correlate::RecordKeyStats& k) {
  std::string out = GapRangesText(k);
  return out.empty() ? "-" : out;
}

}  // namespace

std::vector<correlate::RecordKeyStats> KeysWithLoss(const correlate::RecordTracker& records) {
  std::vector<correlate::RecordKeyStats> out;
  for (const auto& k : records.keys()) {
    if (k.missing > 0 || k.repeats > 0 || k.late > 0) out.push_back(k);
  }
  return out;
}

std::string RenderRecordIdsText(const std::vector<correlate::RecordKeyStats>& keys) {
  if (keys.empty()) return "";
  size_t host_w = 4, channel_w = 7;
  for (const auto& k : keys) {
    host_w = std::max(host_w, k.host.size());
    channel_w = std::max(channel_w, k.channel.size());
  }
  std::string out = "\nRecords lost upstream (EventRecordID gaps and repeats)\n";
  out += fmt::format("{:<{}}  {:<{}}  {:>21}  {:>9}  {:>9}  {:>7}  {}\n", "HOST", host_w, "CHANNEL",
                     channel_w, "IDS", "SEEN", "MISSING", "REPEATS", "GAPS (newest)");
  for (const auto& k : keys) {
    out += fmt::format("{:<{}}  {:<{}}  {:>21}  {:>9}  {:>9}  {:>7}  {}\n", k.host, host_w,
                       k.channel, channel_w, fmt::format("{}-{}", k.lowest, k.highest), k.seen,
                       k.missing, k.repeats, RangesText(k));
  }
  return out;
}

void AppendRecordIdsHtml(const std::vector<correlate::RecordKeyStats>& keys, std::string* out) {
  if (keys.empty()) return;
  // A list, not a table: the fleet table stays the only one whose rows are
  // hosts (scripts and the sorting read its rows).
  *out +=
      "<h2>Records lost upstream</h2>\n<p class=\"legend\">EventRecordID gaps (records that "
      "never arrived) and repeats, per host and channel.</p>\n<ul id=\"record_ids\">\n";
  for (const auto& k : keys) {
    *out += fmt::format(
        "<li><b>{}</b> {}: ids {}-{}, {} seen, <b>{} missing</b>, {} repeats; gaps: {}</li>\n",
        HtmlEscape(k.host), HtmlEscape(k.channel), k.lowest, k.highest, k.seen, k.missing,
        k.repeats, HtmlEscape(RangesText(k)));
  }
  *out += "</ul>\n";
}

}  // namespace eventsift::report
