#pragma once
// StreamSink: alerts as NDJSON (one alert object per line) to stdout or a
// file, the embedded default that needs no broker.

#include <cstdio>
#include <memory>
#include <string>

#include "src/core/result.h"
#include "src/sink/alert_sink.h"

namespace eventsift {

class StreamSink : public AlertSink {
 public:
  // "-" is stdout. A file is created or truncated; with `append`, appended to.
  static Result<std::unique_ptr<StreamSink>> Open(const std::string& path, bool append = false);
  ~StreamSink() override;
  StreamSink(const StreamSink&) = delete;  // owns the FILE*
  StreamSink& operator=(const StreamSink&) = delete;

  std::string_view name() const override { return "stream"; }
  Status Send(const Alert& alert, std::string_view json) override;
  Status Flush(std::chrono::milliseconds timeout) override;

 private:
  StreamSink(std::FILE* f, bool owned, std::string path) : file_(f), owned_(owned), path_(std::move(path)) {}
  std::FILE* file_;  // stdout (not owned) or an fopen'ed file (owned)
  bool owned_;
  std::string path_;
};

}  // namespace eventsift
