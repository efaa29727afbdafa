#include "src/detect/rule_set.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>

#include "src/core/installed_path.h"
#include "src/detect/compiled_rules.h"
#include "src/detect/rule_parser.h"
#include "src/detect/sigma_correlation_parser.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

namespace fs = std::filesystem;

namespace {

// Ids end up in alert ids, Kafka keys and file names; keep them plain.
constexpr size_t kMaxIdLength = 128;

bool IsRuleFileName(const fs::path& path) {
  std::string ext = AsciiLower(path.extension().string());
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-' && c != '.' && c != ':'))) return false;
  }
  return true;
}

Status RuleError(const Rule& rule, const std::string& reason) {
  return Status::InvalidArgument(fmt::format("rule '{}': {}", rule.id, reason))
      .At(rule.file, Where::kNone, static_cast<uint64_t>(rule.line));
}

// Checks what the parser cannot see in one node: allowed values, and that
// rules built in code (FromRules) obey the same limits as loaded ones.
Status ValidateRule(const Rule& rule) {
  if (!IsValidId(rule.id)) {
    return RuleError(rule, fmt::format("id must be 1-{} characters: letters and digits, then also "
                                       "'_', '-', '.' or ':'",
                                       kMaxIdLength));
  }
  if (std::find(std::begin(kSeverities), std::end(kSeverities), rule.severity) ==
      std::end(kSeverities)) {
    return RuleError(rule, fmt::format("severity must be informational, low, medium, high or "
                                       "critical, not '{}'",
                                       rule.severity));
  }
  const MatchSpec& m = rule.match;
  if (m.providers.empty() && m.channels.empty() && m.event_ids.empty() && m.levels.empty() &&
      m.fields.empty()) {
    return RuleError(rule, "match has no condition: the rule would match every event");
  }
  if (rule.correlation.window_seconds <= 0)
    return RuleError(rule, "correlation.window must be > 0");
  if (rule.correlation.threshold == 0) return RuleError(rule, "correlation.threshold must be >= 1");
  if (rule.correlation.suppress_seconds < 0) {
    return RuleError(rule, "correlation.suppress must be >= 0");
  }
  return Status::OK();
}

// Collects the rule files under `path` (itself, or a directory's .yaml/.yml/
// .json files, recursively, sorted by path so loading order is stable).
Status CollectFiles(const std::string& path, std::vector<std::string>* files) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return Status::NotFound("no such file or directory").At(path);
  }
  if (fs::is_regular_file(st)) {
    if (!IsRuleFileName(path)) {
      return Status::InvalidArgument("not a rule file (expected .yaml, .yml or .json)").At(path);
    }
    files->push_back(path);
    return Status::OK();
  }
  if (!fs::is_directory(st)) return Status::InvalidArgument("not a file or directory").At(path);
  std::vector<std::string> found;
  fs::recursive_directory_iterator it(path, fs::directory_options::follow_directory_symlink, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && IsRuleFileName(it->path())) found.push_back(it->path().string());
  }
  if (ec) return Status::IOError(fmt::format("cannot list directory: {}", ec.message())).At(path);
  if (found.empty()) return Status::NotFound("no rule files (.yaml, .yml, .json) found").At(path);
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return Status::OK();
}

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open").At(path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IOError("read failed").At(path);
  *out = std::move(buf).str();
  return Status::OK();
}

// The first of several errors, saying how many more there are.
Status Summarize(const std::vector<Status>& errors) {
  if (errors.size() == 1) return errors.front();
  std::string msg = fmt::format("{} (and {} more errors; 'eventsift rules check' lists them)",
                                errors.front().message(), errors.size() - 1);
  Status out = errors.front().code() == StatusCode::kNotFound ? Status::NotFound(std::move(msg))
               : errors.front().code() == StatusCode::kIOError
                   ? Status::IOError(std::move(msg))
                   : Status::InvalidArgument(std::move(msg));
  if (const Where* where = errors.front().where()) out.At(where->file, where->offset, where->line);
  return out;
}

}  // namespace

RuleSet::RuleSet(const BuildKey&) {}
RuleSet::~RuleSet() = default;

