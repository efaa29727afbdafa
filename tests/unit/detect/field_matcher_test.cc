// FieldMatcher (one RE2::Set per field): agreement with per-pattern RE2 over
// many patterns, and linear time on hostile input.
#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "src/detect/field_matcher.h"
#include "src/detect/literal_pattern.h"
#include "src/detect/matcher.h"
#include "src/detect/regex_limits.h"
#include "tests/unit/detect/test_events.h"

namespace eventsift::detect {
namespace {

TEST(FieldMatcherTest, SameIndexForSamePattern) {
  FieldMatcher fm;
  std::string error;
  EXPECT_EQ(fm.Add("abc", false, &error), 0);
  EXPECT_EQ(fm.Add("abc", true, &error), 1);  // (?i)abc is another pattern
  EXPECT_EQ(fm.Add("abc", false, &error), 0);
  EXPECT_EQ(fm.Add("a(", false, &error), -1);
  EXPECT_EQ(error, "missing ): a(");
  // RE2 bounds counted repetition; such a rule is refused at load.
  EXPECT_EQ(fm.Add("(?:a{1,100}){1,100}", false, &error), -1);
  EXPECT_EQ(error, "invalid repetition size: {1,100}");
  ASSERT_TRUE(fm.Compile());
  std::vector<int> hits;
  EXPECT_FALSE(fm.MatchAll("xABCx", &hits));
  EXPECT_EQ(hits, std::vector<int>{1});
  EXPECT_TRUE(fm.MatchesAny("xABCx"));
  EXPECT_FALSE(fm.MatchesAny("xABx"));
  EXPECT_FALSE(fm.MatchesPattern(0, "xABCx"));
  EXPECT_TRUE(fm.MatchesPattern(1, "xABCx"));
  EXPECT_TRUE(fm.MatchesPattern(0, "abc"));
}

// A pattern the loader already compiled shares its index with the same
// pattern added unchecked, and its single RE2 (compiled on first use, once,
// from whichever thread asks first) answers as an eagerly compiled one.
TEST(FieldMatcherTest, CheckedPatternsCompileTheirSingleRegexOnFirstUse) {
  FieldMatcher fm;
  std::string error;
  EXPECT_EQ(fm.AddChecked(R"(\\cmd\.exe$)", true, &error), 0);
  EXPECT_EQ(fm.Add(R"(\\cmd\.exe$)", true, &error), 0);
  EXPECT_EQ(fm.Add("powershell", false, &error), 1);
  EXPECT_EQ(fm.AddChecked("powershell", false, &error), 1);
  EXPECT_EQ(fm.AddChecked(R"(^c:\\windows)", true, &error), 2);
  // The set still parses a checked pattern: a bad one is refused all the same.
  EXPECT_EQ(fm.AddChecked("a(", false, &error), -1);
  EXPECT_EQ(error, "missing ): a(");
  ASSERT_TRUE(fm.Compile());
  std::vector<std::thread> threads;
  std::vector<int> answers(8, -1);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      answers[t] = (fm.MatchesPattern(0, "C:\\Windows\\System32\\CMD.EXE") ? 1 : 0) +
                   (fm.MatchesPattern(2, "C:\\Windows\\System32\\CMD.EXE") ? 2 : 0) +
                   (fm.MatchesPattern(1, "PowerShell") ? 4 : 0);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answers, std::vector<int>(8, 3));
  std::vector<int> hits;
  EXPECT_FALSE(fm.MatchAll("c:\\windows\\cmd.exe powershell", &hits));
  std::sort(hits.begin(), hits.end());
  EXPECT_EQ(hits, (std::vector<int>{1, 2}));  // \\cmd\.exe$ is not at the end here
}

// Many rules on one field: the set must report exactly what each regex
// alone reports, for random values built from the patterns' own tokens.
TEST(FieldMatcherTest, ManyRulesAgreeWithSingleRegexes) {
  constexpr int kRules = 600;
  std::string yaml = "rules:\n";
  std::vector<std::unique_ptr<RE2>> oracle;
  for (int i = 0; i < kRules; ++i) {
    std::string regex;
    switch (i % 4) {
      case 0:
        regex = "tok" + std::to_string(i) + "\\b";
        break;
      case 1:
        regex = "^pre" + std::to_string(i);
        break;
      case 2:
        regex = "(?i)mid" + std::to_string(i) + "[a-c]+end";
        break;
      case 3:
        regex = "x" + std::to_string(i) + "$";
        break;
    }
    yaml += "  - {id: r" + std::to_string(i) + ", match: {fields: [{field: data.*, regex: '" +
            regex + "'}]}}\n";
    oracle.push_back(std::make_unique<RE2>(regex));
    ASSERT_TRUE(oracle.back()->ok());
  }
  auto set = RuleSet::Parse(yaml, "many.yaml");
  ASSERT_TRUE(set) << set.error().ToString();
  Matcher m(set.value());
  // ^pre and x$ take the literal path, the others RE2's (on ASCII text).
  EXPECT_TRUE(set.value()->compiled().slots()[0].matcher->has_literal_path());

  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pick(0, kRules + 50);  // some tokens hit nothing
  int total_hits = 0;
  for (int round = 0; round < 300; ++round) {
    std::string value;
    int parts = 1 + round % 5;
    for (int p = 0; p < parts; ++p) {
      int n = pick(rng);
      switch (rng() % 5) {
        case 0:
          value += "tok" + std::to_string(n) + " ";
          break;
        case 1:
          value = "pre" + std::to_string(n) + value;
          break;
        case 2:
          value += "MID" + std::to_string(n) + "abcEND ";
          break;
        case 3:
          value += "x" + std::to_string(n);
          break;
        case 4:
          value += "tok" + std::to_string(n) + "0 ";
          break;  // no word boundary
      }
    }
    std::vector<uint32_t> want;
    for (int i = 0; i < kRules; ++i) {
      if (RE2::PartialMatch(value, *oracle[i])) want.push_back(i);
    }
    std::vector<uint32_t> got;
    m.Match(testing::MakeEvent("p", "c", 1, 4, "", {{"", value}}).View(), &got);
    EXPECT_EQ(got, want) << "value: " << value;
    total_hits += static_cast<int>(got.size());
  }
  EXPECT_GT(total_hits, 150);  // the test exercised hits, not only misses
  EXPECT_EQ(m.stats().regex_fallbacks.Get(), 0u);
}

// Patterns that make backtracking engines take exponential time on a long
// run of 'a' with no final match. RE2 is linear: 1 MB must come back fast.
TEST(FieldMatcherTest, HostileMegabyteInputReturnsInLinearTime) {
  auto set = RuleSet::Parse(R"(rules:
  - {id: nested_plus, match: {fields: [{field: data.*, regex: '(a+)+$'}]}}
  - {id: nested_star, match: {fields: [{field: data.*, regex: '(a|aa)*b'}]}}
  - {id: overlap, match: {fields: [{field: data.*, regex: '(a*)*(a*)*c'}]}}
  - {id: counted, match: {fields: [{field: message|data.*, regex: '(?:a{1,30}){1,30}X'}]}}
  - {id: wide, match: {fields: [{field: message|data.*, regex: '[\x{100}-\x{10FFFF}]{50}z', case_insensitive: true}]}}
)",
                            "hostile.yaml");
  ASSERT_TRUE(set) << set.error().ToString();
  Matcher m(set.value());
  std::string hostile(1 << 20, 'a');
  hostile.back() = '!';  // so '(a+)+$' fails at the very end
  auto start = std::chrono::steady_clock::now();
  std::vector<uint32_t> got;
  m.Match(testing::MakeEvent("p", "c", 1, 4, hostile, {{"", hostile}, {"Name", hostile}}).View(),
          &got);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(got.empty());
  // Five passes over ~3 MB; generous for sanitizer and debug builds.
  EXPECT_LT(seconds, 10.0);

