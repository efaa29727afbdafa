#pragma once
// Matcher: which rules an event matches. Immutable after construction; Match
// and MayMatch are const and thread-safe (per-thread scratch, atomic stats),
// so one Matcher serves every pipeline thread.
//
// Per event: the exact filters (event id, provider, channel, level) pick the
// candidate rules through indexes; each value of each field those candidates
// read goes through its field's RE2::Set once; only on a set hit are the
// candidates' patterns asked which matched; negation and all/any come last,
// and only for the candidates that a hit touched or that can match without
// one (CompiledRules::RuleEntry::needs_hit). What the header decides (the
// candidates, the fields they read, the set patterns that are theirs) is
// worked out once per distinct header and kept in a bounded per-thread
// cache: a log has few distinct (event id, level, provider, channel).
//
// EVENTSIFT_NO_RULE_INDEX=1 in the environment (for tests only: it is slow)
// turns the indexes, the header cache and the hit prefilter off: every rule
// is header-checked and every candidate evaluated for every event. The
// alerts must be the same either way (tests/e2e/sigma_index_test.py).
// In steady state nothing is allocated per event, except when a value hits
// a field whose set holds more than 4 candidate patterns: RE2::Set then
// allocates the list of matches (see kMaxPatternsAskedOneByOne in
// matcher.cc). Values that hit nothing, the vast majority, never allocate.

#include <cstdint>
#include <memory>
#include <vector>

#include "src/core/stats.h"
#include "src/detect/compiled_rules.h"
#include "src/detect/rule_set.h"
#include "src/detect/sigma_rule.h"
#include "src/event/event.h"

namespace eventsift::detect {

class LiteralSet;

struct MatcherStats {
  Counter received;         // events given to Match
  Counter matched;          // events that matched at least one rule
  Counter rule_hits;        // (event, rule) matches
  Counter header_checks;    // MayMatch calls
  Counter header_skips;     // MayMatch said no: the payload need not be decoded
  Counter regex_fallbacks;  // values a set's DFA gave up on (matched per pattern instead)
};

class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const RuleSet> rules);
  // `indexed` false: the reference path EVENTSIFT_NO_RULE_INDEX selects.
  Matcher(std::shared_ptr<const RuleSet> rules, bool indexed);
  Matcher(const Matcher&) = delete;  // stats are per matcher; share it by reference
  Matcher& operator=(const Matcher&) = delete;

  // Cheap exact filters only (provider, channel, event id, level): could any
  // rule match an event with this header? For EventHandler::WantPayload.
  [[nodiscard]] bool MayMatch(const Event& header) const;
  // Whether MayMatch says yes to every header: some rule has no exact
  // filter and is a candidate for every event (SigmaHQ's Mimikatz keywords,
  // logsource product: windows alone). For EventHandler::WantsEveryPayload.
  [[nodiscard]] bool MayMatchEveryHeader() const { return every_header_; }

  // Appends the indices (into rules()) of every rule the event matches,
  // ascending. *rule_indices is not cleared.
  void Match(const Event& event, std::vector<uint32_t>* rule_indices) const;

  const RuleSet& rule_set() const { return *rules_; }
  const std::vector<Rule>& rules() const { return rules_->rules(); }
  const MatcherStats& stats() const { return stats_; }

 private:
  struct Scratch;
  struct Plan;
  Scratch& ThreadScratch() const;

  // What the event's header decides, from the per-thread cache (or built
  // into scratch for the unindexed path).
  const Plan& PlanFor(const Event& event, Scratch* scratch) const;
  void BuildPlan(const Event& event, Scratch* scratch, Plan* plan) const;
  // Candidate rules passing the exact filters, ascending, into *out.
  void Candidates(const Event& event, Scratch* scratch, std::vector<uint32_t>* out) const;
  bool PassesHeader(const Rule& rule, const Event& event) const;
  // Whether a Sigma rule's condition node (in CompiledRules::sigma_nodes)
  // holds, from the per-condition hit bits of this event and its direct
  // checks.
  bool EvalSigma(uint32_t node, const CompiledRules::RuleEntry& entry, const Event& event,
                 const Scratch& scratch) const;
  // Runs the slot's set over each of the event's values for that field and
  // marks the conditions whose pattern was found; `relevant`: the slot's
  // patterns some candidate uses; `subset`: a literal set of just those, or
  // null (FieldMatcher::SubsetFor).
  void ScanSlot(uint32_t slot_index, const std::vector<int>& relevant, const LiteralSet* subset,
                const Event& event, Scratch* scratch) const;

  std::shared_ptr<const RuleSet> rules_;
  const CompiledRules& compiled_;  // owned by *rules_
  const bool indexed_;
  const uint64_t instance_;  // tells this matcher's cached plans from another's
  const bool every_header_;  // MayMatchEveryHeader
  mutable MatcherStats stats_;
};

}  // namespace eventsift::detect
