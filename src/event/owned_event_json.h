#pragma once
// The checkpoint form of an OwnedEvent (daemon state.json, correlation
// state): every field, empty and zero ones left out (the reader's defaults
// are the same values). Not the dump/alert form (event_json.h).

#include <simdjson.h>

#include "src/core/json_writer.h"
#include "src/core/status.h"
#include "src/event/owned_event.h"

namespace eventsift {

void WriteOwnedEventJson(const OwnedEvent& e, JsonWriter* w);
// Reads what WriteOwnedEventJson wrote; a field of the wrong type is
// Corruption naming the field.
Status ReadOwnedEventJson(simdjson::dom::object o, OwnedEvent* out);

}  // namespace eventsift
