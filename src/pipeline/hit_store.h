#pragma once
// HitStore: the rule hits of one scan input, in the order they were found,
// kept until every input is read (the correlator and the fleet view go over
// all hits twice, in input order; see Scanner::Run).
//
// Hits stay in memory while all stores of a scan together hold less than a
// shared budget. Past it, a store writes its further hits to an unlinked
// temporary file (gzip level 1: hits of one input repeat a lot), so a scan's
// memory stays bounded however many events match. Reading back yields the
// memory part, then the file part: input order either way.

#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "src/core/status.h"
#include "src/event/event.h"
#include "src/event/owned_event.h"

namespace eventsift {

class HitStore {
 public:
  // `memory_used` is shared by the stores of one scan and must outlive them;
  // `budget` is what they may hold in memory together, in bytes.
  HitStore(std::atomic<uint64_t>* memory_used, uint64_t budget);
  ~HitStore();
  HitStore(const HitStore&) = delete;  // owns a temporary file
  HitStore& operator=(const HitStore&) = delete;

  // Copies the event. A hit that cannot be written to the temporary file is
  // counted in dropped() and the first such error is kept in error(); after
  // an error, further hits are dropped too (memory stays within budget).
  void Add(uint32_t rule, const Event& event);

  // Calls fn(rule, event) for every hit in input order. fn may move from the
  // event only on the last pass. Adding after the first pass is not allowed.
  Status ForEach(const std::function<void(uint32_t, OwnedEvent&)>& fn);

  // Frees the memory (and returns it to the budget) and the file.
  void Release();

  uint64_t size() const { return in_memory_.size() + spilled_; }
  uint64_t spilled() const { return spilled_; }
  uint64_t dropped() const { return dropped_; }
  const Status& error() const { return error_; }

 private:
  Status OpenSpill();
  void Spill(uint32_t rule, const Event& event);

  std::atomic<uint64_t>* memory_used_;
  uint64_t budget_;
  std::vector<std::pair<uint32_t, OwnedEvent>> in_memory_;
  uint64_t memory_bytes_ = 0;  // this store's share of *memory_used_
  int fd_ = -1;                // the unlinked temporary file
  gzFile writer_ = nullptr;
  std::string record_;  // serialisation scratch
  uint64_t spilled_ = 0;
  uint64_t dropped_ = 0;
  Status error_;
};

}  // namespace eventsift
