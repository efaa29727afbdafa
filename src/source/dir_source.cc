#include "src/source/dir_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eventsift::source {

namespace {

constexpr uint64_t kEvtxHeaderBytes = 4096;
constexpr uint64_t kEvtxChunkBytes = 64ULL * 1024;
constexpr size_t kReadBlock = size_t{64} * 1024;

bool EndsWithEvtx(const std::string& name) {
  if (name.size() < 5) return false;
  std::string ext = name.substr(name.size() - 5);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".evtx";
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool ReadAt(int fd, uint8_t* dst, size_t n, uint64_t offset) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, dst + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

struct DirSource::Tracked {
  explicit Tracked(size_t max_line) : framer(max_line) {}
  FileId id;
  std::string path;
  UniqueFd fd;
  bool evtx = false;
  // NDJSON: bytes read into the framer; the checkpoint offset is this minus
  // what the framer still holds for an incomplete line.
  LineFramer framer;
  uint64_t read_offset = 0;
  // Seen under a matching name at the last rescan. When false the file was
  // renamed away or deleted: it is drained, then closed after rotate_wait.
  bool present = true;
  Clock::time_point last_growth = Clock::now();
  // Compression, told by the first bytes once there are enough of them.
  bool kind_known = false;
  std::unique_ptr<StreamDecompressor> dec;
  // Compressed: read_offset counts compressed bytes consumed; out_offset the
  // decompressed bytes produced (what a checkpoint records), and resume_out
  // those a restored checkpoint says were already processed (skipped).
  uint64_t out_offset = 0;
  uint64_t resume_out = 0;
  bool failed = false;                 // corrupt or oversized: reported, not read on
  bool incomplete_reported = false;    // cut short: reported once
  bool compressed_checkpoint = false;  // restored offset counts decompressed bytes
  // EVTX.
  uint32_t next_chunk = 0;
  uint64_t last_record_id = 0;
  int64_t last_size = -1;
  struct timespec last_mtime {};
};

DirSource::DirSource(std::string name, DirSourceOptions options)
    : Source(std::move(name)), options_(std::move(options)) {}

DirSource::~DirSource() = default;

bool DirSource::Matches(const std::string& name, const std::vector<std::string>& include,
                        const std::vector<std::string>& exclude) {
  bool in = false;
  for (const auto& p : include) {
    if (::fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0) {
      in = true;
      break;
    }
  }
  if (!in) return false;
  for (const auto& p : exclude) {
    if (::fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0) return false;
  }
  return true;
}

Status DirSource::Start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("inotify_init1: {}", std::strerror(errno)));
  inotify_ = UniqueFd(fd);
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("not a readable directory").At(options_.path);
  }
  dirty_ = true;
  return Status::OK();
}

void DirSource::AddPollFds(std::vector<pollfd>* fds) const {
  if (inotify_.valid()) fds->push_back(pollfd{inotify_.get(), POLLIN, 0});
}

void DirSource::DrainInotify() {
  if (!inotify_.valid()) return;
  alignas(struct inotify_event) std::array<char, 8192> buf{};
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
    if (n <= 0) break;
    for (ssize_t i = 0; i < n;) {
      struct inotify_event ev {};
      std::memcpy(&ev, buf.data() + i, sizeof(ev));
      if (ev.mask & (IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_Q_OVERFLOW)) {
        dirty_ = true;
      }
      if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        // The directory itself went away: re-add the watch when it is back.
        if (watch_ >= 0 && !(ev.mask & IN_IGNORED)) ::inotify_rm_watch(inotify_.get(), watch_);
        watch_ = -1;
        dirty_ = true;
      }
      i += static_cast<ssize_t>(sizeof(struct inotify_event) + ev.len);
    }
  }
}

