// libFuzzer target for the EVTX decoder (parsers/evtx/evtx_decoder.h).
//
// Input layout: one flag byte, then an EVTX image (tests/fuzz/make_seed_corpus.py
// writes seeds in this form).
//   bit 0: DecoderOptions::carve (recover records from chunk slack)
//   bit 1: also render every record as XML (DecodeEvtxBufferXml, dump --format xml)
//   bit 2: DecoderOptions::strict
//   bit 3: render every record as JSON instead (dump --format jsonl), written
//          while decoding; bit 4 with it: a chunk's JSON lines at a time.
//          Every record's JSON must parse (simdjson, which also checks UTF-8),
//          or the target traps: no input may make dump print invalid JSON.
// Threads stay at 1: libFuzzer wants a deterministic, single-threaded target.
//
// Every event field is read so ASan sees any string_view that points outside
// the input or a freed arena.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "parsers/evtx/evtx_decoder.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"

namespace {

using eventsift::CorruptionReporter;
using eventsift::DecoderOptions;
using eventsift::Event;
using eventsift::Status;

// Folds every byte an event points to into a checksum the optimizer cannot drop.
uint64_t Touch(std::string_view s, uint64_t h) {
  for (char c : s) h = h * 131 + static_cast<unsigned char>(c);
  return h;
}

uint64_t TouchEvent(const Event& e, uint64_t h) {
  h = Touch(e.provider, h);
  h = Touch(e.provider_guid, h);
  h = Touch(e.channel, h);
  h = Touch(e.computer, h);
  h = Touch(e.user_sid, h);
  h = Touch(e.message, h);
  h = Touch(e.where.file, h);
  h += e.record_id + e.event_id + e.time + e.keywords;
  for (const auto& f : e.data) {
    h = Touch(f.name, h);
    h = Touch(f.value, h);
  }
  return h;
}

class TouchingHandler : public eventsift::EventHandler {
 public:
  void OnEvent(const Event& e) override { sum_ = TouchEvent(e, sum_); }
  uint64_t sum() const { return sum_; }

 private:
  uint64_t sum_ = 0;
};

class TouchingXmlHandler : public eventsift::evtx::RecordXmlHandler {
 public:
  void OnRecordXml(const Event& e, std::string_view xml) override {
    sum_ = Touch(xml, TouchEvent(e, sum_));
  }
  uint64_t sum() const { return sum_; }

 private:
  uint64_t sum_ = 0;
};

// Traps unless `json` is one valid JSON object.
void CheckJson(std::string_view json) {
  static simdjson::dom::parser parser;
  const simdjson::padded_string copy(json);
  simdjson::dom::element doc;
  if (parser.parse(copy).get(doc) != simdjson::SUCCESS || !doc.is_object()) __builtin_trap();
}

class CheckingJsonHandler : public eventsift::evtx::RecordTextHandler {
 public:
  explicit CheckingJsonHandler(bool lines) : lines_(lines) {}
  void OnRecordText(const Event& e, std::string_view json) override {
    sum_ = TouchEvent(e, sum_);
    CheckJson(json);
  }
  bool WantsRecordLines() const override { return lines_; }
  void OnRecordLines(size_t records, std::string_view lines) override {
    size_t seen = 0;
    while (!lines.empty()) {
      const size_t nl = lines.find('\n');
      if (nl == std::string_view::npos) __builtin_trap();  // every record ends its line
      CheckJson(lines.substr(0, nl));
      lines.remove_prefix(nl + 1);
      ++seen;
    }
    if (seen != records) __builtin_trap();
    sum_ += seen;
  }
  uint64_t sum() const { return sum_; }

 private:
  bool lines_;
  uint64_t sum_ = 0;
};

class NullReporter : public CorruptionReporter {
 public:
  void Report(const Status& status, uint64_t bytes_dropped) override {
    count_ += 1 + status.message().size() + bytes_dropped;
  }

 private:
  uint64_t count_ = 0;
};

volatile uint64_t g_sink;  // keeps the checksums alive

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::span<const uint8_t> image(data + 1, size - 1);

  DecoderOptions options;
  options.threads = 1;
  options.carve = (flags & 1) != 0;
  options.strict = (flags & 4) != 0;
  static const std::string kName = "fuzz.evtx";

  NullReporter reporter;
  eventsift::DecoderStats stats;
  if (flags & 8) {
    CheckingJsonHandler handler((flags & 16) != 0);
    Status s = eventsift::evtx::DecodeEvtxBufferText(
        image, kName, options, eventsift::evtx::RecordFormat::kJson, handler, reporter, &stats);
    g_sink = handler.sum() + s.ok();
  } else if (flags & 2) {
    TouchingXmlHandler handler;
    Status s =
        eventsift::evtx::DecodeEvtxBufferXml(image, kName, options, handler, reporter, &stats);
    g_sink = handler.sum() + s.ok();
  } else {
    TouchingHandler handler;
    Status s = eventsift::evtx::DecodeEvtxBuffer(image, kName, options, handler, reporter, &stats);
    g_sink = handler.sum() + s.ok();
  }
  return 0;
}
