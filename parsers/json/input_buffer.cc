#include "parsers/json/input_buffer.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include <fmt/format.h>

#include "src/core/utf16.h"

namespace eventsift::json {

static_assert(kPadding >= simdjson::SIMDJSON_PADDING, "PaddedBuffer must satisfy simdjson");

void PaddedBuffer::Reserve(size_t n) {
  if (n <= capacity_) return;
  size_t cap = std::max(n, capacity_ + capacity_ / 2);
  auto grown = std::make_unique_for_overwrite<char[]>(cap + kPadding);
  if (size_ > 0) std::memcpy(grown.get(), buf_.get(), size_);
  // The padding is never parsed as JSON, but zeroing it keeps reads defined.
  std::memset(grown.get() + cap, 0, kPadding);
  buf_ = std::move(grown);
  capacity_ = cap;
}

void PaddedBuffer::Assign(std::string_view bytes) {
  size_ = 0;
  Append(bytes.data(), bytes.size());
}

void PaddedBuffer::Append(const char* p, size_t n) {
  Reserve(size_ + n);
  if (n > 0) std::memcpy(buf_.get() + size_, p, n);
  size_ += n;
}

void PaddedBuffer::SetSize(size_t n) { size_ = std::min(n, capacity_); }

bool IsGzip(std::string_view b) {
  return b.size() >= 2 && static_cast<uint8_t>(b[0]) == 0x1f && static_cast<uint8_t>(b[1]) == 0x8b;
}

bool IsUtf16(std::string_view b) {
  if (b.size() < 2) return false;
  auto b0 = static_cast<uint8_t>(b[0]), b1 = static_cast<uint8_t>(b[1]);
  return (b0 == 0xFF && b1 == 0xFE) || (b0 == 0xFE && b1 == 0xFF);
}

size_t Utf8BomLength(std::string_view b) {
  return b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xEF &&
                 static_cast<uint8_t>(b[1]) == 0xBB && static_cast<uint8_t>(b[2]) == 0xBF
             ? 3
             : 0;
}

void ConvertUtf16ToUtf8(PaddedBuffer* buf, PaddedBuffer* scratch) {
  std::string_view units = buf->view().substr(2);
  if (static_cast<uint8_t>(buf->view()[0]) == 0xFE) {
    // Our converter reads little-endian; swap big-endian into scratch first.
    scratch->Assign(units);
    char* p = scratch->data();
    for (size_t i = 0; i + 1 < scratch->size(); i += 2) std::swap(p[i], p[i + 1]);
    units = scratch->view();
  }
  std::string utf8;
  AppendUtf16LeAsUtf8(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(units.data()), units.size()),
      &utf8);
  buf->Assign(utf8);
}

// ---- MappedInput -----------------------------------------------------------

std::unique_ptr<MappedInput> MappedInput::Open(const std::string& path) {
  if (path == "-") return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;  // the stream path reports why
  struct stat st {};
  std::unique_ptr<MappedFile> map;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    map = MappedFile::Map(fd, static_cast<uint64_t>(st.st_size));
  }
  if (map == nullptr) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<MappedInput>(PrivateTag{}, fd, std::move(map));
}

MappedInput::~MappedInput() {
  map_.reset();
  ::close(fd_);
}

// ---- InputReader -----------------------------------------------------------

namespace {
constexpr size_t kRawChunk = 1 << 20;  // compressed bytes read per fread
}  // namespace

struct InputReader::ZState {
  z_stream zs{};
  bool init = false;
};

InputReader::InputReader()
    : raw_(std::make_unique_for_overwrite<char[]>(kRawChunk)), z_(std::make_unique<ZState>()) {}

InputReader::~InputReader() { Close(); }

void InputReader::Close() {
  if (z_->init) {
    inflateEnd(&z_->zs);
    z_->init = false;
  }
  owned_file_.reset();
  file_ = nullptr;
  memory_ = {};
  raw_pos_ = raw_end_ = 0;
  file_left_ = UINT64_MAX;
  source_eof_ = gzip_ = done_ = false;
}

Status InputReader::OpenFile(const std::string& path) {
  Close();
  if (path == "-") {
    name_ = "<stdin>";
    file_ = stdin;
  } else {
    name_ = path;
    owned_file_ = eventsift::OpenFile(path, "rb");
    file_ = owned_file_.get();
    if (file_ == nullptr) {
      return Status::IOError(fmt::format("cannot open: {}", std::strerror(errno))).At(path);
    }
  }
  ES_RETURN_IF_ERROR(Fill());
  gzip_ = IsGzip(std::string_view(raw_.get(), raw_end_));
  return Status::OK();
}

