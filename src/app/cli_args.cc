#include "src/app/cli_args.h"

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

}  // namespace eventsift::app
