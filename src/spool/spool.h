#pragma once
// Spool: a durable, append-only, on-disk queue of alerts that are not yet
// acknowledged by their destination (Kafka). See docs/kafka.md for the
// format and the at-least-once bound.
//
// Layout of a spool directory:
//   LOCK                      flock()ed by the one process using the spool
//   seg-<first seq>.log       append-only segments of framed records
//   cursor                    highest sequence acknowledged in order, written
//                             atomically (temp + fsync + rename)
//
// Record framing (little-endian), leveldb log style:
//   u32 body length | u32 crc32(body) | body
//   body = u64 seq | u16 key length | key | u16 rule length | rule | payload
// A torn or corrupt tail (a crash mid-append) is detected by length and CRC
// at Open and truncated away.
//
// Thread-safe: every public member takes the spool's mutex.

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/result.h"
#include "src/core/status.h"

namespace eventsift {

struct SpoolOptions {
  std::string dir;  // created if missing
  // Cap on the bytes of live segments; Append fails with kResourceExhausted
  // beyond it rather than growing without bound.
  uint64_t max_bytes = 1ULL << 30;
  // A new segment starts once the active one is this large, so acknowledged
  // data can be deleted a segment at a time.
  uint64_t segment_bytes = 16ULL << 20;
  // Inspect only (eventsift spool status): no lock is taken, so it works
  // while another process uses the spool, and nothing is written, truncated
  // or deleted. Append, Ack and Drop then fail.
  bool read_only = false;
};

struct SpoolRecord {
  uint64_t seq = 0;     // assigned by Append; increasing, never reused
  std::string key;      // Kafka message key (normalized host)
  std::string rule_id;  // for the Kafka header
  std::string payload;  // the alert JSON
};

struct SpoolStatus {
  uint64_t pending_records = 0;  // appended and not acknowledged
  uint64_t pending_bytes = 0;    // bytes of live segments (framing included)
  uint64_t segments = 0;
  uint64_t acked_seq = 0;  // cursor: everything <= this is acknowledged
  uint64_t next_seq = 1;
  uint64_t truncated_bytes = 0;  // torn or corrupt tail dropped at Open
  uint64_t max_bytes = 0;
};

class Spool {
 public:
  static Result<std::unique_ptr<Spool>> Open(const SpoolOptions& options);
  ~Spool();
  Spool(const Spool&) = delete;  // owns file descriptors and the lock
  Spool& operator=(const Spool&) = delete;

  // Appends a record (its seq is assigned and stored in *record). The bytes
  // reach the OS at once, the disk at the next Commit().
  Status Append(SpoolRecord* record);
  // fsyncs the active segment: a commit point.
  Status Commit();

  // Reads up to `max_records` records after the read position, in order, and
  // advances it. Records already acknowledged (Ack) are skipped.
  Status Read(size_t max_records, std::vector<SpoolRecord>* out);
  // Moves the read position back to the first unacknowledged record, so a
  // failed replay is retried in order.
  void Rewind();

  // Marks one record delivered. The cursor advances over the contiguous
  // acknowledged prefix, is written atomically, and fully acknowledged
  // segments are deleted.
  Status Ack(uint64_t seq);
  // Deletes every record (eventsift spool drop).
  Status Drop();

  SpoolStatus GetStatus() const;
  bool Empty() const;  // no unacknowledged record
  const std::string& dir() const { return options_.dir; }

 private:
  struct Segment {
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;  // 0 when the segment holds no record yet
    uint64_t bytes = 0;
    uint64_t records = 0;
    std::string path;
  };

  explicit Spool(SpoolOptions options) : options_(std::move(options)) {}
  Status Load();
  Status ScanSegment(Segment* segment);
  Status WriteCursor(uint64_t seq);
  Status StartSegment();
  Status DeleteAckedSegments();
  void CloseActive();
  uint64_t PendingRecordsLocked() const;

  const SpoolOptions options_;
  mutable std::mutex mu_;
  int lock_fd_ = -1;
  int active_fd_ = -1;             // last segment, open for append; -1 until first Append
  bool dirty_ = false;             // appended since the last fsync
  std::vector<Segment> segments_;  // in seq order
  uint64_t acked_seq_ = 0;
  uint64_t persisted_seq_ = 0;  // what the cursor file says
  uint64_t next_seq_ = 1;
  uint64_t live_bytes_ = 0;
  uint64_t truncated_bytes_ = 0;
  // Acknowledged out of order (above the cursor); skipped on re-read.
  std::set<uint64_t> acked_ahead_;
  // Read position: segment index and byte offset in it.
  size_t read_segment_ = 0;
  uint64_t read_offset_ = 0;
};

}  // namespace eventsift
