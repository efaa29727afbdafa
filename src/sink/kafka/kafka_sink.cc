#include "src/sink/kafka/kafka_sink.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "src/spool/spool.h"

namespace eventsift {

namespace {

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
constexpr size_t kReplayBatch = 2000;
// Spool commit point while running: at most this much spooled work waits for
// fsync, and acknowledged records for the cursor.
constexpr milliseconds kCommitInterval{100};
// The same broker error is logged again only after this long.
constexpr std::chrono::seconds kErrorLogInterval{10};
// After Flush purges the producer, how long to wait for the purge reports.
constexpr milliseconds kPurgeWait{5000};

// Errors that retrying cannot fix: the record is parked as rejected so it
// does not block the replay of the records behind it.
bool IsPermanent(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_RECORD ||
         err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
         err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE;
}

bool IsPurge(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
}

std::string_view HeaderValue(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return {};
  return {static_cast<const char*>(value), size};
}

SpoolRecord RecordFromMessage(const rd_kafka_message_t* m) {
  SpoolRecord r;
  if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
  r.rule_id.assign(HeaderValue(m, kRuleHeader));
  if (m->payload != nullptr) r.payload.assign(static_cast<const char*>(m->payload), m->len);
  return r;
}

void DecrementCounter(Counter* c) { c->value.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace

bool IsSecretKafkaProperty(std::string_view key) {
  for (std::string_view word : {"password", "secret", "token", "jaas", "sasl.oauthbearer.config",
                                "ssl.key.pem", "ssl_key", "credentials", "private"}) {
    if (key.find(word) != std::string_view::npos) return true;
  }
  return false;
}

class KafkaSink::Impl {
 public:
  Impl(const KafkaSinkOptions& options, SinkStats* stats) : options_(options), stats_(stats) {
    if (!options_.log) {
      options_.log = [](std::string_view line) {
        fmt::print(stderr, "eventsift: kafka: {}\n", line);
      };
    }
  }
  ~Impl() { Stop(); }

  Status Init();
  Status Send(std::string_view key, std::string_view rule_id, std::string_view json);
  Status Flush(milliseconds timeout);
  Status DrainSpool(milliseconds timeout);
  KafkaSinkCounters Counters() const;
  void Stop();
  bool flushed() const { return flushed_; }

 private:
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  Status Configure(rd_kafka_conf_t* conf);
  void HandleDelivery(const rd_kafka_message_t* m);
  void HandleError(rd_kafka_resp_err_t err, const char* reason);
  void LogError(const std::string& message);
  // Appends to the spool (or the rejected spool) and counts it.
  void SpoolLocked(SpoolRecord record, bool rejected, bool this_run);
  Status Produce(std::string_view key, std::string_view rule_id, std::string_view json,
                 uint64_t seq);
  bool Probe(milliseconds timeout, std::string* why);
  void PollLoop();
  void TryReplay();
  Status MoveRejectedBack();

  KafkaSinkOptions options_;
  SinkStats* stats_;  // the owning KafkaSink's; outlives this
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Spool> rejected_;
  KafkaPtr rk_;
  TopicPtr topic_;
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

Status KafkaSink::Impl::Configure(rd_kafka_conf_t* conf) {
  char errstr[512];
  auto set = [&](const std::string& key, const std::string& value, bool user) -> Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) ==
        RD_KAFKA_CONF_OK) {
      return Status::OK();
    }
    // librdkafka may echo the value in errstr; a secret's value is never shown.
    std::string why =
        IsSecretKafkaProperty(key) ? std::string("invalid value (not shown: secret)") : errstr;
    return Status::InvalidArgument(fmt::format("{}{}: {}", user ? "-X " : "", key, why));
  };
  // Our defaults first, so -X can tune them; the delivery guarantees below
  // are checked after.
  char features[512];
  size_t features_size = sizeof features;
  std::string compression = "lz4";
  if (rd_kafka_conf_get(conf, "builtin.features", features, &features_size) == RD_KAFKA_CONF_OK &&
      std::string_view(features).find("zstd") != std::string_view::npos) {
    compression = "zstd";
  }
  const std::pair<const char*, std::string> defaults[] = {
      {"bootstrap.servers", options_.brokers},
      {"client.id", "eventsift"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", compression},
      {"linger.ms", "5"},
      // A bounded wait per message; what times out is spooled and replayed.
      {"message.timeout.ms", "30000"},
      {"log.connection.close", "false"},
  };
  for (const auto& [key, value] : defaults) ES_RETURN_IF_ERROR(set(key, value, false));
  for (const auto& [key, value] : options_.properties) {
    if (key == "enable.idempotence" && value != "true") {
      return Status::InvalidArgument(
          "-X enable.idempotence must stay true: alerts are delivered at least once, in order per "
          "host");
    }
    if ((key == "acks" || key == "request.required.acks") && value != "all" && value != "-1") {
      return Status::InvalidArgument(
          "-X acks must stay 'all': an alert counts as delivered only once "
          "all in-sync replicas have it");
    }
    ES_RETURN_IF_ERROR(set(key, value, true));
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &Impl::OnDelivery);
  rd_kafka_conf_set_error_cb(conf, &Impl::OnError);
  rd_kafka_conf_set_log_cb(conf, &Impl::OnLog);
  return Status::OK();
}

Status KafkaSink::Impl::Init() {
  if (options_.brokers.empty()) return Status::InvalidArgument("--kafka-brokers is empty");
  if (options_.topic.empty()) return Status::InvalidArgument("--kafka-topic is empty");
  SpoolOptions spool_options;
  spool_options.dir = options_.spool_dir;
  spool_options.max_bytes = options_.spool_max_bytes;
  auto spool = Spool::Open(spool_options);
  if (!spool) return spool.error();
  spool_ = std::move(spool).value();
  // Records the broker refuses for good (size, validity) are parked apart so
  // they do not block the replay of the records behind them.
  spool_options.dir = options_.spool_dir + "/rejected";
  auto rejected = Spool::Open(spool_options);
  if (!rejected) return rejected.error();
  rejected_ = std::move(rejected).value();
  if (options_.replay_rejected) ES_RETURN_IF_ERROR(MoveRejectedBack());
  run_first_seq_ = spool_->GetStatus().next_seq;

  ConfPtr conf(rd_kafka_conf_new());
  ES_RETURN_IF_ERROR(Configure(conf.get()));
  char errstr[512];
  // rd_kafka_new takes ownership of conf only on success.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr)
    return Status::InvalidArgument(fmt::format("cannot create Kafka producer: {}", errstr));
  (void)conf.release();
  rk_.reset(rk);
  topic_.reset(rd_kafka_topic_new(rk_.get(), options_.topic.c_str(), nullptr));
  if (!topic_) return Status::InvalidArgument(fmt::format("bad topic name '{}'", options_.topic));

  SpoolStatus st = spool_->GetStatus();
  if (st.pending_records > 0) {
    options_.log(fmt::format("{} alerts in the spool {} from an earlier run; replaying them first",
                             st.pending_records, options_.spool_dir));
    spool_mode_ = true;
  }
  if (st.truncated_bytes > 0) {
    options_.log(fmt::format("spool {}: dropped a torn tail of {} bytes (an interrupted write)",
                             options_.spool_dir, st.truncated_bytes));
  }
  std::string why;
  if (Probe(options_.connect_timeout, &why)) {
    need_probe_ = false;
  } else {
    LogError(fmt::format("{}; alerts are spooled in {} and sent when the topic is reachable", why,
                         options_.spool_dir));
    std::lock_guard<std::mutex> lock(mu_);
    spool_mode_ = true;
    broker_down_ = true;
    next_replay_ = Clock::now() + options_.replay_backoff;
  }
  last_commit_ = Clock::now();
  poller_ = std::thread([this] { PollLoop(); });
  return Status::OK();
}

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
    options_.log(fmt::format("{} rejected alerts queued for replay", records.size()));
  return Status::OK();
}

// Asks the brokers for the topic's metadata, in short steps so a refused
// connection or failed authentication ends the wait early.
bool KafkaSink::Impl::Probe(milliseconds timeout, std::string* why) {
  auto deadline = Clock::now() + timeout;
  int unknown_topic = 0;
  all_down_event_ = false;
  *why = fmt::format("Kafka brokers {} did not answer within {} ms", options_.brokers,
                     timeout.count());
  while (Clock::now() < deadline && !stop_) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_.get(), 0, topic_.get(), &raw,
                          static_cast<int>(std::clamp<int64_t>(left.count(), 1, 500)));
    MetadataPtr md(raw);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->topic_cnt == 1) {
      const rd_kafka_metadata_topic_t& t = md->topics[0];
      if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) return true;
      if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          t.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        *why = fmt::format(
            "topic '{}' does not exist on {} (and the broker does not create topics "
            "automatically)",
            options_.topic, options_.brokers);
        // Auto-creation, where enabled, answers within a few requests.
        if (++unknown_topic >= 4) return false;
      } else {
        *why = fmt::format("topic '{}': {}", options_.topic, rd_kafka_err2str(t.err));
      }
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      if (!last_error_.empty()) {
        *why = fmt::format("cannot reach Kafka brokers {}: {}", options_.brokers, last_error_);
      }
      if (auth_failed_ || all_down_event_) return false;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return false;
}

