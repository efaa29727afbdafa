// KafkaSink's delivery, spooling and replay paths against librdkafka's mock
// cluster (rdkafka_mock.h): no JVM, milliseconds per case. The same paths run
// against a real broker in tests/integration/kafka_test.cc.
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/event/event_ecs_json.h"
#include "src/sink/event_sink.h"
#include "src/sink/kafka/kafka_sink.h"
#include "src/spool/spool.h"

namespace eventsift {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// The Kafka protocol's ApiKey of Produce (rdkafka_mock.h takes raw keys).
constexpr int16_t kProduceApiKey = 0;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct MockDeleter {
  void operator()(rd_kafka_mock_cluster_t* m) const { rd_kafka_mock_cluster_destroy(m); }
};

struct Consumed {
  std::string key, value, schema, rule;
};

class KafkaSinkMockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    host_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr));
    ASSERT_TRUE(host_) << errstr;
    mock_.reset(rd_kafka_mock_cluster_new(host_.get(), 1));
    ASSERT_TRUE(mock_);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_.get());
    ASSERT_EQ(rd_kafka_mock_topic_create(mock_.get(), kTopic, 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    spool_dir_ = fs::temp_directory_path() /
                 ("es_kafka_mock_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(spool_dir_);
  }
  void TearDown() override {
    mock_.reset();
    host_.reset();
    fs::remove_all(spool_dir_);
  }

  KafkaSinkOptions Options() {
    KafkaSinkOptions o;
    o.brokers = bootstrap_;
    o.topic = kTopic;
    o.spool_dir = spool_dir_.string();
    o.flush_timeout = milliseconds(5000);
    o.connect_timeout = milliseconds(1500);
    o.replay_backoff = milliseconds(100);
    o.properties = {{"message.timeout.ms", "2000"}, {"retry.backoff.ms", "50"}};
    o.log = [this](std::string_view line) { log_.append(line).append("\n"); };
    return o;
  }

  std::unique_ptr<KafkaSink> OpenSink(const KafkaSinkOptions& o) {
    auto r = KafkaSink::Open(o);
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().ToString());
    return r.has_value() ? std::move(r).value() : nullptr;
  }

  // Not retriable: each of the next three produce requests fails its
  // messages, which go to the spool.
  void RefuseNextProduceRequests() {
    rd_kafka_mock_push_request_errors(
        mock_.get(), kProduceApiKey, 3, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  }

 public:
  static std::string Json(int i) {
    return R"({"schema":"eventsift.alert/v1","alert_id":"id-)" + std::to_string(i) + "\"}";
  }

 protected:
  // Reads every message of the topic from the beginning until `want` arrived
  // or the time is up.
  std::vector<Consumed> ConsumeAll(size_t want, milliseconds timeout = milliseconds(10000)) {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", ("g-" + std::to_string(group_++)).c_str(), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    std::unique_ptr<rd_kafka_t, KafkaDeleter> consumer(
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr));
    EXPECT_TRUE(consumer) << errstr;
    rd_kafka_poll_set_consumer(consumer.get());
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, kTopic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
    std::vector<Consumed> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        Consumed c;
        c.key.assign(static_cast<const char*>(m->key), m->key_len);
        c.value.assign(static_cast<const char*>(m->payload), m->len);
        rd_kafka_headers_t* h = nullptr;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const void* v;
          size_t n;
          if (rd_kafka_header_get_last(h, kSchemaHeader, &v, &n) == 0)
            c.schema.assign(static_cast<const char*>(v), n);
          if (rd_kafka_header_get_last(h, kRuleHeader, &v, &n) == 0)
            c.rule.assign(static_cast<const char*>(v), n);
        }
        out.push_back(std::move(c));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(consumer.get());
    return out;
  }

  static constexpr char kTopic[] = "alerts";
  std::unique_ptr<rd_kafka_t, KafkaDeleter> host_;
  std::unique_ptr<rd_kafka_mock_cluster_t, MockDeleter> mock_;
  std::string bootstrap_;
  fs::path spool_dir_;
  std::string log_;
  int group_ = 0;
};

