#include "src/daemon/metrics_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "src/daemon/listen_address.h"

namespace eventsift::daemon {

namespace {

using Clock = std::chrono::steady_clock;

// Longest wait of the loop when no deadline is nearer.
constexpr int kMaxWaitMs = 1000;

std::string Response(int status, std::string_view reason, std::string_view type,
                     std::string_view body, bool head_only) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
      status, reason, type, body.size());
  if (!head_only) out.append(body);
  return out;
}

}  // namespace

struct MetricsServer::Conn {
  source::UniqueFd fd;
  Clock::time_point accepted;
  Clock::time_point deadline;  // of the head while reading, of the answer after
  std::string in;              // request head so far
  std::string out;             // answer, once the head is complete
  size_t sent = 0;
  bool answering = false;
};

MetricsServer::MetricsServer() = default;
MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& address, RenderFn render, HealthFn health,
                            MetricsServerOptions options) {
  auto parsed = ParseListenAddress(address);
  if (!parsed.has_value())
    return Status::InvalidArgument(fmt::format("metrics address: {}", parsed.error().message()))
        .At(address);
  options_ = options;
  render_ = std::move(render);
  health_ = std::move(health);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(parsed.value().port);
  if (int rc = ::getaddrinfo(parsed.value().host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return Status::InvalidArgument(fmt::format("metrics address: {}", ::gai_strerror(rc)))
        .At(address);
  }
  std::string why = "no address";
  for (addrinfo* ai = found; ai != nullptr && !listener_.valid(); ai = ai->ai_next) {
    source::UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) continue;
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 128) != 0) {
      why = std::strerror(errno);
      continue;
    }
    listener_ = std::move(fd);
  }
  ::freeaddrinfo(found);
  if (!listener_.valid())
    return Status::IOError(fmt::format("cannot bind metrics endpoint: {}", why)).At(address);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  wake_ = source::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_.valid()) return Status::IOError(fmt::format("eventfd: {}", std::strerror(errno)));
  thread_ = std::thread([this] { Loop(); });
  return Status::OK();
}

void MetricsServer::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof(one));
    thread_.join();
  }
  listener_.Reset();
  wake_.Reset();
}

void MetricsServer::AcceptAll(std::vector<std::unique_ptr<Conn>>* conns) {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE): next turn
    if (conns->size() >= options_.max_connections) {
      // The oldest still sending its request has had the longest to do so;
      // a probe that just connected must get through. One being answered
      // goes only if all are.
      auto victim =
          std::find_if(conns->begin(), conns->end(), [](const auto& c) { return !c->answering; });
      conns->erase(victim != conns->end() ? victim : conns->begin());
      counters_.evicted.fetch_add(1, std::memory_order_relaxed);
    }
    auto c = std::make_unique<Conn>();
    c->fd = source::UniqueFd(fd);
    c->accepted = Clock::now();
    c->deadline = c->accepted + options_.header_timeout;
    conns->push_back(std::move(c));
  }
}

std::string MetricsServer::Answer(const std::string& head) {
  // Request line: METHOD SP target SP version.
  size_t sp1 = head.find(' ');
  size_t sp2 = sp1 == std::string::npos ? std::string::npos : head.find(' ', sp1 + 1);
  if (sp2 == std::string::npos)
    return Response(400, "Bad Request", "text/plain", "bad request\n", false);
  std::string_view method(head.data(), sp1);
  std::string_view target(head.data() + sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  bool head_only = method == "HEAD";
  if (method != "GET" && !head_only)
    return Response(405, "Method Not Allowed", "text/plain", "GET or HEAD only\n", false);
  if (target == "/metrics") {
    return Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render_(), head_only);
  }
  if (target == "/healthz") {
    std::string why = health_();
    if (why.empty()) return Response(200, "OK", "text/plain", "ok\n", head_only);
    return Response(503, "Service Unavailable", "text/plain", why + "\n", head_only);
  }
  return Response(404, "Not Found", "text/plain", "not found\n", head_only);
}

void MetricsServer::ReadRequest(Conn& c) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      c.fd.Reset();  // gone before asking
      return;
    }
    if (n < 0) return;
    c.in.append(buf, static_cast<size_t>(n));
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) end = c.in.find("\n\n");
    if ((end == std::string::npos ? c.in.size() : end) > options_.max_header_bytes) {
      counters_.too_large.fetch_add(1, std::memory_order_relaxed);
      c.out = Response(431, "Request Header Fields Too Large", "text/plain", "too large\n", false);
    } else if (end != std::string::npos) {
      c.out = Answer(c.in.substr(0, end));
    } else {
      continue;
    }
    c.answering = true;
    c.in.clear();
    c.deadline = Clock::now() + options_.write_timeout;
    return;
  }
}

void MetricsServer::Loop() {
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<pollfd> fds;
  for (;;) {
    auto now = Clock::now();
    int wait_ms = kMaxWaitMs;
    fds.clear();
    fds.push_back(pollfd{wake_.get(), POLLIN, 0});
    fds.push_back(pollfd{listener_.get(), POLLIN, 0});
    for (const auto& c : conns) {
      fds.push_back(pollfd{c->fd.get(), static_cast<short>(c->answering ? POLLOUT : POLLIN), 0});
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline - now);
      wait_ms = std::clamp(static_cast<int>(left.count()) + 1, 0, wait_ms);
    }
    ::poll(fds.data(), fds.size(), wait_ms);
    if (fds[0].revents != 0) return;
    // Served before accepting, so an evicted slot is never one with a
    // complete request waiting.
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = *conns[i];
      short ready = fds[i + 2].revents;
      if (ready == 0) continue;
      if (!c.answering) ReadRequest(c);
      if (c.fd.valid() && c.answering) {
        while (c.sent < c.out.size()) {
          ssize_t n =
              ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
          if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
            c.fd.Reset();
            break;
          }
          c.sent += static_cast<size_t>(n);
        }
        if (c.fd.valid() && c.sent == c.out.size()) c.fd.Reset();  // Connection: close
      }
    }
    now = Clock::now();
    for (auto& c : conns) {
      if (!c->fd.valid() || now < c->deadline) continue;
      (c->answering ? counters_.write_timeouts : counters_.header_timeouts)
          .fetch_add(1, std::memory_order_relaxed);
      c->fd.Reset();
    }
    std::erase_if(conns, [](const auto& c) { return !c->fd.valid(); });
    if (fds[1].revents != 0) AcceptAll(&conns);
  }
}

void PromText::Family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PromText::Head(std::string_view name, Labels labels) {
  out_.append(name);
  if (labels.size() == 0) {
    out_.push_back(' ');
    return;
  }
  out_.push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(k);
    out_.append("=\"");
    for (char c : v) {
      if (c == '\\' || c == '"') out_.push_back('\\');
      if (c == '\n') {
        out_.append("\\n");
        continue;
      }
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  out_.append("} ");
}

void PromText::Sample(std::string_view name, Labels labels, double value) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void PromText::Sample(std::string_view name, Labels labels, uint64_t value) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

}  // namespace eventsift::daemon
