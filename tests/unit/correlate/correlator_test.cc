#include "src/correlate/correlator.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "src/alert/alert_id.h"
#include "src/alert/alert_json.h"
#include "tests/unit/alert/validate_alerts_util.h"

namespace eventsift::correlate {
namespace {

constexpr int64_t kMinute = 60 * kTicksPerSecond;
constexpr int64_t kHour = 60 * kMinute;
// 2025-01-24T00:00:00Z, the day of the Exchange Team post.
const FileTime kBase = *ParseEventTime("2025-01-24T00:00:00Z");

OwnedEvent Hit(std::string computer, FileTime time, uint64_t record_id,
               std::string file = "Application.evtx") {
  OwnedEvent e;
  e.provider = "MSExchange Mitigation Service";
  e.channel = "Application";
  e.event_id = 1008;
  e.level = 2;
  e.computer = std::move(computer);
  e.time = time;
  e.record_id = record_id;
  e.file = std::move(file);
  e.offset = 4096 + record_id * 512;
  e.chunk = 0;
  e.message = "An unexpected exception occurred.";
  return e;
}

CorrelatedRule Rule(std::string id, int64_t window_seconds, uint64_t threshold = 1,
                    int64_t suppress_seconds = 0, uint32_t max_samples = 3) {
  CorrelatedRule r;
  r.meta.id = std::move(id);
  r.meta.title = "EEMS cannot fetch mitigations";
  r.meta.severity = "high";
  r.spec.window_seconds = window_seconds;
  r.spec.threshold = threshold;
  r.spec.suppress_seconds = suppress_seconds;
  r.spec.max_samples = max_samples;
  return r;
}

TEST(CorrelatorTest, TumblingWindowsStartAtFirstHit) {
  Correlator c({Rule("eems", 3600)});
  // Windows [0,1h), [1h,2h), [3h,4h) relative to the first hit at +5min.
  for (int64_t m : {5, 15, 64, 66, 185}) c.AddHit(0, Hit("EX01", kBase + m * kMinute, m));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 3u);
  const FileTime t0 = kBase + 5 * kMinute;
  EXPECT_EQ(alerts[0].window_start, t0);
  EXPECT_EQ(alerts[0].window_end, t0 + kHour);
  EXPECT_EQ(alerts[0].count, 3u);  // 5, 15, 64 min
  EXPECT_EQ(alerts[0].first_seen, kBase + 5 * kMinute);
  EXPECT_EQ(alerts[0].last_seen, kBase + 64 * kMinute);
  EXPECT_EQ(alerts[1].window_start, t0 + kHour);
  EXPECT_EQ(alerts[1].count, 1u);                     // 66 min
  EXPECT_EQ(alerts[2].window_start, t0 + 3 * kHour);  // 185 min; [2h,3h) is empty
  EXPECT_EQ(alerts[2].count, 1u);
  for (const Alert& a : alerts) {
    EXPECT_EQ(a.host, "ex01");
    EXPECT_EQ(a.host_names, std::vector<std::string>{"EX01"});
    EXPECT_EQ(a.alert_id, ComputeAlertId("eems", "ex01", a.window_start));
  }
  EXPECT_EQ(c.stats().hits_received.Get(), 5u);
  EXPECT_EQ(c.stats().alerts_emitted.Get(), 3u);
}

TEST(CorrelatorTest, ThresholdDropsQuietWindows) {
  Correlator c({Rule("eems", 3600, /*threshold=*/3)});
  for (int64_t m : {5, 15, 64, 66, 185}) c.AddHit(0, Hit("EX01", kBase + m * kMinute, m));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(c.stats().hits_below_threshold.Get(), 2u);
}

TEST(CorrelatorTest, SuppressionFoldsFollowingWindows) {
  // 1h windows, 2h suppression. Hits at 0, 1h10, 2h30, 3h05, 5h:
  // [0,1h) alerts (end 1h); [1h,2h) and [2h,3h) start before 1h+2h: folded;
  // [3h,4h) starts at 3h, not before 3h: alerts (end 4h); [5h,6h) starts
  // before 4h+2h: folded into the second alert.
  Correlator c({Rule("eems", 3600, 1, /*suppress_seconds=*/7200)});
  for (int64_t m : {0, 70, 150, 185, 300}) c.AddHit(0, Hit("EX01", kBase + m * kMinute, m));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].window_start, kBase);
  EXPECT_EQ(alerts[0].count, 1u);
  EXPECT_EQ(alerts[0].suppressed, 2u);
  EXPECT_EQ(alerts[1].window_start, kBase + 3 * kHour);
  EXPECT_EQ(alerts[1].count, 1u);
  EXPECT_EQ(alerts[1].suppressed, 1u);
  EXPECT_EQ(c.stats().hits_suppressed.Get(), 3u);
}

