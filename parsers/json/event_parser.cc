#include "parsers/json/event_parser.h"

#include <fmt/format.h>

#include "parsers/json/input_buffer.h"

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

std::string_view ShapeName(Shape shape) {
  switch (shape) {
    case Shape::kUnknown:
      return "unknown";
    case Shape::kEvtxDump:
      return "evtx_dump";
    case Shape::kEcs:
      return "winlogbeat";
    case Shape::kNxlog:
      return "nxlog";
    case Shape::kPowerShell:
      return "powershell";
    case Shape::kLogAnalytics:
      return "log_analytics";
    case Shape::kOpenWec:
      return "openwec";
  }
  return "unknown";
}

EventParser::EventParser() : arena_(4096) {}

void EventParser::ResetDocumentState() {
  arena_.Reset();
  event_.Reset();
  pending_.clear();
  c_ = Candidates{};
  shape_ = Shape::kUnknown;
  error_key_ = {};
}

Status EventParser::Parse(std::string_view doc, EventHandler& handler) {
  ResetDocumentState();
  handler_ = &handler;
  payload_asked_ = false;
  want_payload_ = true;

  // Cheap checks first, for clearer messages than simdjson's on the two most
  // common kinds of bad line. Framing trimmed whitespace, so doc is not empty.
  if (doc.empty() || doc.front() != '{') {
    if (!doc.empty() && doc.front() == '[') {
      return Status::Corruption("a JSON array where an event object was expected");
    }
    return Status::Corruption("not a JSON object: an event must start with '{'");
  }
  if (doc.back() != '}') {
    return Status::Corruption(
        "JSON object is cut off or followed by other text (does not end with '}')");
  }
  simdjson::ondemand::document d;
  JsonError err = parser_.iterate(doc.data(), doc.size(), doc.size() + kPadding).get(d);
  if (handler.WantsEveryPayload()) {
    // The handler wants every payload: one pass reads the whole document,
    // as pass 2 below would, without a header pass to ask first.
    payload_asked_ = true;
    header_only_ = false;
    ES_RETURN_IF_ERROR(ParseDocument(err, d));
    return ResolveShape();
  }
  // Pass 1 reads the header keys only and skips payload values unread (no
  // unescaping): most events are wanted by no rule, so this is all they cost.
  header_only_ = true;
  ES_RETURN_IF_ERROR(ParseDocument(err, d));
  ES_RETURN_IF_ERROR(ResolveShape());
  if (shape_ != Shape::kEvtxDump) {
    // The flat shapes interleave header keys and payload, so only now is the
    // header complete. Pass 1 left data and message empty, as the contract
    // promises the handler.
    if (!WantPayload()) {
      event_.payload_declined = true;
      return Status::OK();
    }
    // Wanted: pass 2 reads the whole document from the start. rewind() also
    // resets simdjson's string buffer, so no string is unescaped twice into
    // it (the buffer is sized for one pass); pass 1's views die here.
    d.rewind();
    ResetDocumentState();
    header_only_ = false;
    ES_RETURN_IF_ERROR(ParseDocument(SUCCESS, d));
    ES_RETURN_IF_ERROR(ResolveShape());
    return Status::OK();
  }
  // evtx_dump: pass 1 was complete, System comes before the payload, and the
  // handler was asked on reaching it (EvtxEvent).
  if (!payload_asked_) {
    // No payload key at all: ask now, with nothing to hide.
    WantPayload();
  }
  if (!want_payload_) {
    event_.data.clear();
    event_.message = {};
    event_.payload_declined = true;
  }
  return Status::OK();
}

Status EventParser::ParseDocument(JsonError err, simdjson::ondemand::document& d) {
  if (err == SUCCESS) {
    JsonObject root;
    err = d.get_object().get(root);
    if (err == simdjson::INCORRECT_TYPE) {
      return Status::Corruption("not a JSON object (each event must be an object)");
    }
    if (err == SUCCESS) err = ParseRoot(root);
  }
  if (err == SUCCESS) {
    // iterate() accepts "{...} junk"; the iterator is still in bounds then.
    const char* rest = nullptr;
    if (d.current_location().get(rest) == SUCCESS) {
      return Status::Corruption("unexpected content after the JSON object");
    }
  }
  if (err != SUCCESS) {
    if (error_key_.empty()) {
      return Status::Corruption(fmt::format("malformed JSON: {}", simdjson::error_message(err)));
    }
    return Status::Corruption(
        fmt::format("malformed JSON in \"{}\": {}", error_key_, simdjson::error_message(err)));
  }
  return Status::OK();
}

