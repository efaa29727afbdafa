#pragma once
// Decoder: one input format (EVTX, JSON exports) -> normalized Events. Each
// decoder is a library under parsers/<format>/ registered in
// src/pipeline/registry.cc. A Decoder object decodes one input at a time;
// create one per thread.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "src/core/stats.h"
#include "src/core/status.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"

namespace eventsift {

struct DecoderOptions {
  // Worker threads a decoder may use inside one input (EVTX chunks). Events
  // are still delivered in input order.
  int threads = 1;
  // Treat checksum mismatches as fatal for the input instead of reporting them.
  bool strict = false;
  // EVTX: also recover records from chunk slack space.
  bool carve = false;
};

struct DecoderStats {
  Counter inputs;         // files/streams opened
  Counter bytes;          // input bytes consumed (decompressed)
  Counter events;         // events delivered to the handler
  Counter errors;         // corruption reports (malformed lines, bad records)
  Counter bytes_dropped;  // bytes skipped because they could not be decoded
  // EVTX only: what the file header announces against what the file holds.
  Counter chunks_declared;  // the file header's 16-bit chunk count
  Counter chunks_found;     // chunks by the file's size, a partial last one included
  Counter chunks_empty;     // allocated but never written (all zero): nothing to decode
  // Records reached by scanning for a record signature rather than by
  // walking from the chunk's first record: after a bad record header
  // (resync), in a chunk whose header is bad, and in slack space (--carve).
  Counter records_recovered;
  // Events delivered although their shape carried no time or no computer:
  // they cannot be placed in a host's timeline, so they are counted (and
  // shown in the summaries) rather than passed off as host "".
  Counter incomplete;
};

// A named input. `path` "-" means standard input.
struct InputSpec {
  std::string path;
  // Name used in events' SourceLocation and in error messages; defaults to path.
  std::string display_name;
  const std::string& name() const { return display_name.empty() ? path : display_name; }
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::string_view name() const = 0;

  // Decodes the whole input. Corrupt records, chunks or lines are reported to
  // `reporter` and skipped; a non-OK return means the input as a whole could
  // not be read (missing file, not this format) or --strict stopped it.
  virtual Status Decode(const InputSpec& input, EventHandler& handler,
                        CorruptionReporter& reporter) = 0;

  const DecoderStats& stats() const { return stats_; }

 protected:
  DecoderStats stats_;
};

}  // namespace eventsift