Status InputReader::OpenFileRange(const std::string& path, uint64_t begin, uint64_t end) {
  Close();
  name_ = path;
  owned_file_ = eventsift::OpenFile(path, "rb");
  file_ = owned_file_.get();
  if (file_ == nullptr) {
    return Status::IOError(fmt::format("cannot open: {}", std::strerror(errno))).At(path);
  }
  if (begin > static_cast<uint64_t>(INT64_MAX) ||
      fseeko(file_, static_cast<off_t>(begin), SEEK_SET) != 0) {
    return Status::IOError(fmt::format("cannot seek: {}", std::strerror(errno))).At(path, begin);
  }
  file_left_ = end > begin ? end - begin : 0;
  source_eof_ = file_left_ == 0;
  return Status::OK();
}

void InputReader::OpenMemory(std::string_view bytes) {
  Close();
  name_ = "<memory>";
  memory_ = bytes;
  (void)Fill();  // cannot fail for memory
  gzip_ = IsGzip(std::string_view(raw_.get(), raw_end_));
}

Status InputReader::Fill() {
  raw_pos_ = raw_end_ = 0;
  if (source_eof_) return Status::OK();
  if (file_ != nullptr) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kRawChunk, file_left_));
    size_t n = std::fread(raw_.get(), 1, want, file_);
    file_left_ -= n;
    if (n < want || file_left_ == 0) {
      if (std::ferror(file_)) {
        return Status::IOError(fmt::format("read failed: {}", std::strerror(errno))).At(name_);
      }
      source_eof_ = true;
    }
    raw_end_ = n;
  } else {
    size_t n = std::min(kRawChunk, memory_.size());
    std::memcpy(raw_.get(), memory_.data(), n);
    memory_.remove_prefix(n);
    source_eof_ = memory_.empty();
    raw_end_ = n;
  }
  return Status::OK();
}

Status InputReader::Read(char* dst, size_t n, size_t* got) {
  *got = 0;
  if (done_ || n == 0) return Status::OK();
  if (gzip_) return Inflate(dst, n, got);
  if (raw_pos_ == raw_end_ && file_ != nullptr && !source_eof_) {
    // A plain file with nothing buffered: read straight into the caller's
    // buffer rather than through raw_ and a copy (a whole pass over the
    // input's bytes that NDJSON scanning would otherwise pay).
    n = static_cast<size_t>(std::min<uint64_t>(n, file_left_));
    size_t read = std::fread(dst, 1, n, file_);
    file_left_ -= read;
    if (read < n || file_left_ == 0) {
      if (std::ferror(file_)) {
        return Status::IOError(fmt::format("read failed: {}", std::strerror(errno))).At(name_);
      }
      source_eof_ = true;
    }
    if (read == 0) done_ = true;
    *got = read;
    return Status::OK();
  }
  if (raw_pos_ == raw_end_) ES_RETURN_IF_ERROR(Fill());
  if (raw_pos_ == raw_end_) {
    done_ = true;
    return Status::OK();
  }
  *got = std::min(n, raw_end_ - raw_pos_);
  std::memcpy(dst, raw_.get() + raw_pos_, *got);
  raw_pos_ += *got;
  return Status::OK();
}

Status InputReader::Inflate(char* dst, size_t n, size_t* got) {
  z_stream& zs = z_->zs;
  if (!z_->init) {
    // 15 + 32: largest window, and accept a gzip or zlib header.
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
      return Status::Internal("inflateInit2 failed").At(name_);
    z_->init = true;
  }
  n = std::min<size_t>(n, 1u << 30);  // avail_out is 32-bit
  for (;;) {
    if (raw_pos_ == raw_end_) ES_RETURN_IF_ERROR(Fill());
    size_t avail = raw_end_ - raw_pos_;
    zs.next_in = reinterpret_cast<Bytef*>(raw_.get() + raw_pos_);
    zs.avail_in = static_cast<uInt>(avail);
    zs.next_out = reinterpret_cast<Bytef*>(dst + *got);
    zs.avail_out = static_cast<uInt>(n - *got);
    int rc = inflate(&zs, Z_NO_FLUSH);
    raw_pos_ += avail - zs.avail_in;
    *got = n - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Another member follows only if the next bytes are gzip too (files
      // made with `cat a.gz b.gz`, pigz); anything else is ignored.
      if (raw_pos_ == raw_end_) ES_RETURN_IF_ERROR(Fill());
      if (!IsGzip(std::string_view(raw_.get() + raw_pos_, raw_end_ - raw_pos_))) {
        done_ = true;
        return Status::OK();
      }
      inflateReset(&zs);
    } else if (rc == Z_OK || (rc == Z_BUF_ERROR && (zs.avail_in > 0 || !source_eof_))) {
      // progress, or more input to come
    } else if (rc == Z_BUF_ERROR) {
      // No more input and the stream is not finished: cut off.
      if (*got > 0) return Status::OK();  // hand out what we have first
      done_ = true;
      return Status::Truncated(
                 fmt::format("gzip stream ends early after {} decompressed bytes", zs.total_out))
          .At(name_);
    } else {
      done_ = true;
      return Status::Corruption(
                 fmt::format("gzip: {}", zs.msg != nullptr ? zs.msg : "inflate failed"))
          .At(name_, zs.total_in);
    }
    if (*got == n) return Status::OK();
  }
}

}  // namespace eventsift::json
