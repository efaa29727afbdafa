// Sigma rules through RuleSet::Parse and Matcher, case by case from the
// Sigma specification v2.1 (value modifiers, wildcards and escapes,
// condition grammar, null, keywords, collections) and docs/sigma.md
// (logsource mapping, refusals). Each test says what it proves.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/detect/matcher.h"
#include "src/detect/sigma_condition.h"
#include "src/detect/sigma_rule.h"
#include "src/detect/sigma_value.h"
#include "tests/unit/detect/test_events.h"

namespace eventsift::detect {
namespace {

using testing::MakeEvent;
using Data = std::vector<std::pair<std::string, std::string>>;

constexpr char kSysmon[] = "Microsoft-Windows-Sysmon/Operational";

// A Sigma process_creation rule with `detection` as given (indented 4).
std::string ProcRule(const std::string& detection, const std::string& id = "r1") {
  return "title: t\nid: " + id +
         "\nlogsource:\n    category: process_creation\n    product: windows\n"
         "detection:\n" +
         detection + "level: high\n";
}

std::shared_ptr<const RuleSet> Load(const std::string& yaml) {
  auto set = RuleSet::Parse(yaml, "test.yml");
  EXPECT_TRUE(set) << set.error().ToString();
  return set ? set.value() : nullptr;
}

OwnedEvent Sysmon1(Data data) {
  return MakeEvent("Microsoft-Windows-Sysmon", kSysmon, 1, 4, "", std::move(data));
}

bool Matches(const std::shared_ptr<const RuleSet>& set, const OwnedEvent& owned) {
  Matcher m(set);
  Event e = owned.View();
  std::vector<uint32_t> hits;
  m.Match(e, &hits);
  return !hits.empty();
}

// Loads the process_creation rule and says whether it matches a Sysmon 1
// event with these data fields.
bool ProcMatches(const std::string& detection, Data data) {
  auto set = Load(ProcRule(detection));
  if (set == nullptr || set->rules().size() != 1) {
    ADD_FAILURE() << "rule not loaded: "
                  << (set && !set->sigma_refused().empty() ? set->sigma_refused()[0].ToString()
                                                           : "");
    return false;
  }
  return Matches(set, Sysmon1(std::move(data)));
}

std::string Refusal(const std::string& yaml) {
  auto set = Load(yaml);
  if (set == nullptr || set->sigma_refused().empty()) return "";
  return set->sigma_refused()[0].ToString();
}

// Plain values compare whole, case-insensitively (spec: "case-insensitive
// by default", no implicit contains).
TEST(SigmaTest, PlainValueIsWholeAndCaseInsensitive) {
  const std::string d = "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel\n";
  EXPECT_TRUE(ProcMatches(d, {{"Image", "c:\\windows\\CMD.EXE"}}));
  EXPECT_FALSE(ProcMatches(d, {{"Image", "C:\\Windows\\cmd.exe2"}}));
  EXPECT_FALSE(ProcMatches(d, {{"Image", "X:C:\\Windows\\cmd.exe"}}));
}

// contains / startswith / endswith place the implicit wildcards.
TEST(SigmaTest, ContainsStartsWithEndsWith) {
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|contains: 'whoami'\n    condition: s\n",
                          {{"CommandLine", "cmd /c WHOAMI /all"}}));
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|startswith: 'cmd'\n    condition: s\n",
                          {{"CommandLine", "cmd /c x"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine|startswith: 'cmd'\n    condition: s\n",
                           {{"CommandLine", "x cmd"}}));
  EXPECT_TRUE(ProcMatches("    s:\n        Image|endswith: '\\cmd.exe'\n    condition: s\n",
                          {{"Image", "C:\\Windows\\System32\\cmd.exe"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        Image|endswith: '\\cmd.exe'\n    condition: s\n",
                           {{"Image", "C:\\cmd.exe.bak"}}));
}

// A list is any of its values; |all makes it all of them.
TEST(SigmaTest, ListsAreOrAndAllIsAnd) {
  const std::string any =
      "    s:\n        CommandLine|contains:\n            - 'aaa'\n"
      "            - 'bbb'\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(any, {{"CommandLine", "x bbb"}}));
  EXPECT_FALSE(ProcMatches(any, {{"CommandLine", "x ccc"}}));
  const std::string all =
      "    s:\n        CommandLine|contains|all:\n            - 'aaa'\n"
      "            - 'bbb'\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(all, {{"CommandLine", "bbb aaa"}}));
  EXPECT_FALSE(ProcMatches(all, {{"CommandLine", "x bbb"}}));
}

// A map is all of its fields; a list of maps is any of the maps.
TEST(SigmaTest, MapsAreAndListsOfMapsAreOr) {
  const std::string map =
      "    s:\n        Image|endswith: 'a.exe'\n        User: 'bob'\n"
      "    condition: s\n";
  EXPECT_TRUE(ProcMatches(map, {{"Image", "c:\\a.exe"}, {"User", "BOB"}}));
  EXPECT_FALSE(ProcMatches(map, {{"Image", "c:\\a.exe"}, {"User", "alice"}}));
  const std::string list =
      "    s:\n        - Image|endswith: 'a.exe'\n        - User: 'bob'\n"
      "    condition: s\n";
  EXPECT_TRUE(ProcMatches(list, {{"Image", "c:\\b.exe"}, {"User", "bob"}}));
  EXPECT_FALSE(ProcMatches(list, {{"Image", "c:\\b.exe"}, {"User", "x"}}));
}

// * and ? are wildcards; \* \? \\ are the literal characters; any other
// backslash is literal.
TEST(SigmaTest, WildcardsAndEscapes) {
  // 'C:\\*': an escaped backslash, then a wildcard ('C:\*' is a literal star).
  EXPECT_TRUE(ProcMatches("    s:\n        Image: 'C:\\\\*\\a?.exe'\n    condition: s\n",
                          {{"Image", "C:\\x\\y\\ab.exe"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        Image: 'C:\\\\*\\a?.exe'\n    condition: s\n",
                           {{"Image", "C:\\x\\abc.exe"}}));
  EXPECT_TRUE(
      ProcMatches("    s:\n        Image: 'C:\\*x'\n    condition: s\n", {{"Image", "C:*x"}}));
  EXPECT_FALSE(
      ProcMatches("    s:\n        Image: 'C:\\*x'\n    condition: s\n", {{"Image", "C:\\x"}}));
  // \* is a literal star: "a*b" does not match "axb".
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine: 'a\\*b'\n    condition: s\n",
                          {{"CommandLine", "a*b"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine: 'a\\*b'\n    condition: s\n",
                           {{"CommandLine", "axb"}}));
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine: 'a\\?'\n    condition: s\n",
                          {{"CommandLine", "a?"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine: 'a\\?'\n    condition: s\n",
                           {{"CommandLine", "ab"}}));
  // \\ followed by * : a literal backslash, then a wildcard.
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine: 'a\\\\*'\n    condition: s\n",
                          {{"CommandLine", "a\\anything"}}));
  // A value ending in a backslash keeps it literal under contains: the
  // implicit wildcard is not escaped by it.
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|contains: ':\\Temp\\'\n    condition: s\n",
                          {{"CommandLine", "copy x C:\\Temp\\a.exe"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine|contains: ':\\Temp\\'\n    condition: s\n",
                           {{"CommandLine", "copy x C:\\Temp*"}}));
  // Regex metacharacters in values are literal.
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine: '(a+b).[c]'\n    condition: s\n",
                          {{"CommandLine", "(a+b).[c]"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine: '(a+b).[c]'\n    condition: s\n",
                           {{"CommandLine", "aab.c"}}));
}

// cased makes the comparison case-sensitive.
TEST(SigmaTest, Cased) {
  const std::string d = "    s:\n        CommandLine|cased: 'AbC'\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(d, {{"CommandLine", "AbC"}}));
  EXPECT_FALSE(ProcMatches(d, {{"CommandLine", "abc"}}));
}

// re is unanchored and case-sensitive; i, m, s are its flags.
TEST(SigmaTest, RegexAndFlags) {
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|re: 'a[0-9]+b'\n    condition: s\n",
                          {{"CommandLine", "xx a12b yy"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine|re: 'a[0-9]+b'\n    condition: s\n",
                           {{"CommandLine", "A12B"}}));
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|re|i: 'a[0-9]+b'\n    condition: s\n",
                          {{"CommandLine", "A12B"}}));
  // m: ^ matches after a newline.
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|re|m: '^second'\n    condition: s\n",
                          {{"CommandLine", "first\nsecond"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine|re: '^second'\n    condition: s\n",
                           {{"CommandLine", "first\nsecond"}}));
  // s: . matches a newline.
  EXPECT_TRUE(ProcMatches("    s:\n        CommandLine|re|s: 'a.b'\n    condition: s\n",
                          {{"CommandLine", "a\nb"}}));
  EXPECT_FALSE(ProcMatches("    s:\n        CommandLine|re: 'a.b'\n    condition: s\n",
                           {{"CommandLine", "a\nb"}}));
}

