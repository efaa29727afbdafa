// Steady-state matching allocates nothing per event, except where RE2::Set
// must list which of more than 4 candidate patterns a value hit (see
// matcher.h; on ASCII text the literal path lists without allocating). A replaced global operator
// new counts allocations, so this test has a binary of its own. GCC 12 flags the malloc/free pair
// inside the replaced operators as a new/free mismatch; both sides are ours, so the pairing is
// right.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/detect/matcher.h"
#include "tests/unit/detect/test_events.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// RE2 allocates some of its structures with new (std::nothrow) (FilteredRE2
// at load) and frees them with delete: that form must come from malloc too,
// or ASan sees its own operator new's memory freed by ours.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace eventsift::detect {
namespace {

TEST(MatcherAllocTest, SteadyStateMatchDoesNotAllocate) {
  auto set = RuleSet::Load(ShippedRulePaths(std::string(ES_SOURCE_DIR) + "/rules"));
  ASSERT_TRUE(set) << set.error().ToString();
  Matcher m(set.value());

  OwnedEvent near_miss = testing::EemsError();
  near_miss.message = "An unexpected exception occurred. Disk full.";
  near_miss.data = {{"", "System.IO.IOException"}};
  // Passes the ProxyShell rules' filters, hits none of their patterns.
  OwnedEvent cmdlet = testing::CmdletEvent(1, "Get-Mailbox", "-ResultSize \"10\"", true);
  // Event 6 is a candidate both by id (the CVE-2021-42321 rule) and by
  // provider (the ProxyShell rules): two candidate lists to merge.
  OwnedEvent failed = testing::CmdletEvent(6, "Get-Mailbox", "-ResultSize \"10\"", true);
  OwnedEvent unrelated = testing::MakeEvent("Service Control Manager", "System", 7036, 4, "x");
  OwnedEvent hit = testing::EemsError();
  std::vector<Event> events = {near_miss.View(), cmdlet.View(), failed.View(), unrelated.View(),
                               hit.View()};
  std::vector<uint32_t> out;
  out.reserve(64);

  // Warm-up: thread-local scratch and RE2's DFA caches grow to their size.
  for (int i = 0; i < 3; ++i) {
    for (const Event& e : events) {
      out.clear();
      m.Match(e, &out);
      (void)m.MayMatch(e);
    }
  }
  ASSERT_EQ(out, std::vector<uint32_t>{0});  // the EEMS event matched rule 0

  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 1000; ++i) {
    for (const Event& e : events) {  // misses, near misses and a rule hit
      out.clear();
      m.Match(e, &out);
      (void)m.MayMatch(e);
    }
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(out, std::vector<uint32_t>{0});
  EXPECT_EQ(m.stats().received.Get(), 15u + 5000u);
  EXPECT_EQ(m.stats().matched.Get(), 3u + 1000u);
}

TEST(MatcherAllocTest, OnlyValuesHittingALargeSetAllocate) {
  auto set = RuleSet::Load(ShippedRulePaths(std::string(ES_SOURCE_DIR) + "/rules"));
  ASSERT_TRUE(set) << set.error().ToString();
  Matcher m(set.value());
  // -Identity is one of 17 ProxyShell patterns on message|data.*: the message
  // and the parameters value hit the set, the other values do not.
  // Allocations of one Match of `event`, after a warm-up; it matches no rule.
  auto allocations_of_one_match = [&m](const OwnedEvent& event) {
    const Event e = event.View();
    std::vector<uint32_t> out;
    out.reserve(64);
    for (int i = 0; i < 3; ++i) m.Match(e, &out);
    out.clear();
    g_allocations = 0;
    g_counting = true;
    m.Match(e, &out);
    g_counting = false;
    EXPECT_TRUE(out.empty());
    return g_allocations.load();
  };
  // ASCII values take the literal path (Hyperscan, and the non-literal
  // patterns filtered by their atoms): nothing to allocate.
  EXPECT_EQ(
      allocations_of_one_match(testing::CmdletEvent(1, "Get-Mailbox", "-Identity \"admin\"", true)),
      0u);
  // Text that is not ASCII goes through the field's whole RE2::Set, whose
  // result list allocates a few times per hitting value, not per value or
  // per rule.
  const uint64_t accented = allocations_of_one_match(testing::CmdletEvent(1, "Get-Mailbox",
                                                                          "-Identity \"\xc3\xa4"
                                                                          "dmin\"",
                                                                          true));
  EXPECT_GT(accented, 0u);
  EXPECT_LE(accented, 2u * 4u);
}

}  // namespace
}  // namespace eventsift::detect
