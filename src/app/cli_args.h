#pragma once
// Command-line parsing shared by the subcommands: named options plus the
// trailing positional arguments (inputs, paths), in one Boost.Program_options
// pass.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

namespace eventsift::app {

// Parses `args` against `opts`; every positional argument is appended to
// `*positional`. Stores and notifies (Program_options throws on bad flags;
// RunCli turns that into exit code 2).
boost::program_options::variables_map ParseArgs(
    const std::vector<std::string>& args, const boost::program_options::options_description& opts,
    std::vector<std::string>* positional);

// For commands of the form `eventsift COMMAND SUB [options] [args...]`
// (rules, builds): checks that args[0] is one of `subcommands`, stores it in
// *sub, and parses the rest with ParseArgs. Returns the exit code to stop
// with when help was asked for (0; usage on stderr and 2 when args is
// empty) or the subcommand is unknown (2), else nullopt.
std::optional<int> ParseSubcommandArgs(std::string_view command,
                                       const std::vector<std::string>& args,
                                       std::initializer_list<std::string_view> subcommands,
                                       const boost::program_options::options_description& opts,
                                       std::string* sub, std::vector<std::string>* positional);

}  // namespace eventsift::app
