#include "parsers/json/json_decoder.h"

#include "parsers/json/event_xml.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "parsers/json/event_parser.h"
#include "parsers/json/framing.h"
#include "parsers/json/input_buffer.h"
#include "parsers/json/json_value.h"
#include "src/core/mapped_file.h"

namespace eventsift::json {

namespace {

// Per-input counts, added to the shared atomic DecoderStats once at the end
// rather than per event.
struct Counts {
  uint64_t events = 0;
  uint64_t errors = 0;
  uint64_t bytes_dropped = 0;
  uint64_t incomplete = 0;  // events without a time or a computer
};

bool Incomplete(const Event& event) { return event.time == 0 || event.computer.empty(); }

// Turns framed documents into events: parse, stamp the location, deliver; or
// report with file:line and go on.
class DocumentDecoder final : public DocumentSink {
 public:
  // All references must outlive this object; `name` is what events borrow.
  // Bytes up to `readable_end` may be read; a document ending less than
  // kPadding before it is copied into a padded scratch buffer first.
  // With `map`, documents are views into that mapping of the file: each is
  // checked before its event or report is handed on, and once the file is
  // found shrunk nothing more is (gone() says why).
  DocumentDecoder(EventParser* parser, std::string_view name, const char* readable_end,
                  EventHandler& handler, CorruptionReporter& reporter, Counts* counts,
                  const MappedFile* map = nullptr)
      : parser_(parser),
        name_(name),
        readable_end_(readable_end),
        handler_(handler),
        reporter_(reporter),
        counts_(counts),
        map_(map) {}

  const Status& gone() const { return gone_; }

  void OnDocument(std::string_view doc, uint64_t offset, uint64_t line) override {
    if (!gone_.ok()) return;
    if (static_cast<size_t>(readable_end_ - (doc.data() + doc.size())) < kPadding) {
      tail_.assign(doc.data(), doc.size());
      tail_.resize(doc.size() + kPadding);
      doc = std::string_view(tail_.data(), doc.size());
    }
    Status s = parser_->Parse(doc, handler_);
    if (Gone(offset, doc.size(), !s.ok())) return;
    if (!s.ok()) {
      Report(std::move(s), offset, line, doc.size());
      return;
    }
    Event& event = parser_->event();
    event.where.file = name_;
    event.where.offset = offset;
    event.where.line = line;
    if (Incomplete(event)) ++counts_->incomplete;
    handler_.OnEvent(event);
    ++counts_->events;
  }

  void OnFramingError(Status status, uint64_t offset, uint64_t line,
                      uint64_t bytes_dropped) override {
    if (!gone_.ok() || Gone(offset, bytes_dropped, true)) return;
    Report(std::move(status), offset, line, bytes_dropped);
  }

 private:
  // Whether the file's bytes at [offset, offset + size) were found gone (see
  // MappedFile::CheckRange; `suspect`: they did not parse, so zeros past a
  // shrunk end inside its last page may be why).
  bool Gone(uint64_t offset, uint64_t size, bool suspect) {
    if (map_ == nullptr) return false;
    gone_ = map_->CheckRange(offset, size, suspect, name_);
    return !gone_.ok();
  }

  void Report(Status s, uint64_t offset, uint64_t line, uint64_t bytes) {
    s.At(std::string(name_), offset, line);
    reporter_.Report(s, bytes);
    ++counts_->errors;
    counts_->bytes_dropped += bytes;
  }

