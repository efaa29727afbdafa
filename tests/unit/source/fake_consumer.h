#pragma once
// A RecordConsumer that keeps what it was given, for source tests.

#include <string>
#include <vector>

#include "src/source/source.h"

namespace eventsift::source {

class FakeConsumer : public RecordConsumer {
 public:
  void OnLine(const LineRecord& r) override {
    lines.emplace_back(r.line);
    origins.emplace_back(r.origin);
  }
  uint64_t OnEvtx(const EvtxRecord& r) override {
    evtx_first_chunks.push_back(r.first_chunk);
    evtx_sizes.push_back(r.bytes.size());
    evtx_after.push_back(r.after_record_id);
    // Pretend every chunk holds ten records.
    uint64_t chunks = (r.bytes.size() - 4096) / 65536;
    uint64_t last = (r.first_chunk + chunks) * 10;
    return last > r.after_record_id ? last : r.after_record_id;
  }
  std::vector<std::string> lines;
  std::vector<std::string> origins;
  std::vector<uint32_t> evtx_first_chunks;
  std::vector<size_t> evtx_sizes;
  std::vector<uint64_t> evtx_after;
};

}  // namespace eventsift::source
