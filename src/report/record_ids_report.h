#pragma once
// The EventRecordID account of a scan (correlate::RecordTracker) in the
// fleet views: a text table after `scan --format table`'s fleet, and a
// section of the HTML report. Only host/channels with a gap or a repeat.

#include <string>
#include <vector>

#include "src/correlate/record_tracker.h"

namespace eventsift::report {

// The keys worth showing (a gap, a repeat or a late id), in first-seen order.
std::vector<correlate::RecordKeyStats> KeysWithLoss(const correlate::RecordTracker& records);

// The newest `max` gap ranges of a key ("301-310 700-700 (log cleared)"),
// "... " first when older ones are left out; "" when it has none.
std::string GapRangesText(const correlate::RecordKeyStats& key, size_t max = 6);

// "Records lost upstream" as a text table; "" when `keys` is empty.
std::string RenderRecordIdsText(const std::vector<correlate::RecordKeyStats>& keys);
// The same as an HTML section (escaped), appended to `out`; nothing when empty.
void AppendRecordIdsHtml(const std::vector<correlate::RecordKeyStats>& keys, std::string* out);

}  // namespace eventsift::report
