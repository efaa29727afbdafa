#include "src/detect/sigma_correlation_parser.h"

#include <algorithm>

#include <fmt/format.h>

#include "src/detect/yaml_util.h"

namespace eventsift::detect {

namespace {

constexpr std::string_view kCorrelationKeys[] = {"type",      "rules",   "group-by", "timespan",
                                                 "condition", "aliases", "field",    "generate"};
constexpr std::string_view kConditionKeys[] = {"gt", "gte", "lt", "lte", "eq", "neq", "field"};
constexpr std::string_view kLevels[] = {"informational", "low", "medium", "high", "critical"};
// A window longer than a year keeps state no operator expects; bounded so
// a typo ("365d" for "365m" is fine, "99999d" is not) cannot pin memory.
constexpr int64_t kMaxTimespanSeconds = 366LL * 86400;
constexpr size_t kMaxRules = 64;

class DocParser {
 public:
  DocParser(const YAML::Node& doc, const std::string& file) : doc_(doc), file_(file) {}

  Result<SigmaCorrelation> Parse() {
    SigmaCorrelation c;
    c.file = file_;
    c.line = LineOf(doc_);
    ES_RETURN_IF_ERROR(Meta(&c));
    const YAML::Node corr = doc_["correlation"];
    if (!corr.IsMap()) return Error(corr, "'correlation' must be a map");
    for (const auto& kv : corr) {
      const std::string key = kv.first.as<std::string>("");
      if (std::find(std::begin(kCorrelationKeys), std::end(kCorrelationKeys), key) ==
          std::end(kCorrelationKeys)) {
        return Error(kv.first, fmt::format("unknown key 'correlation.{}' (expected one of: {})",
                                           key, Join(kCorrelationKeys)));
      }
    }
    ES_RETURN_IF_ERROR(Type(corr, &c));
    ES_RETURN_IF_ERROR(Rules(corr, &c));
    ES_RETURN_IF_ERROR(StringList(corr["group-by"], "correlation.group-by", &c.group_by));
    ES_RETURN_IF_ERROR(Timespan(corr, &c));
    ES_RETURN_IF_ERROR(Condition(corr, &c));
    ES_RETURN_IF_ERROR(Aliases(corr, &c));
    for (const YAML::Node& g : {doc_["generate"], corr["generate"]}) {
      if (!g) continue;
      if (!g.IsScalar() || (g.Scalar() != "true" && g.Scalar() != "false")) {
        return Error(g, "'generate' must be true or false");
      }
      c.generate = g.Scalar() == "true";
    }
    return c;
  }

 private:
  Status Error(const YAML::Node& node, std::string reason) const {
    int line = LineOf(node);
    if (line == 0) line = LineOf(doc_);
    return Status::InvalidArgument(std::move(reason)).At(file_, Where::kNone, line);
  }

  Status String(const YAML::Node& n, std::string_view what, std::string* out) const {
    if (!n.IsScalar()) return Error(n, fmt::format("'{}' must be a string", what));
    *out = n.Scalar();
    return Status::OK();
  }

  // A list of strings, or one string.
  Status StringList(const YAML::Node& n, std::string_view what,
                    std::vector<std::string>* out) const {
    if (!n || n.IsNull()) return Status::OK();
    if (n.IsScalar()) {
      out->push_back(n.Scalar());
      return Status::OK();
    }
    if (!n.IsSequence()) return Error(n, fmt::format("'{}' must be a list of strings", what));
    for (const YAML::Node& item : n) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return Error(item, fmt::format("'{}' items must be non-empty strings", what));
      }
      if (std::find(out->begin(), out->end(), item.Scalar()) != out->end()) {
        return Error(item, fmt::format("'{}' lists '{}' twice", what, item.Scalar()));
      }
      out->push_back(item.Scalar());
    }
    return Status::OK();
  }

