#pragma once
// RelpJournal: the bounded on-disk queue between a RELP receiver and the
// daemon's pipeline. RELP's sender keeps each message until it gets
// `rsp 200`, and librelp sends that as soon as the receive callback
// returns; so the callback appends the message here first. A write(2) that
// returned is in the kernel's page cache and survives the process being
// killed (not a power cut: no fsync per message, see docs/operations.md).
//
// Files: <dir>/relp-<seq>.journal, seq growing; each run starts a new file
// (never appends to one a killed process may have cut mid-record), and a
// file is closed for good ("sealed") once it passes file_bytes. A record is
//   <frame length> SP <peer> SP <frame> LF
// so the reader can check every record and tell a record cut by a kill
// (only ever the last one of a sealed file; it was never acknowledged).
//
// Bounded: the files not yet released total at most max_bytes (plus one
// message). When full, Append waits: the receive callback does not return,
// no `rsp 200` goes out, and the sender keeps its messages (RELP's window
// then stops it). Release deletes the files wholly before a position once
// the daemon's checkpoint has passed it.
//
// Threads: Append runs on the receiver's thread; everything else on the
// daemon's loop thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "src/core/result.h"
#include "src/source/unique_fd.h"

namespace eventsift::source {

struct RelpJournalOptions {
  std::string dir;
  uint64_t max_bytes = uint64_t{1} << 30;
  uint64_t file_bytes = uint64_t{64} << 20;  // a file is sealed past this size
};

// A position in the journal: the byte after the last record taken.
struct JournalPos {
  uint64_t seq = 0;
  uint64_t offset = 0;
  uint64_t record_no = 0;  // records taken from this file
};

// One record at the front of `bytes`.
struct JournalRecord {
  enum class Kind : uint8_t { kRecord, kNeedMore, kBad };
  Kind kind = Kind::kNeedMore;
  std::string_view peer, frame;
  size_t size = 0;         // bytes the record takes (kRecord)
  std::string_view error;  // kBad
};
JournalRecord ParseJournalRecord(std::string_view bytes, uint64_t max_frame_bytes);
// Longest peer name kept in a record.
inline constexpr size_t kMaxJournalPeer = 128;

class RelpJournal {
 public:
  explicit RelpJournal(RelpJournalOptions options);
  ~RelpJournal();
  RelpJournal(const RelpJournal&) = delete;
  RelpJournal& operator=(const RelpJournal&) = delete;

  // Creates the directory, counts what is in it and opens a new file.
  Status Open();
  const std::string& dir() const { return options_.dir; }
  std::string PathOf(uint64_t seq) const;
  // The seq of a journal file name, or 0 for anything else.
  static uint64_t SeqOf(std::string_view file_name);
  // The oldest file present (for a reader without a checkpoint), or the
  // file being written when there is none.
  uint64_t FirstSeq() const;

  // Writes one record; waits while the journal is full (calling on_full once
  // per wait) and, when the write fails, retries (calling on_error) until it
  // succeeds or Close() begins. Returns an error only then: what was not
  // written must not be acknowledged.
  Status Append(std::string_view peer, std::string_view frame, const std::function<void()>& on_full,
                const std::function<void(const Status&)>& on_error);
  // Wakes a waiting Append: past this, Append writes even when full (at
  // most one message over the bound, so a stopping receiver never has to
  // acknowledge what it did not write).
  void BeginClose();

  // Files below this seq are complete: nothing will be appended to them.
  uint64_t write_seq() const { return write_seq_.load(std::memory_order_acquire); }
  // Deletes the files with seq below pos.seq.
  void Release(const JournalPos& pos);
  uint64_t bytes() const;
  // An eventfd made readable by the first Append after the reader said it
  // caught up (WaitForMore), for the loop's poll: one wake-up per burst,
  // not one per message.
  int wake_fd() const { return wake_.get(); }
  void DrainWake() const;
  void WaitForMore() { reader_waiting_.store(true, std::memory_order_release); }
  // True while an Append waits for room (the loop should checkpoint early
  // so Release can make some).
  bool writer_waiting() const { return writer_waiting_.load(std::memory_order_acquire); }

 private:
  Status OpenNext();  // with mu_ held
  Status WriteRecord(const std::string& record);
  void Wake() const;

  RelpJournalOptions options_;
  mutable std::mutex mu_;
  std::condition_variable room_;
  UniqueFd fd_;
  UniqueFd wake_;
  uint64_t file_size_ = 0;
  uint64_t total_ = 0;  // bytes of the files not yet released
  bool closing_ = false;
  std::atomic<uint64_t> write_seq_{0};
  std::atomic<bool> reader_waiting_{true};
  std::atomic<bool> writer_waiting_{false};
  std::string record_;  // reused buffer for one record
};

}  // namespace eventsift::source
