#include "src/detect/sigma_parser.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "src/detect/regex_limits.h"
#include "src/detect/sigma_condition.h"
#include "src/detect/sigma_correlation_parser.h"
#include "src/detect/sigma_logsource.h"
#include "src/detect/sigma_rule.h"

namespace eventsift::detect {

namespace {

int LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

// A copy of `base` with `over`'s keys laid on top, maps merged recursively
// (rule collections: action global and repeat).
YAML::Node Merge(const YAML::Node& base, const YAML::Node& over) {
  if (!base || !base.IsMap() || !over.IsMap()) return YAML::Clone(over);
  YAML::Node out = YAML::Clone(base);
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key == "action") continue;
    YAML::Node existing = out[key];
    out[key] = existing ? Merge(existing, it->second) : YAML::Clone(it->second);
  }
  return out;
}

// A refusal or error raised somewhere below a rule, with the line it is at.
struct Refusal {
  Status status;
  int line = 0;
};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty() || s.size() > 64) return false;
  std::string copy(s);
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

// Compiles one rule's detection under one logsource variant into nodes,
// conditions (Rule::match.fields) and checks.
class DetectionCompiler {
 public:
  DetectionCompiler(Rule* rule, SigmaRule* sigma, const SigmaPlaceholders& placeholders,
                    std::unordered_map<std::string, std::string>* verdicts)
      : rule_(rule), sigma_(sigma), placeholders_(placeholders), verdicts_(verdicts) {}

  // The root node of the detection's condition under `variant`.
  Status Compile(const YAML::Node& detection, const LogsourceVariant& variant, uint32_t* root,
                 int* line) {
    variant_ = &variant;
    line_ = line;
    std::vector<std::pair<std::string, uint32_t>> selections;
    YAML::Node condition;
    for (auto it = detection.begin(); it != detection.end(); ++it) {
      const std::string name = it->first.Scalar();
      if (name == "condition") {
        condition = it->second;
        continue;
      }
      if (name == "timeframe") continue;  // only meaningful with aggregations (refused)
      *line_ = LineOf(it->first);
      uint32_t node = 0;
      ES_RETURN_IF_ERROR(Selection(it->second, &node));
      selections.emplace_back(name, node);
    }
    if (!condition) return Status::InvalidArgument("detection has no 'condition'");
    *line_ = LineOf(condition);
    std::vector<std::string> conditions;
    if (condition.IsScalar()) {
      conditions.push_back(condition.Scalar());
    } else if (condition.IsSequence()) {
      for (const auto& c : condition) {
        if (!c.IsScalar()) return Status::InvalidArgument("condition list must hold strings");
        conditions.push_back(c.Scalar());
      }
    } else {
      return Status::InvalidArgument("condition must be a string or a list of strings");
    }
    std::vector<uint32_t> roots;
    for (const auto& c : conditions) {
      uint32_t r = 0;
      ES_RETURN_IF_ERROR(ParseSigmaCondition(c, selections, &sigma_->nodes, &r));
      roots.push_back(r);
    }
    *root = roots.size() == 1 ? roots[0] : Add({SigmaNode::Kind::kOr, 0, 0, roots});
    return Status::OK();
  }

  uint32_t Add(SigmaNode node) {
    sigma_->nodes.push_back(std::move(node));
    return static_cast<uint32_t>(sigma_->nodes.size() - 1);
  }

  uint32_t AddCheck(SigmaCheck check) {
    sigma_->checks.push_back(std::move(check));
    return Add({SigmaNode::Kind::kCheck, static_cast<uint32_t>(sigma_->checks.size() - 1), 0, {}});
  }

 private:
  // A selection: a map (all fields), a list of maps (any), a list of
  // keywords, or one keyword.
  Status Selection(const YAML::Node& node, uint32_t* out) {
    if (node.IsMap()) return FieldMap(node, out);
    if (node.IsScalar()) return Values(Keywords(), {}, node, out);
    if (node.IsSequence()) {
      bool all_scalars = true;
      for (const auto& item : node) all_scalars = all_scalars && (item.IsScalar() || item.IsNull());
      if (all_scalars) return Values(Keywords(), {}, node, out);
      SigmaNode any{SigmaNode::Kind::kOr, 0, 0, {}};
      for (const auto& item : node) {
        uint32_t child = 0;
        if (item.IsMap()) {
          ES_RETURN_IF_ERROR(FieldMap(item, &child));
        } else if (item.IsScalar()) {
          ES_RETURN_IF_ERROR(Values(Keywords(), {}, item, &child));
        } else {
          return Status::Unsupported("a selection list item that is neither a map nor a value");
        }
        any.children.push_back(child);
      }
      *out = Add(std::move(any));
      return Status::OK();
    }
    return Status::InvalidArgument("a selection must be a map, a list or a value");
  }

