#pragma once
// EventSink: every normalized event (or those its filter passes) as JSON in
// ECS/Winlogbeat names (src/event/event_ecs_json.h) to a file or to Kafka,
// beside the alerts and never in their way.
//
// Callers (decoding threads, the daemon's loop) hand events to Offer, which
// renders them and puts them in a bounded in-memory queue; one writer thread
// takes them to the output. The queue decouples the callers from the output:
// a slow or unreachable events topic never holds up the alerts, which have
// their own producer. When the queue is full, `overflow` decides: block the
// caller until there is room (nothing lost; the default) or drop the event
// (counted in stats().dropped). Kafka keeps the alert sink's guarantees
// (idempotent, acks=all, a durable spool of its own replayed in order), keyed
// by host (EventHostKey) so one host's events stay in order in a partition.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "src/core/file_util.h"
#include "src/core/result.h"
#include "src/core/stats.h"
#include "src/event/event.h"
#include "src/sink/kafka/kafka_sink.h"

namespace eventsift {

// Which events go out. Empty lists pass everything; channels and providers
// compare without case.
struct EventFilter {
  std::vector<std::string> channels;
  std::vector<std::string> providers;
  std::vector<uint32_t> event_ids;
  bool matched_only = false;  // only events some rule matched

  // The header part (channel, provider, event id).
  bool PassesHeader(const Event& header) const;
  // Parses "a,b,c" lists (the CLI's and the config's form).
  static Result<EventFilter> Parse(const std::string& channels, const std::string& providers,
                                   const std::string& event_ids, bool matched_only);
};

enum class EventOverflow : uint8_t { kBlock, kDrop };

// The events producer's librdkafka defaults; the sink's properties (-X,
// the daemon's events `properties:`) override them. Events are many and
// small (docs/perf/kafka.md has the measurements):
// - lz4, not the alerts' zstd: zstd cost about a tenth of the process's CPU
//   per event, lz4 half of that, for 2.3x the bytes on the topic;
// - message.copy.max.bytes 0: the request references each event where the
//   sink rendered it (SendBorrowed) instead of copying it once more;
// - linger.ms 100 and queue.buffering.max.messages 10,000: the idempotent
//   producer has at most 5 requests in flight per partition, and while they
//   wait for the broker any batch ready to go (full, or older than
//   linger.ms) makes librdkafka's broker thread poll without a timeout,
//   up to 287,000 times in a 202,000-event scan. With the queue no deeper
//   than those 5 full requests and partial batches held for 100 ms it
//   waits instead (about 450 polls), and fewer queued events fault in
//   fewer fresh pages (12,000-28,000 per such scan, up to 54,000 before).
//   A full batch (batch.size) still leaves at once, and a flush does not
//   wait for linger (KafkaSink::Flush); a quiet stream's events wait up
//   to 100 ms.
inline const KafkaProperties& EventsProducerDefaults() {
  static const KafkaProperties kDefaults = {{"compression.type", "lz4"},
                                            {"message.copy.max.bytes", "0"},
                                            {"linger.ms", "100"},
                                            {"queue.buffering.max.messages", "10000"}};
  return kDefaults;
}

struct EventSinkOptions {
  EventFilter filter;
  // Where events go: a file path ("-" is stdout) or, when `kafka` is set,
  // that topic. A file is truncated, or appended to with `append`.
  std::string path;
  bool append = false;
  std::optional<KafkaSinkOptions> kafka;
  uint64_t queue_bytes = 64u << 20;  // rendered JSON waiting for the writer
  EventOverflow overflow = EventOverflow::kBlock;
};

struct EventSinkStats {
  Counter offered;     // events shown to the sink
  Counter filtered;    // left out by the filter
  Counter queued;      // rendered and queued
  Counter written;     // handed to the file or the Kafka producer
  Counter dropped;     // queue full under overflow=drop
  Counter failed;      // the output refused (file write error)
  Counter blocked_ms;  // time callers waited for room (overflow=block)
};

class EventSink {
 public:
  static Result<std::unique_ptr<EventSink>> Open(EventSinkOptions options);
  ~EventSink();
  EventSink(const EventSink&) = delete;  // owns the writer thread
  EventSink& operator=(const EventSink&) = delete;

