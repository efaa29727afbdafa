#pragma once
// Getting an export's bytes into memory as UTF-8 that simdjson can parse in
// place: streaming reads of files, stdin or buffers with gzip inflated by
// magic, BOM handling and UTF-16 conversion. Bytes land in a PaddedBuffer,
// whose contents are followed by simdjson's SIMDJSON_PADDING slack so any
// document inside it can be handed to ondemand::parser::iterate without a copy.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/core/file_util.h"
#include "src/core/mapped_file.h"
#include "src/core/status.h"

namespace eventsift::json {

// simdjson reads up to this many bytes past a document's end (SIMDJSON_PADDING;
// static_assert in input_buffer.cc keeps the two in step).
inline constexpr size_t kPadding = 64;

// A growable byte buffer that always has kPadding readable bytes after size().
// Growth keeps the contents; views into it die on the next Reserve/Append.
class PaddedBuffer {
 public:
  PaddedBuffer() = default;
  PaddedBuffer(const PaddedBuffer&) = delete;  // large; move it instead
  PaddedBuffer& operator=(const PaddedBuffer&) = delete;
  PaddedBuffer(PaddedBuffer&&) noexcept = default;
  PaddedBuffer& operator=(PaddedBuffer&&) noexcept = default;

  void Assign(std::string_view bytes);
  // Ensures room for `n` bytes (plus padding) without changing size().
  void Reserve(size_t n);
  void Append(const char* p, size_t n);
  // Sets size() to n <= capacity(); bytes in [old size, n) are whatever was
  // written to data() directly.
  void SetSize(size_t n);
  void Clear() { size_ = 0; }

  char* data() { return buf_.get(); }
  const char* data() const { return buf_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {buf_.get(), size_}; }

 private:
  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;
  size_t capacity_ = 0;  // usable bytes, padding not counted
};

// Streams the bytes of an input, inflating gzip (by magic; any number of
// members) as it goes, so a large export never has to fit in memory. The
// source is a file, stdin ("-"), or a caller's buffer that must outlive us.
class InputReader {
 public:
  InputReader();
  ~InputReader();
  InputReader(const InputReader&) = delete;  // owns a FILE* and a z_stream
  InputReader& operator=(const InputReader&) = delete;

  Status OpenFile(const std::string& path);
  // Bytes [begin, end) of a plain file, read as they are (no gzip sniffing):
  // one part of an NDJSON file split across threads.
  Status OpenFileRange(const std::string& path, uint64_t begin, uint64_t end);
  void OpenMemory(std::string_view bytes);

  // Reads up to n decompressed bytes into dst; *got == 0 means end of input.
  // A gzip stream that ends early gives kTruncated once, then end of input.
  Status Read(char* dst, size_t n, size_t* got);

  bool gzip() const { return gzip_; }

 private:
  // Raw (possibly compressed) bytes from the source into raw_.
  Status Fill();
  Status Inflate(char* dst, size_t n, size_t* got);
  void Close();

  std::string name_;
  UniqueFile owned_file_;      // an opened file; null for stdin and memory
  std::FILE* file_ = nullptr;  // stdin or owned_file_.get()
  std::string_view memory_;    // OpenMemory source, consumed from the front
  std::unique_ptr<char[]> raw_;
  size_t raw_pos_ = 0, raw_end_ = 0;
  bool source_eof_ = false;
  uint64_t file_left_ = UINT64_MAX;  // bytes the file source may still yield
  bool gzip_ = false;
  bool done_ = false;
  struct ZState;
  std::unique_ptr<ZState> z_;
};

// A plain file mapped read-only (src/core/mapped_file.h), for NDJSON decoded
// where it lies rather than read into a buffer.
class MappedInput {
  struct PrivateTag {};  // only Open() constructs

 public:
  // Null when `path` is not a regular non-empty file or cannot be mapped
  // (stdin, a pipe, no guard slot free): the caller reads it as a stream.
  static std::unique_ptr<MappedInput> Open(const std::string& path);
  MappedInput(PrivateTag, int fd, std::unique_ptr<MappedFile> map)
      : fd_(fd), map_(std::move(map)) {}
  ~MappedInput();
  MappedInput(const MappedInput&) = delete;  // owns the descriptor
  MappedInput& operator=(const MappedInput&) = delete;

  const MappedFile& map() const { return *map_; }
  std::string_view text() const {
    return {reinterpret_cast<const char*>(map_->bytes().data()), map_->bytes().size()};
  }

 private:
  int fd_;
  std::unique_ptr<MappedFile> map_;
};

// True when bytes start with the gzip magic (1f 8b).
bool IsGzip(std::string_view bytes);

// True when bytes start with a UTF-16 BOM (FF FE or FE FF).
bool IsUtf16(std::string_view bytes);

// Length of a UTF-8 BOM at the start of bytes (0 or 3).
size_t Utf8BomLength(std::string_view bytes);

// Replaces UTF-16 text (with its BOM) in *buf by UTF-8 without the BOM.
// Unpaired surrogates become U+FFFD; an odd trailing byte is dropped.
// `scratch` is reused for the byte swap of big-endian input.
void ConvertUtf16ToUtf8(PaddedBuffer* buf, PaddedBuffer* scratch);

}  // namespace eventsift::json
