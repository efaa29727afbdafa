#pragma once
// StreamDecompressor: inflates gzip (any number of members) or zstd (any
// number of frames) a block at a time, so a tailed drop file is read as it
// grows and a file of any size, a decompression bomb included, needs only
// fixed memory: zlib's 32 KiB window, or zstd's window capped at
// kMaxZstdWindowLog (a frame asking for more is an error, not an allocation).
// The compression is told by the first bytes (magic), never by the name.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "src/core/status.h"

namespace eventsift::source {

enum class Compression : uint8_t { kNone, kGzip, kZstd };

// zstd frames whose window is larger than 2^27 (128 MiB, zstd's own default
// limit for streaming) are refused.
inline constexpr int kMaxZstdWindowLog = 27;

// kGzip / kZstd when `head` starts with that format's magic, else kNone;
// *undecided is set when `head` is too short to tell (a file whose first
// bytes are still being written).
Compression DetectCompression(std::string_view head, bool* undecided);
std::string_view CompressionName(Compression c);

class StreamDecompressor {
 public:
  explicit StreamDecompressor(Compression kind);
  ~StreamDecompressor();
  StreamDecompressor(const StreamDecompressor&) = delete;
  StreamDecompressor& operator=(const StreamDecompressor&) = delete;

  // Decompresses from `in` into out[0, out_cap). Sets *consumed (bytes of
  // `in` used) and *produced. Call again with the rest of `in` while
  // *produced == out_cap. Errors (corrupt data, a too-large zstd window)
  // are final; the caller names the file and *consumed locates them.
  Status Decompress(std::string_view in, size_t* consumed, char* out, size_t out_cap,
                    size_t* produced);
  // True between members/frames: the input so far is complete. False in the
  // middle of one: a file that stops here was cut short.
  bool at_boundary() const { return at_boundary_; }
  // gzip only: bytes that are not another member followed the last one
  // (zero padding some writers leave). They are ignored, as `scan` does,
  // and the stream is over.
  bool ended() const { return ended_; }
  Compression kind() const { return kind_; }

 private:
  struct State;
  Compression kind_;
  bool at_boundary_ = true;
  bool ended_ = false;
  std::unique_ptr<State> state_;
};

}  // namespace eventsift::source