TEST(CorrelatorTest, SamplesAreEarliestWithTheirSource) {
  Correlator c({Rule("eems", 86400, 1, 0, /*max_samples=*/2)});
  c.AddHit(0, Hit("EX01", kBase + 40 * kMinute, 4, "b.evtx"));
  c.AddHit(0, Hit("EX01", kBase + 10 * kMinute, 1, "a.evtx"));
  c.AddHit(0, Hit("EX01", kBase + 30 * kMinute, 3, "b.evtx"));
  c.AddHit(0, Hit("EX01", kBase + 20 * kMinute, 2, "a.evtx"));
  c.AddHit(0, Hit("EX01", kBase + 50 * kMinute, 5, "c.evtx"));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 1u);
  ASSERT_EQ(alerts[0].samples.size(), 2u);
  EXPECT_EQ(alerts[0].samples[0].record_id, 1u);
  EXPECT_EQ(alerts[0].samples[0].file, "a.evtx");
  EXPECT_EQ(alerts[0].samples[0].offset, 4096u + 512u);
  EXPECT_EQ(alerts[0].samples[1].record_id, 2u);
  EXPECT_EQ(alerts[0].count, 5u);
  EXPECT_EQ(c.stats().samples_dropped.Get(), 3u);
}

TEST(CorrelatorTest, UntimedEventsFormTheirOwnWindow) {
  Correlator c({Rule("eems", 3600)});
  c.AddHit(0, Hit("EX01", 0, 7));
  c.AddHit(0, Hit("EX01", 0, 8));
  c.AddHit(0, Hit("EX01", kBase, 9));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].window_start, 0);  // sorts first
  EXPECT_EQ(alerts[0].window_end, 0);
  EXPECT_EQ(alerts[0].first_seen, 0);
  EXPECT_EQ(alerts[0].count, 2u);
  EXPECT_EQ(alerts[0].alert_id, ComputeAlertId("eems", "ex01", 0));
  EXPECT_EQ(alerts[1].window_start, kBase);
  EXPECT_EQ(alerts[1].count, 1u);
}

TEST(CorrelatorTest, ShortNameMergesIntoItsFqdn) {
  Correlator c({Rule("eems", 86400)});
  c.AddHit(0, Hit("EX01", kBase, 1));
  c.AddHit(0, Hit("ex01.contoso.com.", kBase + kMinute, 2));
  c.AddHit(0, Hit("EX02", kBase, 3));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].host, "ex01.contoso.com");
  EXPECT_EQ(alerts[0].count, 2u);
  EXPECT_EQ(alerts[0].host_names, (std::vector<std::string>{"EX01", "ex01.contoso.com."}));
  EXPECT_EQ(alerts[1].host, "ex02");
}

