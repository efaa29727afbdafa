#pragma once
// Source: where the daemon's raw input comes from (a watched directory,
// stdin, a TCP listener). Sources are nouns (Vector's component spec); they
// frame bytes into records (complete NDJSON lines, complete EVTX chunks) and
// hand them to a RecordConsumer. They never decode: the daemon's pipeline
// does, so sources can be tested with a fake consumer.
//
// Threading: a Source is driven by one thread (the daemon's loop). Poll()
// delivers records synchronously, so when the pipeline is slow the source is
// simply not read: the kernel's socket buffers and TCP flow control push back
// on senders, and nothing is buffered without bound here.

#include <poll.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/result.h"
#include "src/core/stats.h"
#include "src/source/file_checkpoint.h"

namespace eventsift::source {

// One complete NDJSON line (without "\n" / "\r\n").
struct LineRecord {
  std::string_view origin;  // file path, "stdin" or "tcp:<peer>"
  std::string_view line;
  uint64_t line_no = 0;  // 1-based line in this file/stream
  // Kafka: the partition the message came from (its correlation state is
  // kept apart); -1 for every other source.
  int32_t partition = -1;
};

// EVTX input: the 4 KiB file header followed by whole 64 KiB chunks, the
// first of which has index `first_chunk` in the file. Chunks may be read
// again when the file grows (the last chunk of a live log keeps filling), so
// the consumer must only deliver records with an id above `after_record_id`.
struct EvtxRecord {
  std::string_view origin;
  std::span<const uint8_t> bytes;
  uint32_t first_chunk = 0;
  uint64_t after_record_id = 0;
};

class RecordConsumer {
 public:
  virtual ~RecordConsumer() = default;
  virtual void OnLine(const LineRecord& record) = 0;
  // Returns the highest record id delivered, or record.after_record_id when
  // none was newer.
  virtual uint64_t OnEvtx(const EvtxRecord& record) = 0;
  // Input a source could not read (a corrupt or cut compressed file), with
  // the file and offset in the status; the source goes on with the rest.
  virtual void OnSourceError(const Status& status) {}
};

struct SourceStats {
  Counter bytes;          // bytes read from the input
  Counter lines;          // complete NDJSON lines delivered
  Counter evtx_chunks;    // EVTX chunks delivered (re-reads included)
  Counter events;         // events decoded from this source (counted by the pipeline)
  Counter parse_errors;   // lines/records the pipeline could not decode
  Counter lines_dropped;  // lines over max_line_bytes, skipped
  Counter files_opened;
  Counter open_errors;         // matching files that could not be opened (retried every rescan)
  Counter rotations;           // a tracked file renamed away or deleted, then closed
  Counter truncations;         // a tracked file shrank: read again from offset 0
  Counter compressed_files;    // drop files found to be gzip or zstd (by content)
  Counter decompress_errors;   // corrupt, cut or oversized compressed files
  Counter decompressed_bytes;  // bytes after decompression
  Counter frame_errors;        // syslog: bad length, oversize frame, garbage, bad header
  Counter connections_accepted;
  Counter connections_rejected;     // over max_connections, every peer busy
  Counter connections_evicted;      // idle peers closed to make room for a new one
  Counter connections_idle_closed;  // peers that sent nothing for idle_timeout
  Counter tls_handshakes;           // TLS sessions established
  Counter tls_handshake_failures;   // protocol errors: plain text, no/bad client cert
  Counter tls_handshake_timeouts;   // peers that did not finish within handshake_timeout
  Counter messages_acked;           // relp: messages journaled, so acknowledged
  Counter journal_full_waits;       // relp: a message waited for journal room (backpressure)
  Counter journal_write_errors;     // relp: journal writes that failed (retried)
};

class Source {
 public:
  explicit Source(std::string name) : name_(std::move(name)) {}
  virtual ~Source() = default;
  Source(const Source&) = delete;  // owns descriptors
  Source& operator=(const Source&) = delete;

  // The configured name (metrics label, checkpoint key).
  const std::string& name() const { return name_; }
  virtual std::string_view type() const = 0;

  // Opens descriptors (inotify watch, listening socket). Startup errors are
  // returned, not thrown.
  virtual Status Start() = 0;
  // Descriptors the loop should wait on for POLLIN. Sources that also need
  // periodic attention (rotation grace periods) are polled on every loop
  // tick anyway.
  virtual void AddPollFds(std::vector<pollfd>* fds) const = 0;
  // Reads what is ready, delivering records worth about `budget_bytes` at
  // most. Returns true when more input is already waiting (the loop should
  // come back without sleeping).
  virtual Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) = 0;
  // Stops accepting new input (listener closed); Poll may still drain.
  virtual void Stop() {}
  // True once the input has ended for good (stdin at EOF).
  virtual bool finished() const { return false; }
  // Everything delivered so far is now safe downstream (sinks flushed, state
  // written): sources with an external position (Kafka offsets) record it.
  virtual Status Commit() { return Status::OK(); }
  // When something delivered waits for Commit() and should not wait for the
  // regular checkpoint interval (an HTTP client waits for its answer): the
  // milliseconds until that checkpoint is due (0: now); -1 when nothing waits.
  virtual int64_t CommitDueInMs() const { return -1; }

  // Positions of everything delivered so far (files only; streams have none).
  virtual void SaveCheckpoints(std::vector<FileCheckpoint>* out) const {}
  // Called before Start(): files found again resume from these positions.
  virtual void RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) {}

  SourceStats& stats() { return stats_; }
  const SourceStats& stats() const { return stats_; }

 private:
  std::string name_;
  SourceStats stats_;
};

}  // namespace eventsift::source
