#include "src/source/decompressor.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>

#include <fmt/format.h>

namespace eventsift::source {

namespace {

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

// How `head` compares with `magic`: 1 match, 0 mismatch, -1 too short to say.
int PrefixMatch(std::string_view head, const unsigned char* magic, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (i >= head.size()) return -1;
    if (static_cast<unsigned char>(head[i]) != magic[i]) return 0;
  }
  return 1;
}

}  // namespace

Compression DetectCompression(std::string_view head, bool* undecided) {
  int gz = PrefixMatch(head, kGzipMagic, sizeof(kGzipMagic));
  int zs = PrefixMatch(head, kZstdMagic, sizeof(kZstdMagic));
  *undecided = gz < 0 || zs < 0;
  if (gz == 1) return Compression::kGzip;
  if (zs == 1) return Compression::kZstd;
  return Compression::kNone;
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

struct StreamDecompressor::State {
  z_stream zs{};
  bool z_init = false;
  ZSTD_DStream* zstd = nullptr;
  ~State() {
    if (z_init) inflateEnd(&zs);
    if (zstd != nullptr) ZSTD_freeDStream(zstd);
  }
};

StreamDecompressor::StreamDecompressor(Compression kind)
    : kind_(kind), state_(std::make_unique<State>()) {}

StreamDecompressor::~StreamDecompressor() = default;

Status StreamDecompressor::Decompress(std::string_view in, size_t* consumed, char* out,
                                      size_t out_cap, size_t* produced) {
  *consumed = 0;
  *produced = 0;
  if (kind_ == Compression::kGzip) {
    z_stream& zs = state_->zs;
    if (!state_->z_init) {
      // 15 + 16: largest window, gzip header required.
      if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status::Internal("inflateInit2 failed");
      state_->z_init = true;
    }
    while (*produced < out_cap) {
      if (at_boundary_) {
        // Between members: only another gzip member may follow. Anything
        // else (zero padding from some writers) ends the useful data.
        std::string_view rest = in.substr(*consumed);
        if (rest.empty() || ended_) return Status::OK();
        bool undecided = false;
        if (DetectCompression(rest, &undecided) != Compression::kGzip) {
          if (undecided) return Status::OK();  // wait for the next byte
          ended_ = true;
          *consumed = in.size();
          return Status::OK();
        }
        inflateReset(&zs);
        at_boundary_ = false;
      }
      // Called even with no input left: zlib may hold output from the last
      // call that ran out of room.
      size_t avail = in.size() - *consumed;
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + *consumed));
      zs.avail_in = static_cast<uInt>(std::min<size_t>(avail, 1u << 30));
      zs.next_out = reinterpret_cast<Bytef*>(out + *produced);
      zs.avail_out = static_cast<uInt>(std::min<size_t>(out_cap - *produced, 1u << 30));
      uInt in_before = zs.avail_in, out_before = zs.avail_out;
      int rc = inflate(&zs, Z_NO_FLUSH);
      *consumed += in_before - zs.avail_in;
      *produced += out_before - zs.avail_out;
      if (rc == Z_STREAM_END) {
        at_boundary_ = true;
      } else if (rc == Z_BUF_ERROR) {
        return Status::OK();  // needs more input (or output room)
      } else if (rc != Z_OK) {
        return Status::Corruption(
            fmt::format("gzip: {}", zs.msg != nullptr ? zs.msg : "inflate failed"));
      }
    }
    return Status::OK();
  }
  if (kind_ == Compression::kZstd) {
    if (state_->zstd == nullptr) {
      state_->zstd = ZSTD_createDStream();
      if (state_->zstd == nullptr) return Status::Internal("ZSTD_createDStream failed");
      ZSTD_DCtx_setParameter(state_->zstd, ZSTD_d_windowLogMax, kMaxZstdWindowLog);
    }
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    ZSTD_outBuffer ob{out, out_cap, 0};
    while (ob.pos < ob.size) {
      size_t in_before = ib.pos, out_before = ob.pos;
      size_t rc = ZSTD_decompressStream(state_->zstd, &ob, &ib);
      if (ZSTD_isError(rc)) {
        *consumed = ib.pos;
        *produced = ob.pos;
        return Status::Corruption(fmt::format("zstd: {}", ZSTD_getErrorName(rc)));
      }
      if (ib.pos == in_before && ob.pos == out_before) break;  // needs more input
      at_boundary_ = rc == 0;  // 0: a frame ended and is fully flushed
    }
    *consumed = ib.pos;
    *produced = ob.pos;
    return Status::OK();
  }
  size_t n = std::min(in.size(), out_cap);
  std::copy_n(in.data(), n, out);
  *consumed = *produced = n;
  return Status::OK();
}

}  // namespace eventsift::source