TEST(CorrelatorTest, MergeOffOrAmbiguousKeepsHostsApart) {
  Correlator off({Rule("eems", 86400)}, CorrelatorOptions{.merge_short_names = false});
  off.AddHit(0, Hit("EX01", kBase, 1));
  off.AddHit(0, Hit("ex01.contoso.com", kBase, 2));
  EXPECT_EQ(off.Finish().size(), 2u);

  Correlator ambiguous({Rule("eems", 86400)});
  ambiguous.AddHit(0, Hit("EX01", kBase, 1));
  ambiguous.AddHit(0, Hit("ex01.contoso.com", kBase, 2));
  ambiguous.AddHit(0, Hit("ex01.fabrikam.com", kBase, 3));
  std::vector<Alert> alerts = ambiguous.Finish();
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[0].host, "ex01");
  EXPECT_EQ(alerts[1].host, "ex01.contoso.com");
  EXPECT_EQ(alerts[2].host, "ex01.fabrikam.com");
}

TEST(CorrelatorTest, NewestBuildAttachesToMergedHost) {
  Correlator c({Rule("eems", 86400)});
  c.AddBuild("EX01", ExchangeVersion{15, 1, 2507, 21}, "event a");
  c.AddBuild("EX01.contoso.com", ExchangeVersion{15, 1, 2507, 23}, "event b");
  c.AddBuild("EX01", ExchangeVersion{15, 1, 2507, 6, false}, "inventory");
  c.AddHit(0, Hit("ex01.contoso.com", kBase, 1));
  c.AddHit(0, Hit("EX02", kBase, 2));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 2u);
  ASSERT_TRUE(alerts[0].exchange.has_value());
  EXPECT_EQ(alerts[0].exchange->version, "15.1.2507.23");
  EXPECT_EQ(alerts[0].exchange->status, BuildStatus::kBorderline);
  EXPECT_EQ(alerts[0].exchange->source, "event b");
  EXPECT_EQ(alerts[0].exchange->older_than_march_2023, false);
  EXPECT_FALSE(alerts[1].exchange.has_value());  // ex02: no build known
}

class InventoryTest : public ::testing::Test {
 protected:
  std::string Write(std::string_view text) {
    path_ = (std::filesystem::temp_directory_path() /
             ("eventsift_inventory_" + std::to_string(::getpid()) + ".csv"))
                .string();
    std::ofstream(path_, std::ios::binary) << text;
    return path_;
  }
  void TearDown() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  std::string path_;
};

TEST_F(InventoryTest, ExportCsvWithHeaderTypeLineBomAndCrlf) {
  const std::string path = Write(
      "\xEF\xBB\xBF#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.ExchangeServer\r\n"
      "\"Name\",\"AdminDisplayVersion\"\r\n"
      "\"EX02\",\"Version 15.2 (Build 1118.7)\"\r\n"
      "ex03.contoso.com,15.2.1258.12,extra\r\n");
  Correlator c({Rule("eems", 86400)});
  ASSERT_TRUE(c.LoadInventory(path).ok());
  auto ex02 = c.BuildFor("ex02");
  ASSERT_TRUE(ex02.has_value());
  EXPECT_EQ(ex02->status, BuildStatus::kIndeterminate);
  EXPECT_EQ(ex02->product, "Exchange Server 2019 CU12");
  EXPECT_EQ(ex02->source, "inventory " + path + ":3");
  auto ex03 = c.BuildFor("ex03.contoso.com");
  ASSERT_TRUE(ex03.has_value());
  EXPECT_EQ(ex03->status, BuildStatus::kCurrent);
}

TEST_F(InventoryTest, BadLineNamesItsLine) {
  const std::string path = Write("host,build\nEX01,15.1.2507.23\nEX02,not a build\n");
  Correlator c({Rule("eems", 86400)});
  Status s = c.LoadInventory(path);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  ASSERT_NE(s.where(), nullptr);
  EXPECT_EQ(s.where()->line, 3u);
  EXPECT_FALSE(c.BuildFor("ex01").has_value());  // nothing applied from a bad file
}

TEST_F(InventoryTest, MissingFileIsIoError) {
  Correlator c({Rule("eems", 86400)});
  EXPECT_EQ(c.LoadInventory("/nonexistent/eventsift/inventory.csv").code(), StatusCode::kIOError);
}

