#pragma once
// `--format table`: alerts as an aligned text table for people.

#include <string>
#include <vector>

#include "src/alert/alert.h"

namespace eventsift::app {

std::string RenderAlertTable(const std::vector<Alert>& alerts);

}  // namespace eventsift::app
