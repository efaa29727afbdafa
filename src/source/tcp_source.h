#pragma once
// TcpSource: NDJSON over plain TCP (one event per line), e.g. from NXLog's
// om_tcp or Winlogbeat's logstash-less setups. Bounded: at most
// max_connections peers (more are accepted and closed at once, counted), and
// at most max_line_bytes buffered per peer (longer lines are dropped,
// counted). Backpressure: a socket is read only when the pipeline asks for
// more (Poll's budget), so a slow pipeline fills the kernel buffers and TCP
// flow control slows senders down; nothing is queued here without bound.
// Plain text only: TLS is future work (docs/operations.md: terminate TLS in
// a local proxy meanwhile). No checkpoint: a peer must resend after a crash.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/source/line_framer.h"
#include "src/source/source.h"
#include "src/source/unique_fd.h"

namespace eventsift::source {

struct TcpSourceOptions {
  std::string address = "127.0.0.1";  // IPv4 address to bind
  uint16_t port = 0;                  // 0: an ephemeral port (tests)
  size_t max_connections = 64;
  size_t max_line_bytes = 1 << 20;
};

class TcpSource : public Source {
 public:
  TcpSource(std::string name, TcpSourceOptions options);
  ~TcpSource() override;

  std::string_view type() const override { return "tcp"; }
  Status Start() override;
  void AddPollFds(std::vector<pollfd>* fds) const override;
  Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) override;
  void Stop() override;

  uint16_t port() const { return bound_port_; }
  size_t connections() const { return conns_.size(); }

 private:
  struct Conn {
    explicit Conn(size_t max_line) : framer(max_line) {}
    UniqueFd fd;
    std::string peer;
    LineFramer framer;
  };
  void Accept();

  TcpSourceOptions options_;
  UniqueFd listener_;
  uint16_t bound_port_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t next_ = 0;  // round-robin start, so one busy peer cannot starve others
};

}  // namespace eventsift::source
