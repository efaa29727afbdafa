#pragma once
// The <EventData> (or <UserData>) element of an event, given as XML text:
// Azure Log Analytics' SecurityEvent table stores a Windows event's payload
// that way, in one JSON string. Only the shapes Windows writes are read:
//   <EventData ...><Data Name="n">v</Data><Data>v</Data><Data Name="e"/>...
//   <UserData><Child ...><n>v</n>...</Child></UserData>
// Names and values are views into `xml`, or into `arena` when a value holds
// entity references (&lt; &amp; &#x41; ...) that had to be decoded.

#include <string_view>
#include <vector>

#include "src/core/arena.h"
#include "src/core/status.h"
#include "src/event/event.h"

namespace eventsift::json {

// Appends the fields to *out in document order. Errors name the byte offset
// inside `xml` of what was wrong; fields read before it are kept.
Status ParseEventDataXml(std::string_view xml, Arena* arena, std::vector<DataField>* out);

}  // namespace eventsift::json