JsonError EventParser::ParseRoot(JsonObject root) {
  for (auto field_result : root) {
    // The field is used where the iterator built it: copying simdjson's
    // field and value structs (as get() and a by-value argument do) stalled
    // on store forwarding for every key, a third of this loop's time.
    if (auto err = field_result.error()) return err;
    simdjson::ondemand::field& field = field_result.value_unsafe();
    std::string_view key;
    if (auto err = FieldKey(field, &key)) return err;
    error_key_ = key;
    if (auto err = RootField(key, field.value())) return err;
  }
  error_key_ = {};
  return SUCCESS;
}

JsonError EventParser::PushData(std::vector<DataField>* out, std::string_view name, JsonValue& v) {
  std::string_view text;
  if (auto err = RenderValue(v, &text)) return err;
  out->push_back(DataField{name, text});
  return SUCCESS;
}

// One root key. System keys of the flat shapes (NXLog, PowerShell) are read
// here; nested shapes hand their subtree to their dialect. PowerShell-only
// keys are also kept as NXLog data, since the shape is not known yet and
// names like ProcessId are real EventData fields in Sysmon events.
JsonError EventParser::RootField(std::string_view key, JsonValue& v) {
  switch (KeyHash(key)) {
    // Nested shapes.
    ES_JSON_KEY("Event") {
      json_type t;
      if (auto err = v.type().get(t)) return err;
      if (t != json_type::object) break;
      c_.has_evtx_event = true;
      return EvtxEvent(v);
    }
    ES_JSON_KEY("winlog") {
      json_type t;
      if (auto err = v.type().get(t)) return err;
      if (t != json_type::object) break;
      c_.has_winlog = true;
      return EcsWinlog(v);
    }
    ES_JSON_KEY("event") { return EcsObject(key, v); }
    ES_JSON_KEY("log") { return EcsObject(key, v); }
    ES_JSON_KEY("host") { return EcsObject(key, v); }  // a string here is Logstash's collector
    ES_JSON_KEY("message") { return header_only_ ? SUCCESS : RenderValue(v, &c_.ecs_message); }
    ES_JSON_KEY("@timestamp") { return RenderValue(v, &c_.at_timestamp); }

    // Azure Log Analytics; all but TimeGenerated and EventLevel are also kept
    // as NXLog data until the shape is known.
    ES_JSON_KEY("TimeGenerated") {
      c_.has_time_generated = true;
      return RenderValue(v, &c_.la_time);
    }
    ES_JSON_KEY("EventLevel") { return ReadInto(v, &c_.event_level); }
    ES_JSON_KEY("Computer") { return QueueData(key, v, &c_.la_computer); }
    ES_JSON_KEY("EventSourceName") { return QueueData(key, v, &c_.la_provider); }
    ES_JSON_KEY("Provider") { return QueueData(key, v, &c_.la_provider); }
    ES_JSON_KEY("EventData") {
      if (header_only_) return SUCCESS;
      json_type t;
      if (auto err = v.type().get(t)) return err;
      // An object is OpenWEC's; Log Analytics stores XML in a string.
      if (t == json_type::object) return OpenWecEventData(v);
      return QueueData(key, v, &c_.la_event_data);
    }

    // OpenWEC's Json format: the XML's System element as an object.
    ES_JSON_KEY("System") {
      json_type t;
      if (auto err = v.type().get(t)) return err;
      if (t != json_type::object) break;
      c_.has_openwec_system = true;
      return OpenWecSystem(v);
    }
    ES_JSON_KEY("UserData") { return header_only_ ? SUCCESS : QueueData(key, v, &c_.ow_user_data); }
    ES_JSON_KEY("RenderingInfo") {
      if (header_only_) return SUCCESS;
      json_type t;
      if (auto err = v.type().get(t)) return err;
      if (t != json_type::object) break;
      return ForEachField(v, [&](std::string_view k, JsonValue& rv) -> JsonError {
        return k == "Message" ? RenderValue(rv, &event_.message) : SUCCESS;
      });
    }
    // Collector metadata (OpenWEC's Json and Nxlog formats): not event data.
    ES_JSON_KEY("OpenWEC") {
      json_type t;
      if (auto err = v.type().get(t)) return err;
      if (t != json_type::object) break;
      return OpenWecMetadata(v);
    }
    ES_JSON_KEY("DebugData") return SUCCESS;
    ES_JSON_KEY("ProcessingErrorData") return SUCCESS;
    ES_JSON_KEY("BinaryEventData") return SUCCESS;

    // NXLog (and the OTRF/Logstash variant); several are shared with PowerShell.
    ES_JSON_KEY("EventID") {
      c_.has_event_id = true;
      return ReadEventId(v, &event_.event_id, &c_.nxlog_event_id);
    }
    ES_JSON_KEY("SourceName") { return RenderValue(v, &event_.provider); }
    ES_JSON_KEY("ProviderGuid") { return ReadGuid(v); }
    ES_JSON_KEY("Hostname") { return RenderValue(v, &event_.computer); }
    ES_JSON_KEY("Channel") { return RenderValue(v, &event_.channel); }
    ES_JSON_KEY("Message") { return header_only_ ? SUCCESS : RenderValue(v, &event_.message); }
    ES_JSON_KEY("RecordNumber") { return ReadInto(v, &event_.record_id); }
    ES_JSON_KEY("ExecutionProcessID") { return ReadInto(v, &event_.process_id); }
    ES_JSON_KEY("ExecutionThreadID") { return ReadInto(v, &event_.thread_id); }
    ES_JSON_KEY("ThreadID") { return ReadInto(v, &event_.thread_id); }
    ES_JSON_KEY("Keywords") { return ReadInto(v, &event_.keywords); }
    // NXLog's Task is a number; its display name is in Category.
    ES_JSON_KEY("Task") { return ReadInto(v, &event_.task); }
    ES_JSON_KEY("TaskValue") { return ReadInto(v, &event_.task); }
    ES_JSON_KEY("Opcode") {
      // A number in PowerShell; a display name ("Info") in NXLog, whose number
      // is OpcodeValue.
      return c_.opcode_value_seen ? SUCCESS : ReadInto(v, &event_.opcode);
    }
    ES_JSON_KEY("OpcodeValue") { return ReadInto(v, &event_.opcode, &c_.opcode_value_seen); }
    ES_JSON_KEY("UserID") { return RenderValue(v, &event_.user_sid); }
    ES_JSON_KEY("Version") { return ReadInto(v, &event_.version); }
    ES_JSON_KEY("Level") { return ReadInto(v, &c_.level); }
    ES_JSON_KEY("SeverityValue") { return ReadInto(v, &c_.severity_value); }
    ES_JSON_KEY("Severity") { return RenderValue(v, &c_.severity); }
    ES_JSON_KEY("EventType") { return RenderValue(v, &c_.event_type); }
    ES_JSON_KEY("EventTime") { return RenderValue(v, &c_.event_time); }
    ES_JSON_KEY("EventReceivedTime") { return RenderValue(v, &c_.event_received_time); }
    ES_JSON_KEY("TimeCreated") { return RenderValue(v, &c_.time_created); }
    ES_JSON_KEY("Data") { return header_only_ ? SUCCESS : NxlogUnnamedData(v); }
    // Collector metadata and display names: not event data.
    ES_JSON_KEY("SourceModuleName") return SUCCESS;
    ES_JSON_KEY("SourceModuleType") return SUCCESS;
    ES_JSON_KEY("@version") return SUCCESS;
    ES_JSON_KEY("tags") return SUCCESS;
    ES_JSON_KEY("port") return SUCCESS;
    ES_JSON_KEY("Category") return SUCCESS;
    ES_JSON_KEY("AccountName") return SUCCESS;
    ES_JSON_KEY("AccountType") return SUCCESS;
    ES_JSON_KEY("Domain") return SUCCESS;
    ES_JSON_KEY("ActivityID") return SUCCESS;
    ES_JSON_KEY("RelatedActivityID") return SUCCESS;
    ES_JSON_KEY("ERROR_EVT_UNRESOLVED") return SUCCESS;
    ES_JSON_KEY("LevelDisplayName") return SUCCESS;
    ES_JSON_KEY("OpcodeDisplayName") return SUCCESS;
    ES_JSON_KEY("TaskDisplayName") return SUCCESS;
    ES_JSON_KEY("KeywordsDisplayNames") return SUCCESS;
    ES_JSON_KEY("ContainerLog") return SUCCESS;
    ES_JSON_KEY("MatchedQueryIds") return SUCCESS;
    ES_JSON_KEY("Bookmark") return SUCCESS;
    ES_JSON_KEY("ActivityId") return SUCCESS;
    ES_JSON_KEY("RelatedActivityId") return SUCCESS;

    // PowerShell Get-WinEvent | ConvertTo-Json.
    ES_JSON_KEY("Properties") { return header_only_ ? SUCCESS : PowerShellProperties(v); }
    ES_JSON_KEY("UserId") { return PowerShellUserId(v); }
    ES_JSON_KEY("Id") { return QueueData(key, v, &c_.ps_id); }
    ES_JSON_KEY("Qualifiers") { return QueueData(key, v, &c_.ps_qualifiers); }
    ES_JSON_KEY("RecordId") { return QueueData(key, v, &c_.ps_record_id); }
    ES_JSON_KEY("ProcessId") { return QueueData(key, v, &c_.ps_pid); }
    ES_JSON_KEY("ThreadId") { return QueueData(key, v, &c_.ps_tid); }
    ES_JSON_KEY("ProviderName") { return QueueData(key, v, &c_.ps_provider); }
    ES_JSON_KEY("ProviderId") { return QueueData(key, v, &c_.ps_guid); }
    ES_JSON_KEY("LogName") { return QueueData(key, v, &c_.ps_log); }
    ES_JSON_KEY("MachineName") { return QueueData(key, v, &c_.ps_machine); }
    default:
      break;
  }
  // Not a system key: NXLog named data (dropped for the other shapes),
  // left unread in the header pass.
  return header_only_ ? SUCCESS : PushData(&pending_, key, v);
}

