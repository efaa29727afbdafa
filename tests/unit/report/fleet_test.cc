// BuildFleet and its renderers on observations written by hand: host keys,
// the EEMS state machine (no events / working / failing since ...), indicator
// counts, builds looked up by key or name, --inventory hosts without events,
// and escaping in the HTML page.
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/detect/rule_set.h"
#include "src/report/fleet.h"
#include "src/report/fleet_table.h"
#include "src/report/html_report.h"

namespace eventsift::report {
namespace {

// 2026-11-20T00:00:00Z plus hours.
FileTime At(int hours) {
  return FileTimeFromUnixMillis(1795132800000LL) + int64_t{hours} * 3600 * kTicksPerSecond;
}

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto set =
        detect::RuleSet::Load(detect::ShippedRulePaths(std::string(ES_SOURCE_DIR) + "/rules"));
    ASSERT_TRUE(set) << set.error().ToString();
    rules_ = set.value();
  }
  uint32_t Rule(const std::string& id) const {
    const auto& r = rules_->rules();
    for (uint32_t i = 0; i < r.size(); ++i) {
      if (r[i].id == id) return i;
    }
    ADD_FAILURE() << "no rule " << id;
    return 0;
  }
  void Hit(const std::string& rule, const std::string& host, FileTime t) {
    hits_.push_back(HitSeen{Rule(rule), host, t, {}});
  }
  std::vector<FleetHost> Build(bool merge = true, const correlate::CveCatalog* cves = nullptr) {
    FleetInput in;
    in.cves = cves;
    in.rules = rules_.get();
    in.observations = &obs_;
    in.hits = &hits_;
    in.build_for = [this](const std::string& key) -> std::optional<ExchangeBuildInfo> {
      asked_.push_back(key);
      if (key != "ex01") return std::nullopt;  // keyed by the short name, as a correlator may
      ExchangeBuildInfo b;
      b.version = "15.1.2507.16";
      b.product = "Exchange Server 2016 CU23 Nov22 SU";
      b.status = BuildStatus::kOutdated;
      b.eems_mitigations = EemsMitigations::kNo;
      return b;
    };
    in.merge_short_names = merge;
    return BuildFleet(in);
  }

  std::shared_ptr<const detect::RuleSet> rules_;
  ScanObservations obs_;
  std::vector<HitSeen> hits_;
  std::vector<std::string> asked_;
};

TEST_F(FleetTest, OneRowPerExchangeHostWithNamesMerged) {
  obs_.exchange_hosts = {{"EX01.contoso.com", 10}, {"ex01", 2}, {"EX02", 1}, {"mail3.", 4}};
  Hit(kEemsErrorRule, "ex01", At(1));
  auto fleet = Build();
  ASSERT_EQ(fleet.size(), 3u);
  EXPECT_EQ(fleet[0].host, "ex01.contoso.com");
  EXPECT_EQ(fleet[0].names, (std::vector<std::string>{"EX01.contoso.com", "ex01"}));
  EXPECT_EQ(fleet[0].exchange_events, 12u);
  EXPECT_EQ(fleet[0].eems_errors, 1u);
  EXPECT_EQ(fleet[1].host, "ex02");
  EXPECT_EQ(fleet[2].host, "mail3");
  // The build was found under the short name after the key missed.
  ASSERT_TRUE(fleet[0].build);
  EXPECT_EQ(fleet[0].build->version, "15.1.2507.16");
  EXPECT_FALSE(fleet[1].build);
  // Without merging the short name is its own host.
  EXPECT_EQ(Build(/*merge=*/false).size(), 4u);
}

