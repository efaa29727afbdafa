#include "src/sink/kafka/kafka_sink.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "src/sink/kafka/kafka_config.h"
#include "src/sink/kafka/kafka_sink_impl.h"

namespace eventsift {

using kafka_detail::ClassifyDelivery;
using kafka_detail::Clock;
using kafka_detail::ConfPtr;
using kafka_detail::IsPurge;
using kafka_detail::kCommitInterval;
using kafka_detail::kErrorLogInterval;
using kafka_detail::kPurgeWait;
using kafka_detail::MetadataPtr;
using kafka_detail::ProduceErrorText;
using kafka_detail::RecordFromMessage;
using kafka_detail::ReleaseHold;
using std::chrono::milliseconds;

Status KafkaSink::Impl::Configure(rd_kafka_conf_t* conf) {
  // The delivery guarantees cannot be tuned away.
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
  }
  char features[512];
  size_t features_size = sizeof features;
  std::string compression = "lz4";
  if (rd_kafka_conf_get(conf, "builtin.features", features, &features_size) == RD_KAFKA_CONF_OK &&
      std::string_view(features).find("zstd") != std::string_view::npos) {
    compression = "zstd";
  }
  KafkaProperties defaults = {
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
  defaults.insert(defaults.end(), options_.defaults.begin(), options_.defaults.end());
  ES_RETURN_IF_ERROR(ApplyKafkaProperties(conf, defaults, options_.properties));
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
    options_.log(fmt::format("{} {}s in the spool {} from an earlier run; replaying them first",
                             st.pending_records, options_.item, options_.spool_dir));
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
    LogError(fmt::format("{}; {}s are spooled in {} and sent when the topic is reachable", why,
                         options_.item, options_.spool_dir));
    std::lock_guard<std::mutex> lock(mu_);
    spool_mode_ = true;
    broker_down_ = true;
    next_replay_ = Clock::now() + options_.replay_backoff;
  }
  last_commit_ = Clock::now();
  poller_ = std::thread([this] { PollLoop(); });
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

rd_kafka_resp_err_t KafkaSink::Impl::Produce(std::string_view key, std::string_view rule_id,
                                             std::string_view json, void* opaque, bool copy) {
  return rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_MSGFLAGS(copy ? RD_KAFKA_MSG_F_COPY : 0),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(json.data()), json.size()),
      RD_KAFKA_V_HEADER(kSchemaHeader, options_.schema.data(),
                        static_cast<ssize_t>(options_.schema.size())),
      RD_KAFKA_V_HEADER(kRuleHeader, rule_id.data(), static_cast<ssize_t>(rule_id.size())),
      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

Status KafkaSink::Impl::Send(std::string_view key, std::string_view rule_id, std::string_view json,
                             kafka_detail::BorrowHold* hold) {
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
  // Taken before the produce: its delivery report may come at once.
  if (hold != nullptr) hold->refs.fetch_add(1, std::memory_order_relaxed);
  // Read only once the queue is full: a clock read per message shows in
  // the profile of the events sink.
  std::optional<Clock::time_point> give_up;
  for (;;) {
    const rd_kafka_resp_err_t err = Produce(key, rule_id, json, hold, hold == nullptr);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
    // A full queue drains as the poller serves delivery reports; wait a
    // little, then spool rather than block the caller for long.
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && (!give_up || Clock::now() < *give_up)) {
      if (!give_up) give_up = Clock::now() + milliseconds(1000);
      std::this_thread::sleep_for(milliseconds(5));
      continue;
    }
    inflight_direct_.fetch_sub(1);
    if (hold != nullptr) ReleaseHold(hold);  // the sender's reference remains
    const bool too_large = ClassifyDelivery(err) == DeliveryStatus::kRejected;
    LogError(fmt::format("{} for host '{}'{} not sent: {}; {}", options_.item, key,
                         rule_id.empty() ? "" : fmt::format(" (rule {})", rule_id),
                         ProduceErrorText(err, json.size()),
                         too_large
                             ? "spooled as rejected (raise the broker's message.max.bytes, then "
                               "eventsift spool replay --rejected)"
                             : "spooled"));
    std::lock_guard<std::mutex> lock(mu_);
    if (!too_large) spool_mode_ = true;
    SpoolLocked(SpoolRecord{0, std::string(key), std::string(rule_id), std::string(json)},
                too_large, true);
    return Status::OK();
  }
}

