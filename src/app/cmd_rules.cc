// `eventsift rules check|list`: validate detection rules, or show what is
// loaded. Both load exactly as scan does (detect::RuleSet::Load, default
// paths from detect::DefaultRulePaths), so a clean check means scan loads.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "src/app/cli_args.h"
#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/core/json_writer.h"
#include "src/detect/rule_set.h"
#include "src/detect/sigma_rule.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kRulesHelp[] =
    "Usage: eventsift rules check [PATH...]\n"
    "       eventsift rules list [--format table|json] [PATH...]\n\n"
    "PATH is a rule file (.yaml, .yml, .json) or a directory searched recursively\n"
    "for them, loaded in path order. Without PATH, the rules scan uses: the path in\n"
    "$EVENTSIFT_RULES, else <binary dir>/../share/eventsift/rules, else the source\n"
    "tree's rules/. The rule format is docs/rules.md (schema:\n"
    "schemas/rule.schema.json).\n\n"
    "  check  load and compile every rule; print 'N rules OK', or every error (file,\n"
    "         line, rule id and reason) on stderr\n"
    "  list   print id, severity, title and file:line of each rule; --format json\n"
    "         prints a JSON array with every field, for scripts\n\n"
    "Examples:\n"
    "  eventsift rules check rules/\n"
    "  eventsift rules check my-rules/ rules/eems_mitigation_error.yaml\n"
    "  eventsift rules list\n"
    "  eventsift rules list --format json rules/ | jq -r '.[].id'\n\n"
    "Exit codes: 0 ok; 2 a rule or path is bad (or bad usage).\n\n"
    "Options";

// "file:line: rule 'id': reason" (the code name adds nothing for rules).
std::string FormatError(const Status& s) {
  if (const Where* where = s.where()) return fmt::format("{}: {}", where->ToString(), s.message());
  return std::string(s.message());
}

// Loads `paths` (or the defaults); prints every error and returns null on
// failure.
std::shared_ptr<const detect::RuleSet> LoadOrReport(std::vector<std::string> paths) {
  if (paths.empty()) paths = detect::DefaultRulePaths();
  std::vector<Status> errors;
  auto set = detect::RuleSet::Load(paths, &errors);
  if (set && errors.empty()) return set.value();
  for (const auto& e : errors) fmt::print(stderr, "{}\n", FormatError(e));
  fmt::print(stderr, "{} error{}\n", errors.size(), errors.size() == 1 ? "" : "s");
  return nullptr;
}

