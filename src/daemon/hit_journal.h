#pragma once
// HitJournal: the daemon's copy of the correlation state, kept so it can be
// persisted with the checkpoints and replayed into a new Correlator after a
// restart or a rule reload. The Correlator does not expose its internals, so
// instead of serialising them we keep just the hits that rebuild the same
// state when replayed, for each rule and computer name (a series):
//   * the earliest hit, forever: it anchors the series' window grid, so a
//     replayed window starts where the original started and its alert gets
//     the same alert_id;
//   * every hit of a window still open: time > watermark - window (windows
//     ending after the watermark started after that);
//   * for each alert already sent that could still fold a later window into
//     itself (window_end >= watermark - window - suppress), its `threshold`
//     earliest hits, which are enough for the replay to raise it again and so
//     restore the suppression; the replayed alert itself is not re-sent;
//   * untimed hits, and all hits of rules without a window (they close only
//     at Finish).
// Only the earliest max_samples hits of a window (the alert's samples) keep
// their whole event; the others keep what counting needs (time, computer,
// ids), which bounds memory and the state file for noisy rules.
// Closed windows that raised no alert leave nothing behind, and the ids of
// alerts sent are kept while a replay could produce them again (they can
// still suppress, or they start at an anchor).
// docs/operations.md "Restart semantics" states the bounds.
// Not thread-safe: the daemon's loop owns it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "src/alert/alert.h"
#include "src/core/time_util.h"
#include "src/daemon/state_store.h"

namespace eventsift::daemon {

struct RuleHorizon {
  int64_t window_seconds = 0;
  int64_t suppress_seconds = 0;
  uint64_t threshold = 1;
  uint32_t max_samples = 3;
};

class HitJournal {
 public:
  // Bound on the hits kept; beyond it the oldest prunable hits go first and
  // are counted in dropped().
  explicit HitJournal(size_t max_hits = 200000) : max_hits_(max_hits) {}

  void Add(const std::string& rule_id, const OwnedEvent& event);
  // An alert sent. An immediate alert (Alert::revision 1) is remembered as
  // "<alert_id>/immediate/<count>", apart from its window's final alert
  // (revision 0) or follow-up (2), remembered by its alert_id: a replay
  // skips each once, and after a restart the window's final alert is still
  // due if its count grew past what the immediate alert said.
  void NoteEmitted(const Alert& alert);
  bool WasEmitted(const Alert& alert) const;
  bool WasEmitted(const std::string& emitted_id) const;
  // The count of this window's immediate alert, if only that went out.
  std::optional<uint64_t> ImmediateCount(const std::string& alert_id) const;
  void NoteBuild(SavedBuild build);

  // Drops what no replay needs any more, given the current watermark.
  void Prune(FileTime watermark, const std::map<std::string, RuleHorizon>& rules);

  // The Sigma correlation engine's state, kept here so it is checkpointed
  // with the hits (the engine serialises itself: SigmaCorrelator::SaveState).
  void set_sigma_state(std::string state);
  const std::string& sigma_state() const { return sigma_state_; }
  // The CVE watch's state (correlate::CveWatch::SaveState), likewise.
  void set_cve_state(std::string state);
  const std::string& cve_state() const { return cve_state_; }

  const std::vector<PendingHit>& hits() const { return hits_; }
  const std::vector<SavedBuild>& builds() const { return builds_; }
  size_t emitted_count() const { return emitted_.size(); }
  uint64_t dropped() const { return dropped_; }
  // Changes since construction; the daemon skips writing an unchanged state.
  uint64_t generation() const { return generation_; }

  void SaveTo(DaemonState* state) const;
  void LoadFrom(const DaemonState& state);

 private:
  size_t max_hits_;
  std::vector<PendingHit> hits_;
  static constexpr const char* kImmediateMark = "/immediate/";
  // The id an alert is remembered by (see NoteEmitted).
  static std::string EmittedId(const Alert& alert);
  void Index(const std::string& emitted_id);
  // Rebuilds emitted_ids_ after emitted_ was replaced.
  void IndexEmitted();

  std::vector<EmittedAlert> emitted_;
  // The ids of emitted_: WasEmitted runs once per drained alert, and a scan
  // of emitted_ made that quadratic in the alerts a journal remembers.
  std::unordered_set<std::string> emitted_ids_;
  // Immediate alerts among emitted_: alert_id -> the count they carried.
  std::unordered_map<std::string, uint64_t> immediate_counts_;
  std::vector<SavedBuild> builds_;
  std::string sigma_state_;
  std::string cve_state_;
  uint64_t dropped_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace eventsift::daemon
