#include "src/source/kafka_source.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <mutex>

#include <fmt/format.h>

#include "src/sink/kafka/kafka_config.h"

namespace eventsift::source {

namespace {

std::vector<int32_t> PartitionsOf(const rd_kafka_topic_partition_list_t* parts) {
  std::vector<int32_t> out;
  for (int i = 0; i < parts->cnt; ++i) out.push_back(parts->elems[i].partition);
  return out;
}

}  // namespace

class KafkaSource::Impl {
 public:
  rd_kafka_t* rk = nullptr;
  KafkaSource* owner = nullptr;
  // Next offset to commit per partition: one past the last message delivered.
  std::map<int32_t, int64_t> next_offsets;
  // Restored positions: messages below them are already in the restored
  // correlation state (see the header).
  std::map<int32_t, int64_t> applied;
  // Committed offsets at assignment (negative: none, reading starts at the
  // partition's beginning).
  std::map<int32_t, int64_t> start_offsets;
  std::vector<int32_t> assigned;
  bool stopped = false;
  std::chrono::steady_clock::time_point next_lag;
  mutable std::mutex lag_mu;
  std::vector<PartitionLag> lag;  // guarded by lag_mu

  ~Impl() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }

  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    KafkaSource* owner = self->owner;
    std::vector<int32_t> list = PartitionsOf(parts);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // Restored state of partitions this member did not get back is stale.
      std::erase_if(self->applied, [&](const auto& kv) {
        return std::find(list.begin(), list.end(), kv.first) == list.end();
      });
      if (owner->on_assigned_) owner->on_assigned_(list);
      // Where each partition resumes, for the lag until a message is read
      // (one broker round trip, at assignment only).
      self->start_offsets.clear();
      rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(parts);
      if (rd_kafka_committed(rk, committed, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < committed->cnt; ++i) {
          self->start_offsets[committed->elems[i].partition] = committed->elems[i].offset;
        }
      }
      rd_kafka_topic_partition_list_destroy(committed);
      rd_kafka_assign(rk, parts);
      self->assigned = list;
      owner->assigned_ = list.size();
    } else {
      // Give up the partitions only after what was read from them is safe
      // and committed, or their next owner would skip or repeat it.
      if (owner->before_revoke_) owner->before_revoke_();
      (void)owner->Commit();
      // The daemon keeps the partitions' state until the next assignment
      // tells which come back (eager rebalancing revokes them all first);
      // those that do resume from the held-back commit and skip what their
      // state already has.
      for (int32_t p : list) {
        auto next = self->next_offsets.find(p);
        if (next != self->next_offsets.end()) {
          self->applied[p] = std::max(self->applied[p], next->second);
          self->next_offsets.erase(next);
        }
      }
      rd_kafka_assign(rk, nullptr);
      self->assigned.clear();
      owner->assigned_ = 0;
    }
  }

  void RefreshLag(const std::string& topic) {
    auto now = std::chrono::steady_clock::now();
    if (now < next_lag) return;
    next_lag = now + std::chrono::seconds(1);
    std::vector<PartitionLag> out;
    for (int32_t p : assigned) {
      int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(rk, topic.c_str(), p, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        continue;  // not fetched yet
      }
      // Where reading stands: one past the last message delivered; before
      // one is, where the partition resumed (its committed offset, or what
      // the restored state already holds), else its beginning.
      int64_t next = low;
      if (auto it = next_offsets.find(p); it != next_offsets.end()) {
        next = it->second;
      } else {
        if (auto st = start_offsets.find(p); st != start_offsets.end() && st->second >= 0)
          next = st->second;
        if (auto ap = applied.find(p); ap != applied.end()) next = std::max(next, ap->second);
      }
      out.push_back(PartitionLag{p, std::max<int64_t>(0, high - next)});
    }
    std::lock_guard lock(lag_mu);
    lag = std::move(out);
  }
};

KafkaSource::KafkaSource(std::string name, KafkaSourceOptions options)
    : Source(std::move(name)), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
}

KafkaSource::~KafkaSource() = default;

