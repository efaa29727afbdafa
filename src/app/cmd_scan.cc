// Placeholder: `eventsift scan` lands with its work.
#include <fmt/format.h>

#include "src/app/command.h"
#include "src/app/exit_codes.h"

namespace eventsift::app {

int RunScan(const std::vector<std::string>& args) {
  fmt::print(stderr, "eventsift scan: not available in this build yet\n");
  return kExitFailure;
}

}  // namespace eventsift::app