TEST(CorrelatorTest, DrainEmitsClosedWindowsAndDropsLateHits) {
  CorrelatedRule rule = Rule("eems", 3600);
  rule.spec.emit = EmitMode::kWindowEnd;
  Correlator c({rule});
  c.AddHit(0, Hit("EX01", kBase, 1));
  c.AddHit(0, Hit("EX01", kBase + 30 * kMinute, 2));
  c.AddHit(0, Hit("EX01", kBase + 90 * kMinute, 3));
  EXPECT_TRUE(c.Drain(kBase + 59 * kMinute).empty());  // [0,1h) still open
  std::vector<Alert> first = c.Drain(kBase + kHour);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].count, 2u);
  EXPECT_TRUE(c.Drain(kBase + 70 * kMinute).empty());
  c.AddHit(0, Hit("EX01", kBase + 20 * kMinute, 4));  // its window is gone
  std::vector<Alert> rest = c.Finish();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].window_start, kBase + kHour);
  EXPECT_EQ(rest[0].count, 1u);
  EXPECT_EQ(c.stats().hits_late.Get(), 1u);
}

TEST(CorrelatorTest, BadRuleIndexIsCountedNotKept) {
  Correlator c({Rule("eems", 3600)});
  c.AddHit(5, Hit("EX01", kBase, 1));
  EXPECT_TRUE(c.Finish().empty());
  EXPECT_EQ(c.stats().hits_rejected.Get(), 1u);
}

// Hits over three hosts (one under two names), two rules, several windows,
// untimed events and equal times in different files.
std::vector<std::pair<uint32_t, OwnedEvent>> MixedHits() {
  std::vector<std::pair<uint32_t, OwnedEvent>> hits;
  const char* names[] = {"EX01", "ex01.contoso.com", "EX02.contoso.com", "ex03"};
  for (uint64_t i = 0; i < 60; ++i) {
    const FileTime t = i % 13 == 0 ? 0 : kBase + static_cast<int64_t>(i * 37 % 50) * 17 * kMinute;
    hits.emplace_back(static_cast<uint32_t>(i % 2),
                      Hit(names[i % 4], t, i % 7, i % 3 == 0 ? "x.evtx" : "y.evtx"));
  }
  return hits;
}

std::string RenderAll(const std::vector<Alert>& alerts) {
  std::string out;
  for (const Alert& a : alerts) out += RenderAlertJson(a) + "\n";
  return out;
}

std::vector<CorrelatedRule> TwoRules() {
  return {Rule("eems", 3600, 2, 7200, 2), Rule("cmdlet", 6 * 3600, 1, 0, 1)};
}

TEST(CorrelatorTest, ShuffledInputGivesIdenticalAlerts) {
  auto hits = MixedHits();
  Correlator reference(TwoRules());
  for (auto& [rule, event] : hits) reference.AddHit(rule, event);
  const std::vector<Alert> expected = reference.Finish();
  ASSERT_GT(expected.size(), 3u);
  const std::string expected_json = RenderAll(expected);
  for (uint32_t seed : {1u, 2u, 3u, 42u}) {
    auto shuffled = hits;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(seed));
    Correlator c(TwoRules());
    for (auto& [rule, event] : shuffled) c.AddHit(rule, std::move(event));
    EXPECT_EQ(RenderAll(c.Finish()), expected_json) << "seed " << seed;
  }
}

TEST(CorrelatorTest, ThreadedInputGivesIdenticalAlerts) {
  auto hits = MixedHits();
  Correlator reference(TwoRules());
  for (auto& [rule, event] : hits) reference.AddHit(rule, event);
  const std::string expected_json = RenderAll(reference.Finish());

  Correlator c(TwoRules());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < hits.size(); i += 4) c.AddHit(hits[i].first, hits[i].second);
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Alert> alerts = c.Finish();
  EXPECT_EQ(RenderAll(alerts), expected_json);
  std::set<std::string> ids;
  for (const Alert& a : alerts) ids.insert(a.alert_id);
  EXPECT_EQ(ids.size(), alerts.size());  // one id per (rule, host, window)
}