TEST_F(KafkaSinkMockTest, DeliversKeyHeadersAndValue) {
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        sink->SendMessage("ex" + std::to_string(i % 3) + ".contoso.com", "eems-1008", Json(i))
            .ok());
  }
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok()) << log_;
  EXPECT_EQ(sink->stats().received.Get(), 20u);
  EXPECT_EQ(sink->stats().delivered.Get(), 20u);
  EXPECT_EQ(sink->stats().spooled.Get(), 0u);
  auto got = ConsumeAll(20);
  ASSERT_EQ(got.size(), 20u);
  std::map<std::string, std::vector<std::string>> per_key;
  for (const auto& c : got) {
    EXPECT_EQ(c.schema, "eventsift.alert/v1");
    EXPECT_EQ(c.rule, "eems-1008");
    per_key[c.key].push_back(c.value);
  }
  ASSERT_EQ(per_key.size(), 3u);
  // One host's alerts keep their order (same key, same partition).
  std::vector<std::string> host0;
  for (int i = 0; i < 20; i += 3) host0.push_back(Json(i));
  EXPECT_EQ(per_key["ex0.contoso.com"], host0);
}

// Messages rendered back to back into one buffer, as the events sink sends
// them: `owner` holds the bytes, the views point into it.
struct BorrowedBatch {
  std::shared_ptr<std::string> owner = std::make_shared<std::string>();
  std::vector<KafkaSink::BorrowedMessage> messages;

  explicit BorrowedBatch(const std::vector<std::pair<std::string, std::string>>& kv) {
    std::vector<std::pair<size_t, size_t>> at;  // (key start, value start)
    for (const auto& [key, value] : kv) {
      at.emplace_back(owner->size(), owner->size() + key.size());
      owner->append(key).append(value);
    }
    for (size_t i = 0; i < kv.size(); ++i) {
      const std::string_view all(*owner);
      messages.push_back({all.substr(at[i].first, kv[i].first.size()), "",
                          all.substr(at[i].second, kv[i].second.size())});
    }
  }
};

TEST_F(KafkaSinkMockTest, BorrowedMessagesArriveIntactAndTheirOwnerIsReleased) {
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < 50; ++i) kv.emplace_back("ex" + std::to_string(i % 4), Json(i));
  std::weak_ptr<std::string> watch;
  {
    BorrowedBatch batch(kv);
    watch = batch.owner;
    ASSERT_TRUE(sink->SendBorrowed(batch.messages, std::move(batch.owner)).ok());
  }
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok()) << log_;
  EXPECT_EQ(sink->stats().delivered.Get(), 50u);
  // Every delivery report came back: nothing holds the bytes any more.
  EXPECT_TRUE(watch.expired());
  auto got = ConsumeAll(50);
  ASSERT_EQ(got.size(), 50u);
  std::map<std::string, std::vector<std::string>> per_key;
  for (const auto& c : got) {
    EXPECT_EQ(c.schema, "eventsift.alert/v1");
    per_key[c.key].push_back(c.value);
  }
  ASSERT_EQ(per_key.size(), 4u);
  std::vector<std::string> ex1;
  for (int i = 1; i < 50; i += 4) ex1.push_back(Json(i));
  EXPECT_EQ(per_key["ex1"], ex1);
}

