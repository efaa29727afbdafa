#pragma once
// Framing: where each JSON document (one event) starts and ends in an export.
//
//   kLines       NDJSON: one document per line ("\n" or "\r\n"); blank lines
//                are skipped. A bad line costs only that line.
//   kStructured  a top-level array (PowerShell ConvertTo-Json, evtx_dump -o
//                json), pretty-printed objects one after another, or several
//                arrays appended (`>>`). Elements are found with a small
//                string-aware bracket scanner, so a bad element costs only that
//                element; an element cut off by the end of input is reported
//                as truncated.
//
// The scanner does not validate JSON; simdjson does that per document.

#include <cstdint>
#include <string_view>

#include "src/core/status.h"

namespace eventsift::json {

enum class Framing : uint8_t { kLines, kStructured };

// Looks at the first significant bytes of `text`: '[' or a first line that is
// just "{" (pretty-printed) means kStructured; anything else is NDJSON.
Framing DetectFraming(std::string_view text);

class DocumentSink {
 public:
  virtual ~DocumentSink() = default;
  // `doc` has kPadding readable bytes after it (it lies inside a PaddedBuffer).
  // `offset` is doc's byte offset in the buffer, `line` its 1-based line.
  virtual void OnDocument(std::string_view doc, uint64_t offset, uint64_t line) = 0;
  // A framing problem at offset/line; `status` carries no location yet.
  virtual void OnFramingError(Status status, uint64_t offset, uint64_t line,
                              uint64_t bytes_dropped) = 0;
};

// NDJSON over a block of a stream that may end inside a line: delivers every
// complete line of text[start, size), and with `final` the rest as well.
// Offsets are base_offset + position in text; lines are numbered from *line,
// which is advanced past the lines consumed. Returns the bytes consumed
// (through the last '\n', or everything when final).
size_t SplitLineBlock(std::string_view text, size_t start, uint64_t base_offset, uint64_t* line,
                      bool final, size_t max_document_bytes, DocumentSink& sink);

// Splits text[start, size) into documents. `text` must be the view of a
// PaddedBuffer. Documents longer than max_document_bytes are reported
// (kResourceExhausted) and skipped.
void SplitDocuments(std::string_view text, size_t start, Framing framing, size_t max_document_bytes,
                    DocumentSink& sink);

}  // namespace eventsift::json
