#pragma once
// TcpSource: NDJSON over TCP (one event per line), e.g. from NXLog's om_tcp
// or Logstash's tcp output, optionally inside TLS. Bounded: at most
// max_connections peers, and at most max_line_bytes buffered per peer (longer
// lines are dropped, counted).
// Idle peers cannot hold the slots: a peer that sends nothing for
// idle_timeout is closed (counted), and when every slot is taken a new peer
// takes the slot of the longest-idle one if that one has been idle for at
// least min_idle_to_evict (counted as evicted); only when every peer is
// busier than that is the new one closed at once (counted as rejected).
// Closing a peer, for whatever reason, first reads what its socket already
// holds and delivers it, a last partial line included: what a peer sent
// before the close is never dropped here. Backpressure: a socket is read only when the pipeline
// asks for more (Poll's budget), so a slow pipeline fills the kernel buffers and TCP flow control
// slows senders down; nothing is queued here without bound. TLS (OpenSSL, TlsServer): handshakes
// are non-blocking and bounded by handshake_timeout, so a peer that connects and stalls, or speaks
// plain text to the TLS port, holds one connection slot for at most that long and never blocks the
// loop; a connection counts against max_connections from accept on, handshake included. No
// checkpoint: a peer must resend after a crash.
// With framing kSyslog the same listener takes syslog over TCP (RFC 6587
// octet counting or LF framing, RFC 5424 or 3164 messages, SyslogFramer):
// each message's MSG (a Windows event as JSON or XML) is one record, and
// framing errors are reported naming the peer and stream offset.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/source/line_framer.h"
#include "src/source/source.h"
#include "src/source/syslog_framer.h"
#include "src/source/tls_server.h"
#include "src/source/unique_fd.h"

namespace eventsift::source {

enum class TcpFraming : uint8_t { kLines, kSyslog };

struct TcpSourceOptions {
  TcpFraming framing = TcpFraming::kLines;
  std::string address = "127.0.0.1";  // IPv4 address to bind
  uint16_t port = 0;                  // 0: an ephemeral port (tests)
  size_t max_connections = 64;
  size_t max_line_bytes = 1 << 20;
  std::optional<TlsServerOptions> tls;  // unset: plain TCP
  // A TLS peer not done with its handshake by then is closed (counted).
  std::chrono::milliseconds handshake_timeout{10000};
  // A peer that sends nothing for this long is closed (counted); 0: never.
  std::chrono::milliseconds idle_timeout{300000};
  // With every slot taken, a new peer evicts the longest-idle one only if it
  // has been idle this long, so a flood of connections cannot push out
  // senders that are busy.
  std::chrono::milliseconds min_idle_to_evict{1000};
};

class TcpSource : public Source {
 public:
  TcpSource(std::string name, TcpSourceOptions options);
  ~TcpSource() override;

  std::string_view type() const override {
    return options_.framing == TcpFraming::kSyslog ? "syslog" : "tcp";
  }
  // Loads and checks the TLS files first: a bad certificate or key fails here.
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
    // Declared after `fd`, so it is freed before the socket closes.
    std::unique_ptr<TlsSession> tls;
    bool handshaking = false;                        // TLS: not yet established
    bool want_write = false;                         // the TLS handshake waits for POLLOUT
    std::chrono::steady_clock::time_point deadline;  // of the handshake
    // Accept, or the last byte read or handshake step.
    std::chrono::steady_clock::time_point last_active;
    std::string peer;
    LineFramer framer;
    std::unique_ptr<SyslogFramer> syslog;  // framing kSyslog
  };
  void Accept(RecordConsumer& consumer);
  // Frames `bytes` into lines for the consumer, counting them; `finish`
  // also delivers a last line without a newline.
  void Deliver(Conn& c, std::string_view bytes, bool finish, RecordConsumer& consumer);
  void DeliverSyslog(Conn& c, std::string_view bytes, bool finish, RecordConsumer& consumer);
  // Reads what the peer's socket already holds (up to 1 MiB), delivers it
  // with the last partial line, and closes the connection.
  void CloseDraining(Conn& c, RecordConsumer& consumer);
  // Makes room for one more peer; false when every peer is too busy to go.
  bool EvictIdlest(RecordConsumer& consumer);
  void CloseIdle(RecordConsumer& consumer);
  // Advances a TLS handshake; false when the peer was dropped.
  bool Handshake(Conn& c);
  enum class ReadResult : uint8_t { kData, kNothing, kEof, kError };
  ReadResult ReadSome(Conn& c, char* buf, size_t cap, size_t* n);

  TcpSourceOptions options_;
  std::unique_ptr<TlsServer> tls_;
  UniqueFd listener_;
  uint16_t bound_port_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t next_ = 0;  // round-robin start, so one busy peer cannot starve others
};

}  // namespace eventsift::source
