#pragma once
// StreamSource: NDJSON from an inherited descriptor, standard input by
// default, for pipelines (`winlogbeat ... | eventsift daemon`). A stream has
// no position to resume from, so it writes no checkpoint: after a crash what
// was in flight is lost (docs/operations.md). finished() turns true at EOF.

#include "src/source/line_framer.h"
#include "src/source/source.h"

namespace eventsift::source {

struct StreamSourceOptions {
  int fd = 0;  // not owned: stdin, or a pipe in tests
  std::string origin = "stdin";
  size_t max_line_bytes = 1 << 20;
};

class StreamSource : public Source {
 public:
  StreamSource(std::string name, StreamSourceOptions options);

  std::string_view type() const override { return "stdin"; }
  Status Start() override;
  void AddPollFds(std::vector<pollfd>* fds) const override;
  Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) override;
  bool finished() const override { return eof_; }

 private:
  StreamSourceOptions options_;
  LineFramer framer_;
  bool eof_ = false;
};

}  // namespace eventsift::source
