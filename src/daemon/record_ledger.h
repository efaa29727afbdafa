#pragma once
// RecordLedger: the daemon's EventRecordID account (correlate::RecordTracker)
// behind a lock, since the loop adds to it and /metrics reads it. Holes
// settle into gaps once the ids seen for their host and channel have moved
// `reorder_window` past them; a host/channel whose newly settled missing
// records reach gap_alert_threshold raises a `pipeline_gap` alert naming
// the ranges (docs/alerts.md).

#include <mutex>
#include <vector>

#include "src/alert/alert.h"
#include "src/correlate/record_tracker.h"
#include "src/daemon/config.h"
#include "src/daemon/metrics_server.h"
#include "src/event/event.h"

namespace eventsift::daemon {

class RecordLedger {
 public:
  explicit RecordLedger(const RecordIdsConfig& config);
  void Add(const Event& event);
  // Settles holes (every one with `finish`); the pipeline_gap alerts due.
  std::vector<Alert> Settle(bool finish);
  // eventsift_record_{gaps,missing,repeats,late}_total{host,channel} of the
  // keys with any, and the untracked count.
  void RenderMetrics(PromText* p) const;

 private:
  struct Pending {
    uint64_t missing = 0;
    std::vector<correlate::RecordGap> gaps;
  };
  RecordIdsConfig config_;
  mutable std::mutex mu_;
  correlate::RecordTracker tracker_;
  std::vector<Pending> pending_;  // per key index: settled, not yet alerted
};

}  // namespace eventsift::daemon
