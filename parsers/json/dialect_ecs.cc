// Winlogbeat / Elastic Agent (ECS): the Windows fields live under "winlog",
// with ECS duplicates at the root (event.code, event.provider, log.level,
// host.name, message, @timestamp).

#include <fmt/format.h>

#include "parsers/json/event_parser.h"

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

namespace {

// True when data[first..] are exactly param<base>, param<base+1>, ... with
// base 0 or 1: Winlogbeat's names for unnamed <Data>, which the EVTX decoder
// leaves unnamed, so both sources look alike downstream.
bool IsParamSequence(const std::vector<DataField>& data, size_t first) {
  if (first >= data.size()) return false;
  uint64_t base = 0;
  for (size_t i = first; i < data.size(); ++i) {
    std::string_view n = data[i].name;
    if (n.size() < 6 || n.substr(0, 5) != "param") return false;
    uint64_t k = 0;
    for (char c : n.substr(5)) {
      if (c < '0' || c > '9') return false;
      k = k * 10 + static_cast<uint64_t>(c - '0');
    }
    if (i == first) {
      if (k > 1) return false;
      base = k;
    } else if (k != base + (i - first)) {
      return false;
    }
  }
  return true;
}

}  // namespace

// winlog.event_data / winlog.user_data: flat name -> value objects.
JsonError EventParser::EcsData(JsonValue& v) {
  size_t first = event_.data.size();
  JsonError err = ForEachField(v, [&](std::string_view name, JsonValue& value) {
    return PushData(&event_.data, name, value);
  });
  if (err) return err;
  if (IsParamSequence(event_.data, first)) {
    for (size_t i = first; i < event_.data.size(); ++i) event_.data[i].name = {};
  }
  return SUCCESS;
}

JsonError EventParser::EcsWinlog(JsonValue& v) {
  return ForEachField(v, [&](std::string_view key, JsonValue& value) -> JsonError {
    switch (KeyHash(key)) {
      ES_JSON_KEY("channel") { return RenderValue(value, &event_.channel); }
      ES_JSON_KEY("event_id") { return ReadEventId(value, &event_.event_id, &c_.winlog_event_id); }
      ES_JSON_KEY("provider_name") { return RenderValue(value, &event_.provider); }
      ES_JSON_KEY("provider_guid") { return ReadGuid(value); }
      ES_JSON_KEY("computer_name") { return RenderValue(value, &event_.computer); }
      ES_JSON_KEY("record_id") { return ReadInto(value, &event_.record_id); }
      ES_JSON_KEY("version") { return ReadInto(value, &event_.version); }
      // Winlogbeat writes task/opcode display names; only numbers map.
      ES_JSON_KEY("task") { return ReadInto(value, &event_.task); }
      ES_JSON_KEY("opcode") { return ReadInto(value, &event_.opcode); }
      ES_JSON_KEY("time_created") { return RenderValue(value, &c_.winlog_time); }
      ES_JSON_KEY("level") {
        if (c_.ecs_log_level.empty()) return RenderValue(value, &c_.ecs_log_level);
        return SUCCESS;
      }
      ES_JSON_KEY("event_data") { return header_only_ ? SUCCESS : EcsData(value); }
      ES_JSON_KEY("user_data") { return header_only_ ? SUCCESS : EcsData(value); }
      ES_JSON_KEY("process") {
        return ForEachField(value, [&](std::string_view k, JsonValue& pv) -> JsonError {
          if (k == "pid") return ReadInto(pv, &event_.process_id);
          if (k == "thread") {
            return ForEachField(pv, [&](std::string_view tk, JsonValue& tv) -> JsonError {
              return tk == "id" ? ReadInto(tv, &event_.thread_id) : SUCCESS;
            });
          }
          return SUCCESS;
        });
      }
      ES_JSON_KEY("user") {
        return ForEachField(value, [&](std::string_view k, JsonValue& uv) -> JsonError {
          return k == "identifier" ? RenderValue(uv, &event_.user_sid) : SUCCESS;
        });
      }
      default:
        break;
    }
    return SUCCESS;
  });
}

// Root "event", "log" and "host" objects; a string "host" is Logstash's
// collector name and says nothing about the event.
JsonError EventParser::EcsObject(std::string_view key, JsonValue& v) {
  if (key == "event") {
    return ForEachField(v, [&](std::string_view k, JsonValue& ev) -> JsonError {
      if (k == "code") {
        if (auto err = ReadEventId(ev, &c_.ecs_code, &c_.ecs_code_read)) return err;
      } else if (k == "provider") {
        return RenderValue(ev, &c_.ecs_provider);
      }
      return SUCCESS;
    });
  }
  if (key == "log") {
    return ForEachField(v, [&](std::string_view k, JsonValue& lv) -> JsonError {
      return k == "level" ? RenderValue(lv, &c_.ecs_log_level) : SUCCESS;
    });
  }
  return ForEachField(v, [&](std::string_view k, JsonValue& hv) -> JsonError {
    return k == "name" ? RenderValue(hv, &c_.ecs_host) : SUCCESS;
  });
}

Status EventParser::FinishEcs() {
  shape_ = Shape::kEcs;
  if (c_.winlog_event_id == EventIdRead::kOutOfRange) {
    return Status::Corruption(EventIdOutOfRangeMessage("winlog.event_id"));
  }
  if (c_.winlog_event_id != EventIdRead::kValid) {
    if (c_.ecs_code_read == EventIdRead::kOutOfRange) {
      return Status::Corruption(EventIdOutOfRangeMessage("event.code"));
    }
    if (c_.ecs_code_read != EventIdRead::kValid) {
      return Status::Corruption("Winlogbeat event without a numeric winlog.event_id or event.code");
    }
    event_.event_id = c_.ecs_code;
  }
  if (event_.provider.empty()) event_.provider = c_.ecs_provider;
  // add_host_metadata may overwrite host.name; winlog.computer_name is the
  // event's own <Computer>.
  if (event_.computer.empty()) event_.computer = c_.ecs_host;
  event_.message = c_.ecs_message;
  int level = LevelFromName(c_.ecs_log_level);
  if (level >= 0) event_.level = static_cast<uint8_t>(level);
  std::string_view when = c_.winlog_time.empty() ? c_.at_timestamp : c_.winlog_time;
  if (!when.empty()) {
    if (auto t = ParseEventTime(when)) event_.time = *t;
  }
  pending_.clear();
  return Status::OK();
}

}  // namespace eventsift::json