  static FieldRef Keywords() { return FieldRef{FieldKind::kMessageOrDataAny, {}}; }

  Status FieldMap(const YAML::Node& map, uint32_t* out) {
    SigmaNode all{SigmaNode::Kind::kAnd, 0, 0, {}};
    for (auto it = map.begin(); it != map.end(); ++it) {
      *line_ = LineOf(it->first);
      std::vector<std::string> parts = Split(it->first.Scalar(), '|');
      std::string field = parts.front();
      parts.erase(parts.begin());
      SigmaModifiers mods;
      ES_RETURN_IF_ERROR(ParseModifiers(parts, &mods));
      FieldRef ref = field.empty() ? Keywords() : SigmaFieldRef(field, *variant_);
      if (!field.empty()) NoteField(field, ref);
      uint32_t child = 0;
      ES_RETURN_IF_ERROR(Values(ref, mods, it->second, &child, field.empty()));
      all.children.push_back(child);
    }
    if (all.children.size() == 1) {
      *out = all.children[0];
    } else {
      *out = Add(std::move(all));
    }
    return Status::OK();
  }

  void NoteField(const std::string& name, const FieldRef& ref) {
    auto& fields = sigma_->fields;
    auto same = [&](const auto& f) { return f.first == name && f.second == ref; };
    if (std::none_of(fields.begin(), fields.end(), same)) fields.emplace_back(name, ref);
  }

  // One field's value or list of values: any of them (all with |all).
  Status Values(const FieldRef& ref, const SigmaModifiers& mods, const YAML::Node& node,
                uint32_t* out, bool keyword = true) {
    const bool is_keyword = keyword;
    if (node.IsMap()) return Status::Unsupported("a map as a field value");
    std::vector<YAML::Node> items;
    if (node.IsSequence()) {
      for (const auto& item : node) items.push_back(item);
    } else {
      items.push_back(node);
    }
    if (items.empty()) return Status::InvalidArgument("an empty list of values");
    SigmaNode combined{mods.all ? SigmaNode::Kind::kAnd : SigmaNode::Kind::kOr, 0, 0, {}};
    for (const YAML::Node& item : items) {
      if (item.IsMap() || item.IsSequence()) {
        return Status::Unsupported("a nested list or map as a field value");
      }
      uint32_t leaf = 0;
      ES_RETURN_IF_ERROR(Leaf(ref, mods, item, is_keyword, &leaf));
      combined.children.push_back(leaf);
    }
    *out = combined.children.size() == 1 ? combined.children[0] : Add(std::move(combined));
    return Status::OK();
  }