Status DirSource::Rescan() {
  if (watch_ < 0 && inotify_.valid()) {
    watch_ = ::inotify_add_watch(inotify_.get(), options_.path.c_str(),
                                 IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF);
  }
  std::vector<bool> seen(files_.size(), false);
  DIR* dir = ::opendir(options_.path.c_str());
  if (dir == nullptr) {
    // The directory may come back (re-created); tracked files drain meanwhile.
    for (auto& f : files_) f->present = false;
    return Status::IOError(fmt::format("opendir: {}", std::strerror(errno))).At(options_.path);
  }
  while (struct dirent* de = ::readdir(dir)) {
    std::string name = de->d_name;
    if (name == "." || name == ".." || !Matches(name, options_.include, options_.exclude)) continue;
    std::string path = options_.path + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    FileId id = FileIdOf(st);
    bool known = false;
    for (size_t i = 0; i < files_.size(); ++i) {
      if (files_[i]->id == id) {
        files_[i]->path = path;
        files_[i]->present = true;
        seen[i] = true;
        known = true;
        break;
      }
    }
    if (!known && Track(path, st, first_scan_)) seen.push_back(true);
  }
  ::closedir(dir);
  for (size_t i = 0; i < seen.size() && i < files_.size(); ++i) {
    if (!seen[i] && files_[i]->present) {
      files_[i]->present = false;
      files_[i]->last_growth = Clock::now();  // the grace period starts now
    }
  }
  if (first_scan_) {
    // Checkpointed files that are gone: whatever they still held is lost.
    restored_.clear();
    first_scan_ = false;
  }
  return Status::OK();
}

bool DirSource::Track(const std::string& path, const struct stat& st, bool initial) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // Raced with a delete, or unreadable (permissions): the next rescan retries.
    stats().open_errors.Add();
    return false;
  }
  auto f = std::make_unique<Tracked>(options_.max_line_bytes);
  f->fd = UniqueFd(fd);
  f->id = FileIdOf(st);
  f->path = path;
  f->evtx = EndsWithEvtx(BaseName(path));
  stats().files_opened.Add();
  bool resumed = false;
  for (auto it = restored_.begin(); it != restored_.end(); ++it) {
    if (!(it->id == f->id)) continue;
    auto fp = FingerprintFile(fd, it->fingerprint_len);
    if (fp.has_value() && fp.value() == it->fingerprint && it->evtx == f->evtx) {
      f->compressed_checkpoint = it->compressed;
      if (it->compressed) {
        f->resume_out = it->offset;
        f->framer.set_line_no(it->line_no);
      } else if (static_cast<uint64_t>(st.st_size) >= it->offset) {
        f->read_offset = it->offset;
        f->framer.set_line_no(it->line_no);
      }
      f->next_chunk = it->evtx_next_chunk;
      f->last_record_id = it->evtx_last_record_id;
      resumed = true;
    }
    restored_.erase(it);  // same inode: either this file or a recycled one
    break;
  }
  if (!resumed && initial && options_.start_at_end && !f->evtx) {
    f->read_offset = static_cast<uint64_t>(st.st_size);
  }
  files_.push_back(std::move(f));
  return true;
}

