// Azure Log Analytics / Microsoft Sentinel table exports, one row per line:
// `SecurityEvent` (the legacy agent: EventSourceName, Level as text, the
// payload as an <EventData> XML string, or flattened into columns) and
// `WindowsEvent` (the Azure Monitor Agent: Provider, EventLevel, the payload
// as a JSON object string). Both carry TimeGenerated and Computer.

#include <array>
#include <string_view>

#include <fmt/format.h>

#include "parsers/json/event_data_xml.h"
#include "parsers/json/event_parser.h"
#include "parsers/json/input_buffer.h"

namespace eventsift::json {

using simdjson::SUCCESS;

namespace {

// Columns Log Analytics adds or derives (workspace, agent, display text,
// "DOMAIN\user" joins): not the event's own data when SecurityEvent has
// flattened the payload into columns.
bool IsTableColumn(std::string_view key) {
  static constexpr std::array<std::string_view, 20> kColumns = {
      "TenantId",       "SourceSystem",
      "Computer",       "EventSourceName",
      "Provider",       "EventData",
      "Activity",       "SourceComputerId",
      "EventOriginId",  "MG",
      "TimeCollected",  "ManagementGroupName",
      "Type",           "_ResourceId",
      "EventLevelName", "Account",
      "Process",        "SubjectAccount",
      "TargetAccount",  "_ItemId"};
  for (std::string_view c : kColumns) {
    if (key == c) return true;
  }
  return false;
}

}  // namespace

Status EventParser::ParseJsonEventData(std::string_view text) {
  inner_doc_.assign(text);
  inner_doc_.append(kPadding, ' ');
  simdjson::ondemand::document d;
  JsonError err = inner_parser_.iterate(inner_doc_.data(), text.size(), inner_doc_.size()).get(d);
  JsonObject obj;
  if (err == SUCCESS) err = d.get_object().get(obj);
  if (err == SUCCESS) {
    for (auto field_result : obj) {
      simdjson::ondemand::field field;
      if ((err = std::move(field_result).get(field))) break;
      std::string_view key;
      if ((err = FieldKey(field, &key))) break;
      if ((err = PushData(&event_.data, key, field.value()))) break;
    }
  }
  if (err == SUCCESS) {
    const char* rest = nullptr;
    if (d.current_location().get(rest) == SUCCESS) {
      return Status::Corruption("EventData JSON string: unexpected content after the object");
    }
    return Status::OK();
  }
  return Status::Corruption(fmt::format("EventData JSON string: {}", simdjson::error_message(err)));
}

Status EventParser::FinishLogAnalytics() {
  shape_ = Shape::kLogAnalytics;
  ES_RETURN_IF_ERROR(RootEventIdStatus());
  event_.provider = c_.la_provider;
  event_.computer = c_.la_computer;
  if (c_.event_level >= 0) {
    event_.level = static_cast<uint8_t>(c_.event_level);  // WindowsEvent
  } else if (c_.level >= 0) {
    event_.level = static_cast<uint8_t>(c_.level);  // SecurityEvent, as text
  }
  if (auto t = ParseEventTime(c_.la_time)) event_.time = *t;
  event_.data.clear();
  if (header_only_) {
    pending_.clear();
    return Status::OK();
  }
  std::string_view payload = TrimSpace(c_.la_event_data);
  if (payload.empty()) {
    // No EventData column: SecurityEvent flattened the payload into columns.
    for (const DataField& f : pending_) {
      if (!IsTableColumn(f.name)) event_.data.push_back(f);
    }
  } else if (payload.front() == '<') {
    ES_RETURN_IF_ERROR(ParseEventDataXml(payload, &arena_, &event_.data));
  } else if (payload.front() == '{') {
    ES_RETURN_IF_ERROR(ParseJsonEventData(payload));
  } else {
    return Status::Corruption("EventData is neither an XML element nor a JSON object");
  }
  pending_.clear();
  return Status::OK();
}

}  // namespace eventsift::json
