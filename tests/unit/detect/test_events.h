#pragma once
// Events for detect/ tests and bench/detect_bench.cc (header-only, so the
// bench can use it without a library): OwnedEvent owns the strings, View()
// gives the Event the matcher sees.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "src/event/owned_event.h"

namespace eventsift::detect::testing {

// Any event with the given header and positional or named data.
inline OwnedEvent MakeEvent(std::string provider, std::string channel, uint32_t event_id,
                            uint8_t level, std::string message = "",
                            std::vector<std::pair<std::string, std::string>> data = {}) {
  OwnedEvent e;
  e.provider = std::move(provider);
  e.channel = std::move(channel);
  e.event_id = event_id;
  e.level = level;
  e.message = std::move(message);
  e.data = std::move(data);
  e.computer = "EX01.contoso.com";
  return e;
}

// The EEMS 1008 error as the Exchange Team blog and Learn Q&A show it.
inline OwnedEvent EemsError() {
  return MakeEvent(
      "MSExchange Mitigation Service", "Application", 1008, 2,
      "An unexpected exception occurred.\r\nDiagnostic information: Exception encountered while "
      "fetching mitigations : System.AggregateException: One or more errors occurred. ---> "
      "System.Net.Http.HttpRequestException: An error occurred while sending the request. ---> "
      "System.Net.WebException: The underlying connection was closed: Could not establish trust "
      "relationship for the SSL/TLS secure channel. ---> "
      "System.Security.Authentication.AuthenticationException: The remote certificate is invalid "
      "according to the validation procedure.",
      {{"", "Exception encountered while fetching mitigations : System.AggregateException"}});
}

// An MSExchange CmdletLogs event in the MSExchange Management channel, laid
// out like the real record in domain.md: data [0] cmdlet, [1] parameters,
// [2] caller, ... With `with_message` the rendered message is filled too
// (JSON exports); without it only the data values carry the text (EVTX).
inline OwnedEvent CmdletEvent(uint32_t event_id, const std::string& cmdlet,
                              const std::string& params, bool with_message) {
  std::string message;
  if (with_message) {
    message = (event_id == 1 ? "Cmdlet succeeded. Cmdlet " : "Cmdlet failed. Cmdlet ") + cmdlet +
              ", parameters " + params + ".";
  }
  return MakeEvent("MSExchange CmdletLogs", "MSExchange Management", event_id, 4,
                   std::move(message),
                   {{"", cmdlet},
                    {"", params},
                    {"", "contoso.com/Users/attacker"},
                    {"", "S-1-5-21-1-2-3-1104"},
                    {"", "S-1-5-21-1-2-3-1104"},
                    {"", "Remote-ManagementShell-Unknown"},
                    {"", "5668 w3wp#MSExchangePowerShellAppPool"}});
}

}  // namespace eventsift::detect::testing
