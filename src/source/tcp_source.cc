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
  if (options_.tls) {
    auto tls = TlsServer::Create(*options_.tls);
    if (!tls.has_value()) return tls.error();
    tls_ = std::move(tls).value();
  }
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
  for (const auto& c : conns_) {
    auto events = static_cast<short>(c->want_write ? POLLOUT : POLLIN);
    fds->push_back(pollfd{c->fd.get(), events, 0});
  }
}

void TcpSource::Accept(RecordConsumer& consumer) {
  while (listener_.valid()) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE): retried next poll
    UniqueFd owned(fd);
    if (conns_.size() >= options_.max_connections && !EvictIdlest(consumer)) {
      stats().connections_rejected.Add();
      continue;  // closed by `owned`
    }
    std::array<char, INET_ADDRSTRLEN> ip{};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip.data(), ip.size());
    auto c = std::make_unique<Conn>(options_.max_line_bytes);
    c->fd = std::move(owned);
    c->peer = fmt::format("{}:{}:{}", tls_ ? "tls" : "tcp", ip.data(), ntohs(peer.sin_port));
    c->last_active = std::chrono::steady_clock::now();
    if (options_.framing == TcpFraming::kSyslog) {
      c->syslog = std::make_unique<SyslogFramer>(options_.max_line_bytes);
    }
    if (tls_) {
      auto session = tls_->NewSession(c->fd.get());
      if (!session.has_value()) {
        stats().tls_handshake_failures.Add();
        continue;
      }
      c->tls = std::move(session).value();
      c->handshaking = true;
      c->deadline = c->last_active + options_.handshake_timeout;
    }
    conns_.push_back(std::move(c));
    stats().connections_accepted.Add();
  }
}

void TcpSource::Deliver(Conn& c, std::string_view bytes, bool finish, RecordConsumer& consumer) {
  if (c.syslog) {
    DeliverSyslog(c, bytes, finish, consumer);
    return;
  }
  auto deliver = [&](std::string_view line, uint64_t line_no) {
    stats().lines.Add();
    consumer.OnLine(LineRecord{c.peer, line, line_no});
  };
  stats().bytes.Add(static_cast<uint64_t>(bytes.size()));
  uint64_t dropped_before = c.framer.dropped();
  c.framer.Feed(bytes, deliver);
  if (finish) c.framer.Finish(deliver);
  stats().lines_dropped.Add(c.framer.dropped() - dropped_before);
}

void TcpSource::DeliverSyslog(Conn& c, std::string_view bytes, bool finish,
                              RecordConsumer& consumer) {
  auto on_error = [&](std::string what, uint64_t offset) {
    stats().frame_errors.Add();
    consumer.OnSourceError(Status::Corruption(std::move(what)).At(c.peer, offset));
  };
  auto on_frame = [&](std::string_view frame, uint64_t frame_no) {
    SyslogMessage m = ParseSyslogMessage(frame);
    if (!m.error.empty()) {
      stats().frame_errors.Add();
      consumer.OnSourceError(
          Status::Corruption(fmt::format("syslog message {}: {}", frame_no, m.error)).At(c.peer));
      return;
    }
    stats().lines.Add();
    consumer.OnLine(LineRecord{c.peer, m.msg, frame_no});
  };
  stats().bytes.Add(static_cast<uint64_t>(bytes.size()));
  c.syslog->Feed(bytes, on_frame, on_error);
  if (finish) c.syslog->Finish(on_frame, on_error);
}

void TcpSource::CloseDraining(Conn& c, RecordConsumer& consumer) {
  if (!c.fd.valid()) return;
  if (!c.handshaking) {
    // What the kernel had buffered for this socket when we decided to close
    // it; a peer that keeps sending gets a bounded amount read, not more
    // time (the rest is refused with the close, the peer sees a reset).
    constexpr int kMaxDrainReads = 16;  // 1 MiB
    std::array<char, size_t{64} * 1024> buf{};
    for (int i = 0; i < kMaxDrainReads; ++i) {
      size_t n = 0;
      if (ReadSome(c, buf.data(), buf.size(), &n) != ReadResult::kData) break;
      Deliver(c, std::string_view(buf.data(), n), false, consumer);
    }
    Deliver(c, {}, true, consumer);
  }
  c.fd.Reset();
}

