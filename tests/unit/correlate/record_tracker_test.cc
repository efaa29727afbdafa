// RecordTracker's bookkeeping: holes close as ids arrive in any order, gaps
// settle at the end, past the reorder window or the range bound, repeats and
// late ids are told apart, and memory per key and keys stay bounded.
#include "src/correlate/record_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

namespace eventsift::correlate {
namespace {

// A random order of n ids holes the set in up to ~n/4 places: 2000 ids stay
// within the default bound of ranges per key.
TEST(RecordTrackerTest, ShuffledIdsLeaveNoGap) {
  std::vector<uint64_t> ids(2000);
  std::iota(ids.begin(), ids.end(), 1);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(3));
  RecordTracker t;
  for (uint64_t id : ids) t.Add("h", "Security", id);
  EXPECT_TRUE(t.Settle(true).empty());
  ASSERT_EQ(t.keys().size(), 1u);
  EXPECT_EQ(t.keys()[0].seen, 2000u);
  EXPECT_EQ(t.keys()[0].missing, 0u);
  EXPECT_EQ(t.keys()[0].repeats, 0u);
}

// Against a plain set of ids: random ids with many repeats (a log read
// twice, overlapping exports), one by one and merged from a second tracker
// (whole ranges at once), give the repeats and the holes the set gives.
TEST(RecordTrackerTest, RandomIdsMatchASetModel) {
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    const uint64_t span = 20 + rng() % 300;
    std::set<uint64_t> seen_a, seen_b;
    uint64_t repeats_a = 0, repeats_b = 0;
    RecordTracker a, b;
    for (int i = 0; i < 400; ++i) {
      const uint64_t id = 1 + rng() % span;
      repeats_a += !seen_a.insert(id).second;
      a.Add("h", "System", id);
      const uint64_t id_b = 1 + rng() % span;
      repeats_b += !seen_b.insert(id_b).second;
      b.Add("h", "System", id_b);
    }
    // The same log read again: a run of ids in order, partly new.
    const uint64_t start = 1 + rng() % span;
    for (uint64_t id = start; id < start + 60; ++id) {
      repeats_a += !seen_a.insert(id).second;
      a.Add("h", "System", id);
    }
    ASSERT_EQ(a.total_repeats(), repeats_a) << "round " << round;
    // The per-record fast paths (inside the last range, one past the
    // highest) keep the key's counts too.
    ASSERT_EQ(a.keys().size(), 1u);
    EXPECT_EQ(a.keys()[0].seen, 460u) << "round " << round;
    EXPECT_EQ(a.keys()[0].lowest, *seen_a.begin()) << "round " << round;
    EXPECT_EQ(a.keys()[0].highest, *seen_a.rbegin()) << "round " << round;
    uint64_t both = 0;
    for (uint64_t id : seen_b) both += seen_a.count(id);
    a.Merge(b);
    EXPECT_EQ(a.total_repeats(), repeats_a + repeats_b + both) << "round " << round;
    std::set<uint64_t> all = seen_a;
    all.insert(seen_b.begin(), seen_b.end());
    std::vector<std::pair<uint64_t, uint64_t>> holes;
    for (uint64_t id = *all.begin(); id <= *all.rbegin(); ++id) {
      if (all.count(id)) continue;
      if (!holes.empty() && holes.back().second + 1 == id) {
        holes.back().second = id;
      } else {
        holes.emplace_back(id, id);
      }
    }
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    for (const auto& [key, gap] : a.Settle(true)) gaps.emplace_back(gap.first, gap.last);
    EXPECT_EQ(gaps, holes) << "round " << round;
  }
}

TEST(RecordTrackerTest, GapsAndRepeats) {
  RecordTracker t;
  for (uint64_t id = 10; id <= 100; ++id) {
    if (id < 40 || id > 49) t.Add("h", "System", id);
  }
  t.Add("h", "System", 20);
  t.Add("h", "System", 20);
  t.Add("h", "Security", 20);  // another channel: no repeat
  auto gaps = t.Settle(true);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].second.first, 40u);
  EXPECT_EQ(gaps[0].second.last, 49u);
  EXPECT_EQ(t.keys()[gaps[0].first].channel, "System");
  EXPECT_EQ(t.total_missing(), 10u);
  EXPECT_EQ(t.total_repeats(), 2u);
  EXPECT_EQ(t.keys()[0].lowest, 10u) << "nothing below the first id is a gap";
}

TEST(RecordTrackerTest, ReorderWindowKeepsRecentHolesOpen) {
  RecordTrackerOptions o;
  o.reorder_window = 100;
  RecordTracker t(o);
  for (uint64_t id = 1; id <= 150; ++id) {
    if (id != 30 && id != 120) t.Add("h", "c", id);
  }
  auto settled = t.Settle(false);
  ASSERT_EQ(settled.size(), 1u) << "30 is 120 below the top, 120 only 30";
  EXPECT_EQ(settled[0].second.first, 30u);
  t.Add("h", "c", 120);  // the late one within the window closes its hole
  t.Add("h", "c", 30);   // below the settled floor: late, not a repeat
  EXPECT_TRUE(t.Settle(true).empty());
  EXPECT_EQ(t.keys()[0].missing, 1u);
  EXPECT_EQ(t.keys()[0].late, 1u);
  EXPECT_EQ(t.keys()[0].repeats, 0u);
}

