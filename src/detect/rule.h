#pragma once
// Rule: one detection rule as loaded from rules/*.yaml (format: docs/rules.md,
// schema: schemas/rule.schema.json). Plain data; RuleSet owns the rules and
// the compiled matching structures built from them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/correlate/correlation_spec.h"

namespace eventsift::detect {

// Which part of an event a field condition reads.
enum class FieldKind : uint8_t {
  kProvider,
  kProviderGuid,
  kChannel,
  kComputer,
  kUserSid,
  kMessage,
  kEventId,  // numeric fields are matched as their decimal text...
  kLevel,
  kTask,
  kOpcode,
  kKeywords,  // ...except keywords: "0x" + 16 hex digits, as EVTX XML prints them
  kRecordId,
  kDataNamed,         // data.<Name>: every EventData value with that exact name
  kDataAny,           // data.*: every EventData value
  kMessageOrDataAny,  // message|data.* or any: the message and every EventData value
};

struct FieldRef {
  FieldKind kind = FieldKind::kMessage;
  std::string data_name;  // only for kDataNamed

  // The canonical spelling ("provider", "data.Name", "message|data.*").
  std::string ToString() const;
  friend bool operator==(const FieldRef&, const FieldRef&) = default;
};

// "provider", "data.Name", "data.*", "message|data.*", "any", ... or nullopt.
std::optional<FieldRef> ParseFieldRef(std::string_view name);

// One regex condition on one field. A condition on a multi-valued field
// (data.*, message|data.*) holds when any of the values matches.
struct FieldCondition {
  FieldRef field;
  std::string regex;  // RE2 syntax, unanchored
  bool case_insensitive = false;
  bool negate = false;  // holds when the regex matches none of the values
  int line = 0;         // 1-based line in the rule file, for error messages
  // The loader already compiled `regex` (with this case_insensitive) and found
  // it within regex_limits.h, so FieldMatcher need not compile it again alone.
  bool checked = false;
};

// How a rule's field conditions combine. The exact filters always apply.
enum class CombineMode : uint8_t { kAll, kAny };

struct MatchSpec {
  // Exact filters; an empty list does not filter. Providers and channels are
  // stored lower-case and compared ASCII case-insensitively.
  std::vector<std::string> providers;
  std::vector<std::string> channels;
  std::vector<uint32_t> event_ids;
  std::vector<uint8_t> levels;
  std::vector<FieldCondition> fields;
  CombineMode mode = CombineMode::kAll;
};

inline constexpr std::string_view kSeverities[] = {"informational", "low", "medium", "high",
                                                   "critical"};

// What a rule's hits are for. kState rules record a host's state (EEMS
// fetched mitigations successfully) for the fleet view instead of raising
// alerts: `scan` keeps their hits out of the correlator and the sinks.
enum class RuleKind : uint8_t { kAlert, kState };

struct SigmaRule;  // sigma_rule.h

struct Rule {
  std::string id, title, description, severity;
  RuleKind kind = RuleKind::kAlert;
  std::vector<std::string> references;
  std::string remediation;
  CorrelationSpec correlation;
  std::string file;  // where it was defined
  int line = 0;      // 1-based
  MatchSpec match;
  // Set for rules loaded from Sigma (sigma_rule.h): the rule then matches
  // when sigma->nodes (over match.fields and sigma->checks) holds, not by
  // match.mode. Null for our own format.
  std::shared_ptr<const SigmaRule> sigma;
};

// "error" -> 2, "warning" -> 3, ... (winmeta.xml names; "info" too), or nullopt.
std::optional<uint8_t> LevelFromName(std::string_view name);

// "30s", "30m", "24h", "2d", "1h30m" -> seconds; nullopt when malformed.
std::optional<int64_t> ParseDuration(std::string_view text);

// ASCII lower case of one byte; other bytes as they are.
inline char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
// ASCII lower-case copy (provider and channel names are ASCII).
std::string AsciiLower(std::string_view s);
// ASCII case-insensitive equality; `lower` must already be lower-case.
bool EqualsLowered(std::string_view s, std::string_view lower);

}  // namespace eventsift::detect
