#pragma once
// EVTX file header and chunk header (docs/evtx-format.md, "File" and
// "Chunk"). Parsing checks signatures and sizes; CRC mismatches are recorded
// in the structs, not returned as errors, because Windows leaves them stale in
// dirty files and the caller decides (report, or fail under --strict).

#include <cstdint>
#include <span>

#include "src/core/result.h"

namespace eventsift::evtx {

inline constexpr size_t kFileHeaderSize = 4096;
inline constexpr size_t kChunkSize = 65536;
inline constexpr size_t kChunkHeaderSize = 512;
inline constexpr uint32_t kFlagDirty = 0x1;
inline constexpr uint32_t kFlagFull = 0x2;
// Set by writers that do not maintain checksums (Application_no_crc32.evtx
// has it on the file and on its chunk, with zero checksums): CRCs are then
// not checked.
inline constexpr uint32_t kFlagNoCrc = 0x4;
inline constexpr uint32_t kChunkFlagNoCrc = 0x4;

struct FileHeader {
  uint64_t first_chunk = 0;
  uint64_t last_chunk = 0;
  uint64_t next_record_id = 0;
  uint32_t header_size = 0;
  uint16_t minor_version = 0;
  uint16_t major_version = 0;
  uint16_t header_block_size = 0;
  uint16_t chunk_count = 0;  // 16 bits: wraps past 65535 chunks; not trusted
  uint32_t flags = 0;
  uint32_t checksum = 0;
  uint32_t computed_checksum = 0;
  bool checksum_ok() const { return checksum == computed_checksum; }
  bool dirty() const { return (flags & kFlagDirty) != 0; }
};

// Parses the 4096-byte file header at the start of `file`. Fails on a short
// buffer or a bad signature only.
Result<FileHeader> ParseFileHeader(std::span<const uint8_t> file);

struct ChunkHeader {
  uint64_t first_record_number = 0;
  uint64_t last_record_number = 0;
  uint64_t first_record_id = 0;
  uint64_t last_record_id = 0;
  uint32_t header_size = 0;
  uint32_t last_record_offset = 0;
  uint32_t free_space_offset = 0;
  uint32_t data_checksum = 0;
  uint32_t flags = 0;
  uint32_t header_checksum = 0;
  uint32_t computed_header_checksum = 0;
  // CRC32 of the records area [512, free_space_offset); only valid when
  // free_space_offset is within the chunk.
  uint32_t computed_data_checksum = 0;
  bool header_checksum_ok() const { return header_checksum == computed_header_checksum; }
  bool data_checksum_ok() const { return data_checksum == computed_data_checksum; }
};

// True when the 65536 bytes are all zero (a chunk Windows allocated but never
// wrote): skipped without a report.
bool IsZeroChunk(std::span<const uint8_t> chunk);

// Parses and checksums the header of one chunk (`chunk` is the whole 64 KiB
// image). Fails on a short buffer or a bad "ElfChnk\0" signature.
Result<ChunkHeader> ParseChunkHeader(std::span<const uint8_t> chunk);

// CRC32 (RFC 1952, as zlib computes it) of `bytes`, continuing from `crc`
// (libdeflate's implementation).
uint32_t Crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace eventsift::evtx
