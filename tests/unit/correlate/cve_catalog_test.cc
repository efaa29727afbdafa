// The CVE list (data/exchange-cves.csv), the fix check and the per-server
// verdicts. Inputs are built in the tests.

#include "src/correlate/cve_catalog.h"

#include <string>

#include <gtest/gtest.h>

#include "src/correlate/build_catalog.h"
#include "src/correlate/cve_verdict.h"

namespace eventsift::correlate {
namespace {

constexpr char kDataFile[] = ES_SOURCE_DIR "/data/exchange-cves.csv";
constexpr char kHeader[] =
    "cve,title,disclosed,kev_added,eems_mitigation,fixed_builds,source,note\n";
constexpr char kGood[] =
    "CVE-2026-42897,OWA XSS,2026-05-14,2026-05-15,M2,15.1.2507.69;15.2.1544.41;15.2.1748.?,"
    "https://example.org/a https://example.org/b,\n";

ExchangeVersion V(uint32_t major, uint32_t minor, uint32_t build, uint32_t revision) {
  return ExchangeVersion{major, minor, build, revision, true};
}

TEST(CveCatalogTest, RealFileLoadsWithCve202642897First) {
  auto c = CveCatalog::Load(kDataFile);
  ASSERT_TRUE(c) << c.error().ToString();
  const auto ordered = c.value().Ordered();
  ASSERT_FALSE(ordered.empty());
  const CveEntry& first = *ordered.front();
  EXPECT_EQ(first.id, "CVE-2026-42897");
  EXPECT_EQ(first.disclosed, "2026-05-14");
  EXPECT_EQ(first.kev_added, "2026-05-15");
  EXPECT_EQ(first.eems_mitigation, "M2");
  EXPECT_EQ(first.fixes.size(), 4u);
  for (const CveEntry* e : ordered) EXPECT_FALSE(e->sources.empty()) << e->id;
  // KEV entries come before the rest.
  bool seen_non_kev = false;
  for (const CveEntry* e : ordered) {
    if (!e->kev()) seen_non_kev = true;
    EXPECT_FALSE(seen_non_kev && e->kev()) << e->id;
  }
}

TEST(CveCatalogTest, RealFixesAreBuildsOfTheBuildList) {
  auto cves = CveCatalog::Load(kDataFile);
  auto builds = BuildCatalog::Load(ES_SOURCE_DIR "/data/exchange-builds.csv");
  ASSERT_TRUE(cves && builds);
  const CveEntry& e = *cves.value().Ordered().front();
  for (const CveFix& fix : e.fixes) {
    bool listed = false;
    for (const BuildRow& row : builds.value().rows()) listed |= row.version == fix.build;
    EXPECT_TRUE(listed) << FormatExchangeVersion(fix.build);
  }
}

// Each malformed row names the file and its line.
TEST(CveCatalogTest, MalformedRowsNameFileAndLine) {
  const struct {
    std::string row, expect;
  } cases[] = {
      {"CVE-2026-1,t,2026-05-14,,M2,15.1.2507.69,https://x,", "not a CVE id"},
      {"CVE-2026-11111,,2026-05-14,,M2,15.1.2507.69,https://x,", "title"},
      {"CVE-2026-11111,t,14.05.2026,,M2,15.1.2507.69,https://x,", "disclosed"},
      {"CVE-2026-11111,t,2026-05-14,2026-13-01,M2,15.1.2507.69,https://x,", "kev_added"},
      {"CVE-2026-11111,t,2026-05-14,,Mx,15.1.2507.69,https://x,", "eems_mitigation"},
      {"CVE-2026-11111,t,2026-05-14,,M2,15.1.2507,https://x,", "fixed build"},
      {"CVE-2026-11111,t,2026-05-14,,M2,15.1.2507.69;15.1.2507.70,https://x,", "two fixed builds"},
      {"CVE-2026-11111,t,2026-05-14,,M2,15.1.2507.69,ftp://x,", "not a URL"},
      {"CVE-2026-11111,t,2026-05-14,,M2,15.1.2507.69,,", "at least one URL"},
      {"CVE-2026-11111,t,2026-05-14,,M2,15.1.2507.69,https://x", "8 columns"},
  };
  for (const auto& c : cases) {
    const std::string text = std::string("# comment\n") + kHeader + kGood + c.row + "\n";
    auto r = CveCatalog::Parse(text, "cves.csv");
    ASSERT_FALSE(r) << c.row;
    const std::string msg = r.error().ToString();
    EXPECT_NE(msg.find("cves.csv"), std::string::npos) << msg;
    EXPECT_NE(msg.find(":4"), std::string::npos) << msg;  // line 4: after comment, header, good
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
  }
  auto dup = CveCatalog::Parse(std::string(kHeader) + kGood + kGood, "d.csv");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().ToString().find("listed twice"), std::string::npos);
  auto no_header = CveCatalog::Parse(kGood, "h.csv");
  ASSERT_FALSE(no_header);
  EXPECT_NE(no_header.error().ToString().find("header"), std::string::npos);
  auto missing = CveCatalog::Load("/nonexistent/cves.csv");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kIOError);
}

