// SigmaCorrelator throughput: hits of one base rule through an event_count,
// a value_count and a temporal_ordered chain, grouped by a user field over
// many groups, applied by Finish (as `scan` does) or by Drain with an
// advancing watermark (as the daemon does). Reported as hits/s.
//
//   build/release/bench/sigma_correlate_bench
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "src/correlate/sigma_correlator.h"
#include "src/detect/sigma_correlation_parser.h"

namespace eventsift::correlate {
namespace {

constexpr FileTime kT0 = FileTimeFromUnixMillis(1767571200000LL);  // 2026-01-05T00:00:00Z

constexpr char kRules[] = R"(title: count
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [TargetUserName]
    timespan: 10m
    condition: {gte: 5}
---
title: spray
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [IpAddress]
    timespan: 1h
    condition: {field: TargetUserName, gte: 20}
---
title: chain
correlation:
    type: temporal_ordered
    rules: [inner, successful_login]
    group-by: [TargetUserName]
    timespan: 30m
---
title: inner
name: inner
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [TargetUserName]
    timespan: 10m
    condition: {gte: 3}
)";

std::vector<detect::SigmaCorrelation> Correlations() {
  std::vector<detect::SigmaCorrelation> out;
  std::vector<Status> errors;
  detect::ParseSigmaCorrelations(kRules, "bench.yml", &out, &errors);
  return out;
}

// Hit i: one second after hit i - 1, user i % users, source address i % 97;
// every 10th hit is a successful logon.
std::vector<std::pair<uint32_t, OwnedEvent>> Hits(int64_t n, int users) {
  std::vector<std::pair<uint32_t, OwnedEvent>> hits;
  hits.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    OwnedEvent e;
    e.provider = "Microsoft-Windows-Security-Auditing";
    e.channel = "Security";
    e.event_id = i % 10 == 9 ? 4624 : 4625;
    e.computer = "DC01.bench.example";
    e.time = kT0 + i * kTicksPerSecond;
    e.record_id = static_cast<uint64_t>(i) + 1;
    e.data = {{"TargetUserName", "user" + std::to_string(i % users)},
              {"IpAddress", "10.0.0." + std::to_string(i % 97)}};
    hits.emplace_back(e.event_id == 4624 ? 1u : 0u, std::move(e));
  }
  return hits;
}

void Run(benchmark::State& state, bool streaming) {
  const int64_t n = state.range(0);
  const auto hits = Hits(n, static_cast<int>(state.range(1)));
  const auto correlations = Correlations();
  uint64_t alerts = 0;
  for (auto _ : state) {
    std::vector<Status> refused;
    SigmaCorrelator c(correlations, {{"failed_login", ""}, {"successful_login", ""}}, &refused);
    for (size_t i = 0; i < hits.size(); ++i) {
      c.AddHit(hits[i].first, hits[i].second);
      if (streaming && i % 1000 == 999)
        alerts += c.Drain(hits[i].second.time - 3600 * kTicksPerSecond).size();
    }
    alerts += c.Finish().size();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["alerts"] = static_cast<double>(alerts) / static_cast<double>(state.iterations());
}

void BM_SigmaBatch(benchmark::State& state) { Run(state, false); }
void BM_SigmaStreaming(benchmark::State& state) { Run(state, true); }

BENCHMARK(BM_SigmaBatch)->Args({100000, 1000})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SigmaStreaming)->Args({100000, 1000})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eventsift::correlate

BENCHMARK_MAIN();