// What RE2 cannot run in linear time is refused, by name, and the other
// rules of the file still load.
TEST(SigmaTest, BacktrackingRegexIsRefusedByName) {
  std::string yaml =
      ProcRule("    s:\n        CommandLine|re: '(a)\\1'\n    condition: s\n", "bad") + "---\n" +
      ProcRule("    s:\n        CommandLine|re: '(?<!x)y'\n    condition: s\n", "bad2") + "---\n" +
      ProcRule("    s:\n        CommandLine: x\n    condition: s\n", "ok");
  auto set = Load(yaml);
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->rules().size(), 1u);
  EXPECT_EQ(set->rules()[0].id, "ok");
  ASSERT_EQ(set->sigma_refused().size(), 2u);
  EXPECT_NE(set->sigma_refused()[0].ToString().find("backreference"), std::string::npos);
  EXPECT_NE(set->sigma_refused()[1].ToString().find("lookbehind"), std::string::npos);
  EXPECT_NE(set->sigma_refused()[0].ToString().find("test.yml:"), std::string::npos);
}

// A refusal names the line of the field that holds the refused value, in
// the document's own line numbers (each ProcRule is 10 lines, then "---"):
// the rule is read from the YAML as loaded, whose nodes keep their marks.
TEST(SigmaTest, RefusalNamesTheLineOfTheRefusedValue) {
  std::string yaml =
      ProcRule("    s:\n        CommandLine|re: '(a)\\1'\n    condition: s\n", "bad") + "---\n" +
      ProcRule(
          "    s:\n        CommandLine: x\n    other:\n        Image|re: '(?=x)'\n"
          "    condition: s or other\n",
          "bad2");
  auto set = Load(yaml);
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->sigma_refused().size(), 2u);
  EXPECT_NE(set->sigma_refused()[0].ToString().find(" test.yml:8: "), std::string::npos)
      << set->sigma_refused()[0].ToString();
  EXPECT_NE(set->sigma_refused()[1].ToString().find(" test.yml:21: "), std::string::npos)
      << set->sigma_refused()[1].ToString();
}

