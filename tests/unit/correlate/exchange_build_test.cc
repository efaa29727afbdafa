#include "src/correlate/exchange_build.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace eventsift::correlate {
namespace {

ExchangeVersion V(uint32_t major, uint32_t minor, uint32_t build, uint32_t revision,
                  bool revision_known = true) {
  return ExchangeVersion{major, minor, build, revision, revision_known};
}

TEST(ParseExchangeVersionTest, DottedForms) {
  EXPECT_EQ(ParseExchangeVersion("15.1.2507.23"), V(15, 1, 2507, 23));
  // ExSetup/Watson zero padding (domain.md section 2).
  EXPECT_EQ(ParseExchangeVersion("15.01.2507.023"), V(15, 1, 2507, 23));
  EXPECT_EQ(ParseExchangeVersion("15.00.1104.005"), V(15, 0, 1104, 5));
  EXPECT_EQ(ParseExchangeVersion("  15.2.1118.26\r\n"), V(15, 2, 1118, 26));
}

TEST(ParseExchangeVersionTest, AdminDisplayVersionHasNoSuRevision) {
  auto v = ParseExchangeVersion("Version 15.1 (Build 2507.6)");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, V(15, 1, 2507, 6, /*revision_known=*/false));
  EXPECT_FALSE(v->revision_known);
}

TEST(ParseExchangeVersionTest, RejectsOtherText) {
  EXPECT_FALSE(ParseExchangeVersion(""));
  EXPECT_FALSE(ParseExchangeVersion("15.1.2507"));
  EXPECT_FALSE(ParseExchangeVersion("15.1.2507.23.1"));
  EXPECT_FALSE(ParseExchangeVersion("15.1.2507.23x"));
  EXPECT_FALSE(ParseExchangeVersion("15..2507.23"));
  EXPECT_FALSE(ParseExchangeVersion("Version 15.1 (Build 2507)"));
  EXPECT_FALSE(ParseExchangeVersion("Version 15.1 (Build 2507.6"));
  EXPECT_FALSE(ParseExchangeVersion("1234567890.1.2507.23"));  // > 9 digits
  EXPECT_FALSE(ParseExchangeVersion("Exchange 2019"));
}

TEST(ParseExchangeVersionTextTest, LenientForms) {
  const auto parse = [](std::string_view s) {
    auto v = ParseExchangeVersionText(s);
    EXPECT_TRUE(v) << s << ": " << v.error().ToString();
    return v ? v.value() : ExchangeVersion{};
  };
  EXPECT_EQ(parse("15.2.1118.20"), V(15, 2, 1118, 20));
  EXPECT_EQ(parse("15.01.2507.006"), V(15, 1, 2507, 6));
  EXPECT_EQ(parse(" 15.02.1118.026 \n"), V(15, 2, 1118, 26));  // ExSetup.exe file version
  EXPECT_EQ(parse("Version 15.1 (Build 2507.6)"), V(15, 1, 2507, 6, false));
  EXPECT_EQ(parse("ExSetup.exe 15.02.1118.026"), V(15, 2, 1118, 26));
  EXPECT_EQ(parse("Exchange Server 2019 CU12 Nov22 SU (15.2.1118.20)"), V(15, 2, 1118, 20));
  EXPECT_EQ(parse("AdminDisplayVersion: Version 15.2 (Build 1118.7)"), V(15, 2, 1118, 7, false));
  // A Windows version beside it is not an Exchange one.
  EXPECT_EQ(parse("Windows 10.0.17763.1 Exchange 15.2.1118.20"), V(15, 2, 1118, 20));
  EXPECT_EQ(parse("8.3.517.0"), V(8, 3, 517, 0));
}

// Seen reading the parser for tests/fuzz/lists_fuzzer, which then timed out
// on such an input (-timeout=10, 1 MiB): every "(Build " searched backwards for
// "Version " through the whole text before it, so 100 KB of "(Build " took
// minutes (`builds check`, inventory fields, and every event's data values go
// through this). With the search bounded to the 28 bytes a version can span,
// 1 MiB takes milliseconds; before, these two tests had not finished after
// 120 s.
TEST(ParseExchangeVersionTextTest, ManyBuildMarkersAreLinear) {
  std::string text;
  for (int i = 0; i < 150000; ++i) text += "(Build ";
  auto none = ParseExchangeVersionText(text);
  ASSERT_FALSE(none);
  EXPECT_NE(std::string(none.error().message()).find("expected four numbers"), std::string::npos);
  // The window still reaches a real "Version 15.x " right before its marker,
  // at the end of the same text.
  text += "Version 123456789.1 (Build 2507.6) Version 15.1 (Build 2507.6)";
  auto found = ParseExchangeVersionText(text);
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(found.value(), V(15, 1, 2507, 6, false));
}