TEST_F(FleetTest, EemsStates) {
  obs_.exchange_hosts = {{"never", 1}, {"quiet", 1}, {"ok", 1}, {"stopped", 1}, {"recovered", 1}};
  for (int h = 0; h < 5; ++h) Hit(kEemsErrorRule, "never", At(h));
  for (int h = 0; h < 3; ++h) Hit(kEemsSuccessRule, "ok", At(h));
  Hit(kEemsSuccessRule, "stopped", At(0));
  Hit(kEemsSuccessRule, "stopped", At(2));
  Hit(kEemsErrorRule, "stopped", At(1));  // before the last success: not the start
  Hit(kEemsErrorRule, "stopped", At(4));
  Hit(kEemsErrorRule, "stopped", At(3));  // out of order on purpose
  Hit(kEemsErrorRule, "recovered", At(1));
  Hit(kEemsSuccessRule, "recovered", At(2));
  auto fleet = Build();
  ASSERT_EQ(fleet.size(), 5u);
  std::map<std::string, const FleetHost*> by;
  for (const auto& h : fleet) by[h.host] = &h;

  EXPECT_EQ(by["never"]->eems, EemsState::kFailing);
  EXPECT_EQ(by["never"]->failing_since, At(0));
  EXPECT_EQ(by["never"]->last_error, At(4));
  EXPECT_EQ(EemsSummary(*by["never"]), "failing since 2026-11-20T00:00:00Z (5 errors)");

  EXPECT_EQ(by["quiet"]->eems, EemsState::kNoEvents);
  EXPECT_EQ(EemsSummary(*by["quiet"]), "no EEMS events");

  EXPECT_EQ(by["ok"]->eems, EemsState::kWorking);
  EXPECT_EQ(by["ok"]->last_success, At(2));
  EXPECT_EQ(EemsSummary(*by["ok"]), "working (3 successes)");

  EXPECT_EQ(by["stopped"]->eems, EemsState::kFailing);
  EXPECT_EQ(by["stopped"]->failing_since, At(3));
  EXPECT_EQ(by["stopped"]->last_success, At(2));
  // Its three timed errors on the timeline: the fleet spans At(0) .. At(4).
  uint64_t on_lane = 0;
  for (const TimelineBucket& b : by["stopped"]->error_lane) on_lane += b.count;
  EXPECT_EQ(on_lane, 3u);
  ASSERT_FALSE(by["stopped"]->error_lane.empty());
  EXPECT_EQ(by["stopped"]->error_lane.front().first, At(1));
  EXPECT_EQ(by["stopped"]->error_lane.back().last, At(4));
  EXPECT_EQ(by["stopped"]->error_lane.back().index, kTimelineBuckets - 1);

  EXPECT_EQ(by["recovered"]->eems, EemsState::kWorking);
  EXPECT_EQ(EemsSummary(*by["recovered"]), "working (1 earlier error)");
}

TEST_F(FleetTest, IndicatorsCountedPerRuleAndStateRulesAreNotIndicators) {
  obs_.exchange_hosts = {{"EX03", 5}};
  Hit("proxyshell_mailbox_export", "EX03", At(2));
  Hit("proxyshell_mailbox_export", "ex03", At(1));
  Hit("proxyshell_remove_mailbox_export", "EX03", At(3));
  Hit(kEemsSuccessRule, "EX03", At(0));
  Hit("proxyshell_mailbox_export", "not-exchange", At(1));  // no MSExchange event: no row
  auto fleet = Build();
  ASSERT_EQ(fleet.size(), 1u);
  const FleetHost& h = fleet[0];
  ASSERT_EQ(h.indicators.size(), 2u);
  EXPECT_EQ(h.indicators[0].rule_id, "proxyshell_mailbox_export");
  EXPECT_EQ(h.indicators[0].count, 2u);
  EXPECT_EQ(h.indicators[0].first, At(1));
  EXPECT_EQ(h.indicators[0].last, At(2));
  EXPECT_EQ(h.indicators[0].severity, "critical");
  EXPECT_EQ(h.indicators[1].rule_id, "proxyshell_remove_mailbox_export");
  EXPECT_EQ(h.indicator_hits, 3u);
  // Spanning At(0) .. At(3): one bucket per hour apart.
  ASSERT_EQ(h.indicator_lane.size(), 3u);
  EXPECT_EQ(h.indicator_lane[0].first, At(1));
  EXPECT_LT(h.indicator_lane[0].index, h.indicator_lane[1].index);
  EXPECT_EQ(h.indicator_lane[2].index, kTimelineBuckets - 1);
  EXPECT_EQ(IndicatorSummary(h),
            "proxyshell_mailbox_export x2, proxyshell_remove_mailbox_export x1");
  EXPECT_EQ(h.eems, EemsState::kWorking);
}

