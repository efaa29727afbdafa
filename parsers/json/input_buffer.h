#pragma once
// Getting an export's bytes into memory as UTF-8 that simdjson can parse in
// place: whole-file reads (or stdin), gzip by magic, BOM handling and UTF-16
// conversion. Everything lands in a PaddedBuffer, whose bytes are followed by
// simdjson's SIMDJSON_PADDING slack so any document inside it can be handed
// to ondemand::parser::iterate without a copy.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

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

// Reads a whole file, or standard input for "-". Errors are kIOError naming path.
Status ReadWholeInput(const std::string& path, PaddedBuffer* out);

// True when bytes are gzip or UTF-16 (with a BOM), i.e. PrepareText would
// have to rewrite them; false means they can be parsed where they are.
bool NeedsConversion(std::string_view bytes);

// Length of a UTF-8 BOM at the start of bytes (0 or 3).
size_t Utf8BomLength(std::string_view bytes);

// Turns raw input into parseable UTF-8 in place: gzip (by magic 1f 8b, any
// number of members) is inflated, and UTF-16LE/BE with a BOM is converted. A
// UTF-8 BOM stays in the buffer so offsets match the decompressed file;
// *text_start is set past it. `name` is for error messages. `scratch` is a
// second buffer the caller may reuse across inputs.
Status PrepareText(const std::string& name, PaddedBuffer* buf, PaddedBuffer* scratch,
                   size_t* text_start);

}  // namespace eventsift::json