  Status Meta(SigmaCorrelation* c) const {
    const YAML::Node title = doc_["title"];
    if (!title) return Error(doc_, "a correlation needs a 'title'");
    ES_RETURN_IF_ERROR(String(title, "title", &c->title));
    if (c->title.empty()) return Error(title, "'title' is empty");
    struct Field {
      const char* key;
      std::string* out;
    };
    for (const Field& f :
         {Field{"id", &c->id}, Field{"name", &c->name}, Field{"description", &c->description},
          Field{"status", &c->status}, Field{"author", &c->author}}) {
      if (const YAML::Node n = doc_[f.key]) ES_RETURN_IF_ERROR(String(n, f.key, f.out));
    }
    if (const YAML::Node n = doc_["level"]) {
      ES_RETURN_IF_ERROR(String(n, "level", &c->level));
      if (std::find(std::begin(kLevels), std::end(kLevels), c->level) == std::end(kLevels)) {
        return Error(
            n, fmt::format("unknown level '{}' (expected one of: {})", c->level, Join(kLevels)));
      }
    }
    ES_RETURN_IF_ERROR(StringList(doc_["references"], "references", &c->references));
    ES_RETURN_IF_ERROR(StringList(doc_["falsepositives"], "falsepositives", &c->falsepositives));
    ES_RETURN_IF_ERROR(StringList(doc_["tags"], "tags", &c->tags));
    return Status::OK();
  }

  Status Type(const YAML::Node& corr, SigmaCorrelation* c) const {
    const YAML::Node n = corr["type"];
    std::string name;
    ES_RETURN_IF_ERROR(String(n, "correlation.type", &name));
    auto type = SigmaCorrelationTypeFromName(name);
    if (!type) {
      return Error(n, fmt::format("unsupported correlation type '{}' (supported: event_count, "
                                  "value_count, temporal, temporal_ordered, value_sum, "
                                  "value_avg, value_percentile)",
                                  name));
    }
    c->type = *type;
    return Status::OK();
  }

  Status Rules(const YAML::Node& corr, SigmaCorrelation* c) const {
    const YAML::Node n = corr["rules"];
    if (!n) return Error(corr, "'correlation.rules' is missing (the rules it correlates)");
    ES_RETURN_IF_ERROR(StringList(n, "correlation.rules", &c->rules));
    if (c->rules.empty()) return Error(n, "'correlation.rules' is empty");
    if (c->rules.size() > kMaxRules) {
      return Error(n, fmt::format("'correlation.rules' lists {} rules; at most {}", c->rules.size(),
                                  kMaxRules));
    }
    return Status::OK();
  }

  Status Timespan(const YAML::Node& corr, SigmaCorrelation* c) const {
    const YAML::Node n = corr["timespan"];
    if (!n) return Error(corr, "'correlation.timespan' is missing");
    std::string text;
    ES_RETURN_IF_ERROR(String(n, "correlation.timespan", &text));
    auto seconds = ParseSigmaTimespan(text);
    if (!seconds) {
      return Error(n,
                   fmt::format("bad timespan '{}' (a number and one of s, m, h, d: '5m')", text));
    }
    if (*seconds > kMaxTimespanSeconds) {
      return Error(n, fmt::format("timespan '{}' is longer than the 366 days allowed", text));
    }
    c->timespan_seconds = *seconds;
    return Status::OK();
  }

