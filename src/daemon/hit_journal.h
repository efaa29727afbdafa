#pragma once
// HitJournal: the daemon's copy of the correlation state, kept so it can be
// persisted with the checkpoints and replayed into a new Correlator after a
// restart or a rule reload. The Correlator does not expose its internals, so
// instead of serialising them we keep the hits that could still influence an
// alert and replay them:
//   * the earliest hit of every (rule, computer name) series, forever: it anchors the
//     series' window grid, so replayed windows start where they started;
//   * every hit newer than the rule's horizon,
//       watermark - 3 * window - 2 * suppress,
//     which covers every open window, every closed window an open one could
//     be folded into (suppression), and the windows before those;
//   * untimed hits (they close only at Finish);
//   * the ids of alerts already emitted whose window ends after the horizon.
// Replaying rebuilds windows with the same start, so an alert it re-emits has
// the same alert_id and is dropped as already sent; an alert that was only
// partly replayed (older than the horizon) was sent already, so it is dropped
// the same way. docs/operations.md "Restart semantics" states the bounds.
// Not thread-safe: the daemon's loop owns it.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "src/core/stats.h"
#include "src/core/time_util.h"
#include "src/daemon/state_store.h"

namespace eventsift::daemon {

struct RuleHorizon {
  int64_t window_seconds = 0;
  int64_t suppress_seconds = 0;
};

class HitJournal {
 public:
  // Bound on the hits kept; beyond it the oldest prunable hits go first and
  // are counted in dropped().
  explicit HitJournal(size_t max_hits = 200000) : max_hits_(max_hits) {}

  void Add(const std::string& rule_id, const OwnedEvent& event);
  void NoteEmitted(const std::string& alert_id, FileTime window_end);
  bool WasEmitted(const std::string& alert_id) const { return emitted_.count(alert_id) != 0; }
  void NoteBuild(SavedBuild build);

  // Drops what no replay needs any more, given the current watermark.
  void Prune(FileTime watermark, const std::map<std::string, RuleHorizon>& rules);

  const std::vector<PendingHit>& hits() const { return hits_; }
  const std::vector<SavedBuild>& builds() const { return builds_; }
  uint64_t dropped() const { return dropped_; }

  void SaveTo(DaemonState* state) const;
  void LoadFrom(const DaemonState& state);

 private:
  size_t max_hits_;
  std::vector<PendingHit> hits_;
  std::map<std::string, FileTime> emitted_;
  std::vector<SavedBuild> builds_;
  uint64_t dropped_ = 0;
};

}  // namespace eventsift::daemon