void PrintTable(const std::vector<detect::Rule>& rules) {
  size_t id_w = 2, sev_w = 8, title_w = 5;
  for (const auto& r : rules) {
    id_w = std::max(id_w, r.id.size());
    sev_w = std::max(sev_w, r.severity.size());
    title_w = std::max(title_w, r.title.size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "ID", id_w, "SEVERITY", sev_w,
                                "TITLE", title_w, "FILE");
  for (const auto& r : rules) {
    fmt::format_to(std::back_inserter(out), "{:<{}}  {:<{}}  {:<{}}  {}:{}\n", r.id, id_w,
                   r.severity, sev_w, r.title, title_w, r.file, r.line);
  }
  std::fputs(out.c_str(), stdout);
}

void StringArray(JsonWriter* w, std::string_view key, const std::vector<std::string>& values) {
  w->Key(key);
  w->BeginArray();
  for (const auto& v : values) w->String(v);
  w->EndArray();
}

void PrintJson(const std::vector<detect::Rule>& rules) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const auto& r : rules) {
    w.BeginObject();
    w.KV("id", r.id);
    w.KV("title", r.title);
    w.KV("severity", r.severity);
    w.KV("description", r.description);
    StringArray(&w, "references", r.references);
    w.KV("remediation", r.remediation);
    w.KV("file", r.file);
    w.KVInt("line", r.line);
    w.KV("format", r.sigma != nullptr ? "sigma" : "eventsift");
    if (r.sigma != nullptr) {
      w.Key("sigma");
      w.BeginObject();
      w.KV("name", r.sigma->name);
      w.KV("status", r.sigma->status);
      StringArray(&w, "tags", r.sigma->tags);
      StringArray(&w, "falsepositives", r.sigma->falsepositives);
      w.Key("logsource");
      w.BeginObject();
      w.KV("product", r.sigma->logsource.product);
      w.KV("category", r.sigma->logsource.category);
      w.KV("service", r.sigma->logsource.service);
      w.EndObject();
      w.EndObject();
    }
    w.Key("match");
    w.BeginObject();
    StringArray(&w, "providers", r.match.providers);  // lower-cased, as compared
    StringArray(&w, "channels", r.match.channels);
    w.Key("event_ids");
    w.BeginArray();
    for (uint32_t id : r.match.event_ids) w.UInt(id);
    w.EndArray();
    w.Key("levels");
    w.BeginArray();
    for (uint8_t level : r.match.levels) w.UInt(level);
    w.EndArray();
    w.KV("mode", r.match.mode == detect::CombineMode::kAll ? "all" : "any");
    w.Key("fields");
    w.BeginArray();
    for (const auto& f : r.match.fields) {
      w.BeginObject();
      w.KV("field", f.field.ToString());
      w.KV("regex", f.regex);
      w.KVBool("case_insensitive", f.case_insensitive);
      w.KVBool("negate", f.negate);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.Key("correlation");
    w.BeginObject();
    w.KVInt("window_seconds", r.correlation.window_seconds);
    w.KVUInt("threshold", r.correlation.threshold);
    w.KVInt("suppress_seconds", r.correlation.suppress_seconds);
    w.KVUInt("samples", r.correlation.max_samples);
    w.KV("emit", r.correlation.immediate() ? "immediate" : "window_end");
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  out.push_back('\n');
  std::fputs(out.c_str(), stdout);
}

// Sigma correlations: how many loaded, and each refusal (file:line:
// reason) on stderr; refusals do not fail the check of the other rules.
void PrintCorrelationCheck(const detect::RuleSet& set) {
  const size_t loaded = set.sigma_correlations().size();
  const size_t refused = set.correlation_refusals().size();
  if (loaded == 0 && refused == 0) return;
  for (const auto& e : set.correlation_refusals()) fmt::print(stderr, "{}\n", FormatError(e));
  fmt::print("{} Sigma correlation{} OK, {} refused\n", loaded, loaded == 1 ? "" : "s", refused);
}

}  // namespace

int RunRules(const std::vector<std::string>& args) {
  std::string format;
  std::vector<std::string> paths;
  po::options_description opts(kRulesHelp);
  opts.add_options()("help,h", "show this help")(
      "format,f", po::value(&format)->default_value("table"), "list: table or json");
  std::string sub;
  if (auto stop = ParseSubcommandArgs("rules", args, {"check", "list"}, opts, &sub, &paths)) {
    return *stop;
  }
  if (format != "table" && format != "json") {
    fmt::print(stderr, "eventsift rules: --format must be table or json, not '{}'\n", format);
    return kExitUsage;
  }

  auto set = LoadOrReport(paths);
  if (!set) return kExitUsage;
  if (sub == "check") {
    for (const Status& refused : set->sigma_refused()) {
      fmt::print(stderr, "{}\n", FormatError(refused));
    }
    const size_t sigma = set->sigma_rule_count();
    const size_t refused = set->sigma_refused().size();
    if (sigma + refused == 0) {
      fmt::print("{} rules OK\n", set->rules().size());
    } else {
      fmt::print("{} rules OK ({} eventsift, {} Sigma); {} Sigma rule{} refused{}\n",
                 set->rules().size(), set->rules().size() - sigma, sigma, refused,
                 refused == 1 ? "" : "s", refused > 0 ? " (listed on stderr)" : "");
    }
    PrintCorrelationCheck(*set);
    return kExitOk;
  }
  if (format == "json") {
    PrintJson(set->rules());
  } else {
    PrintTable(set->rules());
  }
  return kExitOk;
}

}  // namespace eventsift::app
