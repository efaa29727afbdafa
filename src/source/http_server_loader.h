#pragma once
// Finds and loads the HTTP server module (http_server.h) for the http source.

#include <memory>
#include <string>
#include <vector>

#include "src/core/result.h"
#include "src/source/http_server.h"

namespace eventsift::source {

// Where the module is looked for, in order: $EVENTSIFT_HTTP_MODULE if set;
// ../lib/eventsift/ from the running binary's directory: the installed
// layout (bin/, lib/eventsift/), and the build tree's, where bin/, tests/,
// bench/ and lib/eventsift/ are siblings.
std::vector<std::string> HttpModuleCandidates();

// Loads the module (once per process; it stays loaded, as its threads and
// objects may live until exit) and makes a server. Errors name the paths
// tried and the loader's reason.
Result<std::unique_ptr<HttpServer>> NewHttpServer(const HttpServerSettings& settings,
                                                  HttpHandler handler);

}  // namespace eventsift::source
