// `eventsift dump`: decode EVTX files (and JSON exports) and print every
// record as XML (EVTX only, as evtx_dump and Event Viewer render it), JSONL
// (one event object per line, docs/dump-format.md) or a JSON array of the
// same objects. Diagnostics and a summary line go to stderr.

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "parsers/evtx/evtx_decoder.h"
#include "parsers/json/json_decoder.h"
#include "src/app/cli_args.h"
#include "src/app/command.h"
#include "src/app/exit_codes.h"
#include "src/event/event_json.h"
#include "src/pipeline/input_account.h"
#include "src/pipeline/registry.h"
#include "src/pipeline/stream_input.h"

namespace po = boost::program_options;

namespace eventsift::app {

namespace {

constexpr char kDumpHelp[] =
    "Usage: eventsift dump [options] FILE...\n\n"
    "Decodes EVTX files and JSON exports ('-' is stdin, taken as JSON) and prints\n"
    "every record in file order. Formats:\n"
    "  jsonl  one event object per line (docs/dump-format.md)\n"
    "  json   a JSON array of the same objects\n"
    "  xml    EVTX only: each record as evtx_dump prints it ('Record <id>', then\n"
    "         the record's XML)\n\n"
    "Corrupt chunks and records are reported on stderr with file, chunk index and\n"
    "offset, and decoding goes on. Each input that was not decoded whole (bytes or\n"
    "lines skipped, records recovered, a header's chunk count that differs from the\n"
    "file's) gets an account line, and a summary ends stderr; --stats FILE writes the\n"
    "account of every input as JSON (docs/cli.md, 'Accounting').\n\n"
    "Examples:\n"
    "  eventsift dump --format jsonl Security.evtx > security.jsonl\n"
    "  eventsift dump --format xml --threads 4 System.evtx\n"
    "  eventsift dump --carve --format jsonl damaged.evtx\n"
    "  eventsift dump --stats stats.json --format jsonl *.evtx > events.jsonl\n\n"
    "Exit codes: 0 ok (corruption reported but recovered); 2 usage; 3 an input\n"
    "could not be read (the others were dumped); 5 --strict found corruption.\n\n"
    "Options";

// Buffers stdout: one write per megabyte instead of one per record. Records
// are appended to the buffer as they come; only a full buffer is written, so
// no per-record flush or allocation happens on the way out.
class Output {
 public:
  static constexpr size_t kFlushAt = size_t{1} << 20;
  Output() { buf_.reserve(kFlushAt + (64u << 10)); }
  ~Output() { Flush(); }
  std::string& buffer() { return buf_; }
  void MaybeFlush() {
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
  }
  // Text already in big pieces (a chunk's JSON lines): written as it is,
  // after what is buffered, instead of being copied into the buffer.
  void Write(std::string_view text) {
    if (text.size() < kFlushAt / 64) {  // small: one more copy costs less than a write
      buf_.append(text);
      MaybeFlush();
      return;
    }
    Flush();
    std::fwrite(text.data(), 1, text.size(), stdout);
  }

 private:
  std::string buf_;
};

// Prints reports as they come, so errors sit next to the records they hit.
class StderrReporter : public CorruptionReporter {
 public:
  void Report(const Status& status, uint64_t bytes_dropped) override {
    ++count_;
    if (bytes_dropped != 0) {
      fmt::print(stderr, "eventsift dump: {} ({} bytes dropped)\n", status.ToString(),
                 bytes_dropped);
    } else {
      fmt::print(stderr, "eventsift dump: {}\n", status.ToString());
    }
  }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

enum class DumpFormat : uint8_t { kJsonl, kJson, kXml };

// Prints records in the chosen format. EVTX records arrive already rendered
// by the decoding threads (OnRecordText); JSON inputs arrive as Events.
class Printer : public EventHandler, public evtx::RecordTextHandler {
 public:
  Printer(Output* out, DumpFormat format) : out_(out), format_(format) {}

  void OnEvent(const Event& event) override {
    std::string& b = out_->buffer();
    Separator(b);
    AppendEventJson(event, &b);
    Finish(b);
  }
  void OnRecordText(const Event& event, std::string_view text) override {
    std::string& b = out_->buffer();
    if (format_ == DumpFormat::kXml) {
      char line[32] = "Record ";
      // evtx_dump's "Record N" line names the record header's number.
      char* end = std::to_chars(line + 7, line + sizeof(line) - 1, event.record_number).ptr;
      *end++ = '\n';
      b.append(line, static_cast<size_t>(end - line));
    }
    Separator(b);
    b.append(text);
    Finish(b);
  }
  bool WantsRecordLines() const override { return format_ == DumpFormat::kJsonl; }
  void OnRecordLines(size_t records, std::string_view lines) override {
    records_ += records;
    out_->Write(lines);
  }
  uint64_t records() const { return records_; }

 private:
  void Separator(std::string& b) {
    if (format_ == DumpFormat::kJson) b.append(records_ == 0 ? "\n" : ",\n");
  }
  void Finish(std::string& b) {
    if (format_ != DumpFormat::kJson) b.push_back('\n');
    ++records_;
    out_->MaybeFlush();
  }

