// Google Benchmark over the kernels of `eventsift dump`'s output side, on
// synthetic inputs shaped like EVTX text (short ASCII names and values, a
// few longer messages, some non-ASCII):
//
//   build/release/bench/output_bench --benchmark_filter=Utf16
//
// BM_Utf16Ascii/N       UTF-16LE -> UTF-8 of an N-unit ASCII string.
// BM_Utf16Mixed/N       the same with 1 unit in 8 non-ASCII (2 and 3 bytes,
//                       and a surrogate pair).
// BM_JsonEscapeSafe/N   AppendJsonString of N bytes that need no escaping.
// BM_JsonEscapeMixed/N  the same with a quote, a backslash, a newline and a
//                       multibyte character in every 32 bytes.
// BM_EventJson          AppendEventJson of one Security-4624-like event.
// Bytes/s count input bytes; items/s strings (or events).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/arena.h"
#include "src/core/json_writer.h"
#include "src/core/utf16.h"
#include "src/event/event.h"
#include "src/event/event_json.h"

namespace {

using eventsift::Arena;

std::vector<uint8_t> Utf16Le(const std::vector<uint16_t>& units) {
  std::vector<uint8_t> b;
  for (uint16_t u : units) {
    b.push_back(static_cast<uint8_t>(u));
    b.push_back(static_cast<uint8_t>(u >> 8));
  }
  return b;
}

std::vector<uint16_t> AsciiUnits(size_t n) {
  std::vector<uint16_t> u;
  for (size_t i = 0; i < n; ++i) u.push_back(static_cast<uint16_t>('a' + i % 26));
  return u;
}

void RunUtf16(benchmark::State& state, const std::vector<uint8_t>& bytes) {
  Arena arena(1 << 20);
  size_t n = 0;
  for (auto _ : state) {
    // Reset every 256 strings: the arena stays within its first block and
    // in cache, as per chunk (256 strings of 256 units are 197 KiB).
    if (++n % 256 == 0) arena.Reset();
    benchmark::DoNotOptimize(eventsift::Utf16LeToUtf8(bytes, &arena));
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes.size()) * state.iterations());
  state.SetItemsProcessed(state.iterations());
}

void BM_Utf16Ascii(benchmark::State& state) {
  RunUtf16(state, Utf16Le(AsciiUnits(static_cast<size_t>(state.range(0)))));
}
BENCHMARK(BM_Utf16Ascii)->Arg(4)->Arg(12)->Arg(40)->Arg(256);

void BM_Utf16Mixed(benchmark::State& state) {
  auto units = AsciiUnits(static_cast<size_t>(state.range(0)));
  for (size_t i = 7; i < units.size(); i += 8) units[i] = (i / 8) % 2 ? 0x00E9 : 0x4E2D;
  if (units.size() >= 4) {
    units[units.size() - 4] = 0xD83D;
    units[units.size() - 3] = 0xDE00;
  }
  RunUtf16(state, Utf16Le(units));
}
BENCHMARK(BM_Utf16Mixed)->Arg(40)->Arg(256);

void RunEscape(benchmark::State& state, const std::string& s) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    eventsift::AppendJsonString(&out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(s.size()) * state.iterations());
  state.SetItemsProcessed(state.iterations());
}

void BM_JsonEscapeSafe(benchmark::State& state) {
  std::string s;
  for (int64_t i = 0; i < state.range(0); ++i) s.push_back(static_cast<char>('a' + i % 26));
  RunEscape(state, s);
}
BENCHMARK(BM_JsonEscapeSafe)->Arg(4)->Arg(12)->Arg(40)->Arg(256);

void BM_JsonEscapeMixed(benchmark::State& state) {
  std::string s;
  while (s.size() < static_cast<size_t>(state.range(0))) {
    s += "C:\\Windows\\System32 \"quoted\"\nline \xC3\xA9t\xC3\xA9 ";
  }
  s.resize(static_cast<size_t>(state.range(0)));
  RunEscape(state, s);
}
BENCHMARK(BM_JsonEscapeMixed)->Arg(40)->Arg(256);

void BM_EventJson(benchmark::State& state) {
  eventsift::Event e;
  e.record_id = 123456;
  e.time = 132818311538337335;
  e.provider = "Microsoft-Windows-Security-Auditing";
  e.provider_guid = "{54849625-5478-4994-a5ba-3e3b0328c30d}";
  e.event_id = 4624;
  e.version = 2;
  e.task = 12544;
  e.keywords = 0x8020000000000000ULL;
  e.channel = "Security";
  e.computer = "WIN-DC01.example.local";
  e.process_id = 612;
  e.thread_id = 2468;
  const char* const kFields[][2] = {
      {"SubjectUserSid", "S-1-5-18"},
      {"SubjectUserName", "WIN-DC01$"},
      {"SubjectDomainName", "EXAMPLE"},
      {"SubjectLogonId", "0x3e7"},
      {"TargetUserSid", "S-1-5-21-3623811015-3361044348-30300820-1013"},
      {"TargetUserName", "alice"},
      {"TargetDomainName", "EXAMPLE"},
      {"TargetLogonId", "0x8dcdc"},
      {"LogonType", "3"},
      {"LogonProcessName", "NtLmSsp "},
      {"AuthenticationPackageName", "NTLM"},
      {"WorkstationName", "WS-042"},
      {"LogonGuid", "{00000000-0000-0000-0000-000000000000}"},
      {"ProcessName", "C:\\Windows\\System32\\lsass.exe"},
      {"IpAddress", "10.1.2.3"},
      {"IpPort", "49832"},
  };
  for (const auto& f : kFields) e.data.push_back({f[0], f[1]});
  e.where.file = "/var/log/evtx/Security.evtx";
  e.where.offset = 4608;
  e.where.chunk = 0;
  std::string out;
  for (auto _ : state) {
    out.clear();
    eventsift::AppendEventJson(e, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(out.size()) * state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventJson);

}  // namespace

BENCHMARK_MAIN();
