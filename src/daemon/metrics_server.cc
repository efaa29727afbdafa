#include "src/daemon/metrics_server.h"

#include <httplib.h>

#include <fmt/format.h>

namespace eventsift::daemon {

MetricsServer::MetricsServer() = default;
MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& address, RenderFn render, HealthFn health) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    return Status::InvalidArgument("metrics address: expected host:port");
  std::string host = address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    return Status::InvalidArgument("metrics address: bad port").At(address);
  }
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics",
               [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                 res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
               });
  server_->Get("/healthz",
               [health = std::move(health)](const httplib::Request&, httplib::Response& res) {
                 std::string why = health();
                 res.status = why.empty() ? 200 : 503;
                 res.set_content(why.empty() ? "ok\n" : why + "\n", "text/plain");
               });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) return Status::IOError("cannot bind metrics endpoint").At(address);
  } else {
    if (!server_->bind_to_port(host, port))
      return Status::IOError("cannot bind metrics endpoint").At(address);
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::OK();
}

void MetricsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
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