TEST(ParseExchangeVersionTextTest, MalformedStringsAreClearErrors) {
  const auto error = [](std::string_view s) {
    auto v = ParseExchangeVersionText(s);
    EXPECT_FALSE(v) << s;
    if (v) return std::string();
    EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
    const std::string message(v.error().message());
    // The message quotes what was given.
    EXPECT_NE(message.find(fmt::format("\"{}\"", s)), std::string::npos) << message;
    return message;
  };
  EXPECT_NE(error("").find("empty"), std::string::npos);
  EXPECT_NE(error("   ").find("empty"), std::string::npos);
  EXPECT_NE(error("15").find("four numbers"), std::string::npos);
  EXPECT_NE(error("15.1.x.2").find("four numbers"), std::string::npos);
  EXPECT_NE(error("15.1.2507").find("four numbers"), std::string::npos);
  EXPECT_NE(error("15.1.2507.23x").find("four numbers"), std::string::npos);
  EXPECT_NE(error("16.0.1.1").find("major version 16"), std::string::npos);
  EXPECT_NE(error("15.1.99999999999.1").find("more than 9 digits"), std::string::npos);
  EXPECT_NE(error("15.1.2507.4294967296000").find("more than 9 digits"), std::string::npos);
  EXPECT_NE(error("Exchange 2019").find("four numbers"), std::string::npos);
  EXPECT_NE(error("\x01\xff junk").find("four numbers"), std::string::npos);
  EXPECT_NE(error("Version 15.1 (Build 2507)").find("four numbers"), std::string::npos);
  EXPECT_NE(error("15.1.2507.23 or 15.2.1118.26").find("several versions"), std::string::npos);
}

struct ClassifyCase {
  ExchangeVersion version;
  BuildStatus status;
  std::optional<bool> older_than_march_2023;
  const char* product;
};

class ClassifyExchangeBuildTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyExchangeBuildTest, MatchesDomainTable) {
  const ClassifyCase& c = GetParam();
  ExchangeBuildInfo info = ClassifyExchangeBuild(c.version);
  EXPECT_EQ(info.status, c.status) << FormatExchangeVersion(c.version);
  EXPECT_EQ(info.older_than_march_2023, c.older_than_march_2023)
      << FormatExchangeVersion(c.version);
  EXPECT_EQ(info.product, c.product);
  EXPECT_EQ(info.version, FormatExchangeVersion(c.version));
  EXPECT_TRUE(info.source.empty());
  EXPECT_FALSE(info.reason.empty());
  // eems_mitigations follows the status (docs/alerts.md "Build status").
  const EemsMitigations eems =
      c.status == BuildStatus::kOutdated || c.status == BuildStatus::kNoEems ? EemsMitigations::kNo
      : c.status == BuildStatus::kBorderline || c.status == BuildStatus::kCurrent
          ? EemsMitigations::kYes
          : EemsMitigations::kUnknown;
  EXPECT_EQ(info.eems_mitigations, eems) << FormatExchangeVersion(c.version);
}