  Status Leaf(const FieldRef& ref, const SigmaModifiers& mods, const YAML::Node& item, bool keyword,
              uint32_t* out) {
    if (item.IsNull()) {
      SigmaCheck check;
      check.kind = SigmaCheck::Kind::kNull;
      check.field = ref;
      *out = AddCheck(std::move(check));
      return Status::OK();
    }
    const std::string& value = item.Scalar();
    if (mods.exists) {
      bool want = value == "true" || value == "True" || value == "yes";
      if (!want && value != "false" && value != "False" && value != "no") {
        return Status::InvalidArgument("exists takes true or false");
      }
      SigmaCheck check;
      check.kind = SigmaCheck::Kind::kExists;
      check.field = ref;
      uint32_t node = AddCheck(std::move(check));
      *out = want ? node : Add({SigmaNode::Kind::kNot, 0, 0, {node}});
      return Status::OK();
    }
    if (mods.compare) {
      SigmaCheck check;
      check.kind = SigmaCheck::Kind::kNumber;
      check.op = *mods.compare;
      check.field = ref;
      if (!ParseNumber(value, &check.number)) {
        return Status::InvalidArgument(fmt::format("gt/gte/lt/lte need a number, not '{}'", value));
      }
      *out = AddCheck(std::move(check));
      return Status::OK();
    }
    if (mods.cidr) {
      SigmaCheck check;
      check.kind = SigmaCheck::Kind::kCidr;
      check.field = ref;
      ES_RETURN_IF_ERROR(ParseCidr(value, &check));
      *out = AddCheck(std::move(check));
      return Status::OK();
    }
    if (mods.fieldref) {
      SigmaCheck check;
      check.kind = SigmaCheck::Kind::kFieldRef;
      check.field = ref;
      check.other = SigmaFieldRef(value, *variant_);
      check.cased = mods.cased;
      check.op = mods.contains     ? SigmaCheck::Op::kContains
                 : mods.startswith ? SigmaCheck::Op::kStartsWith
                 : mods.endswith   ? SigmaCheck::Op::kEndsWith
                                   : SigmaCheck::Op::kEq;
      *out = AddCheck(std::move(check));
      return Status::OK();
    }
    SigmaModifiers effective = mods;
    // A keyword is looked for anywhere in the event's text.
    if (keyword && !mods.re && !mods.startswith && !mods.endswith) effective.contains = true;
    SigmaPatterns patterns;
    ES_RETURN_IF_ERROR(SigmaValuePatterns(value, effective, placeholders_, &patterns));
    // The per-regex cost bound (regex_limits.h) refuses this rule alone.
    for (const std::string& re : patterns.regexes) {
      const std::string& why = Verdict(re, patterns.cased);
      if (!why.empty())
        return Status::Unsupported(fmt::format("regex '{}'{}", RegexForMessage(re), why));
    }
    SigmaNode any{SigmaNode::Kind::kOr, 0, 0, {}};
    for (std::string& re : patterns.regexes) {
      any.children.push_back(Condition(ref, std::move(re), !patterns.cased));
    }
    if (any.children.empty()) return Status::InvalidArgument("a value with no pattern");
    *out = any.children.size() == 1 ? any.children[0] : Add(std::move(any));
    return Status::OK();
  }

  // What follows "regex '...'" in the refusal of `re`, or "" when RE2 takes
  // it within the limits; each distinct regex is compiled once per load.
  const std::string& Verdict(const std::string& re, bool cased) {
    auto [it, inserted] = verdicts_->try_emplace((cased ? "c" : "i") + re);
    if (!inserted) return it->second;
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(cased);
    RE2 compiled(re, options);
    if (!compiled.ok()) {
      it->second = fmt::format(" that RE2 rejects: {}", compiled.error());
    } else if (std::string why = RegexLimitError(compiled); !why.empty()) {
      it->second = ": " + why;
    }
    return it->second;
  }

  // A regex condition; identical ones (same field, regex and case) share one.
  // Found through maps: a rule may list hundreds of values, and a linear
  // search per value made loading such a rule quadratic.
  uint32_t Condition(const FieldRef& ref, std::string regex, bool case_insensitive) {
    auto& fields = rule_->match.fields;
    std::vector<uint32_t>& same_regex = fields_by_regex_[regex];
    auto found = std::find_if(same_regex.begin(), same_regex.end(), [&](uint32_t i) {
      return fields[i].field == ref && fields[i].case_insensitive == case_insensitive;
    });
    uint32_t index = 0;
    if (found != same_regex.end()) {
      index = *found;
    } else {
      index = static_cast<uint32_t>(fields.size());
      same_regex.push_back(index);
      // Leaf compiled every regex it passes here, within the limits.
      fields.push_back(
          FieldCondition{ref, std::move(regex), case_insensitive, false, *line_, true});
    }
    // Only this function makes condition nodes, so the map knows them all.
    auto [it, inserted] = node_of_condition_.emplace(index, 0);
    if (inserted) it->second = Add({SigmaNode::Kind::kCondition, index, 0, {}});
    return it->second;
  }

  Rule* rule_;
  SigmaRule* sigma_;
  std::unordered_map<std::string, std::vector<uint32_t>> fields_by_regex_;  // -> fields indexes
  std::unordered_map<uint32_t, uint32_t> node_of_condition_;  // fields index -> its node
  const SigmaPlaceholders& placeholders_;
  std::unordered_map<std::string, std::string>* verdicts_;  // SigmaFileResult::regex_verdicts
  const LogsourceVariant* variant_ = nullptr;
  int* line_ = nullptr;
};

