#pragma once
// KafkaSource: raw events (NDJSON, one event per message value) from a Kafka
// topic, in a consumer group, so several daemons share the topic's
// partitions. Offsets are committed only by Commit(), which the daemon calls
// after its sinks were flushed (delivered or spooled) and its state written:
// a committed offset never gets ahead of the alerts its events produced.
// At least once: after a crash, messages since the last commit are consumed
// again, and their alerts keep their alert_id.
//
// Correlation state is kept per partition by the daemon (PartitionLanes):
// each record says its partition; on_assigned tells the daemon which
// partitions it owns; commit_floor lets it hold a partition's
// committed offset back to the oldest hit still in an open window, so a
// daemon taking the partition over after a crash reads those hits again and
// raises the same alerts. Producers should key raw events by host, so one
// host's events stay in one partition.
//
// Positions (SaveCheckpoints, path "kafka:<topic>/<partition>") record how
// far the saved correlation state reaches: after a restart, messages below
// them (re-read from the held-back commit) are skipped, since their hits are
// in the restored state already.
//
// Threading: librdkafka's threads fetch; rebalances and messages are handled
// in Poll, on the daemon's loop thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/source/source.h"

namespace eventsift::source {

struct KafkaSourceOptions {
  std::string brokers;
  std::string topic;
  std::string group_id = "eventsift";
  // Passed to librdkafka as-is (TLS, SASL, tuning).
  std::vector<std::pair<std::string, std::string>> properties;
  size_t max_line_bytes = 1 << 20;  // longer message values are dropped, counted
};

class KafkaSource : public Source {
 public:
  KafkaSource(std::string name, KafkaSourceOptions options);
  ~KafkaSource() override;

  std::string_view type() const override { return "kafka"; }
  Status Start() override;
  void AddPollFds(std::vector<pollfd>* fds) const override {}
  Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) override;
  void Stop() override;
  // Commits the offsets after every message delivered so far (synchronous).
  Status Commit() override;

  // Called inside Poll when partitions are about to be revoked, so the
  // daemon can flush and Commit() first. Optional.
  void set_before_revoke(std::function<void()> fn) { before_revoke_ = std::move(fn); }
  // The whole new assignment (eager rebalancing): the state of partitions
  // not in it (revoked, or restored from an older run) can go; their next
  // owner reads their open windows again from the held-back commit.
  void set_on_assigned(std::function<void(const std::vector<int32_t>&)> fn) {
    on_assigned_ = std::move(fn);
  }
  // The lowest offset of a partition still needed (-1: none); Commit() never
  // moves the partition's committed offset past it.
  void set_commit_floor(std::function<int64_t(int32_t)> fn) { commit_floor_ = std::move(fn); }

  void SaveCheckpoints(std::vector<FileCheckpoint>* out) const override;
  void RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) override;

  struct PartitionLag {
    int32_t partition = 0;
    int64_t lag = 0;  // messages between the last one read and the partition's end
  };
  // Consumer lag per assigned partition, from librdkafka's cached high
  // watermarks (no broker round trip); refreshed by Poll about every second.
  // Thread-safe (the metrics thread reads it).
  std::vector<PartitionLag> Lag() const;
  size_t assigned_partitions() const { return assigned_; }

  class Impl;

 private:
  KafkaSourceOptions options_;
  std::unique_ptr<Impl> impl_;
  std::function<void()> before_revoke_;
  std::function<void(const std::vector<int32_t>&)> on_assigned_;
  std::function<int64_t(int32_t)> commit_floor_;
  std::atomic<size_t> assigned_{0};
};

}  // namespace eventsift::source
