#include "src/daemon/listen_address.h"

#include <charconv>

#include <fmt/format.h>

namespace eventsift::daemon {

Result<ListenAddress> ParseListenAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("expected host:port");
  std::string_view host = address.substr(0, colon);
  std::string_view digits = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return Status::InvalidArgument("expected host:port (the host is empty)");
  // from_chars alone would take "12ab" as 12 and wrap nothing, but a sign or
  // trailing text must not pass either: digits only, then the range.
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port > 65535) {
    return Status::InvalidArgument(
        fmt::format("port '{}' is not a number from 0 to 65535", digits));
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace eventsift::daemon
