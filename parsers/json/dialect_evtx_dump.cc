// evtx_dump (omerbenamram/evtx) JSON: {"Event":{"System":{...},"EventData":
// {...}}}, the XML turned into objects. An element with attributes becomes
// {"#attributes":{...},"#text":...}; with --separate-json-attributes the
// attributes move to a sibling "<Element>_attributes" instead. Both are read.

#include "parsers/json/event_parser.h"

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

constexpr std::string_view kAttributesSuffix = "_attributes";

JsonError EventParser::EvtxEvent(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    if (key == "System") return EvtxSystem(value);
    // System precedes the payload in evtx_dump output, so the handler can be
    // asked here and a "no" skips the payload entirely.
    if (key == "EventData") return WantPayload() ? EvtxEventData(value) : SUCCESS;
    if (key == "UserData") return WantPayload() ? EvtxUserData(value) : SUCCESS;
    if (key == "RenderingInfo" && WantPayload()) {
      // Forwarded events (and XML-to-JSON tools) may carry the rendered text.
      return ForEachField(value, [&](std::string_view k, JsonValue& rv) -> JsonError {
        return k == "Message" ? RenderValue(rv, &event_.message) : SUCCESS;
      });
    }
    return SUCCESS;
  });
}

JsonError EventParser::EvtxSystem(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    if (key.size() > kAttributesSuffix.size() && key.ends_with(kAttributesSuffix)) {
      return EvtxSystemAttributes(key.substr(0, key.size() - kAttributesSuffix.size()), value);
    }
    json_type t;
    if (auto err = value.type().get(t)) return err;
    if (t != json_type::object) return EvtxSystemText(key, value);
    return ForEachField(value, [&](std::string_view k, JsonValue& inner) -> JsonError {
      if (k == "#attributes") return EvtxSystemAttributes(key, inner);
      if (k == "#text") return EvtxSystemText(key, inner);
      return SUCCESS;
    });
  });
}

JsonError EventParser::EvtxSystemText(std::string_view key, JsonValue& v) {
  switch (KeyHash(key)) {
    ES_JSON_KEY("EventID") { return ReadEventId(v, &event_.event_id, &c_.evtx_event_id); }
    ES_JSON_KEY("Version") { return ReadInto(v, &event_.version); }
    ES_JSON_KEY("Level") { return ReadInto(v, &event_.level); }
    ES_JSON_KEY("Task") { return ReadInto(v, &event_.task); }
    ES_JSON_KEY("Opcode") { return ReadInto(v, &event_.opcode); }
    ES_JSON_KEY("Keywords") { return ReadInto(v, &event_.keywords); }
    ES_JSON_KEY("EventRecordID") { return ReadInto(v, &event_.record_id); }
    ES_JSON_KEY("Channel") { return RenderValue(v, &event_.channel); }
    ES_JSON_KEY("Computer") { return RenderValue(v, &event_.computer); }
    default:
      break;
  }
  return SUCCESS;
}

JsonError EventParser::EvtxSystemAttributes(std::string_view element, JsonValue& v) {
  return ForEachField(v, [&](std::string_view name, JsonValue& value) -> JsonError {
    if (element == "Provider") {
      if (name == "Name") return RenderValue(value, &event_.provider);
      if (name == "Guid") return ReadGuid(value);
      if (name == "EventSourceName" && event_.provider.empty()) {
        return RenderValue(value, &event_.provider);
      }
    } else if (element == "EventID") {
      if (name == "Qualifiers") return ReadInto(value, &event_.qualifiers, &event_.has_qualifiers);
    } else if (element == "TimeCreated") {
      if (name == "SystemTime") {
        std::string_view text;
        if (auto err = RenderValue(value, &text)) return err;
        if (auto t = ParseEventTime(text)) event_.time = *t;
      }
    } else if (element == "Execution") {
      if (name == "ProcessID") return ReadInto(value, &event_.process_id);
      if (name == "ThreadID") return ReadInto(value, &event_.thread_id);
    } else if (element == "Security") {
      if (name == "UserID") return RenderValue(value, &event_.user_sid);
    }
    return SUCCESS;
  });
}

// EventData: named <Data> become keys; unnamed ones are "Data", either one
// value or {"#text": [values]}.
JsonError EventParser::EvtxEventData(JsonValue& v) {
  json_type t;
  if (auto err = v.type().get(t)) return err;
  if (t == json_type::null) return SUCCESS;
  if (t != json_type::object) return PushData(&event_.data, {}, v);
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    if (key == "#attributes") return SUCCESS;
    if (key == "Data") return EvtxDataElement(value);
    return PushData(&event_.data, key, value);
  });
}

// "Data": a value, an array of values, or {"#attributes":{"Name":..},
// "#text": value-or-array}; array items may themselves be such objects.
JsonError EventParser::EvtxDataElement(JsonValue& v) {
  json_type t;
  if (auto err = v.type().get(t)) return err;
  if (t == json_type::array) {
    return ForEachElement(v, [&](JsonValue& element) -> JsonError {
      json_type et;
      if (auto err = element.type().get(et)) return err;
      if (et == json_type::object || et == json_type::array) return EvtxDataElement(element);
      return PushData(&event_.data, {}, element);
    });
  }
  if (t != json_type::object) return PushData(&event_.data, {}, v);
  std::string_view name, text;
  bool has_text = false;
  JsonError err = ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    if (key == "#attributes") {
      return ForEachField(value, [&](std::string_view k, JsonValue& av) -> JsonError {
        return k == "Name" ? RenderValue(av, &name) : SUCCESS;
      });
    }
    if (key == "#text") {
      json_type tt;
      if (auto e = value.type().get(tt)) return e;
      if (tt == json_type::array) return EvtxDataElement(value);  // each unnamed
      has_text = true;
      return RenderValue(value, &text);
    }
    return SUCCESS;
  });
  if (err) return err;
  if (has_text || !name.empty()) event_.data.push_back(DataField{name, text});
  return SUCCESS;
}

// UserData holds one provider-defined element whose children are the fields:
// {"LogFileCleared":{"#attributes":{...},"SubjectUserSid":"S-1-5-..",...}}.
JsonError EventParser::EvtxUserData(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    if (key == "#attributes") return SUCCESS;
    json_type t;
    if (auto err = value.type().get(t)) return err;
    if (t != json_type::object) return PushData(&event_.data, key, value);
    return ForEachField(value, [&](std::string_view k, JsonValue& fv) -> JsonError {
      if (k == "#attributes") return SUCCESS;
      return PushData(&event_.data, k, fv);
    });
  });
}

}  // namespace eventsift::json