  EventParser* parser_;
  std::string_view name_;
  const char* readable_end_;
  std::string tail_;  // the last document of an unpadded input, padded
  EventHandler& handler_;
  CorruptionReporter& reporter_;
  Counts* counts_;
  const MappedFile* map_;
  Status gone_;
};

// Frames and decodes UTF-8 text[start..]; bytes up to readable_end may be read.
void DecodeText(EventParser* parser, std::string_view text, size_t start, const char* readable_end,
                const std::string& name, EventHandler& handler, CorruptionReporter& reporter,
                Counts* counts) {
  DocumentDecoder sink(parser, name, readable_end, handler, reporter, counts);
  SplitDocuments(text, start, DetectFraming(text.substr(start)), kMaxDocumentBytes, sink);
}

void AddCounts(const Counts& counts, uint64_t bytes, DecoderStats* stats) {
  if (stats == nullptr) return;
  stats->bytes.Add(bytes);
  stats->events.Add(counts.events);
  stats->errors.Add(counts.errors);
  stats->bytes_dropped.Add(counts.bytes_dropped);
  stats->incomplete.Add(counts.incomplete);
}

// Bytes read per step when streaming. NDJSON is decoded block by block, so
// memory stays near this plus the longest line, whatever the input size.
constexpr size_t kBlockBytes = 8u << 20;

// Reads from `reader` until `buf` grew by `want` bytes or the input ended.
// A gzip stream cut short is reported (and ends the input), not returned.
Status ReadBlock(InputReader& reader, PaddedBuffer* buf, size_t want, bool* eof,
                 CorruptionReporter& reporter, Counts* counts) {
  size_t target = buf->size() + want;
  buf->Reserve(target);
  while (buf->size() < target) {
    size_t got = 0;
    Status s = reader.Read(buf->data() + buf->size(), target - buf->size(), &got);
    if (!s.ok()) {
      if (s.code() != StatusCode::kTruncated) return s;
      // The events before the cut are still good: report and go on.
      reporter.Report(s, 0);
      ++counts->errors;
      *eof = true;
      return Status::OK();
    }
    if (got == 0) {
      *eof = true;
      return Status::OK();
    }
    buf->SetSize(buf->size() + got);
  }
  return Status::OK();
}

// A block of plain text is read this much at a time, and the lines complete
// so far are decoded after each read, while the bytes the kernel just
// copied are still in this core's cache. Reading the whole block first sent
// every byte to memory and back before framing and simdjson saw it.
constexpr size_t kReadPieceBytes = 256u << 10;

// Reads the next block of NDJSON into `buf` (after the partial line it
// holds), decoding the lines completed by each piece as it arrives; *pos is
// where undelivered text starts in buf (0 on entry: buf holds only the
// carried-over start of a line). Lines delivered here are exactly those the
// block's own pass would deliver before its last '\n', so the block ends in
// the same state; the caller's pass then goes on from *pos.
Status ReadBlockDecoding(InputReader& reader, EventParser* parser, PaddedBuffer* buf,
                         uint64_t base_offset, const std::string& name, EventHandler& handler,
                         CorruptionReporter& reporter, Counts* counts, uint64_t* line, bool* eof,
                         size_t* pos) {
  const size_t target = buf->size() + kBlockBytes;
  buf->Reserve(target);
  while (buf->size() < target) {
    ES_RETURN_IF_ERROR(ReadBlock(reader, buf, std::min(kReadPieceBytes, target - buf->size()), eof,
                                 reporter, counts));
    if (*eof) break;  // the caller's final pass delivers the rest
    std::string_view window = buf->view();
    DocumentDecoder sink(parser, name, window.data() + window.size() + kPadding, handler, reporter,
                         counts);
    *pos = SplitLineBlock(window, *pos, base_offset, line, false, kMaxDocumentBytes, sink);
  }
  return Status::OK();
}

// Inside an overlong line: drops the bytes of `window` up to its first '\n'
// (all of them when it has none) and returns how many it consumed, the '\n'
// included; clears *skipping when the line ended there.
size_t SkipOverlongRest(std::string_view window, bool* skipping, uint64_t* line, Counts* counts) {
  const void* nl = std::memchr(window.data(), '\n', window.size());
  const size_t line_rest = nl != nullptr
                               ? static_cast<size_t>(static_cast<const char*>(nl) - window.data())
                               : window.size();
  counts->bytes_dropped += line_rest;  // the line's bytes, not its '\n'
  if (nl == nullptr) return line_rest;
  *skipping = false;
  ++*line;
  return line_rest + 1;
}

// No newline within the limit in the `rest` bytes at `offset`, which end a
// block: the line is reported once, and its bytes dropped as they stream
// past (SkipOverlongRest).
void ReportOverlongRest(const std::string& name, uint64_t offset, uint64_t line, size_t rest,
                        CorruptionReporter& reporter, Counts* counts) {
  Status s = Status::ResourceExhausted(
      fmt::format("line is longer than the {} byte limit; skipped", kMaxDocumentBytes));
  reporter.Report(s.At(name, offset, line), rest);
  ++counts->errors;
  counts->bytes_dropped += rest;
}

// NDJSON from `reader`, whose first block is already in `buf` (`eof`: it
// was the last); decoding starts at buf[start]. `base_offset` is the input
// offset of buf's first byte. Later blocks are kBlockBytes each, so every
// block ends at a multiple of kBlockBytes from the input's start whatever
// `base_offset` is (the first block is sized so): overlong lines are then
// judged the same way whether the file is decoded whole or in parts.
// *line is the number of the next line; *total counts the bytes consumed.
Status DecodeLines(InputReader& reader, EventParser* parser, PaddedBuffer* buf, size_t start,
                   bool eof, uint64_t base_offset, const std::string& name, EventHandler& handler,
                   CorruptionReporter& reporter, Counts* counts_out, uint64_t* total_out,
                   uint64_t* line_io) {
  Counts& counts = *counts_out;
  uint64_t& total = *total_out;
  uint64_t& line = *line_io;
  bool skipping = false;  // inside an overlong line, dropping bytes until '\n'
  for (;;) {
    std::string_view window = buf->view();
    size_t consumed = 0;
    if (skipping) consumed = SkipOverlongRest(window, &skipping, &line, &counts);
    if (!skipping) {
      DocumentDecoder sink(parser, name, window.data() + window.size() + kPadding, handler,
                           reporter, &counts);
      // SplitLineBlock returns a position in window: everything before it is done.
      consumed = SplitLineBlock(window, consumed + start, base_offset, &line, eof,
                                kMaxDocumentBytes, sink);
      start = 0;
    }
    total += consumed;
    if (eof) break;
    size_t rest = window.size() - consumed;
    if (!skipping && rest > kMaxDocumentBytes) {
      ReportOverlongRest(name, base_offset + consumed, line, rest, reporter, &counts);
      skipping = true;
      total += rest;
      consumed += rest;
      rest = 0;
    }
    std::memmove(buf->data(), buf->data() + consumed, rest);
    buf->SetSize(rest);
    base_offset += consumed;
    if (skipping || reader.gzip()) {
      // Skipping looks for the overlong line's end in the whole block; gzip
      // keeps a cut-off stream's report ahead of the block's lines.
      ES_RETURN_IF_ERROR(ReadBlock(reader, buf, kBlockBytes, &eof, reporter, &counts));
    } else {
      ES_RETURN_IF_ERROR(ReadBlockDecoding(reader, parser, buf, base_offset, name, handler,
                                           reporter, &counts, &line, &eof, &start));
    }
  }
  return Status::OK();
}

// DecodeLines over bytes [begin, end) of a mapped file, viewed where they
// lie instead of read into a buffer: the blocks end where DecodeLines' end
// (a range's first one included), so lines, reports and offsets are the
// same. Documents have the rest of the mapping after them as simdjson's
// padding; only one ending within kPadding of the file's end is copied.
// Non-OK when the file shrank while read: the events and reports before the
// gone bytes are delivered, none after.
Status DecodeMappedLines(const MappedFile& map, uint64_t begin, uint64_t end, size_t start,
                         EventParser* parser, const std::string& name, EventHandler& handler,
                         CorruptionReporter& reporter, Counts* counts_out, uint64_t* total_out,
                         uint64_t* line_io) {
  Counts& counts = *counts_out;
  uint64_t& total = *total_out;
  uint64_t& line = *line_io;
  const char* data = reinterpret_cast<const char*>(map.bytes().data());
  const char* readable_end = data + map.size();
  uint64_t base_offset = begin;  // the window's first byte
  uint64_t block_end = begin + (kBlockBytes - begin % kBlockBytes);
  bool skipping = false;  // inside an overlong line, dropping bytes until '\n'
  for (;;) {
    // A read that fills its block exactly has not seen the end yet.
    const bool eof = block_end > end;
    std::string_view window(data + base_offset, std::min(block_end, end) - base_offset);
    size_t consumed = 0;
    if (skipping) consumed = SkipOverlongRest(window, &skipping, &line, &counts);
    if (!skipping) {
      DocumentDecoder sink(parser, name, readable_end, handler, reporter, &counts, &map);
      consumed = SplitLineBlock(window, consumed + start, base_offset, &line, eof,
                                kMaxDocumentBytes, sink);
      start = 0;
      if (!sink.gone().ok()) return sink.gone();
    }
    total += consumed;
    if (eof) break;
    size_t rest = window.size() - consumed;
    if (!skipping && rest > kMaxDocumentBytes) {
      ES_RETURN_IF_ERROR(map.CheckRange(base_offset + consumed, rest, true, name));
      ReportOverlongRest(name, base_offset + consumed, line, rest, reporter, &counts);
      skipping = true;
      total += rest;
      consumed += rest;
    }
    base_offset += consumed;
    map.Release(base_offset);  // pages before the window are done with
    block_end += kBlockBytes;
  }
  return Status::OK();
}

// Decodes an NDJSON file in place when it can be mapped (a regular plain
// UTF-8 file of lines); *done says whether it was. Otherwise the caller
// reads it as a stream.
Status DecodeMappedFile(const std::string& path, EventParser* parser, const std::string& name,
                        EventHandler& handler, CorruptionReporter& reporter, DecoderStats* stats,
                        bool* done) {
  *done = false;
  std::unique_ptr<MappedInput> input = MappedInput::Open(path);
  if (input == nullptr) return Status::OK();
  const std::string_view head = input->text().substr(0, kBlockBytes);
  const size_t start = Utf8BomLength(head);
  if (IsGzip(head) || IsUtf16(head) || DetectFraming(head.substr(start)) != Framing::kLines) {
    return Status::OK();
  }
  *done = true;
  Counts counts;
  uint64_t line = 1, total = 0;
  const Status s = DecodeMappedLines(input->map(), 0, input->map().size(), start, parser, name,
                                     handler, reporter, &counts, &total, &line);
  AddCounts(counts, total, stats);
  return s;
}

// Decodes everything `reader` yields. NDJSON is streamed block by block;
// arrays, pretty-printed objects and UTF-16 text are read whole first (their
// framing needs the whole text; PowerShell exports are rarely large), up to
// kMaxWholeInputBytes.
Status DecodeStream(InputReader& reader, EventParser* parser, PaddedBuffer* buf,
                    PaddedBuffer* scratch, const std::string& name, EventHandler& handler,
                    CorruptionReporter& reporter, DecoderStats* stats) {
  Counts counts;
  bool eof = false;
  buf->Clear();
  ES_RETURN_IF_ERROR(ReadBlock(reader, buf, kBlockBytes, &eof, reporter, &counts));
  std::string_view head = buf->view();
  size_t start = Utf8BomLength(head);
  if (IsUtf16(head) || DetectFraming(head.substr(start)) == Framing::kStructured) {
    while (!eof) {
      if (buf->size() > kMaxWholeInputBytes) {
        return Status::ResourceExhausted(
                   fmt::format("a JSON array, pretty-printed or UTF-16 export is read whole, and "
                               "this one is over the {} MiB limit; convert it to NDJSON (one "
                               "event per line), which is read as a stream",
                               kMaxWholeInputBytes >> 20))
            .At(name, buf->size());
      }
      // Never more than one byte past the limit, so a refused input costs
      // no more memory than the largest accepted one.
      const size_t want = std::min(kBlockBytes, kMaxWholeInputBytes + 1 - buf->size());
      ES_RETURN_IF_ERROR(ReadBlock(reader, buf, want, &eof, reporter, &counts));
    }
    if (IsUtf16(buf->view())) {
      ConvertUtf16ToUtf8(buf, scratch);
      start = 0;
    }
    std::string_view text = buf->view();
    DocumentDecoder sink(parser, name, text.data() + text.size() + kPadding, handler, reporter,
                         &counts);
    SplitDocuments(text, start, DetectFraming(text.substr(start)), kMaxDocumentBytes, sink);
    AddCounts(counts, text.size(), stats);
    return Status::OK();
  }
  uint64_t line = 1;
  uint64_t total = 0;
  ES_RETURN_IF_ERROR(DecodeLines(reader, parser, buf, start, eof, 0, name, handler, reporter,
                                 &counts, &total, &line));
  AddCounts(counts, total, stats);
  return Status::OK();
}

class JsonDecoder final : public Decoder {
 public:
  explicit JsonDecoder(const DecoderOptions& options) : options_(options) {}

