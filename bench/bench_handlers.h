#pragma once
// Handlers shared by the decoder benchmarks: they count what they receive and
// keep nothing, so the benchmarks time decoding alone.

#include <cstdint>

#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"

namespace eventsift::bench {

class CountingHandler : public EventHandler {
 public:
  explicit CountingHandler(bool want_payload) : want_payload_(want_payload) {}
  bool WantPayload(const Event&) override { return want_payload_; }
  void OnEvent(const Event& e) override {
    ++events_;
    // Touch the payload so the compiler cannot drop its decoding.
    fields_ += e.data.size() + e.message.size();
  }
  uint64_t events() const { return events_; }
  uint64_t fields() const { return fields_; }

 private:
  bool want_payload_;
  uint64_t events_ = 0;
  uint64_t fields_ = 0;
};

class CountingReporter : public CorruptionReporter {
 public:
  void Report(const Status&, uint64_t) override { ++reports_; }
  uint64_t reports() const { return reports_; }

 private:
  uint64_t reports_ = 0;
};

}  // namespace eventsift::bench
