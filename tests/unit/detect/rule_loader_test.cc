// RuleSet loading: good files in every accepted shape, and each kind of bad
// rule refused with the exact error naming file, line, rule id and reason.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/detect/rule_set.h"

namespace eventsift::detect {
namespace {

namespace fs = std::filesystem;

constexpr char kGoodRule[] = R"(id: good_rule
title: A good rule
description: what it finds
severity: low
references: [https://example.com/a, https://example.com/b]
match:
  providers: [MSExchange Mitigation Service]
  channels: Application
  event_ids: [1008, 1006]
  levels: [error, 3]
  mode: any
  fields:
    - field: message|data.*
      regex: fetching mitigations
      case_insensitive: true
    - field: data.Param
      regex: '^x$'
      negate: true
correlation:
  window: 1h30m
  threshold: 2
  suppress: 600
  samples: 0
remediation: fix it
)";

// The error Status::ToString() gives for rule text `yaml` parsed as `file`.
std::string ParseError(const std::string& yaml, const std::string& file = "bad.yaml") {
  auto set = RuleSet::Parse(yaml, file);
  if (set) return "loaded";
  return set.error().ToString();
}

TEST(RuleLoaderTest, ParsesEveryField) {
  auto set = RuleSet::Parse(kGoodRule, "good.yaml");
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set.value()->rules().size(), 1u);
  const Rule& r = set.value()->rules()[0];
  EXPECT_EQ(r.id, "good_rule");
  EXPECT_EQ(r.title, "A good rule");
  EXPECT_EQ(r.description, "what it finds");
  EXPECT_EQ(r.severity, "low");
  EXPECT_EQ(r.references,
            (std::vector<std::string>{"https://example.com/a", "https://example.com/b"}));
  EXPECT_EQ(r.remediation, "fix it");
  EXPECT_EQ(r.file, "good.yaml");
  EXPECT_EQ(r.line, 1);
  EXPECT_EQ(r.match.providers, std::vector<std::string>{"msexchange mitigation service"});
  EXPECT_EQ(r.match.channels, std::vector<std::string>{"application"});
  EXPECT_EQ(r.match.event_ids, (std::vector<uint32_t>{1008, 1006}));
  EXPECT_EQ(r.match.levels, (std::vector<uint8_t>{2, 3}));
  EXPECT_EQ(r.match.mode, CombineMode::kAny);
  ASSERT_EQ(r.match.fields.size(), 2u);
  EXPECT_EQ(r.match.fields[0].field.kind, FieldKind::kMessageOrDataAny);
  EXPECT_EQ(r.match.fields[0].regex, "fetching mitigations");
  EXPECT_TRUE(r.match.fields[0].case_insensitive);
  EXPECT_FALSE(r.match.fields[0].negate);
  EXPECT_EQ(r.match.fields[0].line, 13);
  EXPECT_EQ(r.match.fields[1].field.kind, FieldKind::kDataNamed);
  EXPECT_EQ(r.match.fields[1].field.data_name, "Param");
  EXPECT_TRUE(r.match.fields[1].negate);
  EXPECT_EQ(r.correlation.window_seconds, 5400);
  EXPECT_EQ(r.correlation.threshold, 2u);
  EXPECT_EQ(r.correlation.suppress_seconds, 600);
  EXPECT_EQ(r.correlation.max_samples, 0u);
}

TEST(RuleLoaderTest, DefaultsForOptionalFields) {
  auto set = RuleSet::Parse("id: minimal\nmatch: {event_ids: [4625]}\n", "min.yaml");
  ASSERT_TRUE(set) << set.error().ToString();
  const Rule& r = set.value()->rules()[0];
  EXPECT_EQ(r.title, "minimal");
  EXPECT_EQ(r.severity, "medium");
  EXPECT_EQ(r.match.mode, CombineMode::kAll);
  EXPECT_EQ(r.correlation.window_seconds, 24 * 3600);
  EXPECT_EQ(r.correlation.threshold, 1u);
  EXPECT_EQ(r.correlation.suppress_seconds, 0);
  EXPECT_EQ(r.correlation.max_samples, 3u);
}

TEST(RuleLoaderTest, ListOfRulesAndMultipleDocuments) {
  auto list = RuleSet::Parse(
      "rules:\n"
      "  - id: a\n    match: {event_ids: [1]}\n"
      "  - id: b\n    match: {event_ids: [2]}\n",
      "list.yaml");
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list.value()->rules().size(), 2u);
  EXPECT_EQ(list.value()->rules()[1].id, "b");
  EXPECT_EQ(list.value()->rules()[1].line, 4);

