#pragma once
// Decodes one 64 KiB chunk into events (and optionally their XML), with the
// recovery rules of docs/evtx-format.md: a bad record is reported and the
// rest of the chunk is scanned for the next valid record; --carve also scans
// the slack space after the free-space offset.
//
// Chunks are independent (names and templates are chunk-local), so any number
// of ChunkDecoders may run in parallel on different chunks of one file, and a
// tailer can decode a chunk as soon as it has been written.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/evtx/file_header.h"
#include "src/core/arena.h"
#include "src/core/status.h"
#include "src/event/event.h"

namespace eventsift::evtx {

inline constexpr uint32_t kRecordSignature = 0x00002a2a;
inline constexpr size_t kRecordHeaderSize = 24;

struct RecordHeader {
  uint32_t size = 0;
  uint64_t record_id = 0;
  FileTime written = 0;
};

enum class RecordCheck : uint8_t {
  kBad,           // no signature, or a size that cannot be right
  kValid,         // signature, size within the chunk, equal trailing copy
  kCopyMismatch,  // as kValid but the trailing size copy differs
};

// Reads and checks the record header at `offset` in `chunk`.
RecordCheck ReadRecordHeader(std::span<const uint8_t> chunk, size_t offset, RecordHeader* out);

// Events of one chunk, in record order. Event::data is left empty in
// `events`; the fields of event i are fields[ranges[i].first, ranges[i].second).
// Every string_view points into `arena` or into the input file image, so the
// output lives as long as both (and until Clear()).
struct ChunkOutput {
  struct Report {
    Status status;
    uint64_t bytes_dropped = 0;
  };
  Arena arena{256 * 1024};
  std::vector<Event> events;
  std::vector<DataField> fields;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  // Rendered records back to back (XML or JSON), read through text_ranges:
  // JSON leaves padding after the last record, kept across Clear() so the
  // next chunk's writer finds room without zero-filling it again.
  std::string text;
  std::vector<std::pair<uint32_t, uint32_t>> text_ranges;
  size_t text_size = 0;  // bytes of text rendered (records and newlines)
  // The rendered records back to back, without the padding.
  std::string_view rendered() const { return std::string_view(text).substr(0, text_size); }
  std::vector<Report> reports;  // corruption found, in file order
  Status fatal;                 // non-OK: --strict stops the file here
  uint64_t bytes_dropped = 0;
  uint64_t records_skipped_payload = 0;
  uint64_t records_walked = 0;  // filled by the walker, not (only) from a plan
  // Records decoded that were found by scanning (DecoderStats::records_recovered).
  uint64_t records_recovered = 0;
  bool never_written = false;  // an all-zero chunk: skipped, nothing to say

  void Clear() {
    arena.Reset();
    events.clear();
    fields.clear();
    ranges.clear();
    text_ranges.clear();
    text_size = 0;
    reports.clear();
    fatal = Status::OK();
    bytes_dropped = 0;
    records_skipped_payload = 0;
    records_walked = 0;
    records_recovered = 0;
    never_written = false;
  }
};

struct ChunkDecodeOptions {
  bool strict = false;  // CRC mismatch fatal
  bool carve = false;   // recover records from slack space
  // Also render each record into ChunkOutput::text: on the decoding thread,
  // so `dump` renders in parallel too.
  enum class Render : uint8_t { kNone, kXml, kJson };
  Render render = Render::kNone;
  // JSON: a newline after each record (outside its text range), so the
  // chunk's text is its JSON lines.
  bool newline_after_record = false;
  // Fill events from compiled template plans where a record allows it (the
  // fast path); false always walks (tests compare both).
  bool use_plans = true;
  // Asked per record once System is filled; false skips EventData. Called
  // from the decoding thread; null means always decode.
  bool (*want_payload)(void* ctx, const Event& header) = nullptr;
  void* want_payload_ctx = nullptr;
  // See EventHandler::FullHeaderWhenDeclined: false lets planned records
  // fill only the header filter's fields before the gate is asked.
  bool full_header_when_declined = true;
};

class TemplateCache;

// Decodes chunk `index` (its 64 KiB image, at `file_offset` in `file_name`)
// into `out` (cleared first). Never fails: problems become reports, or
// out->fatal under strict. `file_name` and `chunk` must outlive `out`'s use.
// `cache`, if not null, lends templates compiled in earlier chunks (and keeps
// this chunk's); it must outlive `out`'s use too, and serve one thread.
// `size_in_file` (0: chunk.size()) is the chunk's size in the file when
// `chunk` is only its first bytes, up to the free-space offset its header
// gives (not with --carve): nothing past them is read then, so a report may
// be caused by the missing bytes and the caller must decode the whole chunk
// again (evtx_decoder.cc does).
void DecodeChunk(std::span<const uint8_t> chunk, uint32_t index, uint64_t file_offset,
                 std::string_view file_name, const ChunkDecodeOptions& options, ChunkOutput* out,
                 TemplateCache* cache = nullptr, size_t size_in_file = 0);

}  // namespace eventsift::evtx