TEST_F(FleetTest, TableHasOneLinePerHost) {
  obs_.exchange_hosts = {{"EX01", 1}, {"EX02", 1}};
  Hit(kEemsErrorRule, "EX01", At(5));
  const std::string table = RenderFleetTable(Build());
  EXPECT_NE(table.find("Exchange fleet: 2 hosts (1 EEMS failing, 1 outdated build, 0 with "
                       "attack indicators)"),
            std::string::npos)
      << table;
  EXPECT_TRUE(std::regex_search(
      table,
      std::regex("\nex01 +15\\.1\\.2507\\.16 +Exchange Server 2016 CU23 Nov22 SU +"
                 "OUTDATED \\(<Mar 2023\\) +no +failing since 2026-11-20T05:00:00Z \\(1 error\\) "
                 "+never +- +-\n")))
      << table;
  EXPECT_TRUE(std::regex_search(
      table, std::regex("\nex02 +- +- +unknown +unknown +no EEMS events +- +- +-\n")))
      << table;
  EXPECT_EQ(RenderFleetTable({}), "\nExchange fleet: no Exchange hosts seen\n");
}

TEST_F(FleetTest, HtmlEscapesEventStringsAndFetchesNothing) {
  obs_.exchange_hosts = {{"<img src=x onerror=alert(1)>", 1}, {"EX01", 1}};
  Hit(kEemsErrorRule, "EX01", At(1));
  Hit("proxyshell_mailbox_export", "<img src=x onerror=alert(1)>", At(2));
  ReportInfo info;
  info.producer_version = "0.0-test";
  const std::string html = RenderFleetHtml(Build(), info);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  // Nothing is loaded from anywhere, and the CSP forbids it anyway.
  // Escaped text may say "src=", a tag may not: attribute values are
  // blanked first, so only attribute names are left inside tags.
  const std::string tags_only = std::regex_replace(html, std::regex("\"[^\"]*\""), "\"\"");
  EXPECT_FALSE(
      std::regex_search(tags_only, std::regex("<[a-z]+[^>]*\\s(src|href)\\s*=|@import|url\\(")));
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  // Each event-derived value is in the page once per place it belongs.
  EXPECT_NE(html.find("data-host=\"ex01\" data-eems=\"failing\""), std::string::npos);
  EXPECT_NE(html.find("class=\"eems-error\""), std::string::npos);
  EXPECT_NE(html.find("class=\"indicator\""), std::string::npos);
  EXPECT_EQ(HtmlEscape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
}

// --inventory's hosts: matched to log hosts by the same key (case, trailing
// dot, short name vs FQDN in either direction), and listed when the logs
// hold nothing of them.
TEST_F(FleetTest, InventoryHostsMergeWithLogHostsOrAddRows) {
  obs_.exchange_hosts = {{"EX01.contoso.com", 3}, {"ex02", 1}};
  obs_.inventory_hosts = {"ex01", "EX02.contoso.com.", "EX09", "ex09.contoso.com", "ex10"};
  auto fleet = Build();
  ASSERT_EQ(fleet.size(), 4u);
  // A short inventory name joins the logs' FQDN.
  EXPECT_EQ(fleet[0].host, "ex01.contoso.com");
  EXPECT_TRUE(fleet[0].in_logs);
  EXPECT_TRUE(fleet[0].in_inventory);
  EXPECT_EQ(fleet[0].exchange_events, 3u);
  // The inventory's FQDN gives the logs' short name its key, as the
  // correlator keys that host's alerts; the names stay those logged.
  EXPECT_EQ(fleet[1].host, "ex02.contoso.com");
  EXPECT_TRUE(fleet[1].in_logs);
  EXPECT_TRUE(fleet[1].in_inventory);
  EXPECT_EQ(fleet[1].names, (std::vector<std::string>{"ex02"}));
  EXPECT_EQ(fleet[1].eems, EemsState::kNoEvents);
  // Hosts only in the inventory, short and FQDN forms folded into one row.
  EXPECT_EQ(fleet[2].host, "ex09.contoso.com");
  EXPECT_EQ(fleet[3].host, "ex10");
  for (size_t i : {2, 3}) {
    EXPECT_FALSE(fleet[i].in_logs) << fleet[i].host;
    EXPECT_TRUE(fleet[i].in_inventory) << fleet[i].host;
    EXPECT_TRUE(fleet[i].names.empty()) << fleet[i].host;
    EXPECT_EQ(fleet[i].exchange_events, 0u);
    EXPECT_EQ(fleet[i].eems, EemsState::kNotInLogs) << fleet[i].host;
    EXPECT_EQ(EemsSummary(fleet[i]), "no Exchange events in the scanned logs");
    EXPECT_EQ(LastSuccessText(fleet[i]), "-");
  }
  // Without merging, "ex01" from the inventory is a host of its own that the
  // logs never showed.
  auto separate = Build(/*merge=*/false);
  ASSERT_EQ(separate.size(), 7u);
  EXPECT_EQ(separate[0].host, "ex01");
  EXPECT_FALSE(separate[0].in_logs);
  EXPECT_EQ(separate[1].host, "ex01.contoso.com");
  EXPECT_FALSE(separate[1].in_inventory);
}

TEST_F(FleetTest, HitOnAnInventoryHostShowsItsLogs) {
  // No MSExchange event recorded the host, but an EEMS rule hit it: its
  // logs were scanned, and the hit counts.
  obs_.inventory_hosts = {"EX05.contoso.com"};
  Hit(kEemsErrorRule, "ex05", At(2));
  Hit("proxyshell_mailbox_export", "nothere", At(3));  // neither Exchange nor inventory
  auto fleet = Build();
  ASSERT_EQ(fleet.size(), 1u);
  EXPECT_EQ(fleet[0].host, "ex05.contoso.com");
  EXPECT_TRUE(fleet[0].in_logs);
  EXPECT_EQ(fleet[0].eems, EemsState::kFailing);
  EXPECT_EQ(fleet[0].eems_errors, 1u);
}

TEST_F(FleetTest, InventoryOnlyHostsInTableAndHtml) {
  obs_.exchange_hosts = {{"EX02", 1}};
  Hit(kEemsErrorRule, "EX02", At(5));
  obs_.inventory_hosts = {"EX01"};  // the build lookup knows "ex01"
  const auto fleet = Build();
  ASSERT_EQ(fleet.size(), 2u);
  ASSERT_TRUE(fleet[0].build);  // from the inventory, though no event named it
  const std::string table = RenderFleetTable(fleet);
  EXPECT_NE(table.find("Exchange fleet: 2 hosts (1 EEMS failing, 1 outdated build, 0 with "
                       "attack indicators, 1 not in the scanned logs)\n"),
            std::string::npos)
      << table;
  EXPECT_TRUE(std::regex_search(
      table, std::regex("\nex01 +15\\.1\\.2507\\.16 +Exchange Server 2016 CU23 Nov22 SU +"
                        "OUTDATED \\(<Mar 2023\\) +no +no Exchange events in the scanned logs "
                        "+- +- +-\n")))
      << table;
  ReportInfo info;
  info.producer_version = "0.0-test";
  const std::string html = RenderFleetHtml(fleet, info);
  EXPECT_NE(html.find("2 Exchange hosts: 1 with EEMS failing, 0 with attack indicators, 1 not in "
                      "the scanned logs (inventory only). From"),
            std::string::npos);
  EXPECT_NE(html.find("data-host=\"ex01\" data-eems=\"no Exchange events in the scanned logs\""),
            std::string::npos);
  // Without inventory-only hosts the title and summary keep their old form.
  obs_.inventory_hosts.clear();
  EXPECT_NE(RenderFleetTable(Build()).find("Exchange fleet: 1 host (1 EEMS failing, 0 outdated "
                                           "builds, 0 with attack indicators)\n"),
            std::string::npos);
  EXPECT_NE(RenderFleetHtml(Build(), info)
                .find("1 Exchange host: 1 with EEMS failing, 0 with "
                      "attack indicators. From"),
            std::string::npos);
}

// Mitigation ids named by EEMS success events and by the inventory reach the
// host row, and the CVE verdicts use them.
TEST_F(FleetTest, MitigationsAndCveVerdicts) {
  auto cves = correlate::CveCatalog::Parse(
      "cve,title,disclosed,kev_added,eems_mitigation,fixed_builds,source,note\n"
      "CVE-2026-42897,t,2026-05-14,2026-05-15,M2,15.1.2507.69,https://example.org/,\n",
      "cves.csv");
  ASSERT_TRUE(cves) << cves.error().ToString();
  obs_.exchange_hosts = {{"ex01", 1}, {"ex02", 1}};
  const FileTime may20 = ParseEventTime("2026-05-20T08:00:00Z").value();
  hits_.push_back(HitSeen{Rule("eems_mitigation_success"), "ex02", may20, {"M2.1.0"}});
  hits_.push_back(HitSeen{Rule("eems_mitigation_success"), "ex02", may20 + 1, {"M2.1.0"}});
  obs_.inventory_mitigations.push_back({"EX02", "inventory i.csv:2", {"M1.1.0", "M2.1.0"}});
  auto fleet = Build(true, &cves.value());
  ASSERT_EQ(fleet.size(), 2u);
  // ex01: build older than March 2023, no EEMS events.
  ASSERT_EQ(fleet[0].cves.size(), 1u);
  EXPECT_EQ(fleet[0].cves[0].kind, correlate::CveVerdictKind::kExposedCannotFetch);
  EXPECT_EQ(fleet[0].cves[0].exposed_from, "2026-05-14");
  // ex02: no build, but M2 applied: the timed event beats the inventory.
  ASSERT_EQ(fleet[1].mitigations.size(), 2u);
  EXPECT_EQ(fleet[1].mitigations[1].id, "M2.1.0");
  EXPECT_EQ(fleet[1].mitigations[1].time, may20);
  EXPECT_EQ(fleet[1].cves[0].kind, correlate::CveVerdictKind::kMitigated);
  EXPECT_EQ(MitigationsText(fleet[1]), "M1.1.0 (inventory), M2.1.0 (2026-05-20T08:00:00Z)");
  const std::string table = RenderFleetTable(fleet);
  EXPECT_NE(table.find("1 exposed to a listed CVE)"), std::string::npos) << table;
  EXPECT_NE(table.find("CVE-2026-42897 (KEV 2026-05-15)"), std::string::npos) << table;
  EXPECT_NE(table.find("exposed: EEMS cannot fetch (build older than March 2023) [exposed from "
                       "2026-05-14]"),
            std::string::npos)
      << table;
  const std::string html = RenderFleetHtml(fleet, ReportInfo{});
  EXPECT_NE(html.find("<title>eventsift: Exchange fleet report: 1 of 2 servers exposed to a "
                      "listed CVE</title>"),
            std::string::npos);
  EXPECT_NE(html.find("data-verdict=\"exposed_eems_cannot_fetch\""), std::string::npos);
}

// The builder keeps mitigation ids per logged name and id, not per hit: the
// names of one host merge into its row, and each id keeps its earliest
// event whatever order the inputs came in (untimed hits only when no timed
// one names the id).
TEST_F(FleetTest, MitigationIdsMergeAcrossNamesEarliestFirst) {
  obs_.exchange_hosts = {{"EX02.contoso.com", 1}, {"ex02", 1}};
  const FileTime may20 = ParseEventTime("2026-05-20T08:00:00Z").value();
  Hit("eems_mitigation_success", "ex02", may20 + 60);  // names no id
  hits_.push_back(HitSeen{Rule("eems_mitigation_success"), "ex02", 0, {"M1.1.0"}});
  hits_.push_back(HitSeen{Rule("eems_mitigation_success"), "ex02", may20 + 30, {"M2.1.0"}});
  hits_.push_back(
      HitSeen{Rule("eems_mitigation_success"), "EX02.contoso.com", may20, {"M2.1.0", "M1.1.0"}});
  hits_.push_back(HitSeen{Rule("eems_mitigation_success"), "ex02", may20 + 90, {"M2.1.0"}});
  // Ids on other rules' hits are not mitigations.
  hits_.push_back(HitSeen{Rule("eems_mitigation_error"), "ex02", may20 - 60, {"M3.1.0"}});
  auto fleet = Build();
  ASSERT_EQ(fleet.size(), 1u);
  EXPECT_EQ(fleet[0].eems_successes, 5u);
  ASSERT_EQ(fleet[0].mitigations.size(), 2u);
  EXPECT_EQ(fleet[0].mitigations[0].id, "M1.1.0");
  EXPECT_EQ(fleet[0].mitigations[0].time, may20);
  EXPECT_EQ(fleet[0].mitigations[1].id, "M2.1.0");
  EXPECT_EQ(fleet[0].mitigations[1].time, may20);
  EXPECT_EQ(MitigationsText(fleet[0]),
            "M1.1.0 (2026-05-20T08:00:00Z), M2.1.0 (2026-05-20T08:00:00Z)");
}

}  // namespace
}  // namespace eventsift::report