JsonError EventParser::QueueData(std::string_view key, JsonValue& v, std::string_view* text) {
  if (header_only_) return RenderValue(v, text);
  if (auto err = PushData(&pending_, key, v)) return err;
  *text = pending_.back().value;
  return SUCCESS;
}

JsonError EventParser::ReadGuid(JsonValue& v) {
  std::string_view guid;
  if (auto err = RenderValue(v, &guid)) return err;
  event_.provider_guid = BracedGuid(guid, &arena_);
  return SUCCESS;
}

bool EventParser::WantPayload() {
  if (!payload_asked_) {
    payload_asked_ = true;
    want_payload_ = handler_->WantPayload(event_);
  }
  return want_payload_;
}

Status EventParser::RootEventIdStatus() const {
  if (c_.nxlog_event_id == EventIdRead::kOutOfRange) {
    return Status::Corruption(EventIdOutOfRangeMessage("EventID"));
  }
  if (c_.nxlog_event_id != EventIdRead::kValid) {
    return Status::Corruption("EventID is not a number");
  }
  return Status::OK();
}

Status EventParser::ResolveShape() {
  if (c_.has_evtx_event) {
    shape_ = Shape::kEvtxDump;
    if (c_.evtx_event_id == EventIdRead::kOutOfRange) {
      return Status::Corruption(EventIdOutOfRangeMessage("Event.System.EventID"));
    }
    if (c_.evtx_event_id != EventIdRead::kValid) {
      return Status::Corruption("evtx_dump event without Event.System.EventID");
    }
  } else if (c_.has_openwec_system) {
    ES_RETURN_IF_ERROR(FinishOpenWec());
  } else if (c_.has_winlog) {
    ES_RETURN_IF_ERROR(FinishEcs());
  } else if (c_.has_event_id && c_.has_time_generated) {
    ES_RETURN_IF_ERROR(FinishLogAnalytics());
  } else if (c_.has_event_id) {
    ES_RETURN_IF_ERROR(RootEventIdStatus());
    FinishNxlog();
  } else if (!c_.ps_id.empty()) {
    ES_RETURN_IF_ERROR(FinishPowerShell());
  } else {
    return Status::Corruption("unknown event shape: no EventID/Id/winlog/Event key");
  }
  return Status::OK();
}

}  // namespace eventsift::json
