#pragma once
// Turns one Sigma file's text (one rule, several YAML documents, or a rule
// collection with action: global/reset/repeat) into Rules whose `sigma`
// member holds the Sigma part (sigma_rule.h). A rule that uses something we
// do not support is refused with file, line and a named reason, and the
// others in the file still load. Correlation documents are passed through
// untouched for the correlation engine (SigmaCorrelationDoc).

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/status.h"
#include "src/detect/rule.h"
#include "src/detect/sigma_correlation.h"
#include "src/detect/sigma_value.h"

namespace eventsift::detect {

// A Sigma `correlation:` document, kept as YAML text for the engine that
// evaluates correlations; `rules` are the ids or names it refers to.
struct SigmaCorrelationDoc {
  std::string file;
  int line = 0;
  std::string id, name, title, type;
  std::vector<std::string> rules;
  std::string yaml;
};

// True when the text reads as Sigma (a top-level `detection:`, `logsource:`
// or `action:` key, or `correlation:` with an indented `type:` and without
// our format's `match:` or `rules:`) rather than our own rule format.
bool LooksLikeSigma(std::string_view text);

struct SigmaFileResult {
  std::vector<Rule> rules;
  std::vector<Status> refused;  // one per rule not loaded, with file:line and reason
  std::vector<SigmaCorrelationDoc> correlations;
  // Why RE2 or regex_limits.h refuses a regex ("" when it does not), by
  // case flag and regex, for every regex compiled so far: rules share many
  // values, and compiling each regex alone is a large part of loading.
  std::unordered_map<std::string, std::string> regex_verdicts;
};

// Also reads the file's correlation documents into `correlations` and
// `correlation_errors`, as ParseSigmaCorrelations does, from the same YAML
// parse (parsing is most of the cost of loading rules).
void ParseSigmaFile(std::string_view text, const std::string& file,
                    const SigmaPlaceholders& placeholders, SigmaFileResult* out,
                    std::vector<SigmaCorrelation>* correlations,
                    std::vector<Status>* correlation_errors);

// Placeholder file for `expand`: a YAML mapping of name -> list of values.
Status LoadSigmaPlaceholders(const std::string& path, SigmaPlaceholders* out);

}  // namespace eventsift::detect
