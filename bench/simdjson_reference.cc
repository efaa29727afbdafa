// The raw-parse floor for NDJSON: simdjson's own On-Demand iterate_many over a
// file already in memory, with as little work per document as keeps the
// parse honest. `eventsift scan` on the same file is compared against it
// (docs/perf/json.md, issue 7).
//
//   build/release/bench/simdjson_reference FILE [--repeat N] [--threads 1|2]
//                                          [--batch-bytes N] [--field NAME]
//
// What it does, per repetition: one ondemand::parser::iterate_many over the
// whole file (stage 1, the SIMD structural index, runs over every byte), and
// for every document it looks up one root field with find_field_unordered
// (default "EventID"), reads it as an unsigned integer when it is one, and
// adds it to a checksum that is printed, so neither the lookup nor the
// document can be optimised away. Finding the field walks the root object's
// keys, skipping their values through the structural index without
// unescaping or validating them: that is the least a consumer can do that
// still looks inside each document, which is why it is the floor. eventsift
// does far more per document (every key, strings unescaped, event built,
// rules matched).
//
// --threads 1 (the default) sets parser.threaded = false: the Debian build
// defines SIMDJSON_THREADS_ENABLED, and iterate_many would otherwise index the
// next batch on a second thread. --threads 2 leaves that on.
//
// Output, one JSON line on stdout (MB = 2^20 bytes, as docs/performance.md):
//   {"bytes":N,"docs":N,"seconds":S,"mb_per_s":X,"cpu_seconds":C,
//    "errors":E,"checksum":K,"repeat":R,"threads":T}
// `seconds` is the best wall time of R repetitions (loading excluded),
// `cpu_seconds` the process CPU time of that same repetition, mb_per_s
// bytes / seconds. Exit 0, or 2 on bad arguments / unreadable file.

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

namespace {

struct Pass {
  uint64_t docs = 0;
  uint64_t errors = 0;
  uint64_t checksum = 0;
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Pass RunOnce(simdjson::ondemand::parser& parser, const simdjson::padded_string& json,
             size_t batch_bytes, std::string_view field) {
  Pass pass;
  simdjson::ondemand::document_stream stream;
  if (parser.iterate_many(json, batch_bytes).get(stream) != simdjson::SUCCESS) {
    ++pass.errors;
    return pass;
  }
  for (auto doc_result : stream) {
    simdjson::ondemand::document_reference doc;
    if (std::move(doc_result).get(doc) != simdjson::SUCCESS) {
      ++pass.errors;  // the stream cannot go on after a bad document
      break;
    }
    ++pass.docs;
    simdjson::ondemand::value v;
    auto err = doc.find_field_unordered(field).get(v);
    if (err == simdjson::NO_SUCH_FIELD) continue;
    if (err != simdjson::SUCCESS) {
      ++pass.errors;
      continue;
    }
    uint64_t n = 0;
    pass.checksum += v.get_uint64().get(n) == simdjson::SUCCESS ? n : 1;
  }
  pass.errors += stream.truncated_bytes() > 0 ? 1 : 0;
  return pass;
}

int Usage() {
  std::fprintf(stderr,
               "usage: simdjson_reference FILE [--repeat N] [--threads 1|2] [--batch-bytes N] "
               "[--field NAME]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  int repeat = 3;
  int threads = 1;
  size_t batch_bytes = simdjson::dom::DEFAULT_BATCH_SIZE;
  std::string field = "EventID";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--repeat" && has_value) {
      repeat = std::atoi(argv[++i]);
    } else if (a == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--batch-bytes" && has_value) {
      batch_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--field" && has_value) {
      field = argv[++i];
    } else if (!a.empty() && a[0] != '-' && path == nullptr) {
      path = argv[i];
    } else {
      return Usage();
    }
  }
  if (path == nullptr || repeat < 1 || (threads != 1 && threads != 2) || batch_bytes == 0) {
    return Usage();
  }

  simdjson::padded_string json;
  if (simdjson::padded_string::load(path).get(json) != simdjson::SUCCESS) {
    std::fprintf(stderr, "simdjson_reference: cannot read %s\n", path);
    return 2;
  }
  simdjson::ondemand::parser parser;
  parser.threaded = threads == 2;

  Pass best_pass;
  double best = -1, best_cpu = 0;
  for (int r = 0; r < repeat; ++r) {
    double cpu0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    Pass pass = RunOnce(parser, json, batch_bytes, field);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = CpuSeconds() - cpu0;
    if (best < 0 || secs < best) {
      best = secs;
      best_cpu = cpu;
      best_pass = pass;
    }
  }
  double mb = static_cast<double>(json.size()) / (1u << 20);
  std::printf(
      "{\"bytes\":%zu,\"docs\":%llu,\"seconds\":%.6f,\"mb_per_s\":%.1f,\"cpu_seconds\":%.6f,"
      "\"errors\":%llu,\"checksum\":%llu,\"repeat\":%d,\"threads\":%d}\n",
      json.size(), static_cast<unsigned long long>(best_pass.docs), best,
      best > 0 ? mb / best : 0.0, best_cpu, static_cast<unsigned long long>(best_pass.errors),
      static_cast<unsigned long long>(best_pass.checksum), repeat, threads);
  return 0;
}
