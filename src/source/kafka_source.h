#pragma once
// KafkaSource: raw events (NDJSON, one event per message value) from a Kafka
// topic, in a consumer group, so several daemons share the topic's
// partitions. Offsets are committed only by Commit(), which the daemon calls
// after its sinks were flushed (delivered or spooled) and its state written:
// a committed offset never gets ahead of the alerts its events produced.
// At least once: after a crash, messages since the last commit are consumed
// again, and their alerts keep their alert_id.
//
// Correlation state stays with the daemon instance, not with the partition:
// when a rebalance moves a partition, the open windows of its hosts do not
// move with it (docs/operations.md). Producers should key raw events by
// host, so one host's events stay in one partition.
//
// Threading: librdkafka's threads fetch; rebalances and messages are handled
// in Poll, on the daemon's loop thread.

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
  size_t assigned_partitions() const { return assigned_; }

  class Impl;

 private:
  KafkaSourceOptions options_;
  std::unique_ptr<Impl> impl_;
  std::function<void()> before_revoke_;
  size_t assigned_ = 0;
};

}  // namespace eventsift::source
