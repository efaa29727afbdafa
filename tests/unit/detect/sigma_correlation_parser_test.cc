// Sigma correlation documents (specification v2.1, "Sigma Correlation
// Rules"): what parses, and how refusals read (file, line, reason).

#include "src/detect/sigma_correlation_parser.h"

#include "src/detect/rule_parser.h"

#include <gtest/gtest.h>

namespace eventsift::detect {
namespace {

struct Parsed {
  std::vector<SigmaCorrelation> correlations;
  std::vector<Status> errors;
};

Parsed Parse(std::string_view text) {
  Parsed p;
  ParseSigmaCorrelations(text, "mr_test.yml", &p.correlations, &p.errors);
  return p;
}

// One error expected: returns its text ("invalid argument: mr_test.yml:LINE: reason").
std::string OnlyError(std::string_view text) {
  Parsed p = Parse(text);
  EXPECT_TRUE(p.correlations.empty());
  EXPECT_EQ(p.errors.size(), 1u);
  return p.errors.empty() ? std::string() : p.errors[0].ToString();
}

// The specification's event_count example: every field lands where the
// engine reads it, the timespan in seconds.
TEST(SigmaCorrelationParserTest, EventCountExampleFromTheSpecification) {
  Parsed p = Parse(R"(title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
status: test
level: high
references: [https://example.org]
correlation:
    type: event_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
    timespan: 1h
    condition:
        gte: 100
)");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].ToString();
  ASSERT_EQ(p.correlations.size(), 1u);
  const SigmaCorrelation& c = p.correlations[0];
  EXPECT_EQ(c.Key(), "0e95725d-7320-415d-80f7-004da920fc11");
  EXPECT_EQ(c.type, SigmaCorrelationType::kEventCount);
  EXPECT_EQ(c.rules, std::vector<std::string>{"5638f7c0-ac70-491d-8465-2a65075e0d86"});
  EXPECT_EQ(c.group_by, std::vector<std::string>{"ComputerName"});
  EXPECT_EQ(c.timespan_seconds, 3600);
  EXPECT_EQ(c.condition.gte, 100.0);
  EXPECT_FALSE(c.condition.HasUpperBound());
  EXPECT_EQ(c.level, "high");
  EXPECT_FALSE(c.generate);  // the specification's default
  EXPECT_EQ(c.line, 1);
}

// value_count puts `field` inside the condition; v1 drafts put it beside.
// Both read the same.
TEST(SigmaCorrelationParserTest, ValueCountFieldInConditionOrBeside) {
  Parsed p = Parse(R"(title: a
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [Computer]
    timespan: 1d
    condition:
        field: TargetUserName
        gte: 10
---
title: b
correlation:
    type: value_count
    rules: [failed_logon]
    timespan: 1d
    field: TargetUserName
    condition: {gte: 10}
)");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].ToString();
  ASSERT_EQ(p.correlations.size(), 2u);
  for (const auto& c : p.correlations) {
    EXPECT_EQ(c.field, "TargetUserName");
    EXPECT_EQ(c.timespan_seconds, 86400);
  }
  EXPECT_TRUE(p.correlations[1].group_by.empty());  // group-by is optional
}

// Ranges are the conjunction of the bounds given; neq (v2.1) is an upper
// bound too (a larger count can make it false).
TEST(SigmaCorrelationParserTest, RangesAndNeq) {
  Parsed p = Parse(R"(title: range
correlation:
    type: event_count
    rules: [r]
    timespan: 5m
    condition: {gt: 100, lte: 200}
---
title: neq
correlation:
    type: event_count
    rules: [r]
    timespan: 5m
    condition: {neq: 3}
)");
  ASSERT_EQ(p.correlations.size(), 2u);
  const SigmaCondition& range = p.correlations[0].condition;
  EXPECT_FALSE(range.Holds(100));
  EXPECT_TRUE(range.Holds(101));
  EXPECT_TRUE(range.Holds(200));
  EXPECT_FALSE(range.Holds(201));
  EXPECT_EQ(range.ToString(), "gt 100 and lte 200");
  const SigmaCondition& neq = p.correlations[1].condition;
  EXPECT_TRUE(neq.HasUpperBound());
  EXPECT_FALSE(neq.Holds(3));
  EXPECT_TRUE(neq.Holds(2));
  EXPECT_TRUE(neq.Holds(4));
}

// temporal and temporal_ordered need no condition (all rules must occur);
// the v2.1 metric types parse with their field.
TEST(SigmaCorrelationParserTest, TemporalWithoutConditionAndMetricTypes) {
  Parsed p = Parse(R"(title: t
correlation:
    type: temporal_ordered
    rules: [a, b]
    group-by: [User]
    timespan: 10m
---
title: sum
correlation:
    type: value_sum
    rules: [a]
    timespan: 1h
    condition: {field: BytesOut, gt: 1000}
---
title: avg
correlation:
    type: value_avg
    rules: [a]
    timespan: 24h
    condition: {field: BytesOut, gt: 500.5}
---
title: pct
correlation:
    type: value_percentile
    rules: [a]
    timespan: 24h
    condition: {field: Image, lte: 1}
)");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].ToString();
  ASSERT_EQ(p.correlations.size(), 4u);
  EXPECT_EQ(p.correlations[0].type, SigmaCorrelationType::kTemporalOrdered);
  EXPECT_TRUE(p.correlations[0].condition.Empty());
  EXPECT_EQ(p.correlations[1].type, SigmaCorrelationType::kValueSum);
  EXPECT_EQ(p.correlations[2].condition.gt, 500.5);
  EXPECT_EQ(p.correlations[3].type, SigmaCorrelationType::kValuePercentile);
  EXPECT_EQ(p.correlations[3].field, "Image");
}

// Aliases map an alias to a field per rule; `generate` is read at the top
// level (the specification's place) and inside `correlation`.
TEST(SigmaCorrelationParserTest, AliasesAndGenerate) {
  Parsed p = Parse(R"(title: t
generate: true
correlation:
    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
)");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].ToString();
  ASSERT_EQ(p.correlations.size(), 1u);
  EXPECT_TRUE(p.correlations[0].generate);
  EXPECT_EQ(p.correlations[0].aliases.at("internal_ip").at("internal_error"), "destination.ip");
}

// Detection rules and our own format's `correlation:` (no `type:`) are not
// correlation documents: skipped, not refused.
TEST(SigmaCorrelationParserTest, OtherDocumentsAreSkipped) {
  Parsed p = Parse(R"(title: base
logsource: {product: windows}
detection: {sel: {EventID: 1008}, condition: sel}
---
id: eems
match: {event_ids: [1008]}
correlation: {window: 24h, threshold: 1}
)");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_TRUE(p.correlations.empty());
}

// Each refusal names the file, the line of the offending node and why.
TEST(SigmaCorrelationParserTest, RefusalsNameFileLineAndReason) {
  EXPECT_EQ(OnlyError("title: x\ncorrelation:\n  type: event_sum\n  rules: [a]\n"
                      "  timespan: 5m\n  condition: {gte: 1}\n"),
            "invalid argument: mr_test.yml:3: unsupported correlation type 'event_sum' "
            "(supported: event_count, value_count, temporal, temporal_ordered, value_sum, "
            "value_avg, value_percentile)");
  // 5M (upper case), 1w and a bare number are not the specification's format.
  for (const char* span : {"5M", "1w", "90", "0m", "-5m"}) {
    EXPECT_NE(OnlyError(std::string("title: x\ncorrelation:\n  type: event_count\n"
                                    "  rules: [a]\n  timespan: ") +
                        span + "\n  condition: {gte: 1}\n")
                  .find("mr_test.yml:5: bad timespan"),
              std::string::npos)
        << span;
  }
  EXPECT_EQ(OnlyError("title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                      "  timespan: 5m\n"),
            "invalid argument: mr_test.yml:3: 'correlation.condition' is missing (needed by "
            "event_count)");
  EXPECT_NE(OnlyError("title: x\ncorrelation:\n  type: value_count\n  rules: [a]\n"
                      "  timespan: 5m\n  condition: {gte: 1}\n")
                .find("mr_test.yml:6: value_count needs 'field'"),
            std::string::npos);
  EXPECT_NE(OnlyError("title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                      "  timespan: 5m\n  condition: {gte: 1, between: 3}\n")
                .find("mr_test.yml:6: unknown condition 'between'"),
            std::string::npos);
  EXPECT_NE(OnlyError("title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                      "  timespan: 5m\n  condition: {gte: many}\n")
                .find("'correlation.condition.gte' must be a number"),
            std::string::npos);
  EXPECT_NE(OnlyError("title: x\ncorrelation:\n  type: temporal\n  rules: [a, b]\n"
                      "  timespan: 5m\n  aliases: {ip: {c: source.ip}}\n")
                .find("mr_test.yml:6: alias 'ip' names rule 'c', which is not in"),
            std::string::npos);
  EXPECT_NE(OnlyError("title: x\ncorrelation:\n  type: temporal\n  rules: [a]\n"
                      "  timespan: 5m\n  groupby: [User]\n")
                .find("mr_test.yml:6: unknown key 'correlation.groupby'"),
            std::string::npos);
  EXPECT_NE(OnlyError("correlation:\n  type: temporal\n  rules: [a]\n  timespan: 5m\n")
                .find("needs a 'title'"),
            std::string::npos);
}

// One bad correlation does not hide the good one next to it.
TEST(SigmaCorrelationParserTest, BadDocumentDoesNotStopTheOthers) {
  Parsed p = Parse(R"(title: bad
correlation: {type: temporal, rules: [a], timespan: soon}
---
title: good
correlation: {type: temporal, rules: [a, b], timespan: 1m}
)");
  ASSERT_EQ(p.errors.size(), 1u);
  ASSERT_EQ(p.correlations.size(), 1u);
  EXPECT_EQ(p.correlations[0].title, "good");
  EXPECT_EQ(p.correlations[0].line, 4);
}

}  // namespace
}  // namespace eventsift::detect

namespace eventsift::detect {
namespace {

// A rule file of our own format is parsed once for its rules and its
// correlation documents (rule_parser.h): the result must be what the two
// parsers give separately, for a good file, a refused correlation and text
// that is not YAML.
TEST(SigmaCorrelationParserTest, OneParseOfARuleFileGivesWhatTwoParsesGive) {
  const std::string_view texts[] = {
      "id: a\nmatch: {event_ids: [1]}\n---\n"
      "title: Many\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n"
      "  type: event_count\n  rules: [a]\n  group-by: [Computer]\n  timespan: 1h\n"
      "  condition: {gte: 10}\n",
      "id: b\nmatch: {levels: [2]}\n---\ntitle: Bad\ncorrelation:\n  type: nope\n",
      "id: c\nmatch: {event_ids: [1]\n",
  };
  for (std::string_view text : texts) {
    SCOPED_TRACE(std::string(text));
    std::vector<Rule> rules_two, rules_one;
    std::vector<Status> errors_two, errors_one, corr_errors_two, corr_errors_one;
    std::vector<SigmaCorrelation> corr_two, corr_one;
    ParseRuleFile(text, "f.yml", &rules_two, &errors_two);
    ParseSigmaCorrelations(text, "f.yml", &corr_two, &corr_errors_two);
    ParseRuleFile(text, "f.yml", &rules_one, &errors_one, &corr_one, &corr_errors_one);
    auto strings = [](const std::vector<Status>& v) {
      std::vector<std::string> out;
      for (const Status& s : v) out.push_back(s.ToString());
      return out;
    };
    EXPECT_EQ(strings(errors_one), strings(errors_two));
    EXPECT_EQ(strings(corr_errors_one), strings(corr_errors_two));
    ASSERT_EQ(rules_one.size(), rules_two.size());
    for (size_t i = 0; i < rules_one.size(); ++i) EXPECT_EQ(rules_one[i].id, rules_two[i].id);
    ASSERT_EQ(corr_one.size(), corr_two.size());
    for (size_t i = 0; i < corr_one.size(); ++i) {
      EXPECT_EQ(corr_one[i].id, corr_two[i].id);
      EXPECT_EQ(corr_one[i].rules, corr_two[i].rules);
      EXPECT_EQ(corr_one[i].timespan_seconds, corr_two[i].timespan_seconds);
      EXPECT_EQ(corr_one[i].line, corr_two[i].line);
    }
  }
  // The cases above are not vacuous: one good correlation, one refused,
  // one file that is not YAML.
  std::vector<Rule> rules;
  std::vector<Status> errors, corr_errors;
  std::vector<SigmaCorrelation> corr;
  ParseRuleFile(texts[0], "f.yml", &rules, &errors, &corr, &corr_errors);
  EXPECT_EQ(corr.size(), 1u);
  EXPECT_EQ(rules.size(), 1u);
  ParseRuleFile(texts[1], "f.yml", &rules, &errors, &corr, &corr_errors);
  EXPECT_EQ(corr_errors.size(), 1u);
  ParseRuleFile(texts[2], "f.yml", &rules, &errors, &corr, &corr_errors);
  EXPECT_EQ(corr_errors.size(), 2u);
}

}  // namespace
}  // namespace eventsift::detect
