#pragma once
// Command-line parsing shared by the subcommands: named options plus the
// trailing positional arguments (inputs, paths), in one Boost.Program_options
// pass.

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace eventsift::app {

// Parses `args` against `opts`; every positional argument is appended to
// `*positional`. Stores and notifies (Program_options throws on bad flags;
// RunCli turns that into exit code 2).
boost::program_options::variables_map ParseArgs(
    const std::vector<std::string>& args, const boost::program_options::options_description& opts,
    std::vector<std::string>* positional);

}  // namespace eventsift::app
