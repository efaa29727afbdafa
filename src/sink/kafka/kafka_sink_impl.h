#pragma once
// KafkaSink::Impl, shared by kafka_sink.cc (producer, delivery reports,
// flush) and kafka_replay.cc (the spool replay state machine). Private to
// the sink: nothing outside src/sink/kafka includes it.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "src/sink/alert_sink.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/spool/spool.h"

namespace eventsift {

namespace kafka_detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// Records per replay round: large enough to keep the producer's batches full,
// small enough that a failed round re-sends little.
inline constexpr size_t kReplayBatch = 2000;
// Spool commit point while running: at most this much spooled work waits for
// fsync, and acknowledged records for the cursor.
inline constexpr milliseconds kCommitInterval{100};
// The same broker error is logged again only after this long.
inline constexpr std::chrono::seconds kErrorLogInterval{10};
// After Flush purges the producer, how long to wait for the purge reports.
inline constexpr milliseconds kPurgeWait{5000};

// What a produce error or a delivery report means for the record: delivered;
// rejected, an error retrying cannot fix (parked in the rejected spool so it
// does not block the records behind it); or retry (spooled and sent again).
inline DeliveryStatus ClassifyDelivery(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return DeliveryStatus::kDelivered;
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_RECORD ||
      err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE) {
    return DeliveryStatus::kRejected;
  }
  return DeliveryStatus::kRetry;
}

// Why librdkafka did not take a message of `bytes` bytes, for log lines.
inline std::string ProduceErrorText(rd_kafka_resp_err_t err, size_t bytes) {
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
    return fmt::format("{} bytes is over message.max.bytes", bytes);
  }
  return rd_kafka_err2str(err);
}

inline bool IsPurge(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
}

inline std::string_view HeaderValue(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  return {static_cast<const char*>(value), size};
}

inline SpoolRecord RecordFromMessage(const rd_kafka_message_t* m) {
  SpoolRecord r;
  if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
  r.rule_id.assign(HeaderValue(m, kRuleHeader));
  if (m->payload != nullptr) r.payload.assign(static_cast<const char*>(m->payload), m->len);
  return r;
}

inline void DecrementCounter(Counter* c) { c->value.fetch_sub(1, std::memory_order_relaxed); }

// What keeps the bytes of SendBorrowed's messages alive: one per call,
// counting the sender and each message the producer holds; the last
// release frees it (and lets go of the owner).
struct BorrowHold {
  std::shared_ptr<const void> owner;
  std::atomic<uint64_t> refs{1};
};

// A new hold on `owner` with the sender's reference; from here it is freed
// by whichever ReleaseHold is last: the sender's or the delivery report of a
// message that referenced it.
inline BorrowHold* NewHold(std::shared_ptr<const void> owner) {
  auto hold = std::make_unique<BorrowHold>();
  hold->owner = std::move(owner);
  return hold.release();
}

inline void ReleaseHold(BorrowHold* hold) {
  if (hold->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::unique_ptr<BorrowHold> last(hold);  // its ownership came back from the producer
  }
}

// A message's opaque says where it came from: null for a copied direct
// send, an odd value for spool record `seq` (seq << 1 | 1), anything else is
// the BorrowHold of a borrowed one (heap objects are aligned, so even).
inline void* ReplayOpaque(uint64_t seq) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(seq << 1 | 1));
}

}  // namespace kafka_detail

class KafkaSink::Impl {
 public:
  using Clock = kafka_detail::Clock;
  using milliseconds = std::chrono::milliseconds;

  Impl(const KafkaSinkOptions& options, SinkStats* stats) : options_(options), stats_(stats) {
    if (!options_.log) {
      options_.log = [](std::string_view line) {
        fmt::print(stderr, "eventsift: kafka: {}\n", line);
      };
    }
  }
  ~Impl() { Stop(); }

  Status Init();
  // `hold` set: the producer references the bytes of `json` (kept alive by
  // the hold) instead of copying them.
  Status Send(std::string_view key, std::string_view rule_id, std::string_view json,
              kafka_detail::BorrowHold* hold = nullptr);
  Status SendBorrowed(const std::vector<KafkaSink::BorrowedMessage>& messages,
                      std::shared_ptr<const void> owner);
  // One message whose bytes `json` keeps alive: referenced, not copied.
  Status SendShared(std::string_view key, std::string_view rule_id,
                    std::shared_ptr<const std::string> json);
  Status Flush(milliseconds timeout);
  Status DrainSpool(milliseconds timeout);
  KafkaSinkCounters Counters() const;
  std::string Property(const std::string& name) const;
  void Stop();
  bool flushed() const { return flushed_; }

 private:
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  Status Configure(rd_kafka_conf_t* conf);
  void HandleDelivery(const rd_kafka_message_t* m);
  // The delivery report of spool record `seq` (kafka_replay.cc).
  void HandleReplayDelivery(const rd_kafka_message_t* m, uint64_t seq);
  void HandleError(rd_kafka_resp_err_t err, const char* reason);
  void LogError(const std::string& message);
  // Appends to the spool (or the rejected spool) and counts it.
  void SpoolLocked(SpoolRecord record, bool rejected, bool this_run);
  // Copies the payload when `copy`, else it must outlive the delivery
  // report; `opaque` comes back with that report (see ReplayOpaque).
  // Returns librdkafka's code: callers tell a full queue (wait for room)
  // from the rest (ClassifyDelivery) by the code, not by message text.
  rd_kafka_resp_err_t Produce(std::string_view key, std::string_view rule_id, std::string_view json,
                              void* opaque, bool copy);
  bool Probe(milliseconds timeout, std::string* why);
  void PollLoop();
  void TryReplay();
  Status MoveRejectedBack();

  KafkaSinkOptions options_;
  SinkStats* stats_;  // the owning KafkaSink's; outlives this
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Spool> rejected_;
  kafka_detail::KafkaPtr rk_;
  kafka_detail::TopicPtr topic_;
  std::thread poller_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;
  // While true, Send appends to the spool and the poller replays it: alerts
  // leave in spool order. Guarded by mu_.
  bool spool_mode_ = false;
  std::string last_error_;  // guarded by mu_
  std::string last_logged_error_;
  Clock::time_point last_logged_at_{};

  uint64_t run_first_seq_ = 1;  // spool records from this run have seq >= it
  std::atomic<int64_t> inflight_direct_{0};
  std::atomic<int64_t> inflight_replay_{0};
  std::atomic<bool> replay_failed_{false};
  std::atomic<bool> need_probe_{true};
  std::atomic<bool> broker_down_{false};
  std::atomic<bool> auth_failed_{false};
  // Set by the error callback when every broker failed to connect; a probe
  // clears it first, so only a failure seen during that probe ends it early.
  std::atomic<bool> all_down_event_{false};
  std::atomic<uint64_t> replayed_{0};
  // Delivery latency histogram (KafkaSinkCounters): per-bucket counts, the
  // last slot for latencies above every bound; microseconds summed.
  std::array<std::atomic<uint64_t>, KafkaSinkCounters::kLatencyBucketsSeconds.size() + 1>
      latency_counts_{};
  std::atomic<uint64_t> latency_sum_us_{0};
  void RecordLatency(const rd_kafka_message_t* m);
  Clock::time_point next_replay_{};
  Clock::time_point last_commit_{};
  bool flushed_ = false;
  bool stopped_ = false;
};

}  // namespace eventsift
