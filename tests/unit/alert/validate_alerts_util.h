#pragma once
// Runs tools/validate_alerts.py for real from a test (cwd-independent: the
// path comes from ES_SOURCE_DIR), so schema tests exercise the same tool the
// e2e and Kafka tests use.

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace eventsift::testing {

struct CommandResult {
  int exit_code = -1;  // -1: could not run, or killed by a signal
  std::string output;  // stdout and stderr
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// "python3 <repo>/tools/validate_alerts.py"; append arguments.
inline std::string ValidateAlertsCommand() {
  return std::string("python3 ") + ES_SOURCE_DIR + "/tools/validate_alerts.py";
}

}  // namespace eventsift::testing