TEST_F(KafkaSinkMockTest, BorrowedMessagesRefusedOrOversizedAreSpooledFromTheirBytes) {
  KafkaSinkOptions o = Options();
  o.properties.emplace_back("message.max.bytes", "1000");
  auto sink = OpenSink(o);
  ASSERT_TRUE(sink);
  RefuseNextProduceRequests();
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < 10; ++i) kv.emplace_back("h", Json(i));
  kv.emplace_back("h", R"({"alert_id":"big","pad":")" + std::string(5000, 'x') + "\"}");
  std::weak_ptr<std::string> watch;
  {
    BorrowedBatch batch(kv);
    watch = batch.owner;
    ASSERT_TRUE(sink->SendBorrowed(batch.messages, std::move(batch.owner)).ok());
  }
  ASSERT_TRUE(sink->Flush(milliseconds(10000)).ok()) << log_;
  ASSERT_TRUE(sink->DrainSpool(milliseconds(10000)).ok()) << log_;
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok()) << log_;
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(sink->stats().failed.Get(), 0u);
  EXPECT_EQ(sink->stats().delivered.Get(), 10u) << log_;
  EXPECT_EQ(sink->counters().rejected_pending, 1u);
  EXPECT_NE(log_.find("authorization failed"), std::string::npos) << log_;
  // What failed was spooled from the borrowed bytes and replayed unchanged.
  auto got = ConsumeAll(10);
  std::set<std::string> values;
  for (const auto& c : got) values.insert(c.value);
  std::set<std::string> want;
  for (int i = 0; i < 10; ++i) want.insert(Json(i));
  EXPECT_EQ(values, want);
}

// An alert's JSON shared with the sink (SendShared, as scan and the daemon
// send): `destroyed` counts how often its owner went away, so a test sees
// the sink give back exactly the references it took.
struct TrackedJson {
  TrackedJson(std::string text, int* destroyed) : json(std::move(text)), destroyed(destroyed) {}
  ~TrackedJson() { ++*destroyed; }
  TrackedJson(const TrackedJson&) = delete;  // one owner, counted once
  TrackedJson& operator=(const TrackedJson&) = delete;
  std::string json;
  int* destroyed;
};

std::shared_ptr<const std::string> Track(std::string json, int* destroyed) {
  auto owner = std::make_shared<const TrackedJson>(std::move(json), destroyed);
  return {owner, &owner->json};
}

Alert AlertFor(const std::string& host) {
  Alert a;
  a.host = host;
  a.rule.id = "eems-1008";
  return a;
}

// Sends `n` shared alerts (Json(0..n-1), three hosts) and keeps the test's
// own reference to each.
std::vector<std::shared_ptr<const std::string>> SendShared(KafkaSink* sink, int n, int* destroyed) {
  std::vector<std::shared_ptr<const std::string>> kept;
  for (int i = 0; i < n; ++i) {
    kept.push_back(Track(KafkaSinkMockTest::Json(i), destroyed));
    EXPECT_TRUE(sink->SendShared(AlertFor("h" + std::to_string(i % 3)), kept.back()).ok());
  }
  return kept;
}

// After the sink is done with them: only the test's references remain (the
// sink released each of its own once: not kept, not released twice).
void ExpectReleasedOnce(std::vector<std::shared_ptr<const std::string>> kept,
                        const int& destroyed) {
  for (const auto& k : kept) EXPECT_EQ(k.use_count(), 1);
  EXPECT_EQ(destroyed, 0);
  const int n = static_cast<int>(kept.size());
  kept.clear();
  EXPECT_EQ(destroyed, n);
}

std::set<std::string> Values(const std::vector<Consumed>& got) {
  std::set<std::string> out;
  for (const auto& c : got) out.insert(c.value);
  return out;
}

std::set<std::string> Jsons(int n) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) out.insert(KafkaSinkMockTest::Json(i));
  return out;
}

TEST_F(KafkaSinkMockTest, SharedAlertsAreDeliveredIntactThenReleasedOnce) {
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  int destroyed = 0;
  auto kept = SendShared(sink.get(), 20, &destroyed);
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok()) << log_;
  EXPECT_EQ(sink->stats().delivered.Get(), 20u);
  ExpectReleasedOnce(std::move(kept), destroyed);
  auto got = ConsumeAll(20);
  ASSERT_EQ(got.size(), 20u);
  for (const auto& c : got) {
    EXPECT_EQ(c.rule, "eems-1008");
    EXPECT_EQ(c.schema, "eventsift.alert/v1");
  }
  EXPECT_EQ(Values(got), Jsons(20));
}

