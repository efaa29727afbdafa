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

// Per-item bookkeeping beside the JSON's bytes, so a queue of tiny events is
// bounded too.
constexpr uint64_t kItemOverhead = 64;

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
    ES_ASSIGN_OR_RETURN(kafka, KafkaSink::Open(k));
    sink->kafka_ = std::move(kafka);
  } else if (sink->options_.path == "-") {
    sink->file_ = stdout;
  } else {
    sink->file_ = std::fopen(sink->options_.path.c_str(), sink->options_.append ? "ab" : "wb");
    if (sink->file_ == nullptr) {
      return Status::IOError(fmt::format("cannot open for writing: {}", std::strerror(errno)))
          .At(sink->options_.path);
    }
    sink->owns_file_ = true;
  }
  sink->writer_ = std::thread([s = sink.get()] { s->WriterLoop(); });
  return sink;
}

EventSink::~EventSink() {
  if (writer_.joinable()) (void)Close(std::chrono::milliseconds(0));
  if (owns_file_ && file_ != nullptr) std::fclose(file_);
}

void EventSink::Offer(const Event& event, bool matched) {
  stats_.offered.Add();
  if (!options_.filter.PassesHeader(event) || (options_.filter.matched_only && !matched)) {
    stats_.filtered.Add();
    return;
  }
  Item item;
  item.key = EventHostKey(event.computer);
  AppendEventEcsJson(event, &item.json);
  const uint64_t size = item.json.size() + item.key.size() + kItemOverhead;
  std::unique_lock<std::mutex> lock(mu_);
  if (bytes_ + size > options_.queue_bytes && !queue_.empty()) {
    if (options_.overflow == EventOverflow::kDrop) {
      stats_.dropped.Add();
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    has_room_.wait(lock, [&] { return bytes_ + size <= options_.queue_bytes || queue_.empty(); });
    stats_.blocked_ms.Add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count()));
  }
  bytes_ += size;
  queue_.push_back(std::move(item));
  stats_.queued.Add();
  if (queue_.size() == 1) has_items_.notify_one();
}

Status EventSink::WriteOne(const Item& item) {
  if (kafka_) return kafka_->SendMessage(item.key, "", item.json);
  if (std::fwrite(item.json.data(), 1, item.json.size(), file_) != item.json.size() ||
      std::fputc('\n', file_) == EOF) {
    return Status::IOError(fmt::format("write failed: {}", std::strerror(errno))).At(options_.path);
  }
  return Status::OK();
}

void EventSink::WriterLoop() {
  std::deque<Item> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      has_items_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing, and everything written
      batch.swap(queue_);
      writing_ = true;
    }
    uint64_t freed = 0;
    for (const Item& item : batch) {
      freed += item.json.size() + item.key.size() + kItemOverhead;
      Status s = WriteOne(item);
      if (s.ok()) {
        stats_.written.Add();
      } else {
        stats_.failed.Add();
        std::lock_guard<std::mutex> lock(mu_);
        if (write_error_.ok()) write_error_ = s;
      }
    }
    batch.clear();
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
    if (!has_room_.wait_until(lock, deadline, [&] { return queue_.empty() && !writing_; })) {
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