// Optional string or list-of-strings metadata; anything else is ignored
// (metadata never decides whether a rule loads).
std::vector<std::string> StringList(const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node) return out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (item.IsScalar()) out.push_back(item.Scalar());
    }
  }
  return out;
}

std::string String(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

// The event ids an event must have for the condition under `node` to hold,
// or nullopt when any id could do. Lets rules that name EventID in their
// detection (service: security, system, ...) be indexed by id.
std::optional<std::vector<uint32_t>> RequiredEventIds(const Rule& rule, const SigmaRule& sigma,
                                                      uint32_t node_index) {
  const SigmaNode& node = sigma.nodes[node_index];
  switch (node.kind) {
    case SigmaNode::Kind::kCondition: {
      const FieldCondition& c = rule.match.fields[node.index];
      // Plain EventID values compile to (?s)^digits$.
      constexpr std::string_view kPrefix = "(?s)^";
      std::string_view re = c.regex;
      if (c.field.kind != FieldKind::kEventId || !re.starts_with(kPrefix) || !re.ends_with('$')) {
        return std::nullopt;
      }
      std::string_view digits = re.substr(kPrefix.size(), re.size() - kPrefix.size() - 1);
      uint32_t id = 0;
      if (digits.empty() || digits.size() > 9) return std::nullopt;
      for (char ch : digits) {
        if (ch < '0' || ch > '9') return std::nullopt;
        id = id * 10 + static_cast<uint32_t>(ch - '0');
      }
      return std::vector<uint32_t>{id};
    }
    case SigmaNode::Kind::kCheck: {
      const SigmaCheck& check = sigma.checks[node.index];
      if (check.kind == SigmaCheck::Kind::kEventIdIn) return check.ids;
      return std::nullopt;
    }
    case SigmaNode::Kind::kAnd: {
      // Any child that requires ids bounds the whole; the smallest set wins.
      std::optional<std::vector<uint32_t>> best;
      for (uint32_t c : node.children) {
        auto ids = RequiredEventIds(rule, sigma, c);
        if (ids && (!best || ids->size() < best->size())) best = std::move(ids);
      }
      return best;
    }
    case SigmaNode::Kind::kOr: {
      std::vector<uint32_t> all;
      for (uint32_t c : node.children) {
        auto ids = RequiredEventIds(rule, sigma, c);
        if (!ids) return std::nullopt;
        all.insert(all.end(), ids->begin(), ids->end());
      }
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
      return all;
    }
    default:
      return std::nullopt;  // not, at-least, constants: no bound on the id
  }
}

class SigmaFileParser {
 public:
  SigmaFileParser(const std::string& file, const SigmaPlaceholders& placeholders,
                  SigmaFileResult* out)
      : file_(file), placeholders_(placeholders), out_(out) {}

  void Parse(std::string_view text, std::vector<SigmaCorrelation>* correlations,
             std::vector<Status>* correlation_errors) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      out_->refused.push_back(
          Status::InvalidArgument(fmt::format("sigma: not valid YAML: {}", e.msg))
              .At(file_, Where::kNone, e.mark.line >= 0 ? e.mark.line + 1 : 0));
      correlation_errors->push_back(SigmaCorrelationYamlError(e, file_));
      return;
    }
    // Before the loop below: it only reads `docs` (Merge clones), but the
    // correlation reader then sees the documents exactly as loaded.
    ParseSigmaCorrelations(docs, file_, correlations, correlation_errors);
    YAML::Node global;
    YAML::Node previous;
    for (const YAML::Node& doc : docs) {
      if (doc.IsNull()) continue;
      int line = LineOf(doc);
      try {
        if (!doc.IsMap()) {
          Refuse(line, "", "", Status::InvalidArgument("a Sigma document must be a mapping"));
          continue;
        }
        std::string action = String(doc["action"]);
        if (action == "global") {
          global = Merge(global, doc);
          continue;
        }
        if (action == "reset") {
          global = YAML::Node();
          continue;
        }
        YAML::Node full;
        if (action == "repeat") {
          if (!previous) {
            Refuse(line, "", "", Status::InvalidArgument("action: repeat with no rule before it"));
            continue;
          }
          full = Merge(previous, doc);
        } else if (!action.empty()) {
          Refuse(line, "", "", Status::Unsupported(fmt::format("collection action '{}'", action)));
          continue;
        } else {
          // Without a global part the document is read as loaded (Document
          // only reads it): cloning every rule's tree cost a tenth of loading.
          full.reset(global.IsMap() ? Merge(global, doc) : doc);
        }
        // reset, not operator=: assigning to a Node that holds one rewrites
        // that node in place, which would be the previous loaded document.
        previous.reset(full);
        Document(full, line);
      } catch (const YAML::Exception& e) {
        Refuse(line, String(doc["id"]), String(doc["title"]),
               Status::InvalidArgument(fmt::format("unreadable YAML: {}", e.msg)));
      }
    }
  }

 private:
  void Refuse(int line, const std::string& id, const std::string& title, const Status& why) {
    std::string who = !id.empty()      ? fmt::format("sigma rule '{}'", id)
                      : !title.empty() ? fmt::format("sigma rule \"{}\"", title)
                                       : std::string("sigma document");
    Status s = why.code() == StatusCode::kUnsupported
                   ? Status::Unsupported(fmt::format("{}: unsupported: {}", who, why.message()))
                   : Status::InvalidArgument(fmt::format("{}: {}", who, why.message()));
    out_->refused.push_back(std::move(s).At(file_, Where::kNone, static_cast<uint64_t>(line)));
  }

  void Document(const YAML::Node& doc, int line) {
    if (doc["correlation"]) {
      Correlation(doc, line);
      return;
    }
    const std::string id = String(doc["id"]);
    const std::string title = String(doc["title"]);
    const YAML::Node detection = doc["detection"];
    if (!detection) {
      Refuse(line, id, title,
             Status::InvalidArgument("neither 'detection' nor 'correlation': not a Sigma rule"));
      return;
    }
    if (id.empty()) {
      Refuse(line, id, title, Status::InvalidArgument("no 'id' (alerts need a stable rule id)"));
      return;
    }
    if (!detection.IsMap()) {
      Refuse(LineOf(detection), id, title, Status::InvalidArgument("detection must be a map"));
      return;
    }
    Rule rule;
    rule.id = id;
    rule.title = title;
    rule.file = file_;
    rule.line = line;
    rule.description = String(doc["description"]);
    rule.references = StringList(doc["references"]);
    rule.severity = String(doc["level"]);
    auto sigma = std::make_shared<SigmaRule>();
    sigma->name = String(doc["name"]);
    sigma->status = String(doc["status"]);
    sigma->tags = StringList(doc["tags"]);
    sigma->falsepositives = StringList(doc["falsepositives"]);
    sigma->author = String(doc["author"]);
    sigma->date = String(doc["date"]);
    if (const YAML::Node ls = doc["logsource"]; ls && ls.IsMap()) {
      sigma->logsource = {String(ls["product"]), String(ls["category"]), String(ls["service"])};
    }
    std::vector<LogsourceVariant> variants;
    if (Status s = ResolveLogsource(sigma->logsource, &variants); !s.ok()) {
      Refuse(doc["logsource"] ? LineOf(doc["logsource"]) : line, id, title, s);
      return;
    }
    int at = line;
    DetectionCompiler compiler(&rule, sigma.get(), placeholders_, &out_->regex_verdicts);
    std::vector<uint32_t> variant_roots;
    for (const LogsourceVariant& v : variants) {
      uint32_t root = 0;
      if (Status s = compiler.Compile(detection, v, &root, &at); !s.ok()) {
        Refuse(at, id, title, s);
        return;
      }
      variant_roots.push_back(root);
    }
    // The exact filters (indexes, MayMatch) take the union of the variants;
    // with more than one variant each also checks its own channel and ids.
    bool every_variant_has_ids = true;
    for (const LogsourceVariant& v : variants) {
      rule.match.channels.insert(rule.match.channels.end(), v.channels.begin(), v.channels.end());
      every_variant_has_ids = every_variant_has_ids && !v.event_ids.empty();
    }
    if (every_variant_has_ids) {
      for (const LogsourceVariant& v : variants) {
        for (uint32_t eid : v.event_ids) {
          if (std::find(rule.match.event_ids.begin(), rule.match.event_ids.end(), eid) ==
              rule.match.event_ids.end()) {
            rule.match.event_ids.push_back(eid);
          }
        }
      }
    }
    if (variants.size() == 1) {
      sigma->root = variant_roots[0];
    } else {
      SigmaNode any{SigmaNode::Kind::kOr, 0, 0, {}};
      for (size_t i = 0; i < variants.size(); ++i) {
        SigmaNode guarded{SigmaNode::Kind::kAnd, 0, 0, {}};
        if (!variants[i].channels.empty()) {
          SigmaNode channel_any{SigmaNode::Kind::kOr, 0, 0, {}};
          for (const auto& c : variants[i].channels) {
            SigmaCheck check;
            check.kind = SigmaCheck::Kind::kChannelIs;
            check.text = AsciiLower(c);
            channel_any.children.push_back(compiler.AddCheck(std::move(check)));
          }
          guarded.children.push_back(compiler.Add(std::move(channel_any)));
        }
        if (!variants[i].event_ids.empty()) {
          SigmaCheck check;
          check.kind = SigmaCheck::Kind::kEventIdIn;
          check.ids = variants[i].event_ids;
          guarded.children.push_back(compiler.AddCheck(std::move(check)));
        }
        guarded.children.push_back(variant_roots[i]);
        any.children.push_back(compiler.Add(std::move(guarded)));
      }
      sigma->root = compiler.Add(std::move(any));
    }
    // Index by the event ids the detection requires when the logsource
    // gives none (they only narrow: the condition still checks the id).
    if (rule.match.event_ids.empty()) {
      if (auto ids = RequiredEventIds(rule, *sigma, sigma->root); ids && !ids->empty()) {
        rule.match.event_ids = std::move(*ids);
      }
    }
    rule.sigma = std::move(sigma);
    out_->rules.push_back(std::move(rule));
  }

  void Correlation(const YAML::Node& doc, int line) {
    SigmaCorrelationDoc c;
    c.file = file_;
    c.line = line;
    c.id = String(doc["id"]);
    c.name = String(doc["name"]);
    c.title = String(doc["title"]);
    const YAML::Node corr = doc["correlation"];
    if (corr.IsMap()) {
      c.type = String(corr["type"]);
      c.rules = StringList(corr["rules"]);
    }
    YAML::Emitter emitter;
    emitter << doc;
    c.yaml = emitter.c_str();
    out_->correlations.push_back(std::move(c));
  }

  const std::string& file_;
  const SigmaPlaceholders& placeholders_;
  SigmaFileResult* out_;
};

}  // namespace

