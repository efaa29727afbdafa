#include "src/daemon/partition_lanes.h"

#include <algorithm>

namespace eventsift::daemon {

PartitionLanes::PartitionLanes(std::string source_name,
                               std::shared_ptr<const detect::RuleSet> rules,
                               correlate::CorrelatorOptions options,
                               int64_t allowed_lateness_seconds, const EventPipeline* counters)
    : source_name_(std::move(source_name)),
      rules_(std::move(rules)),
      options_(options),
      allowed_lateness_seconds_(allowed_lateness_seconds),
      counters_(counters) {}

PartitionLanes::~PartitionLanes() = default;

PartitionLanes::Lane& PartitionLanes::LaneFor(int32_t partition) {
  auto it = lanes_.find(partition);
  if (it != lanes_.end()) return it->second;
  Lane lane;
  lane.journal = std::make_unique<HitJournal>();
  lane.pipeline = std::make_unique<EventPipeline>(rules_, options_, allowed_lateness_seconds_,
                                                  lane.journal.get(), counters_);
  return lanes_.emplace(partition, std::move(lane)).first->second;
}

void PartitionLanes::OnLine(const source::LineRecord& record) {
  Lane& lane = LaneFor(record.partition);
  lane.pipeline->set_source(source_);
  lane.pipeline->OnLine(record);
}

void PartitionLanes::Restore(const std::vector<PartitionState>& saved) {
  for (const auto& p : saved) {
    if (p.source != source_name_) continue;
    DaemonState as_state;  // HitJournal loads from the daemon-wide shape
    as_state.hits = p.hits;
    as_state.emitted = p.emitted;
    as_state.builds = p.builds;
    as_state.sigma_correlation = p.sigma_correlation;
    as_state.exchange_cves = p.exchange_cves;
    lanes_.erase(p.partition);
    Lane lane;
    lane.journal = std::make_unique<HitJournal>();
    lane.journal->LoadFrom(as_state);
    // Built after the journal is loaded: the constructor replays its hits.
    lane.pipeline = std::make_unique<EventPipeline>(rules_, options_, allowed_lateness_seconds_,
                                                    lane.journal.get(), counters_);
    lane.pipeline->set_max_event_time(p.max_event_time);
    lanes_.emplace(p.partition, std::move(lane));
  }
}

void PartitionLanes::Retain(const std::vector<int32_t>& assigned) {
  std::vector<int32_t> gone;
  for (const auto& [p, lane] : lanes_) {
    if (std::find(assigned.begin(), assigned.end(), p) == assigned.end()) gone.push_back(p);
  }
  Drop(gone);
}

void PartitionLanes::Drop(const std::vector<int32_t>& revoked) {
  for (int32_t p : revoked) dropped_ += lanes_.erase(p);
}

void PartitionLanes::Rebuild(std::shared_ptr<const detect::RuleSet> rules) {
  rules_ = std::move(rules);
  for (auto& [p, lane] : lanes_) lane.pipeline->Rebuild(rules_);
}

std::vector<Alert> PartitionLanes::DrainAlerts(bool finish) {
  std::vector<Alert> out;
  for (auto& [p, lane] : lanes_) {
    std::vector<Alert> alerts = lane.pipeline->DrainAlerts(finish);
    std::move(alerts.begin(), alerts.end(), std::back_inserter(out));
  }
  return out;
}

bool PartitionLanes::immediate_pending() const {
  for (const auto& [p, lane] : lanes_) {
    if (lane.pipeline->immediate_pending()) return true;
  }
  return false;
}

void PartitionLanes::PruneJournals() {
  for (auto& [p, lane] : lanes_) lane.pipeline->PruneJournal();
}

void PartitionLanes::SaveTo(DaemonState* state) const {
  for (const auto& [p, lane] : lanes_) {
    DaemonState as_state;
    lane.journal->SaveTo(&as_state);
    PartitionState ps;
    ps.source = source_name_;
    ps.partition = p;
    ps.max_event_time = lane.pipeline->max_event_time();
    ps.hits = std::move(as_state.hits);
    ps.emitted = std::move(as_state.emitted);
    ps.builds = std::move(as_state.builds);
    ps.sigma_correlation = std::move(as_state.sigma_correlation);
    ps.exchange_cves = std::move(as_state.exchange_cves);
    state->partitions.push_back(std::move(ps));
  }
}

int64_t PartitionLanes::CommitFloor(int32_t partition) const {
  auto it = lanes_.find(partition);
  if (it == lanes_.end()) return -1;
  uint64_t line = it->second.pipeline->OldestOpenLine();
  return line == 0 ? -1 : static_cast<int64_t>(line - 1);
}

uint64_t PartitionLanes::Mark() const {
  uint64_t mark = dropped_;
  for (const auto& [p, lane] : lanes_) {
    mark += lane.journal->generation() + static_cast<uint64_t>(lane.pipeline->max_event_time());
  }
  return mark;
}

}  // namespace eventsift::daemon
