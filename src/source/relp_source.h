#pragma once
// RelpSource: syslog over RELP (rsyslog's omrelp, librelp's server), the
// syslog input that loses nothing. RELP's sender keeps every message until
// the receiver answers `rsp 200`; librelp answers when the receive callback
// returns, so the callback first appends the message to a RelpJournal on
// disk. `rsp 200` therefore means "written": a SIGKILL after it loses
// nothing, and a SIGKILL before it leaves the message with the sender, who
// sends it again after reconnecting (a duplicate at most).
//
// The daemon's loop reads the journal like a file (Poll), takes the MSG out
// of each message as the syslog source does (ParseSyslogMessage: RFC 5424
// or 3164 header, a Windows event as JSON or XML), and checkpoints its
// position; journal files wholly before a written checkpoint are deleted
// (Commit). Backpressure: a full journal holds the callback, so no more
// `rsp 200` goes out and the senders stop on their RELP window.
//
// librelp runs its own event loop on a thread owned here; the callback is
// the only code on that thread. A message over max_line_bytes is
// acknowledged and dropped (counted, reported naming the peer): refusing it
// would make the sender retry it forever.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "src/source/relp_journal.h"
#include "src/source/source.h"
#include "src/source/tls_server.h"
#include "src/source/unique_fd.h"

namespace eventsift::source {

struct RelpSourceOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  size_t max_line_bytes = 1 << 20;  // largest message kept
  std::string journal_dir;
  uint64_t journal_max_bytes = uint64_t{1} << 30;
  // TLS through librelp's OpenSSL driver: the server's certificate and key,
  // and with client_ca_file the client must present a certificate it signed.
  std::optional<TlsServerOptions> tls;
};

class RelpSource : public Source {
 public:
  RelpSource(std::string name, RelpSourceOptions options);
  ~RelpSource() override;

  std::string_view type() const override { return "relp"; }
  // Opens the journal, binds the listener and starts librelp's thread.
  Status Start() override;
  void AddPollFds(std::vector<pollfd>* fds) const override;
  Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) override;
  // Stops librelp (sessions are closed; senders keep what was not
  // acknowledged); the journal stays for the next start.
  void Stop() override;
  Status Commit() override;
  // 0 while the journal is full and a checkpoint would let whole files it
  // has read be deleted; -1 otherwise.
  int64_t CommitDueInMs() const override;
  void SaveCheckpoints(std::vector<FileCheckpoint>* out) const override;
  void RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) override;

  uint64_t journal_bytes() const { return journal_ ? journal_->bytes() : 0; }

  // Called by librelp's thread (C callbacks).
  void OnMessage(std::string_view host, std::string_view ip, std::string_view msg);
  void OnRelpError(std::string what);

 private:
  struct Engine;
  void QueueError(Status status);
  // Opens journal file `seq` for reading; false when it is not there.
  bool OpenForRead(uint64_t seq);
  // Moves on to the next journal file after the one being read.
  void NextFile();

  RelpSourceOptions options_;
  std::unique_ptr<RelpJournal> journal_;
  std::unique_ptr<Engine> engine_;
  std::thread thread_;
  int shutdown_flag_ = 0;  // librelp reads it through a pointer
  std::atomic<bool> running_{false};

  // Errors seen on librelp's thread, reported by Poll (bounded).
  std::mutex errors_mu_;
  std::deque<Status> errors_;
  uint64_t errors_dropped_ = 0;

  // Reader (loop thread).
  std::optional<JournalPos> restored_;
  JournalPos read_;  // the next record to take
  UniqueFd read_fd_;
  std::string pending_;     // bytes of the file at read_.offset not yet taken
  bool skip_file_ = false;  // a bad record: the rest of this file is left
  // The position last checkpointed (SaveCheckpoints is const: it only
  // records what Commit may release).
  mutable JournalPos saved_;
  mutable bool saved_valid_ = false;
};

}  // namespace eventsift::source
