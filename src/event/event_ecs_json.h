#pragma once
// The events sink's wire form of one Event: ECS / Winlogbeat field names, so
// a SIEM pipeline built for Winlogbeat takes it unchanged.
// schemas/event.schema.json and docs/events-sink.md describe every field.
//
//   {"@timestamp":"2021-11-19T16:52:33.833Z","message":"...",
//    "event":{"kind":"event","code":"4624","provider":"Microsoft-Windows-...",
//             "outcome":"success"},
//    "log":{"level":"information"},"host":{"name":"dc01.contoso.local"},
//    "winlog":{"channel":"Security","computer_name":"DC01.contoso.local",
//              "record_id":1087729,"event_id":"4624","provider_name":"...",
//              "provider_guid":"{...}","version":2,"process":{"pid":4,
//              "thread":{"id":8}},"user":{"identifier":"S-1-5-18"},
//              "event_data":{"TargetUserName":"alice",...}},
//    "eventsift":{"schema":"eventsift.event/v1","level":0,"task":12544,
//                 "opcode":0,"keywords":"0x8020000000000000",
//                 "source":{"file":"...","offset":4608}}}
//
// event_data values are strings; unnamed values are param1, param2, ...;
// a repeated name gets "_2", "_3" (as the alert samples' data).

#include <string>
#include <string_view>

#include "src/event/event.h"

namespace eventsift {

inline constexpr char kEventSchemaVersion[] = "eventsift.event/v1";

// Appends the event's JSON object (no newline) to `out`.
void AppendEventEcsJson(const Event& e, std::string* out);
// The same written from the start of `scratch`, a buffer reused from event
// to event and never trimmed (JsonCursor::Scratch: no zero-filling of its
// padding per field); returns the JSON, valid until the next use.
std::string_view RenderEventEcsJson(const Event& e, std::string* scratch);

// The Kafka key and `host.name`: the computer name in lower case (Winlogbeat
// lower-cases host.name), so one host's events share a partition.
std::string EventHostKey(std::string_view computer);
// The same into `out`, reusing its buffer (per event on the sink's path).
void AssignEventHostKey(std::string_view computer, std::string* out);

}  // namespace eventsift
