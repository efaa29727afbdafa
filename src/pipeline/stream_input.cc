#include "src/pipeline/stream_input.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eventsift {

bool IsStreamInput(const std::string& path) {
  if (path == "-") return false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;  // the decoders report it
  return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

Result<std::string> ReadStreamInput(const std::string& path, const std::atomic<bool>* cancel,
                                    size_t max_bytes) {
  // O_NONBLOCK: open() returns at once even when no writer has opened the
  // FIFO yet; poll() below does the waiting, in steps that look at `cancel`.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("cannot open: {}", std::strerror(errno))).At(path);
  std::string data;
  Status status;
  char block[1 << 16];
  while (true) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      status = Status::Unavailable("interrupted while waiting for input").At(path, data.size());
      break;
    }
    // Linux reports nothing (not POLLHUP) on a FIFO no writer has opened
    // yet, so a read is tried only once poll says there is data or an end.
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);
    if (ready < 0 && errno != EINTR) {
      status = Status::IOError(fmt::format("cannot poll: {}", std::strerror(errno))).At(path);
      break;
    }
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd, block, sizeof(block));
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      status = Status::IOError(fmt::format("cannot read: {}", std::strerror(errno)))
                   .At(path, data.size());
      break;
    }
    if (n == 0) break;  // every writer closed: the end
    if (static_cast<size_t>(n) > max_bytes - data.size()) {
      status = Status::ResourceExhausted(
                   fmt::format("stream input larger than {} MiB (read files larger than that "
                               "from a regular file, or JSON from standard input)",
                               max_bytes >> 20))
                   .At(path, data.size());
      break;
    }
    data.append(block, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return data;
}

}  // namespace eventsift
