#pragma once
// PartitionLanes: the correlation state of one Kafka source, kept per
// partition. Each partition the daemon owns gets its own lane: a HitJournal
// and an EventPipeline, hence its own watermark, open windows, suppression
// and emitted ids. A partition taken over from a crashed member therefore
// starts from its own event time, not from the newer time of the partitions
// this daemon already had, and its events are not dropped as late.
//
// Lifecycle (driven by KafkaSource's rebalance callbacks on the loop thread):
//   * a lane is made when its partition's first record arrives;
//   * before a revoke the daemon emits, flushes its sinks, writes its state
//     and commits, each partition's offset held back by CommitFloor to its
//     oldest hit still in an open window;
//   * on the next assignment, lanes of partitions not assigned again (or
//     restored from an older run and not ours now) are dropped: their next
//     owner reads those open windows again from the held-back offset. Lanes
//     of partitions assigned again stay (KafkaSource skips the messages
//     they already hold).
// Lanes are saved with the checkpoint (DaemonState::partitions) and restored
// at start. Not thread-safe: the daemon's loop owns it; the counters it adds
// to are the daemon pipeline's (atomic), which /metrics reads.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/alert/alert.h"
#include "src/correlate/correlator.h"
#include "src/daemon/event_pipeline.h"
#include "src/daemon/hit_journal.h"
#include "src/daemon/state_store.h"
#include "src/detect/rule_set.h"
#include "src/source/source.h"

namespace eventsift::daemon {

class PartitionLanes : public source::RecordConsumer {
 public:
  // `counters`: the daemon's main pipeline; lanes count into its totals. It
  // must outlive this object.
  PartitionLanes(std::string source_name, std::shared_ptr<const detect::RuleSet> rules,
                 correlate::CorrelatorOptions options, int64_t allowed_lateness_seconds,
                 const EventPipeline* counters);
  ~PartitionLanes() override;
  PartitionLanes(const PartitionLanes&) = delete;  // lanes point into their journals
  PartitionLanes& operator=(const PartitionLanes&) = delete;

  // The source whose records follow (stats). Must outlive the records.
  void set_source(source::Source* source) { source_ = source; }
  // Routes the record to its partition's lane (made on first use).
  void OnLine(const source::LineRecord& record) override;
  // Kafka carries NDJSON only.
  uint64_t OnEvtx(const source::EvtxRecord& record) override { return record.after_record_id; }

  // The lanes of this source in a saved state.
  void Restore(const std::vector<PartitionState>& saved);
  void Retain(const std::vector<int32_t>& assigned);
  void Drop(const std::vector<int32_t>& revoked);
  void Rebuild(std::shared_ptr<const detect::RuleSet> rules);

  // Closed windows of every lane, each drained at its own watermark.
  std::vector<Alert> DrainAlerts(bool finish);
  bool immediate_pending() const;  // EventPipeline::immediate_pending of any lane
  void PruneJournals();
  void SaveTo(DaemonState* state) const;
  // The lowest offset of `partition` its lane still needs, or -1.
  int64_t CommitFloor(int32_t partition) const;
  // Changes to the lanes, for the daemon's "state unchanged" check.
  uint64_t Mark() const;
  size_t size() const { return lanes_.size(); }

 private:
  struct Lane {
    std::unique_ptr<HitJournal> journal;
    std::unique_ptr<EventPipeline> pipeline;  // points into `journal`
  };
  Lane& LaneFor(int32_t partition);

  std::string source_name_;
  std::shared_ptr<const detect::RuleSet> rules_;
  correlate::CorrelatorOptions options_;
  int64_t allowed_lateness_seconds_;
  const EventPipeline* counters_;
  source::Source* source_ = nullptr;
  std::map<int32_t, Lane> lanes_;
  uint64_t dropped_ = 0;  // lanes dropped so far (part of Mark)
};

}  // namespace eventsift::daemon
