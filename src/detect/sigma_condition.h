#pragma once
// The Sigma condition grammar (docs/sigma.md, "Conditions"): and, or, not,
// parentheses, "1 of X", "all of X", "N of X", "them", and wildcards in
// selection names after "of". Precedence: not, then and, then or.
// Aggregations after a pipe (Sigma 1's "| count() > 5") are refused: they
// are correlation rules now.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/status.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

// Parses `condition` over the named selections (name -> root node of that
// selection in *nodes), appends the condition's nodes and sets *root.
Status ParseSigmaCondition(std::string_view condition,
                           const std::vector<std::pair<std::string, uint32_t>>& selections,
                           std::vector<SigmaNode>* nodes, uint32_t* root);

// fnmatch-style '*' and '?' over a selection name.
bool SigmaNameMatches(std::string_view pattern, std::string_view name);

}  // namespace eventsift::detect
