#pragma once
// A whole Windows event in its XML form (<Event xmlns=...><System>...
// </System><EventData>...</EventData></Event>, as Event Viewer, WEF and
// NXLog's $raw_event show it) rewritten as the JSON OpenWEC's Json format
// uses for the same XML (docs/json-exports.md), so the JSON decoder reads
// it with one set of field rules. Used for lines that carry event XML
// (syslog messages, TCP lines).

#include <string>
#include <string_view>

#include "src/core/status.h"

namespace eventsift::json {

// True when `text` starts (after whitespace, a UTF-8 BOM, an <?xml ...?>
// declaration or comments) with an <Event> element.
bool LooksLikeEventXml(std::string_view text);

// Writes the JSON object for the event in `xml` to *json (replaced). Errors
// name the byte offset in `xml`. Bounded: one pass, output linear in input.
Status EventXmlToJson(std::string_view xml, std::string* json);

}  // namespace eventsift::json