  // Regexes see the first kMaxRegexTextBytes of the megabyte: a hit ending
  // there is found, one a byte later is not.
  std::fill(hostile.begin(), hostile.end(), 'a');
  hostile[kMaxRegexTextBytes - 1] = 'b';
  got.clear();
  m.Match(testing::MakeEvent("p", "c", 1, 4, "", {{"", hostile}}).View(), &got);
  EXPECT_EQ(got, std::vector<uint32_t>{1});
  hostile[kMaxRegexTextBytes - 1] = 'a';
  hostile[kMaxRegexTextBytes] = 'b';
  got.clear();
  m.Match(testing::MakeEvent("p", "c", 1, 4, "", {{"", hostile}}).View(), &got);
  EXPECT_TRUE(got.empty());
}

TEST(FieldMatcherTest, PatternsOverTheProgramSizeLimitAreRefused) {
  FieldMatcher fm;
  std::string error;
  std::string costly;
  for (int i = 0; i < 20000; ++i) costly += "[a-z]+";
  EXPECT_EQ(fm.Add(costly, false, &error), -1);
  EXPECT_NE(error.find("is over the limit of 2000"), std::string::npos) << error;
  // A long alternation of names, as rules list tools or cmdlets, still loads.
  std::string names;
  for (int i = 0; i < 300; ++i) names += (i ? "|" : "") + std::string("tool") + std::to_string(i);
  EXPECT_EQ(fm.Add(names, true, &error), 0) << error;
  ASSERT_TRUE(fm.Compile());
  EXPECT_TRUE(fm.MatchesAny("run TOOL299.exe"));
}

