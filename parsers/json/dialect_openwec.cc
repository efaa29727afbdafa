// OpenWEC (the Windows Event Forwarding collector for Linux) "Json" output
// format, as its doc/formats.md defines it: the event XML turned into
//   {"System":{"Provider":{"Name","Guid","EventSourceName"},"EventID":n,
//    "EventIDQualifiers":n,"Version","Level","Task","Opcode":n,
//    "Keywords":"0x..","TimeCreated":"..","EventRecordID":n,
//    "Execution":{"ProcessID","ThreadID",..},"Channel","Computer","UserID"},
//   "EventData":{"<name>":value,..,"Data":[unnamed..],"Binary":[..]},
//   "UserData":"<xml>","RenderingInfo":{"Message",..},
//   "OpenWEC":{"IpAddress","TimeReceived","Principal","Node","Subscription"}}
// Unlike evtx_dump's JSON there are no "#attributes": values are plain. The
// collector's own metadata (OpenWEC) is not event data and is dropped, but
// TimeReceived stands in for a missing TimeCreated. OpenWEC's "Nxlog" format
// is the NXLog shape (dialect_nxlog.cc) plus the same OpenWEC key.

#include <optional>

#include <fmt/format.h>

#include "parsers/json/event_data_xml.h"
#include "parsers/json/event_parser.h"

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

JsonError EventParser::OpenWecSystem(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    switch (KeyHash(key)) {
      ES_JSON_KEY("Provider") {
        return ForEachField(value, [&](std::string_view k, JsonValue& pv) -> JsonError {
          if (k == "Name") return RenderValue(pv, &event_.provider);
          if (k == "Guid") return ReadGuid(pv);
          if (k == "EventSourceName") return RenderValue(pv, &c_.ow_event_source_name);
          return SUCCESS;
        });
      }
      ES_JSON_KEY("EventID") { return ReadEventId(value, &event_.event_id, &c_.ow_event_id); }
      ES_JSON_KEY("EventIDQualifiers") {
        return ReadInto(value, &event_.qualifiers, &event_.has_qualifiers);
      }
      ES_JSON_KEY("Version") { return ReadInto(value, &event_.version); }
      ES_JSON_KEY("Level") { return ReadInto(value, &event_.level); }
      ES_JSON_KEY("Task") { return ReadInto(value, &event_.task); }
      ES_JSON_KEY("Opcode") { return ReadInto(value, &event_.opcode); }
      ES_JSON_KEY("Keywords") { return ReadInto(value, &event_.keywords); }
      ES_JSON_KEY("TimeCreated") { return RenderValue(value, &c_.time_created); }
      ES_JSON_KEY("EventRecordID") { return ReadInto(value, &event_.record_id); }
      ES_JSON_KEY("Execution") {
        return ForEachField(value, [&](std::string_view k, JsonValue& ev) -> JsonError {
          if (k == "ProcessID") return ReadInto(ev, &event_.process_id);
          if (k == "ThreadID") return ReadInto(ev, &event_.thread_id);
          return SUCCESS;
        });
      }
      ES_JSON_KEY("Channel") { return RenderValue(value, &event_.channel); }
      ES_JSON_KEY("Computer") { return RenderValue(value, &event_.computer); }
      ES_JSON_KEY("UserID") { return RenderValue(value, &event_.user_sid); }
      default:
        break;
    }
    return SUCCESS;
  });
}

// Named values are keys; unnamed <Data> are "Data": [..] (a lone value is
// accepted too). "Binary" holds hex dumps, not fields.
JsonError EventParser::OpenWecEventData(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    if (key == "Binary") return SUCCESS;
    if (key != "Data") return PushData(&event_.data, key, value);
    json_type t;
    if (auto err = value.type().get(t)) return err;
    if (t != json_type::array) return PushData(&event_.data, {}, value);
    return ForEachElement(value,
                          [&](JsonValue& element) { return PushData(&event_.data, {}, element); });
  });
}

JsonError EventParser::OpenWecMetadata(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    return key == "TimeReceived" ? RenderValue(value, &c_.ow_time_received) : SUCCESS;
  });
}

Status EventParser::FinishOpenWec() {
  shape_ = Shape::kOpenWec;
  if (c_.ow_event_id == EventIdRead::kOutOfRange) {
    return Status::Corruption(EventIdOutOfRangeMessage("System.EventID"));
  }
  if (c_.ow_event_id != EventIdRead::kValid) {
    return Status::Corruption("OpenWEC event without a numeric System.EventID");
  }
  if (event_.provider.empty()) event_.provider = c_.ow_event_source_name;
  std::optional<FileTime> t;
  if (!c_.time_created.empty()) t = ParseEventTime(c_.time_created);
  if (!t && !c_.ow_time_received.empty()) t = ParseEventTime(c_.ow_time_received);
  if (t) event_.time = *t;
  // Only pass 2 reads the payload: UserData is the element's XML as a string.
  if (!header_only_ && !c_.ow_user_data.empty()) {
    Status s = ParseEventDataXml(c_.ow_user_data, &arena_, &event_.data);
    if (!s.ok()) return Status::Corruption(fmt::format("UserData: {}", s.message()));
  }
  return Status::OK();
}

}  // namespace eventsift::json