Status KafkaSink::Impl::SendShared(std::string_view key, std::string_view rule_id,
                                   std::shared_ptr<const std::string> json) {
  const std::string_view bytes(*json);
  kafka_detail::BorrowHold* shared = kafka_detail::NewHold(std::move(json));
  Status s = Send(key, rule_id, bytes, shared);
  ReleaseHold(shared);
  return s;
}

Status KafkaSink::Impl::SendBorrowed(const std::vector<KafkaSink::BorrowedMessage>& messages,
                                     std::shared_ptr<const void> owner) {
  kafka_detail::BorrowHold* shared = kafka_detail::NewHold(std::move(owner));
  Status first;
  for (const KafkaSink::BorrowedMessage& m : messages) {
    Status s = Send(m.key, m.rule_id, m.json, shared);
    if (!s.ok() && first.ok()) first = s;
  }
  ReleaseHold(shared);
  return first;
}

void KafkaSink::Impl::SpoolLocked(SpoolRecord record, bool rejected, bool this_run) {
  Status st = (rejected ? rejected_ : spool_)->Append(&record);
  if (st.ok()) {
    if (this_run) stats_->spooled.Add();
    return;
  }
  if (this_run) stats_->failed.Add();
  LogError(fmt::format("{} for host '{}' LOST: could not be spooled: {}", options_.item, record.key,
                       st.ToString()));
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
  const auto tag = reinterpret_cast<uintptr_t>(m->_private);
  if ((tag & 1) != 0) return HandleReplayDelivery(m, tag >> 1);
  // A direct send; a borrowed one's bytes stay valid until its hold is
  // released below (the spool copies them first).
  rd_kafka_resp_err_t err = m->err;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    stats_->delivered.Add();
    RecordLatency(m);
  } else {
    const bool permanent = ClassifyDelivery(err) == DeliveryStatus::kRejected;
    if (!IsPurge(err)) {
      LogError(
          fmt::format("delivery failed: {}; {} spooled{}", rd_kafka_err2str(err), options_.item,
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
  if (tag != 0) ReleaseHold(reinterpret_cast<kafka_detail::BorrowHold*>(tag));
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
    // Waits up to 10 ms like the sleep, but while it runs librdkafka sends
    // partial batches without waiting for linger.ms (100 ms for the events
    // producer), so a flush (the daemon's checkpoint, in its event loop)
    // takes a round trip, not a linger. The delivery reports it serves here
    // are handled as on the poller thread (HandleDelivery is thread-safe).
    // With nothing in librdkafka (a spool waiting for its replay) it would
    // return at once, so that wait stays a sleep.
    if (rd_kafka_outq_len(rk_.get()) > 0) {
      (void)rd_kafka_flush(rk_.get(), 10);
    } else {
      std::this_thread::sleep_for(milliseconds(10));
    }
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

std::string KafkaSink::Impl::Property(const std::string& name) const {
  std::array<char, 512> value{};
  size_t size = value.size();
  if (!rk_ || rd_kafka_conf_get(rd_kafka_conf(rk_.get()), name.c_str(), value.data(), &size) !=
                  RD_KAFKA_CONF_OK) {
    return "";
  }
  return value.data();
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

Status KafkaSink::SendShared(const Alert& alert, std::shared_ptr<const std::string> json) {
  return impl_->SendShared(alert.host, alert.rule.id, std::move(json));
}

Status KafkaSink::SendMessage(std::string_view key, std::string_view rule_id,
                              std::string_view json) {
  return impl_->Send(key, rule_id, json);
}

Status KafkaSink::SendBorrowed(const std::vector<BorrowedMessage>& messages,
                               std::shared_ptr<const void> owner) {
  return impl_->SendBorrowed(messages, std::move(owner));
}

Status KafkaSink::Flush(milliseconds timeout) { return impl_->Flush(timeout); }

Status KafkaSink::DrainSpool(milliseconds timeout) { return impl_->DrainSpool(timeout); }

KafkaSinkCounters KafkaSink::counters() const { return impl_->Counters(); }

std::string KafkaSink::property(const std::string& name) const { return impl_->Property(name); }

Result<std::unique_ptr<AlertSink>> NewKafkaSink(const KafkaSinkOptions& options) {
  ES_ASSIGN_OR_RETURN(sink, KafkaSink::Open(options));
  return std::unique_ptr<AlertSink>(std::move(sink));
}

}  // namespace eventsift
