#pragma once
// HitStore: the rule hits of one scan input, in the order they were found,
// kept until every input is read (the correlator and the fleet view go over
// all hits twice, in input order; see Scanner::Run).
//
// Hits stay in memory while all stores of a scan together hold less than a
// shared budget. Past it, a store serialises its further hits into blocks of
// about 1 MiB, compresses each (zlib level 1: hits of one input repeat a
// lot) and appends it to the scan's one SpillFile, so a scan's memory stays
// bounded however many events match, and a scan of thousands of inputs still
// uses one file descriptor. Reading back yields the memory part, then the
// blocks: input order either way.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/status.h"
#include "src/event/event.h"
#include "src/event/owned_event.h"

namespace eventsift {

// An unlinked temporary file in $TMPDIR (else /tmp), created on the first
// append, shared by the HitStores of one scan. Thread-safe.
class SpillFile {
 public:
  SpillFile() = default;
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;  // owns a file descriptor
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends `bytes`; *offset is where they start.
  Status Append(std::string_view bytes, uint64_t* offset);
  // Reads n bytes at offset into *out.
  Status Read(uint64_t offset, size_t n, std::string* out) const;

 private:
  std::mutex mu_;
  int fd_ = -1;       // guarded by mu_ until created, then only read
  uint64_t end_ = 0;  // guarded by mu_
  Status error_;      // the creation error, repeated to later callers; mu_
};

class HitStore {
 public:
  // `memory_used` is shared by the stores of one scan and `budget` is what
  // they may hold in memory together, in bytes; `spill` takes the rest.
  // Both must outlive the store.
  HitStore(std::atomic<uint64_t>* memory_used, uint64_t budget, SpillFile* spill);
  ~HitStore();
  HitStore(const HitStore&) = delete;  // its budget share is accounted in *memory_used
  HitStore& operator=(const HitStore&) = delete;

  // Copies the event. A hit that cannot be spilled is counted in dropped()
  // and the first such error is kept in error(); after an error, further
  // hits are dropped too (memory stays within budget).
  void Add(uint32_t rule, const Event& event);
  // Writes out the block being filled; call when the input is done, so a
  // finished input holds no more than its share of the budget.
  void Flush();

  // Calls fn(rule, event) for every hit in input order. fn may move from the
  // event only on the last pass. Adding after the first pass is not allowed.
  Status ForEach(const std::function<void(uint32_t, OwnedEvent&)>& fn);

  // Frees the memory and returns it to the budget.
  void Release();

  uint64_t size() const { return in_memory_.size() + spilled(); }
  uint64_t spilled() const { return spilled_ + pending_hits_; }  // not kept in memory
  uint64_t dropped() const { return dropped_; }
  const Status& error() const { return error_; }

 private:
  struct Block {  // one compressed run of serialised hits in the spill file
    uint64_t offset = 0;
    uint64_t compressed = 0, raw = 0;  // bytes
    uint64_t hits = 0;
  };
  void Fail(Status s, uint64_t hits_lost);

  std::atomic<uint64_t>* memory_used_;
  uint64_t budget_;
  SpillFile* spill_;
  std::vector<std::pair<uint32_t, OwnedEvent>> in_memory_;
  uint64_t memory_bytes_ = 0;  // this store's share of *memory_used_
  bool spilling_ = false;      // once set, every later hit is spilled (order)
  std::string pending_;        // serialised hits of the block being filled
  uint64_t pending_hits_ = 0;
  std::vector<Block> blocks_;
  uint64_t spilled_ = 0;  // hits written to blocks
  uint64_t dropped_ = 0;
  Status error_;
};

}  // namespace eventsift
