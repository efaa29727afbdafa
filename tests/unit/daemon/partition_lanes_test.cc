// PartitionLanes with the shipped EEMS rule (24 h windows from a host's
// first hit), set to `emit: window_end` so that alerts wait for the
// watermarks under test (the daemon tests cover `immediate`, its default):
// each Kafka partition keeps its own watermark, so a partition
// whose events are days older than another's is not dropped as late; the
// commit floor points at the oldest hit of an open window; lanes survive a
// save and restore, and go when their partition is not assigned.

#include "src/daemon/partition_lanes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "src/core/time_util.h"
#include "tests/unit/daemon/eems_lines.h"

namespace eventsift::daemon {
namespace {

constexpr int64_t kT0 = 1714557600;  // 2024-05-01T10:00:00Z
constexpr int64_t kDay = 86400;

class PartitionLanesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml");
    std::string rule((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "  samples: 3\n";
    ASSERT_NE(rule.find(from), std::string::npos);
    rule.replace(rule.find(from), from.size(), from + "  emit: window_end\n");
    const std::string path = ::testing::TempDir() + "eems_window_end_lanes.yaml";
    std::ofstream(path) << rule;
    auto loaded = detect::RuleSet::Load({path});
    ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
    rules_ = std::move(loaded).value();
    main_ = std::make_unique<EventPipeline>(rules_, correlate::CorrelatorOptions{}, 0, &journal_);
  }
  std::unique_ptr<PartitionLanes> MakeLanes() {
    return std::make_unique<PartitionLanes>("raw", rules_, correlate::CorrelatorOptions{}, 0,
                                            main_.get());
  }
  // Delivers `line` as the message at `offset` of `partition`.
  static void Feed(PartitionLanes& lanes, int32_t partition, int64_t offset,
                   const std::string& line) {
    std::string origin = fmt::format("kafka:raw/{}", partition);
    lanes.OnLine(source::LineRecord{origin, line, static_cast<uint64_t>(offset) + 1, partition});
  }

  std::shared_ptr<const detect::RuleSet> rules_;
  HitJournal journal_;
  std::unique_ptr<EventPipeline> main_;
};

TEST_F(PartitionLanesTest, EachPartitionKeepsItsOwnWatermark) {
  auto lanes = MakeLanes();
  // Partition 0 is ten days ahead and closes its window.
  Feed(*lanes, 0, 0, Hit("EX01", kT0));
  Feed(*lanes, 0, 1, Tick(kT0 + 10 * kDay));
  std::vector<Alert> a = lanes->DrainAlerts(false);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].host, "ex01");
  // Partition 1's events are days older than partition 0's: one shared
  // watermark would drop them as late; here they open their own window.
  Feed(*lanes, 1, 40, Hit("EX02", kT0 + 60));
  Feed(*lanes, 1, 41, Hit("EX02", kT0 + 3600));
  EXPECT_TRUE(lanes->DrainAlerts(false).empty());  // still open
  EXPECT_EQ(lanes->CommitFloor(1), 40);            // its first hit must be re-read
  EXPECT_EQ(lanes->CommitFloor(0), -1);            // closed: nothing held back
  EXPECT_EQ(lanes->CommitFloor(7), -1);            // not ours
  Feed(*lanes, 1, 42, Tick(kT0 + 3 * kDay));
  a = lanes->DrainAlerts(false);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].host, "ex02");
  EXPECT_EQ(a[0].count, 2u);
  EXPECT_EQ(a[0].window_start, FileTimeFromUnixMillis((kT0 + 60) * 1000));
  EXPECT_EQ(lanes->CommitFloor(1), -1);
  // The lanes count into the main pipeline's totals.
  EXPECT_EQ(main_->stats().events.Get(), 5u);
  EXPECT_EQ(main_->stats().alerts.Get(), 2u);
  EXPECT_EQ(lanes->size(), 2u);
}

TEST_F(PartitionLanesTest, SavedLanesRestoreAndUnassignedOnesGo) {
  auto lanes = MakeLanes();
  Feed(*lanes, 2, 10, Hit("EX03", kT0));
  Feed(*lanes, 3, 20, Hit("EX04", kT0 + 120));
  Feed(*lanes, 3, 21, Tick(kT0 + 3 * kDay));
  ASSERT_EQ(lanes->DrainAlerts(false).size(), 1u);  // EX04's window closed
  DaemonState state;
  lanes->SaveTo(&state);
  ASSERT_EQ(state.partitions.size(), 2u);

  auto restored = MakeLanes();
  restored->Restore(state.partitions);
  EXPECT_EQ(restored->size(), 2u);
  EXPECT_EQ(restored->CommitFloor(2), 10);  // the open window came back
  // EX04's alert was sent before the save: the replay does not send it again.
  Feed(*restored, 2, 11, Tick(kT0 + 3 * kDay));
  std::vector<Alert> a = restored->DrainAlerts(false);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].host, "ex03");
  // Only partition 3 is assigned now: partition 2's state goes.
  restored->Retain({3});
  EXPECT_EQ(restored->size(), 1u);
  EXPECT_EQ(restored->CommitFloor(2), -1);
}

}  // namespace
}  // namespace eventsift::daemon
