#pragma once
// A parsed Sigma correlation rule (Sigma specification v2.1, "Sigma
// Correlation Rules"): the meta information an alert carries and what the
// engine (src/correlate/sigma_correlator.h) needs to evaluate it.
// docs/sigma-correlation.md describes the semantics eventsift gives each
// field.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"

namespace eventsift::detect {

enum class SigmaCorrelationType : uint8_t {
  kEventCount,
  kValueCount,
  kTemporal,
  kTemporalOrdered,
  kValueSum,
  kValueAvg,
  kValuePercentile,
};

// "event_count", ... as written in rules and alerts.
std::string_view SigmaCorrelationTypeName(SigmaCorrelationType type);
std::optional<SigmaCorrelationType> SigmaCorrelationTypeFromName(std::string_view name);

// The condition map: every bound given must hold (a range is two bounds).
struct SigmaCondition {
  std::optional<double> gt, gte, lt, lte, eq, neq;

  bool Holds(double v) const;
  // True when a larger value can turn the condition false (lt, lte, eq,
  // neq): such a condition can only be decided once its window closed.
  bool HasUpperBound() const { return lt || lte || eq || neq; }
  bool Empty() const { return !gt && !gte && !lt && !lte && !eq && !neq; }
  // "gte 10", "gt 100 and lte 200"
  std::string ToString() const;
};

struct SigmaCorrelation {
  // Meta information (only the outermost correlation of a chain alerts, but
  // every correlation keeps its own).
  std::string id, name, title, description, status, level, author;
  std::vector<std::string> references, falsepositives, tags;

  SigmaCorrelationType type = SigmaCorrelationType::kEventCount;
  // Referenced rules, by id or name, in the order given (temporal_ordered).
  std::vector<std::string> rules;
  std::vector<std::string> group_by;
  // alias -> (rule name or id -> field name in that rule's events)
  std::map<std::string, std::map<std::string, std::string>> aliases;
  int64_t timespan_seconds = 0;
  SigmaCondition condition;
  // value_count / value_sum / value_avg / value_percentile: the field.
  std::string field;
  // true: the referenced rules also alert on their own.
  bool generate = false;

  std::string file;  // where it was defined
  int line = 0;      // 1-based line of the document

  // The identifier alerts carry: id, else name, else title.
  const std::string& Key() const;
};

// A detection rule correlations may name, by its id or its `name`.
struct SigmaRuleRef {
  std::string id;
  std::string name;
};

// What a correlation's `rules` entry resolved to.
struct SigmaRef {
  bool correlation = false;  // true: another correlation (a chain)
  uint32_t index = 0;        // into the base rules, or into the correlations
};

// The correlations whose every reference resolves, against `base` rules (id
// or name) and each other. Refused (with file, line and reason): a
// reference to nothing, a duplicate id or name, a correlation naming
// itself, a cycle, and any correlation naming a refused one.
struct SigmaResolution {
  std::vector<bool> accepted;               // per correlation
  std::vector<std::vector<SigmaRef>> refs;  // per correlation, per rules entry
  std::vector<Status> refused;              // in correlation order
};
SigmaResolution ResolveSigmaCorrelations(const std::vector<SigmaCorrelation>& correlations,
                                         const std::vector<SigmaRuleRef>& base);

// "5m" -> 300: one number and one lower-case unit of s, m, h, d (the
// specification's format); nullopt otherwise.
std::optional<int64_t> ParseSigmaTimespan(std::string_view text);

}  // namespace eventsift::detect
