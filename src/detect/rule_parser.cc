#include "src/detect/rule_parser.h"

#include <charconv>
#include <span>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "src/detect/sigma_correlation_parser.h"
#include "src/detect/yaml_util.h"

namespace eventsift::detect {

namespace {

constexpr std::string_view kRuleKeys[] = {"id",       "title",       "description",
                                          "severity", "kind",        "references",
                                          "match",    "correlation", "remediation"};
constexpr std::string_view kMatchKeys[] = {"providers", "channels", "event_ids",
                                           "levels",    "fields",   "mode"};
constexpr std::string_view kFieldKeys[] = {"field", "regex", "case_insensitive", "negate"};
constexpr std::string_view kCorrelationKeys[] = {"window", "threshold", "suppress", "samples",
                                                 "emit"};

// Bounds that keep a typo from turning into a resource problem.
constexpr uint64_t kMaxSamples = 1000;

// Parses the rules of one file. Each rule stops at its first error; the
// next rule is still read so `rules check` reports them all at once.
class Parser {
 public:
  Parser(const std::string& file, std::vector<Rule>* rules, std::vector<Status>* errors)
      : file_(file), rules_(rules), errors_(errors) {}

  // `correlations` null: correlation documents are skipped, not read.
  void ParseText(std::string_view text, std::vector<SigmaCorrelation>* correlations,
                 std::vector<Status>* correlation_errors) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      errors_->push_back(Status::InvalidArgument(fmt::format("not valid YAML/JSON: {}", e.msg))
                             .At(file_, Where::kNone, e.mark.line >= 0 ? e.mark.line + 1 : 0));
      if (correlations != nullptr)
        correlation_errors->push_back(SigmaCorrelationYamlError(e, file_));
      return;
    }
    if (correlations != nullptr) {
      ParseSigmaCorrelations(docs, file_, correlations, correlation_errors);
    }
    size_t parsed = 0;
    for (const YAML::Node& doc : docs) {
      if (doc.IsNull()) continue;  // an empty document, e.g. after a trailing ---
      ++parsed;
      ParseDocument(doc);
    }
    if (parsed == 0) {
      errors_->push_back(
          Status::InvalidArgument("the file holds no rule (expected a rule or 'rules:' list)")
              .At(file_, Where::kNone, 1));
    }
  }

 private:
  void ParseDocument(const YAML::Node& doc) {
    // Sigma correlations are read by sigma_correlation_parser (RuleSet::Load).
    if (IsSigmaCorrelationDocument(doc)) return;
    if (doc.IsMap() && doc.size() > 1 && doc["rules"] && !doc["id"]) {
      errors_->push_back(
          Status::InvalidArgument("a file with a 'rules:' list holds no other top-level key")
              .At(file_, Where::kNone, LineOf(doc)));
      return;
    }
    if (doc.IsMap() && doc.size() == 1 && doc["rules"]) {
      const YAML::Node list = doc["rules"];
      if (!list.IsSequence()) {
        errors_->push_back(Status::InvalidArgument("'rules' must be a list of rules")
                               .At(file_, Where::kNone, LineOf(list)));
        return;
      }
      for (const YAML::Node& rule : list) ParseOne(rule);
      return;
    }
    ParseOne(doc);
  }

  void ParseOne(const YAML::Node& node) {
    ++ordinal_;
    id_.clear();
    Rule rule;
    rule.file = file_;
    rule.line = LineOf(node);
    Status status;
    try {
      status = ParseRule(node, &rule);
    } catch (const YAML::Exception& e) {
      // Accessors are type-checked before use, so this is a yaml-cpp surprise;
      // it still names the rule instead of escaping the loader.
      status = Error(node, fmt::format("unreadable: {}", e.msg));
    }
    if (status.ok()) {
      rules_->push_back(std::move(rule));
    } else {
      errors_->push_back(std::move(status));
    }
  }

