#include "src/source/relp_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace eventsift::source {

namespace {

constexpr std::string_view kPrefix = "relp-";
constexpr std::string_view kSuffix = ".journal";
constexpr int kMaxLengthDigits = 10;
// A write that failed (disk full, I/O error) is tried again this often.
constexpr std::chrono::milliseconds kRetryWait{200};

template <typename Fn>
void ForEachJournalFile(const std::string& dir, Fn&& fn) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    uint64_t seq = RelpJournal::SeqOf(e->d_name);
    if (seq != 0) fn(seq);
  }
  ::closedir(d);
}

}  // namespace

JournalRecord ParseJournalRecord(std::string_view bytes, uint64_t max_frame_bytes) {
  JournalRecord r;
  uint64_t len = 0;
  size_t i = 0;
  for (; i < bytes.size() && bytes[i] != ' '; ++i) {
    char ch = bytes[i];
    if (ch < '0' || ch > '9' || i >= kMaxLengthDigits) {
      return {JournalRecord::Kind::kBad, {}, {}, 0, "bad record length"};
    }
    len = len * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (i == bytes.size()) return r;  // need more
  if (i == 0) return {JournalRecord::Kind::kBad, {}, {}, 0, "bad record length"};
  if (len > max_frame_bytes)
    return {JournalRecord::Kind::kBad, {}, {}, 0, "record longer than the bound"};
  size_t peer_at = i + 1;
  size_t sp = bytes.find(' ', peer_at);
  if (sp == std::string_view::npos) {
    if (bytes.size() - peer_at > kMaxJournalPeer)
      return {JournalRecord::Kind::kBad, {}, {}, 0, "bad peer field"};
    return r;
  }
  if (sp - peer_at > kMaxJournalPeer)
    return {JournalRecord::Kind::kBad, {}, {}, 0, "bad peer field"};
  size_t frame_at = sp + 1;
  if (bytes.size() - frame_at < len + 1) return r;
  if (bytes[frame_at + len] != '\n')
    return {JournalRecord::Kind::kBad, {}, {}, 0, "record not ended by a line feed"};
  r.kind = JournalRecord::Kind::kRecord;
  r.peer = bytes.substr(peer_at, sp - peer_at);
  r.frame = bytes.substr(frame_at, len);
  r.size = frame_at + len + 1;
  return r;
}

RelpJournal::RelpJournal(RelpJournalOptions options) : options_(std::move(options)) {}

RelpJournal::~RelpJournal() = default;

std::string RelpJournal::PathOf(uint64_t seq) const {
  return fmt::format("{}/{}{:020}{}", options_.dir, kPrefix, seq, kSuffix);
}

uint64_t RelpJournal::SeqOf(std::string_view name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return 0;
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(kSuffix.size());
  if (name.size() != 20) return 0;
  uint64_t seq = 0;
  for (char ch : name) {
    if (ch < '0' || ch > '9') return 0;
    seq = seq * 10 + static_cast<uint64_t>(ch - '0');
  }
  return seq;
}

uint64_t RelpJournal::FirstSeq() const {
  uint64_t first = write_seq();
  ForEachJournalFile(options_.dir, [&](uint64_t seq) { first = std::min(first, seq); });
  return first;
}

Status RelpJournal::Open() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot create: {}", ec.message())).At(options_.dir);
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return Status::IOError(fmt::format("eventfd: {}", std::strerror(errno)));
  wake_ = UniqueFd(efd);
  uint64_t last = 0;
  total_ = 0;
  ForEachJournalFile(options_.dir, [&](uint64_t seq) {
    last = std::max(last, seq);
    struct stat st {};
    if (::stat(PathOf(seq).c_str(), &st) == 0) total_ += static_cast<uint64_t>(st.st_size);
  });
  std::lock_guard<std::mutex> lock(mu_);
  write_seq_.store(last, std::memory_order_release);
  return OpenNext();
}

