#pragma once
// "host:port" as the daemon's config gives a listening address
// (metrics.address). Parsed in one place so --check-config refuses exactly
// what the listener could not use.

#include <cstdint>
#include <string>
#include <string_view>

#include "src/core/result.h"

namespace eventsift::daemon {

struct ListenAddress {
  std::string host;  // as given; an IPv6 literal without its brackets
  uint16_t port = 0;
};

// The port is decimal digits only, 0 to 65535 (0: any free port); the host
// is what precedes the last ':' ("[::1]:9464" for IPv6) and may not be empty.
// The error says what is wrong with the value (the caller names the key).
Result<ListenAddress> ParseListenAddress(std::string_view address);

}  // namespace eventsift::daemon