TEST(FieldMatcherTest, ACutValueDoesNotEndAtTheCut) {
  FieldMatcher fm;
  std::string error;
  ASSERT_EQ(fm.Add("a$", false, &error), 0);
  ASSERT_EQ(fm.Add("a\\z", false, &error), 1);
  ASSERT_EQ(fm.Add("[^a]", false, &error), 2);
  ASSERT_EQ(fm.Add("(?s)a.$", false, &error), 3);
  ASSERT_TRUE(fm.Compile());
  const std::string long_run(kMaxRegexTextBytes + 10, 'a');
  std::vector<int> hits;
  EXPECT_FALSE(fm.MatchesAny(long_run));
  EXPECT_FALSE(fm.MatchAll(long_run, &hits));
  EXPECT_TRUE(hits.empty());
  for (int p = 0; p < 4; ++p) EXPECT_FALSE(fm.MatchesPattern(p, long_run)) << p;
  // The same regexes on a value within the bound.
  const std::string short_run(kMaxRegexTextBytes, 'a');
  EXPECT_TRUE(fm.MatchesPattern(0, short_run));
  EXPECT_TRUE(fm.MatchesPattern(1, short_run));
}

// Only sets without start/end anchors may be passed a field's values joined
// by '\n' (Matcher::ScanSlot): judged conservatively from the pattern text.
TEST(FieldMatcherTest, JoinableOnlyWithoutAnchors) {
  auto joinable = [](std::vector<std::string> regexes) {
    FieldMatcher fm;
    std::string error;
    for (const std::string& r : regexes) EXPECT_GE(fm.Add(r, true, &error), 0) << r << error;
    return fm.joinable();
  };
  EXPECT_TRUE(joinable({"mimikatz", "sekurlsa::", "C:\\\\temp", "a\\$b", "\\^x", "tok\\b",
                        "(?s)abc.*xyz", "[a-c]+"}));
  EXPECT_FALSE(joinable({"mimikatz", "^cmd"}));
  EXPECT_FALSE(joinable({"mimikatz", "\\.exe$"}));
  EXPECT_FALSE(joinable({"\\Afoo"}));
  EXPECT_FALSE(joinable({"foo\\z"}));
  EXPECT_FALSE(joinable({"[^a]"}));  // a class: literal, but judged conservatively
  EXPECT_FALSE(joinable({"(?m)^x"}));
}

