#pragma once
// MetricsServer: GET /healthz and GET /metrics (Prometheus text format 0.0.4)
// on one thread of its own. The handlers only read counters through the
// callbacks, so scraping never blocks the event loop.
//
// It is a liveness probe's target, so no client may hold it up: one poll()
// loop serves every connection without blocking, each client must send its
// request head within header_timeout (a client trickling a byte every few
// seconds is cut off there, not at each byte) and read the answer within
// write_timeout, a head larger than max_header_bytes is refused (431), and
// past max_connections the oldest connection is closed for the new one
// (every answer is one request, then Connection: close). Each cut is counted.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "src/core/status.h"
#include "src/source/unique_fd.h"

namespace eventsift::daemon {

struct MetricsServerOptions {
  // The whole request head (request line and headers) must arrive in this.
  std::chrono::milliseconds header_timeout{2000};
  // The answer must be taken by the client in this.
  std::chrono::milliseconds write_timeout{5000};
  // Open connections at most; a new one past it closes the oldest.
  size_t max_connections = 64;
  // Larger request heads get 431 and are closed.
  size_t max_header_bytes = 8192;
};

// Connections the server cut short, by reason (for /metrics).
struct MetricsServerCounters {
  std::atomic<uint64_t> header_timeouts{0};
  std::atomic<uint64_t> write_timeouts{0};
  std::atomic<uint64_t> evicted{0};  // oldest closed for a new one
  std::atomic<uint64_t> too_large{0};
};

class MetricsServer {
 public:
  using RenderFn = std::function<std::string()>;
  // Returns an empty string when healthy, else the reason (HTTP 503).
  using HealthFn = std::function<std::string()>;

  MetricsServer();
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;  // owns a listening thread
  MetricsServer& operator=(const MetricsServer&) = delete;

  // `address` is "host:port"; port 0 picks a free port (see port()).
  Status Start(const std::string& address, RenderFn render, HealthFn health,
               MetricsServerOptions options = {});
  void Stop();
  int port() const { return port_; }
  const MetricsServerCounters& counters() const { return counters_; }

 private:
  struct Conn;
  void Loop();
  void AcceptAll(std::vector<std::unique_ptr<Conn>>* conns);
  // Reads what is there; once the head is complete, the answer is queued.
  void ReadRequest(Conn& c);
  std::string Answer(const std::string& head);

  MetricsServerOptions options_;
  RenderFn render_;
  HealthFn health_;
  source::UniqueFd listener_;
  source::UniqueFd wake_;  // eventfd: Stop() ends the loop
  std::thread thread_;
  int port_ = 0;
  MetricsServerCounters counters_;
};

// Builds Prometheus text: each family's HELP/TYPE once, then its samples.
class PromText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, Labels labels, double value);
  void Sample(std::string_view name, Labels labels, uint64_t value);
  const std::string& text() const { return out_; }

 private:
  void Head(std::string_view name, Labels labels);
  std::string out_;
};

}  // namespace eventsift::daemon