TEST_F(KafkaSinkMockTest, SharedAlertsRefusedAreSpooledFromTheirBytesThenReleasedOnce) {
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  RefuseNextProduceRequests();
  int destroyed = 0;
  auto kept = SendShared(sink.get(), 10, &destroyed);
  ASSERT_TRUE(sink->Flush(milliseconds(10000)).ok()) << log_;
  ASSERT_TRUE(sink->DrainSpool(milliseconds(10000)).ok()) << log_;
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok()) << log_;
  EXPECT_NE(log_.find("authorization failed"), std::string::npos) << log_;
  EXPECT_EQ(sink->stats().failed.Get(), 0u);
  ExpectReleasedOnce(std::move(kept), destroyed);
  EXPECT_EQ(Values(ConsumeAll(10)), Jsons(10));
}

TEST_F(KafkaSinkMockTest, SharedAlertsPurgedAreSpooledFromTheirBytesThenReleasedOnce) {
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  rd_kafka_mock_broker_set_down(mock_.get(), 1);
  int destroyed = 0;
  auto kept = SendShared(sink.get(), 5, &destroyed);
  // Queued, not copied: the producer holds a reference to each.
  for (const auto& k : kept) EXPECT_EQ(k.use_count(), 2);
  // Within message.timeout.ms: the flush purges them, still queued.
  ASSERT_TRUE(sink->Flush(milliseconds(300)).ok()) << log_;
  EXPECT_EQ(sink->stats().delivered.Get(), 0u);
  EXPECT_EQ(sink->stats().spooled.Get(), 5u);
  EXPECT_EQ(sink->counters().spool_pending, 5u);
  ExpectReleasedOnce(std::move(kept), destroyed);
  // The spool holds the bytes: they arrive once the broker is back.
  rd_kafka_mock_broker_set_up(mock_.get(), 1);
  ASSERT_TRUE(sink->DrainSpool(milliseconds(10000)).ok()) << log_;
  EXPECT_EQ(Values(ConsumeAll(5)), Jsons(5));
}

// Alerts compress with zstd (where librdkafka has it), the events producer
// with lz4, references the rendered events and holds partial batches for
// 100 ms behind a queue of 10,000 (EventsProducerDefaults); the properties
// win over each. The alerts producer keeps linger.ms 5 and librdkafka's
// queue.
TEST_F(KafkaSinkMockTest, EventsProducerDefaultsToLz4AndTheUserSettingWins) {
  auto alerts = OpenSink(Options());
  ASSERT_TRUE(alerts);
  const std::string alerts_codec = alerts->property("compression.type");
  EXPECT_TRUE(alerts_codec == "zstd" || alerts_codec == "lz4") << alerts_codec;
  EXPECT_EQ(alerts->property("acks"), "-1");  // "all"
  EXPECT_EQ(alerts->property("message.copy.max.bytes"), "65535");
  EXPECT_EQ(alerts->property("linger.ms"), "5");
  EXPECT_EQ(alerts->property("queue.buffering.max.messages"), "100000");
  alerts.reset();
  for (const std::string& user : {std::string(), std::string("zstd"), std::string("none")}) {
    EventSinkOptions eo;
    eo.kafka = Options();
    eo.kafka->spool_dir += "-events";
    if (!user.empty()) {
      eo.kafka->properties.emplace_back("compression.type", user);
      eo.kafka->properties.emplace_back("linger.ms", "7");
      eo.kafka->properties.emplace_back("queue.buffering.max.messages", "50000");
    }
    auto opened = EventSink::Open(std::move(eo));
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    std::unique_ptr<EventSink> events = std::move(opened).value();
    ASSERT_NE(events->kafka(), nullptr);
    EXPECT_EQ(events->kafka()->property("compression.type"), user.empty() ? "lz4" : user);
    EXPECT_EQ(events->kafka()->property("message.copy.max.bytes"), "0");
    EXPECT_EQ(events->kafka()->property("linger.ms"), user.empty() ? "100" : "7");
    EXPECT_EQ(events->kafka()->property("queue.buffering.max.messages"),
              user.empty() ? "10000" : "50000");
    EXPECT_EQ(events->kafka()->property("enable.idempotence"), "true");
    ASSERT_TRUE(events->Close(milliseconds(2000)).ok());
  }
  fs::remove_all(spool_dir_.string() + "-events");
}

