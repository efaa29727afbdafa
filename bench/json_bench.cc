// Google Benchmark over the JSON export decoder (parsers/json/json_decoder.h):
// the three OTRF Security-Datasets exports in ../shared/corpus/json,
// decompressed into memory once, decoded with no output. Reports bytes/s
// (decompressed JSON) and items/s (events).
//
//   build/release/bench/json_bench --benchmark_filter=mimikatz
//
// BM_DecodeBuffer         DecodeJsonBuffer over the plain NDJSON (the scan path
//                         minus file reading).
// BM_DecodeHeadersOnly    the same, with WantPayload() answering no (scan with
//                         no rule for the event).
// BM_DecodeGzip           DecodeJsonBuffer over the .gz bytes: inflate included.
// BM_LineDecoder          JsonLineDecoder line by line (the daemon's tailer/TCP
//                         path: one copy per line into a padded buffer).
// BM_Shape                field extraction per export shape: the small
//                         tests/data/json file of each shape (Winlogbeat/ECS,
//                         NXLog, evtx_dump, PowerShell array), in memory,
//                         with the payload wanted (header pass + full pass
//                         for the flat shapes) and not (header pass only).

#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "bench/bench_handlers.h"
#include "parsers/json/json_decoder.h"
#include "src/decoder/corruption_reporter.h"
#include "src/decoder/event_handler.h"

namespace {

using eventsift::Event;

const char* const kFiles[] = {
    "cmd_psh_stop_netprofm_eventlog_after_reboot.json.gz",        // 28.6 MB, 12704 events, CRLF
    "empire_mimikatz_logonpasswords_2020-08-07103224.json.gz",    // 43.5 MB, 6026 events
    "empire_smbexec_dcerpc_smb_svcctl_2020-09-20025716.json.gz",  // 20.7 MB, 7504 events
};

struct CorpusFile {
  std::string gz;     // the file as stored
  std::string plain;  // decompressed
};

std::string Inflate(const std::string& gz) {
  std::string out;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return out;
}

const CorpusFile* Load(const std::string& name) {
  static std::map<std::string, CorpusFile> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return &it->second;
  std::ifstream in(std::string(ES_SOURCE_DIR) + "/../shared/corpus/json/" + name, std::ios::binary);
  if (!in) return nullptr;
  CorpusFile f;
  f.gz.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  f.plain = Inflate(f.gz);
  return &cache.emplace(name, std::move(f)).first->second;
}

using eventsift::bench::CountingHandler;
using eventsift::bench::CountingReporter;

// Decodes `bytes` once per iteration; `plain_size` is what bytes/s counts.
void RunBuffer(benchmark::State& state, const std::string& bytes, size_t plain_size,
               bool want_payload) {
  static const std::string kName = "bench.json";
  uint64_t events = 0, reports = 0;
  for (auto _ : state) {
    CountingHandler handler(want_payload);
    CountingReporter reporter;
    eventsift::Status s =
        eventsift::json::DecodeJsonBuffer(bytes, kName, handler, reporter, nullptr);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(handler.fields());
    events += handler.events();
    reports += reporter.reports();
  }
  state.SetBytesProcessed(static_cast<int64_t>(plain_size) * state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["reports"] =
      static_cast<double>(reports) / static_cast<double>(state.iterations());
}

void BM_DecodeBuffer(benchmark::State& state, const char* name) {
  const CorpusFile* f = Load(name);
  if (f == nullptr) return state.SkipWithError("corpus file missing");
  RunBuffer(state, f->plain, f->plain.size(), true);
}

void BM_DecodeHeadersOnly(benchmark::State& state, const char* name) {
  const CorpusFile* f = Load(name);
  if (f == nullptr) return state.SkipWithError("corpus file missing");
  RunBuffer(state, f->plain, f->plain.size(), false);
}

void BM_DecodeGzip(benchmark::State& state, const char* name) {
  const CorpusFile* f = Load(name);
  if (f == nullptr) return state.SkipWithError("corpus file missing");
  RunBuffer(state, f->gz, f->plain.size(), true);
}

void BM_LineDecoder(benchmark::State& state, const char* name) {
  const CorpusFile* f = Load(name);
  if (f == nullptr) return state.SkipWithError("corpus file missing");
  eventsift::json::JsonLineDecoder decoder;
  uint64_t events = 0;
  for (auto _ : state) {
    CountingHandler handler(true);
    std::string_view rest = f->plain;
    uint64_t line_no = 0;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      eventsift::Status s = decoder.DecodeLine(line, ++line_no, name, handler);
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    }
    benchmark::DoNotOptimize(handler.fields());
    events += handler.events();
  }
  state.SetBytesProcessed(static_cast<int64_t>(f->plain.size()) * state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(events));
}

// One file per shape, as shipped in tests/data/json.
const char* const kShapeFiles[] = {"winlogbeat.ndjson", "nxlog.ndjson", "evtx_dump.jsonl",
                                   "powershell_array.json"};

const std::string* LoadShape(const std::string& name) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return &it->second;
  std::ifstream in(std::string(ES_SOURCE_DIR) + "/tests/data/json/" + name, std::ios::binary);
  if (!in) return nullptr;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return &cache.emplace(name, std::move(bytes)).first->second;
}

void BM_Shape(benchmark::State& state, const char* name, bool want_payload) {
  const std::string* bytes = LoadShape(name);
  if (bytes == nullptr) return state.SkipWithError("tests/data/json file missing");
  RunBuffer(state, *bytes, bytes->size(), want_payload);
}

void RegisterAll() {
  for (const char* file : kShapeFiles) {
    for (bool want : {true, false}) {
      benchmark::RegisterBenchmark(
          ("BM_Shape/" + std::string(file) + (want ? "/payload" : "/headers")).c_str(), BM_Shape,
          file, want);
    }
  }
  for (const char* file : kFiles) {
    benchmark::RegisterBenchmark(("BM_DecodeBuffer/" + std::string(file)).c_str(), BM_DecodeBuffer,
                                 file)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_DecodeHeadersOnly/" + std::string(file)).c_str(),
                                 BM_DecodeHeadersOnly, file)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_DecodeGzip/" + std::string(file)).c_str(), BM_DecodeGzip,
                                 file)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_LineDecoder/" + std::string(file)).c_str(), BM_LineDecoder,
                                 file)
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
