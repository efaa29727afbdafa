#pragma once
// A read-only mapping of an open file, guarded against the file shrinking
// under it (sigbus_guard.h): pages gone from the file read as zeros instead
// of killing the process, and the reader asks, after decoding a range and
// before handing its output on, whether the range's bytes were all real.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "src/core/sigbus_guard.h"
#include "src/core/status.h"

namespace eventsift {

class MappedFile {
  struct PrivateTag {};  // only Map() constructs

 public:
  // Maps the first `size` bytes of `fd` (which must stay open while the
  // mapping lives). Null when the file cannot be mapped or guarded (an empty
  // file, a pipe, no free guard slot): the caller reads it with pread.
  static std::unique_ptr<MappedFile> Map(int fd, uint64_t size);

  MappedFile(PrivateTag, int fd, const uint8_t* data, uint64_t size, sigbus::Slot slot)
      : fd_(fd), data_(data), size_(size), slot_(slot) {}
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;  // owns the mapping
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, static_cast<size_t>(size_)}; }
  uint64_t size() const { return size_; }

  // The lowest offset of a page found gone from the file, UINT64_MAX if none.
  uint64_t FirstFault() const { return sigbus::FirstFault(slot_); }

  // OK when bytes [offset, offset + length) read so far were the file's: no
  // page at or before the range's end was found gone. With `check_size`
  // (for a range whose decoding looked wrong: the zeros past a shrunk file's
  // end inside its last page raise no fault) the file's current size is
  // checked too. Otherwise an I/O error "file shrank while read" naming
  // `name` and the offset where the file's bytes end.
  Status CheckRange(uint64_t offset, uint64_t length, bool check_size, std::string_view name) const;

  // Drops the pages of [0, offset) from this process's mappings (they stay
  // in the page cache): the reader is done with them, and without this every
  // page read would count in the process's resident size until the end.
  void Release(uint64_t offset) const;

 private:
  int fd_;
  const uint8_t* data_;
  uint64_t size_;
  sigbus::Slot slot_;
};

}  // namespace eventsift
