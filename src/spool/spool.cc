#include "src/spool/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace eventsift {

namespace {

constexpr size_t kFrameHeader = 8;          // u32 length + u32 crc
constexpr uint32_t kMaxBody = 64U << 20;    // a sane bound on one alert
constexpr uint64_t kReadWindow = 1U << 20;  // bytes per Read() round
constexpr char kCursorMagic[] = "eventsift-spool-cursor/1";

uint32_t Crc(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLe(std::string_view in, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

Status Errno(std::string_view what, const std::string& path) {
  return Status::IOError(fmt::format("{}: {}", what, std::strerror(errno))).At(path);
}

// Writes all of `data` (write() may be partial).
Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status ReadFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  out->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Errno("read", path);
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::OK();
}

// Reads `size` bytes at `offset` (fewer at the end of the file).
Status ReadRange(const std::string& path, uint64_t offset, uint64_t size, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  out->resize(size);
  uint64_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, out->data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Errno("read", path);
    }
    if (n == 0) break;
    got += static_cast<uint64_t>(n);
  }
  ::close(fd);
  out->resize(got);
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync directory", dir);
  return Status::OK();
}

std::string EncodeRecord(const SpoolRecord& r) {
  std::string body;
  body.reserve(12 + r.key.size() + r.rule_id.size() + r.payload.size());
  PutU64(&body, r.seq);
  PutU16(&body, static_cast<uint16_t>(r.key.size()));
  body.append(r.key);
  PutU16(&body, static_cast<uint16_t>(r.rule_id.size()));
  body.append(r.rule_id);
  body.append(r.payload);
  std::string frame;
  frame.reserve(kFrameHeader + body.size());
  PutU32(&frame, static_cast<uint32_t>(body.size()));
  PutU32(&frame, Crc(body));
  frame.append(body);
  return frame;
}

// Decodes the frame at `data[offset]`. Returns the frame size, or 0 when the
// bytes there are not a whole valid frame (torn or corrupt).
size_t DecodeRecord(std::string_view data, uint64_t offset, SpoolRecord* r) {
  if (offset + kFrameHeader > data.size()) return 0;
  std::string_view rest = data.substr(offset);
  uint64_t len = GetLe(rest, 4);
  uint32_t crc = static_cast<uint32_t>(GetLe(rest.substr(4), 4));
  if (len < 12 || len > kMaxBody || kFrameHeader + len > rest.size()) return 0;
  std::string_view body = rest.substr(kFrameHeader, len);
  if (Crc(body) != crc) return 0;
  uint64_t seq = GetLe(body, 8);
  size_t pos = 8;
  size_t key_len = GetLe(body.substr(pos), 2);
  pos += 2;
  if (pos + key_len + 2 > body.size()) return 0;
  std::string_view key = body.substr(pos, key_len);
  pos += key_len;
  size_t rule_len = GetLe(body.substr(pos), 2);
  pos += 2;
  if (pos + rule_len > body.size()) return 0;
  if (r != nullptr) {
    r->seq = seq;
    r->key.assign(key);
    r->rule_id.assign(body.substr(pos, rule_len));
    r->payload.assign(body.substr(pos + rule_len));
  }
  return kFrameHeader + len;
}

uint64_t PeekSeq(std::string_view data, uint64_t offset) {
  return GetLe(data.substr(offset + kFrameHeader), 8);
}

std::string SegmentName(uint64_t first_seq) { return fmt::format("seg-{:020d}.log", first_seq); }

}  // namespace

Result<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("spool directory not set (--spool-dir)");
  std::unique_ptr<Spool> spool(new Spool(options));
  ES_RETURN_IF_ERROR(spool->Load());
  return spool;
}

