#pragma once
// SigmaRule: what a Sigma rule (docs/sigma.md) adds to a Rule. The rule's
// regex conditions live in Rule::match.fields like those of our own format,
// so they share the per-field RE2::Sets; SigmaRule holds the metadata and
// the boolean condition over them, plus the few tests a regex cannot make
// (field present or null, numbers, CIDR ranges, one field against another).

#include <cstdint>
#include <string>
#include <vector>

#include "src/detect/rule.h"

namespace eventsift::detect {

// A test made directly on the event instead of through a field's RE2::Set.
struct SigmaCheck {
  enum class Kind : uint8_t {
    kExists,     // the field has a value (even empty)
    kNull,       // the field is absent or its value is empty
    kNumber,     // a value compares with `number` by `op` (gt/gte/lt/lte)
    kCidr,       // a value is an IP address inside `cidr`
    kFieldRef,   // a value compares with a value of `other` by `op`
    kChannelIs,  // event channel equals `text` (lower-case), logsource variants
    kEventIdIn,  // event id is one of `ids`, logsource variants
  };
  enum class Op : uint8_t { kEq, kGt, kGte, kLt, kLte, kContains, kStartsWith, kEndsWith };

  Kind kind = Kind::kExists;
  Op op = Op::kEq;
  FieldRef field;
  FieldRef other;             // kFieldRef
  double number = 0;          // kNumber
  std::string text;           // kChannelIs
  std::vector<uint32_t> ids;  // kEventIdIn
  // kCidr: network address and prefix, IPv4 as 4 bytes, IPv6 as 16.
  std::vector<uint8_t> network;
  int prefix_bits = 0;
  bool cased = false;  // kFieldRef: compare case-sensitively
};

// The condition as a tree in one vector (SigmaRule::root is its root).
struct SigmaNode {
  enum class Kind : uint8_t {
    kAnd,
    kOr,
    kNot,
    kAtLeast,    // at least `count` children hold ("2 of selection_*")
    kCondition,  // Rule::match.fields[index] matched
    kCheck,      // SigmaRule::checks[index] holds
    kTrue,
    kFalse,
  };
  Kind kind = Kind::kTrue;
  uint32_t index = 0;  // kCondition, kCheck
  uint32_t count = 0;  // kAtLeast
  std::vector<uint32_t> children;
};

struct SigmaLogsource {
  std::string product, category, service;
};

struct SigmaRule {
  std::string name;  // the optional `name:` correlations may refer to
  std::string status;
  std::vector<std::string> tags;
  std::vector<std::string> falsepositives;
  std::string author, date;
  SigmaLogsource logsource;
  std::vector<SigmaNode> nodes;
  uint32_t root = 0;  // index into nodes
  std::vector<SigmaCheck> checks;
  // Event fields the detection reads, as the rule names them (Sigma names:
  // "Image", "CommandLine"), with where each is read; alerts show their
  // values.
  std::vector<std::pair<std::string, FieldRef>> fields;
};

}  // namespace eventsift::detect
