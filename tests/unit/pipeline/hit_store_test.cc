// HitStore: hits come back in input order with every field, whether they
// stayed in memory or went through the scan's one temporary file, and the
// memory budget is shared and returned.
#include "src/pipeline/hit_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

namespace eventsift {
namespace {

// An event with every field set, distinct per `i`.
OwnedEvent Sample(uint64_t i) {
  OwnedEvent e;
  e.provider = "MSExchange Mitigation Service";
  e.provider_guid = "{00000000-0000-0000-0000-00000000000" + std::to_string(i % 10) + "}";
  e.channel = "Application";
  e.computer = "EX" + std::to_string(i % 3) + ".contoso.com";
  e.user_sid = "S-1-5-18";
  e.message = std::string(i % 7, 'm') + "fetching mitigations";
  e.file = "a.ndjson";
  e.event_id = 1008;
  e.qualifiers = static_cast<uint16_t>(i);
  e.has_qualifiers = i % 2 == 0;
  e.version = 1;
  e.level = 2;
  e.opcode = 3;
  e.task = 4;
  e.keywords = 0x8080000000000000ull + i;
  e.time = static_cast<FileTime>(133'000'000'000'000'000 + i);
  e.record_id = i;
  e.record_number = i + 7;
  e.process_id = 4312;
  e.thread_id = static_cast<uint32_t>(5120 + i);
  e.offset = i * 100;
  e.line = i + 1;
  e.chunk = static_cast<uint32_t>(i % 4);
  e.data = {{"", "positional " + std::to_string(i)}, {"Name", std::string(1000, 'd')}};
  if (i % 5 == 0) e.data.clear();
  return e;
}

void ExpectSame(const OwnedEvent& a, const OwnedEvent& b) {
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.provider_guid, b.provider_guid);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.computer, b.computer);
  EXPECT_EQ(a.user_sid, b.user_sid);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.qualifiers, b.qualifiers);
  EXPECT_EQ(a.has_qualifiers, b.has_qualifiers);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.opcode, b.opcode);
  EXPECT_EQ(a.task, b.task);
  EXPECT_EQ(a.keywords, b.keywords);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.record_id, b.record_id);
  EXPECT_EQ(a.record_number, b.record_number);
  EXPECT_EQ(a.process_id, b.process_id);
  EXPECT_EQ(a.thread_id, b.thread_id);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.line, b.line);
  EXPECT_EQ(a.chunk, b.chunk);
  EXPECT_EQ(a.data, b.data);
}

TEST(HitStoreTest, HitsComeBackInOrderWithEveryFieldInMemoryAndSpilled) {
  constexpr uint64_t kHits = 2000;
  std::atomic<uint64_t> used{0};
  SpillFile spill;
  // Room for a few hundred hits: the rest goes through the temporary file.
  HitStore store(&used, 400 * 1024, &spill);
  for (uint64_t i = 0; i < kHits; ++i) store.Add(static_cast<uint32_t>(i % 5), Sample(i).View());
  ASSERT_TRUE(store.error().ok()) << store.error().ToString();
  EXPECT_EQ(store.size(), kHits);
  EXPECT_GT(store.spilled(), kHits / 2);
  EXPECT_LT(store.spilled(), kHits);
  EXPECT_LE(used.load(), 400u * 1024);
  // Twice, as the scan reads them; the second pass may move the events out.
  for (int pass = 0; pass < 2; ++pass) {
    uint64_t i = 0;
    Status s = store.ForEach([&](uint32_t rule, OwnedEvent& e) {
      EXPECT_EQ(rule, i % 5);
      ExpectSame(e, Sample(i));
      if (pass == 1) OwnedEvent gone = std::move(e);
      ++i;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(i, kHits);
  }
  store.Release();
  EXPECT_EQ(used.load(), 0u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(HitStoreTest, StoresShareOneBudget) {
  std::atomic<uint64_t> used{0};
  SpillFile spill;
  HitStore a(&used, 64 * 1024, &spill);
  HitStore b(&used, 64 * 1024, &spill);
  // Interleaved, as two workers write: each store reads back its own hits.
  for (uint64_t i = 0; i < 3000; ++i) {
    a.Add(0, Sample(i).View());
    b.Add(1, Sample(i + 5000).View());
    if (i % 700 == 0) a.Flush();
  }
  EXPECT_LE(used.load(), 64u * 1024);
  EXPECT_GT(a.spilled() + b.spilled(), 3000u);
  for (HitStore* store : {&a, &b}) {
    const uint64_t first = store == &a ? 0 : 5000;
    uint64_t i = 0;
    Status s = store->ForEach([&](uint32_t, OwnedEvent& e) {
      EXPECT_EQ(e.record_id, first + i);
      ++i;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(i, 3000u);
  }
  a.Release();
  b.Release();
  EXPECT_EQ(used.load(), 0u);
}

}  // namespace
}  // namespace eventsift