Status KafkaSink::Impl::Produce(std::string_view key, std::string_view rule_id,
                                std::string_view json, uint64_t seq) {
  // The spool sequence (0 for a direct send) rides as the message opaque.
  void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(seq));
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(json.data()), json.size()),
      RD_KAFKA_V_HEADER(kSchemaHeader, kAlertSchemaVersion,
                        static_cast<ssize_t>(sizeof kAlertSchemaVersion - 1)),
      RD_KAFKA_V_HEADER(kRuleHeader, rule_id.data(), static_cast<ssize_t>(rule_id.size())),
      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
    return Status::ResourceExhausted(
        fmt::format("{} bytes is over message.max.bytes", json.size()));
  }
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return Status::Unavailable("producer queue full");
  return Status::Unavailable(rd_kafka_err2str(err));
}

Status KafkaSink::Impl::Send(std::string_view key, std::string_view rule_id,
                             std::string_view json) {
  stats_->received.Add();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spool_mode_) {
      SpoolLocked(SpoolRecord{0, std::string(key), std::string(rule_id), std::string(json)}, false,
                  true);
      return Status::OK();
    }
  }
  inflight_direct_.fetch_add(1);
  auto give_up = Clock::now() + milliseconds(1000);
  for (;;) {
    Status st = Produce(key, rule_id, json, 0);
    if (st.ok()) return Status::OK();
    // A full queue drains as the poller serves delivery reports; wait a
    // little, then spool rather than block the caller for long.
    if (st.code() == StatusCode::kUnavailable && st.message() == "producer queue full" &&
        Clock::now() < give_up) {
      std::this_thread::sleep_for(milliseconds(5));
      continue;
    }
    inflight_direct_.fetch_sub(1);
    bool too_large = st.code() == StatusCode::kResourceExhausted;
    LogError(
        fmt::format("alert for host '{}' (rule {}) not sent: {}; {}", key, rule_id, st.message(),
                    too_large ? "spooled as rejected (raise the broker's message.max.bytes, then "
                                "eventsift spool replay --rejected)"
                              : "spooled"));
    std::lock_guard<std::mutex> lock(mu_);
    if (!too_large) spool_mode_ = true;
    SpoolLocked(SpoolRecord{0, std::string(key), std::string(rule_id), std::string(json)},
                too_large, true);
    return Status::OK();
  }
}

