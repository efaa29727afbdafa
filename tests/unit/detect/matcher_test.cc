// Matcher semantics: exact filters, regex fields, case, all/any, negation,
// data.Name / data.* / message|data.*, ordering and MayMatch.
#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/detect/matcher.h"
#include "tests/unit/detect/test_events.h"

namespace eventsift::detect {
namespace {

using testing::MakeEvent;

std::shared_ptr<const RuleSet> Rules(const std::string& yaml) {
  auto set = RuleSet::Parse(yaml, "test.yaml");
  EXPECT_TRUE(set) << set.error().ToString();
  return set ? set.value() : nullptr;
}

// Ids of the rules `event` matches, in the order Match returns them.
std::vector<std::string> Hits(const Matcher& m, const OwnedEvent& owned) {
  Event event = owned.View();
  std::vector<uint32_t> idx;
  m.Match(event, &idx);
  std::vector<std::string> ids;
  for (uint32_t i : idx) ids.push_back(m.rules()[i].id);
  return ids;
}

using Ids = std::vector<std::string>;

TEST(MatcherTest, ExactFiltersAreCaseInsensitiveForNames) {
  Matcher m(Rules(R"(rules:
  - id: by_all
    match:
      providers: [MSExchange Mitigation Service]
      channels: [Application]
      event_ids: [1008]
      levels: [error]
  - id: by_provider
    match: {providers: [msexchange mitigation service, Other]}
  - id: by_level
    match: {levels: [warning, 2]}
  - id: by_channel
    match: {channels: [APPLICATION]}
)"));
  EXPECT_EQ(Hits(m, MakeEvent("MSEXCHANGE Mitigation SERVICE", "application", 1008, 2)),
            (Ids{"by_all", "by_provider", "by_level", "by_channel"}));
  EXPECT_EQ(Hits(m, MakeEvent("MSExchange Mitigation Service", "Application", 1006, 4)),
            (Ids{"by_provider", "by_channel"}));
  EXPECT_EQ(Hits(m, MakeEvent("Other", "System", 1008, 3)), (Ids{"by_provider", "by_level"}));
  EXPECT_EQ(Hits(m, MakeEvent("Nope", "System", 1008, 4)), Ids{});
  // Exact means exact: no substring or prefix matches on names.
  EXPECT_EQ(Hits(m, MakeEvent("MSExchange Mitigation Service2", "Application2", 1, 4)), Ids{});
}

// The provider index is consulted only for provider lengths some rule is
// filed under: same length but other text, other lengths, and a provider
// longer than the 256-entry length table.
TEST(MatcherTest, ProviderIndexByLength) {
  const std::string long_provider(300, 'p');
  Matcher m(Rules(R"(rules:
  - id: short
    match: {providers: [Abc]}
  - id: long
    match: {providers: [)" +
                  long_provider + R"(]}
)"));
  EXPECT_EQ(Hits(m, MakeEvent("aBC", "System", 1, 4)), Ids{"short"});
  EXPECT_EQ(Hits(m, MakeEvent("abd", "System", 1, 4)), Ids{});
  EXPECT_EQ(Hits(m, MakeEvent("abcd", "System", 1, 4)), Ids{});
  EXPECT_EQ(Hits(m, MakeEvent("", "System", 1, 4)), Ids{});
  EXPECT_EQ(Hits(m, MakeEvent(std::string(300, 'P'), "System", 1, 4)), Ids{"long"});
  EXPECT_EQ(Hits(m, MakeEvent(std::string(301, 'p'), "System", 1, 4)), Ids{});
  EXPECT_TRUE(m.MayMatch(MakeEvent("ABC", "System", 1, 4).View()));
  EXPECT_FALSE(m.MayMatch(MakeEvent("ABCD", "System", 1, 4).View()));
}

// The event id index is consulted only for ids some rule is filed under (a
// bitmap of the 16-bit ids, a flag for larger ones): ids at the bitmap's word
// and end boundaries, neighbours of filed ids, and ids past the bitmap.
TEST(MatcherTest, EventIdIndexByBitmap) {
  Matcher m(Rules(R"(rules:
  - id: low
    match: {event_ids: [0, 63, 64]}
  - id: top
    match: {event_ids: [65535]}
  - id: large
    match: {event_ids: [70000]}
)"));
  EXPECT_EQ(Hits(m, MakeEvent("P", "System", 0, 4)), Ids{"low"});
  EXPECT_EQ(Hits(m, MakeEvent("P", "System", 63, 4)), Ids{"low"});
  EXPECT_EQ(Hits(m, MakeEvent("P", "System", 64, 4)), Ids{"low"});
  EXPECT_EQ(Hits(m, MakeEvent("P", "System", 65535, 4)), Ids{"top"});
  EXPECT_EQ(Hits(m, MakeEvent("P", "System", 70000, 4)), Ids{"large"});
  for (uint32_t id : {1u, 62u, 65u, 128u, 65534u, 65536u, 69999u, 70001u}) {
    EXPECT_EQ(Hits(m, MakeEvent("P", "System", id, 4)), Ids{}) << id;
    EXPECT_FALSE(m.MayMatch(MakeEvent("P", "System", id, 4).View())) << id;
  }
  // Without a large id, ids past the bitmap are not looked up at all.
  Matcher small(Rules(R"(rules:
  - id: one
    match: {event_ids: [4624]}
)"));
  EXPECT_TRUE(small.MayMatch(MakeEvent("P", "Security", 4624, 0).View()));
  EXPECT_FALSE(small.MayMatch(MakeEvent("P", "Security", 4624 + 65536, 0).View()));
}

TEST(MatcherTest, MayMatchUsesOnlyTheHeader) {
  Matcher m(Rules(R"(rules:
  - id: eems
    match:
      providers: [MSExchange Mitigation Service]
      event_ids: [1008]
      fields: [{field: message, regex: certificate}]
)"));
  OwnedEvent hit = MakeEvent("MSExchange Mitigation Service", "Application", 1008, 2);
  OwnedEvent other_id = MakeEvent("MSExchange Mitigation Service", "Application", 1005, 4);
  OwnedEvent other_provider = MakeEvent("Service Control Manager", "System", 1008, 2);
  EXPECT_TRUE(m.MayMatch(hit.View()));  // no payload yet: still worth decoding
  EXPECT_FALSE(m.MayMatch(other_id.View()));
  EXPECT_FALSE(m.MayMatch(other_provider.View()));
  EXPECT_EQ(m.stats().header_checks.Get(), 3u);
  EXPECT_EQ(m.stats().header_skips.Get(), 2u);
}

// MayMatchEveryHeader: yes exactly when some rule has no exact filter, so
// that MayMatch says yes whatever the header (the JSON decoder then reads
// each document once); on both the indexed and the reference path.
TEST(MatcherTest, MayMatchEveryHeaderWhenARuleHasNoExactFilter) {
  const std::string filtered = R"(rules:
  - id: eems
    match:
      providers: [MSExchange Mitigation Service]
      event_ids: [1008]
      fields: [{field: message, regex: certificate}]
)";
  const std::string unfiltered = filtered + R"(  - id: anywhere
    match:
      fields: [{field: message, regex: mimikatz}]
)";
  const std::vector<OwnedEvent> headers = {
      MakeEvent("MSExchange Mitigation Service", "Application", 1008, 2),
      MakeEvent("Service Control Manager", "System", 7036, 4), MakeEvent("", "", 0, 0)};
  for (bool indexed : {true, false}) {
    Matcher narrow(Rules(filtered), indexed);
    EXPECT_FALSE(narrow.MayMatchEveryHeader()) << indexed;
    EXPECT_FALSE(narrow.MayMatch(headers[1].View())) << indexed;
    Matcher wide(Rules(unfiltered), indexed);
    EXPECT_TRUE(wide.MayMatchEveryHeader()) << indexed;
    for (const OwnedEvent& h : headers) EXPECT_TRUE(wide.MayMatch(h.View())) << indexed;
  }
}

TEST(MatcherTest, CaseSensitivityFollowsTheCondition) {
  Matcher m(Rules(R"(rules:
  - id: exact_case
    match: {fields: [{field: message, regex: Certificate}]}
  - id: any_case
    match: {fields: [{field: message, regex: Certificate, case_insensitive: true}]}
  - id: inline_flag
    match: {fields: [{field: message, regex: '(?i)certificate'}]}
)"));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 2, "bad Certificate")),
            (Ids{"exact_case", "any_case", "inline_flag"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 2, "bad CERTIFICATE")),
            (Ids{"any_case", "inline_flag"}));
}

TEST(MatcherTest, AllAndAnyCombineFieldConditions) {
  Matcher m(Rules(R"(rules:
  - id: all
    match:
      event_ids: [1]
      mode: all
      fields:
        - {field: data.*, regex: alpha}
        - {field: data.*, regex: beta}
  - id: any
    match:
      event_ids: [1]
      mode: any
      fields:
        - {field: data.*, regex: alpha}
        - {field: data.*, regex: beta}
)"));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"", "alpha"}, {"", "beta"}})),
            (Ids{"all", "any"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"", "alpha beta"}})), (Ids{"all", "any"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"", "beta"}})), (Ids{"any"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"", "gamma"}})), Ids{});
  // The exact filters still apply in "any" mode.
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 2, 4, "", {{"", "alpha beta"}})), Ids{});
}