size_t DirSource::ReadNdjson(Tracked& f, RecordConsumer& consumer, size_t budget, bool* more) {
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return 0;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (!f.kind_known) {
    std::array<char, 4> head{};
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, head.size()));
    if (n > 0 && !ReadAt(f.fd.get(), reinterpret_cast<uint8_t*>(head.data()), n, 0)) return 0;
    bool undecided = false;
    Compression kind = DetectCompression(std::string_view(head.data(), n), &undecided);
    // A file whose first bytes may still become a magic waits for them,
    // unless its writer is gone.
    if (undecided && f.present) return 0;
    f.kind_known = true;
    if (kind != Compression::kNone) {
      f.dec = std::make_unique<StreamDecompressor>(kind);
      stats().compressed_files.Add();
      // A compressed stream is read from its start (start_at: end cannot
      // seek into it); a restored plain-file offset cannot apply to it.
      f.read_offset = 0;
      if (!f.compressed_checkpoint) f.framer.Reset();
    } else if (f.compressed_checkpoint) {
      f.read_offset = 0;  // the checkpoint's offset counted decompressed bytes
      f.resume_out = 0;
      f.framer.Reset();
    }
  }
  if (f.dec) return ReadCompressed(f, consumer, budget, more);
  if (size < f.read_offset) {
    stats().truncations.Add();
    f.framer.Reset();
    f.read_offset = 0;
  }
  std::array<char, kReadBlock> buf{};
  size_t used = 0;
  while (f.read_offset < size && used < budget) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>({buf.size(), size - f.read_offset, budget - used}));
    ssize_t n = ::pread(f.fd.get(), buf.data(), want, static_cast<off_t>(f.read_offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    f.read_offset += static_cast<uint64_t>(n);
    used += static_cast<size_t>(n);
    uint64_t dropped_before = f.framer.dropped();
    f.framer.Feed(std::string_view(buf.data(), static_cast<size_t>(n)),
                  [&](std::string_view line, uint64_t line_no) {
                    stats().lines.Add();
                    consumer.OnLine(LineRecord{f.path, line, line_no});
                  });
    stats().lines_dropped.Add(f.framer.dropped() - dropped_before);
  }
  if (used > 0) {
    f.last_growth = Clock::now();
    stats().bytes.Add(used);
  }
  if (f.read_offset < size) *more = true;
  return used;
}

size_t DirSource::ReadEvtx(Tracked& f, RecordConsumer& consumer, bool* more) {
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return 0;
  int64_t size = st.st_size;
  if (f.last_size >= 0 && size < f.last_size) {
    stats().truncations.Add();
    f.next_chunk = 0;
    f.last_record_id = 0;
  }
  bool changed = size != f.last_size || st.st_mtim.tv_sec != f.last_mtime.tv_sec ||
                 st.st_mtim.tv_nsec != f.last_mtime.tv_nsec;
  if (!changed || static_cast<uint64_t>(size) < kEvtxHeaderBytes + kEvtxChunkBytes) {
    f.last_size = size;
    f.last_mtime = st.st_mtim;
    return 0;
  }
  uint32_t complete =
      static_cast<uint32_t>((static_cast<uint64_t>(size) - kEvtxHeaderBytes) / kEvtxChunkBytes);
  // The last chunk already read may have gained records since.
  uint32_t from = f.next_chunk > 0 ? std::min(f.next_chunk - 1, complete - 1) : 0;
  uint32_t to = std::min(complete, from + options_.max_evtx_chunks_per_poll);
  size_t n = kEvtxHeaderBytes + static_cast<size_t>(to - from) * kEvtxChunkBytes;
  evtx_buf_.resize(n);
  if (!ReadAt(f.fd.get(), evtx_buf_.data(), kEvtxHeaderBytes, 0) ||
      !ReadAt(f.fd.get(), evtx_buf_.data() + kEvtxHeaderBytes, n - kEvtxHeaderBytes,
              kEvtxHeaderBytes + static_cast<uint64_t>(from) * kEvtxChunkBytes)) {
    return 0;  // raced with a truncation: the next poll sees the new size
  }
  stats().bytes.Add(n);
  stats().evtx_chunks.Add(to - from);
  f.last_record_id = consumer.OnEvtx(EvtxRecord{f.path, evtx_buf_, from, f.last_record_id});
  f.next_chunk = to;
  f.last_growth = Clock::now();
  if (to < complete) {
    *more = true;  // leave last_size stale so the rest is read next time
  } else {
    f.last_size = size;
    f.last_mtime = st.st_mtim;
  }
  return n;
}

void DirSource::FeedDecompressed(Tracked& f, std::string_view bytes, RecordConsumer& consumer) {
  if (f.out_offset < f.resume_out) {
    // Already processed before the restart: skipped, not delivered again.
    size_t skip =
        static_cast<size_t>(std::min<uint64_t>(f.resume_out - f.out_offset, bytes.size()));
    f.out_offset += skip;
    bytes.remove_prefix(skip);
  }
  if (bytes.empty()) return;
  f.out_offset += bytes.size();
  stats().decompressed_bytes.Add(bytes.size());
  uint64_t dropped_before = f.framer.dropped();
  f.framer.Feed(bytes, [&](std::string_view line, uint64_t line_no) {
    stats().lines.Add();
    consumer.OnLine(LineRecord{f.path, line, line_no});
  });
  stats().lines_dropped.Add(f.framer.dropped() - dropped_before);
}

