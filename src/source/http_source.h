#pragma once
// HttpSource: batches of events POSTed by collectors' HTTP outputs
// (syslog-ng http(), rsyslog omhttp, Fluent Bit, Vector, Logstash): NDJSON
// or a JSON array (json_batch.h), `Content-Encoding: gzip` or deflate too,
// over plain HTTP or TLS (the TCP source's TLS settings), optionally behind a
// bearer token (401 without it).
//
// The answer is the acknowledgement: 200 only once the batch is durable.
// The server's worker threads (cpp-httplib, in a module loaded when the
// source starts: http_server.h) read and decompress a body and queue it; the
// daemon's loop delivers it in Poll like any other source's records, and the
// batch is answered when the next checkpoint that covers it (sinks flushed or
// spooled, state with the correlation journal written) calls Commit(). So a
// 200 means what a committed Kafka offset means: a SIGKILL after it loses
// nothing. CommitDueInMs() asks the loop for that checkpoint as soon as no
// other batch is queued (group commit: batches that arrive while one
// checkpoint is written share the next), or after commit_delay while more
// keep arriving.
// Anything else (503 when a batch is not durable within ack_timeout, or the
// daemon is stopping) means "send it again": events it carried may have
// been processed already, so delivery is at least once.
//
// Bounds: at most max_pending requests hold a body (reading, queued or
// waiting for their checkpoint); one more is answered `backpressure_status`
// (503 or 429) with Retry-After before its body is read. A body is at most
// max_body_bytes after decompression (413, so a gzip bomb stops at the
// bound), a record at most max_line_bytes (refused, named in the answer and
// the log, the rest of the batch goes on). Memory held for bodies is at most
// max_pending * max_body_bytes. Per-client counters (by peer address, at
// most max_clients of them, the rest counted as "other") feed /metrics.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "src/source/http_server.h"
#include "src/source/source.h"
#include "src/source/tls_server.h"
#include "src/source/unique_fd.h"

namespace eventsift::source {

struct HttpSourceOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port (tests)
  std::optional<TlsServerOptions> tls;
  // A file holding the bearer token (surrounding whitespace ignored); empty:
  // no authentication.
  std::string auth_token_file;
  size_t max_body_bytes = size_t{10} << 20;  // after decompression
  size_t max_line_bytes = 1 << 20;
  size_t max_pending = 16;
  // A batch not durable by then is answered 503 (the client sends it again).
  std::chrono::milliseconds ack_timeout{30000};
  // How long a delivered batch may wait for its checkpoint while more
  // batches keep arriving (with none queued it is checkpointed at once).
  std::chrono::milliseconds commit_delay{100};
  int retry_after_seconds = 1;
  int backpressure_status = 503;  // or 429
  // A connection with no request for this long is closed (keep-alive).
  std::chrono::milliseconds idle_timeout{5000};
  size_t max_clients = 1000;
  // Where refused records and client errors are reported (the daemon's log).
  std::function<void(const std::string& client, const std::string& what)> on_error;
};

// Counters of one client (peer address), for /metrics.
struct HttpClientCounters {
  std::atomic<uint64_t> requests{0};  // requests received, whatever the answer
  std::atomic<uint64_t> events{0};    // events decoded from its batches
  std::atomic<uint64_t> bytes{0};     // body bytes after decompression
  std::atomic<uint64_t> refused{0};   // records refused (too long, not decodable)
};

class HttpSource : public Source {
 public:
  HttpSource(std::string name, HttpSourceOptions options);
  ~HttpSource() override;

  std::string_view type() const override { return "http"; }
  // Reads the token file and checks the TLS files, then listens.
  Status Start() override;
  void AddPollFds(std::vector<pollfd>* fds) const override;
  Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) override;
  // Stops listening and answers queued batches 503; batches already
  // delivered are answered by the Commit of the final checkpoint.
  void Stop() override;
  // Everything delivered is durable: answer those batches 200.
  Status Commit() override;
  int64_t CommitDueInMs() const override;

  uint16_t port() const { return bound_port_; }
  // Answers by status code, and the clients' counters (a copy of the list;
  // the counters stay valid as long as the source).
  std::map<int, uint64_t> Responses() const;
  std::vector<std::pair<std::string, const HttpClientCounters*>> Clients() const;

 private:
  struct Batch;
  void Handle(HttpExchange& exchange);
  HttpClientCounters* ClientFor(const std::string& address);
  void Answered(int status);
  void Deliver(Batch& b, RecordConsumer& consumer);
  void StopServer();

  HttpSourceOptions options_;
  std::string token_;
  std::unique_ptr<HttpServer> server_;  // from the module (http_server.h)
  std::thread listen_thread_;
  UniqueFd wake_;  // eventfd: a batch was queued
  uint16_t bound_port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable answered_cv_;
  size_t pending_ = 0;  // requests holding a slot
  bool stopping_ = false;
  std::deque<std::shared_ptr<Batch>> queued_;     // read, not yet delivered
  std::deque<std::shared_ptr<Batch>> delivered_;  // delivered, waiting for Commit
  uint64_t next_request_ = 0;
  std::map<std::string, std::unique_ptr<HttpClientCounters>> clients_;
  std::map<int, uint64_t> responses_;
};

}  // namespace eventsift::source
