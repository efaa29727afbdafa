#pragma once
// Helpers for the decoders' tests of files that shrink while read.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "src/core/sigbus_guard.h"
#include "src/decoder/event_handler.h"

namespace eventsift::shrink_test {

// Truncates the file at `path` to `size` bytes when the first event arrives:
// what the decoder reads after that is read after the file shrank.
class TruncatingHandler : public EventHandler {
 public:
  TruncatingHandler(std::string path, uint64_t size) : path_(std::move(path)), size_(size) {}
  void OnEvent(const Event&) override {
    if (events++ == 0) std::filesystem::resize_file(path_, size_);
  }
  size_t events = 0;

 private:
  std::string path_;
  uint64_t size_;
};

// Takes every free slot of the SIGBUS guard's table while alive, so files
// cannot be mapped and the decoders read them without a mapping.
class FullGuardTable {
 public:
  FullGuardTable() {
    for (sigbus::Slot s; (s = sigbus::Register(&byte_, 1)) >= 0;) slots_.push_back(s);
  }
  ~FullGuardTable() {
    for (sigbus::Slot s : slots_) sigbus::Unregister(s);
  }
  FullGuardTable(const FullGuardTable&) = delete;
  FullGuardTable& operator=(const FullGuardTable&) = delete;

 private:
  uint8_t byte_ = 0;
  std::vector<sigbus::Slot> slots_;
};

}  // namespace eventsift::shrink_test
