// Matcher::Match throughput over synthetic events, with the shipped rules
// (rules/) and with a large synthetic rule set. Reported as events/s
// (items_per_second).
//
//   build/release/bench/detect_bench --benchmark_filter=Match
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "src/detect/matcher.h"
#include "tests/unit/detect/test_events.h"

namespace eventsift::detect {
namespace {

std::shared_ptr<const RuleSet> ShippedRules() {
  static auto set = [] {
    auto loaded = RuleSet::Load(ShippedRulePaths(std::string(ES_SOURCE_DIR) + "/rules"));
    if (!loaded) std::abort();
    return loaded.value();
  }();
  return set;
}

using testing::CmdletEvent;
using testing::EemsError;
using testing::MakeEvent;

// Passes the EEMS rule's exact filters, fails its regex.
OwnedEvent EemsNearMiss() {
  return MakeEvent("MSExchange Mitigation Service", "Application", 1008, 2,
                   "An unexpected exception occurred.\r\nDiagnostic information: System.IO."
                   "IOException: There is not enough space on the disk.",
                   {{"", "System.IO.IOException: There is not enough space on the disk."}});
}

// An ordinary Exchange cmdlet: passes the ProxyShell rules' filters and hits
// some of their patterns (-Identity), but matches no rule.
OwnedEvent CmdletNearMiss() {
  return CmdletEvent(1, "Set-Mailbox",
                     "-Identity \"Administrateur\" -ProhibitSendQuota \"Unlimited\"", true);
}

// A Security 4624 logon: no rule's provider or event id.
OwnedEvent Unrelated() {
  std::vector<std::pair<std::string, std::string>> data;
  for (const char* name :
       {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid",
        "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName",
        "AuthenticationPackageName", "WorkstationName", "LogonGuid", "IpAddress", "IpPort"}) {
    data.emplace_back(name, std::string("value-of-") + name);
  }
  return MakeEvent("Microsoft-Windows-Security-Auditing", "Security", 4624, 0, "", std::move(data));
}

// An EEMS header with a 1 MiB message and data value that almost match:
// linear time is what keeps this from stalling a pipeline thread.
OwnedEvent HostileMegabyte() {
  std::string big;
  while (big.size() < (1u << 20)) big += "fetching mitigatio certificat trust relationshi ";
  return MakeEvent("MSExchange Mitigation Service", "Application", 1008, 2, big, {{"", big}});
}

void RunMatch(benchmark::State& state, const Matcher& matcher, const OwnedEvent& owned,
              size_t expected_hits) {
  Event event = owned.View();
  std::vector<uint32_t> out;
  out.reserve(16);
  for (auto _ : state) {
    out.clear();
    matcher.Match(event, &out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() != expected_hits) state.SkipWithError("unexpected number of rule hits");
  state.SetItemsProcessed(state.iterations());
}

void BM_MatchShipped(benchmark::State& state, OwnedEvent (*make)(), size_t expected_hits) {
  Matcher matcher(ShippedRules());
  RunMatch(state, matcher, make(), expected_hits);
}
BENCHMARK_CAPTURE(BM_MatchShipped, eems_hit, EemsError, 1);
BENCHMARK_CAPTURE(BM_MatchShipped, eems_near_miss, EemsNearMiss, 0);
BENCHMARK_CAPTURE(BM_MatchShipped, cmdlet_near_miss, CmdletNearMiss, 0);
BENCHMARK_CAPTURE(BM_MatchShipped, unrelated, Unrelated, 0);
BENCHMARK_CAPTURE(BM_MatchShipped, hostile_1mb, HostileMegabyte, 0)->Unit(benchmark::kMillisecond);

// The EEMS rule alone: what the other rules' patterns on the same field
// cost an EEMS event.
void BM_MatchEemsOnly(benchmark::State& state, OwnedEvent (*make)(), size_t expected_hits) {
  auto set = RuleSet::Load({std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml"});
  if (!set) {
    state.SkipWithError(set.error().ToString().c_str());
    return;
  }
  Matcher matcher(set.value());
  RunMatch(state, matcher, make(), expected_hits);
}
BENCHMARK_CAPTURE(BM_MatchEemsOnly, eems_hit, EemsError, 1);
BENCHMARK_CAPTURE(BM_MatchEemsOnly, eems_near_miss, EemsNearMiss, 0);

// The header-only pre-check scan uses to skip payload decoding.
void BM_MayMatchUnrelated(benchmark::State& state) {
  Matcher matcher(ShippedRules());
  OwnedEvent owned = Unrelated();
  Event event = owned.View();
  for (auto _ : state) benchmark::DoNotOptimize(matcher.MayMatch(event));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MayMatchUnrelated);

// MayMatch for a provider of the same length as an indexed one ("MSExchange
// CmdletLogs", 21 bytes) but another name and event id: the provider is
// lower-cased and looked up, unlike the unrelated event above, whose
// provider length no rule uses.
void BM_MayMatchSameLengthProvider(benchmark::State& state) {
  Matcher matcher(ShippedRules());
  OwnedEvent owned = MakeEvent("Microsoft-Windows-DNS", "System", 4624, 4, "", {});
  Event event = owned.View();
  for (auto _ : state) benchmark::DoNotOptimize(matcher.MayMatch(event));
  if (matcher.MayMatch(event)) state.SkipWithError("expected no candidate rule");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MayMatchSameLengthProvider);

// N rules with no exact filter, each a regex on data.*: every event is a
// candidate for all of them, so this is the RE2::Set pass at scale.
void BM_MatchManyUnfilteredRules(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::string yaml = "rules:\n";
  for (int i = 0; i < n; ++i) {
    yaml += "  - {id: r" + std::to_string(i) + ", match: {fields: [{field: data.*, regex: '" +
            "(?i)indicator-" + std::to_string(i) + "\\b'}]}}\n";
  }
  auto set = RuleSet::Parse(yaml, "synthetic.yaml");
  if (!set) {
    state.SkipWithError(set.error().ToString().c_str());
    return;
  }
  Matcher matcher(set.value());
  RunMatch(state, matcher, Unrelated(), 0);
}
BENCHMARK(BM_MatchManyUnfilteredRules)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace eventsift::detect

BENCHMARK_MAIN();