void DirSource::FailCompressed(Tracked& f, Status status, RecordConsumer& consumer) {
  stats().decompress_errors.Add();
  consumer.OnSourceError(status);
  f.failed = true;
  // A line cut by the error is not a line.
  f.framer.Reset();
}

size_t DirSource::ReadCompressed(Tracked& f, RecordConsumer& consumer, size_t budget, bool* more) {
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return 0;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < f.read_offset) {
    // Rewritten in place: decompress the new contents from the start.
    stats().truncations.Add();
    f.dec = std::make_unique<StreamDecompressor>(f.dec->kind());
    f.framer.Reset();
    f.read_offset = f.out_offset = f.resume_out = 0;
    f.failed = f.incomplete_reported = false;
  }
  if (f.failed || f.dec->ended()) return 0;
  if (!raw_buf_) {
    raw_buf_ = std::make_unique_for_overwrite<char[]>(kReadBlock);
    out_buf_ = std::make_unique_for_overwrite<char[]>(kReadBlock);
  }
  size_t used = 0;        // decompressed bytes: what the pipeline pays for
  bool flushing = false;  // the decompressor may hold output without new input
  while ((f.read_offset < size || flushing) && used < budget) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kReadBlock, size - f.read_offset));
    ssize_t n = 0;
    if (want > 0) {
      n = ::pread(f.fd.get(), raw_buf_.get(), want, static_cast<off_t>(f.read_offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        FailCompressed(f,
                       Status::IOError(fmt::format("read: {}", std::strerror(errno)))
                           .At(f.path, f.read_offset),
                       consumer);
        return used;
      }
      if (n == 0) break;
    }
    std::string_view in(raw_buf_.get(), static_cast<size_t>(n));
    flushing = false;
    while (used < budget) {
      size_t consumed = 0, produced = 0;
      Status s = f.dec->Decompress(in, &consumed, out_buf_.get(), kReadBlock, &produced);
      in.remove_prefix(consumed);
      f.read_offset += consumed;
      used += produced;
      FeedDecompressed(f, std::string_view(out_buf_.get(), produced), consumer);
      if (!s.ok()) {
        FailCompressed(f, std::move(s).At(f.path, f.read_offset), consumer);
        return used;
      }
      if (f.out_offset > options_.max_decompressed_bytes) {
        FailCompressed(
            f,
            Status::ResourceExhausted(
                fmt::format("{} stream decompresses to more than max_decompressed_bytes ({})",
                            CompressionName(f.dec->kind()), options_.max_decompressed_bytes))
                .At(f.path, f.read_offset),
            consumer);
        return used;
      }
      if (f.dec->ended()) break;
      if (produced == kReadBlock) {
        flushing = in.empty();
        continue;  // more output may be waiting
      }
      if (consumed == 0 || in.empty()) break;  // needs bytes not yet read
    }
    if (f.dec->ended()) break;
  }
  if (used > 0) {
    f.last_growth = Clock::now();
    stats().bytes.Add(used);
  }
  if (f.read_offset < size || flushing) *more = true;
  const auto idle = Clock::now() - f.last_growth;
  if (f.read_offset >= size && !*more && idle >= options_.rotate_wait &&
      (f.dec->at_boundary() || f.dec->ended()) && f.framer.pending_bytes() > 0) {
    // A complete stream that stopped growing: its last line needs no newline.
    f.framer.Finish([&](std::string_view line, uint64_t line_no) {
      stats().lines.Add();
      consumer.OnLine(LineRecord{f.path, line, line_no});
    });
  }
  if (f.read_offset >= size && !*more && idle >= options_.incomplete_after) {
    if (!f.dec->at_boundary() && !f.dec->ended() && !f.incomplete_reported) {
      f.incomplete_reported = true;
      stats().decompress_errors.Add();
      consumer.OnSourceError(
          Status::Truncated(fmt::format("{} stream ends early after {} decompressed bytes "
                                        "(no growth for {} ms; read on if it grows)",
                                        CompressionName(f.dec->kind()), f.out_offset,
                                        options_.incomplete_after.count()))
              .At(f.path, f.read_offset));
    }
  }
  return used;
}