// A flush sends what lingers at once (the events producer's linger.ms is
// 100 ms, and the daemon flushes in its loop at every checkpoint): three
// messages of a partial batch held for 1.9 s are delivered within a
// second of the flush.
TEST_F(KafkaSinkMockTest, FlushSendsAPartialBatchWithoutWaitingForLinger) {
  KafkaSinkOptions o = Options();
  o.properties.emplace_back("linger.ms", "1900");  // under message.timeout.ms
  auto sink = OpenSink(o);
  ASSERT_TRUE(sink);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink->SendMessage("h", "r", Json(i)).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(sink->Flush(milliseconds(3000)).ok()) << log_;
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(sink->stats().delivered.Get(), 3u) << log_;
  EXPECT_EQ(sink->stats().spooled.Get(), 0u) << log_;
  EXPECT_EQ(ConsumeAll(3).size(), 3u);
}

// The events sink's whole Kafka path: rendered events batched, handed to the
// producer without copies, batch buffers reused once delivered. More
// batches than the sink keeps buffers for, and every event arrives as
// RenderEventEcsJson renders it, keyed by its lower-cased host.
TEST_F(KafkaSinkMockTest, EventsSinkDeliversEveryEventIntactAcrossManyBatches) {
  EventSinkOptions eo;
  eo.kafka = Options();
  eo.kafka->spool_dir += "-events";
  eo.queue_bytes = 1 << 20;  // the writer falls behind: Offer blocks at times
  auto opened = EventSink::Open(std::move(eo));
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  std::unique_ptr<EventSink> sink = std::move(opened).value();
  constexpr int kEvents = 6000;  // ~1.3 KB each: about 30 batches of 256 KiB
  const std::vector<std::string> hosts = {"DC01.contoso.local", "ex02", "WS-3", "Srv4", "h5"};
  std::multiset<std::pair<std::string, std::string>> want;
  std::string scratch;
  for (int i = 0; i < kEvents; ++i) {
    const std::string payload(1000 + i % 200, static_cast<char>('a' + i % 26));
    const std::string file = "f" + std::to_string(i % 3) + ".evtx";
    Event e;
    e.computer = hosts[i % hosts.size()];
    e.channel = "Security";
    e.provider = "Microsoft-Windows-Security-Auditing";
    e.event_id = 4624 + i % 7;
    e.record_id = static_cast<uint64_t>(i) + 1;
    e.where.file = file;
    e.where.offset = static_cast<uint64_t>(i) * 512;
    e.data.push_back(DataField{"Payload", payload});
    want.emplace(EventHostKey(e.computer), std::string(RenderEventEcsJson(e, &scratch)));
    sink->Offer(e, false);
  }
  ASSERT_TRUE(sink->Close(milliseconds(10000)).ok()) << log_;
  EXPECT_EQ(sink->stats().written.Get(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(sink->kafka_stats()->delivered.Get(), static_cast<uint64_t>(kEvents)) << log_;
  auto got = ConsumeAll(kEvents, milliseconds(30000));
  ASSERT_EQ(got.size(), static_cast<size_t>(kEvents));
  std::multiset<std::pair<std::string, std::string>> have;
  for (const auto& c : got) {
    EXPECT_EQ(c.schema, kEventSchemaVersion);
    have.emplace(c.key, c.value);
  }
  EXPECT_TRUE(have == want);
  fs::remove_all(spool_dir_.string() + "-events");
}

TEST_F(KafkaSinkMockTest, BrokerDownSpoolsThenReplaysInOrderAtNextStart) {
  rd_kafka_mock_broker_set_down(mock_.get(), 1);
  {
    auto sink = OpenSink(Options());
    ASSERT_TRUE(sink);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(sink->SendMessage("host", "r", Json(i)).ok());
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(sink->Flush(milliseconds(3000)).ok()) << log_;
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3500));
    EXPECT_EQ(sink->stats().delivered.Get(), 0u);
    EXPECT_EQ(sink->stats().spooled.Get(), 100u);
    EXPECT_EQ(sink->stats().failed.Get(), 0u);
  }
  EXPECT_NE(log_.find("spooled"), std::string::npos) << log_;
  rd_kafka_mock_broker_set_up(mock_.get(), 1);
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  // New alerts wait behind the spooled ones.
  ASSERT_TRUE(sink->SendMessage("host", "r", Json(100)).ok());
  ASSERT_TRUE(sink->DrainSpool(milliseconds(10000)).ok()) << log_;
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok());
  EXPECT_EQ(sink->counters().replayed, 100u);
  EXPECT_EQ(sink->stats().delivered.Get(), 1u);
  EXPECT_EQ(sink->stats().spooled.Get(), 0u);
  EXPECT_EQ(sink->counters().spool_pending, 0u);
  auto got = ConsumeAll(101);
  ASSERT_EQ(got.size(), 101u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(got[i].value, Json(i)) << i;
}