// base64 encodes the value; base64offset finds it at any of the three byte
// offsets inside a longer base64 text.
TEST(SigmaTest, Base64AndBase64Offset) {
  EXPECT_EQ(Base64Encode("whoami"), "d2hvYW1p");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_TRUE(
      ProcMatches("    s:\n        CommandLine|base64|contains: 'whoami'\n"
                  "    condition: s\n",
                  {{"CommandLine", "powershell -enc d2hvYW1p"}}));
  // "xwhoami" and "xxwhoami" encoded: the value sits at offsets 1 and 2.
  const std::string d =
      "    s:\n        CommandLine|base64offset|contains: 'whoami'\n"
      "    condition: s\n";
  for (std::string prefix : {"", "x", "xx", "xyz1"}) {
    EXPECT_TRUE(ProcMatches(d, {{"CommandLine", "-enc " + Base64Encode(prefix + "whoami /all")}}))
        << prefix;
  }
  EXPECT_FALSE(ProcMatches(d, {{"CommandLine", "-enc " + Base64Encode("whoever")}}));
}

// utf16le/wide, utf16be and utf16 (with BOM) encode before base64.
TEST(SigmaTest, Utf16Encodings) {
  EXPECT_EQ(ToUtf16("ab", Utf16Form::kLittleEndian), std::string("a\0b\0", 4));
  EXPECT_EQ(ToUtf16("ab", Utf16Form::kBigEndian), std::string("\0a\0b", 4));
  EXPECT_EQ(ToUtf16("a", Utf16Form::kLittleEndianBom), std::string("\xff\xfe"
                                                                   "a\0",
                                                                   4));
  std::string encoded = Base64Encode(ToUtf16("IEX (New-Object", Utf16Form::kLittleEndian));
  EXPECT_TRUE(
      ProcMatches("    s:\n        CommandLine|wide|base64offset|contains: 'IEX ('\n"
                  "    condition: s\n",
                  {{"CommandLine", "powershell -e " + encoded}}));
  // base64 without offset finds an aligned value: "IEX" is 6 bytes in
  // UTF-16, two whole base64 groups.
  EXPECT_TRUE(
      ProcMatches("    s:\n        CommandLine|utf16le|base64|contains: 'IEX'\n"
                  "    condition: s\n",
                  {{"CommandLine", "powershell -e " + encoded}}));
}

