// The HTTP server module (http_server.h) on cpp-httplib: built as
// libeventsift-http.so and loaded with dlopen, so that processes without an
// http source never load cpp-httplib nor run its static constructor. It
// links cpp-httplib and OpenSSL only, none of eventsift's libraries.

#include <httplib.h>

#include <memory>
#include <string>
#include <utility>

#include "src/source/http_server.h"

namespace eventsift::source {
namespace {

class HttplibExchange final : public HttpExchange {
 public:
  HttplibExchange(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader)
      : req_(req), res_(res), reader_(reader) {}

  const std::string& remote_addr() const override { return req_.remote_addr; }
  std::string header(const char* name) const override { return req_.get_header_value(name); }
  bool ReadBody(const std::function<bool(const char* data, size_t n)>& piece) override {
    return reader_(piece);
  }
  int status() const override { return res_.status; }
  void Answer(int status, const std::string& body, const char* content_type) override {
    res_.status = status;
    res_.set_content(body, content_type);
  }
  void SetHeader(const char* name, const std::string& value) override {
    res_.set_header(name, value);
  }

 private:
  const httplib::Request& req_;
  httplib::Response& res_;
  const httplib::ContentReader& reader_;
};

class HttplibServer final : public HttpServer {
 public:
  HttplibServer(const HttpServerSettings& settings, HttpHandler handler)
      : handler_(std::move(handler)) {
    if (settings.tls_setup) {
      // Called by the constructor only (ssl_ctx_st is SSL_CTX).
      server_ = std::make_unique<httplib::SSLServer>(settings.tls_setup);
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    if (!server_->is_valid()) return;
    const size_t threads = settings.threads;
    // httplib's API: the server takes the raw pointer and deletes the pool.
    server_->new_task_queue = [threads] {
      return new httplib::ThreadPool(threads);  // NOLINT(cppcoreguidelines-owning-memory)
    };
    server_->set_payload_max_length(settings.max_body_bytes);
    server_->set_keep_alive_timeout(settings.keep_alive_seconds);
    server_->set_read_timeout(settings.read_timeout_seconds, 0);
    server_->set_write_timeout(settings.write_timeout_seconds, 0);
    server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
      HttplibExchange exchange(req, res, reader);
      handler_(exchange);
    });
  }

  bool valid() const override { return server_->is_valid(); }
  int Bind(const std::string& address, int port) override {
    if (port == 0) return server_->bind_to_any_port(address);
    return server_->bind_to_port(address, port) ? port : -1;
  }
  void ListenAfterBind() override { server_->listen_after_bind(); }
  void Stop() override { server_->stop(); }

 private:
  HttpHandler handler_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace
}  // namespace eventsift::source

// The module's entry point (http_server.h, kNewHttpServerSymbol). The caller
// owns the server it returns.
extern "C" [[gnu::visibility("default")]] eventsift::source::HttpServer* eventsift_new_http_server(
    const eventsift::source::HttpServerSettings& settings, eventsift::source::HttpHandler handler) {
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): ownership crosses dlsym; the loader wraps it.
  return new eventsift::source::HttplibServer(settings, std::move(handler));
}