TEST(RecordTrackerTest, RangesPerKeyAndKeysBounded) {
  RecordTrackerOptions o;
  o.max_ranges = 8;
  o.max_keys = 2;
  o.max_gaps_kept = 4;
  RecordTracker t(o);
  for (uint64_t id = 1; id <= 200; id += 2) t.Add("h", "c", id);  // every other id
  EXPECT_EQ(t.keys()[0].gaps, 100u - 8u) << "the lowest holes settle to stay in bound";
  EXPECT_LE(t.keys()[0].recent.size(), 4u);
  t.Settle(true);
  EXPECT_EQ(t.keys()[0].missing, 99u);
  t.Add("h2", "c", 1);
  t.Add("h3", "c", 1);
  EXPECT_EQ(t.keys().size(), 2u);
  EXPECT_EQ(t.untracked(), 1u);
}

TEST(RecordTrackerTest, MergeCountsOverlapAsRepeats) {
  RecordTracker a, b, all;
  for (uint64_t id = 1; id <= 60; ++id) a.Add("h", "c", id);
  for (uint64_t id = 50; id <= 100; ++id) b.Add("h", "c", id);
  all.Merge(a);
  all.Merge(b);
  EXPECT_TRUE(all.Settle(true).empty());
  EXPECT_EQ(all.keys()[0].repeats, 11u);
  EXPECT_EQ(all.keys()[0].seen, 111u);
}

Event ClearEvent(uint32_t id, std::string_view channel, uint64_t record_id,
                 std::vector<DataField>* data) {
  Event e;
  e.event_id = id;
  e.channel = channel;
  e.provider = "Microsoft-Windows-Eventlog";
  e.computer = "DC01";
  e.record_id = record_id;
  e.data = *data;
  return e;
}

TEST(RecordTrackerTest, LogClearBesideGap) {
  RecordTracker t;
  for (uint64_t id = 1; id <= 10; ++id) t.Add("dc01", "Security", id);
  std::vector<DataField> none;
  t.Add(ClearEvent(1102, "Security", 20, &none));
  for (uint64_t id = 21; id <= 30; ++id) t.Add("dc01", "Security", id);
  for (uint64_t id = 35; id <= 40; ++id) t.Add("dc01", "Security", id);
  std::vector<DataField> app = {{"Channel", "Application"}};
  t.Add(ClearEvent(104, "System", 7, &app));
  t.Add("dc01", "Application", 1);
  t.Add("dc01", "Application", 5);
  auto gaps = t.Settle(true);
  ASSERT_EQ(gaps.size(), 3u);
  for (const auto& [key, gap] : gaps) {
    const std::string& channel = t.keys()[key].channel;
    if (channel == "Security" && gap.first == 11) {
      EXPECT_TRUE(gap.cleared);
    }
    if (channel == "Security" && gap.first == 31) {
      EXPECT_FALSE(gap.cleared);
    }
    if (channel == "Application") {
      EXPECT_TRUE(gap.cleared);
    }
  }
}

// Events of two hosts interleaved, one spelled in two cases: the host key is
// the lower-cased computer whatever the run it arrives in, and ids arriving
// in order extend one range (no gap, no repeat) while a repeat still counts.
TEST(RecordTrackerTest, HostRunsAndInOrderIdsKeepOneKeyPerHost) {
  RecordTracker t;
  Event e;
  e.channel = "Security";
  for (uint64_t id = 1; id <= 300; ++id) {
    e.computer = (id % 3 == 0) ? "WS02" : (id % 2 == 0 ? "DC01" : "dc01");
    e.record_id = id;
    t.Add(e);
  }
  e.computer = "Dc01";
  e.record_id = 2;  // DC01's 2 again
  t.Add(e);
  t.Settle(true);
  ASSERT_EQ(t.keys().size(), 2u);
  for (const RecordKeyStats& k : t.keys()) {
    if (k.host == "dc01") {
      EXPECT_EQ(k.seen, 201u);
      EXPECT_EQ(k.repeats, 1u);
    } else {
      EXPECT_EQ(k.host, "ws02");
      EXPECT_EQ(k.seen, 100u);
      EXPECT_EQ(k.repeats, 0u);
    }
  }
  // dc01 holds ids not divisible by 3, ws02 the multiples of 3: each has
  // holes where the other host's ids are.
  EXPECT_EQ(t.total_missing(), 99u + 198u);
}

}  // namespace
}  // namespace eventsift::correlate
