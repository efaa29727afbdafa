#include "src/app/cli_args.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <fmt/format.h>

#include "src/app/exit_codes.h"

namespace po = boost::program_options;

namespace eventsift::app {

po::variables_map ParseArgs(const std::vector<std::string>& args,
                            const po::options_description& opts,
                            std::vector<std::string>* positional) {
  po::options_description hidden;
  hidden.add_options()("positional-arg", po::value(positional));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("positional-arg", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

namespace {

void PrintHelp(const po::options_description& opts, std::FILE* to) {
  std::ostringstream help;
  help << opts;
  fmt::print(to, "{}\n", help.str());
}

}  // namespace

std::optional<int> ParseSubcommandArgs(std::string_view command,
                                       const std::vector<std::string>& args,
                                       std::initializer_list<std::string_view> subcommands,
                                       const po::options_description& opts, std::string* sub,
                                       std::vector<std::string>* positional) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintHelp(opts, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (std::find(subcommands.begin(), subcommands.end(), args[0]) == subcommands.end()) {
    std::string names;
    for (std::string_view s : subcommands) names += (names.empty() ? "" : " or ") + std::string(s);
    fmt::print(stderr,
               "eventsift {}: unknown subcommand '{}' ({})\n"
               "Try 'eventsift {} --help'.\n",
               command, args[0], names, command);
    return kExitUsage;
  }
  *sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  po::variables_map vm = ParseArgs(rest, opts, positional);
  if (vm.count("help")) {
    PrintHelp(opts, stdout);
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace eventsift::app