// Batch correlation keeps window summaries instead of hits; planned first,
// then added in any order, it must give exactly the alerts and counts of
// keeping every hit.
TEST(CorrelatorTest, PlannedHitsGiveTheAlertsOfKeptHits) {
  auto rules = [] {
    std::vector<CorrelatedRule> r = TwoRules();
    r.push_back(Rule("unbounded", 0, 3, 0, 4));  // one window for the run
    r.push_back(Rule("nosamples", 1800, 1, 3600, 0));
    return r;
  };
  auto hits = MixedHits();
  for (uint64_t i = 0; i < 40; ++i) {
    const FileTime t = i % 9 == 0 ? 0 : kBase + static_cast<int64_t>(i * 29 % 40) * 23 * kMinute;
    hits.emplace_back(static_cast<uint32_t>(2 + i % 2), Hit(i % 3 ? "EX05" : "ex05.x.y", t, i));
  }
  Correlator reference(rules());
  reference.AddBuild("ex01", ExchangeVersion{15, 1, 2507, 21}, "inventory");
  for (auto& [rule, event] : hits) reference.AddHit(rule, event);
  const std::string expected_json = RenderAll(reference.Finish());
  ASSERT_GT(expected_json.size(), 0u);
  for (uint32_t seed : {0u, 7u, 99u}) {
    auto order = hits;
    if (seed != 0) std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    Correlator c(rules());
    c.AddBuild("ex01", ExchangeVersion{15, 1, 2507, 21}, "inventory");
    for (const auto& [rule, event] : order) c.PlanHit(rule, event.computer, event.time);
    std::shuffle(order.begin(), order.end(), std::mt19937(seed + 1));
    for (auto& [rule, event] : order) c.AddPlannedHit(rule, std::move(event));
    EXPECT_EQ(RenderAll(c.Finish()), expected_json) << "seed " << seed;
    const CorrelatorStats& a = c.stats();
    const CorrelatorStats& b = reference.stats();
    EXPECT_EQ(a.hits_received.Get(), b.hits_received.Get());
    EXPECT_EQ(a.hits_below_threshold.Get(), b.hits_below_threshold.Get());
    EXPECT_EQ(a.hits_suppressed.Get(), b.hits_suppressed.Get());
    EXPECT_EQ(a.samples_dropped.Get(), b.samples_dropped.Get());
    EXPECT_EQ(a.alerts_emitted.Get(), b.alerts_emitted.Get());
  }
}

TEST(CorrelatorTest, UnplannedHitIsRejectedNotMisplaced) {
  Correlator c({Rule("eems", 3600)});
  c.PlanHit(0, "EX01", kBase + kHour);
  c.AddPlannedHit(0, Hit("EX01", kBase + kHour, 1));
  c.AddPlannedHit(0, Hit("EX01", kBase, 2));  // before the planned first hit
  c.AddPlannedHit(0, Hit("EX09", kBase, 3));  // a host never planned
  c.AddPlannedHit(7, Hit("EX01", kBase, 4));  // no such rule
  std::vector<Alert> alerts = c.Finish();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 1u);
  EXPECT_EQ(c.stats().hits_rejected.Get(), 3u);
}

TEST(CorrelatorTest, AlertsSortedByHostRuleAndWindow) {
  Correlator c(TwoRules());
  for (auto& [rule, event] : MixedHits()) c.AddHit(rule, std::move(event));
  std::vector<Alert> alerts = c.Finish();
  EXPECT_TRUE(std::is_sorted(alerts.begin(), alerts.end(), [](const Alert& a, const Alert& b) {
    return std::tie(a.host, a.rule.id, a.window_start) <
           std::tie(b.host, b.rule.id, b.window_start);
  }));
}