  Status Error(const YAML::Node& at, const std::string& reason) const {
    std::string who =
        id_.empty() ? fmt::format("rule #{} (no id)", ordinal_) : fmt::format("rule '{}'", id_);
    return Status::InvalidArgument(fmt::format("{}: {}", who, reason))
        .At(file_, Where::kNone, static_cast<uint64_t>(LineOf(at)));
  }

  Status CheckKeys(const YAML::Node& map, std::string_view path,
                   std::span<const std::string_view> allowed) const {
    if (!map.IsMap()) return Error(map, fmt::format("{} must be a mapping", path));
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar())
        return Error(it->first, fmt::format("{}: keys must be strings", path));
      const std::string& key = it->first.Scalar();
      bool known = false;
      for (std::string_view a : allowed) known = known || a == key;
      if (!known) {
        return Error(it->first, fmt::format("{}unknown key '{}' (allowed: {})",
                                            path.empty() ? "" : fmt::format("{}: ", path), key,
                                            Join(allowed)));
      }
      for (const auto& s : seen) {
        if (s == key) return Error(it->first, fmt::format("duplicate key '{}'", key));
      }
      seen.push_back(key);
    }
    return Status::OK();
  }

  Status GetString(const YAML::Node& node, std::string_view path, std::string* out) const {
    if (!node.IsScalar()) return Error(node, fmt::format("{} must be a string", path));
    *out = node.Scalar();
    return Status::OK();
  }

  // A list of non-empty strings; a single string is taken as a list of one.
  Status GetStringList(const YAML::Node& node, std::string_view path,
                       std::vector<std::string>* out) const {
    if (node.IsScalar()) {
      if (node.Scalar().empty()) return Error(node, fmt::format("{}: empty string", path));
      out->push_back(node.Scalar());
      return Status::OK();
    }
    if (!node.IsSequence()) return Error(node, fmt::format("{} must be a list of strings", path));
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      if (!item.IsScalar() || item.Scalar().empty()) {
        return Error(item, fmt::format("{}[{}] must be a non-empty string", path, i));
      }
      out->push_back(item.Scalar());
    }
    return Status::OK();
  }

  Status GetUint(const YAML::Node& node, std::string_view path, uint64_t min, uint64_t max,
                 uint64_t* out) const {
    uint64_t v = 0;
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size() && !s.empty() && v >= min && v <= max) {
        *out = v;
        return Status::OK();
      }
    }
    return Error(node, fmt::format("{} must be an integer from {} to {}", path, min, max));
  }

  Status GetBool(const YAML::Node& node, std::string_view path, bool* out) const {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") {
        *out = true;
        return Status::OK();
      }
      if (s == "false" || s == "False" || s == "FALSE") {
        *out = false;
        return Status::OK();
      }
    }
    return Error(node, fmt::format("{} must be true or false", path));
  }

  // "24h", "30m", "1h30m" or a number of seconds.
  Status GetDuration(const YAML::Node& node, std::string_view path, bool allow_zero,
                     int64_t* out) const {
    if (node.IsScalar()) {
      std::optional<int64_t> seconds = ParseDuration(node.Scalar());
      if (seconds && (allow_zero || *seconds > 0)) {
        *out = *seconds;
        return Status::OK();
      }
    }
    return Error(node, fmt::format("{} must be a {}duration such as 30m, 24h, 1h30m or seconds",
                                   path, allow_zero ? "" : "non-zero "));
  }

  Status ParseRule(const YAML::Node& node, Rule* rule) {
    if (!node.IsMap()) return Error(node, "a rule must be a mapping");
    // The id first, so every later error can name the rule.
    if (const YAML::Node id = node["id"]) {
      ES_RETURN_IF_ERROR(GetString(id, "id", &rule->id));
      id_ = rule->id;
    } else {
      return Error(node, "missing required key 'id'");
    }
    ES_RETURN_IF_ERROR(CheckKeys(node, "", kRuleKeys));
    if (const YAML::Node n = node["title"]) ES_RETURN_IF_ERROR(GetString(n, "title", &rule->title));
    if (const YAML::Node n = node["description"]) {
      ES_RETURN_IF_ERROR(GetString(n, "description", &rule->description));
    }
    if (const YAML::Node n = node["severity"]) {
      ES_RETURN_IF_ERROR(GetString(n, "severity", &rule->severity));
    }
    if (const YAML::Node n = node["kind"]) {
      std::string kind;
      ES_RETURN_IF_ERROR(GetString(n, "kind", &kind));
      if (kind == "state") {
        rule->kind = RuleKind::kState;
      } else if (kind != "alert") {
        return Error(n, fmt::format("kind must be alert or state, not '{}'", kind));
      }
    }
    if (const YAML::Node n = node["references"]) {
      ES_RETURN_IF_ERROR(GetStringList(n, "references", &rule->references));
    }
    if (const YAML::Node n = node["remediation"]) {
      ES_RETURN_IF_ERROR(GetString(n, "remediation", &rule->remediation));
    }
    const YAML::Node match = node["match"];
    if (!match) return Error(node, "missing required key 'match'");
    ES_RETURN_IF_ERROR(ParseMatch(match, &rule->match));
    if (const YAML::Node n = node["correlation"]) {
      ES_RETURN_IF_ERROR(ParseCorrelation(n, &rule->correlation));
    }
    return Status::OK();
  }

  Status ParseMatch(const YAML::Node& node, MatchSpec* match) const {
    ES_RETURN_IF_ERROR(CheckKeys(node, "match", kMatchKeys));
    if (const YAML::Node n = node["providers"]) {
      ES_RETURN_IF_ERROR(GetStringList(n, "match.providers", &match->providers));
    }
    if (const YAML::Node n = node["channels"]) {
      ES_RETURN_IF_ERROR(GetStringList(n, "match.channels", &match->channels));
    }
    if (const YAML::Node n = node["event_ids"]) {
      if (!n.IsSequence()) return Error(n, "match.event_ids must be a list of integers");
      for (size_t i = 0; i < n.size(); ++i) {
        uint64_t id = 0;
        ES_RETURN_IF_ERROR(
            GetUint(n[i], fmt::format("match.event_ids[{}]", i), 0, UINT32_MAX, &id));
        match->event_ids.push_back(static_cast<uint32_t>(id));
      }
    }
    if (const YAML::Node n = node["levels"]) {
      if (!n.IsSequence()) return Error(n, "match.levels must be a list");
      for (size_t i = 0; i < n.size(); ++i) {
        ES_RETURN_IF_ERROR(ParseLevel(n[i], i, match));
      }
    }
    if (const YAML::Node n = node["mode"]) {
      std::string mode;
      ES_RETURN_IF_ERROR(GetString(n, "match.mode", &mode));
      if (mode == "all") {
        match->mode = CombineMode::kAll;
      } else if (mode == "any") {
        match->mode = CombineMode::kAny;
      } else {
        return Error(n, fmt::format("match.mode must be 'all' or 'any', not '{}'", mode));
      }
    }
    if (const YAML::Node n = node["fields"]) {
      if (!n.IsSequence()) return Error(n, "match.fields must be a list of conditions");
      for (size_t i = 0; i < n.size(); ++i) {
        FieldCondition cond;
        ES_RETURN_IF_ERROR(ParseCondition(n[i], fmt::format("match.fields[{}]", i), &cond));
        match->fields.push_back(std::move(cond));
      }
    }
    if (match->providers.empty() && match->channels.empty() && match->event_ids.empty() &&
        match->levels.empty() && match->fields.empty()) {
      return Error(node, "match has no condition: the rule would match every event");
    }
    return Status::OK();
  }

  Status ParseLevel(const YAML::Node& node, size_t i, MatchSpec* match) const {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      uint8_t level = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), level);
      if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) {
        match->levels.push_back(level);
        return Status::OK();
      }
      // Lower-case names only, as schemas/rule.schema.json enumerates them.
      std::optional<uint8_t> named = s == AsciiLower(s) ? LevelFromName(s) : std::nullopt;
      if (named) {
        match->levels.push_back(*named);
        return Status::OK();
      }
    }
    return Error(node, fmt::format("match.levels[{}] must be a level number (0-255) or one of "
                                   "critical, error, warning, information, verbose, logalways",
                                   i));
  }

  Status ParseCondition(const YAML::Node& node, const std::string& path,
                        FieldCondition* cond) const {
    ES_RETURN_IF_ERROR(CheckKeys(node, path, kFieldKeys));
    cond->line = LineOf(node);
    const YAML::Node field = node["field"];
    if (!field) return Error(node, fmt::format("{}: missing required key 'field'", path));
    std::string name;
    ES_RETURN_IF_ERROR(GetString(field, path + ".field", &name));
    std::optional<FieldRef> ref = ParseFieldRef(name);
    if (!ref) {
      return Error(field, fmt::format("{}: unknown field '{}' (expected provider, provider_guid, "
                                      "channel, computer, user_sid, message, event_id, level, "
                                      "task, opcode, keywords, record_id, data.<Name>, data.*, "
                                      "message|data.* or any)",
                                      path, name));
    }
    cond->field = std::move(*ref);
    const YAML::Node regex = node["regex"];
    if (!regex) return Error(node, fmt::format("{}: missing required key 'regex'", path));
    ES_RETURN_IF_ERROR(GetString(regex, path + ".regex", &cond->regex));
    if (cond->regex.empty()) {
      return Error(regex, fmt::format("{}.regex is empty (it would match everything)", path));
    }
    if (const YAML::Node n = node["case_insensitive"]) {
      ES_RETURN_IF_ERROR(GetBool(n, path + ".case_insensitive", &cond->case_insensitive));
    }
    if (const YAML::Node n = node["negate"]) {
      ES_RETURN_IF_ERROR(GetBool(n, path + ".negate", &cond->negate));
    }
    return Status::OK();
  }

  Status ParseCorrelation(const YAML::Node& node, CorrelationSpec* spec) const {
    ES_RETURN_IF_ERROR(CheckKeys(node, "correlation", kCorrelationKeys));
    if (const YAML::Node n = node["window"]) {
      ES_RETURN_IF_ERROR(GetDuration(n, "correlation.window", false, &spec->window_seconds));
    }
    if (const YAML::Node n = node["suppress"]) {
      ES_RETURN_IF_ERROR(GetDuration(n, "correlation.suppress", true, &spec->suppress_seconds));
    }
    if (const YAML::Node n = node["threshold"]) {
      ES_RETURN_IF_ERROR(GetUint(n, "correlation.threshold", 1, UINT32_MAX, &spec->threshold));
    }
    if (const YAML::Node n = node["samples"]) {
      uint64_t samples = 0;
      ES_RETURN_IF_ERROR(GetUint(n, "correlation.samples", 0, kMaxSamples, &samples));
      spec->max_samples = static_cast<uint32_t>(samples);
    }
    if (const YAML::Node n = node["emit"]) {
      std::string emit;
      ES_RETURN_IF_ERROR(GetString(n, "correlation.emit", &emit));
      if (emit == "immediate") {
        spec->emit = EmitMode::kImmediate;
      } else if (emit == "window_end") {
        spec->emit = EmitMode::kWindowEnd;
      } else {
        return Error(
            n, fmt::format("correlation.emit must be 'immediate' or 'window_end', not '{}'", emit));
      }
    }
    return Status::OK();
  }

  const std::string& file_;
  std::vector<Rule>* rules_;
  std::vector<Status>* errors_;
  int ordinal_ = 0;  // 1-based position of the current rule in the file
  std::string id_;   // the current rule's id, once read
};

}  // namespace

void ParseRuleFile(std::string_view text, const std::string& file, std::vector<Rule>* rules,
                   std::vector<Status>* errors) {
  Parser(file, rules, errors).ParseText(text, nullptr, nullptr);
}

void ParseRuleFile(std::string_view text, const std::string& file, std::vector<Rule>* rules,
                   std::vector<Status>* errors, std::vector<SigmaCorrelation>* correlations,
                   std::vector<Status>* correlation_errors) {
  Parser(file, rules, errors).ParseText(text, correlations, correlation_errors);
}

}  // namespace eventsift::detect
