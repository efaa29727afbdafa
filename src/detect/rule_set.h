#pragma once
// RuleSet: the loaded, validated and compiled detection rules. Immutable once
// built and shared (shared_ptr<const RuleSet>) between the matcher threads,
// so reloading rules means building a new set and swapping the pointer.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/result.h"
#include "src/core/status.h"
#include "src/detect/rule.h"
#include "src/detect/sigma_correlation.h"
#include "src/detect/sigma_parser.h"

namespace eventsift::detect {

class CompiledRules;  // field_matcher.h: RE2::Set per field and rule indexes

class RuleSet {
  struct BuildKey {
    explicit BuildKey() = default;
  };

 public:
  // Loads rule files (.yaml/.yml/.json) and directories of them (recursive,
  // sorted by path). Any bad rule of our own format fails the load with a
  // Status naming file, line, rule id and reason; when there are several,
  // the first, with a count of the others. Sigma files (recognised by
  // content, sigma_parser.h) are different: a Sigma rule we cannot run is
  // refused (sigma_refused()) and the others load.
  static Result<std::shared_ptr<const RuleSet>> Load(const std::vector<std::string>& paths);

  // As Load, but goes on after an error and appends every error to *errors
  // (`rules check` prints them all). Returns a set only when there was none.
  static Result<std::shared_ptr<const RuleSet>> Load(const std::vector<std::string>& paths,
                                                     std::vector<Status>* errors);

  // Parses one file's content (our format or Sigma, as Load tells them
  // apart); `file` only names it in errors and in Rule::file.
  static Result<std::shared_ptr<const RuleSet>> Parse(std::string_view text,
                                                      const std::string& file);

  // Validates and compiles rules built in code (tests, embedders).
  static Result<std::shared_ptr<const RuleSet>> FromRules(std::vector<Rule> rules);

  const std::vector<Rule>& rules() const { return rules_; }
  // Sigma correlation rules found in the same files whose every reference
  // resolved (docs/sigma-correlation.md), and those refused with file, line
  // and reason. A refused correlation does not fail the load.
  const std::vector<SigmaCorrelation>& sigma_correlations() const { return sigma_correlations_; }
  const std::vector<Status>& correlation_refusals() const { return correlation_refusals_; }
  // What correlations may name: each rule's id (and Sigma name), by index.
  std::vector<SigmaRuleRef> SigmaRefs() const;
  const CompiledRules& compiled() const { return *compiled_; }

  // Sigma rules not loaded, each with file, line and reason (`rules check`
  // prints them; scan and the daemon print their count).
  const std::vector<Status>& sigma_refused() const { return sigma_refused_; }
  size_t sigma_rule_count() const;

  // Only Build can make a key, so every RuleSet is validated and compiled.
  explicit RuleSet(const BuildKey&);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;  // shared by pointer; the compiled sets are large
  RuleSet& operator=(const RuleSet&) = delete;

 private:
  // Checks ids, regexes and compiles; appends errors. Sigma rules that fail
  // a check are refused (added to sigma->refused) instead, and the set keeps
  // sigma's refusals and the correlations whose references resolve.
  static Result<std::shared_ptr<const RuleSet>> Build(
      std::vector<Rule> rules, std::vector<Status>* errors, SigmaFileResult* sigma = nullptr,
      std::vector<SigmaCorrelation> correlations = {}, std::vector<Status> correlation_errors = {});

  // Keeps the correlations of `found` whose references resolve against
  // this set's rules; the others go to correlation_refusals_.
  void AdoptCorrelations(std::vector<SigmaCorrelation> found, std::vector<Status> parse_errors);

  std::vector<Rule> rules_;
  std::unique_ptr<const CompiledRules> compiled_;
  std::vector<Status> sigma_refused_;
  std::vector<SigmaCorrelation> sigma_correlations_;
  std::vector<Status> correlation_refusals_;
};

// Where rules are looked for when no path is given, in order: $EVENTSIFT_RULES,
// <dir of the running binary>/../share/eventsift/rules, then the source tree's
// rules/ (ES_RULES_DIR): the first that exists, or ES_RULES_DIR when none
// does (so the error names a path). A shipped rules directory is given as
// ShippedRulePaths.
std::vector<std::string> DefaultRulePaths();

// The entries of a shipped rules directory, sorted, except its sigma/ folder:
// that holds the same detections as Sigma rules for other tools, and loading
// both would raise every alert twice (load it with --rules DIR/sigma).
std::vector<std::string> ShippedRulePaths(const std::string& dir);

}  // namespace eventsift::detect