// Every alert passes schemas/alert.schema.json (the validator script).
void ExpectValidAlerts(const std::vector<Alert>& alerts) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("eventsift_correlated_" + std::to_string(::getpid()) + ".ndjson"))
                               .string();
  {
    std::ofstream out(path, std::ios::binary);
    out << RenderAll(alerts);
  }
  const auto result = testing::RunCommand(testing::ValidateAlertsCommand() + " " + path);
  std::remove(path.c_str());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(std::to_string(alerts.size()) + " alert(s) checked, 0 invalid"),
            std::string::npos)
      << result.output;
}

TEST(CorrelatorTest, EmittedAlertsValidateAgainstTheSchema) {
  Correlator c(TwoRules());
  c.AddBuild("EX01", ExchangeVersion{15, 1, 2507, 21}, "event MSExchange Common 4999 at a.evtx");
  c.AddBuild("ex02.contoso.com", ExchangeVersion{15, 2, 1118, 7, false}, "inventory s.csv:2");
  for (auto& [rule, event] : MixedHits()) c.AddHit(rule, std::move(event));
  std::vector<Alert> alerts = c.Finish();
  ASSERT_GT(alerts.size(), 3u);
  ExpectValidAlerts(alerts);
}

CorrelatedRule ImmediateRule(int64_t window_seconds, uint64_t threshold,
                             int64_t suppress_seconds = 0) {
  CorrelatedRule r = Rule("eems", window_seconds, threshold, suppress_seconds);
  r.spec.emit = EmitMode::kImmediate;
  return r;
}

TEST(CorrelatorTest, EmitModeDefaultsToImmediateForThresholdOne) {
  EXPECT_TRUE(Rule("a", 3600, 1).spec.immediate());
  EXPECT_FALSE(Rule("b", 3600, 2).spec.immediate());
  EXPECT_TRUE(ImmediateRule(3600, 5).spec.immediate());
  CorrelatedRule r = Rule("c", 3600, 1);
  r.spec.emit = EmitMode::kWindowEnd;
  EXPECT_FALSE(r.spec.immediate());
}

TEST(CorrelatorTest, ImmediateAlertThenOneFollowUpWithTheFinalCount) {
  Correlator c({ImmediateRule(3600, 2)});
  c.AddHit(0, Hit("EX01", kBase, 1));
  EXPECT_TRUE(c.Drain(kBase - kHour).empty());  // one hit: below the threshold
  c.AddHit(0, Hit("EX01", kBase + 10 * kMinute, 2));
  std::vector<Alert> early = c.Drain(kBase - kHour);  // watermark has not moved
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].revision, 1u);
  EXPECT_EQ(early[0].count, 2u);
  EXPECT_EQ(early[0].window_start, kBase);
  EXPECT_EQ(early[0].window_end, kBase + kHour);
  EXPECT_EQ(early[0].samples.size(), 2u);
  EXPECT_EQ(early[0].alert_id, ComputeAlertId("eems", "ex01", kBase));
  // Sent once: more hits in the open window wait for it to close.
  c.AddHit(0, Hit("EX01", kBase + 20 * kMinute, 3));
  c.AddHit(0, Hit("EX01", kBase + 30 * kMinute, 4));
  EXPECT_TRUE(c.Drain(kBase + 40 * kMinute).empty());
  std::vector<Alert> closed = c.Drain(kBase + kHour);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].revision, 2u);
  EXPECT_EQ(closed[0].alert_id, early[0].alert_id);
  EXPECT_EQ(closed[0].count, 4u);
  EXPECT_EQ(closed[0].last_seen, kBase + 30 * kMinute);
  EXPECT_EQ(c.stats().alerts_immediate.Get(), 1u);
  EXPECT_EQ(c.stats().alerts_followed_up.Get(), 1u);
  EXPECT_EQ(c.stats().alerts_emitted.Get(), 2u);
  EXPECT_TRUE(c.Finish().empty());
}