Spool::~Spool() {
  std::lock_guard<std::mutex> lock(mu_);
  if (dirty_ && active_fd_ >= 0) (void)::fdatasync(active_fd_);
  CloseActive();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void Spool::CloseActive() {
  if (active_fd_ >= 0) ::close(active_fd_);
  active_fd_ = -1;
}

Status Spool::Load() {
  const std::string& dir = options_.dir;
  if (options_.read_only) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return Status::NotFound("no spool here").At(dir);
  }
  std::error_code ec;
  if (!options_.read_only) std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::IOError(fmt::format("cannot create spool directory: {}", ec.message())).At(dir);
  std::string lock_path = dir + "/LOCK";
  if (!options_.read_only) {
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) return Errno("open", lock_path);
    // Two writers interleaving appends and cursor updates would corrupt the
    // order guarantee; a second process gets a clear error instead.
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::Unavailable(
                 "spool is in use by another eventsift process (stop it, or use another "
                 "--spool-dir)")
          .At(dir);
    }
  }

  std::string cursor;
  if (ReadFile(dir + "/cursor", &cursor).ok()) {
    // "<magic> <seq> <crc32 of the seq text>\n"; a damaged cursor means
    // replaying from the start, which at-least-once allows.
    char magic[64] = {0};
    unsigned long long seq = 0;
    unsigned long crc = 0;
    if (std::sscanf(cursor.c_str(), "%63s %llu %lu", magic, &seq, &crc) == 3 &&
        std::string_view(magic) == kCursorMagic && Crc(std::to_string(seq)) == crc) {
      acked_seq_ = seq;
      persisted_seq_ = seq;
    }
  }

  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Errno("open directory", dir);
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() != 28 || !name.starts_with("seg-") || !name.ends_with(".log")) continue;
    uint64_t first = 0;
    auto digits = name.substr(4, 20);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), first).ec != std::errc())
      continue;
    segments_.push_back(Segment{first, 0, 0, 0, dir + "/" + std::string(name)});
  }
  ::closedir(d);
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });

  uint64_t max_seq = acked_seq_;
  std::vector<Segment> kept;
  for (Segment& s : segments_) {
    ES_RETURN_IF_ERROR(ScanSegment(&s));
    if (s.records == 0) {
      if (!options_.read_only) ::unlink(s.path.c_str());
      continue;
    }
    max_seq = std::max(max_seq, s.last_seq);
    kept.push_back(s);
  }
  segments_ = std::move(kept);
  // The cursor may be older than the first segment (lost or damaged cursor):
  // nothing below the first record exists any more.
  if (!segments_.empty() && acked_seq_ + 1 < segments_.front().first_seq) {
    acked_seq_ = segments_.front().first_seq - 1;
  }
  next_seq_ = max_seq + 1;
  live_bytes_ = 0;
  for (const Segment& s : segments_) live_bytes_ += s.bytes;
  if (!options_.read_only) ES_RETURN_IF_ERROR(DeleteAckedSegments());
  read_segment_ = 0;
  read_offset_ = 0;
  return Status::OK();
}

Status Spool::ScanSegment(Segment* s) {
  std::string data;
  ES_RETURN_IF_ERROR(ReadFile(s->path, &data));
  uint64_t off = 0;
  while (off < data.size()) {
    size_t n = DecodeRecord(data, off, nullptr);
    if (n == 0) break;
    uint64_t seq = PeekSeq(data, off);
    if (s->records == 0) s->first_seq = seq;
    s->last_seq = seq;
    ++s->records;
    off += n;
  }
  if (off < data.size()) {
    // A torn tail from a crash mid-append, or damage: keep the valid prefix.
    truncated_bytes_ += data.size() - off;
    if (!options_.read_only && ::truncate(s->path.c_str(), static_cast<off_t>(off)) != 0)
      return Errno("truncate", s->path);
  }
  s->bytes = off;
  return Status::OK();
}

uint64_t Spool::PendingRecordsLocked() const {
  uint64_t n = 0;
  for (const Segment& s : segments_) {
    if (s.records == 0 || s.last_seq <= acked_seq_) continue;
    // Sequences are contiguous inside a segment.
    n += s.last_seq - std::max(s.first_seq, acked_seq_ + 1) + 1;
  }
  return n - std::min<uint64_t>(n, acked_ahead_.size());
}

