#pragma once
// CorruptionReporter (leveldb log::Reader::Reporter): decoders report what they
// could not decode, with where and how many bytes were skipped, and go on.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/stats.h"
#include "src/core/status.h"

namespace eventsift {

class CorruptionReporter {
 public:
  virtual ~CorruptionReporter() = default;
  // `status` names the file and offset/line; `bytes_dropped` may be 0 when the
  // problem was repaired (e.g. a CRC mismatch on a chunk that still decoded).
  virtual void Report(const Status& status, uint64_t bytes_dropped) = 0;
};

// Collects reports in memory (tests, and the CLI which prints them).
class CollectingReporter : public CorruptionReporter {
 public:
  void Report(const Status& status, uint64_t bytes_dropped) override {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.push_back(status);
    bytes_dropped_ += bytes_dropped;
  }
  std::vector<Status> reports() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Status> reports_;
  uint64_t bytes_dropped_ = 0;
};

}  // namespace eventsift
