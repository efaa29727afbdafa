#pragma once
// The HTTP server under the http source, behind an interface of our own.
// Its implementation (cpp-httplib, http_server_httplib.cc) is built as a
// module, libeventsift-http.so, that NewHttpServer (http_server_loader.h)
// loads with dlopen the first time an http source starts. Linked into the
// binary, cpp-httplib's shared library ran its static constructor (OpenSSL's
// initialisation, reading openssl.cnf) and brought three brotli libraries
// into every eventsift process: 1.3 ms of each start-up, a tenth of `scan`
// of a 5 MiB file (docs/perf/http.md), for a source few configure.
//
// The module is built from this header and cpp-httplib alone (it links none
// of eventsift's libraries, so it cannot hold a second copy of their state);
// the two sides share the C++ types below, built by the same compiler in the
// same build.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

// OpenSSL's SSL_CTX, named without including OpenSSL here.
struct ssl_ctx_st;

namespace eventsift::source {

struct HttpServerSettings {
  // Set for TLS: configures the server's SSL_CTX; false refuses the setup.
  std::function<bool(ssl_ctx_st& ctx)> tls_setup;
  size_t threads = 8;                        // worker threads (requests in flight)
  size_t max_body_bytes = size_t{10} << 20;  // after decompression; more is 413
  time_t keep_alive_seconds = 5;
  time_t read_timeout_seconds = 10;
  time_t write_timeout_seconds = 10;
};

// One request and its answer, valid during the handler's call.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const std::string& remote_addr() const = 0;
  // The header's value, or empty.
  virtual std::string header(const char* name) const = 0;
  // Reads the (decompressed) body in pieces; false when it could not be read
  // or `piece` returned false. status() may then say why (413, 415).
  virtual bool ReadBody(const std::function<bool(const char* data, size_t n)>& piece) = 0;
  virtual int status() const = 0;
  virtual void Answer(int status, const std::string& body, const char* content_type) = 0;
  virtual void SetHeader(const char* name, const std::string& value) = 0;
};

using HttpHandler = std::function<void(HttpExchange& exchange)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // False when the server could not be set up (a TLS setup that failed).
  virtual bool valid() const = 0;
  // The port bound (port 0: any free one), or -1.
  virtual int Bind(const std::string& address, int port) = 0;
  // Serves on the bound port until Stop(); run on a thread of its own.
  virtual void ListenAfterBind() = 0;
  virtual void Stop() = 0;
};

// The module's entry point, found by this name with dlsym. The handler is
// called for every POST, on the server's worker threads.
using NewHttpServerFn = HttpServer* (*)(const HttpServerSettings& settings, HttpHandler handler);
inline constexpr const char* kNewHttpServerSymbol = "eventsift_new_http_server";
inline constexpr const char* kHttpModuleFile = "libeventsift-http.so";

}  // namespace eventsift::source
