// CveWatch: the daemon's per-server CVE verdicts as events arrive. The
// catalog is the shipped data/exchange-cves.csv (CVE-2026-42897: disclosed
// 2026-05-14, EEMS mitigation M2, fixed in 15.1.2507.69 for 2019 CU14);
// events are the calls the daemon makes for EEMS hits and build events.

#include "src/correlate/cve_watch.h"

#include <string>

#include <gtest/gtest.h>

#include "src/correlate/exchange_build.h"

namespace eventsift::correlate {
namespace {

constexpr char kCve[] = "CVE-2026-42897";

FileTime T(const char* rfc3339) { return ParseEventTime(rfc3339).value(); }

CveCatalog Catalog() {
  auto c = CveCatalog::Load(ES_SOURCE_DIR "/data/exchange-cves.csv");
  EXPECT_TRUE(c) << c.error().ToString();
  return std::move(c).value();
}

// Every host runs `build` ("15.1.2507.16": Nov 2022 SU, older than March 2023).
CveWatch::BuildLookup Build(uint32_t build, uint32_t revision) {
  return [=](const std::string&) -> std::optional<ExchangeBuildInfo> {
    return ClassifyExchangeBuild(ExchangeVersion{15, 1, build, revision, true});
  };
}

const CveVerdictChange* Find(const std::vector<CveVerdictChange>& changes,
                             const std::string& host) {
  for (const auto& c : changes) {
    if (c.host == host && c.verdict.cve->id == kCve) return &c;
  }
  return nullptr;
}

TEST(CveWatchTest, JudgesAHostOnceItsChangesAreBehindTheWatermark) {
  const CveCatalog catalog = Catalog();
  CveWatch watch;
  watch.NoteBuild("EXOLD.contoso.com", T("2026-06-01T10:00:00Z"));
  EXPECT_TRUE(watch.Drain(catalog, T("2026-06-01T09:00:00Z"), false, Build(2507, 16)).empty());
  auto changes = watch.Drain(catalog, T("2026-06-01T10:00:00Z"), false, Build(2507, 16));
  const CveVerdictChange* c = Find(changes, "exold.contoso.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->verdict.kind, CveVerdictKind::kExposedCannotFetch);
  EXPECT_EQ(c->names, std::vector<std::string>{"EXOLD.contoso.com"});
  EXPECT_EQ(watch.ExposedCves("exold.contoso.com"), std::vector<std::string>{kCve});
  // Nothing changed since: nothing to say.
  watch.NoteBuild("EXOLD.contoso.com", T("2026-06-02T10:00:00Z"));
  EXPECT_EQ(Find(watch.Drain(catalog, 0, true, Build(2507, 16)), "exold.contoso.com"), nullptr);
}

TEST(CveWatchTest, FailingSinceTheFirstErrorAfterTheLastSuccess) {
  const CveCatalog catalog = Catalog();
  CveWatch watch;
  // 2019 CU14 below the fix, recent enough for EEMS to fetch.
  watch.NoteEemsError("ex1", T("2026-04-01T07:00:00Z"));
  watch.NoteEemsSuccess("ex1", T("2026-04-10T07:00:00Z"), {});
  // Out of order: the later error arrives first.
  watch.NoteEemsError("ex1", T("2026-05-02T07:00:00Z"));
  watch.NoteEemsError("ex1", T("2026-05-01T07:00:00Z"));
  auto changes = watch.Drain(catalog, 0, true, Build(2507, 66));
  const CveVerdictChange* c = Find(changes, "ex1");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->verdict.kind, CveVerdictKind::kExposedFailing);
  EXPECT_EQ(c->verdict.since, T("2026-05-01T07:00:00Z"));
  EXPECT_EQ(c->last_error, T("2026-05-02T07:00:00Z"));
  // EEMS recovers and applies M2: mitigated, and no longer exposed.
  watch.NoteEemsSuccess("ex1", T("2026-05-20T07:00:00Z"), {"M2.1.0"});
  c = Find(changes = watch.Drain(catalog, 0, true, Build(2507, 66)), "ex1");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->verdict.kind, CveVerdictKind::kMitigated);
  EXPECT_TRUE(watch.ExposedCves("ex1").empty());
}

TEST(CveWatchTest, BoundsHostsAndErrorTimes) {
  const CveCatalog catalog = Catalog();
  CveWatch::Options options;
  options.max_hosts = 2;
  options.max_error_times = 3;
  CveWatch watch(options);
  for (const char* h : {"a", "b", "c", "d"}) watch.NoteBuild(h, T("2026-06-01T00:00:00Z"));
  EXPECT_EQ(watch.stats().hosts, 2u);
  EXPECT_EQ(watch.stats().hosts_dropped, 2u);
  for (int day = 1; day <= 9; ++day) {
    watch.NoteEemsError("a", T(("2026-05-0" + std::to_string(day) + "T00:00:00Z").c_str()));
  }
  EXPECT_EQ(watch.stats().error_times_dropped, 6u);
  // The earliest times are the ones kept: failing since the first error.
  const auto changes = watch.Drain(catalog, 0, true, Build(2507, 66));
  const CveVerdictChange* c = Find(changes, "a");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->verdict.since, T("2026-05-01T00:00:00Z"));
}

TEST(CveWatchTest, StateSurvivesARestartWithoutSayingAVerdictTwice) {
  const CveCatalog catalog = Catalog();
  CveWatch before;
  before.NoteEemsError("ex1", T("2026-05-01T07:00:00Z"));
  ASSERT_NE(Find(before.Drain(catalog, T("2026-05-01T07:00:00Z"), false, Build(2507, 66)), "ex1"),
            nullptr);
  before.NoteBuild("ex2", T("2026-05-03T07:00:00Z"));  // judged after the restart
  const std::string saved = before.SaveState();

  CveWatch after;
  ASSERT_TRUE(after.LoadState(saved, "state.json").ok());
  auto changes = after.Drain(catalog, 0, true, Build(2507, 66));
  EXPECT_EQ(Find(changes, "ex1"), nullptr);  // already said before the restart
  const CveVerdictChange* c = Find(changes, "ex2");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->verdict.kind, CveVerdictKind::kExposedSilent);
  EXPECT_EQ(after.ExposedCves("ex1"), std::vector<std::string>{kCve});
  EXPECT_TRUE(after.Drain(catalog, 0, true, Build(2507, 66)).empty());

  CveWatch broken;
  Status s = broken.LoadState("{\"version\":9}", "state.json");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("state.json"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace eventsift::correlate
