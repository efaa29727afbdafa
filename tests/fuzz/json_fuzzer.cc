// libFuzzer target for the JSON export decoder (parsers/json/json_decoder.h).
//
// Input layout: one flag byte, then the bytes of an export (NDJSON, an array,
// gzip, UTF-16 with a BOM: DecodeJsonBuffer sniffs them all).
//   bit 0: also feed every '\n'-separated line to one JsonLineDecoder, as the
//          daemon's tailer and TCP listener do (same parser reused across lines).
//
// Every event is rendered with AppendEventJson, which reads every field and
// every data view, so ASan sees a view that outlives its buffer or points
// outside it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/json/json_decoder.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"
#include "src/event/event_json.h"

namespace {

class RenderingHandler : public eventsift::EventHandler {
 public:
  void OnEvent(const eventsift::Event& e) override {
    out_.clear();
    eventsift::AppendEventJson(e, &out_);
    total_ += out_.size();
  }
  size_t total() const { return total_; }

 private:
  std::string out_;  // reused: rendering is the check, not the result
  size_t total_ = 0;
};

class CountingReporter : public eventsift::CorruptionReporter {
 public:
  void Report(const eventsift::Status& status, uint64_t bytes_dropped) override {
    // ToString formats the location too; an empty message would be a bug.
    total_ += status.ToString().size() + bytes_dropped + (status.message().empty() ? 1000 : 0);
  }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

volatile size_t g_sink;  // keeps the work observable

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  static const std::string kName = "fuzz.json";

  RenderingHandler handler;
  CountingReporter reporter;
  eventsift::DecoderStats stats;
  eventsift::Status s = eventsift::json::DecodeJsonBuffer(bytes, kName, handler, reporter, &stats);
  size_t sum = handler.total() + reporter.total() + s.ok() + stats.events.Get();

  if (flags & 1) {
    eventsift::json::JsonLineDecoder lines;
    uint64_t line_no = 0;
    while (!bytes.empty()) {
      size_t nl = bytes.find('\n');
      std::string_view line = bytes.substr(0, nl);
      bytes = nl == std::string_view::npos ? std::string_view() : bytes.substr(nl + 1);
      eventsift::Status ls = lines.DecodeLine(line, ++line_no, kName, handler);
      sum += ls.ok() ? 0 : ls.ToString().size();
    }
  }
  g_sink = sum + handler.total();
  return 0;
}