  std::string_view name() const override { return "json"; }

  Status Decode(const InputSpec& input, EventHandler& handler,
                CorruptionReporter& reporter) override {
    stats_.inputs.Add();
    const std::string& name = input.name();
    uint64_t errors_before = stats_.errors.Get();
    bool mapped = false;
    ES_RETURN_IF_ERROR(
        DecodeMappedFile(input.path, &parser_, name, handler, reporter, &stats_, &mapped));
    if (!mapped) {
      InputReader reader;
      ES_RETURN_IF_ERROR(reader.OpenFile(input.path));
      ES_RETURN_IF_ERROR(
          DecodeStream(reader, &parser_, &buf_, &scratch_, name, handler, reporter, &stats_));
    }
    uint64_t errors = stats_.errors.Get() - errors_before;
    if (options_.strict && errors > 0) {
      return Status::Corruption(
                 fmt::format("{} malformed or unrecognised document(s) (--strict)", errors))
          .At(name);
    }
    return Status::OK();
  }

 private:
  DecoderOptions options_;
  EventParser parser_;
  // Reused across inputs so a directory of exports does not reallocate; the
  // block buffer holds at most kBlockBytes plus one line for NDJSON.
  PaddedBuffer buf_;
  PaddedBuffer scratch_;
};

}  // namespace

std::unique_ptr<Decoder> NewJsonDecoder(const DecoderOptions& options) {
  return std::make_unique<JsonDecoder>(options);
}

Status DecodeJsonBuffer(std::string_view bytes, const std::string& name, EventHandler& handler,
                        CorruptionReporter& reporter, DecoderStats* stats) {
  EventParser parser;
  if (stats != nullptr) stats->inputs.Add();
  if (!IsGzip(bytes) && !IsUtf16(bytes)) {
    // Plain UTF-8 is parsed where it lies: every document but one ending in
    // the last kPadding bytes has the rest of the input after it as padding.
    Counts counts;
    DecodeText(&parser, bytes, Utf8BomLength(bytes), bytes.data() + bytes.size(), name, handler,
               reporter, &counts);
    AddCounts(counts, bytes.size(), stats);
    return Status::OK();
  }
  InputReader reader;
  reader.OpenMemory(bytes);
  PaddedBuffer buf, scratch;
  return DecodeStream(reader, &parser, &buf, &scratch, name, handler, reporter, stats);
}

namespace {

// Bytes read at a file's start to decide whether it may be split.
constexpr size_t kSniffBytes = 64u << 10;

// Reads up to n bytes at `offset`; fewer at the end of the file.
std::string ReadAt(std::FILE* f, uint64_t offset, size_t n) {
  std::string out(n, '\0');
  if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0) return {};
  out.resize(std::fread(out.data(), 1, n, f));
  return out;
}

// The first line start at or after `target`: one past the first '\n' at or
// after target - 1; `size` when there is none.
uint64_t NextLineStart(std::FILE* f, uint64_t target, uint64_t size) {
  uint64_t pos = target - 1;
  while (pos < size) {
    std::string piece = ReadAt(f, pos, kSniffBytes);
    if (piece.empty()) return size;
    if (const void* nl = std::memchr(piece.data(), '\n', piece.size())) {
      return pos + static_cast<uint64_t>(static_cast<const char*>(nl) - piece.data()) + 1;
    }
    pos += piece.size();
  }
  return size;
}

}  // namespace

