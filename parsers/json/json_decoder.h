#pragma once
// JSON export decoder (NDJSON and arrays; Winlogbeat/ECS, NXLog, PowerShell,
// evtx_dump shapes): see docs/json-exports.md.
//
// Three entry points share one per-document parser (parsers/json/event_parser.h):
//   - NewJsonDecoder: the Decoder for files, .gz files and stdin ("-");
//   - DecodeJsonBuffer: a whole export already in memory (fuzzer, benchmarks);
//   - JsonLineDecoder: one NDJSON line at a time (the daemon's tailer and TCP
//     listener, which frame lines themselves).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/decoder/decoder.h"

namespace eventsift::json {

class EventParser;

// Longest NDJSON line or array element we parse. Longer ones are reported
// (kResourceExhausted) and skipped, so one runaway line cannot make us
// allocate without bound.
inline constexpr size_t kMaxDocumentBytes = 16u << 20;

// Largest input (after gzip, before UTF-16 conversion) that is read whole:
// a top-level array, pretty-printed objects or UTF-16 text, whose framing
// needs all of it. A larger one is refused with an error naming the file
// (NDJSON streams, whatever its size), so one export cannot take the memory
// the other inputs need.
inline constexpr size_t kMaxWholeInputBytes = 256u << 20;

std::unique_ptr<Decoder> NewJsonDecoder(const DecoderOptions& options);

// Decodes an in-memory JSON export (NDJSON, a top-level array, or pretty-printed
// objects one after another), gzip-compressed or not, UTF-8 (BOM optional) or
// UTF-16 with a BOM. Events carry `name` as their file; `name` must outlive the
// call. Bad lines/elements go to `reporter` and decoding goes on; the return
// value is non-OK only when the buffer as a whole cannot be read (broken gzip
// stream). `stats` may be null.
Status DecodeJsonBuffer(std::string_view bytes, const std::string& name, EventHandler& handler,
                        CorruptionReporter& reporter, DecoderStats* stats);

// One large NDJSON file decoded by several threads: the file is cut into
// byte ranges that each start at a line's start (a line belongs to the range
// where it starts); each range is decoded on its own with lines numbered from
// 1, and the caller adds the line counts of the ranges before it.
struct LineRange {
  uint64_t begin = 0, end = 0;  // [begin, end) in the file
};

// A range is never smaller than this, so small files stay whole.
inline constexpr uint64_t kMinSplitPartBytes = 1u << 20;

// Up to `parts` ranges covering a plain UTF-8 NDJSON file, in file order.
// Empty when the file should be decoded whole: not a regular file, gzip,
// UTF-16, an array or pretty-printed objects (their framing needs the whole
// text), too small to be worth it, or unreadable (Decode then reports why).
std::vector<LineRange> SplitNdjsonFile(const std::string& path, int parts);

// Decodes the NDJSON lines of `path` in `range` (from SplitNdjsonFile):
// offsets are the file's, lines count from 1 at range.begin. *lines gets the
// number of lines in the range. Events carry `name` as their file. Counts go
// to `stats` (shared by the ranges of one file: its counters are atomic),
// all but `inputs`, which the caller counts once per file.
Status DecodeJsonLineRange(const std::string& path, LineRange range, const std::string& name,
                           EventHandler& handler, CorruptionReporter& reporter, DecoderStats* stats,
                           uint64_t* lines);

// Decodes one NDJSON line (the daemon's tailer and TCP listener). Reuses its
// parser, arena and Event between calls, so steady state allocates nothing.
// Not thread-safe: one per connection or tailed file.
class JsonLineDecoder {
 public:
  JsonLineDecoder();
  ~JsonLineDecoder();
  JsonLineDecoder(const JsonLineDecoder&) = delete;  // events borrow our buffers
  JsonLineDecoder& operator=(const JsonLineDecoder&) = delete;

  // `line` may end in "\n" or "\r\n". A blank line is skipped (OK, no event).
  // On success the event went to handler.OnEvent; on error nothing was
  // delivered and the Status names file:line and what was wrong (the caller
  // reports it). `line_no` is 1-based. `file` must outlive the call.
  Status DecodeLine(std::string_view line, uint64_t line_no, std::string_view file,
                    EventHandler& handler);

  const DecoderStats& stats() const { return stats_; }

 private:
  std::unique_ptr<EventParser> parser_;
  std::string padded_;  // the line plus simdjson's padding; capacity reused
  DecoderStats stats_;
};

}  // namespace eventsift::json