// windash: '-' also matches '/', en dash, em dash and horizontal bar.
TEST(SigmaTest, Windash) {
  const std::string d =
      "    s:\n        CommandLine|windash|contains: ' -enc '\n    condition: s\n";
  for (std::string dash : {"-", "/", "\u2013", "\u2014", "\u2015"}) {
    EXPECT_TRUE(ProcMatches(d, {{"CommandLine", "powershell " + dash + "enc abc"}})) << dash;
  }
  EXPECT_FALSE(ProcMatches(d, {{"CommandLine", "powershell +enc abc"}}));
}

// cidr: IPv4 and IPv6 ranges.
TEST(SigmaTest, Cidr) {
  const std::string d =
      "    s:\n        DestinationIp|cidr:\n            - '10.0.0.0/8'\n"
      "            - 'fe80::/10'\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(d, {{"DestinationIp", "10.200.1.2"}}));
  EXPECT_FALSE(ProcMatches(d, {{"DestinationIp", "11.0.0.1"}}));
  EXPECT_TRUE(ProcMatches(d, {{"DestinationIp", "fe80::1%12"}}));
  EXPECT_FALSE(ProcMatches(d, {{"DestinationIp", "fec0::1"}}));
  EXPECT_FALSE(ProcMatches(d, {{"DestinationIp", "not an ip"}}));
}

// exists: true holds when the field is present (even empty), false when absent.
TEST(SigmaTest, Exists) {
  const std::string yes =
      "    s:\n        Hashes|exists: true\n        Image: x\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(yes, {{"Image", "x"}, {"Hashes", ""}}));
  EXPECT_FALSE(ProcMatches(yes, {{"Image", "x"}}));
  const std::string no =
      "    s:\n        Hashes|exists: false\n        Image: x\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(no, {{"Image", "x"}}));
  EXPECT_FALSE(ProcMatches(no, {{"Image", "x"}, {"Hashes", "SHA1=1"}}));
}

// null: the field is absent or empty.
TEST(SigmaTest, Null) {
  const std::string d = "    s:\n        Image: x\n        ParentImage: null\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(d, {{"Image", "x"}}));
  EXPECT_TRUE(ProcMatches(d, {{"Image", "x"}, {"ParentImage", ""}}));
  EXPECT_FALSE(ProcMatches(d, {{"Image", "x"}, {"ParentImage", "p"}}));
  // An empty string is "present and empty", not "absent".
  const std::string empty = "    s:\n        Image: x\n        ParentImage: ''\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(empty, {{"Image", "x"}, {"ParentImage", ""}}));
  EXPECT_FALSE(ProcMatches(empty, {{"Image", "x"}}));
}

// gt/gte/lt/lte compare numbers (decimal, and 0x hex as Windows prints ids).
TEST(SigmaTest, NumericComparisons) {
  const std::string gt =
      "    s:\n        Image: x\n        TerminalSessionId|gt: 1\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(gt, {{"Image", "x"}, {"TerminalSessionId", "2"}}));
  EXPECT_FALSE(ProcMatches(gt, {{"Image", "x"}, {"TerminalSessionId", "1"}}));
  EXPECT_FALSE(ProcMatches(gt, {{"Image", "x"}, {"TerminalSessionId", "abc"}}));
  const std::string gte =
      "    s:\n        Image: x\n        TerminalSessionId|gte: 1\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(gte, {{"Image", "x"}, {"TerminalSessionId", "1"}}));
  const std::string lt = "    s:\n        Image: x\n        ProcessId|lt: 16\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(lt, {{"Image", "x"}, {"ProcessId", "0xf"}}));
  EXPECT_FALSE(ProcMatches(lt, {{"Image", "x"}, {"ProcessId", "0x10"}}));
  const std::string lte = "    s:\n        Image: x\n        ProcessId|lte: 16\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(lte, {{"Image", "x"}, {"ProcessId", "16"}}));
}

