#pragma once
// A subcommand of the `eventsift` binary. Each lives in cmd_<name>.cc and is
// listed in cli.cc's table.

#include <string>
#include <vector>

namespace eventsift::app {

struct Command {
  const char* name;
  const char* summary;
  // args excludes the program and command names. Returns the exit code.
  int (*run)(const std::vector<std::string>& args);
};

// Commands (defined in cmd_*.cc).
int RunScan(const std::vector<std::string>& args);
int RunDump(const std::vector<std::string>& args);
int RunRules(const std::vector<std::string>& args);
int RunBuilds(const std::vector<std::string>& args);
int RunSpool(const std::vector<std::string>& args);
int RunAlerts(const std::vector<std::string>& args);
int RunDaemon(const std::vector<std::string>& args);

}  // namespace eventsift::app