Status Spool::StartSegment() {
  Segment s;
  s.first_seq = next_seq_;
  s.path = options_.dir + "/" + SegmentName(next_seq_);
  active_fd_ = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (active_fd_ < 0) return Errno("create segment", s.path);
  segments_.push_back(s);
  // The new name must survive a crash as well as its bytes.
  return SyncDir(options_.dir);
}

Status Spool::Append(SpoolRecord* record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.read_only) return Status::InvalidArgument("spool opened read-only");
  if (record->key.size() > 0xffff || record->rule_id.size() > 0xffff) {
    return Status::InvalidArgument("spool record key or rule id longer than 65535 bytes");
  }
  if (record->payload.size() + 64 > kMaxBody) {
    return Status::ResourceExhausted(
        fmt::format("alert of {} bytes exceeds the spool's record limit", record->payload.size()));
  }
  uint64_t size =
      kFrameHeader + 12 + record->key.size() + record->rule_id.size() + record->payload.size();
  if (live_bytes_ + size > options_.max_bytes) {
    return Status::ResourceExhausted(
               fmt::format(
                   "spool full: {} bytes of undelivered alerts, cap {} bytes; deliver them "
                   "(eventsift spool replay), raise the cap, or drop them (eventsift spool drop)",
                   live_bytes_, options_.max_bytes))
        .At(options_.dir);
  }
  if (active_fd_ < 0 || segments_.back().bytes >= options_.segment_bytes) {
    if (active_fd_ >= 0) {
      if (dirty_ && ::fdatasync(active_fd_) != 0) return Errno("fsync", segments_.back().path);
      dirty_ = false;
      CloseActive();
    }
    ES_RETURN_IF_ERROR(StartSegment());
  }
  record->seq = next_seq_;
  std::string frame = EncodeRecord(*record);
  Segment& s = segments_.back();
  Status st = WriteAll(active_fd_, frame, s.path);
  if (!st.ok()) {
    // Keep the file a whole number of frames so later appends stay readable.
    if (::ftruncate(active_fd_, static_cast<off_t>(s.bytes)) != 0) CloseActive();
    return st;
  }
  ++next_seq_;
  if (s.records == 0) s.first_seq = record->seq;
  s.last_seq = record->seq;
  ++s.records;
  s.bytes += frame.size();
  live_bytes_ += frame.size();
  dirty_ = true;
  return Status::OK();
}

Status Spool::Commit() {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.read_only) return Status::OK();
  if (dirty_ && active_fd_ >= 0) {
    if (::fdatasync(active_fd_) != 0) return Errno("fsync", segments_.back().path);
    dirty_ = false;
  }
  return DeleteAckedSegments();
}

Status Spool::WriteCursor(uint64_t seq) {
  std::string text = std::to_string(seq);
  std::string content = fmt::format("{} {} {}\n", kCursorMagic, text, Crc(text));
  std::string tmp = options_.dir + "/cursor.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  Status st = WriteAll(fd, content, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync", tmp);
  ::close(fd);
  ES_RETURN_IF_ERROR(st);
  std::string path = options_.dir + "/cursor";
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", path);
  ES_RETURN_IF_ERROR(SyncDir(options_.dir));
  persisted_seq_ = seq;
  return Status::OK();
}

// Persists the cursor when it moved, then deletes segments it has passed.
// Cursor first: after a crash between the two, Load() skips what the cursor
// covers; the other order could resurrect nothing but would lose the
// position inside a straddling segment.
Status Spool::DeleteAckedSegments() {
  if (persisted_seq_ != acked_seq_) ES_RETURN_IF_ERROR(WriteCursor(acked_seq_));
  size_t removed = 0;
  while (removed < segments_.size()) {
    const Segment& s = segments_[removed];
    bool is_active = active_fd_ >= 0 && removed + 1 == segments_.size();
    if (s.records == 0 || s.last_seq > acked_seq_) break;
    if (is_active) CloseActive();
    if (::unlink(s.path.c_str()) != 0 && errno != ENOENT) return Errno("delete segment", s.path);
    live_bytes_ -= s.bytes;
    ++removed;
  }
  if (removed > 0) {
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(removed));
    if (read_segment_ >= removed) {
      read_segment_ -= removed;
    } else {
      read_segment_ = 0;
      read_offset_ = 0;
    }
  }
  return Status::OK();
}