// fieldref compares one field with another (equality, and with
// startswith/endswith/contains).
TEST(SigmaTest, FieldRef) {
  const std::string eq = "    s:\n        Image|fieldref: ParentImage\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(eq, {{"Image", "C:\\a.exe"}, {"ParentImage", "c:\\A.exe"}}));
  EXPECT_FALSE(ProcMatches(eq, {{"Image", "C:\\a.exe"}, {"ParentImage", "C:\\b.exe"}}));
  EXPECT_FALSE(ProcMatches(eq, {{"Image", "C:\\a.exe"}}));
  const std::string ends =
      "    s:\n        CommandLine|fieldref|endswith: Image\n    condition: s\n";
  EXPECT_TRUE(ProcMatches(ends, {{"CommandLine", "run C:\\a.exe"}, {"Image", "C:\\a.exe"}}));
  EXPECT_FALSE(ProcMatches(ends, {{"CommandLine", "C:\\a.exe run"}, {"Image", "C:\\a.exe"}}));
}

// expand replaces %placeholders% from the placeholder file; without one the
// rule is refused with that reason.
TEST(SigmaTest, ExpandPlaceholders) {
  SigmaModifiers mods;
  ASSERT_TRUE(ParseModifiers({"expand"}, &mods).ok());
  SigmaPatterns out;
  SigmaPlaceholders ph{{"Admins", {"root", "admin"}}};
  ASSERT_TRUE(SigmaValuePatterns("%Admins%", mods, ph, &out).ok());
  EXPECT_EQ(out.regexes, (std::vector<std::string>{"(?s)^root$", "(?s)^admin$"}));
  Status missing = SigmaValuePatterns("%Other%", mods, ph, &out);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.ToString().find("placeholder %Other%"), std::string::npos);
  EXPECT_NE(Refusal(ProcRule("    s:\n        User|expand: '%Admins%'\n    condition: s\n"))
                .find("expand"),
            std::string::npos);
}

// Keywords: a list of strings (or one string) is looked for in every text
// field of the event.
TEST(SigmaTest, KeywordsSearchEveryValue) {
  const std::string d =
      "    keywords:\n        - 'mimikatz'\n        - 'sekurlsa'\n"
      "    condition: keywords\n";
  EXPECT_TRUE(ProcMatches(d, {{"Image", "x"}, {"CommandLine", "run MIMIKATZ.exe"}}));
  EXPECT_FALSE(ProcMatches(d, {{"Image", "x"}, {"CommandLine", "benign"}}));
  const std::string all =
      "    keywords:\n        '|all':\n            - 'a1'\n"
      "            - 'b2'\n    condition: keywords\n";
  EXPECT_TRUE(ProcMatches(all, {{"Image", "a1"}, {"CommandLine", "b2"}}));
  EXPECT_FALSE(ProcMatches(all, {{"Image", "a1"}}));
}

// Condition grammar: and, or, not, parentheses, precedence not > and > or.
TEST(SigmaTest, ConditionOperatorsAndPrecedence) {
  const std::string sels =
      "    a:\n        Image: a\n    b:\n        User: b\n"
      "    c:\n        CommandLine: c\n";
  // a or b and c == a or (b and c)
  const std::string d1 = sels + "    condition: a or b and c\n";
  EXPECT_TRUE(ProcMatches(d1, {{"Image", "a"}}));
  EXPECT_FALSE(ProcMatches(d1, {{"User", "b"}}));
  EXPECT_TRUE(ProcMatches(d1, {{"User", "b"}, {"CommandLine", "c"}}));
  const std::string d2 = sels + "    condition: (a or b) and not c\n";
  EXPECT_TRUE(ProcMatches(d2, {{"User", "b"}}));
  EXPECT_FALSE(ProcMatches(d2, {{"User", "b"}, {"CommandLine", "c"}}));
  const std::string d3 = sels + "    condition: not a and not b\n";
  EXPECT_TRUE(ProcMatches(d3, {{"CommandLine", "c"}}));
  EXPECT_FALSE(ProcMatches(d3, {{"Image", "a"}}));
}

