#pragma once
// DirSource: watches one directory (not recursive) with inotify and reads
// the files whose names match its glob patterns:
//   * NDJSON files are tailed line by line; only complete lines are
//     delivered, so a half-written line waits for its newline.
//   * `.evtx` files are read by whole 64 KiB chunks as they become complete;
//     the last chunk read is read again when the file changes (a live log
//     keeps filling it) and the consumer skips record ids already delivered.
//   * gzip and zstd files (told by their first bytes, not their name) are
//     decompressed a block at a time as they grow, so a file still being
//     written is read as far as it goes; memory stays fixed whatever the
//     decompressed size. A corrupt stream is reported (file and compressed
//     offset) and the file is left; a stream that stops in the middle of a
//     gzip member / zstd frame is reported as cut once it has not grown for
//     incomplete_after, or when it is removed.
// Files are tracked by device + inode, not by name, and stay open while
// tracked, so:
//   * rotation by rename: the renamed file is drained (kept open for
//     rotate_wait after its last growth, as writers may still append), and
//     the new file under the old name is read from its start;
//   * deletion: the open descriptor still reads the remaining bytes, then
//     the file is closed;
//   * truncation (copytruncate): the file shrank below our offset, so it is
//     read again from offset 0. Lines written between our last read and the
//     truncation are lost; docs/operations.md prefers rename rotation.
// inotify gives low latency; every Poll also stats tracked files and the
// directory is rescanned every rescan_interval, which covers a full inotify
// queue and changes inotify does not report.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/source/decompressor.h"
#include "src/source/line_framer.h"
#include "src/source/source.h"
#include "src/source/unique_fd.h"

namespace eventsift::source {

struct DirSourceOptions {
  std::string path;  // the directory to watch
  // fnmatch(3) patterns on the file name; a file is read when it matches an
  // include and no exclude.
  std::vector<std::string> include = {"*.json",       "*.ndjson",    "*.jsonl",    "*.evtx",
                                      "*.json.gz",    "*.ndjson.gz", "*.jsonl.gz", "*.json.zst",
                                      "*.ndjson.zst", "*.jsonl.zst"};
  std::vector<std::string> exclude;
  // Files already present at the first scan without a checkpoint: read them
  // from the start (false) or only what is appended after (true).
  bool start_at_end = false;
  // Longer NDJSON lines are dropped and counted.
  size_t max_line_bytes = 1 << 20;
  // How long a renamed-away or deleted file stays open after it last grew.
  std::chrono::milliseconds rotate_wait{2000};
  // Full directory rescan interval, besides inotify.
  std::chrono::milliseconds rescan_interval{1000};
  // A compressed file that stopped growing in the middle of its stream is
  // reported as cut after this long (still read on if it grows later).
  std::chrono::milliseconds incomplete_after{60000};
  // Decompressed bytes read from one compressed file at most: a larger
  // stream (a decompression bomb) is reported and left there.
  uint64_t max_decompressed_bytes = uint64_t{64} << 30;
  // EVTX chunks read per file per Poll (bounds memory: 64 KiB each).
  uint32_t max_evtx_chunks_per_poll = 16;
};

class DirSource : public Source {
 public:
  DirSource(std::string name, DirSourceOptions options);
  ~DirSource() override;

  std::string_view type() const override { return "directory"; }
  Status Start() override;
  void AddPollFds(std::vector<pollfd>* fds) const override;
  Result<bool> Poll(RecordConsumer& consumer, size_t budget_bytes) override;
  void SaveCheckpoints(std::vector<FileCheckpoint>* out) const override;
  void RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) override;

  // Files currently tracked (open).
  size_t tracked_files() const { return files_.size(); }

  // True when `name` matches an include pattern and no exclude pattern.
  static bool Matches(const std::string& name, const std::vector<std::string>& include,
                      const std::vector<std::string>& exclude);

 private:
  struct Tracked;
  using Clock = std::chrono::steady_clock;

  void DrainInotify();
  Status Rescan();
  // Opens and starts tracking a file; false when it could not be opened.
  bool Track(const std::string& path, const struct stat& st, bool initial);
  // Reads one file; returns bytes consumed, sets *more when it stopped early.
  size_t ReadNdjson(Tracked& f, RecordConsumer& consumer, size_t budget, bool* more);
  size_t ReadCompressed(Tracked& f, RecordConsumer& consumer, size_t budget, bool* more);
  // Feeds decompressed bytes to the framer (after any resume skip).
  void FeedDecompressed(Tracked& f, std::string_view bytes, RecordConsumer& consumer);
  // Reports a compressed file's error and stops reading it.
  void FailCompressed(Tracked& f, Status status, RecordConsumer& consumer);
  size_t ReadEvtx(Tracked& f, RecordConsumer& consumer, bool* more);
  void Close(Tracked& f, RecordConsumer& consumer);

  DirSourceOptions options_;
  UniqueFd inotify_;
  int watch_ = -1;
  bool dirty_ = true;
  bool first_scan_ = true;
  Clock::time_point next_rescan_{};
  std::vector<std::unique_ptr<Tracked>> files_;
  std::vector<FileCheckpoint> restored_;  // not yet matched to a file
  std::vector<uint8_t> evtx_buf_;
  std::unique_ptr<char[]> raw_buf_, out_buf_;  // compressed reads, 64 KiB each
};

}  // namespace eventsift::source
