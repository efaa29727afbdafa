// NXLog im_msvistalog + to_json(), including the OTRF Security-Datasets
// variant (NXLog shipped through Logstash: @timestamp, @version, host, port,
// tags added; some files carry TimeCreated and a numeric Level instead).

#include <cstdlib>
#include <optional>

#include "parsers/json/event_parser.h"

namespace eventsift::json {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

namespace {

// NXLog SeverityValue -> Windows level: 1 DEBUG, 2 INFO, 3 WARNING, 4 ERROR,
// 5 CRITICAL.
int LevelFromSeverityValue(int64_t v) {
  switch (v) {
    case 1:
      return 5;
    case 2:
      return 4;
    case 3:
      return 3;
    case 4:
      return 2;
    case 5:
      return 1;
    default:
      return -1;
  }
}

bool IsAudit(std::string_view event_type) {
  return event_type == "AUDIT_SUCCESS" || event_type == "AUDIT_FAILURE";
}

// NXLog writes EventTime in the collecting host's local time without a zone
// ("2020-08-07 10:32:22"). When Logstash added a UTC @timestamp for the
// moment NXLog's EventReceivedTime (same local clock) was taken, their
// difference rounded to 15 minutes is the host's UTC offset.
std::optional<FileTime> ResolveTime(std::string_view time_created, std::string_view event_time,
                                    std::string_view received, std::string_view at_timestamp) {
  if (!time_created.empty()) {
    if (auto t = ParseEventTime(time_created)) return t;
  }
  if (!event_time.empty()) {
    auto local = ParseEventTime(event_time);
    if (local && HasZone(event_time)) return local;
    if (local && !received.empty() && !HasZone(received) && HasZone(at_timestamp)) {
      auto r = ParseEventTime(received);
      auto a = ParseEventTime(at_timestamp);
      if (r && a) {
        constexpr int64_t kQuarterHour = 15 * 60 * kTicksPerSecond;
        int64_t diff = *a - *r;
        int64_t quarters =
            (diff + (diff >= 0 ? kQuarterHour / 2 : -kQuarterHour / 2)) / kQuarterHour;
        if (std::llabs(quarters) <= 14 * 4) return *local + quarters * kQuarterHour;
      }
    }
    if (local) return local;  // no way to know the zone: taken as UTC
  }
  if (!at_timestamp.empty()) return ParseEventTime(at_timestamp);
  return std::nullopt;
}

}  // namespace

// OpenWEC's NXLog format puts unnamed <Data> in "Data": [...]; they join the
// named fields, in document order, with empty names.
JsonError EventParser::NxlogUnnamedData(JsonValue& v) {
  json_type t;
  if (auto err = v.type().get(t)) return err;
  if (t != json_type::array) return PushData(&pending_, {}, v);
  return ForEachElement(v, [&](JsonValue& element) { return PushData(&pending_, {}, element); });
}

void EventParser::FinishNxlog() {
  shape_ = Shape::kNxlog;
  int level = -1;
  if (c_.level >= 0) {
    level = static_cast<int>(c_.level);  // the real Windows level (OTRF files)
  } else if (IsAudit(c_.event_type)) {
    level = 0;  // Security audit events are LogAlways; NXLog calls them INFO/ERROR
  } else if (c_.severity_value >= 0) {
    level = LevelFromSeverityValue(c_.severity_value);
  }
  if (level < 0) level = LevelFromName(c_.severity);
  if (level < 0) level = LevelFromName(c_.event_type);
  if (level >= 0) event_.level = static_cast<uint8_t>(level);
  if (auto t =
          ResolveTime(c_.time_created, c_.event_time, c_.event_received_time, c_.at_timestamp)) {
    event_.time = *t;
  }
  event_.data.swap(pending_);
}

}  // namespace eventsift::json