// Rules on all of an event's data with unanchored patterns: the matcher
// first passes the values joined by '\n' through the set. Whatever the
// joined text holds across two values (a '.*' spanning them, a pattern with
// '\n'), a rule hits only when one value alone matches, and a value longer
// than RegexText's bound is seen only up to the cut, as one by one.
void CheckJoinedAgainstEachValue(const std::vector<std::string>& regexes,
                                 const std::vector<std::string>& pieces, bool literal_only) {
  std::string yaml = "rules:\n";
  std::vector<std::unique_ptr<RE2>> oracle;
  for (size_t i = 0; i < regexes.size(); ++i) {
    yaml += "  - {id: r" + std::to_string(i) + ", match: {fields: [{field: data.*, regex: '" +
            regexes[i] + "'}]}}\n";
    oracle.push_back(std::make_unique<RE2>(regexes[i]));
    ASSERT_TRUE(oracle.back()->ok()) << regexes[i];
  }
  auto set = RuleSet::Parse(yaml, "joined.yaml");
  ASSERT_TRUE(set) << set.error().ToString();
  Matcher m(set.value());
  const FieldMatcher& fm = *set.value()->compiled().slots()[0].matcher;
  EXPECT_TRUE(fm.joinable());
  EXPECT_EQ(fm.join_exact(), literal_only);
  std::mt19937 rng(7);
  int hits = 0;
  int events = 0;
  std::string cut_scratch;
  auto check = [&](const std::vector<std::pair<std::string, std::string>>& data) {
    std::vector<uint32_t> want;
    for (size_t i = 0; i < oracle.size(); ++i) {
      for (const auto& [name, value] : data) {
        if (RE2::PartialMatch(RegexText(value, &cut_scratch), *oracle[i])) {
          want.push_back(static_cast<uint32_t>(i));
          break;
        }
      }
    }
    std::vector<uint32_t> got;
    m.Match(testing::MakeEvent("p", "c", 1, 4, "", data).View(), &got);
    std::string shown;
    for (const auto& [name, value] : data) shown += "[" + value.substr(0, 40) + "]";
    EXPECT_EQ(got, want) << shown;
    hits += static_cast<int>(got.size());
    ++events;
  };
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::pair<std::string, std::string>> data;
    const int values = 1 + static_cast<int>(rng() % 6);
    for (int v = 0; v < values; ++v) {
      std::string value;
      const int parts = static_cast<int>(rng() % 3);
      for (int p = 0; p <= parts; ++p) value += pieces[rng() % pieces.size()];
      data.emplace_back("F" + std::to_string(v), value);
    }
    check(data);
  }
  // No value at all: no hit, even for a pattern that matches empty text.
  check({});
  // Across two values only: no hit.
  check({{"A", "abc"}, {"B", "xyz"}});
  check({{"A", "one"}, {"B", "two"}});
  check({{"A", "end"}, {"B", "start"}});
  // Past the cut of a long value: no hit; before it: a hit; a short value
  // after a long one is still seen whole.
  check({{"A", std::string(kMaxRegexTextBytes, 'q') + "mimikatz"}, {"B", "benign"}});
  check({{"A", "mimikatz" + std::string(kMaxRegexTextBytes, 'q')}, {"B", "benign"}});
  check({{"A", std::string(kMaxRegexTextBytes + 5, 'q')}, {"B", "tail-only"}});
  // More values than the joined pass takes (its bound): one by one.
  std::vector<std::pair<std::string, std::string>> many;
  for (int v = 0; v < 8; ++v) many.emplace_back("V", std::string(kMaxRegexTextBytes, 'q'));
  many.emplace_back("W", "mimikatz");
  check(many);
  EXPECT_GT(hits, 1000);  // the rounds exercised hits, not only misses
  EXPECT_EQ(events, 2008);
  EXPECT_EQ(m.stats().regex_fallbacks.Get(), 0u);
}

TEST(FieldMatcherTest, JoinedValuesAgreeWithEachValueAlone) {
  CheckJoinedAgainstEachValue(
      {"(?i)mimikatz", "(?i)sekurlsa::", "(?s)abc.*xyz", "tok[0-9]+\\b", "(?i)one\\ntwo",
       "(?s)end.start", "C:\\\\temp", "zz[a-c]+yy", "(?i)tail-only", "\\$dollar", "(?s)q*"},
      {"MIMIKATZ", "abc",    "xyz",
       "abc xyz",  "tok12",  "tok12x",
       "one",      "two",    "one\ntwo",
       "end",      "start",  "c:\\temp",
       "C:\\temp", "zzbyy",  "zz",
       "yy",       "benign", "",
       "$dollar",  "dollar", "sekurlsa::logonpasswords"},
      false);
}

