// Steady state allocates nothing: once a JsonLineDecoder has seen events of
// each shape, decoding them again must not touch the heap (the parser, the
// arena, the Event and its data vector are all reused).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "tests/unit/parsers/json/json_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define ES_ALLOC_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ES_ALLOC_TEST_UNDER_ASAN 1
#endif
#endif

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
// g++ pairs our malloc-backed operator new with gtest's delete calls and
// warns; both sides are ours, so the pairing is right.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#ifndef ES_ALLOC_TEST_UNDER_ASAN
// ASan owns the allocation functions; replacing them there mismatches its
// own new[]/free pairing, so this test counts only in normal builds.
// Counting replacements for the global allocation functions; every test in
// this binary goes through them, only the window below is counted.
void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void* operator new[](size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#endif

namespace eventsift::json::testing {
namespace {

// Touches every field without allocating.
class SummingHandler : public EventHandler {
 public:
  void OnEvent(const Event& e) override {
    sum += e.event_id + e.provider.size() + e.message.size() + e.computer.size();
    for (const auto& f : e.data) sum += f.name.size() + f.value.size();
    ++events;
  }
  uint64_t sum = 0;
  uint64_t events = 0;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

TEST(JsonLineDecoderAlloc, NoHeapAllocationInSteadyState) {
#ifdef ES_ALLOC_TEST_UNDER_ASAN
  GTEST_SKIP() << "allocation counting needs the real operator new";
#endif
  std::vector<std::string> lines;
  for (const char* file : {"winlogbeat.ndjson", "nxlog.ndjson", "evtx_dump.jsonl"}) {
    for (auto& l : Lines(ReadFile(DataPath(file)))) lines.push_back(std::move(l));
  }
  ASSERT_EQ(lines.size(), 57u + 57u + 58u);
  JsonLineDecoder decoder;
  SummingHandler handler;
  for (size_t i = 0; i < lines.size(); ++i) {  // warm up: buffers reach their sizes
    ASSERT_TRUE(decoder.DecodeLine(lines[i], i + 1, "warm", handler).ok());
  }
  g_allocations = 0;
  g_counting = true;
  for (size_t i = 0; i < lines.size(); ++i) {
    Status s = decoder.DecodeLine(lines[i], i + 1, "steady", handler);
    if (!s.ok()) break;
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(handler.events, 2 * lines.size());
}

}  // namespace
}  // namespace eventsift::json::testing
