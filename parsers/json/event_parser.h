#pragma once
// EventParser: one JSON document -> one Event, whichever export shape it has.
//
// Passes over the root object with simdjson On-Demand: every key is
// dispatched by name, and keys that mean different things in different shapes
// are held as candidates until the shape is known at the end of the object
// (detection order: evtx_dump "Event", OpenWEC "System", Winlogbeat "winlog", Log Analytics
// "TimeGenerated" with "EventID", NXLog "EventID", PowerShell "Id"). docs/json-exports.md has the
// field mapping per shape. The first pass reads header keys only; a second, full pass runs only for
// flat-shape events the handler wants the payload of (see Parse).
//
// Lifetime: the Event and every view in it borrow from the document's bytes,
// the simdjson parser's string buffer and our Arena. All stay valid until the
// next Parse() call.

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/json/json_value.h"
#include "src/core/arena.h"
#include "src/core/status.h"
#include "src/decoder/event_handler.h"
#include "src/event/event.h"

namespace eventsift::json {

enum class Shape : uint8_t {
  kUnknown,
  kEvtxDump,
  kEcs,
  kNxlog,
  kPowerShell,
  kLogAnalytics,
  kOpenWec
};
std::string_view ShapeName(Shape shape);

class EventParser {
 public:
  EventParser();
  EventParser(const EventParser&) = delete;  // the Event borrows our buffers
  EventParser& operator=(const EventParser&) = delete;

  // Parses `doc`, which must have kPadding readable bytes after it. On OK,
  // event() holds the event (all but `where`). WantPayload is asked once, as
  // soon as the System fields are known (evtx_dump) or at the end of a first
  // pass that reads only the header keys (flat shapes); when it says no,
  // data and message are left empty and payload values were never read, so
  // a malformed payload value can go unnoticed. When it says yes, the flat
  // shapes are read again in full. An error Status says what was wrong but
  // not where; the caller adds file:line.
  Status Parse(std::string_view doc, EventHandler& handler);

  Event& event() { return event_; }
  Shape shape() const { return shape_; }

 private:
  // Values whose meaning depends on the shape, or which need more than one
  // key to resolve (NXLog time and level). Views live as long as the document.
  struct Candidates {
    bool has_event_id = false;  // NXLog "EventID" seen
    bool has_winlog = false;
    bool has_evtx_event = false;
    EventIdRead nxlog_event_id = EventIdRead::kAbsent;  // root "EventID" (NXLog, Log Analytics)
    EventIdRead evtx_event_id = EventIdRead::kAbsent;   // Event.System.EventID
    // NXLog / PowerShell shared
    int64_t level = -1;           // "Level" (a number, or a number in a string)
    int64_t severity_value = -1;  // NXLog SeverityValue
    std::string_view severity, event_type;
    std::string_view time_created, event_time, event_received_time, at_timestamp;
    bool opcode_value_seen = false;
    // PowerShell only, as text (numbers are parsed once the shape is known)
    std::string_view ps_id, ps_qualifiers, ps_record_id, ps_pid, ps_tid;
    std::string_view ps_provider, ps_guid, ps_log, ps_machine, ps_user;
    // Winlogbeat / ECS
    uint32_t ecs_code = 0;
    EventIdRead ecs_code_read = EventIdRead::kAbsent;  // event.code
    EventIdRead winlog_event_id = EventIdRead::kAbsent;
    std::string_view ecs_provider, ecs_host, ecs_message, ecs_log_level, winlog_time;
    // Azure Log Analytics (SecurityEvent / WindowsEvent)
    bool has_time_generated = false;
    int64_t event_level = -1;  // WindowsEvent "EventLevel"
    std::string_view la_time, la_computer, la_provider, la_event_data;
    // OpenWEC ("System" object at the root)
    bool has_openwec_system = false;
    EventIdRead ow_event_id = EventIdRead::kAbsent;  // System.EventID
    std::string_view ow_event_source_name, ow_time_received, ow_user_data;
  };

  void ResetDocumentState();
  // Reads the root object (the result of iterate() is `err`) in the current
  // pass, turning simdjson errors into a Status.
  Status ParseDocument(JsonError err, simdjson::ondemand::document& d);
  JsonError ParseRoot(JsonObject root);
  JsonError RootField(std::string_view key, JsonValue& v);
  // Picks the shape from what the pass saw and completes the header.
  Status ResolveShape();
  // Whether the root "EventID" (NXLog, Log Analytics) held a 16-bit id.
  Status RootEventIdStatus() const;
  // Asks the handler once; false means drop data and message.
  bool WantPayload();

  // dialect_nxlog.cc
  JsonError NxlogUnnamedData(JsonValue& v);
  void FinishNxlog();
  // dialect_powershell.cc
  JsonError PowerShellProperties(JsonValue& v);
  JsonError PowerShellUserId(JsonValue& v);
  Status FinishPowerShell();
  // dialect_ecs.cc
  JsonError EcsWinlog(JsonValue& v);
  JsonError EcsObject(std::string_view key, JsonValue& v);
  JsonError EcsData(JsonValue& v);
  Status FinishEcs();
  // dialect_log_analytics.cc
  Status FinishLogAnalytics();
  // Reads the EventData column's JSON object string into event_.data.
  Status ParseJsonEventData(std::string_view text);
  // dialect_openwec.cc
  JsonError OpenWecSystem(JsonValue& v);
  JsonError OpenWecEventData(JsonValue& v);
  JsonError OpenWecMetadata(JsonValue& v);
  Status FinishOpenWec();
  // dialect_evtx_dump.cc
  JsonError EvtxEvent(JsonValue& v);
  JsonError EvtxSystem(JsonValue& v);
  JsonError EvtxSystemText(std::string_view element, JsonValue& v);
  JsonError EvtxSystemAttributes(std::string_view element, JsonValue& v);
  JsonError EvtxEventData(JsonValue& v);
  JsonError EvtxDataElement(JsonValue& v);
  JsonError EvtxUserData(JsonValue& v);

  // Queues a root key as NXLog data and keeps its text as a PowerShell
  // candidate in *text.
  JsonError QueueData(std::string_view key, JsonValue& v, std::string_view* text);
  // Sets event_.provider_guid, braced.
  JsonError ReadGuid(JsonValue& v);
  // Appends a data field whose value is `v` rendered (see RenderValue).
  JsonError PushData(std::vector<DataField>* out, std::string_view name, JsonValue& v);

  simdjson::ondemand::parser parser_;
  // Log Analytics' EventData JSON string, parsed apart from the document
  // (with its padding); data views borrow from both until the next Parse().
  simdjson::ondemand::parser inner_parser_;
  std::string inner_doc_;
  Arena arena_;  // braced GUIDs; reset per document
  Event event_;
  // NXLog named data: root keys that are not system keys, in document order.
  // Swapped into event_.data when the shape turns out to be NXLog.
  std::vector<DataField> pending_;
  Candidates c_;
  Shape shape_ = Shape::kUnknown;
  EventHandler* handler_ = nullptr;  // set for the duration of Parse()
  // Pass 1 of a flat-shape document: header keys only, payload values
  // skipped unread (see Parse).
  bool header_only_ = false;
  bool payload_asked_ = false;
  bool want_payload_ = true;
  std::string_view error_key_;  // root key being read when an error hit
};

}  // namespace eventsift::json