// Literal patterns only (Sigma keywords): the joined text's hits are listed
// at once. A literal split across two values, or across a value's cut, is
// not a hit.
TEST(FieldMatcherTest, JoinedLiteralValuesAgreeWithEachValueAlone) {
  CheckJoinedAgainstEachValue(
      {"(?i)(?s)mimikatz", "(?i)(?s)sekurlsa::", "(?s)abc xyz", "(?i)(?s)C:\\\\temp",
       "(?i)(?s)tail-only", "(?s)\\$dollar", "(?i)(?s)x\\(y", "(?i)(?s)end start", "(?s)a",
       "(?i)(?s)MIMI", "(?i)(?s)"},
      {"MIMIKATZ", "mimi", "katz", "abc", "xyz", "abc xyz", "c:\\temp", "C:\\", "temp", "x(", "y",
       "x(y", "end ", "start", "end start", "benign", "", "$dollar", "$", "dollar", "a",
       "sekurlsa::logonpasswords", "tail-", "only",
       // Not ASCII: such a value goes through RE2 alone and the others
       // still take the literal path joined (Matcher::ScanSlot). RE2 folds
       // the Kelvin sign to k and the long s to s, the literal path never.
       "mimi\xE2\x84\xAA"
       "atz",
       "\xC5\xBF"
       "ekurlsa::",
       "caf\xC3\xA9", "\xFF"},
      true);
}

// Which regexes count as literal text (compared as bytes, not run by RE2).
TEST(FieldMatcherTest, LiteralPatternsAreRecognised) {
  auto literal = [](std::string_view re) { return LiteralPattern::Parse(re).has_value(); };
  EXPECT_TRUE(literal("(?i)(?s)^cmd\\.exe$"));
  EXPECT_TRUE(literal("(?s)\\\\temp\\\\"));
  EXPECT_TRUE(literal("(?is)a b-c_d:e/f,g;h'i\"j@k#l%m&n=o<p>q~r`s!"));
  EXPECT_TRUE(literal("^$"));
  EXPECT_TRUE(literal(""));
  EXPECT_FALSE(literal("(?m)^x$"));
  EXPECT_FALSE(literal("(?i)a.b"));
  EXPECT_FALSE(literal("(?i)a.*b"));
  EXPECT_FALSE(literal("(?i)a\\db"));
  EXPECT_FALSE(literal("(?i)a\\x41"));
  EXPECT_FALSE(literal("a$b"));
  EXPECT_FALSE(literal("a|b"));
  EXPECT_FALSE(literal("[ab]"));
  EXPECT_FALSE(literal("(?i)caf\xc3\xa9"));  // non-ASCII: (?i) folds Unicode
  EXPECT_FALSE(literal("(?i)a\\"));          // a lone trailing backslash
  EXPECT_FALSE(literal("(?:ab)"));
}