// Every row derived from domain.md section 2: the CU table, the Mar23
// revisions (.23, .42, .26) and the rule "older than March 2023". Classified
// against the default build list (data/exchange-builds.csv), so these also
// check that the data file agrees with domain.md's rule.
INSTANTIATE_TEST_SUITE_P(
    DomainTable, ClassifyExchangeBuildTest,
    ::testing::Values(
        // 2016 CU22 never got the Mar23 SU: all of it is older.
        ClassifyCase{V(15, 1, 2375, 37), BuildStatus::kOutdated, true,
                     "Exchange Server 2016 CU22 Nov22 SU"},
        ClassifyCase{V(15, 1, 2375, 7), BuildStatus::kOutdated, true, "Exchange Server 2016 CU22"},
        ClassifyCase{V(15, 1, 2507, 21), BuildStatus::kOutdated, true,
                     "Exchange Server 2016 CU23 Feb23 SU"},
        ClassifyCase{V(15, 1, 2507, 23), BuildStatus::kBorderline, false,
                     "Exchange Server 2016 CU23 Mar23 SU"},
        ClassifyCase{V(15, 1, 2507, 27), BuildStatus::kCurrent, false,
                     "Exchange Server 2016 CU23 Jun23 SU"},
        ClassifyCase{V(15, 1, 2507, 39), BuildStatus::kCurrent, false,
                     "Exchange Server 2016 CU23 Apr24 HU"},
        ClassifyCase{V(15, 2, 986, 41), BuildStatus::kOutdated, true,
                     "Exchange Server 2019 CU11 Feb23 SU"},
        ClassifyCase{V(15, 2, 986, 42), BuildStatus::kBorderline, false,
                     "Exchange Server 2019 CU11 Mar23 SU"},
        ClassifyCase{V(15, 2, 1118, 25), BuildStatus::kOutdated, true,
                     "Exchange Server 2019 CU12 Feb23 SU"},
        ClassifyCase{V(15, 2, 1118, 26), BuildStatus::kBorderline, false,
                     "Exchange Server 2019 CU12 Mar23 SU"},
        ClassifyCase{V(15, 2, 1118, 30), BuildStatus::kCurrent, false,
                     "Exchange Server 2019 CU12 Jun23 SU"},
        ClassifyCase{V(15, 2, 1258, 12), BuildStatus::kCurrent, false, "Exchange Server 2019 CU13"},
        ClassifyCase{V(15, 2, 1544, 4), BuildStatus::kCurrent, false, "Exchange Server 2019 CU14"},
        ClassifyCase{V(15, 2, 1748, 10), BuildStatus::kCurrent, false, "Exchange Server 2019 CU15"},
        ClassifyCase{V(15, 2, 2562, 17), BuildStatus::kCurrent, false, "Exchange Server SE RTM"},
        ClassifyCase{V(15, 2, 2562, 46), BuildStatus::kCurrent, false,
                     "Exchange Server SE RTM Aug26 SU"},
        // Pre-EEMS: 15.1 < 2375 and 15.2 < 986.
        ClassifyCase{V(15, 1, 2308, 8), BuildStatus::kNoEems, true,
                     "Exchange Server 2016 (build 2308)"},
        ClassifyCase{V(15, 2, 922, 7), BuildStatus::kNoEems, true,
                     "Exchange Server 2019 (build 922)"},
        // Exchange 2013 (the Watson example) has no EEMS; domain.md says
        // nothing about its SUs, so no claim about March 2023.
        ClassifyCase{V(15, 0, 1104, 5), BuildStatus::kNoEems, std::nullopt, "Exchange Server 2013"},
        // Get-ExchangeServer names the CU only: .6 is CU23's own revision.
        ClassifyCase{V(15, 1, 2507, 6, false), BuildStatus::kIndeterminate, std::nullopt,
                     "Exchange Server 2016 CU23"},
        ClassifyCase{V(15, 2, 986, 5, false), BuildStatus::kIndeterminate, std::nullopt,
                     "Exchange Server 2019 CU11"},
        ClassifyCase{V(15, 1, 2375, 7, false), BuildStatus::kOutdated, true,
                     "Exchange Server 2016 CU22"},
        ClassifyCase{V(15, 2, 1258, 12, false), BuildStatus::kCurrent, false,
                     "Exchange Server 2019 CU13"},
        ClassifyCase{V(16, 0, 1, 1), BuildStatus::kUnknown, std::nullopt,
                     "unknown Exchange version 16.0"}));

TEST(NewerExchangeVersionTest, OrdersNumbersThenExactness) {
  EXPECT_TRUE(NewerExchangeVersion(V(15, 1, 2507, 23), V(15, 1, 2507, 21)));
  EXPECT_TRUE(NewerExchangeVersion(V(15, 2, 986, 5), V(15, 1, 2507, 72)));
  EXPECT_TRUE(NewerExchangeVersion(V(15, 1, 2507, 23), V(15, 1, 2507, 6, false)));
  EXPECT_TRUE(NewerExchangeVersion(V(15, 1, 2507, 6), V(15, 1, 2507, 6, false)));
  EXPECT_FALSE(NewerExchangeVersion(V(15, 1, 2507, 6), V(15, 1, 2507, 6)));
}

class ExtractExchangeBuildTest : public ::testing::Test {
 protected:
  Event MakeEvent(std::string_view provider, uint32_t id) {
    Event e;
    e.provider = provider;
    e.event_id = id;
    e.channel = "Application";
    e.computer = "EX01.contoso.com";
    return e;
  }
};