bool LooksLikeSigma(std::string_view text) {
  // Our format has a top-level `correlation:` too (window, threshold, ...),
  // so a correlation only counts with Sigma's `type:` and without `match:`.
  bool correlation = false, match = false, type = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (line.starts_with("detection:") || line.starts_with("logsource:") ||
        line.starts_with("action:")) {
      return true;
    }
    correlation = correlation || line.starts_with("correlation:");
    match = match || line.starts_with("match:") || line.starts_with("rules:");
    size_t indent = line.find_first_not_of(' ');
    type = type || (indent != std::string_view::npos && indent > 0 &&
                    line.substr(indent).starts_with("type:"));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return correlation && type && !match;
}

void ParseSigmaFile(std::string_view text, const std::string& file,
                    const SigmaPlaceholders& placeholders, SigmaFileResult* out,
                    std::vector<SigmaCorrelation>* correlations,
                    std::vector<Status>* correlation_errors) {
  SigmaFileParser parser(file, placeholders, out);
  parser.Parse(text, correlations, correlation_errors);
}

Status LoadSigmaPlaceholders(const std::string& path, SigmaPlaceholders* out) {
  out->clear();
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("sigma placeholders: {}", e.msg))
        .At(path, Where::kNone, e.mark.line >= 0 ? e.mark.line + 1 : 0);
  }
  if (!root.IsMap()) {
    return Status::InvalidArgument("sigma placeholders: expected a mapping of name -> values")
        .At(path);
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    (*out)[it->first.Scalar()] = StringList(it->second);
  }
  return Status::OK();
}

}  // namespace eventsift::detect
