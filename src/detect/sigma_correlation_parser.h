#pragma once
// Reads Sigma correlation documents (a map with a `correlation:` section
// holding `type:`) out of YAML text or an already loaded YAML document.
// Every error names the file, the line of the offending node and the
// reason; one bad correlation does not stop the others of the file.
// yaml-cpp exceptions stop here.

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "src/core/result.h"
#include "src/core/status.h"
#include "src/detect/sigma_correlation.h"

namespace eventsift::detect {

// Whether this document is a Sigma correlation (and not a detection rule or
// our own format, whose `correlation:` has no `type:`).
bool IsSigmaCorrelationDocument(const YAML::Node& doc);

// One correlation document; `file` names it in errors.
Result<SigmaCorrelation> ParseSigmaCorrelation(const YAML::Node& doc, const std::string& file);

// Every correlation document of a (multi-document) text; other documents
// are skipped. Appends to `out` and `errors`.
void ParseSigmaCorrelations(std::string_view text, const std::string& file,
                            std::vector<SigmaCorrelation>* out, std::vector<Status>* errors);
// The same over documents already loaded from `file`'s text.
void ParseSigmaCorrelations(const std::vector<YAML::Node>& docs, const std::string& file,
                            std::vector<SigmaCorrelation>* out, std::vector<Status>* errors);
// The error ParseSigmaCorrelations gives for text that is not YAML.
Status SigmaCorrelationYamlError(const YAML::Exception& e, const std::string& file);

}  // namespace eventsift::detect
