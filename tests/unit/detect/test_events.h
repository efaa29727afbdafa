#pragma once
// Events for detect/ tests and the benchmark's shapes: OwnedEvent owns the
// strings, View() gives the Event the matcher sees.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "src/event/owned_event.h"

namespace eventsift::detect::testing {

// The EEMS 1008 error as the Exchange Team blog and Learn Q&A show it.
OwnedEvent EemsError();

// An MSExchange CmdletLogs event in the MSExchange Management channel, laid
// out like the real record in domain.md: data [0] cmdlet, [1] parameters,
// [2] caller, ... With `with_message` the rendered message is filled too
// (JSON exports); without it only the data values carry the text (EVTX).
OwnedEvent CmdletEvent(uint32_t event_id, const std::string& cmdlet, const std::string& params,
                       bool with_message);

// Any event with the given header and positional or named data.
OwnedEvent MakeEvent(std::string provider, std::string channel, uint32_t event_id, uint8_t level,
                     std::string message = "",
                     std::vector<std::pair<std::string, std::string>> data = {});

}  // namespace eventsift::detect::testing
