#pragma once
// Turns one rule file's text (YAML, or JSON, which yaml-cpp reads as YAML)
// into Rules. Syntax and types are checked here, with the offending node's
// line; cross-rule checks (duplicate ids) and regex compilation happen in
// RuleSet. yaml-cpp throws: every exception is caught here and becomes a
// Status naming the file, line and rule id.

#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/detect/rule.h"
#include "src/detect/sigma_correlation.h"

namespace eventsift::detect {

// Appends the file's good rules to *rules and one error per bad rule (or per
// file, when the file itself is not valid YAML) to *errors.
void ParseRuleFile(std::string_view text, const std::string& file, std::vector<Rule>* rules,
                   std::vector<Status>* errors);

// As above, and also the file's Sigma correlation documents into
// *correlations and their errors into *correlation_errors, as
// ParseSigmaCorrelations gives them, from the same YAML parse: yaml-cpp's
// parse is most of a small rule file's cost, and every `scan` loads the
// shipped rules.
void ParseRuleFile(std::string_view text, const std::string& file, std::vector<Rule>* rules,
                   std::vector<Status>* errors, std::vector<SigmaCorrelation>* correlations,
                   std::vector<Status>* correlation_errors);

}  // namespace eventsift::detect