Status Spool::Read(size_t max_records, std::vector<SpoolRecord>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t taken = 0;
  while (taken < max_records && read_segment_ < segments_.size()) {
    const Segment& s = segments_[read_segment_];
    if (read_offset_ >= s.bytes) {
      // The active segment may still grow: stay at its end.
      if (read_segment_ + 1 == segments_.size()) break;
      ++read_segment_;
      read_offset_ = 0;
      continue;
    }
    // Read a window from the read position, not the whole segment: replay
    // calls Read once per batch, and segments are many batches long.
    std::string data;
    uint64_t want = std::min<uint64_t>(s.bytes - read_offset_, kReadWindow);
    ES_RETURN_IF_ERROR(ReadRange(s.path, read_offset_, want, &data));
    if (data.size() >= kFrameHeader) {
      // A record longer than the window: read exactly that record.
      uint64_t frame = kFrameHeader + GetLe(data, 4);
      if (frame > data.size() && frame <= s.bytes - read_offset_) {
        ES_RETURN_IF_ERROR(ReadRange(s.path, read_offset_, frame, &data));
      }
    }
    uint64_t pos = 0;
    while (taken < max_records && pos < data.size()) {
      SpoolRecord r;
      size_t n = DecodeRecord(data, pos, &r);
      if (n == 0) {
        // The window ends inside a frame: the next round reads from here.
        if (pos > 0) break;
        return Status::Corruption("spool record failed its CRC check after open")
            .At(s.path, read_offset_);
      }
      pos += n;
      read_offset_ += n;
      if (r.seq <= acked_seq_ || acked_ahead_.count(r.seq) != 0) continue;
      out->push_back(std::move(r));
      ++taken;
    }
  }
  return Status::OK();
}

void Spool::Rewind() {
  std::lock_guard<std::mutex> lock(mu_);
  read_segment_ = 0;
  read_offset_ = 0;
  while (read_segment_ + 1 < segments_.size() && segments_[read_segment_].last_seq <= acked_seq_) {
    ++read_segment_;
  }
}

Status Spool::Ack(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.read_only) return Status::InvalidArgument("spool opened read-only");
  if (seq <= acked_seq_ || seq >= next_seq_) return Status::OK();
  acked_ahead_.insert(seq);
  // Advance over the contiguous acknowledged prefix. Persisting waits for
  // the next commit point: an ack lost in a crash means a duplicate, never a
  // loss (the at-least-once bound in docs/kafka.md).
  while (!acked_ahead_.empty() && *acked_ahead_.begin() == acked_seq_ + 1) {
    acked_seq_ = *acked_ahead_.begin();
    acked_ahead_.erase(acked_ahead_.begin());
  }
  return Status::OK();
}

Status Spool::Drop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.read_only) return Status::InvalidArgument("spool opened read-only");
  CloseActive();
  dirty_ = false;
  for (const Segment& s : segments_) {
    if (::unlink(s.path.c_str()) != 0 && errno != ENOENT) return Errno("delete segment", s.path);
  }
  segments_.clear();
  live_bytes_ = 0;
  acked_ahead_.clear();
  acked_seq_ = next_seq_ - 1;
  read_segment_ = 0;
  read_offset_ = 0;
  return WriteCursor(acked_seq_);
}

SpoolStatus Spool::GetStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  SpoolStatus st;
  st.pending_records = PendingRecordsLocked();
  st.pending_bytes = live_bytes_;
  st.segments = segments_.size();
  st.acked_seq = acked_seq_;
  st.next_seq = next_seq_;
  st.truncated_bytes = truncated_bytes_;
  st.max_bytes = options_.max_bytes;
  return st;
}

bool Spool::Empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return PendingRecordsLocked() == 0;
}

}  // namespace eventsift