TEST_F(KafkaSinkMockTest, RefusedProduceGoesToSpoolAndIsReplayedWhenBrokerRecovers) {
  auto sink = OpenSink(Options());
  ASSERT_TRUE(sink);
  RefuseNextProduceRequests();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sink->SendMessage("h", "r", Json(i)).ok());
  // Once the errors are used up, the background replay delivers the spool.
  ASSERT_TRUE(sink->Flush(milliseconds(10000)).ok()) << log_;
  EXPECT_EQ(sink->stats().failed.Get(), 0u);
  EXPECT_EQ(sink->stats().delivered.Get() + sink->stats().spooled.Get(), 10u);
  ASSERT_TRUE(sink->DrainSpool(milliseconds(10000)).ok()) << log_;
  EXPECT_EQ(sink->stats().delivered.Get(), 10u) << log_;
  EXPECT_NE(log_.find("authorization failed"), std::string::npos) << log_;
  auto got = ConsumeAll(10);
  std::set<std::string> ids;
  for (const auto& c : got) ids.insert(c.value);
  EXPECT_EQ(ids.size(), 10u);
}

// A full producer queue is waited out (librdkafka's QUEUE_FULL code, not an
// error): every message is delivered, none spooled, nothing logged.
TEST_F(KafkaSinkMockTest, FullProducerQueueIsWaitedOutNotSpooled) {
  KafkaSinkOptions o = Options();
  o.properties.emplace_back("queue.buffering.max.messages", "2");
  auto sink = OpenSink(o);
  ASSERT_TRUE(sink);
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(sink->SendMessage("h", "r", Json(i)).ok());
  ASSERT_TRUE(sink->Flush(milliseconds(10000)).ok()) << log_;
  EXPECT_EQ(sink->stats().delivered.Get(), static_cast<uint64_t>(kCount)) << log_;
  EXPECT_EQ(sink->stats().spooled.Get(), 0u) << log_;
  EXPECT_EQ(log_.find("not sent"), std::string::npos) << log_;
  EXPECT_EQ(ConsumeAll(kCount).size(), static_cast<size_t>(kCount));
}

