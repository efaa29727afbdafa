// Correlator throughput: AddHit of many hits over many hosts, then Finish
// (batch, as `scan` does) or Drain with an advancing watermark (streaming, as
// the daemon does). Reported as hits/s (items_per_second).
//
//   build/release/bench/correlate_bench
//
// Hits are rare next to events (one per rule match), so this matters for
// noisy rules and for the daemon's Drain cadence, not for decode throughput.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "src/correlate/correlator.h"

namespace eventsift::correlate {
namespace {

constexpr FileTime kT0 = FileTimeFromUnixMillis(1767571200000LL);  // 2026-01-05T00:00:00Z
constexpr int64_t kMinute = 60 * kTicksPerSecond;

std::vector<CorrelatedRule> Rules(int n) {
  std::vector<CorrelatedRule> rules;
  for (int i = 0; i < n; ++i) {
    CorrelatedRule r;
    r.meta.id = "bench_rule_" + std::to_string(i);
    r.meta.title = "bench rule";
    r.meta.severity = "high";
    r.spec.window_seconds = 24 * 3600;
    r.spec.threshold = 1;
    r.spec.suppress_seconds = 24 * 3600;
    r.spec.max_samples = 3;
    rules.push_back(std::move(r));
  }
  return rules;
}

// Hit i: host i % hosts, one minute after hit i - 1, with a short message
// and one data field, about the size of a real rule hit's event.
OwnedEvent HitEvent(int64_t i, int hosts) {
  OwnedEvent e;
  e.provider = "MSExchange Mitigation Service";
  e.channel = "Application";
  e.computer = "EXBENCH" + std::to_string(i % hosts) + ".bench.example";
  e.event_id = 1008;
  e.level = 2;
  e.time = kT0 + i * kMinute;
  e.record_id = static_cast<uint64_t>(i) + 1;
  e.message = "Exception encountered while fetching mitigations";
  e.data.emplace_back("param1",
                      "Could not establish trust relationship for the SSL/TLS secure channel.");
  return e;
}

std::vector<OwnedEvent> Hits(int64_t n, int hosts) {
  std::vector<OwnedEvent> hits;
  hits.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) hits.push_back(HitEvent(i, hosts));
  return hits;
}

// Args: hits per iteration, hosts, drain_every. drain_every 0 is the batch
// path of `scan`: AddHit all, then Finish once. Otherwise the daemon's loop:
// Drain after every drain_every hits with the watermark at the last hit's
// time, Finish at the end. Reports hits/s, and alerts per iteration as a
// sanity counter: a correlator that dropped every hit would look very fast.
void BM_Correlate(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int hosts = static_cast<int>(state.range(1));
  const int64_t drain_every = state.range(2);
  const std::vector<OwnedEvent> hits = Hits(n, hosts);
  uint64_t alerts = 0;
  for (auto _ : state) {
    state.PauseTiming();  // the copies below stand for the events scan moves in
    std::vector<OwnedEvent> batch = hits;
    Correlator c(Rules(2));
    state.ResumeTiming();
    for (int64_t i = 0; i < n; ++i) {
      const FileTime t = batch[i].time;
      c.AddHit(static_cast<uint32_t>(i & 1), std::move(batch[i]));
      if (drain_every > 0 && (i + 1) % drain_every == 0) alerts += c.Drain(t).size();
    }
    alerts += c.Finish().size();
  }
  if (alerts == 0) state.SkipWithError("no alerts: the correlator dropped every hit");
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["alerts_per_iter"] =
      static_cast<double>(alerts) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Correlate)
    ->ArgNames({"hits", "hosts", "drain_every"})
    ->Args({10000, 8, 0})
    ->Args({10000, 1000, 0})
    ->Args({100000, 100, 0})
    ->Args({10000, 8, 1000})
    ->Args({100000, 100, 1000});

}  // namespace
}  // namespace eventsift::correlate

BENCHMARK_MAIN();
