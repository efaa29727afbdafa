#pragma once
// CompiledRules: what RuleSet builds from its rules for the Matcher. Internal
// to detect/; the layout is the matching algorithm's (matcher.cc):
//   1. exact filters through indexes: an event only looks at the rules filed
//      under its event id, its provider or its channel, plus the few rules
//      with none of them;
//   2. one FieldMatcher (RE2::Set) pass per value of each field that a
//      candidate reads; on a hit, which patterns matched (see matcher.cc);
//   3. negation and all/any per rule from the per-condition hit bits, only
//      for the candidates that can match without a hit (RuleEntry::needs_hit
//      false) and those that one of their own conditions hit.

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/status.h"
#include "src/detect/field_matcher.h"
#include "src/detect/rule.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

class CompiledRules {
 public:
  // A field as matchers see it; conditions on the same FieldRef share a slot.
  struct Slot {
    FieldRef field;
    std::unique_ptr<FieldMatcher> matcher;
    std::vector<std::vector<uint32_t>> pattern_conditions;  // pattern -> condition ids (>= 1)
    std::vector<uint32_t> conditions;                       // every condition on this slot
  };
  struct Condition {
    uint32_t slot;
    uint32_t rule;
    bool negate;
  };
  // What the matcher needs of a rule per event, packed so that scanning
  // many candidates does not touch each (large) Rule.
  struct RuleEntry {
    uint32_t first_condition = 0;  // conditions [first, first + count) in rule order
    uint32_t condition_count = 0;
    bool has_exact_filters = false;  // any of providers, channels, event_ids, levels
    bool all = true;                 // mode: all (else any)
    // The rule cannot match unless one of its own field conditions hit (a
    // positive condition under and/or, not only negations or direct
    // checks): the set passes are then its prefilter, and an event that
    // hits none of its patterns need not evaluate it.
    bool needs_hit = false;
    std::vector<uint32_t> slots;  // distinct slots the rule reads
    // A Sigma rule: its condition's root in sigma_nodes(), and the rule for
    // its direct checks (SigmaRule::checks). kNoSigma for our own format.
    uint32_t sigma_root = kNoSigma;
    const SigmaRule* sigma = nullptr;
  };
  static constexpr uint32_t kNoSigma = UINT32_MAX;
  // Every Sigma rule's condition tree, in one array in depth-first order
  // (SigmaRule::nodes, each with its children's ids in sigma_children()).
  // Why: the matcher evaluates a few trees per event, of different rules,
  // after the set passes have filled the cache with DFA states and event
  // data; one node per vector and one vector per node's children made each
  // step a cache miss (EvalSigma was the costliest symbol of a Sigma scan,
  // 9.5 % of its samples, for 4 % of its instructions).
  //
  // A check on the channel, or on one event id (what a logsource with
  // several channels compiles to: process_creation is Sysmon 1 or Security
  // 4688), is answered from the node alone: `arg` is then the channel's id
  // (ChannelId) or the event id, not the check's index.
  enum class HeaderCheck : uint8_t { kNone, kChannel, kEventId };
  struct FlatNode {
    SigmaNode::Kind kind;
    HeaderCheck header_check;
    uint32_t arg;          // kCondition, kCheck: index; kAtLeast: count (see above)
    uint32_t first_child;  // children: sigma_children()[first_child, + child_count)
    uint32_t child_count;
  };
  static constexpr uint32_t kNoChannelId = UINT32_MAX;
  // The id that Sigma channel checks use for this channel (compared
  // ASCII-case-insensitively, as EqualsLowered), or kNoChannelId when no
  // rule checks it.
  uint32_t ChannelId(std::string_view channel) const;

  // Compiles `rules`, referring to them by index only. Regex errors name the rule's
  // file, the condition's line and the rule id; every error is appended.
  static std::unique_ptr<const CompiledRules> Build(const std::vector<Rule>& rules,
                                                    std::vector<Status>* errors);

  // Rule indexes for an event id / lower-cased provider / lower-cased
  // channel, ascending; empty when none. Rules with event ids are filed by
  // id only; rules with providers but no ids by provider only; rules with
  // channels but neither by channel only; the rest are `unindexed`.
  const std::vector<uint32_t>& ByEventId(uint32_t event_id) const;
  const std::vector<uint32_t>& ByProvider(const std::string& lowered_provider) const;
  const std::vector<uint32_t>& ByChannel(const std::string& lowered_channel) const;
  bool HasChannelIndex() const { return !by_channel_.empty(); }
  // False when no rule is filed under a provider of this length: the
  // provider need not be lower-cased and looked up (most events' providers
  // are not any rule's).
  bool MayHaveProvider(size_t length) const {
    return length < provider_lengths_.size() ? provider_lengths_[length] != 0 : long_providers_;
  }
  // False when no rule is filed under this event id: ByEventId is then empty
  // without a hash look-up (most events' ids are no rule's).
  bool MayHaveEventId(uint32_t event_id) const {
    return event_id < kIdBits ? ((id_bits_[event_id / 64] >> (event_id % 64)) & 1) != 0
                              : large_ids_;
  }
  const std::vector<uint32_t>& unindexed() const { return unindexed_; }

  const std::vector<Slot>& slots() const { return slots_; }
  const std::vector<Condition>& conditions() const { return conditions_; }
  const std::vector<RuleEntry>& entries() const { return entries_; }
  const std::vector<FlatNode>& sigma_nodes() const { return sigma_nodes_; }
  const std::vector<uint32_t>& sigma_children() const { return sigma_children_; }

 private:
  std::vector<Slot> slots_;
  std::vector<Condition> conditions_;
  std::vector<RuleEntry> entries_;
  std::vector<FlatNode> sigma_nodes_;
  std::vector<uint32_t> sigma_children_;
  std::unordered_map<std::string, uint32_t> channel_ids_;  // lower-cased channel -> id
  std::unordered_map<uint32_t, std::vector<uint32_t>> by_event_id_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_provider_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_channel_;
  std::vector<uint8_t> provider_lengths_ = std::vector<uint8_t>(256, 0);  // by key length
  bool long_providers_ = false;  // a key of 256 bytes or more
  std::vector<uint32_t> unindexed_;
  std::vector<uint32_t> empty_;
  // by_event_id_'s keys below kIdBits as a bitmap (EVTX event ids are 16-bit).
  static constexpr uint32_t kIdBits = 65536;
  std::vector<uint64_t> id_bits_ = std::vector<uint64_t>(kIdBits / 64, 0);
  bool large_ids_ = false;  // a key of kIdBits or more
};

}  // namespace eventsift::detect