TEST(CveCatalogTest, CheckFixPerCu) {
  auto c = CveCatalog::Parse(std::string(kHeader) + kGood, "t.csv");
  ASSERT_TRUE(c) << c.error().ToString();
  const CveEntry& e = c.value().entries()[0];
  EXPECT_EQ(CveCatalog::CheckFix(e, V(15, 1, 2507, 69)).state, FixState::kFixed);
  EXPECT_EQ(CveCatalog::CheckFix(e, V(15, 1, 2507, 66)).state, FixState::kNotFixed);
  EXPECT_EQ(CveCatalog::CheckFix(e, V(15, 1, 2375, 37)).state, FixState::kNotFixed);  // older CU
  EXPECT_EQ(CveCatalog::CheckFix(e, V(15, 2, 1748, 99)).state, FixState::kUnknown);   // "?"
  EXPECT_EQ(CveCatalog::CheckFix(e, V(15, 2, 2562, 17)).state, FixState::kFixed);     // newer CU
  EXPECT_EQ(CveCatalog::CheckFix(e, V(15, 0, 1497, 2)).state, FixState::kUnknown);    // no line
  ExchangeVersion cu_only = V(15, 1, 2507, 6);
  cu_only.revision_known = false;
  EXPECT_EQ(CveCatalog::CheckFix(e, cu_only).state, FixState::kUnknown);
}

TEST(MitigationIdsTest, LenientIds) {
  EXPECT_EQ(ExtractMitigationIds("Applied mitigation M2.1.0 and m1.1.0; PING1 heartbeat"),
            (std::vector<std::string>{"M2.1.0", "M1.1.0"}));
  EXPECT_EQ(ExtractMitigationIds("mitigations: M2.1.x, M2.1.x"),
            (std::vector<std::string>{"M2.1.x"}));
  EXPECT_TRUE(ExtractMitigationIds("M21a XM2 MS2").empty());
  EXPECT_TRUE(MitigationCovers("M2.1.0", "M2"));
  EXPECT_TRUE(MitigationCovers("m2", "M2"));
  EXPECT_FALSE(MitigationCovers("M21.1", "M2"));
  EXPECT_FALSE(MitigationCovers("M1.1.0", "M2"));
}

ExchangeBuildInfo Build(const char* version, EemsMitigations eems) {
  ExchangeBuildInfo b;
  b.version = version;
  b.product = "test";
  b.eems_mitigations = eems;
  return b;
}

TEST(CveVerdictTest, EachVerdict) {
  auto c = CveCatalog::Parse(std::string(kHeader) + kGood, "t.csv");
  ASSERT_TRUE(c);
  const CveEntry& e = c.value().entries()[0];
  const FileTime may20 = ParseEventTime("2026-05-20T08:00:00Z").value();
  const FileTime apr1 = ParseEventTime("2026-04-01T08:00:00Z").value();

  HostCveInput patched;
  patched.build = Build("15.1.2507.69", EemsMitigations::kYes);
  EXPECT_EQ(JudgeCve(e, patched).kind, CveVerdictKind::kPatched);

  HostCveInput mitigated;
  mitigated.build = Build("15.1.2507.66", EemsMitigations::kYes);
  mitigated.eems_successes = 1;
  mitigated.mitigations.push_back({"M2.1.0", may20, "EEMS event 1005"});
  CveVerdict v = JudgeCve(e, mitigated);
  EXPECT_EQ(v.kind, CveVerdictKind::kMitigated);
  EXPECT_EQ(v.since, may20);
  EXPECT_EQ(v.exposed_from, "2026-05-14");  // mitigated after the disclosure

  HostCveInput failing;
  failing.build = Build("15.1.2507.66", EemsMitigations::kYes);
  failing.eems_errors = 3;
  failing.eems_failing = true;
  failing.failing_since = apr1;
  v = JudgeCve(e, failing);
  EXPECT_EQ(v.kind, CveVerdictKind::kExposedFailing);
  EXPECT_EQ(v.exposed_from, "2026-05-14");
  EXPECT_NE(v.text.find("2026-04-01"), std::string::npos) << v.text;

  HostCveInput old;
  old.build = Build("15.1.2507.16", EemsMitigations::kNo);
  EXPECT_EQ(JudgeCve(e, old).kind, CveVerdictKind::kExposedCannotFetch);

  HostCveInput silent;
  silent.build = Build("15.1.2507.66", EemsMitigations::kYes);
  EXPECT_EQ(JudgeCve(e, silent).kind, CveVerdictKind::kExposedSilent);

  HostCveInput inventory_only = silent;
  inventory_only.in_logs = false;
  EXPECT_EQ(JudgeCve(e, inventory_only).kind, CveVerdictKind::kUnknown);

  HostCveInput no_build;
  EXPECT_EQ(JudgeCve(e, no_build).kind, CveVerdictKind::kUnknown);

  HostCveInput unconfirmed_fix;
  unconfirmed_fix.build = Build("15.2.1748.46", EemsMitigations::kYes);
  EXPECT_EQ(JudgeCve(e, unconfirmed_fix).kind, CveVerdictKind::kUnknown);
}

}  // namespace
}  // namespace eventsift::correlate