  auto docs = RuleSet::Parse("id: a\nmatch: {event_ids: [1]}\n---\nid: b\nmatch: {levels: [2]}\n",
                             "docs.yaml");
  ASSERT_TRUE(docs) << docs.error().ToString();
  EXPECT_EQ(docs.value()->rules().size(), 2u);
}

TEST(RuleLoaderTest, AcceptsJson) {
  auto set = RuleSet::Parse(R"({
	"id": "json_rule",
	"severity": "critical",
	"match": {
		"providers": ["MSExchange CmdletLogs"],
		"event_ids": [1],
		"fields": [{"field": "data.*", "regex": "New-MailboxExportRequest\\s", "negate": false}]
	},
	"correlation": {"window": 3600, "suppress": "1h", "threshold": 1, "samples": 3}
})",
                            "rule.json");
  ASSERT_TRUE(set) << set.error().ToString();
  const Rule& r = set.value()->rules()[0];
  EXPECT_EQ(r.severity, "critical");
  EXPECT_EQ(r.match.fields[0].regex, "New-MailboxExportRequest\\s");
  EXPECT_EQ(r.correlation.window_seconds, 3600);
  EXPECT_EQ(r.correlation.suppress_seconds, 3600);
}

TEST(RuleLoaderTest, RefusesMissingId) {
  EXPECT_EQ(ParseError("title: no id\nmatch: {event_ids: [1]}\n"),
            "invalid argument: bad.yaml:1: rule #1 (no id): missing required key 'id'");
  EXPECT_EQ(ParseError("rules:\n  - id: ok\n    match: {event_ids: [1]}\n  - title: x\n"),
            "invalid argument: bad.yaml:4: rule #2 (no id): missing required key 'id'");
}

TEST(RuleLoaderTest, RefusesUnknownKeys) {
  EXPECT_EQ(ParseError("id: r\nmatch: {event_ids: [1]}\nseverty: high\n"),
            "invalid argument: bad.yaml:3: rule 'r': unknown key 'severty' (allowed: id, title, "
            "description, severity, kind, references, match, correlation, remediation)");
  EXPECT_EQ(ParseError("id: r\nmatch:\n  event_id: [1]\n"),
            "invalid argument: bad.yaml:3: rule 'r': match: unknown key 'event_id' (allowed: "
            "providers, channels, event_ids, levels, fields, mode)");
  EXPECT_EQ(
      ParseError("id: r\nmatch:\n  fields:\n    - {field: message, regex: x, nocase: true}\n"),
      "invalid argument: bad.yaml:4: rule 'r': match.fields[0]: unknown key 'nocase' "
      "(allowed: field, regex, case_insensitive, negate)");
  EXPECT_EQ(ParseError("id: r\nmatch: {levels: [2]}\ncorrelation: {windows: 1h}\n"),
            "invalid argument: bad.yaml:3: rule 'r': correlation: unknown key 'windows' "
            "(allowed: window, threshold, suppress, samples, emit)");
}

TEST(RuleLoaderTest, RefusesUnknownField) {
  EXPECT_EQ(ParseError("id: r\nmatch:\n  fields:\n    - field: hostname\n      regex: x\n"),
            "invalid argument: bad.yaml:4: rule 'r': match.fields[0]: unknown field 'hostname' "
            "(expected provider, provider_guid, channel, computer, user_sid, message, event_id, "
            "level, task, opcode, keywords, record_id, data.<Name>, data.*, message|data.* or "
            "any)");
  EXPECT_EQ(ParseError("id: r\nmatch:\n  fields:\n    - field: data.Par*\n      regex: x\n"),
            "invalid argument: bad.yaml:4: rule 'r': match.fields[0]: unknown field 'data.Par*' "
            "(expected provider, provider_guid, channel, computer, user_sid, message, event_id, "
            "level, task, opcode, keywords, record_id, data.<Name>, data.*, message|data.* or "
            "any)");
}

TEST(RuleLoaderTest, RefusesInvalidRegex) {
  EXPECT_EQ(ParseError("id: r\nmatch:\n  fields:\n    - field: message\n      regex: 'a(b'\n"),
            "invalid argument: bad.yaml:4: rule 'r': field 'message': invalid regex 'a(b': "
            "missing ): a(b");
  // RE2 has no backreferences or lookaround: refused, not silently changed.
  EXPECT_EQ(ParseError("id: r\nmatch:\n  fields:\n    - {field: data.*, regex: '(?=x)'}\n"),
            "invalid argument: bad.yaml:4: rule 'r': field 'data.*': invalid regex '(?=x)': "
            "invalid perl operator: (?=");
  EXPECT_EQ(ParseError("id: r\nmatch:\n  fields:\n    - {field: message, regex: ''}\n"),
            "invalid argument: bad.yaml:4: rule 'r': match.fields[0].regex is empty (it would "
            "match everything)");
}