  Output* out_;
  DumpFormat format_;
  uint64_t records_ = 0;
};

}  // namespace

int RunDump(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string format;
  std::string stats_path;
  int threads = 0;
  bool strict = false, carve = false;
  po::options_description opts(kDumpHelp);
  opts.add_options()("help,h", "show this help")(
      "format,f", po::value(&format)->default_value("jsonl"), "xml, json or jsonl")(
      "threads,j", po::value(&threads)->default_value(0),
      "threads decoding EVTX chunks (0: all cores); output stays in file order")(
      "strict", po::bool_switch(&strict), "treat checksum mismatches as fatal for the input")(
      "carve", po::bool_switch(&carve), "EVTX: also recover records from chunk slack space")(
      "stats", po::value(&stats_path),
      "write what became of each input (chunks, records decoded and recovered, what was "
      "skipped and where) to this file as JSON");
  po::variables_map vm = ParseArgs(args, opts, &inputs);
  if (vm.count("help")) {
    std::ostringstream help;
    help << opts;
    fmt::print("{}\n", help.str());
    return kExitOk;
  }
  if (format != "xml" && format != "json" && format != "jsonl") {
    fmt::print(stderr, "eventsift dump: unknown --format '{}' (xml, json or jsonl)\n", format);
    return kExitUsage;
  }
  if (inputs.empty()) {
    fmt::print(stderr, "eventsift dump: no input files\nTry 'eventsift dump --help'.\n");
    return kExitUsage;
  }
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  DecoderOptions options;
  options.threads = threads;
  options.strict = strict;
  options.carve = carve;

  Output out;
  StderrReporter reporter;
  Printer printer(&out, format == "xml"    ? DumpFormat::kXml
                        : format == "json" ? DumpFormat::kJson
                                           : DumpFormat::kJsonl);
  // One account per input, in input order (docs/cli.md, "Accounting").
  std::vector<InputAccount> accounts;
  accounts.reserve(inputs.size());
  uint64_t incomplete = 0;  // JSON events without a time or computer
  int exit_code = kExitOk;
  if (format == "json") out.buffer().push_back('[');

  for (const std::string& path : inputs) {
    InputAccount& account = accounts.emplace_back();
    account.input = path;
    // A FIFO or process substitution is read once, whole, and its format
    // told from those bytes (src/pipeline/stream_input.h).
    std::string stream;
    const bool is_stream = IsStreamInput(path);
    if (is_stream) {
      auto read = ReadStreamInput(path, nullptr);
      if (!read) {
        fmt::print(stderr, "eventsift dump: {}\n", read.error().ToString());
        account.error = read.error().ToString();
        exit_code = std::max(exit_code, kExitInputError);
        continue;
      }
      stream = std::move(read.value());
    }
    auto sniffed = is_stream ? SniffInputBytes(stream, path) : SniffInputFormat(path);
    if (!sniffed) {
      fmt::print(stderr, "eventsift dump: {}\n", sniffed.error().ToString());
      account.error = sniffed.error().ToString();
      exit_code = std::max(exit_code, kExitInputError);
      continue;
    }
    const bool evtx_input = sniffed.value() == InputFormat::kEvtx;
    if (format == "xml" && (!evtx_input || (path == "-" && !is_stream))) {
      fmt::print(stderr, "eventsift dump: {}: --format xml needs an EVTX input\n", path);
      account.error = "--format xml needs an EVTX input";
      exit_code = std::max(exit_code, kExitInputError);
      continue;
    }
    account.format = evtx_input ? "evtx" : "json";
    AccountingReporter accounting(&reporter, &account);
    const auto record_format =
        format == "xml" ? evtx::RecordFormat::kXml : evtx::RecordFormat::kJson;
    Status s;
    if (is_stream) {
      DecoderStats stats;
      if (evtx_input) {
        const auto* data = reinterpret_cast<const uint8_t*>(stream.data());
        s = evtx::DecodeEvtxBufferText({data, stream.size()}, path, options, record_format, printer,
                                       accounting, &stats);
      } else {
        s = json::DecodeJsonBuffer(stream, path, printer, accounting, &stats);
        incomplete += stats.incomplete.Get();
      }
      account.Take(stats);
    } else if (evtx_input && path != "-") {
      // EVTX: records are rendered on the decoding threads.
      DecoderStats stats;
      s = evtx::DecodeEvtxFileText(path, path, options, record_format, printer, accounting, &stats);
      account.Take(stats);
    } else {
      std::unique_ptr<Decoder> decoder = CreateDecoder(sniffed.value(), options);
      s = decoder->Decode(InputSpec{path, ""}, printer, accounting);
      account.Take(decoder->stats());
      incomplete += decoder->stats().incomplete.Get();
    }
    if (!s.ok()) {
      account.error = s.ToString();
      fmt::print(stderr, "eventsift dump: {}\n", s.ToString());
      const bool corrupt =
          s.code() == StatusCode::kCorruption || s.code() == StatusCode::kTruncated;
      exit_code = std::max(exit_code, strict && corrupt ? kExitCorruption : kExitInputError);
    }
  }
  if (format == "json") out.buffer().append(printer.records() == 0 ? "]\n" : "\n]\n");
  out.Flush();
  std::fflush(stdout);
  const uint64_t records = printer.records();
  for (const InputAccount& a : accounts) {
    if (!a.Clean()) fmt::print(stderr, "eventsift dump: account: {}\n", AccountLine(a));
  }
  fmt::print(stderr, "eventsift dump: {} records from {} inputs, {} errors{}\n", records,
             inputs.size(), reporter.count(),
             incomplete > 0 ? fmt::format(", {} events without a time or computer", incomplete)
                            : std::string());
  fmt::print(stderr, "eventsift dump: accounted: {}\n", AccountTotals(accounts));
  if (!stats_path.empty()) {
    if (Status st = WriteAccountsJson(stats_path, "dump", accounts); !st.ok()) {
      fmt::print(stderr, "eventsift dump: {}\n", st.ToString());
      exit_code = std::max(exit_code, kExitInputError);
    }
  }
  return exit_code;
}

}  // namespace eventsift::app