// "1 of", "all of", "N of" with wildcards and "them"; "them" skips names
// starting with an underscore.
TEST(SigmaTest, Quantifiers) {
  const std::string sels =
      "    sel_a:\n        Image: a\n    sel_b:\n        User: b\n"
      "    filter:\n        CommandLine: c\n";
  EXPECT_TRUE(ProcMatches(sels + "    condition: 1 of sel_*\n", {{"User", "b"}}));
  EXPECT_FALSE(ProcMatches(sels + "    condition: all of sel_*\n", {{"User", "b"}}));
  EXPECT_TRUE(ProcMatches(sels + "    condition: all of sel_*\n", {{"User", "b"}, {"Image", "a"}}));
  EXPECT_TRUE(ProcMatches(sels + "    condition: 1 of them\n", {{"CommandLine", "c"}}));
  EXPECT_FALSE(ProcMatches(sels + "    condition: all of them\n", {{"User", "b"}, {"Image", "a"}}));
  EXPECT_TRUE(
      ProcMatches(sels + "    condition: 2 of them\n", {{"User", "b"}, {"CommandLine", "c"}}));
  EXPECT_FALSE(ProcMatches(sels + "    condition: 2 of them\n", {{"User", "b"}}));
  EXPECT_TRUE(ProcMatches(sels + "    condition: 1 of sel_* and not filter\n", {{"Image", "a"}}));
  const std::string underscore =
      "    sel:\n        Image: a\n    _helper:\n        User: b\n"
      "    condition: all of them\n";
  EXPECT_TRUE(ProcMatches(underscore, {{"Image", "a"}}));
  EXPECT_TRUE(SigmaNameMatches("sel_*", "sel_x"));
  EXPECT_TRUE(SigmaNameMatches("s?l*", "sel"));
  EXPECT_FALSE(SigmaNameMatches("sel_*", "filter"));
}

// Hostile nesting is refused by name, not a stack overflow.
TEST(SigmaTest, DeepConditionIsRefused) {
  std::string deep(5000, '(');
  deep += "a" + std::string(5000, ')');
  EXPECT_NE(Refusal(ProcRule("    a:\n        Image: a\n    condition: " + deep + "\n"))
                .find("nested deeper than 64"),
            std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(Refusal(ProcRule("    a:\n        Image: a\n    condition: " + nots + "a\n"))
                .find("nested deeper than 64"),
            std::string::npos);
}

// A list of conditions is any of them.
TEST(SigmaTest, ConditionList) {
  const std::string d =
      "    a:\n        Image: a\n    b:\n        User: b\n"
      "    condition:\n        - a\n        - b\n";
  EXPECT_TRUE(ProcMatches(d, {{"User", "b"}}));
  EXPECT_FALSE(ProcMatches(d, {{"User", "x"}}));
}

// Aggregations, unknown selections and unknown modifiers are refused, each
// with its reason; the file's other rules still load.
TEST(SigmaTest, RefusalsNameTheReason) {
  EXPECT_NE(Refusal(ProcRule("    s:\n        Image: a\n    condition: s | count() > 5\n"))
                .find("aggregation"),
            std::string::npos);
  EXPECT_NE(
      Refusal(ProcRule("    s:\n        Image: a\n    condition: s and nope\n")).find("'nope'"),
      std::string::npos);
  EXPECT_NE(Refusal(ProcRule("    s:\n        Image|frobnicate: a\n    condition: s\n"))
                .find("value modifier 'frobnicate'"),
            std::string::npos);
  EXPECT_NE(Refusal("title: t\nid: x1\nlogsource:\n    product: linux\n    category: "
                    "process_creation\ndetection:\n    s:\n        a: b\n    condition: s\n")
                .find("product 'linux'"),
            std::string::npos);
}

// process_creation is Sysmon 1 and Security 4688, with 4688's field names
// mapped (NewProcessName -> Image, ParentProcessName -> ParentImage).
TEST(SigmaTest, ProcessCreationMapsSecurity4688) {
  auto set =
      Load(ProcRule("    s:\n        Image|endswith: '\\evil.exe'\n"
                    "        ParentImage|endswith: '\\word.exe'\n    condition: s\n"));
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(Matches(
      set, MakeEvent("Microsoft-Windows-Security-Auditing", "Security", 4688, 0, "",
                     {{"NewProcessName", "C:\\evil.exe"}, {"ParentProcessName", "C:\\word.exe"}})));
  EXPECT_TRUE(Matches(set, Sysmon1({{"Image", "C:\\evil.exe"}, {"ParentImage", "C:\\word.exe"}})));
  // Sysmon names on a 4688 event, or another channel's event 1, do not match.
  EXPECT_FALSE(
      Matches(set, MakeEvent("x", "Security", 4688, 0, "",
                             {{"Image", "C:\\evil.exe"}, {"ParentImage", "C:\\word.exe"}})));
  EXPECT_FALSE(
      Matches(set, MakeEvent("x", "Security", 1, 0, "",
                             {{"Image", "C:\\evil.exe"}, {"ParentImage", "C:\\word.exe"}})));
  EXPECT_FALSE(Matches(
      set, MakeEvent("x", kSysmon, 4688, 0, "",
                     {{"NewProcessName", "C:\\evil.exe"}, {"ParentProcessName", "C:\\word.exe"}})));
  // Each channel with the other's event id and its own field names: the
  // channel and the event id are checked together.
  EXPECT_FALSE(
      Matches(set, MakeEvent("x", kSysmon, 4688, 0, "",
                             {{"Image", "C:\\evil.exe"}, {"ParentImage", "C:\\word.exe"}})));
  EXPECT_FALSE(Matches(
      set, MakeEvent("x", "Security", 1, 0, "",
                     {{"NewProcessName", "C:\\evil.exe"}, {"ParentProcessName", "C:\\word.exe"}})));
}

// service: security is the Security channel, any event id; EventID in the
// detection is a header field.
TEST(SigmaTest, ServiceAndEventId) {
  auto set = Load(
      "title: t\nid: s1\nlogsource:\n    product: windows\n    service: security\n"
      "detection:\n    s:\n        EventID: 4624\n        LogonType: 10\n"
      "    condition: s\n");
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(Matches(set, MakeEvent("p", "Security", 4624, 0, "", {{"LogonType", "10"}})));
  EXPECT_FALSE(Matches(set, MakeEvent("p", "Security", 4625, 0, "", {{"LogonType", "10"}})));
  EXPECT_FALSE(Matches(set, MakeEvent("p", "System", 4624, 0, "", {{"LogonType", "10"}})));
  EXPECT_FALSE(Matches(set, MakeEvent("p", "Security", 4624, 0, "", {{"LogonType", "100"}})));
}

// Collections: action global is merged into the documents after it, repeat
// copies the previous one with changes, reset drops the global part.
TEST(SigmaTest, RuleCollections) {
  auto set = Load(R"(action: global
title: collection
logsource:
    product: windows
    service: security
detection:
    condition: s
level: low
---
id: c1
detection:
    s:
        EventID: 1
---
action: repeat
id: c2
detection:
    s:
        EventID: 2
---
action: reset
---
id: c3
title: alone
logsource:
    product: windows
    service: system
detection:
    s:
        EventID: 3
    condition: s
)");
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->rules().size(), 3u)
      << (set->sigma_refused().empty() ? "" : set->sigma_refused()[0].ToString());
  EXPECT_EQ(set->rules()[0].title, "collection");
  EXPECT_EQ(set->rules()[0].severity, "low");
  EXPECT_TRUE(Matches(set, MakeEvent("p", "Security", 2, 0)));
  EXPECT_TRUE(Matches(set, MakeEvent("p", "System", 3, 0)));
  EXPECT_FALSE(Matches(set, MakeEvent("p", "System", 1, 0)));
  EXPECT_EQ(set->rules()[2].title, "alone");
  EXPECT_EQ(set->rules()[2].severity, "medium");  // reset: the global level no longer applies
}