void KafkaSink::Impl::SpoolLocked(SpoolRecord record, bool rejected, bool this_run) {
  Status st = (rejected ? rejected_ : spool_)->Append(&record);
  if (st.ok()) {
    if (this_run) stats_->spooled.Add();
    return;
  }
  if (this_run) stats_->failed.Add();
  LogError(
      fmt::format("alert for host '{}' LOST: could not be spooled: {}", record.key, st.ToString()));
}

void KafkaSink::Impl::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<Impl*>(opaque)->HandleDelivery(m);
}

void KafkaSink::Impl::RecordLatency(const rd_kafka_message_t* m) {
  const int64_t us = rd_kafka_message_latency(m);
  if (us < 0) return;  // not known for this message
  const auto& bounds = KafkaSinkCounters::kLatencyBucketsSeconds;
  size_t i = 0;
  while (i < bounds.size() && static_cast<double>(us) > bounds[i] * 1e6) ++i;
  latency_counts_[i].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
}

void KafkaSink::Impl::HandleDelivery(const rd_kafka_message_t* m) {
  auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private));
  rd_kafka_resp_err_t err = m->err;
  if (seq == 0) {  // a direct send
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      stats_->delivered.Add();
      RecordLatency(m);
    } else {
      bool permanent = IsPermanent(err);
      if (!IsPurge(err)) {
        LogError(
            fmt::format("delivery failed: {}; alert spooled{}", rd_kafka_err2str(err),
                        permanent ? " as rejected (over the broker's size limit or invalid)" : ""));
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (!permanent) {
        spool_mode_ = true;
        need_probe_ = true;
      }
      SpoolLocked(RecordFromMessage(m), permanent, true);
    }
    inflight_direct_.fetch_sub(1);
    return;
  }
  // A replayed spool record.
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
  } else if (IsPermanent(err)) {
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

void KafkaSink::Impl::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  static_cast<Impl*>(opaque)->HandleError(static_cast<rd_kafka_resp_err_t>(err), reason);
}

