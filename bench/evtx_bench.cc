// Google Benchmark over DecodeEvtxBuffer (parsers/evtx/evtx_decoder.h): whole
// corpus files decoded from memory, no output, threads 1 and 2. Reports
// bytes/s and records/s. The corpus is ../shared/corpus/evtx relative to the
// repository (bench/run.sh runs this after the whole-process comparison).
//
//   build/release/bench/evtx_bench --benchmark_filter=security
//
// BM_DecodeChunk decodes the second chunk of each file on its own (BinXml to
// events, nothing delivered), with templates from a warm TemplateCache, and
// BM_DecodeChunkUncached compiles them every time.
//
// BM_DecodeHeadersOnly declines every payload (EventHandler::WantPayload
// returns false), as `scan` does for events no loaded rule can match: it
// measures the <System> path alone.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_handlers.h"
#include "parsers/evtx/chunk_decoder.h"
#include "parsers/evtx/evtx_decoder.h"
#include "parsers/evtx/template_cache.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"

namespace {

using eventsift::DecoderOptions;
using eventsift::Event;

// Small, medium and large real logs with different providers and templates.
const char* const kFiles[] = {
    "security.evtx",                           // 2.1 MB, Security-Auditing
    "system.evtx",                             // 1.1 MB, many providers, UserData
    "sysmon.evtx",                             // 1.1 MB, long EventData strings
    "sample-with-irregular-bool-values.evtx",  // 2.1 MB
};

const std::vector<uint8_t>* LoadCorpusFile(const std::string& name) {
  static std::map<std::string, std::vector<uint8_t>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return &it->second;
  std::ifstream in(std::string(ES_SOURCE_DIR) + "/../shared/corpus/evtx/" + name, std::ios::binary);
  if (!in) return nullptr;
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return &cache.emplace(name, std::move(bytes)).first->second;
}

using eventsift::bench::CountingHandler;
using eventsift::bench::CountingReporter;

void Decode(benchmark::State& state, const char* file, bool want_payload) {
  const std::vector<uint8_t>* bytes = LoadCorpusFile(file);
  if (bytes == nullptr) {
    state.SkipWithError("corpus file not found (../shared/corpus/evtx)");
    return;
  }
  DecoderOptions options;
  options.threads = static_cast<int>(state.range(0));
  const std::string name = file;
  uint64_t events = 0;
  for (auto _ : state) {
    CountingHandler handler(want_payload);
    CountingReporter reporter;
    eventsift::Status s =
        eventsift::evtx::DecodeEvtxBuffer(std::span<const uint8_t>(bytes->data(), bytes->size()),
                                          name, options, handler, reporter, nullptr);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    events += handler.events();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes->size()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["records"] =
      static_cast<double>(events) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

// One 64 KiB chunk decoded into events (BinXml, plans, header and payload),
// no delivery: the per-chunk cost the whole-file numbers are made of.
// `cached`: templates come from a TemplateCache warmed by the first
// iteration, as in a file's later chunks; otherwise every iteration compiles
// them, as for a chunk whose templates are new.
void DecodeOneChunk(benchmark::State& state, const char* file, bool cached) {
  const std::vector<uint8_t>* bytes = LoadCorpusFile(file);
  if (bytes == nullptr) {
    state.SkipWithError("corpus file not found (../shared/corpus/evtx)");
    return;
  }
  const std::span<const uint8_t> image(bytes->data(), bytes->size());
  const std::span<const uint8_t> chunk = eventsift::evtx::ChunkBytes(image, 1);
  if (chunk.empty()) {
    state.SkipWithError("file has no second chunk");
    return;
  }
  eventsift::evtx::ChunkDecodeOptions options;
  eventsift::evtx::ChunkOutput out;
  eventsift::evtx::TemplateCache cache;
  uint64_t events = 0;
  for (auto _ : state) {
    eventsift::evtx::DecodeChunk(chunk, 1, eventsift::evtx::kFileHeaderSize + 65536, file, options,
                                 &out, cached ? &cache : nullptr);
    events += out.events.size();
    benchmark::DoNotOptimize(out.events.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void RegisterAll() {
  for (const char* f : kFiles) {
    benchmark::RegisterBenchmark((std::string("BM_DecodeChunk/") + f).c_str(),
                                 [f](benchmark::State& s) { DecodeOneChunk(s, f, true); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("BM_DecodeChunkUncached/") + f).c_str(),
                                 [f](benchmark::State& s) { DecodeOneChunk(s, f, false); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const char* f : kFiles) {
    benchmark::RegisterBenchmark((std::string("BM_Decode/") + f).c_str(),
                                 [f](benchmark::State& s) { Decode(s, f, true); })
        ->Arg(1)
        ->Arg(2)
        ->ArgName("threads")
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("BM_DecodeHeadersOnly/") + f).c_str(),
                                 [f](benchmark::State& s) { Decode(s, f, false); })
        ->Arg(1)
        ->ArgName("threads")
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
