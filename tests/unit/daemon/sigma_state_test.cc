// Sigma correlation state in the daemon's checkpoints: the EventPipeline's
// engine state goes into the journal, through state.json's text form
// (SerializeState/ParseState) and back into a new pipeline, for the
// daemon-wide pipeline and for a Kafka partition's lane, so a restart or a
// partition takeover loses no open window (docs/sigma-correlation.md).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "src/core/time_util.h"
#include "src/daemon/partition_lanes.h"
#include "src/daemon/state_store.h"
#include "tests/unit/daemon/eems_lines.h"

namespace eventsift::daemon {
namespace {

constexpr int64_t kT0 = 1714557600;  // 2024-05-01T10:00:00Z
constexpr int64_t kDay = 86400;

// Three EEMS failures per host within 24 h (the shipped rule, named by a
// Sigma correlation, so it alerts only through it).
constexpr char kCorrelation[] = R"(title: EEMS failing repeatedly
id: eems-3-per-host-24h
level: high
correlation:
    type: event_count
    rules: [eems_mitigation_error]
    group-by: [Computer]
    timespan: 24h
    condition: {gte: 3}
)";

class SigmaStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        fmt::format("eventsift_sigma_state_{}", ::testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml",
                               dir_ / "eems_mitigation_error.yaml",
                               std::filesystem::copy_options::overwrite_existing);
    std::ofstream(dir_ / "mr_eems.yml") << kCorrelation;
    auto loaded = detect::RuleSet::Load({dir_.string()});
    ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
    rules_ = std::move(loaded).value();
    ASSERT_EQ(rules_->sigma_correlations().size(), 1u);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void Feed(EventPipeline& p, uint64_t line_no, const std::string& line) {
    p.OnLine(source::LineRecord{"drop/a.ndjson", line, line_no, -1});
  }
  // What a checkpoint writes and a restart reads.
  static DaemonState ThroughText(const DaemonState& state) {
    auto parsed = ParseState(SerializeState(state), "state.json");
    EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
    return parsed.has_value() ? std::move(parsed).value() : DaemonState{};
  }

  std::filesystem::path dir_;
  std::shared_ptr<const detect::RuleSet> rules_;
};

// Two failures before the "crash", the third after the restart: the alert
// needs the two saved ones (the restarted daemon reads only what came after
// its checkpoint).
TEST_F(SigmaStateTest, OpenWindowSurvivesARestart) {
  DaemonState saved;
  {
    HitJournal journal;
    EventPipeline p(rules_, correlate::CorrelatorOptions{}, 0, &journal);
    Feed(p, 1, Hit("EX01.contoso.com", kT0));
    Feed(p, 2, Hit("EX01.contoso.com", kT0 + 3600));
    EXPECT_TRUE(p.DrainAlerts(false).empty());
    // The named base rule alerts only through the correlation.
    EXPECT_TRUE(journal.hits().empty());
    EXPECT_EQ(p.OldestOpenLine(), 1u);
    p.PruneJournal();  // what Daemon::Checkpoint does before saving
    journal.SaveTo(&saved);
    saved.max_event_time = p.max_event_time();
  }
  DaemonState restored = ThroughText(saved);
  EXPECT_FALSE(restored.sigma_correlation.empty());
  HitJournal journal;
  journal.LoadFrom(restored);
  EventPipeline p(rules_, correlate::CorrelatorOptions{}, 0, &journal);
  p.set_max_event_time(restored.max_event_time);
  EXPECT_EQ(p.sigma().open_entries(), 2u);
  Feed(p, 3, Hit("EX01.contoso.com", kT0 + 7200));
  Feed(p, 4, Tick(kT0 + 3 * kDay));
  std::vector<Alert> alerts = p.DrainAlerts(false);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.id, "eems-3-per-host-24h");
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(alerts[0].first_seen, FileTimeFromUnixMillis(kT0 * 1000));
  ASSERT_TRUE(alerts[0].correlation.has_value());
  // Grouped by the host key (src/correlate/host_key.h).
  EXPECT_EQ(alerts[0].correlation->group.at(0).second, "ex01.contoso.com");
}

// A partition's lane carries its own engine state: saved, restored, and
// its commit floor holds back to the oldest hit of an open Sigma window, so
// a member taking the partition over reads it again.
TEST_F(SigmaStateTest, PartitionLaneKeepsItsWindows) {
  HitJournal main_journal;
  EventPipeline main(rules_, correlate::CorrelatorOptions{}, 0, &main_journal);
  auto feed = [](PartitionLanes& lanes, int32_t partition, int64_t offset,
                 const std::string& line) {
    lanes.OnLine(source::LineRecord{fmt::format("kafka:raw/{}", partition), line,
                                    static_cast<uint64_t>(offset) + 1, partition});
  };
  DaemonState saved;
  {
    PartitionLanes lanes("raw", rules_, correlate::CorrelatorOptions{}, 0, &main);
    feed(lanes, 5, 10, Hit("EX05", kT0));
    feed(lanes, 5, 11, Hit("EX05", kT0 + 60));
    EXPECT_TRUE(lanes.DrainAlerts(false).empty());
    EXPECT_EQ(lanes.CommitFloor(5), 10);
    lanes.PruneJournals();
    lanes.SaveTo(&saved);
  }
  DaemonState restored = ThroughText(saved);
  ASSERT_EQ(restored.partitions.size(), 1u);
  PartitionLanes lanes("raw", rules_, correlate::CorrelatorOptions{}, 0, &main);
  lanes.Restore(restored.partitions);
  EXPECT_EQ(lanes.CommitFloor(5), 10);
  feed(lanes, 5, 12, Hit("EX05", kT0 + 120));
  feed(lanes, 5, 13, Tick(kT0 + 3 * kDay));
  std::vector<Alert> alerts = lanes.DrainAlerts(false);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(lanes.CommitFloor(5), -1);  // decided: nothing held back
}

// A state file written before Sigma correlations existed (no
// "sigma_correlation" key) loads, and a malformed one is refused.
TEST_F(SigmaStateTest, StateFilesWithoutOrWithBadSigmaState) {
  DaemonState empty;
  EXPECT_TRUE(ThroughText(empty).sigma_correlation.empty());
  std::string text = SerializeState(empty);
  text.insert(text.rfind('}'), ",\"sigma_correlation\":[1]");
  auto parsed = ParseState(text, "state.json");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().ToString().find("bad sigma_correlation"), std::string::npos);
}

}  // namespace
}  // namespace eventsift::daemon
