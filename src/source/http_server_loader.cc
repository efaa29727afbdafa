#include "src/source/http_server_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "src/core/installed_path.h"

namespace eventsift::source {

namespace {

struct Loaded {
  NewHttpServerFn make = nullptr;
  Status status;
};

Loaded LoadOnce() {
  Loaded loaded;
  std::string tried;
  for (const std::string& path : HttpModuleCandidates()) {
    // RTLD_NOW: a missing symbol fails here, with its name, not on a worker
    // thread. RTLD_LOCAL: its cpp-httplib stays its own.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += fmt::format("{}{} ({})", tried.empty() ? "" : "; ", path,
                           why != nullptr ? why : "unknown reason");
      continue;
    }
    loaded.make = reinterpret_cast<NewHttpServerFn>(::dlsym(handle, kNewHttpServerSymbol));
    if (loaded.make == nullptr) {
      loaded.status = Status::IOError(
          fmt::format("{} has no {}: not eventsift's HTTP module", path, kNewHttpServerSymbol));
    }
    return loaded;  // the handle stays open for the life of the process
  }
  loaded.status = Status::IOError(
      fmt::format("cannot load the HTTP server module for the http source: {}; install it "
                  "beside the binary (lib/eventsift/{}) or set EVENTSIFT_HTTP_MODULE",
                  tried, kHttpModuleFile));
  return loaded;
}

}  // namespace

std::vector<std::string> HttpModuleCandidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("EVENTSIFT_HTTP_MODULE"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
  }
  if (const auto installed =
          InstalledPath(std::filesystem::path("lib") / "eventsift" / kHttpModuleFile)) {
    out.push_back(installed->string());
  }
  return out;
}

Result<std::unique_ptr<HttpServer>> NewHttpServer(const HttpServerSettings& settings,
                                                  HttpHandler handler) {
  static const Loaded loaded = LoadOnce();  // thread-safe once
  if (!loaded.status.ok()) return loaded.status;
  return std::unique_ptr<HttpServer>(loaded.make(settings, std::move(handler)));
}

}  // namespace eventsift::source
