#pragma once

namespace eventsift::app {

// Entry point behind main(): dispatches to a subcommand, catches exceptions
// (the only place they are caught) and returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace eventsift::app