// The Watson text of support.microsoft.com/help/3145482 (domain.md).
constexpr std::string_view kWatson =
    "Watson report about to be sent for process id: 1124, with parameters: E12, c-RTL-AMD64, "
    "15.00.1104.005, w3wp#MSExchangeOWAAppPool, M.Exchange.Clients.Owa, "
    "M.E.C.O.C.Controls.RecipientWell.Render, System.NullReferenceException, 2f4e, "
    "15.00.1104.000.";

TEST_F(ExtractExchangeBuildTest, Watson4999InData) {
  Event e = MakeEvent("MSExchange Common", 4999);
  e.data.push_back({"", kWatson});
  EXPECT_EQ(ExtractExchangeBuild(e), V(15, 0, 1104, 5));
}

TEST_F(ExtractExchangeBuildTest, Watson4999InMessage) {
  Event e = MakeEvent("MSExchange Common", 4999);
  e.message = kWatson;
  EXPECT_EQ(ExtractExchangeBuild(e), V(15, 0, 1104, 5));
}

TEST_F(ExtractExchangeBuildTest, Watson4999WithOtherLayoutFindsFirstVersion) {
  Event e = MakeEvent("MSExchange Common", 4999);
  e.data.push_back({"", "E12"});
  e.data.push_back({"", "c-RTL-AMD64"});
  e.data.push_back({"", "15.02.1118.026"});
  EXPECT_EQ(ExtractExchangeBuild(e), V(15, 2, 1118, 26));
}

TEST_F(ExtractExchangeBuildTest, OtherProviderOrIdIgnoresWatsonText) {
  Event e = MakeEvent("MSExchange Common", 4998);
  e.message = kWatson;
  EXPECT_FALSE(ExtractExchangeBuild(e));
  Event f = MakeEvent("Application Error", 4999);
  f.message = kWatson;
  EXPECT_FALSE(ExtractExchangeBuild(f));
}

TEST_F(ExtractExchangeBuildTest, MsiInstaller1036ForExchangeOnly) {
  Event e = MakeEvent("MsiInstaller", 1036);
  e.data = {{"", "Microsoft Exchange Server"},
            {"", "15.2.1118.7"},
            {"", "1033"},
            {"", "Security Update for Exchange Server 2019 CU12 (KB5024296)"}};
  EXPECT_EQ(ExtractExchangeBuild(e), V(15, 2, 1118, 7));
  Event office = MakeEvent("MsiInstaller", 1036);
  office.data = {{"", "Microsoft Office"}, {"", "15.0.4569.1506"}, {"", "1033"}};
  EXPECT_FALSE(ExtractExchangeBuild(office));
}

TEST_F(ExtractExchangeBuildTest, AdminDisplayVersionAnywhere) {
  Event e = MakeEvent("MSExchange ADAccess", 2080);
  e.data.push_back({"Server", "EX01"});
  e.data.push_back({"AdminDisplayVersion", "Version 15.1 (Build 2507.6)"});
  EXPECT_EQ(ExtractExchangeBuild(e), V(15, 1, 2507, 6, false));

  Event m = MakeEvent("Some Provider", 1);
  m.message = "Server EX02 runs Version 15.2 (Build 1118.7) since yesterday.";
  EXPECT_EQ(ExtractExchangeBuild(m), V(15, 2, 1118, 7, false));
}

TEST_F(ExtractExchangeBuildTest, LongDataOfBuildMarkersIsLinear) {
  Event e = MakeEvent("Some Provider", 1);
  std::string value;
  for (int i = 0; i < 150000; ++i) value += "(Build ";
  e.data.push_back({"", value});
  EXPECT_FALSE(ExtractExchangeBuild(e));
  const std::string with_version = value + "Version 15.2 (Build 1118.7)";  // Event borrows
  e.data.push_back({"", with_version});
  EXPECT_EQ(ExtractExchangeBuild(e), V(15, 2, 1118, 7, false));
}

TEST_F(ExtractExchangeBuildTest, NothingToFind) {
  Event e = MakeEvent("MSExchange Mitigation Service", 1008);
  e.message =
      "An unexpected exception occurred. Diagnostic information: Exception encountered "
      "while fetching mitigations.";
  e.data.push_back({"", "(Build something else)"});
  EXPECT_FALSE(ExtractExchangeBuild(e));
  Event none;
  EXPECT_FALSE(ExtractExchangeBuild(none));
}

}  // namespace
}  // namespace eventsift::correlate