TEST(MatcherTest, NegateHoldsWhenNoValueMatches) {
  Matcher m(Rules(R"(rules:
  - id: not_test_host
    match:
      event_ids: [4625]
      fields:
        - {field: data.TargetUserName, regex: '^admin'}
        - {field: computer, regex: '(?i)^test-', negate: true}
  - id: no_value_says_ok
    match:
      event_ids: [4625]
      fields: [{field: data.*, regex: '^ok$', negate: true}]
)"));
  OwnedEvent prod = MakeEvent("Security", "Security", 4625, 0, "", {{"TargetUserName", "admin1"}});
  prod.computer = "EX01";
  EXPECT_EQ(Hits(m, prod), (Ids{"not_test_host", "no_value_says_ok"}));
  OwnedEvent test = prod;
  test.computer = "TEST-EX01";
  EXPECT_EQ(Hits(m, test), (Ids{"no_value_says_ok"}));
  OwnedEvent ok = prod;
  ok.data.emplace_back("Status", "ok");
  EXPECT_EQ(Hits(m, ok), (Ids{"not_test_host"}));
}

TEST(MatcherTest, DataFieldKinds) {
  Matcher m(Rules(R"(rules:
  - id: named
    match: {fields: [{field: data.SubjectUserName, regex: '^svc_'}]}
  - id: any_data
    match: {fields: [{field: data.*, regex: '^svc_'}]}
  - id: message_or_data
    match: {fields: [{field: message|data.*, regex: 'svc_'}]}
  - id: any_alias
    match: {fields: [{field: any, regex: 'svc_'}]}
  - id: message_only
    match: {fields: [{field: message, regex: 'svc_'}]}
)"));
  // Named value: all of data.Name, data.*, message|data.*.
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"SubjectUserName", "svc_x"}})),
            (Ids{"named", "any_data", "message_or_data", "any_alias"}));
  // Another name: data.Name does not look at it; names are case-sensitive.
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"TargetUserName", "svc_x"}})),
            (Ids{"any_data", "message_or_data", "any_alias"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"subjectusername", "svc_x"}})),
            (Ids{"any_data", "message_or_data", "any_alias"}));
  // Unnamed (positional) values are data.* values too; later values count.
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "", {{"", "a"}, {"", "b"}, {"", "svc_y"}})),
            (Ids{"any_data", "message_or_data", "any_alias"}));
  // Only the message.
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "logon by svc_z")),
            (Ids{"message_or_data", "any_alias", "message_only"}));
}

