// `eventsift daemon`: the streaming service (src/daemon/daemon.h). Startup
// errors (bad config, bad rules, unreadable state) exit 2 with the reason.

#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/daemon/daemon.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kDaemonHelp[] =
    "Usage: eventsift daemon [--config FILE] [--check-config]\n\n"
    "Runs as a service: watches directories for EVTX and NDJSON files, reads\n"
    "NDJSON from stdin or TCP, matches the rules, correlates hits per host and\n"
    "sends alerts to stdout, a file or Kafka. Checkpoints survive restarts.\n"
    "The config file is documented in deploy/eventsift.yaml and\n"
    "docs/operations.md.\n\n"
    "Signals: SIGTERM/SIGINT drain, checkpoint and exit 0; SIGHUP reloads the\n"
    "config and rules (an invalid new config is refused and logged).\n\n"
    "Examples:\n"
    "  eventsift daemon --config /etc/eventsift/eventsift.yaml\n"
    "  eventsift daemon --config eventsift.yaml --check-config\n\n"
    "Exit codes: 0 stopped cleanly; 2 bad config, rules or state; 4 the final\n"
    "checkpoint could not be written (alerts not flushed).\n\n"
    "Options";

}  // namespace

int RunDaemon(const std::vector<std::string>& args) {
  // Before any thread exists, so every thread inherits the mask and signals
  // reach only the loop's signalfd.
  daemon::BlockDaemonSignals();
  std::string config_path = "/etc/eventsift/eventsift.yaml";
  po::options_description desc(kDaemonHelp);
  desc.add_options()("help,h", "show this help")(
      "config,c", po::value<std::string>(&config_path)->default_value(config_path),
      "config file (YAML)")("check-config", "validate the config and the rules, then exit");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  auto config = daemon::LoadConfig(config_path);
  if (!config.has_value()) {
    fmt::print(stderr, "eventsift daemon: invalid config: {}\n", config.error().ToString());
    return kExitUsage;
  }
  if (vm.count("check-config")) {
    auto rules = daemon::CheckRules(config.value());
    if (!rules.ok()) {
      fmt::print(stderr, "eventsift daemon: invalid rules: {}\n", rules.ToString());
      return kExitUsage;
    }
    fmt::print("{}: ok\n", config_path);
    return kExitOk;
  }
  auto d = daemon::Daemon::Create(std::move(config).value());
  if (!d.has_value()) {
    fmt::print(stderr, "eventsift daemon: cannot start: {}\n", d.error().ToString());
    return kExitUsage;
  }
  return d.value()->Run();
}

}  // namespace eventsift::app