  Status Bound(const YAML::Node& n, const std::string& key, std::optional<double>* out) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      return Error(n, fmt::format("'correlation.condition.{}' must be a number", key));
    }
    *out = v;
    return Status::OK();
  }

  Status Condition(const YAML::Node& corr, SigmaCorrelation* c) const {
    const YAML::Node n = corr["condition"];
    const bool value_type = c->type == SigmaCorrelationType::kValueCount ||
                            c->type == SigmaCorrelationType::kValueSum ||
                            c->type == SigmaCorrelationType::kValueAvg ||
                            c->type == SigmaCorrelationType::kValuePercentile;
    const bool temporal = c->type == SigmaCorrelationType::kTemporal ||
                          c->type == SigmaCorrelationType::kTemporalOrdered;
    if (const YAML::Node f = corr["field"]) {
      ES_RETURN_IF_ERROR(String(f, "correlation.field", &c->field));
    }
    if (!n) {
      if (!temporal) {
        return Error(corr, fmt::format("'correlation.condition' is missing (needed by {})",
                                       SigmaCorrelationTypeName(c->type)));
      }
    } else {
      if (!n.IsMap() || n.size() == 0) {
        return Error(n, "'correlation.condition' must be a map such as {gte: 10}");
      }
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>("");
        if (key == "field") {
          std::string field;
          ES_RETURN_IF_ERROR(String(kv.second, "correlation.condition.field", &field));
          if (!c->field.empty() && c->field != field) {
            return Error(kv.second, "'field' given twice with different values");
          }
          c->field = field;
          continue;
        }
        std::optional<double>* bound = key == "gt"    ? &c->condition.gt
                                       : key == "gte" ? &c->condition.gte
                                       : key == "lt"  ? &c->condition.lt
                                       : key == "lte" ? &c->condition.lte
                                       : key == "eq"  ? &c->condition.eq
                                       : key == "neq" ? &c->condition.neq
                                                      : nullptr;
        if (bound == nullptr) {
          return Error(kv.first, fmt::format("unknown condition '{}' (expected one of: {})", key,
                                             Join(kConditionKeys)));
        }
        ES_RETURN_IF_ERROR(Bound(kv.second, key, bound));
      }
      if (c->condition.Empty()) {
        return Error(n, "'correlation.condition' holds no comparison (gt, gte, lt, lte, eq, neq)");
      }
    }
    if (value_type && c->field.empty()) {
      return Error(n ? n : corr, fmt::format("{} needs 'field' in its condition (the field whose "
                                             "values it aggregates)",
                                             SigmaCorrelationTypeName(c->type)));
    }
    if (!value_type && !c->field.empty()) {
      return Error(n ? n : corr, fmt::format("'field' is used by value_* correlations only, not {}",
                                             SigmaCorrelationTypeName(c->type)));
    }
    return Status::OK();
  }

  Status Aliases(const YAML::Node& corr, SigmaCorrelation* c) const {
    const YAML::Node n = corr["aliases"];
    if (!n || n.IsNull()) return Status::OK();
    if (!n.IsMap()) return Error(n, "'correlation.aliases' must be a map: alias -> rule -> field");
    for (const auto& alias : n) {
      const std::string name = alias.first.as<std::string>("");
      if (!alias.second.IsMap()) {
        return Error(alias.second, fmt::format("alias '{}' must map rule names to fields", name));
      }
      auto& per_rule = c->aliases[name];
      for (const auto& kv : alias.second) {
        const std::string rule = kv.first.as<std::string>("");
        if (std::find(c->rules.begin(), c->rules.end(), rule) == c->rules.end()) {
          return Error(kv.first, fmt::format("alias '{}' names rule '{}', which is not in "
                                             "'correlation.rules'",
                                             name, rule));
        }
        std::string field;
        ES_RETURN_IF_ERROR(String(kv.second, "correlation.aliases", &field));
        per_rule[rule] = field;
      }
    }
    return Status::OK();
  }

  const YAML::Node& doc_;
  const std::string& file_;
};

}  // namespace

bool IsSigmaCorrelationDocument(const YAML::Node& doc) {
  if (!doc.IsMap()) return false;
  const YAML::Node corr = doc["correlation"];
  return corr && corr.IsMap() && corr["type"];
}

Result<SigmaCorrelation> ParseSigmaCorrelation(const YAML::Node& doc, const std::string& file) {
  try {
    return DocParser(doc, file).Parse();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("bad correlation: {}", e.msg))
        .At(file, Where::kNone, e.mark.line >= 0 ? e.mark.line + 1 : 0);
  }
}

Status SigmaCorrelationYamlError(const YAML::Exception& e, const std::string& file) {
  return Status::InvalidArgument(fmt::format("not valid YAML: {}", e.msg))
      .At(file, Where::kNone, e.mark.line >= 0 ? e.mark.line + 1 : 0);
}

void ParseSigmaCorrelations(std::string_view text, const std::string& file,
                            std::vector<SigmaCorrelation>* out, std::vector<Status>* errors) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    errors->push_back(SigmaCorrelationYamlError(e, file));
    return;
  }
  ParseSigmaCorrelations(docs, file, out, errors);
}

void ParseSigmaCorrelations(const std::vector<YAML::Node>& docs, const std::string& file,
                            std::vector<SigmaCorrelation>* out, std::vector<Status>* errors) {
  for (const YAML::Node& doc : docs) {
    if (!IsSigmaCorrelationDocument(doc)) continue;
    auto c = ParseSigmaCorrelation(doc, file);
    if (c) {
      out->push_back(std::move(c).value());
    } else {
      errors->push_back(c.error());
    }
  }
}

}  // namespace eventsift::detect