TEST(MatcherTest, HeaderFieldsAsText) {
  Matcher m(Rules(R"(rules:
  - id: event_id_text
    match: {fields: [{field: event_id, regex: '^10\d\d$'}]}
  - id: keywords_hex
    match: {fields: [{field: keywords, regex: '^0x80'}]}
  - id: computer
    match: {fields: [{field: computer, regex: '(?i)\.contoso\.com$'}]}
  - id: record
    match: {fields: [{field: record_id, regex: '^4711$'}]}
)"));
  OwnedEvent e = MakeEvent("p", "c", 1008, 4);
  e.keywords = 0x8080000000000000ULL;
  e.record_id = 4711;
  EXPECT_EQ(Hits(m, e), (Ids{"event_id_text", "keywords_hex", "computer", "record"}));
  e.event_id = 108;
  e.keywords = 0x0080000000000000ULL;
  e.record_id = 47110;
  EXPECT_EQ(Hits(m, e), (Ids{"computer"}));
}

TEST(MatcherTest, IndicesAscendAcrossIndexes) {
  // Rules filed under event id, under provider and unindexed interleave.
  Matcher m(Rules(R"(rules:
  - {id: r0, match: {levels: [2]}}
  - {id: r1, match: {event_ids: [7]}}
  - {id: r2, match: {providers: [P]}}
  - {id: r3, match: {event_ids: [7, 8], providers: [P]}}
  - {id: r4, match: {channels: [C]}}
  - {id: r5, match: {providers: [Q, P]}}
)"));
  OwnedEvent owned = MakeEvent("P", "C", 7, 2);  // must outlive `event`
  Event event = owned.View();
  std::vector<uint32_t> idx = {99};  // Match appends
  m.Match(event, &idx);
  EXPECT_EQ(idx, (std::vector<uint32_t>{99, 0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(m.stats().received.Get(), 1u);
  EXPECT_EQ(m.stats().matched.Get(), 1u);
  EXPECT_EQ(m.stats().rule_hits.Get(), 6u);
}

TEST(MatcherTest, SharedPatternsFeedEveryRule) {
  // The same regex in two rules is one set entry that marks both conditions.
  Matcher m(Rules(R"(rules:
  - id: a
    match: {fields: [{field: message, regex: 'shared'}, {field: message, regex: 'x'}]}
  - id: b
    match: {fields: [{field: message, regex: 'shared'}]}
  - id: c
    match: {fields: [{field: message, regex: 'shared', negate: true}]}
)"));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "shared")), (Ids{"b"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "shared x")), (Ids{"a", "b"}));
  EXPECT_EQ(Hits(m, MakeEvent("p", "c", 1, 4, "nothing")), (Ids{"c"}));
}

TEST(MatcherTest, ScratchIsCleanBetweenEventsAndMatchers) {
  auto big = Rules(R"(rules:
  - {id: big_a, match: {fields: [{field: data.*, regex: one}]}}
  - {id: big_b, match: {fields: [{field: message, regex: two}, {field: data.X, regex: three}]}}
)");
  auto small = Rules("id: small\nmatch: {fields: [{field: message, regex: one}]}\n");
  Matcher mb(big), ms(small);
  EXPECT_EQ(Hits(mb, MakeEvent("p", "c", 1, 4, "two", {{"X", "three one"}})),
            (Ids{"big_a", "big_b"}));
  // Hits of the previous event must not leak into this one, on either matcher.
  EXPECT_EQ(Hits(ms, MakeEvent("p", "c", 1, 4, "zero")), Ids{});
  EXPECT_EQ(Hits(mb, MakeEvent("p", "c", 1, 4, "two", {{"X", "four"}})), Ids{});
}

TEST(MatcherTest, OneMatcherServesManyThreads) {
  Matcher m(Rules(R"(rules:
  - {id: a, match: {event_ids: [1], fields: [{field: data.*, regex: 'x\d+'}]}}
  - {id: b, match: {providers: [P], mode: any, fields: [{field: message, regex: y}, {field: data.*, regex: z}]}}
)"));
  constexpr int kThreads = 4, kEvents = 2000;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEvents; ++i) {
        // Each thread alternates shapes, so scratch state would leak if shared.
        bool a = (i + t) % 2 == 0, b = (i + t) % 3 == 0;
        OwnedEvent owned =
            MakeEvent("P", "C", 1, 4, b ? "y" : "n", {{"", a ? "x" + std::to_string(i) : "q"}});
        std::vector<uint32_t> got;
        m.Match(owned.View(), &got);
        std::vector<uint32_t> want;
        if (a) want.push_back(0);
        if (b) want.push_back(1);
        if (got != want) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(kThreads, 0));
  EXPECT_EQ(m.stats().received.Get(), uint64_t{kThreads} * kEvents);
}

// Header plans are cached per thread and per matcher: two matchers over
// different rules alternating on one thread, with the same headers, each
// answer from their own rules; a rule set replaced by a new matcher (as on
// a daemon reload) is never answered from the old one's plans.
TEST(MatcherTest, HeaderPlansBelongToTheirMatcher) {
  auto by_id = Rules("id: id1\nmatch: {event_ids: [1], fields: [{field: message, regex: x}]}\n");
  auto by_channel = Rules("id: ch\nmatch: {channels: [C], fields: [{field: message, regex: x}]}\n");
  const OwnedEvent e1 = MakeEvent("P", "C", 1, 4, "x");
  const OwnedEvent e2 = MakeEvent("P", "D", 2, 4, "x");
  for (int round = 0; round < 3; ++round) {
    auto a = std::make_unique<Matcher>(by_id);
    auto b = std::make_unique<Matcher>(by_channel);
    EXPECT_EQ(Hits(*a, e1), Ids{"id1"});
    EXPECT_EQ(Hits(*b, e1), Ids{"ch"});
    EXPECT_EQ(Hits(*a, e2), Ids{});
    EXPECT_EQ(Hits(*b, e2), Ids{});
    EXPECT_TRUE(a->MayMatch(e1.View()));
    EXPECT_FALSE(b->MayMatch(e2.View()));
  }
}

// The unindexed reference path (EVENTSIFT_NO_RULE_INDEX) and the indexed one
// agree on rules filed every way (id, provider, channel, none) and on rules
// that hold without a field hit (negation under any/all, no fields).
TEST(MatcherTest, UnindexedPathAgrees) {
  auto set = Rules(R"(rules:
  - {id: id, match: {event_ids: [1, 2], fields: [{field: message, regex: a}]}}
  - {id: prov, match: {providers: [P], fields: [{field: data.*, regex: b}]}}
  - {id: chan, match: {channels: [C], fields: [{field: message, regex: a}]}}
  - {id: lvl, match: {levels: [4], fields: [{field: message, regex: a, negate: true}]}}
  - {id: any_neg, match: {event_ids: [1], mode: any, fields: [{field: message, regex: q}, {field: data.*, regex: z, negate: true}]}}
  - {id: bare, match: {channels: [D]}}
)");
  Matcher indexed(set, true), reference(set, false);
  std::vector<OwnedEvent> events;
  for (uint32_t id : {1u, 2u, 3u}) {
    for (const char* prov : {"P", "p", "Q"}) {
      for (const char* chan : {"C", "c", "D"}) {
        for (const char* msg : {"a", "zz", "q"}) {
          events.push_back(MakeEvent(prov, chan, id, id == 3 ? 2 : 4, msg, {{"", msg}}));
        }
      }
    }
  }
  int hits = 0;
  for (const OwnedEvent& e : events) {
    Ids got = Hits(indexed, e);
    hits += static_cast<int>(got.size());
    EXPECT_EQ(got, Hits(reference, e));
    EXPECT_EQ(indexed.MayMatch(e.View()), reference.MayMatch(e.View()));
  }
  EXPECT_GT(hits, 50);
}

// Plans of recent headers are found by a direct-mapped table in front of the
// per-thread map: hundreds of headers (more than its slots, so they collide
// and evict), differing only in level, in provider case or length with the
// same last bytes, or in channel, asked in a mixed order and alternating
// with another matcher on the same thread, get the reference path's answer.
TEST(MatcherTest, RecentHeaderPlansAgreeWithTheReference) {
  auto set = Rules(R"(rules:
  - {id: kp, match: {providers: [Microsoft-Windows-Kernel-Power], fields: [{field: message, regex: a}]}}
  - {id: kg, match: {providers: [Microsoft-Windows-Kernel-General], levels: [4], fields: [{field: message, regex: a}]}}
  - {id: sys7, match: {channels: [System], event_ids: [7], fields: [{field: message, regex: a}]}}
  - {id: p40, match: {providers: [P40], event_ids: [40]}}
)");
  auto other_set = Rules("id: o\nmatch: {providers: [P1], fields: [{field: message, regex: a}]}\n");
  Matcher indexed(set, true), reference(set, false), other(other_set, true);
  std::vector<OwnedEvent> events;
  for (uint32_t id = 0; id < 50; ++id) {
    for (const char* prov :
         {"Microsoft-Windows-Kernel-Power", "microsoft-windows-kernel-power",
          "X-Microsoft-Windows-Kernel-Power", "Microsoft-Windows-Kernel-General"}) {
      for (const char* chan : {"System", "Application"}) {
        events.push_back(MakeEvent(prov, chan, id % 9, id % 2 == 0 ? 4 : 2, "a"));
      }
    }
    events.push_back(MakeEvent("P" + std::to_string(id), "System", id, 4, "a"));
  }
  std::mt19937 rng(5);
  int hits = 0;
  for (int pass = 0; pass < 3; ++pass) {
    std::shuffle(events.begin(), events.end(), rng);
    for (const OwnedEvent& e : events) {
      Ids got = Hits(indexed, e);
      hits += static_cast<int>(got.size());
      EXPECT_EQ(got, Hits(reference, e));
      EXPECT_EQ(indexed.MayMatch(e.View()), reference.MayMatch(e.View()));
      if (rng() % 8 == 0) Hits(other, e);  // the thread's plans change hands
    }
  }
  EXPECT_GT(hits, 300);
}

// Rules filed only by event id and provider (no channel index, nothing
// unindexed) let MayMatch answer from the id bitmap and the provider lengths
// before any plan is looked up: ids and provider lengths on both sides of the
// filed ones (the same length with other letters too) get the reference
// path's answer, and the skips are counted alike.
TEST(MatcherTest, MayMatchFromTheIndexBitmapsAgreesWithTheReference) {
  auto set = Rules(R"(rules:
  - {id: eems, match: {event_ids: [1008, 1005], fields: [{field: message, regex: a}]}}
  - {id: prov, match: {providers: [MSExchange Mitigation Service], fields: [{field: message, regex: a}]}}
  - {id: big, match: {event_ids: [70000]}}
)");
  Matcher indexed(set, true), reference(set, false);
  std::vector<OwnedEvent> events;
  for (uint32_t id : {0u, 1u, 1005u, 1006u, 1008u, 4624u, 65535u, 69999u, 70000u, 70001u}) {
    for (const char* prov : {"", "MSExchange Mitigation Service", "msexchange mitigation service",
                             "MSExchange Mitigation Servicf", "MSExchange Mitigation Servic",
                             "Microsoft-Windows-Security-Auditing"}) {
      events.push_back(MakeEvent(prov, "Application", id, 4, "a"));
    }
  }
  int yes = 0;
  for (const OwnedEvent& e : events) {
    const bool got = indexed.MayMatch(e.View());
    EXPECT_EQ(got, reference.MayMatch(e.View())) << e.View().provider << " " << e.View().event_id;
    yes += got ? 1 : 0;
  }
  // Ids 1005, 1008 and 70000 with any provider; the other 7 ids with the
  // rule's provider in either case.
  EXPECT_EQ(yes, 3 * 6 + 7 * 2);
  EXPECT_EQ(indexed.stats().header_skips.Get(), reference.stats().header_skips.Get());
  EXPECT_EQ(indexed.stats().header_checks.Get(), events.size());
}

}  // namespace
}  // namespace eventsift::detect