Status RelpJournal::OpenNext() {
  uint64_t seq = write_seq_.load(std::memory_order_relaxed) + 1;
  std::string path = PathOf(seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0)
    return Status::IOError(fmt::format("cannot create: {}", std::strerror(errno))).At(path);
  fd_ = UniqueFd(fd);
  file_size_ = 0;
  // Published after the file exists, so a reader never skips past it.
  write_seq_.store(seq, std::memory_order_release);
  return Status::OK();
}

Status RelpJournal::WriteRecord(const std::string& record) {
  size_t done = 0;
  while (done < record.size()) {
    ssize_t n = ::write(fd_.get(), record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string what = fmt::format("write: {}", n < 0 ? std::strerror(errno) : "no progress");
      // A part written would leave a cut record in the middle of the file.
      if (done > 0 && ::ftruncate(fd_.get(), static_cast<off_t>(file_size_)) != 0) {
        // The file cannot be repaired: seal it (the reader reports the
        // cut record) and go on in a new one.
        Status s = OpenNext();
        if (!s.ok()) return s;
      }
      return Status::IOError(std::move(what)).At(PathOf(write_seq()), file_size_);
    }
    done += static_cast<size_t>(n);
  }
  file_size_ += record.size();
  total_ += record.size();
  return Status::OK();
}

Status RelpJournal::Append(std::string_view peer, std::string_view frame,
                           const std::function<void()>& on_full,
                           const std::function<void(const Status&)>& on_error) {
  std::unique_lock<std::mutex> lock(mu_);
  record_.clear();
  fmt::format_to(std::back_inserter(record_), "{} ", frame.size());
  std::string_view p = peer.substr(0, kMaxJournalPeer);
  for (char ch : p) record_.push_back(ch == ' ' || ch == '\n' ? '_' : ch);
  if (p.empty()) record_.push_back('-');
  record_.push_back(' ');
  record_.append(frame);
  record_.push_back('\n');
  bool waited = false;
  while (!closing_ && total_ + record_.size() > options_.max_bytes && total_ > 0) {
    if (!waited) {
      if (on_full) on_full();
      writer_waiting_.store(true, std::memory_order_release);
      Wake();  // the loop checkpoints early to release what it has read
    }
    waited = true;
    room_.wait_for(lock, kRetryWait);
  }
  writer_waiting_.store(false, std::memory_order_release);
  for (;;) {
    if (!fd_.valid()) {
      Status s = OpenNext();
      if (!s.ok()) {
        if (on_error) on_error(s);
        if (closing_) return s;
        room_.wait_for(lock, kRetryWait);
        continue;
      }
    }
    Status s = WriteRecord(record_);
    if (s.ok()) break;
    if (on_error) on_error(s);
    if (closing_) return s;
    room_.wait_for(lock, kRetryWait);
  }
  if (file_size_ >= options_.file_bytes) {
    fd_.Reset();
    // Opened now, not at the next message, so the sealed file is seen as
    // sealed at once; a failure here is retried by the next Append.
    (void)OpenNext();
  }
  if (reader_waiting_.exchange(false, std::memory_order_acq_rel)) Wake();
  return Status::OK();
}

void RelpJournal::BeginClose() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  room_.notify_all();
}

void RelpJournal::Release(const JournalPos& pos) {
  uint64_t freed = 0;
  uint64_t writing = write_seq();
  ForEachJournalFile(options_.dir, [&](uint64_t seq) {
    if (seq >= pos.seq || seq >= writing) return;
    std::string path = PathOf(seq);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    if (::unlink(path.c_str()) == 0) freed += static_cast<uint64_t>(st.st_size);
  });
  if (freed == 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    total_ -= std::min(total_, freed);
  }
  room_.notify_all();
}

uint64_t RelpJournal::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

void RelpJournal::Wake() const {
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
}

void RelpJournal::DrainWake() const {
  uint64_t n = 0;
  (void)!::read(wake_.get(), &n, sizeof(n));
}

}  // namespace eventsift::source
