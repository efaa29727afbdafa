#pragma once
// The JSON form of one Event: `eventsift dump --format jsonl` prints it per
// record, and alert samples embed it. docs/dump-format.md documents it.
//
//   {"record_id":1,"time":"2021-11-19T16:52:33.8337335Z","provider":"...",
//    "provider_guid":"{...}","event_id":1,"qualifiers":16384,"version":0,
//    "level":4,"task":0,"opcode":0,"keywords":"0x80000000000000",
//    "channel":"...","computer":"...","user_sid":"S-1-5-18",
//    "process_id":4,"thread_id":8,"data":{"Name":"value",...},
//    "message":"...","source":{"file":"...","offset":4608,"chunk":0}}
//
// `data` keeps document order. Unnamed <Data> values get the keys param1,
// param2, ... (1-based, their position among all values, as Winlogbeat names
// them); a repeated name gets "_2", "_3", ... appended so no value is lost.
// Empty optional fields (provider_guid, user_sid, message, qualifiers) are
// omitted.

#include <string>

#include "src/core/json_writer.h"
#include "src/event/event.h"

namespace eventsift {

struct EventJsonOptions {
  bool include_source = true;  // the "source" object (file, offset/line, chunk)
};

void WriteEventJson(const Event& e, JsonWriter* w, const EventJsonOptions& opts = {});
// Appends one JSON object (no newline).
void AppendEventJson(const Event& e, std::string* out, const EventJsonOptions& opts = {});

// The key `data` uses for field i of e (see above); `scratch` may be used.
std::string_view DataKey(const Event& e, size_t i, std::string* scratch);

}  // namespace eventsift
