#include "src/daemon/hit_journal.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

namespace eventsift::daemon {
namespace {

constexpr FileTime kHour = 3600 * kTicksPerSecond;
constexpr FileTime kDay = 24 * kHour;
constexpr FileTime kT0 = FileTimeFromUnixMillis(1714557600000);

OwnedEvent Hit(const std::string& host, FileTime t) {
  OwnedEvent e;
  e.computer = host;
  e.time = t;
  return e;
}

Alert Sent(const std::string& id, const std::string& host, FileTime start) {
  Alert a;
  a.alert_id = id;
  a.rule.id = "r";
  a.host_names = {host};
  a.window_start = start;
  a.window_end = start + kDay;
  return a;
}

std::set<FileTime> Times(const HitJournal& j) {
  std::set<FileTime> out;
  for (const auto& h : j.hits()) out.insert(h.event.time);
  return out;
}

TEST(HitJournalTest, KeepsAnchorsOpenWindowsAndWhatRestoresSuppression) {
  HitJournal j;
  for (FileTime t : {kT0, kT0 + kHour, kT0 + 3 * kDay, kT0 + 3 * kDay + kHour, kT0 + 5 * kDay,
                     kT0 + 5 * kDay + kHour}) {
    j.Add("r", Hit("EX01", t));
  }
  j.Add("gone", Hit("EX01", kT0 + 5 * kDay));  // its rule was removed
  j.Add("r", Hit("EX02", 0));                  // untimed: kept until Finish
  j.NoteEmitted(Sent("a1", "EX01", kT0));
  j.NoteEmitted(Sent("a2", "EX01", kT0 + 3 * kDay));
  Alert old = Sent("a-old", "EX01", kT0 + kDay);  // neither at the anchor nor able to suppress
  j.NoteEmitted(old);
  std::map<std::string, RuleHorizon> rules = {{"r", RuleHorizon{86400, 86400, 1}}};
  j.Prune(kT0 + 5 * kDay + 12 * kHour, rules);

  EXPECT_EQ(Times(j),
            (std::set<FileTime>{0, kT0, kT0 + 3 * kDay, kT0 + 5 * kDay, kT0 + 5 * kDay + kHour}));
  EXPECT_TRUE(j.WasEmitted("a1"));  // the anchor's replay raises it again
  EXPECT_TRUE(j.WasEmitted("a2"));  // can still suppress the open window
  EXPECT_FALSE(j.WasEmitted("a-old"));

  // Much later, only the anchor is left for EX01.
  j.Prune(kT0 + 30 * kDay, rules);
  EXPECT_EQ(Times(j), (std::set<FileTime>{0, kT0}));
  EXPECT_TRUE(j.WasEmitted("a1"));
  EXPECT_FALSE(j.WasEmitted("a2"));
}

TEST(HitJournalTest, BoundDropsOldestNonAnchorHits) {
  HitJournal j(/*max_hits=*/3);
  for (int i = 0; i < 6; ++i) j.Add("r", Hit("EX01", kT0 + i * kHour));
  j.Prune(kT0, {{"r", RuleHorizon{7 * 86400, 0, 1}}});
  EXPECT_EQ(Times(j), (std::set<FileTime>{kT0, kT0 + 4 * kHour, kT0 + 5 * kHour}));
  EXPECT_EQ(j.dropped(), 3u);
}

TEST(HitJournalTest, OnlySamplesKeepTheirPayload) {
  HitJournal j;
  for (int i = 4; i >= 0; --i) {  // out of order: samples are the earliest
    OwnedEvent e = Hit("EX01", kT0 + i * kHour);
    e.message = "fetching mitigations";
    e.data = {{"", "x"}};
    j.Add("r", e);
  }
  j.Prune(kT0 + kHour, {{"r", RuleHorizon{86400, 0, 1, 2}}});
  ASSERT_EQ(j.hits().size(), 5u);
  for (const auto& h : j.hits()) {
    bool sample = h.event.time < kT0 + 2 * kHour;
    EXPECT_EQ(h.event.message.empty(), !sample) << h.event.time;
    EXPECT_EQ(h.event.data.empty(), !sample);
    EXPECT_EQ(h.event.computer, "EX01");
  }
}

TEST(HitJournalTest, RoundTripsThroughState) {
  HitJournal j;
  j.Add("r", Hit("EX01", kT0));
  j.NoteEmitted(Sent("a1", "EX01", kT0));
  j.NoteBuild(SavedBuild{"EX01", 15, 2, 1118, 20, true, "event"});
  j.NoteBuild(SavedBuild{"EX01", 15, 2, 1118, 20, true, "another source"});  // same build
  DaemonState s;
  j.SaveTo(&s);
  HitJournal back;
  back.LoadFrom(s);
  EXPECT_EQ(back.hits().size(), 1u);
  EXPECT_TRUE(back.WasEmitted("a1"));
  EXPECT_EQ(back.builds().size(), 1u);
}

TEST(HitJournalTest, ImmediateAlertAndItsWindowsFinalAlertAreRememberedApart) {
  HitJournal j;
  Alert early = Sent("a1", "EX01", kT0);
  early.revision = 1;
  early.count = 3;
  Alert final_alert = Sent("a1", "EX01", kT0);  // the window's close, in a new correlator
  final_alert.count = 5;
  j.NoteEmitted(early);
  EXPECT_TRUE(j.WasEmitted(early));         // a replay's immediate alert is held back
  EXPECT_FALSE(j.WasEmitted(final_alert));  // the final alert may still be due
  EXPECT_EQ(j.ImmediateCount("a1"), std::optional<uint64_t>(3));
  EXPECT_EQ(j.ImmediateCount("a2"), std::nullopt);
  // Saved and loaded with the other ids.
  DaemonState state;
  j.SaveTo(&state);
  HitJournal back;
  back.LoadFrom(state);
  EXPECT_EQ(back.ImmediateCount("a1"), std::optional<uint64_t>(3));
  EXPECT_TRUE(back.WasEmitted(early));
  Alert follow_up = final_alert;
  follow_up.revision = 2;
  back.NoteEmitted(follow_up);
  EXPECT_TRUE(back.WasEmitted(final_alert));
  EXPECT_TRUE(back.WasEmitted(follow_up));
  EXPECT_TRUE(back.WasEmitted(early));
}

}  // namespace
}  // namespace eventsift::daemon