bool TcpSource::EvictIdlest(RecordConsumer& consumer) {
  Conn* idlest = nullptr;
  for (auto& c : conns_) {
    if (c->fd.valid() && (idlest == nullptr || c->last_active < idlest->last_active))
      idlest = c.get();
  }
  if (idlest == nullptr ||
      std::chrono::steady_clock::now() - idlest->last_active < options_.min_idle_to_evict) {
    return false;
  }
  CloseDraining(*idlest, consumer);
  stats().connections_evicted.Add();
  std::erase_if(conns_, [](const auto& c) { return !c->fd.valid(); });
  return true;
}

void TcpSource::CloseIdle(RecordConsumer& consumer) {
  if (options_.idle_timeout.count() <= 0) return;
  auto now = std::chrono::steady_clock::now();
  for (auto& c : conns_) {
    // A handshake has its own, shorter deadline.
    if (!c->fd.valid() || c->handshaking || now - c->last_active < options_.idle_timeout) continue;
    CloseDraining(*c, consumer);
    stats().connections_idle_closed.Add();
  }
}

bool TcpSource::Handshake(Conn& c) {
  TlsIo r = c.tls->Handshake();
  switch (r) {
    case TlsIo::kDone:
      c.handshaking = false;
      c.want_write = false;
      stats().tls_handshakes.Add();
      return true;
    case TlsIo::kWantRead:
    case TlsIo::kWantWrite:
      // Retried when poll says the socket is ready, until the deadline.
      c.want_write = r == TlsIo::kWantWrite;
      if (std::chrono::steady_clock::now() >= c.deadline) {
        stats().tls_handshake_timeouts.Add();
        c.fd.Reset();
        return false;
      }
      return true;
    case TlsIo::kClosed:
    case TlsIo::kError:
      stats().tls_handshake_failures.Add();
      c.fd.Reset();
      return false;
  }
  return false;
}

TcpSource::ReadResult TcpSource::ReadSome(Conn& c, char* buf, size_t cap, size_t* n) {
  if (c.tls) {
    switch (c.tls->Read(buf, cap, n)) {
      case TlsIo::kDone:
        return ReadResult::kData;
      case TlsIo::kWantRead:
      case TlsIo::kWantWrite:
        return ReadResult::kNothing;
      case TlsIo::kClosed:
        return ReadResult::kEof;
      case TlsIo::kError:
        // With TLS 1.3 a client's certificate is checked after the client
        // considers the handshake done, so a rejected client ends up here.
        stats().tls_handshake_failures.Add();
        return ReadResult::kError;
    }
  }
  ssize_t r = ::read(c.fd.get(), buf, cap);
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return ReadResult::kData;
  }
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return ReadResult::kNothing;
  return r == 0 ? ReadResult::kEof : ReadResult::kError;
}

Result<bool> TcpSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  Accept(consumer);
  std::array<char, size_t{64} * 1024> buf{};
  size_t used = 0;
  bool more = false;
  size_t n_conns = conns_.size();
  // Handshakes first and regardless of the budget: they deliver nothing, and
  // a full pipeline must not make a peer miss its handshake deadline.
  for (auto& c : conns_) {
    if (!c->handshaking) continue;
    // A finished handshake is activity; a stalled one is not.
    if (Handshake(*c) && !c->handshaking) c->last_active = std::chrono::steady_clock::now();
  }
  for (size_t k = 0; k < n_conns; ++k) {
    Conn& c = *conns_[(next_ + k) % n_conns];
    if (!c.fd.valid() || c.handshaking) continue;
    if (used >= budget_bytes) {
      more = true;  // the rest wait in their kernel buffers
      break;
    }
    size_t n = 0;
    ReadResult r = ReadSome(c, buf.data(), std::min(buf.size(), budget_bytes - used), &n);
    if (r == ReadResult::kNothing) continue;
    if (r == ReadResult::kEof || r == ReadResult::kError) {
      Deliver(c, {}, true, consumer);
      c.fd.Reset();
      continue;
    }
    used += n;
    c.last_active = std::chrono::steady_clock::now();
    Deliver(c, std::string_view(buf.data(), n), false, consumer);
    // poll() cannot see what OpenSSL already decrypted: come back for it.
    if (n == buf.size() || (c.tls && c.tls->HasBuffered())) more = true;
  }
  if (n_conns > 0) next_ = (next_ + 1) % n_conns;
  CloseIdle(consumer);
  std::erase_if(conns_, [](const auto& c) { return !c->fd.valid(); });
  return more;
}

}  // namespace eventsift::source
