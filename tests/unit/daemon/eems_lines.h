#pragma once
// Winlogbeat NDJSON lines for daemon pipeline tests: an EEMS 1008 failure
// the shipped rule matches, and a tick no rule matches (it only moves event
// time on).

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "src/core/time_util.h"

namespace eventsift::daemon {

inline std::string Line(const std::string& host, int64_t t, uint32_t event_id,
                        const char* provider) {
  return fmt::format(
      R"({{"@timestamp":"{}","message":"An unexpected exception occurred. Diagnostic information: Exception encountered while fetching mitigations.","log":{{"level":"error"}},"winlog":{{"channel":"Application","event_id":"{}","provider_name":"{}","computer_name":"{}","record_id":1}}}})",
      FormatRfc3339(FileTimeFromUnixMillis(t * 1000), 0), event_id, provider, host);
}
inline std::string Hit(const std::string& host, int64_t t) {
  return Line(host, t, 1008, "MSExchange Mitigation Service");
}
inline std::string Tick(int64_t t) { return Line("TICK", t, 1000, "Test Ticker"); }

}  // namespace eventsift::daemon