TEST(RuleLoaderTest, RefusesBadValues) {
  EXPECT_EQ(ParseError("id: r\nseverity: urgent\nmatch: {event_ids: [1]}\n"),
            "invalid argument: bad.yaml:1: rule 'r': severity must be informational, low, "
            "medium, high or critical, not 'urgent'");
  EXPECT_EQ(ParseError("id: r\nmatch: {levels: [eror]}\n"),
            "invalid argument: bad.yaml:2: rule 'r': match.levels[0] must be a level number "
            "(0-255) or one of critical, error, warning, information, verbose, logalways");
  EXPECT_EQ(ParseError("id: r\nmatch: {event_ids: [1, x]}\n"),
            "invalid argument: bad.yaml:2: rule 'r': match.event_ids[1] must be an integer from "
            "0 to 4294967295");
  EXPECT_EQ(ParseError("id: r\nmatch: {event_ids: [1], mode: most}\n"),
            "invalid argument: bad.yaml:2: rule 'r': match.mode must be 'all' or 'any', not "
            "'most'");
  EXPECT_EQ(ParseError("id: r\nmatch: {event_ids: [1]}\ncorrelation: {window: 1w}\n"),
            "invalid argument: bad.yaml:3: rule 'r': correlation.window must be a non-zero "
            "duration such as 30m, 24h, 1h30m or seconds");
  EXPECT_EQ(ParseError("id: r\nmatch: {event_ids: [1]}\ncorrelation: {threshold: 0}\n"),
            "invalid argument: bad.yaml:3: rule 'r': correlation.threshold must be an integer "
            "from 1 to 4294967295");
  EXPECT_EQ(ParseError("id: r\nmatch:\n  fields: [{field: message, regex: x, negate: maybe}]\n"),
            "invalid argument: bad.yaml:3: rule 'r': match.fields[0].negate must be true or "
            "false");
  EXPECT_EQ(ParseError("id: 'bad id'\nmatch: {event_ids: [1]}\n"),
            "invalid argument: bad.yaml:1: rule 'bad id': id must be 1-128 characters: letters "
            "and digits, then also '_', '-', '.' or ':'");
  EXPECT_EQ(ParseError("id: r\nmatch: {}\n"),
            "invalid argument: bad.yaml:2: rule 'r': match has no condition: the rule would "
            "match every event");
  EXPECT_EQ(ParseError("id: r\n"),
            "invalid argument: bad.yaml:1: rule 'r': missing required key 'match'");
  EXPECT_EQ(ParseError("id: r\nid: s\nmatch: {event_ids: [1]}\n"),
            "invalid argument: bad.yaml:2: rule 'r': duplicate key 'id'");
}

TEST(RuleLoaderTest, RefusesBrokenFiles) {
  EXPECT_EQ(ParseError("id: [unclosed\n"),
            "invalid argument: bad.yaml:2: not valid YAML/JSON: end of sequence flow not found");
  EXPECT_EQ(ParseError(""),
            "invalid argument: bad.yaml:1: the file holds no rule (expected a rule or 'rules:' "
            "list)");
  EXPECT_EQ(ParseError("rules: {id: x}\n"),
            "invalid argument: bad.yaml:1: 'rules' must be a list of rules");
  EXPECT_EQ(ParseError("version: 2\nrules:\n  - {id: x, match: {levels: [2]}}\n"),
            "invalid argument: bad.yaml:1: a file with a 'rules:' list holds no other top-level "
            "key");
}

TEST(RuleLoaderTest, RefusesDuplicateIdsNamingBothPlaces) {
  EXPECT_EQ(ParseError("rules:\n  - id: twin\n    match: {event_ids: [1]}\n"
                       "  - id: twin\n    match: {event_ids: [2]}\n"),
            "invalid argument: bad.yaml:4: rule 'twin': duplicate id (first defined at "
            "bad.yaml:2)");
}

TEST(RuleLoaderTest, RuleSetFromCodeIsValidatedToo) {
  Rule rule;
  rule.id = "in_code";
  rule.file = "code";
  rule.line = 7;
  auto empty = RuleSet::FromRules({rule});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().ToString(),
            "invalid argument: code:7: rule 'in_code': match has no condition: the rule would "
            "match every event");
  rule.match.providers = {"Some Provider"};
  auto ok = RuleSet::FromRules({rule});
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok.value()->rules()[0].match.providers[0], "some provider");
}

class RuleDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("eventsift_rules_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(RuleDirTest, LoadsDirectoriesRecursivelyInPathOrder) {
  Write("b.yaml", "id: b\nmatch: {event_ids: [2]}\n");
  Write("a/z.yml", "id: az\nmatch: {event_ids: [1]}\n");
  Write("c.json", R"({"id": "c", "match": {"event_ids": [3]}})");
  Write("README.md", "not a rule");
  auto set = RuleSet::Load({dir_.string()});
  ASSERT_TRUE(set) << set.error().ToString();
  std::vector<std::string> ids;
  for (const auto& r : set.value()->rules()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"az", "b", "c"}));
  EXPECT_EQ(set.value()->rules()[0].file, (dir_ / "a/z.yml").string());
}

TEST_F(RuleDirTest, ReportsEveryErrorAcrossFiles) {
  std::string one = Write("1.yaml", "id: dup\nmatch: {event_ids: [1]}\n");
  std::string two = Write("2.yaml", "id: dup\nmatch: {event_ids: [2]}\n");
  std::string three = Write("3.yaml", "id: rx\nmatch:\n  fields: [{field: message, regex: '['}]\n");
  std::string four = Write("4.yaml", "id: key\nmatch: {event_ids: [1]}\nwhat: 1\n");
  std::vector<Status> errors;
  auto set = RuleSet::Load({dir_.string(), (dir_ / "missing").string()}, &errors);
  ASSERT_FALSE(set);
  std::vector<std::string> got;
  for (const auto& e : errors) got.push_back(e.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "not found: " + (dir_ / "missing").string() + ": no such file or directory",
                     "invalid argument: " + four +
                         ":3: rule 'key': unknown key 'what' (allowed: id, title, description, "
                         "severity, kind, references, match, correlation, remediation)",
                     "invalid argument: " + two +
                         ":1: rule 'dup': duplicate id (first defined "
                         "at " +
                         one + ":1)",
                     "invalid argument: " + three +
                         ":3: rule 'rx': field 'message': invalid regex '[': missing ]: [",
                 }));
  // The one-Status form names the first and counts the rest.
  auto first = RuleSet::Load({dir_.string(), (dir_ / "missing").string()});
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().ToString(), "not found: " + (dir_ / "missing").string() +
                                          ": no such file or directory (and 3 more errors; "
                                          "'eventsift rules check' lists them)");
}

TEST_F(RuleDirTest, RefusesEmptyDirectoryAndOtherExtensions) {
  auto empty = RuleSet::Load({dir_.string()});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().ToString(),
            "not found: " + dir_.string() + ": no rule files (.yaml, .yml, .json) found");
  std::string txt = Write("rule.txt", "id: x\n");
  auto other = RuleSet::Load({txt});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().ToString(),
            "invalid argument: " + txt + ": not a rule file (expected .yaml, .yml or .json)");
}

TEST_F(RuleDirTest, DefaultRulePathsPrefersEnvironment) {
  ::setenv("EVENTSIFT_RULES", dir_.c_str(), 1);
  EXPECT_EQ(DefaultRulePaths(), std::vector<std::string>{dir_.string()});
  ::unsetenv("EVENTSIFT_RULES");
  // No installed share/ next to the test binary: the source tree's rules/,
  // entry by entry without its sigma/ folder (the same rules in Sigma form).
  EXPECT_EQ(DefaultRulePaths(), ShippedRulePaths(ES_RULES_DIR));
  const auto shipped = ShippedRulePaths(ES_RULES_DIR);
  EXPECT_FALSE(shipped.empty());
  for (const auto& p : shipped) {
    EXPECT_EQ(fs::path(p).parent_path(), fs::path(ES_RULES_DIR));
    EXPECT_NE(fs::path(p).filename(), "sigma");
  }
  EXPECT_EQ(fs::path(ES_RULES_DIR), fs::path(ES_SOURCE_DIR) / "rules");
}

TEST(DurationTest, Forms) {
  EXPECT_EQ(ParseDuration("30s"), 30);
  EXPECT_EQ(ParseDuration("30m"), 1800);
  EXPECT_EQ(ParseDuration("24h"), 86400);
  EXPECT_EQ(ParseDuration("2d"), 172800);
  EXPECT_EQ(ParseDuration("1h30m"), 5400);
  EXPECT_EQ(ParseDuration("90"), 90);
  EXPECT_EQ(ParseDuration("0"), 0);
  EXPECT_EQ(ParseDuration(""), std::nullopt);
  EXPECT_EQ(ParseDuration("1h30"), std::nullopt);
  EXPECT_EQ(ParseDuration("h"), std::nullopt);
  EXPECT_EQ(ParseDuration("-5m"), std::nullopt);
  EXPECT_EQ(ParseDuration("99999999999d"), std::nullopt);
}

}  // namespace
}  // namespace eventsift::detect