Status KafkaSource::Start() {
  std::array<char, 512> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const KafkaProperties defaults = {
      {"bootstrap.servers", options_.brokers},
      {"group.id", options_.group_id},
      // Offsets are committed by Commit(), after the sinks are safe.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
  };
  Status applied = ApplyKafkaProperties(conf, defaults, options_.properties, "properties.");
  if (!applied.ok()) {
    rd_kafka_conf_destroy(conf);
    return applied;
  }
  rd_kafka_conf_set_opaque(conf, impl_.get());
  rd_kafka_conf_set_rebalance_cb(conf, &Impl::Rebalance);
  impl_->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
  if (impl_->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(fmt::format("kafka consumer: {}", err.data()));
  }
  rd_kafka_poll_set_consumer(impl_->rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(impl_->rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("kafka subscribe: {}", rd_kafka_err2str(e)))
        .At(options_.topic);
  }
  return Status::OK();
}

Result<bool> KafkaSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  if (impl_->rk == nullptr || impl_->stopped) return false;
  size_t used = 0;
  std::string origin;
  bool more = true;
  while (used < budget_bytes) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk, 0);
    if (m == nullptr) {
      more = false;
      break;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Status s = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF
                     ? Status::OK()
                     : Status::Unavailable(fmt::format("kafka: {}", rd_kafka_message_errstr(m)))
                           .At(options_.topic);
      rd_kafka_message_destroy(m);
      if (!s.ok()) return s;
      continue;
    }
    std::string_view value(static_cast<const char*>(m->payload), m->len);
    used += m->len;
    stats().bytes.Add(m->len);
    auto applied = impl_->applied.find(m->partition);
    bool replayed = applied != impl_->applied.end() && m->offset < applied->second;
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
    if (replayed) {
      // Read again from the held-back commit; already in the restored state.
    } else if (value.size() > options_.max_line_bytes) {
      stats().lines_dropped.Add();
    } else if (!value.empty()) {
      origin = fmt::format("kafka:{}/{}", options_.topic, m->partition);
      stats().lines.Add();
      // line_no: the offset, 1-based, so errors point at the message (and
      // a hit's line gives its offset back for the commit floor).
      consumer.OnLine(
          LineRecord{origin, value, static_cast<uint64_t>(m->offset) + 1, m->partition});
    }
    impl_->next_offsets[m->partition] = m->offset + 1;
    rd_kafka_message_destroy(m);
  }
  impl_->RefreshLag(options_.topic);
  return more;
}

Status KafkaSource::Commit() {
  if (impl_->rk == nullptr || impl_->next_offsets.empty()) return Status::OK();
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(impl_->next_offsets.size()));
  for (const auto& [partition, next] : impl_->next_offsets) {
    int64_t offset = next;
    // Hits still in open windows stay uncommitted: whoever owns the
    // partition after a crash must read them again.
    int64_t floor = commit_floor_ ? commit_floor_(partition) : -1;
    if (floor >= 0 && floor < offset) offset = floor;
    rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), partition)->offset = offset;
  }
  rd_kafka_resp_err_t e = rd_kafka_commit(impl_->rk, list, /*async=*/0);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    return Status::Unavailable(fmt::format("kafka commit: {}", rd_kafka_err2str(e)))
        .At(options_.topic);
  }
  return Status::OK();
}

void KafkaSource::SaveCheckpoints(std::vector<FileCheckpoint>* out) const {
  // Partitions read since assignment, and restored ones not yet re-read.
  std::map<int32_t, int64_t> reach = impl_->applied;
  for (const auto& [p, next] : impl_->next_offsets) reach[p] = std::max(reach[p], next);
  for (const auto& [p, next] : reach) {
    FileCheckpoint f;
    f.source = name();
    f.path = fmt::format("kafka:{}/{}", options_.topic, p);
    f.offset = static_cast<uint64_t>(next);
    out->push_back(std::move(f));
  }
}

void KafkaSource::RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) {
  const std::string prefix = fmt::format("kafka:{}/", options_.topic);
  for (const auto& f : checkpoints) {
    if (f.path.rfind(prefix, 0) != 0) continue;  // another topic: its state is not ours
    std::string_view digits = std::string_view(f.path).substr(prefix.size());
    int32_t p = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    impl_->applied[p] = static_cast<int64_t>(f.offset);
  }
}

std::vector<KafkaSource::PartitionLag> KafkaSource::Lag() const {
  std::lock_guard lock(impl_->lag_mu);
  return impl_->lag;
}

void KafkaSource::Stop() {
  impl_->stopped = true;
  // The daemon's final checkpoint commits; a rebalance while closing must
  // not call back into a daemon that is shutting down (the commit floor
  // stays: the daemon's partition state outlives its sources).
  before_revoke_ = nullptr;
  on_assigned_ = nullptr;
}

}  // namespace eventsift::source