// Correlation documents are recognised and loaded for the correlation
// engine (sigma_correlation_parser), not refused as rules.
TEST(SigmaTest, CorrelationIsPassedThrough) {
  auto set = Load(ProcRule("    s:\n        Image: a\n    condition: s\n") + R"(---
title: many
id: corr1
name: many_a
correlation:
    type: event_count
    rules:
        - r1
    group-by:
        - Computer
    timespan: 24h
    condition:
        gte: 5
)");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->rules().size(), 1u);
  EXPECT_TRUE(set->sigma_refused().empty());
  ASSERT_EQ(set->sigma_correlations().size(), 1u);
  EXPECT_EQ(SigmaCorrelationTypeName(set->sigma_correlations()[0].type), "event_count");
  EXPECT_EQ(set->sigma_correlations()[0].rules, (std::vector<std::string>{"r1"}));
}

// Metadata is carried: level as severity, status, tags, falsepositives, name.
TEST(SigmaTest, MetadataIsCarried) {
  auto set = Load(
      "title: T\nid: m1\nname: my_rule\nstatus: test\ntags:\n    - attack.t1059\n"
      "falsepositives:\n    - admins\nreferences:\n    - https://x\n"
      "logsource:\n    product: windows\n    service: system\n"
      "detection:\n    s:\n        EventID: 7045\n    condition: s\nlevel: critical\n");
  ASSERT_NE(set, nullptr);
  const Rule& r = set->rules()[0];
  ASSERT_NE(r.sigma, nullptr);
  EXPECT_EQ(r.severity, "critical");
  EXPECT_EQ(r.sigma->name, "my_rule");
  EXPECT_EQ(r.sigma->status, "test");
  EXPECT_EQ(r.sigma->tags, (std::vector<std::string>{"attack.t1059"}));
  EXPECT_EQ(r.sigma->falsepositives, (std::vector<std::string>{"admins"}));
  EXPECT_EQ(r.references, (std::vector<std::string>{"https://x"}));
}

