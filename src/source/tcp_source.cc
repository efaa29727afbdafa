#include "src/source/tcp_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eventsift::source {

TcpSource::TcpSource(std::string name, TcpSourceOptions options)
    : Source(std::move(name)), options_(std::move(options)) {}

TcpSource::~TcpSource() = default;

Status TcpSource::Start() {
  std::string where = fmt::format("{}:{}", options_.address, options_.port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  if (::inet_pton(AF_INET, options_.address.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("not an IPv4 address").At(where);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(fmt::format("socket: {}", std::strerror(errno))).At(where);
  listener_ = UniqueFd(fd);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Status::IOError(fmt::format("bind: {}", std::strerror(errno))).At(where);
  }
  if (::listen(fd, 64) != 0)
    return Status::IOError(fmt::format("listen: {}", std::strerror(errno))).At(where);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  bound_port_ = ntohs(addr.sin_port);
  return Status::OK();
}

void TcpSource::Stop() { listener_.Reset(); }

void TcpSource::AddPollFds(std::vector<pollfd>* fds) const {
  if (listener_.valid()) fds->push_back(pollfd{listener_.get(), POLLIN, 0});
  for (const auto& c : conns_) fds->push_back(pollfd{c->fd.get(), POLLIN, 0});
}

void TcpSource::Accept() {
  while (listener_.valid()) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE): retried next poll
    UniqueFd owned(fd);
    if (conns_.size() >= options_.max_connections) {
      stats().connections_rejected.Add();
      continue;  // closed by `owned`
    }
    std::array<char, INET_ADDRSTRLEN> ip{};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip.data(), ip.size());
    auto c = std::make_unique<Conn>(options_.max_line_bytes);
    c->fd = std::move(owned);
    c->peer = fmt::format("tcp:{}:{}", ip.data(), ntohs(peer.sin_port));
    conns_.push_back(std::move(c));
    stats().connections_accepted.Add();
  }
}

Result<bool> TcpSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  Accept();
  std::array<char, size_t{64} * 1024> buf{};
  size_t used = 0;
  bool more = false;
  size_t n_conns = conns_.size();
  for (size_t k = 0; k < n_conns; ++k) {
    Conn& c = *conns_[(next_ + k) % n_conns];
    if (used >= budget_bytes) {
      more = true;  // the rest wait in their kernel buffers
      break;
    }
    auto deliver = [&](std::string_view line, uint64_t line_no) {
      stats().lines.Add();
      consumer.OnLine(LineRecord{c.peer, line, line_no});
    };
    ssize_t n = ::read(c.fd.get(), buf.data(), std::min(buf.size(), budget_bytes - used));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) {
      c.framer.Finish(deliver);
      c.fd.Reset();
      continue;
    }
    used += static_cast<size_t>(n);
    stats().bytes.Add(static_cast<uint64_t>(n));
    uint64_t dropped_before = c.framer.dropped();
    c.framer.Feed(std::string_view(buf.data(), static_cast<size_t>(n)), deliver);
    stats().lines_dropped.Add(c.framer.dropped() - dropped_before);
    if (static_cast<size_t>(n) == buf.size()) more = true;
  }
  if (n_conns > 0) next_ = (next_ + 1) % n_conns;
  std::erase_if(conns_, [](const auto& c) { return !c->fd.valid(); });
  return more;
}

}  // namespace eventsift::source
