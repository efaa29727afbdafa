#pragma once
// MetricsServer: GET /healthz and GET /metrics (Prometheus text format 0.0.4)
// on cpp-httplib, in its own threads. The handlers only read atomic counters
// through the callbacks, so scraping never blocks the event loop.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "src/core/status.h"

namespace httplib {
class Server;
}

namespace eventsift::daemon {

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
  Status Start(const std::string& address, RenderFn render, HealthFn health);
  void Stop();
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
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
