// The spool replay of KafkaSink: while the spool holds anything, the poller
// thread sends it in order (TryReplay), delivery reports acknowledge it
// (HandleReplayDelivery), and once it is empty alerts go straight to the
// producer again. Records the broker refuses for good are parked in the
// rejected spool so they do not block the ones behind them.

#include <fmt/format.h>

#include "src/sink/kafka/kafka_sink_impl.h"

namespace eventsift {

using kafka_detail::ClassifyDelivery;
using kafka_detail::DecrementCounter;
using kafka_detail::IsPurge;
using kafka_detail::kReplayBatch;
using kafka_detail::RecordFromMessage;

Status KafkaSink::Impl::MoveRejectedBack() {
  std::vector<SpoolRecord> records;
  ES_RETURN_IF_ERROR(rejected_->Read(SIZE_MAX, &records));
  for (SpoolRecord& r : records) {
    uint64_t old_seq = r.seq;
    ES_RETURN_IF_ERROR(spool_->Append(&r));
    ES_RETURN_IF_ERROR(rejected_->Ack(old_seq));
  }
  ES_RETURN_IF_ERROR(spool_->Commit());
  ES_RETURN_IF_ERROR(rejected_->Commit());
  if (!records.empty())
    options_.log(fmt::format("{} rejected {}s queued for replay", records.size(), options_.item));
  return Status::OK();
}

void KafkaSink::Impl::HandleReplayDelivery(const rd_kafka_message_t* m, uint64_t seq) {
  rd_kafka_resp_err_t err = m->err;
  bool this_run = seq >= run_first_seq_;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (void)spool_->Ack(seq);
    if (this_run) {
      stats_->delivered.Add();
      RecordLatency(m);
      DecrementCounter(&stats_->spooled);
    } else {
      replayed_.fetch_add(1);
    }
  } else if (ClassifyDelivery(err) == DeliveryStatus::kRejected) {
    LogError(fmt::format("spooled alert refused by the broker: {}; parked as rejected",
                         rd_kafka_err2str(err)));
    std::lock_guard<std::mutex> lock(mu_);
    SpoolRecord r = RecordFromMessage(m);
    Status st = rejected_->Append(&r);
    if (st.ok()) {
      (void)spool_->Ack(seq);  // moved, not dropped
    } else {
      LogError(fmt::format("cannot park rejected alert: {}", st.ToString()));
      replay_failed_ = true;
    }
  } else {
    if (!IsPurge(err)) LogError(fmt::format("replay delivery failed: {}", rd_kafka_err2str(err)));
    replay_failed_ = true;
    need_probe_ = true;
  }
  inflight_replay_.fetch_sub(1);
}

void KafkaSink::Impl::TryReplay() {
  if (!options_.replay || inflight_replay_ > 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spool_mode_) return;
  }
  auto now = Clock::now();
  if (now < next_replay_) return;
  if (replay_failed_) {
    // Start again at the first unacknowledged record, after a pause.
    spool_->Rewind();
    replay_failed_ = false;
    next_replay_ = now + options_.replay_backoff;
    return;
  }
  if (need_probe_) {
    std::string why;
    if (!Probe(milliseconds(2000), &why)) {
      broker_down_ = true;
      next_replay_ = Clock::now() + options_.replay_backoff;
      return;
    }
    if (broker_down_)
      options_.log(
          fmt::format("brokers {} reachable again; replaying the spool", options_.brokers));
    broker_down_ = false;
    auth_failed_ = false;
    need_probe_ = false;
  }
  std::vector<SpoolRecord> batch;
  Status st = spool_->Read(kReplayBatch, &batch);
  if (!st.ok()) {
    LogError(fmt::format("spool read failed: {}", st.ToString()));
    next_replay_ = now + options_.replay_backoff;
    return;
  }
  if (batch.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    // Under mu_, no Send can append between this check and the switch.
    if (spool_->Empty() && inflight_replay_ == 0) {
      spool_mode_ = false;
      (void)spool_->Commit();
      uint64_t replayed = replayed_.load();
      if (replayed > 0)
        options_.log(
            fmt::format("spool replayed ({} {}s of earlier runs)", replayed, options_.item));
    }
    return;
  }
  for (const SpoolRecord& r : batch) {
    inflight_replay_.fetch_add(1);
    const rd_kafka_resp_err_t produced =
        Produce(r.key, r.rule_id, r.payload, kafka_detail::ReplayOpaque(r.seq), true);
    if (produced == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    inflight_replay_.fetch_sub(1);
    if (ClassifyDelivery(produced) == DeliveryStatus::kRejected) {
      std::lock_guard<std::mutex> lock(mu_);
      SpoolRecord copy = r;
      if (rejected_->Append(&copy).ok()) {
        (void)spool_->Ack(r.seq);
        LogError(
            fmt::format("spooled {} for host '{}' is over message.max.bytes; parked as rejected",
                        options_.item, r.key));
        continue;
      }
    }
    // Queue full or the like: the rest of the batch is retried in order.
    replay_failed_ = true;
    break;
  }
}

Status KafkaSink::Impl::DrainSpool(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!spool_mode_) return Status::OK();
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Status::Unavailable(fmt::format("spool not drained within {} ms{}{}", timeout.count(),
                                         last_error_.empty() ? "" : ": ", last_error_));
}

}  // namespace eventsift