std::vector<LineRange> SplitNdjsonFile(const std::string& path, int parts) {
  std::error_code ec;
  if (parts < 2 || path == "-" || !std::filesystem::is_regular_file(path, ec)) return {};
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec || size < 2 * kMinSplitPartBytes) return {};
  UniqueFile file = OpenFile(path, "rb");
  if (file == nullptr) return {};
  const std::string head = ReadAt(file.get(), 0, kSniffBytes);
  if (IsGzip(head) || IsUtf16(head)) return {};
  std::string_view text = std::string_view(head).substr(Utf8BomLength(head));
  // The whole-file decoder tells the framing from the first line; split only
  // when that line ends within what we read, so both decide alike.
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text.find('\n', first) == std::string_view::npos ||
      DetectFraming(text) != Framing::kLines) {
    return {};
  }
  const auto n = static_cast<uint64_t>(
      std::min<uint64_t>(static_cast<uint64_t>(parts), size / kMinSplitPartBytes));
  std::vector<LineRange> ranges;
  uint64_t begin = 0;
  for (uint64_t k = 1; k <= n; ++k) {
    const uint64_t end = k == n ? size : NextLineStart(file.get(), size / n * k, size);
    if (end > begin) ranges.push_back(LineRange{begin, end});
    begin = std::max(begin, end);
  }
  return ranges;
}

