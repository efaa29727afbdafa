// Matcher::Match throughput over synthetic events, with the shipped rules
// (rules/) and with a large synthetic rule set. Reported as events/s
// (items_per_second).
//
//   build/release/bench/detect_bench --benchmark_filter=Match
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "src/detect/matcher.h"
#include "src/event/owned_event.h"

namespace eventsift::detect {
namespace {

std::shared_ptr<const RuleSet> ShippedRules() {
  static auto set = [] {
    auto loaded = RuleSet::Load({std::string(ES_SOURCE_DIR) + "/rules"});
    if (!loaded) std::abort();
    return loaded.value();
  }();
  return set;
}

OwnedEvent Make(std::string provider, std::string channel, uint32_t id, uint8_t level,
                std::string message, std::vector<std::pair<std::string, std::string>> data) {
  OwnedEvent e;
  e.provider = std::move(provider);
  e.channel = std::move(channel);
  e.event_id = id;
  e.level = level;
  e.message = std::move(message);
  e.data = std::move(data);
  e.computer = "EX01.contoso.com";
  return e;
}

// The EEMS 1008 with its TLS trust failure: matches eems_mitigation_error.
OwnedEvent EemsHit() {
  return Make("MSExchange Mitigation Service", "Application", 1008, 2,
              "An unexpected exception occurred.\r\nDiagnostic information: Exception "
              "encountered while fetching mitigations : System.AggregateException: One or more "
              "errors occurred. ---> System.Net.WebException: Could not establish trust "
              "relationship for the SSL/TLS secure channel. ---> The remote certificate is "
              "invalid according to the validation procedure.",
              {{"", "Exception encountered while fetching mitigations"}});
}

// Passes the EEMS rule's exact filters, fails its regex.
OwnedEvent EemsNearMiss() {
  return Make("MSExchange Mitigation Service", "Application", 1008, 2,
              "An unexpected exception occurred.\r\nDiagnostic information: System.IO."
              "IOException: There is not enough space on the disk.",
              {{"", "System.IO.IOException: There is not enough space on the disk."}});
}

// An ordinary Exchange cmdlet: passes the ProxyShell rules' filters and hits
// some of their patterns (-Identity), but matches no rule.
OwnedEvent CmdletNearMiss() {
  return Make("MSExchange CmdletLogs", "MSExchange Management", 1, 4,
              "Cmdlet succeeded. Cmdlet Set-Mailbox, parameters -Identity \"Administrateur\" "
              "-ProhibitSendQuota \"Unlimited\".",
              {{"", "Set-Mailbox"},
               {"", "-Identity \"Administrateur\" -ProhibitSendQuota \"Unlimited\""},
               {"", "ave.local/Users/Administrateur"},
               {"", "S-1-5-21-1-2-3-500"},
               {"", "S-1-5-21-1-2-3-500"},
               {"", "Remote-ManagementShell-Unknown"},
               {"", "5668 w3wp#MSExchangePowerShellAppPool"}});
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
  return Make("Microsoft-Windows-Security-Auditing", "Security", 4624, 0, "", std::move(data));
}

// An EEMS header with a 1 MiB message and data value that almost match:
// linear time is what keeps this from stalling a pipeline thread.
OwnedEvent HostileMegabyte() {
  std::string big;
  while (big.size() < (1u << 20)) big += "fetching mitigatio certificat trust relationshi ";
  return Make("MSExchange Mitigation Service", "Application", 1008, 2, big, {{"", big}});
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
BENCHMARK_CAPTURE(BM_MatchShipped, eems_hit, EemsHit, 1);
BENCHMARK_CAPTURE(BM_MatchShipped, eems_near_miss, EemsNearMiss, 0);
BENCHMARK_CAPTURE(BM_MatchShipped, cmdlet_near_miss, CmdletNearMiss, 0);
BENCHMARK_CAPTURE(BM_MatchShipped, unrelated, Unrelated, 0);
BENCHMARK_CAPTURE(BM_MatchShipped, hostile_1mb, HostileMegabyte, 0)->Unit(benchmark::kMillisecond);

// The header-only pre-check scan uses to skip payload decoding.
void BM_MayMatchUnrelated(benchmark::State& state) {
  Matcher matcher(ShippedRules());
  OwnedEvent owned = Unrelated();
  Event event = owned.View();
  for (auto _ : state) benchmark::DoNotOptimize(matcher.MayMatch(event));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MayMatchUnrelated);

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
