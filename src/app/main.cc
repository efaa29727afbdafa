#include "src/app/cli.h"

int main(int argc, char** argv) { return eventsift::app::RunCli(argc, argv); }