Result<std::shared_ptr<const RuleSet>> RuleSet::Load(const std::vector<std::string>& paths) {
  std::vector<Status> errors;
  auto set = Load(paths, &errors);
  if (!errors.empty()) return Summarize(errors);
  return set;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::Load(const std::vector<std::string>& paths,
                                                     std::vector<Status>* errors) {
  size_t errors_before = errors->size();
  std::vector<std::string> files;
  for (const auto& path : paths) {
    Status s = CollectFiles(path, &files);
    if (!s.ok()) errors->push_back(std::move(s));
  }
  SigmaPlaceholders placeholders;
  if (const char* env = std::getenv("EVENTSIFT_SIGMA_PLACEHOLDERS"); env != nullptr && *env) {
    Status s = LoadSigmaPlaceholders(env, &placeholders);
    if (!s.ok()) errors->push_back(std::move(s));
  }
  std::vector<Rule> rules;
  SigmaFileResult sigma;
  std::vector<SigmaCorrelation> correlations;
  std::vector<Status> correlation_errors;
  for (const auto& file : files) {
    std::string text;
    Status s = ReadFile(file, &text);
    if (!s.ok()) {
      errors->push_back(std::move(s));
      continue;
    }
    // Correlation documents may sit in either kind of file.
    if (LooksLikeSigma(text)) {
      ParseSigmaFile(text, file, placeholders, &sigma, &correlations, &correlation_errors);
    } else {
      ParseRuleFile(text, file, &rules, errors, &correlations, &correlation_errors);
    }
  }
  std::move(sigma.rules.begin(), sigma.rules.end(), std::back_inserter(rules));
  sigma.rules.clear();
  // Build even after parse errors: duplicate ids and bad regexes in the rules
  // that did parse are worth reporting in the same run.
  auto set = Build(std::move(rules), errors, &sigma, std::move(correlations),
                   std::move(correlation_errors));
  if (errors->size() > errors_before) return (*errors)[errors_before];
  return set;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::Parse(std::string_view text,
                                                      const std::string& file) {
  std::vector<Status> errors;
  std::vector<Rule> rules;
  SigmaFileResult sigma;
  std::vector<SigmaCorrelation> correlations;
  std::vector<Status> correlation_errors;
  if (LooksLikeSigma(text)) {
    ParseSigmaFile(text, file, SigmaPlaceholders{}, &sigma, &correlations, &correlation_errors);
    rules = std::move(sigma.rules);
  } else {
    ParseRuleFile(text, file, &rules, &errors, &correlations, &correlation_errors);
  }
  auto set = Build(std::move(rules), &errors, &sigma, std::move(correlations),
                   std::move(correlation_errors));
  if (!errors.empty()) return Summarize(errors);
  return set;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::FromRules(std::vector<Rule> rules) {
  std::vector<Status> errors;
  auto set = Build(std::move(rules), &errors);
  if (!errors.empty()) return Summarize(errors);
  return set;
}

size_t RuleSet::sigma_rule_count() const {
  return static_cast<size_t>(std::count_if(rules_.begin(), rules_.end(),
                                           [](const Rule& r) { return r.sigma != nullptr; }));
}

Result<std::shared_ptr<const RuleSet>> RuleSet::Build(std::vector<Rule> rules,
                                                      std::vector<Status>* errors,
                                                      SigmaFileResult* sigma,
                                                      std::vector<SigmaCorrelation> correlations,
                                                      std::vector<Status> correlation_errors) {
  size_t errors_before = errors->size();
  std::vector<Rule> good;
  good.reserve(rules.size());
  std::unordered_map<std::string, size_t> first_by_id;  // id -> index in `good`
  for (Rule& rule : rules) {
    if (rule.title.empty()) rule.title = rule.id;
    if (rule.severity.empty()) rule.severity = "medium";
    // Exact filters compare ASCII case-insensitively against lower-case names.
    for (auto& p : rule.match.providers) p = AsciiLower(p);
    for (auto& c : rule.match.channels) c = AsciiLower(c);
    // Sigma rules come from outside in bulk: one that fails is refused
    // without failing the others.
    std::vector<Status>* sink =
        rule.sigma != nullptr && sigma != nullptr ? &sigma->refused : errors;
    Status s = ValidateRule(rule);
    if (!s.ok()) {
      sink->push_back(std::move(s));
      continue;
    }
    auto [it, inserted] = first_by_id.emplace(rule.id, good.size());
    if (!inserted) {
      const Rule& first = good[it->second];
      sink->push_back(RuleError(
          rule, fmt::format("duplicate id (first defined at {}:{})", first.file, first.line)));
      continue;
    }
    good.push_back(std::move(rule));
  }
  auto compiled = CompiledRules::Build(good, errors);
  if (errors->size() > errors_before) return (*errors)[errors_before];
  auto set = std::make_shared<RuleSet>(BuildKey{});
  set->rules_ = std::move(good);
  // CompiledRules refers to rules by index, and to a Sigma rule's SigmaRule,
  // which its own allocation holds: moving the rules is safe.
  set->compiled_ = std::move(compiled);
  if (sigma != nullptr) set->sigma_refused_ = std::move(sigma->refused);
  set->AdoptCorrelations(std::move(correlations), std::move(correlation_errors));
  return std::shared_ptr<const RuleSet>(std::move(set));
}

std::vector<SigmaRuleRef> RuleSet::SigmaRefs() const {
  std::vector<SigmaRuleRef> refs;
  refs.reserve(rules_.size());
  for (const Rule& r : rules_) {
    refs.push_back(SigmaRuleRef{r.id, r.sigma != nullptr ? r.sigma->name : std::string()});
  }
  return refs;
}

void RuleSet::AdoptCorrelations(std::vector<SigmaCorrelation> found,
                                std::vector<Status> parse_errors) {
  correlation_refusals_ = std::move(parse_errors);
  SigmaResolution res = ResolveSigmaCorrelations(found, SigmaRefs());
  std::move(res.refused.begin(), res.refused.end(), std::back_inserter(correlation_refusals_));
  // Only fully resolved correlations stay; the engine resolves them again
  // against the same rules, so indexes need not be kept here.
  for (size_t i = 0; i < found.size(); ++i) {
    if (res.accepted[i]) sigma_correlations_.push_back(std::move(found[i]));
  }
}

std::vector<std::string> ShippedRulePaths(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> out;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == "sigma") continue;
    out.push_back(it->path().string());
  }
  if (ec || out.empty()) return {dir};  // so the error names the directory
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> DefaultRulePaths() {
  if (const char* env = std::getenv("EVENTSIFT_RULES"); env != nullptr && *env != '\0') {
    return {env};
  }
  std::error_code ec;
  const auto installed = InstalledPath(fs::path("share") / "eventsift" / "rules");
  if (installed && fs::is_directory(*installed, ec)) return ShippedRulePaths(installed->string());
  return ShippedRulePaths(ES_RULES_DIR);
}

}  // namespace eventsift::detect
