#pragma once
// Helpers shared by the JSON decoder tests: a handler that keeps deep copies
// of the events (the Event itself dies after OnEvent), and file loading.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/json/json_decoder.h"
#include "src/event/owned_event.h"

namespace eventsift::json::testing {

class KeepingHandler : public EventHandler {
 public:
  void OnEvent(const Event& e) override { events.push_back(OwnedEvent::From(e)); }
  std::vector<OwnedEvent> events;
};

inline std::string DataPath(const std::string& name) {
  return std::string(ES_SOURCE_DIR) + "/tests/data/json/" + name;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Decoded {
  std::vector<OwnedEvent> events;
  std::vector<Status> reports;
  Status status;
};

// Decodes a test file through the Decoder interface (the CLI's path).
inline Decoded DecodeFile(const std::string& name, DecoderOptions options = {}) {
  KeepingHandler handler;
  CollectingReporter reporter;
  auto decoder = NewJsonDecoder(options);
  Decoded d;
  d.status = decoder->Decode(InputSpec{DataPath(name), name}, handler, reporter);
  d.events = std::move(handler.events);
  d.reports = reporter.reports();
  return d;
}

// Decodes a file that must decode without a single report.
inline Decoded DecodeClean(const std::string& name) {
  Decoded d = DecodeFile(name);
  EXPECT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_TRUE(d.reports.empty()) << d.reports.front().ToString();
  return d;
}

// Decodes bytes through DecodeJsonBuffer.
inline Decoded DecodeBytes(std::string_view bytes, const std::string& name = "buf") {
  KeepingHandler handler;
  CollectingReporter reporter;
  Decoded d;
  d.status = DecodeJsonBuffer(bytes, name, handler, reporter, nullptr);
  d.events = std::move(handler.events);
  d.reports = reporter.reports();
  return d;
}

// Value of the i-th data field, or "<missing>".
inline std::string DataAt(const OwnedEvent& e, size_t i) {
  return i < e.data.size() ? e.data[i].second : std::string("<missing>");
}
inline std::string NameAt(const OwnedEvent& e, size_t i) {
  return i < e.data.size() ? e.data[i].first : std::string("<missing>");
}

}  // namespace eventsift::json::testing
