#include "tests/unit/parsers/evtx/evtx_test_util.h"

#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "parsers/evtx/evtx_decoder.h"

namespace eventsift::evtx::testing {

namespace {

class Collector : public EventHandler {
 public:
  explicit Collector(std::vector<OwnedEvent>* out) : out_(out) {}
  void OnEvent(const Event& e) override { out_->push_back(OwnedEvent::From(e)); }

 private:
  std::vector<OwnedEvent>* out_;
};

class XmlCollector : public RecordXmlHandler {
 public:
  explicit XmlCollector(std::string* out) : out_(out) {}
  void OnRecordXml(const Event& e, std::string_view xml) override {
    // evtx_dump's "Record N" line is the record header's number.
    fmt::format_to(std::back_inserter(*out_), "Record {}\n{}\n", e.record_number, xml);
  }

 private:
  std::string* out_;
};

}  // namespace

std::string DataPath(const std::string& name) { return std::string("tests/data/evtx/") + name; }

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Decoded Decode(const std::vector<uint8_t>& image, const DecoderOptions& options) {
  Decoded d;
  Collector collector(&d.events);
  CollectingReporter reporter;
  DecoderStats stats;
  d.status = DecodeEvtxBuffer(image, "test.evtx", options, collector, reporter, &stats);
  d.reports = reporter.reports();
  d.chunks_declared = stats.chunks_declared.Get();
  d.chunks_found = stats.chunks_found.Get();
  d.chunks_empty = stats.chunks_empty.Get();
  d.records_recovered = stats.records_recovered.Get();
  return d;
}

std::string DumpXml(const std::vector<uint8_t>& image, const DecoderOptions& options) {
  std::string out;
  XmlCollector collector(&out);
  CollectingReporter reporter;
  Status s = DecodeEvtxBufferXml(image, "test.evtx", options, collector, reporter, nullptr);
  (void)s;  // callers check the XML itself
  return out;
}

std::string DumpXmlAndReports(const std::vector<uint8_t>& image, const DecoderOptions& options,
                              const std::string& path) {
  std::string out;
  XmlCollector collector(&out);
  CollectingReporter reporter;
  const Status s =
      path.empty() ? DecodeEvtxBufferXml(image, "test.evtx", options, collector, reporter, nullptr)
                   : DecodeEvtxFileText(path, "test.evtx", options, RecordFormat::kXml, collector,
                                        reporter, nullptr);
  for (const Status& r : reporter.reports()) out += "report: " + r.ToString() + "\n";
  return out + "status: " + s.ToString() + "\n";
}

}  // namespace eventsift::evtx::testing
