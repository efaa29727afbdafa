#include "src/app/cli.h"

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options/errors.hpp>

#include "src/app/command.h"
#include "src/app/exit_codes.h"

namespace eventsift::app {

namespace {

constexpr Command kCommands[] = {
    {"scan", "match rules over EVTX files and JSON exports; print host-correlated alerts", RunScan},
    {"dump", "decode EVTX/JSON inputs and print their events as XML, JSON or JSONL", RunDump},
    {"rules", "check or list detection rules", RunRules},
    {"builds", "classify Exchange builds against the March 2023 SU that EEMS needs", RunBuilds},
    {"spool", "show, replay or drop alerts spooled while Kafka was unreachable", RunSpool},
    {"alerts", "follow the Kafka alert topic and print alerts", RunAlerts},
    {"daemon", "run as a service: watch directories, stdin, TCP or Kafka; forward alerts",
     RunDaemon},
};

void PrintUsage(std::FILE* out) {
  fmt::print(out,
             "eventsift {} - Windows event-log analyzer and SIEM forwarder\n\n"
             "Usage: eventsift <command> [options] [args]\n\nCommands:\n",
             ES_VERSION);
  for (const auto& c : kCommands) fmt::print(out, "  {:<8} {}\n", c.name, c.summary);
  fmt::print(out,
             "\nRun 'eventsift <command> --help' for a command's options and examples.\n\n"
             "Examples:\n"
             "  eventsift scan tests/data/json            # alerts as NDJSON on stdout\n"
             "  eventsift scan --format table logs/       # a table for people\n"
             "  eventsift dump --format jsonl Application.evtx\n"
             "  eventsift rules check rules/\n");
}

}  // namespace

int RunCli(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return kExitOk;
  }
  if (name == "--version" || name == "version") {
    fmt::print("eventsift {}\n", ES_VERSION);
    return kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(args);
    } catch (const boost::program_options::error& e) {
      fmt::print(stderr, "eventsift {}: {}\nTry 'eventsift {} --help'.\n", c.name, e.what(),
                 c.name);
      return kExitUsage;
    } catch (const std::exception& e) {
      fmt::print(stderr, "eventsift {}: fatal: {}\n", c.name, e.what());
      return kExitFailure;
    }
  }
  fmt::print(stderr, "eventsift: unknown command '{}'\n\n", name);
  PrintUsage(stderr);
  return kExitUsage;
}

}  // namespace eventsift::app
