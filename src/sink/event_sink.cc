#include "src/sink/event_sink.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "src/event/event_ecs_json.h"

namespace eventsift {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool InList(const std::vector<std::string>& list, std::string_view v) {
  if (list.empty()) return true;
  for (const auto& s : list) {
    if (EqualsNoCase(s, v)) return true;
  }
  return false;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

// A batch is sealed for the writer at this size: large enough that the
// lock and the write are per batch, not per event.
constexpr size_t kBatchBytes = 256 << 10;
// Room for the event that crosses kBatchBytes (most are a few KiB).
constexpr size_t kBatchSlack = 16 << 10;
constexpr std::chrono::milliseconds kIdleSeal{20};

}  // namespace

bool EventFilter::PassesHeader(const Event& header) const {
  if (!InList(channels, header.channel) || !InList(providers, header.provider)) return false;
  if (event_ids.empty()) return true;
  for (uint32_t id : event_ids) {
    if (id == header.event_id) return true;
  }
  return false;
}

Result<EventFilter> EventFilter::Parse(const std::string& channels, const std::string& providers,
                                       const std::string& event_ids, bool matched_only) {
  EventFilter f;
  f.channels = SplitComma(channels);
  f.providers = SplitComma(providers);
  for (const std::string& id : SplitComma(event_ids)) {
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec != std::errc() || p != id.data() + id.size()) {
      return Status::InvalidArgument(fmt::format("event id '{}' is not a number", id));
    }
    f.event_ids.push_back(v);
  }
  f.matched_only = matched_only;
  return f;
}

Result<std::unique_ptr<EventSink>> EventSink::Open(EventSinkOptions options) {
  std::unique_ptr<EventSink> sink(new EventSink(std::move(options)));
  if (sink->options_.kafka) {
    KafkaSinkOptions k = *sink->options_.kafka;
    k.schema = kEventSchemaVersion;
    k.item = "event";
    k.defaults.insert(k.defaults.begin(), EventsProducerDefaults().begin(),
                      EventsProducerDefaults().end());
    ES_ASSIGN_OR_RETURN(kafka, KafkaSink::Open(k));
    sink->kafka_ = std::move(kafka);
  } else if (sink->options_.path == "-") {
    sink->file_ = stdout;
  } else {
    sink->owned_ = sink->options_.append ? OpenFileAppendLines(sink->options_.path)
                                         : OpenFile(sink->options_.path, "wb");
    if (sink->owned_ == nullptr) {
      return Status::IOError(fmt::format("cannot open for writing: {}", std::strerror(errno)))
          .At(sink->options_.path);
    }
    sink->file_ = sink->owned_.get();
  }
  sink->writer_ = std::thread([s = sink.get()] { s->WriterLoop(); });
  return sink;
}

EventSink::~EventSink() {
  if (writer_.joinable()) (void)Close(std::chrono::milliseconds(0));
  file_ = nullptr;
  owned_.reset();  // stdout is not ours to close
}

void EventSink::Offer(const Event& event, bool matched) {
  stats_.offered.Add();
  if (!options_.filter.PassesHeader(event) || (options_.filter.matched_only && !matched)) {
    stats_.filtered.Add();
    return;
  }
  // Rendered outside the lock into this thread's scratch, then copied in.
  thread_local std::string scratch, key;
  const std::string_view json = RenderEventEcsJson(event, &scratch);
  AssignEventHostKey(event.computer, &key);
  const uint64_t size = json.size() + 1 + key.size() + kEntryCost;
  std::unique_lock<std::mutex> lock(mu_);
  if (bytes_ + size > options_.queue_bytes && bytes_ > 0) {
    if (options_.overflow == EventOverflow::kDrop) {
      stats_.dropped.Add();
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    SealLocked();
    has_items_.notify_one();
    has_room_.wait(lock, [&] { return bytes_ + size <= options_.queue_bytes || bytes_ == 0; });
    stats_.blocked_ms.Add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count()));
  }
  open_.json.append(json);
  open_.json.push_back('\n');
  open_.keys.append(key);
  open_.entries.push_back(Batch::Entry{static_cast<uint32_t>(open_.json.size() - 1),
                                       static_cast<uint32_t>(open_.keys.size())});
  bytes_ += size;
  stats_.queued.Add();
  if (open_.json.size() >= kBatchBytes) {
    SealLocked();
    has_items_.notify_one();
  }
}

