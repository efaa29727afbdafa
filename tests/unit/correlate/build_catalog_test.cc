// The build list (data/exchange-builds.csv) and classification against it.

#include "src/correlate/build_catalog.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace eventsift::correlate {
namespace {

constexpr char kDataFile[] = ES_SOURCE_DIR "/data/exchange-builds.csv";
// docs/domain.md section 2: "Mar23 2023-03-14 (KB5024296)".
constexpr char kMarch2023[] = "2023-03-14";

const BuildCatalog& RealCatalog() {
  static const BuildCatalog catalog = [] {
    auto loaded = BuildCatalog::Load(kDataFile);
    if (!loaded) {
      ADD_FAILURE() << loaded.error().ToString();
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return catalog;
}

ExchangeVersion V(uint32_t major, uint32_t minor, uint32_t build, uint32_t revision,
                  bool revision_known = true) {
  return ExchangeVersion{major, minor, build, revision, revision_known};
}

TEST(BuildCatalogTest, RealFileLoadsWithTheMarch2023Su) {
  const BuildCatalog& c = RealCatalog();
  EXPECT_EQ(c.march_2023_date(), kMarch2023);
  // domain.md: the Mar23 SU is .23 on E2016 CU23, .42 on E2019 CU11, .26 on CU12.
  std::set<std::string> mar23;
  for (const BuildRow& r : c.rows()) {
    if (r.update == BuildCatalog::kMarch2023Update) mar23.insert(FormatExchangeVersion(r.version));
  }
  EXPECT_EQ(mar23, (std::set<std::string>{"15.1.2507.23", "15.2.986.42", "15.2.1118.26"}));
  // 8 CUs (E2016 CU22, CU23; E2019 CU11 to CU15; SE RTM), each with its own row.
  size_t cus = 0;
  for (const BuildRow& r : c.rows()) cus += r.is_cu() ? 1 : 0;
  EXPECT_EQ(cus, 8u);
}

// Every row of the real file, with the class expected from the row's release
// date against the March 2023 SU's (domain.md), not from the classifier.
TEST(BuildCatalogTest, ClassifiesEveryListedBuildByItsDate) {
  const BuildCatalog& c = RealCatalog();
  ASSERT_GT(c.rows().size(), 100u);
  for (const BuildRow& r : c.rows()) {
    SCOPED_TRACE(r.Name() + " " + FormatExchangeVersion(r.version));
    const std::string date = r.released;
    const BuildStatus expected = date < kMarch2023    ? BuildStatus::kOutdated
                                 : date == kMarch2023 ? BuildStatus::kBorderline
                                                      : BuildStatus::kCurrent;
    ExchangeBuildInfo info = c.Classify(r.version);
    EXPECT_EQ(info.status, expected);
    EXPECT_EQ(info.older_than_march_2023, date < kMarch2023);
    EXPECT_EQ(info.eems_mitigations,
              date < kMarch2023 ? EemsMitigations::kNo : EemsMitigations::kYes);
    EXPECT_EQ(info.product, r.Name());
    EXPECT_EQ(info.release_date, r.released);
    EXPECT_EQ(info.version, FormatExchangeVersion(r.version));
    EXPECT_FALSE(info.reason.empty());
    if (expected == BuildStatus::kBorderline) {
      // The ambiguity is stated, not hidden.
      EXPECT_NE(info.reason.find("March 2023 or later"), std::string::npos) << info.reason;
    }
    EXPECT_FALSE(c.Remediation(r.version, info).empty());
  }
}

TEST(BuildCatalogTest, UnlistedBuildsByPosition) {
  const BuildCatalog& c = RealCatalog();
  // A later, unlisted SU of a CU above its Mar23 SU: newer.
  ExchangeBuildInfo later = c.Classify(V(15, 1, 2507, 80));
  EXPECT_EQ(later.status, BuildStatus::kCurrent);
  EXPECT_NE(later.reason.find("not in the build list"), std::string::npos) << later.reason;
  EXPECT_EQ(later.product, "Exchange Server 2016 CU23");
  EXPECT_EQ(later.release_date, "");
  // Between Feb23 (.21) and Mar23 (.23): older.
  EXPECT_EQ(c.Classify(V(15, 1, 2507, 22)).status, BuildStatus::kOutdated);
  // Between Mar23 (.26) and Jun23 (.30) of E2019 CU12: newer than Mar23.
  EXPECT_EQ(c.Classify(V(15, 2, 1118, 28)).status, BuildStatus::kCurrent);
  // Above CU22's last SU: CU22 never got Mar23.
  ExchangeBuildInfo cu22 = c.Classify(V(15, 1, 2375, 40));
  EXPECT_EQ(cu22.status, BuildStatus::kOutdated);
  EXPECT_NE(cu22.reason.find("never received"), std::string::npos) << cu22.reason;
  // Between E2019 CU12 and CU13 (no public build): older.
  ExchangeBuildInfo between = c.Classify(V(15, 2, 1200, 3));
  EXPECT_EQ(between.status, BuildStatus::kOutdated);
  EXPECT_EQ(between.product, "Exchange Server 2019 (build 1200)");
  // Above the newest CU (a future SE CU): newer.
  ExchangeBuildInfo future = c.Classify(V(15, 2, 2600, 5));
  EXPECT_EQ(future.status, BuildStatus::kCurrent);
  EXPECT_EQ(future.product, "Exchange Server SE (build 2600)");
  // Pre-EEMS: below E2016 CU22 / E2019 CU11.
  ExchangeBuildInfo old = c.Classify(V(15, 2, 922, 7));
  EXPECT_EQ(old.status, BuildStatus::kNoEems);
  EXPECT_EQ(old.eems_mitigations, EemsMitigations::kNo);
  EXPECT_EQ(old.older_than_march_2023, true);
  // 15.3 is no line we know.
  ExchangeBuildInfo unknown = c.Classify(V(15, 3, 100, 1));
  EXPECT_EQ(unknown.status, BuildStatus::kUnknown);
  EXPECT_EQ(unknown.eems_mitigations, EemsMitigations::kUnknown);
  EXPECT_EQ(unknown.older_than_march_2023, std::nullopt);
}

TEST(BuildCatalogTest, CuOnlyVersions) {
  const BuildCatalog& c = RealCatalog();
  ExchangeBuildInfo cu23 = c.Classify(V(15, 1, 2507, 6, false));
  EXPECT_EQ(cu23.status, BuildStatus::kIndeterminate);
  EXPECT_EQ(cu23.eems_mitigations, EemsMitigations::kUnknown);
  EXPECT_NE(cu23.reason.find("ExSetup.exe"), std::string::npos) << cu23.reason;
  EXPECT_EQ(c.Classify(V(15, 1, 2375, 7, false)).eems_mitigations, EemsMitigations::kNo);
  EXPECT_EQ(c.Classify(V(15, 2, 1748, 10, false)).eems_mitigations, EemsMitigations::kYes);
}

TEST(BuildCatalogTest, RemediationNamesTheNewestBuildOfTheLine) {
  const BuildCatalog& c = RealCatalog();
  const ExchangeVersion v = V(15, 2, 1118, 20);
  const std::string hint = c.Remediation(v, c.Classify(v));
  // The newest E2019 row of domain.md: CU15 Aug26 SU, 15.2.1748.49.
  EXPECT_NE(hint.find("Exchange Server 2019 CU15 Aug26 SU (15.2.1748.49"), std::string::npos)
      << hint;
}

constexpr char kHeader[] = "product,cu,update,build,released,kb,source\n";

Status ParseError(const std::string& text) {
  auto parsed = BuildCatalog::Parse(text, "builds.csv");
  return parsed ? Status::OK() : parsed.error();
}

TEST(BuildCatalogTest, SmallFileClassifiesByItsOwnRows) {
  // A build list is data: a new SU row changes the answer without a rebuild.
  const std::string text = std::string("# comment\n") + kHeader +
                           "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20,,x\n"
                           "Exchange Server 2019,CU12,Mar23 SU,15.2.1118.26,2023-03-14,,x\n"
                           "Exchange Server 2019,CU12,Jun23 SU,15.2.1118.30,2023-06-13,,x\n";
  auto c = BuildCatalog::Parse(text, "mini.csv");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c.value().rows().size(), 3u);
  EXPECT_EQ(c.value().rows()[1].line, 4u);
  EXPECT_EQ(c.value().Classify(V(15, 2, 1118, 30)).product, "Exchange Server 2019 CU12 Jun23 SU");
  EXPECT_EQ(c.value().Classify(V(15, 2, 1118, 25)).status, BuildStatus::kOutdated);
}

TEST(BuildCatalogTest, BrokenFilesNameFileAndLine) {
  Status s = ParseError("build,product\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->ToString(), "builds.csv:1");
  EXPECT_NE(std::string(s.message()).find("header"), std::string::npos);

  s = ParseError(std::string(kHeader) +
                 "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20,,x\n"
                 "Exchange Server 2019,CU12,Mar23 SU,15.2.1118.x,2023-03-14,,x\n");
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->line, 3u);
  EXPECT_NE(std::string(s.message()).find("15.2.1118.x"), std::string::npos) << s.ToString();

  s = ParseError(std::string(kHeader) + "Exchange Server 2019,CU12,,15.2.1118.7,20.4.2022,,x\n");
  EXPECT_EQ(s.where()->line, 2u);
  EXPECT_NE(std::string(s.message()).find("YYYY-MM-DD"), std::string::npos);

  s = ParseError(std::string(kHeader) + "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20\n");
  EXPECT_EQ(s.where()->line, 2u);
  EXPECT_NE(std::string(s.message()).find("7 columns"), std::string::npos);

  s = ParseError(std::string(kHeader) +
                 "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20,,x\n"
                 "Exchange Server 2019,CU12,,15.02.1118.007,2022-04-20,,x\n");
  EXPECT_EQ(s.where()->line, 3u);
  EXPECT_NE(std::string(s.message()).find("first on line 2"), std::string::npos);

  s = ParseError(std::string(kHeader) + "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20,,x\n");
  EXPECT_NE(std::string(s.message()).find("Mar23 SU"), std::string::npos) << s.ToString();

  s = ParseError(std::string(kHeader) +
                 "Exchange Server 2019,CU12,Mar23 SU,15.2.1118.26,2023-03-14,,x\n");
  EXPECT_EQ(s.where()->line, 2u);
  EXPECT_NE(std::string(s.message()).find("no row for its CU"), std::string::npos);

  EXPECT_EQ(BuildCatalog::Load("/nonexistent/eventsift/builds.csv").error().code(),
            StatusCode::kIOError);
}

// Each row's CU used to be looked up in all rows, quadratic in the file's
// length (seen reading the parser for tests/fuzz/lists_fuzzer): this test took
// 28 s of CPU in the release build, 0.2 s after. The row without its CU is
// still the one named.
TEST(BuildCatalogTest, LongFileChecksCusInOnePass) {
  constexpr int kRows = 100000;
  // The CU's row last: a search through all rows from the top is slowest.
  std::string text = kHeader;
  for (int i = 0; i < kRows; ++i) {
    text += fmt::format("Exchange Server 2019,CU12,S{},15.2.1118.{},2023-06-13,,x\n", i, 100 + i);
  }
  text +=
      "Exchange Server 2019,CU12,Mar23 SU,15.2.1118.26,2023-03-14,,x\n"
      "Exchange Server 2019,CU12,,15.2.1118.7,2022-04-20,,x\n";
  auto c = BuildCatalog::Parse(text, "long.csv");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c.value().rows().size(), static_cast<size_t>(kRows + 2));
  text += "Exchange Server 2019,CU13,Jun23 SU,15.2.1258.12,2023-06-13,,x\n";
  Status s = ParseError(text);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->line, static_cast<uint64_t>(kRows + 4));
  EXPECT_NE(std::string(s.message()).find("15.2.1258.12 has no row for its CU"), std::string::npos)
      << s.ToString();
}

TEST(BuildCatalogTest, DefaultCatalogCanBeReplacedAndReportsLoadErrors) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("eventsift_builds_" + std::to_string(::getpid()) + ".csv"))
                               .string();
  std::ofstream(path) << "not,a,build,list\n";
  Status s = LoadDefaultBuildCatalog(path);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.where()->ToString(), path + ":1");
  Status why;
  EXPECT_EQ(DefaultBuildCatalog(&why), nullptr);
  EXPECT_EQ(why.where()->ToString(), path + ":1");
  // Classification without a build list says why instead of guessing.
  ExchangeBuildInfo info = ClassifyExchangeBuild(V(15, 1, 2507, 23));
  EXPECT_EQ(info.status, BuildStatus::kUnknown);
  EXPECT_NE(info.reason.find(path), std::string::npos) << info.reason;
  std::remove(path.c_str());

  ASSERT_TRUE(LoadDefaultBuildCatalog(kDataFile).ok());
  EXPECT_EQ(ClassifyExchangeBuild(V(15, 1, 2507, 23)).status, BuildStatus::kBorderline);
}

}  // namespace
}  // namespace eventsift::correlate
