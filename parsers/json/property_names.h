#pragma once
// Names for the unnamed EventData of PowerShell's `Get-WinEvent |
// ConvertTo-Json` (its `Properties` keep values in template order, not
// names), from data/event-fields.tsv: the names real EVTX templates carry
// per provider, event id, version and number of values
// (tools/make_event_fields.py). The table is compiled in, so a PowerShell
// export's Sysmon 1 has `CommandLine` as its EVTX twin does, and a Sigma
// rule on named fields matches both.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace eventsift::json {

// The names of an event's `count` values, or none when the table has no
// entry for this provider, event id, version and count. Thread-safe; the
// views live as long as the program.
std::span<const std::string_view> PropertyNamesFor(std::string_view provider, uint16_t event_id,
                                                   uint8_t version, size_t count);

}  // namespace eventsift::json