Status DecodeJsonLineRange(const std::string& path, LineRange range, const std::string& name,
                           EventHandler& handler, CorruptionReporter& reporter, DecoderStats* stats,
                           uint64_t* lines) {
  EventParser parser;
  if (std::unique_ptr<MappedInput> input = MappedInput::Open(path);
      input != nullptr && range.end <= input->map().size() && range.begin <= range.end) {
    const size_t start = range.begin == 0 ? Utf8BomLength(input->text().substr(0, kBlockBytes)) : 0;
    Counts counts;
    uint64_t line = 1, total = 0;
    const Status s = DecodeMappedLines(input->map(), range.begin, range.end, start, &parser, name,
                                       handler, reporter, &counts, &total, &line);
    AddCounts(counts, total, stats);
    *lines = line - 1;
    return s;
  }
  InputReader reader;
  ES_RETURN_IF_ERROR(reader.OpenFileRange(path, range.begin, range.end));
  PaddedBuffer buf;
  Counts counts;
  bool eof = false;
  // The first block ends where the whole-file decoder's block would.
  ES_RETURN_IF_ERROR(
      ReadBlock(reader, &buf, kBlockBytes - range.begin % kBlockBytes, &eof, reporter, &counts));
  const size_t start = range.begin == 0 ? Utf8BomLength(buf.view()) : 0;
  uint64_t line = 1, total = 0;
  ES_RETURN_IF_ERROR(DecodeLines(reader, &parser, &buf, start, eof, range.begin, name, handler,
                                 reporter, &counts, &total, &line));
  AddCounts(counts, total, stats);
  *lines = line - 1;
  return Status::OK();
}