// A literal pattern asked alone answers as RE2 does on the same value: with
// and without (?i), anchored at either end or both, on ASCII and non-ASCII
// values (Unicode case folding: U+212A KELVIN SIGN matches (?i)k, U+017F
// LONG S matches (?i)s), and on values cut at RegexText's bound.
TEST(FieldMatcherTest, LiteralPatternsAnswerAsRE2) {
  const std::vector<std::string> bodies = {"k",     "s",     "sk", "cmd\\.exe", "a\\$b",
                                           "\\\\x", "x\\(y", "",   "AbC",       "q q"};
  const std::vector<std::string> pieces = {
      "k",   "K",   "\xe2\x84\xaa", "s",   "S",   "\xc5\xbf", "cmd.exe", "CMD.EXE",
      "a$b", "\\x", "x(y",          "abc", "ABC", "q q",      " ",       "z"};
  FieldMatcher fm;
  std::vector<std::unique_ptr<RE2>> oracle;
  std::string error;
  int literals = 0;
  for (const std::string& body : bodies) {
    for (const char* start : {"", "^"}) {
      for (const char* end : {"", "$"}) {
        for (bool ci : {false, true}) {
          const std::string regex = "(?s)" + std::string(start) + body + end;
          ASSERT_EQ(fm.Add(regex, ci, &error), static_cast<int>(oracle.size())) << regex << error;
          RE2::Options options;
          options.set_case_sensitive(!ci);
          oracle.push_back(std::make_unique<RE2>(regex, options));
          ASSERT_TRUE(oracle.back()->ok()) << regex;
          literals += LiteralPattern::Parse((ci ? "(?i)" : "") + regex).has_value() ? 1 : 0;
        }
      }
    }
  }
  EXPECT_EQ(literals, static_cast<int>(oracle.size()));  // every one takes the literal path
  // Patterns that are not literal text, and some only non-ASCII text
  // matches, share the set: the set passes agree with RE2 pattern by
  // pattern on ASCII text (the literal path) and on other text (RE2 alone).
  for (const std::string regex :
       {"(?s)c.d", "(?i)(?:-|/|\xe2\x80\x93)k", "(?i)\xc3\xa9t\xc3\xa9", "a\\$b$",
        "(?i)\xf0\x9f\x91\x89", "(?i)^(?:q q|z)$", "(?i)\xe2\x84\xaa.d",
        "(?i)\xc5\xbf"
        "ecret.x",
        "(?i)c[0-9-]+d x", "^\\w+(?:abc|b)$",
        // Atoms all required (python3 AND .dll+), and some not
        // ((alphax OR bravox) AND charlie): a pattern runs only when each
        // atom it cannot match without was found.
        "(?i)python3.*\\.dll\\+", "(?i)(?:alpha|bravo)x.*charlie"}) {
    ASSERT_EQ(fm.Add(regex, false, &error), static_cast<int>(oracle.size())) << regex << error;
    oracle.push_back(std::make_unique<RE2>(regex));
    ASSERT_TRUE(oracle.back()->ok()) << regex;
  }
  ASSERT_TRUE(fm.Compile());
  EXPECT_TRUE(fm.has_literal_path());
  std::vector<std::string> more_pieces = pieces;
  for (const char* p :
       {"c-d", "-K", "/k", "\xe2\x80\x93k", "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89",
        "\xf0\x9f\x91\x89", "kxd", "KZD", "c-1d x", "xxabc", "SECRET-X", "secret x", "python3",
        ".dll+", "PYTHON3x.DLL+", "alphax", "BRAVOX-", "charlie"}) {
    more_pieces.emplace_back(p);
  }
  std::mt19937 rng(11);
  std::string cut_scratch;
  int yes = 0;
  int listed = 0;
  std::vector<int> hits;
  for (int round = 0; round < 3000; ++round) {
    std::string value;
    const int parts = static_cast<int>(rng() % 4);
    for (int p = 0; p < parts; ++p) value += more_pieces[rng() % more_pieces.size()];
    if (round % 500 == 0) value = std::string(kMaxRegexTextBytes, 'q') + value;  // cut
    std::vector<int> want_all;
    for (size_t i = 0; i < oracle.size(); ++i) {
      const bool want = RE2::PartialMatch(RegexText(value, &cut_scratch), *oracle[i]);
      if (want) want_all.push_back(static_cast<int>(i));
      if (i < static_cast<size_t>(literals)) {
        EXPECT_EQ(fm.MatchesPattern(static_cast<int>(i), value), want)
            << "pattern " << oracle[i]->pattern() << " value " << value.substr(0, 40);
        yes += want ? 1 : 0;
      }
    }
    EXPECT_EQ(fm.MatchesAny(value), !want_all.empty()) << value.substr(0, 40);
    EXPECT_FALSE(fm.MatchAll(value, &hits));
    std::sort(hits.begin(), hits.end());
    EXPECT_EQ(hits, want_all) << value.substr(0, 40);
    listed += static_cast<int>(want_all.size());
  }
  EXPECT_GT(yes, 5000);  // the rounds exercised hits, not only misses
  EXPECT_GT(listed, 5000);
}

// The patterns of `hits` that are in `relevant` (ascending), sorted.
std::vector<int> Among(const std::vector<int>& relevant, std::vector<int> hits) {
  std::erase_if(hits,
                [&](int p) { return !std::binary_search(relevant.begin(), relevant.end(), p); });
  std::sort(hits.begin(), hits.end());
  return hits;
}

