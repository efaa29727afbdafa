#include "src/source/kafka_source.h"

#include <librdkafka/rdkafka.h>

#include <array>

#include <fmt/format.h>

namespace eventsift::source {

class KafkaSource::Impl {
 public:
  rd_kafka_t* rk = nullptr;
  KafkaSource* owner = nullptr;
  // Next offset to commit per partition: one past the last message delivered.
  std::map<int32_t, int64_t> next_offsets;
  bool stopped = false;

  ~Impl() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }

  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      rd_kafka_assign(rk, parts);
      self->owner->assigned_ = static_cast<size_t>(parts->cnt);
    } else {
      // Give up the partitions only after what was read from them is safe
      // and committed, or their next owner would skip or repeat it.
      if (self->owner->before_revoke_) self->owner->before_revoke_();
      (void)self->owner->Commit();
      for (int i = 0; i < parts->cnt; ++i) self->next_offsets.erase(parts->elems[i].partition);
      rd_kafka_assign(rk, nullptr);
      self->owner->assigned_ = 0;
    }
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
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument(fmt::format("kafka property '{}': {}", k, err.data()));
    }
    return Status::OK();
  };
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", options_.brokers},
      {"group.id", options_.group_id},
      // Offsets are committed by Commit(), after the sinks are safe.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
  };
  props.insert(props.end(), options_.properties.begin(), options_.properties.end());
  for (const auto& [k, v] : props) {
    Status s = set(k, v);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
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
  while (used < budget_bytes) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk, 0);
    if (m == nullptr) return false;
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
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
    if (value.size() > options_.max_line_bytes) {
      stats().lines_dropped.Add();
    } else if (!value.empty()) {
      origin = fmt::format("kafka:{}/{}", options_.topic, m->partition);
      stats().lines.Add();
      // line_no: the offset, 1-based, so errors point at the message.
      consumer.OnLine(LineRecord{origin, value, static_cast<uint64_t>(m->offset) + 1});
    }
    impl_->next_offsets[m->partition] = m->offset + 1;
    rd_kafka_message_destroy(m);
  }
  return true;
}

Status KafkaSource::Commit() {
  if (impl_->rk == nullptr || impl_->next_offsets.empty()) return Status::OK();
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(impl_->next_offsets.size()));
  for (const auto& [partition, offset] : impl_->next_offsets) {
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

void KafkaSource::Stop() {
  impl_->stopped = true;
  // The daemon's final checkpoint commits; a revoke while closing must not
  // call back into a daemon that is shutting down.
  before_revoke_ = nullptr;
}

}  // namespace eventsift::source
