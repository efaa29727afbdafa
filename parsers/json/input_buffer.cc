#include "parsers/json/input_buffer.h"

#include <simdjson.h>
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

namespace {

// Reads everything from an open stdio stream.
Status ReadStream(std::FILE* f, const std::string& path, PaddedBuffer* out) {
  constexpr size_t kChunk = 1 << 20;
  for (;;) {
    out->Reserve(out->size() + kChunk);
    size_t n = std::fread(out->data() + out->size(), 1, kChunk, f);
    out->SetSize(out->size() + n);
    if (n < kChunk) {
      if (std::ferror(f)) return Status::IOError(fmt::format("read failed: {}", std::strerror(errno))).At(path);
      return Status::OK();
    }
  }
}

bool IsGzip(std::string_view b) {
  return b.size() >= 2 && static_cast<uint8_t>(b[0]) == 0x1f && static_cast<uint8_t>(b[1]) == 0x8b;
}

// Inflates every gzip member of `in` into `out` (files made with `cat a.gz b.gz`
// and pigz output have several).
Status Gunzip(const std::string& name, std::string_view in, PaddedBuffer* out) {
  out->Clear();
  out->Reserve(in.size() * 4 + 4096);
  z_stream zs{};
  // 15 + 32: largest window, and accept a gzip or zlib header.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("inflateInit2 failed").At(name);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = 0;
  size_t consumed = 0;
  Status status;
  for (;;) {
    if (zs.avail_in == 0 && consumed < in.size()) {
      // avail_in is 32-bit; feed at most 1 GiB at a time.
      size_t n = std::min<size_t>(in.size() - consumed, 1u << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + consumed));
      zs.avail_in = static_cast<uInt>(n);
      consumed += n;
    }
    if (out->capacity() - out->size() < 65536) out->Reserve(out->capacity() * 2);
    size_t room = std::min<size_t>(out->capacity() - out->size(), 1u << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + out->size());
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out->SetSize(out->size() + (room - zs.avail_out));
    if (rc == Z_STREAM_END) {
      // Another member follows only if more bytes remain and they look like gzip.
      size_t left = zs.avail_in + (in.size() - consumed);
      if (left == 0) break;
      std::string_view rest(reinterpret_cast<const char*>(zs.next_in), zs.avail_in);
      if (!IsGzip(rest) && zs.avail_in >= 2) break;  // trailing garbage after the stream: ignore
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == in.size()) {
      status = Status::Truncated(fmt::format("gzip stream ends early after {} decompressed bytes",
                                             out->size()))
                   .At(name);
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status = Status::Corruption(fmt::format("gzip: {}", zs.msg ? zs.msg : "inflate failed"))
                   .At(name, zs.total_in);
      break;
    }
  }
  inflateEnd(&zs);
  return status;
}

// UTF-16 with a BOM -> UTF-8 (Windows PowerShell 5's `Out-File` and `>` write
// UTF-16LE). The BOM itself is dropped; an odd trailing byte is ignored.
void Utf16ToUtf8(std::string_view in, bool big_endian, PaddedBuffer* scratch, std::string* out) {
  std::string_view units = in.substr(2);
  if (big_endian) {
    // Our converter reads little-endian; swap into scratch first.
    scratch->Assign(units);
    char* p = scratch->data();
    for (size_t i = 0; i + 1 < scratch->size(); i += 2) std::swap(p[i], p[i + 1]);
    units = scratch->view();
  }
  AppendUtf16LeAsUtf8(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(units.data()), units.size()), out);
}

}  // namespace

Status ReadWholeInput(const std::string& path, PaddedBuffer* out) {
  out->Clear();
  if (path == "-") return ReadStream(stdin, "<stdin>", out);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError(fmt::format("cannot open: {}", std::strerror(errno))).At(path);
  // Size the buffer once for regular files; pipes and FIFOs just grow.
  if (std::fseek(f, 0, SEEK_END) == 0) {
    long size = std::ftell(f);
    if (size > 0) out->Reserve(static_cast<size_t>(size) + 1);
    std::rewind(f);
  }
  Status s = ReadStream(f, path, out);
  std::fclose(f);
  return s;
}

bool NeedsConversion(std::string_view b) {
  if (IsGzip(b)) return true;
  if (b.size() < 2) return false;
  auto b0 = static_cast<uint8_t>(b[0]), b1 = static_cast<uint8_t>(b[1]);
  return (b0 == 0xFF && b1 == 0xFE) || (b0 == 0xFE && b1 == 0xFF);
}

size_t Utf8BomLength(std::string_view b) {
  return b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xEF && static_cast<uint8_t>(b[1]) == 0xBB &&
                 static_cast<uint8_t>(b[2]) == 0xBF
             ? 3
             : 0;
}

Status PrepareText(const std::string& name, PaddedBuffer* buf, PaddedBuffer* scratch,
                   size_t* text_start) {
  *text_start = 0;
  Status gz_status;
  if (IsGzip(buf->view())) {
    gz_status = Gunzip(name, buf->view(), scratch);
    std::swap(*buf, *scratch);
    // A truncated gzip stream still yields the events before the cut: the
    // caller reports the status and decodes what we have.
    if (!gz_status.ok() && gz_status.code() != StatusCode::kTruncated) return gz_status;
  }
  std::string_view v = buf->view();
  if (NeedsConversion(v)) {  // gzip is gone by now: UTF-16
    std::string utf8;
    Utf16ToUtf8(v, static_cast<uint8_t>(v[0]) == 0xFE, scratch, &utf8);
    buf->Assign(utf8);
  } else {
    *text_start = Utf8BomLength(v);
  }
  return gz_status;
}

}  // namespace eventsift::json
