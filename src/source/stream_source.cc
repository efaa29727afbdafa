#include "src/source/stream_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eventsift::source {

StreamSource::StreamSource(std::string name, StreamSourceOptions options)
    : Source(std::move(name)), options_(std::move(options)), framer_(options_.max_line_bytes) {}

Status StreamSource::Start() {
  int flags = ::fcntl(options_.fd, F_GETFL);
  if (flags < 0)
    return Status::IOError(fmt::format("fcntl: {}", std::strerror(errno))).At(options_.origin);
  // Non-blocking so a quiet pipe never stalls the loop (and a shutdown).
  if (::fcntl(options_.fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Status::IOError(fmt::format("fcntl: {}", std::strerror(errno))).At(options_.origin);
  }
  return Status::OK();
}

void StreamSource::AddPollFds(std::vector<pollfd>* fds) const {
  if (!eof_) fds->push_back(pollfd{options_.fd, POLLIN, 0});
}

Result<bool> StreamSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  if (eof_) return false;
  std::array<char, size_t{64} * 1024> buf{};
  size_t used = 0;
  auto deliver = [&](std::string_view line, uint64_t line_no) {
    stats().lines.Add();
    consumer.OnLine(LineRecord{options_.origin, line, line_no});
  };
  while (used < budget_bytes) {
    ssize_t n = ::read(options_.fd, buf.data(), std::min(buf.size(), budget_bytes - used));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      return Status::IOError(fmt::format("read: {}", std::strerror(errno))).At(options_.origin);
    }
    if (n == 0) {
      framer_.Finish(deliver);
      eof_ = true;
      return false;
    }
    used += static_cast<size_t>(n);
    stats().bytes.Add(static_cast<uint64_t>(n));
    uint64_t dropped_before = framer_.dropped();
    framer_.Feed(std::string_view(buf.data(), static_cast<size_t>(n)), deliver);
    stats().lines_dropped.Add(framer_.dropped() - dropped_before);
  }
  return true;
}

}  // namespace eventsift::source