JsonLineDecoder::JsonLineDecoder() : parser_(std::make_unique<EventParser>()) {}
JsonLineDecoder::~JsonLineDecoder() = default;

Status JsonLineDecoder::DecodeLine(std::string_view line, uint64_t line_no, std::string_view file,
                                   EventHandler& handler) {
  line = TrimSpace(line);
  if (line.empty()) return Status::OK();
  stats_.bytes.Add(line.size());
  if (line.size() > kMaxDocumentBytes) {
    stats_.errors.Add();
    stats_.bytes_dropped.Add(line.size());
    return Status::ResourceExhausted(fmt::format("line is {} bytes, longer than the {} byte limit",
                                                 line.size(), kMaxDocumentBytes))
        .At(std::string(file), Where::kNone, line_no);
  }
  // Copy into our padded buffer: the caller's line has no simdjson padding.
  // A line holding a whole event as XML (syslog messages from NXLog's
  // $raw_event, WEF) is rewritten as the JSON of the same event.
  Status s;
  if (line.front() == '<' && LooksLikeEventXml(line)) {
    s = EventXmlToJson(line, &padded_);
  } else {
    padded_.assign(line.data(), line.size());
  }
  size_t doc_size = padded_.size();
  padded_.resize(doc_size + kPadding);
  if (s.ok()) s = parser_->Parse(std::string_view(padded_.data(), doc_size), handler);
  if (!s.ok()) {
    stats_.errors.Add();
    stats_.bytes_dropped.Add(line.size());
    return std::move(s).At(std::string(file), Where::kNone, line_no);
  }
  Event& event = parser_->event();
  event.where.file = file;
  event.where.offset = UINT64_MAX;
  event.where.line = line_no;
  if (Incomplete(event)) stats_.incomplete.Add();
  handler.OnEvent(event);
  stats_.events.Add();
  return Status::OK();
}

}  // namespace eventsift::json
