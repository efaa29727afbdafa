#pragma once
// Where a tracked file was left: enough to find the same file again after a
// restart (device + inode, confirmed by a hash of its first bytes so a
// recycled inode is not mistaken for it) and to resume after the last input
// that was fully processed.

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "src/core/result.h"

namespace eventsift::source {

struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileId&) const = default;
};

inline FileId FileIdOf(const struct stat& st) {
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

// Bytes hashed to recognise a file. Appending does not change the hash of a
// prefix, so a file that grew is still recognised.
inline constexpr uint32_t kFingerprintBytes = 1024;

struct FileCheckpoint {
  std::string source;  // the Source's name
  std::string path;    // last known path (informational; identity is id+fingerprint)
  FileId id;
  uint64_t fingerprint = 0;      // XXH3 of the first fingerprint_len bytes
  uint32_t fingerprint_len = 0;  // 0: file was empty, matches any file
  bool evtx = false;
  // NDJSON: the byte after the last complete line processed, and its line
  // number. For a compressed file (gzip, zstd) the offset counts
  // decompressed bytes: a compressed stream cannot be entered in its middle,
  // so it is decompressed again from its start and that many bytes skipped.
  uint64_t offset = 0;
  bool compressed = false;
  uint64_t line_no = 0;
  // EVTX: first chunk not yet known to be final, and the last record id delivered.
  uint32_t evtx_next_chunk = 0;
  uint64_t evtx_last_record_id = 0;
};

// Hash of the first min(size, kFingerprintBytes) bytes of the open file, or
// of exactly `len` bytes when len != 0 (to compare with a checkpoint). Fails
// with kNotFound when the file is shorter than `len`.
Result<uint64_t> FingerprintFile(int fd, uint32_t len);
// How many bytes a fingerprint of a file of this size covers.
inline uint32_t FingerprintLength(uint64_t size) {
  return size < kFingerprintBytes ? static_cast<uint32_t>(size) : kFingerprintBytes;
}

}  // namespace eventsift::source