void EventSink::SealLocked() {
  if (open_.entries.empty()) return;
  queue_.push_back(std::move(open_));
  open_ = Batch{};
  open_.json = pool_->Take();
}

std::string EventSink::BufferPool::Take() {
  std::string buffer;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!free.empty()) {
      buffer = std::move(free.back());
      free.pop_back();
    }
  }
  buffer.clear();
  // Sized once for a full batch, so filling it does not reallocate and copy
  // what it holds a dozen times over.
  buffer.reserve(kBatchBytes + kBatchSlack);
  return buffer;
}

void EventSink::BufferPool::Give(std::string buffer) {
  std::lock_guard<std::mutex> lock(mu);
  if (free.size() < kMaxPooled) free.push_back(std::move(buffer));
}

Status EventSink::WriteBatch(Batch batch) {
  if (!kafka_) {
    const bool written =
        std::fwrite(batch.json.data(), 1, batch.json.size(), file_) == batch.json.size();
    const int error = errno;
    pool_->Give(std::move(batch.json));
    if (!written) {
      return Status::IOError(fmt::format("write failed: {}", std::strerror(error)))
          .At(options_.path);
    }
    return Status::OK();
  }
  // The producer lets go of the batch after its last delivery report; its
  // buffer then goes back to the pool.
  auto give_back = [pool = pool_](Batch* b) {
    std::unique_ptr<Batch> done(b);
    pool->Give(std::move(done->json));
  };
  std::shared_ptr<const Batch> owned(std::make_unique<Batch>(std::move(batch)).release(),
                                     std::move(give_back));
  messages_.clear();
  messages_.reserve(owned->entries.size());
  uint32_t json_at = 0, key_at = 0;
  for (const Batch::Entry& e : owned->entries) {
    messages_.push_back(KafkaSink::BorrowedMessage{
        std::string_view(owned->keys.data() + key_at, e.key_end - key_at), "",
        std::string_view(owned->json.data() + json_at, e.json_end - json_at)});
    json_at = e.json_end + 1;
    key_at = e.key_end;
  }
  return kafka_->SendBorrowed(messages_, std::move(owned));
}

void EventSink::WriterLoop() {
  std::deque<Batch> batches;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Sealed batches wake the writer; a partly filled one is taken after
      // kIdleSeal, so a quiet stream's events do not wait for company.
      has_items_.wait_for(lock, kIdleSeal, [&] { return !queue_.empty() || closing_; });
      SealLocked();
      if (queue_.empty()) {
        if (closing_) return;  // everything written
        continue;
      }
      batches.swap(queue_);
      writing_ = true;
    }
    uint64_t freed = 0;
    for (Batch& b : batches) {
      freed += b.cost();
      const uint64_t events = b.entries.size();
      Status s = WriteBatch(std::move(b));
      // A file write error loses the batch; the Kafka sink took every event
      // (delivered or spooled; what it could not spool it counts as failed).
      if (s.ok() || kafka_) {
        stats_.written.Add(events);
      } else {
        stats_.failed.Add(events);
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (write_error_.ok()) write_error_ = s;
      }
    }
    batches.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      bytes_ -= freed;
      writing_ = false;
    }
    has_room_.notify_all();
  }
}

Status EventSink::Flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  {
    std::unique_lock<std::mutex> lock(mu_);
    SealLocked();
    has_items_.notify_one();
    if (!has_room_.wait_until(
            lock, deadline, [&] { return queue_.empty() && open_.entries.empty() && !writing_; })) {
      return Status::Unavailable(
          fmt::format("events sink: {} bytes still queued after the flush timeout", bytes_));
    }
    if (!write_error_.ok()) return write_error_;
  }
  if (kafka_) {
    return kafka_->Flush(std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
        deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero())));
  }
  if (std::fflush(file_) != 0) {
    return Status::IOError(fmt::format("flush failed: {}", std::strerror(errno))).At(options_.path);
  }
  return Status::OK();
}

Status EventSink::Close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  has_items_.notify_all();
  if (writer_.joinable()) writer_.join();
  Status st;
  if (kafka_) {
    st = kafka_->Flush(timeout);
  } else if (file_ != nullptr && std::fflush(file_) != 0) {
    st = Status::IOError(fmt::format("flush failed: {}", std::strerror(errno))).At(options_.path);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_error_.ok()) return write_error_;
  return st;
}

uint64_t EventSink::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace eventsift