  // Whether an event with this header may go out, so its payload must be
  // decoded though no rule needs it (with matched_only the rules decide).
  bool WantsHeader(const Event& header) const {
    return !options_.filter.matched_only && options_.filter.PassesHeader(header);
  }
  // One event, with whether any rule matched it. Thread-safe.
  void Offer(const Event& event, bool matched);
  // Waits until what is queued now is written, then flushes the output
  // (Kafka: delivered or spooled), all within `timeout`; Offer may go on.
  Status Flush(std::chrono::milliseconds timeout);
  // Writes what is queued, then flushes the output (Kafka: waits up to
  // `timeout` for delivery reports; the rest is spooled). Offer must not be
  // called after.
  Status Close(std::chrono::milliseconds timeout);

  std::string_view name() const { return kafka_ ? "kafka" : "file"; }
  const EventSinkStats& stats() const { return stats_; }
  // The Kafka output's counters (delivered, spooled, failed), or null.
  const SinkStats* kafka_stats() const { return kafka_ ? &kafka_->stats() : nullptr; }
  // The events producer, or null for a file.
  const KafkaSink* kafka() const { return kafka_.get(); }
  KafkaSinkCounters kafka_counters() const {
    return kafka_ ? kafka_->counters() : KafkaSinkCounters{};
  }
  uint64_t queued_bytes() const;

 private:
  explicit EventSink(EventSinkOptions options) : options_(std::move(options)) {}
  // Events rendered back to back ("json\n" each) with their keys, so
  // queueing an event is a copy into a buffer, not an allocation.
  struct Batch {
    struct Entry {
      uint32_t json_end, key_end;  // ends in `json` (newline excluded) and `keys`
    };
    std::string json, keys;
    std::vector<Entry> entries;
    uint64_t cost() const { return json.size() + keys.size() + entries.size() * kEntryCost; }
  };
  static constexpr uint64_t kEntryCost = 16;
  // JSON buffers of written batches, kept for the next ones (at most
  // kMaxPooled): a fresh 256 KiB buffer per batch faults its pages in again.
  // Shared with the producer, which returns a batch after its last delivery
  // report, possibly after the sink is gone.
  struct BufferPool {
    static constexpr size_t kMaxPooled = 16;
    std::mutex mu;
    std::vector<std::string> free;
    std::string Take();
    void Give(std::string buffer);
  };
  void WriterLoop();
  // Moves the open batch to the queue (mu_ held).
  void SealLocked();
  // Kafka takes the batch's bytes without copying them: it keeps the batch
  // until the last of its events is delivered or spooled.
  Status WriteBatch(Batch batch);

  EventSinkOptions options_;
  EventSinkStats stats_;
  std::unique_ptr<KafkaSink> kafka_;
  UniqueFile owned_;           // the opened file; null for stdout and Kafka
  std::FILE* file_ = nullptr;  // stdout or owned_.get()

  mutable std::mutex mu_;
  std::condition_variable has_items_;
  std::condition_variable has_room_;
  Batch open_;               // being filled by Offer
  std::deque<Batch> queue_;  // sealed, for the writer
  uint64_t bytes_ = 0;       // open_ and queue_
  bool writing_ = false;     // the writer holds a batch taken from queue_
  bool closing_ = false;
  Status write_error_;  // the first output error, reported by Close
  std::thread writer_;
  std::vector<KafkaSink::BorrowedMessage> messages_;  // the writer's, reused per batch
  std::shared_ptr<BufferPool> pool_ = std::make_shared<BufferPool>();
};

}  // namespace eventsift