void KafkaSink::Impl::HandleError(rd_kafka_resp_err_t err, const char* reason) {
  std::string text = reason != nullptr ? reason : rd_kafka_err2str(err);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk_.get(), fatal, sizeof fatal);
    text = fmt::format("fatal producer error: {}; alerts are spooled, restart eventsift", fatal);
  }
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) auth_failed_ = true;
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    broker_down_ = true;
    all_down_event_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = text;
  }
  LogError(text);
}

void KafkaSink::Impl::OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // Connection failures also come through the error callback; only worse
  // problems from librdkafka's own log are worth a line.
  if (level > 3 || std::string_view(fac) == "FAIL") return;
  auto* self = static_cast<Impl*>(rd_kafka_opaque(rk));
  if (self != nullptr) self->LogError(fmt::format("librdkafka {}: {}", fac, buf));
}

// Logs a line unless the same one was logged within kErrorLogInterval: a down
// broker reports the same failure every few hundred milliseconds.
void KafkaSink::Impl::LogError(const std::string& message) {
  static std::mutex log_mu;
  std::lock_guard<std::mutex> lock(log_mu);
  auto now = Clock::now();
  if (message == last_logged_error_ && now - last_logged_at_ < kErrorLogInterval) return;
  last_logged_error_ = message;
  last_logged_at_ = now;
  options_.log(message);
}

void KafkaSink::Impl::PollLoop() {
  while (!stop_) {
    rd_kafka_poll(rk_.get(), 50);
    auto now = Clock::now();
    if (now - last_commit_ >= kCommitInterval) {
      last_commit_ = now;
      Status st = spool_->Commit();
      if (st.ok()) st = rejected_->Commit();
      if (!st.ok()) LogError(fmt::format("spool commit failed: {}", st.ToString()));
    }
    TryReplay();
  }
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
        options_.log(fmt::format("spool replayed ({} alerts of earlier runs)", replayed));
    }
    return;
  }
  for (const SpoolRecord& r : batch) {
    inflight_replay_.fetch_add(1);
    Status produced = Produce(r.key, r.rule_id, r.payload, r.seq);
    if (produced.ok()) continue;
    inflight_replay_.fetch_sub(1);
    if (produced.code() == StatusCode::kResourceExhausted) {
      std::lock_guard<std::mutex> lock(mu_);
      SpoolRecord copy = r;
      if (rejected_->Append(&copy).ok()) {
        (void)spool_->Ack(r.seq);
        LogError(fmt::format(
            "spooled alert for host '{}' is over message.max.bytes; parked as rejected", r.key));
        continue;
      }
    }
    // Queue full or the like: the rest of the batch is retried in order.
    replay_failed_ = true;
    break;
  }
}

