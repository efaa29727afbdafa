#include "src/daemon/record_ledger.h"

#include <fmt/format.h>

namespace eventsift::daemon {

namespace {

correlate::RecordTrackerOptions TrackerOptions(const RecordIdsConfig& c) {
  correlate::RecordTrackerOptions o;
  o.reorder_window = c.reorder_window;
  o.max_ranges = c.max_ranges;
  o.max_keys = c.max_keys;
  return o;
}

// Ranges listed in one alert; the rest are counted in `count`.
constexpr size_t kMaxRangesPerAlert = 50;

}  // namespace

RecordLedger::RecordLedger(const RecordIdsConfig& config)
    : config_(config), tracker_(TrackerOptions(config)) {}

void RecordLedger::Add(const Event& event) {
  std::lock_guard<std::mutex> lock(mu_);
  tracker_.Add(event);
}

std::vector<Alert> RecordLedger::Settle(bool finish) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> alerts;
  auto settled = tracker_.Settle(finish);
  if (config_.gap_alert_threshold == 0) return alerts;
  pending_.resize(tracker_.keys().size());
  for (const auto& [key, gap] : settled) {
    Pending& p = pending_[key];
    p.missing += gap.size();
    if (p.gaps.size() < kMaxRangesPerAlert) p.gaps.push_back(gap);
  }
  for (size_t key = 0; key < pending_.size(); ++key) {
    Pending& p = pending_[key];
    if (p.missing == 0 || p.missing < config_.gap_alert_threshold) continue;
    alerts.push_back(correlate::PipelineGapAlert(tracker_.keys()[key], p.gaps, p.missing));
    p = Pending{};
  }
  return alerts;
}

void RecordLedger::RenderMetrics(PromText* p) const {
  std::lock_guard<std::mutex> lock(mu_);
  struct Family {
    const char* name;
    const char* help;
    uint64_t correlate::RecordKeyStats::*field;
  };
  static const Family kFamilies[] = {
      {"eventsift_record_gaps_total",
       "Settled EventRecordID gaps (ranges of records that never arrived), per host and channel.",
       &correlate::RecordKeyStats::gaps},
      {"eventsift_record_missing_total", "Records in settled EventRecordID gaps.",
       &correlate::RecordKeyStats::missing},
      {"eventsift_record_repeats_total", "Records that arrived again (same EventRecordID).",
       &correlate::RecordKeyStats::repeats},
      {"eventsift_record_late_total",
       "Records below a settled gap's top: a very late arrival or a repeat of an old record.",
       &correlate::RecordKeyStats::late},
  };
  for (const Family& f : kFamilies) {
    p->Family(f.name, "counter", f.help);
    for (const auto& k : tracker_.keys()) {
      if (k.*f.field == 0) continue;  // a series appears once it has something
      p->Sample(f.name, {{"host", k.host}, {"channel", k.channel}}, k.*f.field);
    }
  }
  p->Family("eventsift_record_untracked_total", "counter",
            "Events of host/channels beyond record_ids.max_keys, not tracked.");
  p->Sample("eventsift_record_untracked_total", {}, tracker_.untracked());
}

}  // namespace eventsift::daemon