// A field of many literal patterns searches an event's relevant ones in a
// literal set of their own (FieldMatcher::SubsetFor): its hits are the
// whole set's among those patterns, on any text; it exists only where
// every pattern is literal and at most half are relevant, and there are at
// most kMaxSubsets of them.
TEST(FieldMatcherTest, LiteralSubsetsListAsTheWholeSet) {
  FieldMatcher fm;
  std::string error;
  std::vector<std::string> words;
  for (int i = 0; i < 40; ++i) {
    words.push_back("w" + std::to_string(i * 7) + "x");
    const char* anchor = i % 5 == 0 ? "^" : i % 5 == 1 ? "$" : "";
    const std::string regex = i % 5 == 1 ? "(?i)(?s)" + words.back() + anchor
                                         : std::string("(?i)(?s)") + anchor + words.back();
    ASSERT_EQ(fm.Add(regex, false, &error), i) << error;
  }
  ASSERT_EQ(fm.Add("(?i)(?s)", false, &error), 40);  // an empty literal: any text
  ASSERT_TRUE(fm.Compile());
  ASSERT_TRUE(fm.has_literal_path());
  std::mt19937 rng(5);
  std::vector<int> whole;
  std::vector<int> part;
  int found = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<int> relevant;
    for (int p = 0; p <= 40; ++p) {
      if (rng() % 4 == 0) relevant.push_back(p);
    }
    const LiteralSet* subset = fm.SubsetFor(relevant);
    if (relevant.size() * 2 > 41) {
      EXPECT_EQ(subset, nullptr);
      continue;
    }
    if (subset == nullptr) continue;            // past kMaxSubsets
    EXPECT_EQ(fm.SubsetFor(relevant), subset);  // built once
    for (int t = 0; t < 20; ++t) {
      std::string text;
      const int parts = static_cast<int>(rng() % 5);
      for (int k = 0; k < parts; ++k) {
        std::string w = words[rng() % words.size()];
        if (rng() % 2 == 0) std::transform(w.begin(), w.end(), w.begin(), ::toupper);
        text += w + (rng() % 2 == 0 ? " " : "");
      }
      ASSERT_TRUE(fm.MatchAllInJoined(text, &whole));
      ASSERT_TRUE(fm.MatchAllInJoined(text, &part, FieldMatcher::Ascii::kYes, subset));
      EXPECT_EQ(Among(relevant, part), Among(relevant, whole)) << text;
      found += static_cast<int>(Among(relevant, part).size());
    }
  }
  EXPECT_GT(found, 200);
  // At most kMaxSubsets (64) per field: then null, and the whole set answers.
  std::vector<const LiteralSet*> distinct;
  bool refused = false;
  for (int p = 0; p < 40 && !refused; ++p) {
    for (int q = p + 1; q < 40 && !refused; ++q) {
      const LiteralSet* subset = fm.SubsetFor({p, q});
      if (subset == nullptr) {
        refused = true;
      } else if (std::find(distinct.begin(), distinct.end(), subset) == distinct.end()) {
        distinct.push_back(subset);
      }
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_LE(distinct.size(), 64u);
  // Not every pattern literal: the subset holds the relevant literals and
  // every atom, and the patterns outside the literal set run as for the
  // whole set.
  FieldMatcher mixed;
  for (int i = 0; i < 40; ++i) ASSERT_EQ(mixed.Add("(?i)" + words[i], false, &error), i);
  ASSERT_EQ(mixed.Add("a[0-9]+b", false, &error), 40);                // no atom: the rest
  ASSERT_EQ(mixed.Add("(?i)w7x.*w14x[0-9]", false, &error), 41);      // filtered by atoms
  ASSERT_EQ(mixed.Add("(?i)(?:w21x|w28x)-w35x", false, &error), 42);  // atoms, some required
  ASSERT_TRUE(mixed.Compile());
  ASSERT_TRUE(mixed.has_literal_path());
  int mixed_found = 0;
  for (int round = 0; round < 60; ++round) {
    std::vector<int> relevant;
    for (int p = 0; p <= 42; ++p) {
      if (rng() % 5 == 0 || p >= 40) relevant.push_back(p);
    }
    const LiteralSet* subset = mixed.SubsetFor(relevant);
    if (relevant.size() * 2 > 43) continue;
    ASSERT_NE(subset, nullptr);
    for (int t = 0; t < 20; ++t) {
      std::string text;
      const int parts = static_cast<int>(rng() % 5);
      for (int k = 0; k < parts; ++k) {
        static const char* extra[] = {"a12b", "-", "5", "w21x-w35x", "W28X-W35X"};
        text += rng() % 3 == 0 ? std::string(extra[rng() % 5]) : words[rng() % words.size()];
      }
      ASSERT_TRUE(mixed.MatchAllInJoined(text, &whole));
      ASSERT_TRUE(mixed.MatchAllInJoined(text, &part, FieldMatcher::Ascii::kYes, subset));
      EXPECT_EQ(Among(relevant, part), Among(relevant, whole)) << text;
      for (int p : Among(relevant, part)) mixed_found += p >= 40 ? 10 : 1;
    }
  }
  EXPECT_GT(mixed_found, 100);
}

}  // namespace
}  // namespace eventsift::detect