void DirSource::Close(Tracked& f, RecordConsumer& consumer) {
  if (f.dec && !f.failed && !f.dec->at_boundary() && !f.dec->ended()) {
    // Removed or renamed away with its stream unfinished: the file was cut.
    if (!f.incomplete_reported) {
      stats().decompress_errors.Add();
      consumer.OnSourceError(
          Status::Truncated(fmt::format("{} stream ends early after {} decompressed bytes",
                                        CompressionName(f.dec->kind()), f.out_offset))
              .At(f.path, f.read_offset));
    }
    f.framer.Reset();
  }
  if (!f.evtx) {
    // The writer is gone: a last line without its newline is still a line.
    f.framer.Finish([&](std::string_view line, uint64_t line_no) {
      stats().lines.Add();
      consumer.OnLine(LineRecord{f.path, line, line_no});
    });
  }
  stats().rotations.Add();
  f.fd.Reset();
}

Result<bool> DirSource::Poll(RecordConsumer& consumer, size_t budget_bytes) {
  DrainInotify();
  Status scan_status;
  auto now = Clock::now();
  if (dirty_ || now >= next_rescan_) {
    dirty_ = false;
    next_rescan_ = now + options_.rescan_interval;
    scan_status = Rescan();
  }
  bool more = false;
  size_t used = 0;
  for (auto& f : files_) {
    if (used >= budget_bytes) {
      more = true;
      break;
    }
    bool file_more = false;
    used += f->evtx ? ReadEvtx(*f, consumer, &file_more)
                    : ReadNdjson(*f, consumer, budget_bytes - used, &file_more);
    more = more || file_more;
    if (!f->present && !file_more && Clock::now() - f->last_growth >= options_.rotate_wait) {
      Close(*f, consumer);
    }
  }
  std::erase_if(files_, [](const auto& f) { return !f->fd.valid(); });
  // Rotate so one busy file does not starve the others.
  if (files_.size() > 1) std::rotate(files_.begin(), files_.begin() + 1, files_.end());
  if (!scan_status.ok()) return scan_status;
  return more;
}

void DirSource::SaveCheckpoints(std::vector<FileCheckpoint>* out) const {
  for (const auto& f : files_) {
    struct stat st {};
    if (::fstat(f->fd.get(), &st) != 0) continue;
    FileCheckpoint cp;
    cp.source = name();
    cp.path = f->path;
    cp.id = f->id;
    cp.evtx = f->evtx;
    cp.fingerprint_len = FingerprintLength(static_cast<uint64_t>(st.st_size));
    auto fp = FingerprintFile(f->fd.get(), cp.fingerprint_len);
    if (!fp.has_value()) continue;
    cp.fingerprint = fp.value();
    if (f->dec) {
      cp.compressed = true;
      cp.offset = std::max(f->out_offset - f->framer.pending_bytes(), f->resume_out);
    } else if (!f->kind_known && f->compressed_checkpoint) {
      cp.compressed = true;  // not read yet since the restart
      cp.offset = f->resume_out;
    } else {
      cp.offset = f->read_offset - f->framer.pending_bytes();
    }
    cp.line_no = f->framer.line_no();
    cp.evtx_next_chunk = f->next_chunk;
    cp.evtx_last_record_id = f->last_record_id;
    out->push_back(std::move(cp));
  }
  // Checkpoints not matched yet (before the first scan) are kept as they were.
  for (const auto& cp : restored_) out->push_back(cp);
}

void DirSource::RestoreCheckpoints(std::vector<FileCheckpoint> checkpoints) {
  restored_ = std::move(checkpoints);
}

}  // namespace eventsift::source
