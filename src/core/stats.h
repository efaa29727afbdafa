#pragma once
// Every stage counts what it received, sent and dropped (Vector's component
// spec); nothing drops silently. Counters are relaxed atomics so stages can be
// shared between threads and scraped by /metrics.

#include <atomic>
#include <cstdint>

namespace eventsift {

struct Counter {
  std::atomic<uint64_t> value{0};
  void Add(uint64_t n = 1) { value.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Get() const { return value.load(std::memory_order_relaxed); }
};

struct StageStats {
  Counter received;
  Counter sent;
  Counter dropped;
  Counter errors;
};

}  // namespace eventsift