Status KafkaSink::Impl::Flush(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  // Wait for outstanding deliveries, and for the spool to drain while the
  // brokers answer; a broker known to be down ends the wait early.
  while (Clock::now() < deadline) {
    bool spooling;
    {
      std::lock_guard<std::mutex> lock(mu_);
      spooling = spool_mode_;
    }
    if (inflight_direct_ == 0 && inflight_replay_ == 0 &&
        (!spooling || broker_down_ || !options_.replay)) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  // What is still queued or in flight is purged: its delivery report
  // (ERR__PURGE_*) spools it. In-flight ones may have reached the broker
  // already, so they may be delivered twice (the at-least-once bound).
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  auto purge_deadline = Clock::now() + kPurgeWait;
  while ((inflight_direct_ > 0 || inflight_replay_ > 0) && Clock::now() < purge_deadline) {
    if (stop_) rd_kafka_poll(rk_.get(), 10);  // the poller is gone
    std::this_thread::sleep_for(milliseconds(5));
  }
  Status st = spool_->Commit();
  if (st.ok()) st = rejected_->Commit();
  flushed_ = true;
  if (!st.ok()) return st;
  uint64_t failed = stats_->failed.Get();
  if (failed > 0) {
    return Status::IOError(fmt::format("{} alerts could be neither delivered nor spooled", failed));
  }
  if (inflight_direct_ > 0 || inflight_replay_ > 0) {
    return Status::Internal("delivery reports still outstanding after the purge");
  }
  return Status::OK();
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

KafkaSinkCounters KafkaSink::Impl::Counters() const {
  KafkaSinkCounters c;
  c.replayed = replayed_.load();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < c.latency_buckets.size(); ++i) {
    cumulative += latency_counts_[i].load(std::memory_order_relaxed);
    c.latency_buckets[i] = cumulative;
  }
  c.latency_count = cumulative + latency_counts_.back().load(std::memory_order_relaxed);
  c.latency_sum_seconds = static_cast<double>(latency_sum_us_.load()) / 1e6;
  c.spool_pending = spool_->GetStatus().pending_records;
  c.rejected_pending = rejected_->GetStatus().pending_records;
  std::lock_guard<std::mutex> lock(mu_);
  c.last_error = last_error_;
  return c;
}

void KafkaSink::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  if (rk_) {
    // Anything left (Flush not called) is spooled through purge reports.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_.get(), 0);
    auto deadline = Clock::now() + kPurgeWait;
    while ((inflight_direct_ > 0 || inflight_replay_ > 0) && Clock::now() < deadline) {
      rd_kafka_poll(rk_.get(), 10);
    }
  }
  if (spool_) (void)spool_->Commit();
  if (rejected_) (void)rejected_->Commit();
  topic_.reset();
  rk_.reset();
}

KafkaSink::KafkaSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaSink::~KafkaSink() {
  if (!impl_) return;
  if (!impl_->flushed()) {
    // Best effort at destruction: the summary was not asked for.
    (void)impl_->Flush(milliseconds(0));
  }
  impl_->Stop();
}

Result<std::unique_ptr<KafkaSink>> KafkaSink::Open(const KafkaSinkOptions& options) {
  std::unique_ptr<KafkaSink> sink(new KafkaSink(nullptr));
  auto impl = std::make_unique<Impl>(options, &sink->stats_);
  ES_RETURN_IF_ERROR(impl->Init());
  sink->impl_ = std::move(impl);
  return sink;
}

Status KafkaSink::Send(const Alert& alert, std::string_view json) {
  return impl_->Send(alert.host, alert.rule.id, json);
}

Status KafkaSink::SendMessage(std::string_view key, std::string_view rule_id,
                              std::string_view json) {
  return impl_->Send(key, rule_id, json);
}

Status KafkaSink::Flush(milliseconds timeout) { return impl_->Flush(timeout); }

Status KafkaSink::DrainSpool(milliseconds timeout) { return impl_->DrainSpool(timeout); }

KafkaSinkCounters KafkaSink::counters() const { return impl_->Counters(); }

Result<std::unique_ptr<AlertSink>> NewKafkaSink(const KafkaSinkOptions& options) {
  ES_ASSIGN_OR_RETURN(sink, KafkaSink::Open(options));
  return std::unique_ptr<AlertSink>(std::move(sink));
}

}  // namespace eventsift
