// PowerShell `Get-WinEvent | ConvertTo-Json` (EventLogRecord properties).

#include "parsers/json/event_parser.h"
#include "parsers/json/property_names.h"

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

namespace {

// A property value. ConvertTo-Json writes a SecurityIdentifier as
// {"BinaryLength":12,"AccountDomainSid":null,"Value":"S-1-5-18"}: take Value.
// Any other object stays as its JSON text.
JsonError RenderPropertyValue(JsonValue& v, std::string_view* out) {
  json_type t;
  if (auto err = v.type().get(t)) return err;
  if (t != json_type::object) return RenderValue(v, out);
  JsonObject obj;
  if (auto err = v.get_object().get(obj)) return err;
  JsonValue inner;
  JsonError err = obj.find_field_unordered("Value").get(inner);
  if (err == SUCCESS) return RenderValue(inner, out);
  if (err != simdjson::NO_SUCH_FIELD) return err;
  bool ignored;
  if (auto reset_err = obj.reset().get(ignored)) return reset_err;
  if (auto raw_err = obj.raw_json().get(*out)) return raw_err;
  *out = TrimSpace(*out);
  return SUCCESS;
}

}  // namespace

// "Properties": [{"Value": ...}, ...] are the event's <Data> values, unnamed.
JsonError EventParser::PowerShellProperties(JsonValue& v) {
  return ForEachElement(v, [&](JsonValue& element) -> JsonError {
    json_type t;
    if (auto err = element.type().get(t)) return err;
    std::string_view text;  // a missing Value keeps its position with ""
    JsonError err =
        t == json_type::object
            ? ForEachField(element,
                           [&](std::string_view key, JsonValue& value) -> JsonError {
                             return key == "Value" ? RenderPropertyValue(value, &text) : SUCCESS;
                           })
            : RenderValue(element, &text);
    if (err) return err;
    event_.data.push_back(DataField{{}, text});
    return SUCCESS;
  });
}

// "UserId": a SID string, or the SecurityIdentifier object.
JsonError EventParser::PowerShellUserId(JsonValue& v) {
  return RenderPropertyValue(v, &c_.ps_user);
}

Status EventParser::FinishPowerShell() {
  shape_ = Shape::kPowerShell;
  switch (ParseEventIdText(c_.ps_id, &event_.event_id)) {
    case EventIdRead::kValid:
      break;
    case EventIdRead::kOutOfRange:
      return Status::Corruption(EventIdOutOfRangeMessage("PowerShell event: Id"));
    case EventIdRead::kAbsent:
      return Status::Corruption("PowerShell event: Id is not a number");
  }
  uint64_t n = 0;
  if (ParseUintText(c_.ps_qualifiers, &n)) {  // null when the provider has none
    event_.qualifiers = static_cast<uint16_t>(n);
    event_.has_qualifiers = true;
  }
  if (ParseUintText(c_.ps_record_id, &n)) event_.record_id = n;
  if (ParseUintText(c_.ps_pid, &n)) event_.process_id = static_cast<uint32_t>(n);
  if (ParseUintText(c_.ps_tid, &n)) event_.thread_id = static_cast<uint32_t>(n);
  event_.provider = c_.ps_provider;
  event_.provider_guid = BracedGuid(c_.ps_guid, &arena_);
  event_.channel = c_.ps_log;
  event_.computer = c_.ps_machine;
  event_.user_sid = c_.ps_user;
  if (c_.level >= 0) event_.level = static_cast<uint8_t>(c_.level);
  if (!c_.time_created.empty()) {
    if (auto t = ParseEventTime(c_.time_created)) event_.time = *t;
  }
  // PowerShell-only keys were also queued as NXLog data; drop them.
  pending_.clear();
  // Properties are values only; the template's names come from the table.
  const std::span<const std::string_view> names =
      PropertyNamesFor(event_.provider, event_.event_id, event_.version, event_.data.size());
  for (size_t i = 0; i < names.size(); ++i) {
    if (event_.data[i].name.empty()) event_.data[i].name = names[i];
  }
  return Status::OK();
}

}  // namespace eventsift::json