TEST_F(KafkaSinkMockTest, OversizedAlertIsReportedAndParkedNotDropped) {
  KafkaSinkOptions o = Options();
  o.properties.emplace_back("message.max.bytes", "1000");
  auto sink = OpenSink(o);
  ASSERT_TRUE(sink);
  std::string big = R"({"alert_id":"big","pad":")" + std::string(5000, 'x') + "\"}";
  ASSERT_TRUE(sink->SendMessage("h", "r", big).ok());
  ASSERT_TRUE(sink->SendMessage("h", "r", Json(1)).ok());
  ASSERT_TRUE(sink->Flush(milliseconds(5000)).ok()) << log_;
  EXPECT_EQ(sink->stats().spooled.Get(), 1u);
  EXPECT_EQ(sink->stats().delivered.Get(), 1u);
  EXPECT_EQ(sink->counters().rejected_pending, 1u);
  EXPECT_NE(log_.find("message.max.bytes"), std::string::npos) << log_;
}

TEST_F(KafkaSinkMockTest, SpoolFullIsCountedAsFailedWithClearError) {
  rd_kafka_mock_broker_set_down(mock_.get(), 1);
  KafkaSinkOptions o = Options();
  o.spool_max_bytes = 1000;
  auto sink = OpenSink(o);
  ASSERT_TRUE(sink);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(sink->SendMessage("h", "r", Json(i)).ok());
  Status st = sink->Flush(milliseconds(1000));
  EXPECT_FALSE(st.ok());
  EXPECT_GT(sink->stats().failed.Get(), 0u);
  EXPECT_EQ(sink->stats().spooled.Get() + sink->stats().failed.Get(), 50u);
  EXPECT_NE(log_.find("spool full"), std::string::npos) << log_;
}

TEST_F(KafkaSinkMockTest, MissingTopicIsReportedAndSpooled) {
  KafkaSinkOptions o = Options();
  o.topic = "no-such-topic";
  // The mock cluster auto-creates topics unless told the topic is unknown.
  rd_kafka_mock_topic_set_error(mock_.get(), "no-such-topic",
                                RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  auto sink = OpenSink(o);
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->SendMessage("h", "r", Json(1)).ok());
  ASSERT_TRUE(sink->Flush(milliseconds(2000)).ok());
  EXPECT_EQ(sink->stats().spooled.Get(), 1u);
  EXPECT_NE(log_.find("no-such-topic"), std::string::npos) << log_;
}

TEST_F(KafkaSinkMockTest, GuaranteesCannotBeWeakenedAndSecretsAreNotEchoed) {
  KafkaSinkOptions o = Options();
  o.properties.emplace_back("enable.idempotence", "false");
  auto r = KafkaSink::Open(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);

  o = Options();
  o.properties.emplace_back("acks", "1");
  EXPECT_FALSE(KafkaSink::Open(o).has_value());

  o = Options();
  // The producer cannot start (no key file); the error names the problem,
  // never the key's password.
  o.properties.emplace_back("security.protocol", "ssl");
  o.properties.emplace_back("ssl.key.location", "/nonexistent/eventsift-key.pem");
  o.properties.emplace_back("ssl.certificate.location", "/nonexistent/eventsift-cert.pem");
  o.properties.emplace_back("ssl.key.password", "hunter2");
  auto bad = KafkaSink::Open(o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().ToString().find("hunter2"), std::string::npos) << bad.error().ToString();
  EXPECT_TRUE(IsSecretKafkaProperty("sasl.password"));
  EXPECT_TRUE(IsSecretKafkaProperty("ssl.key.password"));
  EXPECT_TRUE(IsSecretKafkaProperty("sasl.oauthbearer.client.secret"));
  EXPECT_FALSE(IsSecretKafkaProperty("sasl.username"));
}

}  // namespace
}  // namespace eventsift