TEST(CorrelatorTest, ImmediateAlertWithTheFinalCountGetsNoFollowUp) {
  Correlator c({ImmediateRule(3600, 1)});
  c.AddHit(0, Hit("EX01", kBase, 1));
  std::vector<Alert> early = c.Drain(0);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].revision, 1u);
  EXPECT_TRUE(c.Drain(kBase + kHour).empty());
  EXPECT_EQ(c.stats().alerts_unchanged.Get(), 1u);
  EXPECT_TRUE(c.Finish().empty());
}

TEST(CorrelatorTest, ImmediateAlertKeepsItsIdWhenEarlierHitsArrive) {
  Correlator c({ImmediateRule(3600, 1)});
  c.AddHit(0, Hit("EX01", kBase + 30 * kMinute, 1));
  std::vector<Alert> early = c.Drain(0);
  ASSERT_EQ(early.size(), 1u);
  const std::string id = early[0].alert_id;
  // Out of order but on time: it lands in the window before, on the same grid.
  c.AddHit(0, Hit("EX01", kBase + 10 * kMinute, 2));
  c.AddHit(0, Hit("EX01", kBase + 40 * kMinute, 3));
  std::vector<Alert> more = c.Drain(0);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].window_start, kBase + 30 * kMinute - kHour);
  EXPECT_EQ(more[0].revision, 1u);
  std::vector<Alert> rest = c.Finish();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].alert_id, id);
  EXPECT_EQ(rest[0].revision, 2u);
  EXPECT_EQ(rest[0].count, 2u);
}

TEST(CorrelatorTest, ImmediateAlertIsNotSentForASuppressedWindow) {
  // 1h windows, suppress 24h: the second window folds into the first alert.
  Correlator c({ImmediateRule(3600, 1, 24 * 3600)});
  c.AddHit(0, Hit("EX01", kBase, 1));
  ASSERT_EQ(c.Drain(0).size(), 1u);
  c.AddHit(0, Hit("EX01", kBase + 90 * kMinute, 2));
  EXPECT_TRUE(c.Drain(kBase + kHour).empty());  // first window closes unchanged
  EXPECT_TRUE(c.Drain(kBase + 80 * kMinute).empty());
  EXPECT_TRUE(c.Finish().empty());
  EXPECT_EQ(c.stats().hits_suppressed.Get(), 1u);
  EXPECT_EQ(c.stats().alerts_immediate.Get(), 1u);
}

TEST(CorrelatorTest, BatchAlertsIgnoreTheEmitMode) {
  // scan: whole windows, each alert once with its final count, no revision.
  auto run = [](EmitMode mode) {
    CorrelatedRule r = Rule("eems", 3600, 1, 24 * 3600);
    r.spec.emit = mode;
    Correlator c({r});
    std::vector<OwnedEvent> hits;
    for (int64_t m : {5, 15, 64, 66, 185, 2000})
      hits.push_back(Hit("EX01", kBase + m * kMinute, m));
    for (const auto& h : hits) c.PlanHit(0, h.computer, h.time);
    for (auto& h : hits) c.AddPlannedHit(0, std::move(h));
    return RenderAll(c.Finish());
  };
  const std::string immediate = run(EmitMode::kImmediate);
  EXPECT_EQ(immediate, run(EmitMode::kWindowEnd));
  EXPECT_EQ(immediate.find("revision"), std::string::npos);
  EXPECT_NE(immediate.find("\"count\":3,"), std::string::npos) << immediate;
}

TEST(CorrelatorTest, ImmediateAlertsValidateAgainstTheSchema) {
  Correlator c({ImmediateRule(3600, 1)});
  c.AddHit(0, Hit("EX01", kBase, 1));
  std::vector<Alert> alerts = c.Drain(0);
  c.AddHit(0, Hit("EX01", kBase + kMinute, 2));
  for (Alert& a : c.Finish()) alerts.push_back(std::move(a));
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[1].revision, 2u);
  ExpectValidAlerts(alerts);
  Result<Alert> back = ParseAlertJson(RenderAlertJson(alerts[1]));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back.value().revision, 2u);
}

}  // namespace
}  // namespace eventsift::correlate
