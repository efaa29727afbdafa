// The HTTP server module (src/source/http_server.h), loaded with dlopen from
// beside the binary: found where the build and the install put it, and a
// POST goes through it to our handler and back.

#include "src/source/http_server_loader.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <string>
#include <thread>

namespace eventsift::source {
namespace {

// The build writes the module to lib/eventsift/ beside tests/ (this binary's
// directory) as the install does beside bin/; $EVENTSIFT_HTTP_MODULE comes
// first when set.
TEST(HttpServerLoaderTest, ModuleLooksBesideTheBinaryAfterTheEnvironment) {
  ::unsetenv("EVENTSIFT_HTTP_MODULE");
  const std::vector<std::string> plain = HttpModuleCandidates();
  ASSERT_EQ(plain.size(), 1u);
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
  EXPECT_EQ(plain[0],
            (exe.parent_path().parent_path() / "lib" / "eventsift" / kHttpModuleFile).string());
  EXPECT_TRUE(std::filesystem::is_regular_file(plain[0])) << plain[0];

  ::setenv("EVENTSIFT_HTTP_MODULE", "/nonexistent/module.so", 1);
  const std::vector<std::string> with_env = HttpModuleCandidates();
  ::unsetenv("EVENTSIFT_HTTP_MODULE");
  ASSERT_EQ(with_env.size(), 2u);
  EXPECT_EQ(with_env[0], "/nonexistent/module.so");
  EXPECT_EQ(with_env[1], plain[0]);
}

struct Served {
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  int port = -1;
  ~Served() {
    if (server) server->Stop();
    if (thread.joinable()) thread.join();
  }
};

void Serve(const HttpServerSettings& settings, HttpHandler handler, Served* out) {
  auto made = NewHttpServer(settings, std::move(handler));
  ASSERT_TRUE(made) << made.error().ToString();
  out->server = std::move(made).value();
  ASSERT_TRUE(out->server->valid());
  out->port = out->server->Bind("127.0.0.1", 0);
  ASSERT_GT(out->port, 0);
  out->thread = std::thread([s = out->server.get()] { s->ListenAfterBind(); });
}

// A POST reaches the handler with its peer, headers and body (read in
// pieces), and the handler's status, body and headers reach the client.
TEST(HttpServerLoaderTest, PostGoesThroughTheModuleToTheHandlerAndBack) {
  Served served;
  HttpServerSettings settings;
  settings.threads = 2;
  ASSERT_NO_FATAL_FAILURE(Serve(
      settings,
      [](HttpExchange& exchange) {
        std::string body;
        const bool read = exchange.ReadBody([&body](const char* data, size_t n) {
          body.append(data, n);
          return true;
        });
        exchange.Answer(read ? 201 : 500,
                        exchange.remote_addr() + "|" + exchange.header("X-Probe") + "|" + body,
                        "text/plain");
        exchange.SetHeader("Retry-After", "7");
      },
      &served));
  httplib::Client client("127.0.0.1", served.port);
  auto r = client.Post("/ingest", httplib::Headers{{"X-Probe", "p1"}}, std::string(5000, 'x'),
                       "application/x-ndjson");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "127.0.0.1|p1|" + std::string(5000, 'x'));
  EXPECT_EQ(r->get_header_value("Retry-After"), "7");
  // Loaded once, and mapped now.
  void* handle = ::dlopen(HttpModuleCandidates().back().c_str(), RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(handle, nullptr);
  if (handle != nullptr) ::dlclose(handle);
}

// A body over max_body_bytes is not read: ReadBody fails and status() says
// 413, which the http source turns into its answer.
TEST(HttpServerLoaderTest, BodyOverTheLimitFailsTheReadWith413) {
  Served served;
  HttpServerSettings settings;
  settings.threads = 2;
  settings.max_body_bytes = 100;
  ASSERT_NO_FATAL_FAILURE(Serve(
      settings,
      [](HttpExchange& exchange) {
        const bool read = exchange.ReadBody([](const char*, size_t) { return true; });
        exchange.Answer(read ? 200 : (exchange.status() == 413 ? 413 : 400), "", "text/plain");
      },
      &served));
  httplib::Client client("127.0.0.1", served.port);
  auto r = client.Post("/ingest", std::string(1000, 'y'), "application/x-ndjson");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413);
}

}  // namespace
}  // namespace eventsift::source
