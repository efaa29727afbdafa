#pragma once
// StreamSink: alerts as NDJSON (one alert object per line) to stdout or a
// file, the embedded default that needs no broker.

#include <cstdio>
#include <memory>
#include <string>

#include "src/core/file_util.h"
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
  StreamSink(std::FILE* out, UniqueFile owned, std::string path)
      : owned_(std::move(owned)), file_(out), path_(std::move(path)) {}
  UniqueFile owned_;  // the opened file; null for stdout
  std::FILE* file_;   // stdout or owned_.get()
  std::string path_;
  // Set by the first failed write or flush, for good: bytes of some alert
  // may be gone, so Flush keeps failing and no checkpoint can claim them
  // (the daemon re-reads and re-sends after a restart).
  Status failed_;
};

}  // namespace eventsift
