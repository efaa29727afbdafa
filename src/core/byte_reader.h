#pragma once
// ByteReader: the only way untrusted bytes are read. Every read names the
// field it reads, checks the bound, and reports a short read as
// Status::Truncated with the absolute offset (evtx's byte_cursor, leveldb's
// GetVarint32(Slice*)). Values are decoded little-endian with memcpy, never by
// casting pointers into the buffer.

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "src/core/status.h"

namespace eventsift {

class ByteReader {
 public:
  // `data` must outlive the reader. `base_offset` is the absolute offset of
  // data[0] in the file, used only in error messages.
  explicit ByteReader(std::span<const uint8_t> data, uint64_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}

  size_t pos() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  uint64_t absolute_pos() const { return base_offset_ + pos_; }
  std::span<const uint8_t> data() const { return data_; }
  bool at_end() const { return pos_ >= data_.size(); }

  Status Seek(size_t pos, const char* what) {
    if (pos > data_.size()) return OutOfBounds(what, pos, 0);
    pos_ = pos;
    return Status::OK();
  }
  Status Skip(size_t n, const char* what) {
    if (n > remaining()) return Short(what, n);
    pos_ += n;
    return Status::OK();
  }
  Status ReadBytes(size_t n, const char* what, std::span<const uint8_t>* out) {
    if (n > remaining()) return Short(what, n);
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return Status::OK();
  }
  Status ReadU8(const char* what, uint8_t* out) { return ReadLE(what, out); }
  Status ReadU16(const char* what, uint16_t* out) { return ReadLE(what, out); }
  Status ReadU32(const char* what, uint32_t* out) { return ReadLE(what, out); }
  Status ReadU64(const char* what, uint64_t* out) { return ReadLE(what, out); }

  // Peeks without advancing; false when fewer than sizeof(T) bytes remain.
  template <typename T>
  bool Peek(T* out) const {
    if (sizeof(T) > remaining()) return false;
    *out = LoadLE<T>(data_.data() + pos_);
    return true;
  }

  // Little-endian load from a span at `offset`, bounds-checked.
  template <typename T>
  static bool LoadAt(std::span<const uint8_t> data, size_t offset, T* out) {
    if (offset > data.size() || sizeof(T) > data.size() - offset) return false;
    *out = LoadLE<T>(data.data() + offset);
    return true;
  }

 private:
  template <typename T>
  static T LoadLE(const uint8_t* p) {
    // x86-64 and aarch64 Linux are little-endian; memcpy keeps it free of
    // alignment and aliasing UB.
    static_assert(std::endian::native == std::endian::little);
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  template <typename T>
  Status ReadLE(const char* what, T* out) {
    if (sizeof(T) > remaining()) return Short(what, sizeof(T));
    *out = LoadLE<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return Status::OK();
  }
  Status Short(const char* what, size_t need) const {
    return Status::Truncated(fmt::format("{}: need {} bytes, have {}", what, need, remaining()))
        .AtOffset(absolute_pos());
  }
  Status OutOfBounds(const char* what, size_t pos, size_t) const {
    return Status::Corruption(
               fmt::format("{}: offset {} past end of {}-byte buffer", what, pos, data_.size()))
        .AtOffset(base_offset_ + pos);
  }

  std::span<const uint8_t> data_;
  uint64_t base_offset_;
  size_t pos_ = 0;
};

}  // namespace eventsift