// The hit prefilter (CompiledRules::RuleEntry::needs_hit): a rule that can
// only match through one of its own field hits is skipped on events that hit
// none of its patterns, while rules that hold without any hit (only a
// negation, only `exists`/`null`, `1 of` with an all-negated branch) are
// still evaluated. Each rule is checked against the unindexed reference
// path on events that hit nothing, hit only another rule, and hit it.
TEST(SigmaTest, HitPrefilterKeepsRulesThatHoldWithoutAHit) {
  const std::string rules =
      ProcRule("    sel:\n        Image|endswith: '\\a.exe'\n    condition: sel\n", "needs") +
      "---\n" +
      ProcRule("    filter:\n        Image|endswith: '\\b.exe'\n    condition: not filter\n",
               "only_not") +
      "---\n" + ProcRule("    sel:\n        Hashes: null\n    condition: sel\n", "only_null") +
      "---\n" +
      ProcRule(
          "    sel:\n        Image|endswith: '\\a.exe'\n    f:\n        User: x\n"
          "    condition: 1 of sel or not f\n",
          "or_not") +
      "---\n" +
      ProcRule(
          "    sel:\n        Image|endswith: '\\a.exe'\n    f:\n        User: x\n"
          "    condition: sel and not f\n",
          "and_not");
  auto set = Load(rules);
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->rules().size(), 5u);
  Matcher indexed(set, true), reference(set, false);
  auto ids = [&](const Matcher& m, const OwnedEvent& owned) {
    std::vector<uint32_t> hits;
    m.Match(owned.View(), &hits);
    std::vector<std::string> out;
    for (uint32_t i : hits) out.push_back(m.rules()[i].id);
    return out;
  };
  using Ids = std::vector<std::string>;
  const OwnedEvent none = Sysmon1({{"Image", "C:\\c.exe"}, {"Hashes", "h"}, {"User", "x"}});
  const OwnedEvent other = Sysmon1({{"Image", "C:\\b.exe"}, {"User", "y"}});
  const OwnedEvent hit = Sysmon1({{"Image", "C:\\a.exe"}, {"User", "y"}});
  EXPECT_EQ(ids(indexed, none), (Ids{"only_not"}));
  EXPECT_EQ(ids(indexed, other), (Ids{"only_null", "or_not"}));
  EXPECT_EQ(ids(indexed, hit), (Ids{"needs", "only_not", "only_null", "or_not", "and_not"}));
  for (const OwnedEvent* e : {&none, &other, &hit}) {
    EXPECT_EQ(ids(indexed, *e), ids(reference, *e));
  }
  // Each rule's flag, as the index sees it.
  const auto& entries = set->compiled().entries();
  std::vector<bool> needs;
  for (const auto& e : entries) needs.push_back(e.needs_hit);
  EXPECT_EQ(needs, (std::vector<bool>{true, false, false, false, true}));
}

// Rules whose logsource gives channels but no event id (service: security
// without EventID) are filed under their channel: other channels' events
// never meet them, and the channel compares case-insensitively.
TEST(SigmaTest, ChannelIndexForRulesWithoutEventIds) {
  auto set = Load(
      "title: t\nid: sec\nlogsource:\n    product: windows\n    service: security\n"
      "detection:\n    sel:\n        TargetUserName: admin\n    condition: sel\n");
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->rules().size(), 1u);
  const CompiledRules& c = set->compiled();
  EXPECT_TRUE(c.HasChannelIndex());
  EXPECT_EQ(c.ByChannel("security"), (std::vector<uint32_t>{0}));
  EXPECT_TRUE(c.unindexed().empty());
  Matcher m(set);
  EXPECT_TRUE(Matches(set, MakeEvent("Microsoft-Windows-Security-Auditing", "SECURITY", 4624, 0, "",
                                     {{"TargetUserName", "Admin"}})));
  EXPECT_FALSE(Matches(set, MakeEvent("Microsoft-Windows-Security-Auditing", "System", 4624, 0, "",
                                      {{"TargetUserName", "admin"}})));
  const OwnedEvent other = MakeEvent("x", "System", 1, 0, "", {});
  EXPECT_FALSE(m.MayMatch(other.View()));
}

}  // namespace
}  // namespace eventsift::detect
