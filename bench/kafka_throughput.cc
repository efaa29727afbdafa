// es_kafka_throughput: alerts/s through the real KafkaSink (acks=all,
// idempotent, compression as shipped) to a real broker, for
// bench/kafka_bench.sh and its CTest test.
//
//   es_kafka_throughput --kafka-brokers B --kafka-topic T --spool-dir D
//                       --alerts FILE --count N [--flush-timeout S] [-X k=v]...
//
// FILE holds alerts as `eventsift scan --out` wrote them (one JSON object per
// line). Each is parsed and rendered again with RenderAlertJson; a line that
// does not come back byte for byte is refused, so what is sent is exactly the
// wire form the sink ships. The N sends cycle through them. The clock runs
// from the first Send until Flush has seen the delivery report of every alert;
// opening the sink (metadata probe) is outside it. Each alert goes out with
// SendShared, as scan and the daemon send theirs: the rendered JSON is shared
// with the sink, which references it until the delivery report rather than
// copying it (here the pool's copy, sent again on every cycle).
//
// Prints one line of key=value pairs (alerts, bytes, delivered, spooled,
// failed, seconds, alerts_per_s, mb_per_s, cpu_user_s, cpu_sys_s) and exits 0
// only when every alert was delivered (none spooled, none failed).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "src/alert/alert_json.h"
#include "src/sink/kafka/kafka_sink.h"

namespace {

struct PoolEntry {
  eventsift::Alert alert;
  std::shared_ptr<const std::string> json;
};

double CpuSeconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

int Usage(std::string_view why) {
  fmt::print(stderr,
             "es_kafka_throughput: {}\nusage: es_kafka_throughput --kafka-brokers B "
             "--kafka-topic T --spool-dir D --alerts FILE --count N [--flush-timeout S] "
             "[-X k=v]...\n",
             why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  eventsift::KafkaSinkOptions o;
  std::string alerts_path, count_text = "0", flush_text = "120";
  const std::map<std::string_view, std::string*> flags = {
      {"--kafka-brokers", &o.brokers}, {"--kafka-topic", &o.topic},
      {"--spool-dir", &o.spool_dir},   {"--alerts", &alerts_path},
      {"--count", &count_text},        {"--flush-timeout", &flush_text}};
  for (int i = 1; i < argc; i += 2) {
    std::string_view k = argv[i];
    if (i + 1 >= argc) return Usage(fmt::format("{} needs a value", k));
    std::string v = argv[i + 1];
    if (auto it = flags.find(k); it != flags.end()) {
      *it->second = v;
    } else if (k == "-X" && v.find('=') != std::string::npos) {
      o.properties.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
    } else {
      return Usage(fmt::format("bad flag {} {}", k, v));
    }
  }
  uint64_t count = std::strtoull(count_text.c_str(), nullptr, 10);
  double flush_s = std::strtod(flush_text.c_str(), nullptr);
  if (o.brokers.empty() || o.topic.empty() || o.spool_dir.empty() || alerts_path.empty() ||
      count == 0) {
    return Usage("--kafka-brokers, --kafka-topic, --spool-dir, --alerts and --count are needed");
  }

  std::vector<PoolEntry> pool;
  std::ifstream in(alerts_path);
  uint64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    auto parsed = eventsift::ParseAlertJson(line);
    if (!parsed) {
      fmt::print(stderr, "es_kafka_throughput: {}:{}: {}\n", alerts_path, line_no,
                 parsed.error().ToString());
      return 2;
    }
    PoolEntry e{std::move(parsed).value(), {}};
    e.json = std::make_shared<const std::string>(eventsift::RenderAlertJson(e.alert));
    if (*e.json != line) {
      fmt::print(stderr, "es_kafka_throughput: {}:{}: not RenderAlertJson output\n", alerts_path,
                 line_no);
      return 2;
    }
    pool.push_back(std::move(e));
  }
  if (pool.empty()) return Usage(fmt::format("no alerts in {}", alerts_path));

  o.flush_timeout = std::chrono::milliseconds(static_cast<int64_t>(flush_s * 1000));
  auto opened = eventsift::KafkaSink::Open(o);
  if (!opened) {
    fmt::print(stderr, "es_kafka_throughput: {}\n", opened.error().ToString());
    return 2;
  }
  eventsift::KafkaSink& sink = *opened.value();

  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  uint64_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    const PoolEntry& e = pool[i % pool.size()];
    bytes += e.json->size();
    eventsift::Status st = sink.SendShared(e.alert, e.json);
    if (!st.ok()) fmt::print(stderr, "es_kafka_throughput: {}\n", st.ToString());
  }
  eventsift::Status flushed = sink.Flush(o.flush_timeout);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  if (!flushed.ok()) fmt::print(stderr, "es_kafka_throughput: {}\n", flushed.ToString());

  const eventsift::SinkStats& s = sink.stats();
  fmt::print(
      "alerts={} distinct={} bytes={} delivered={} spooled={} failed={} seconds={:.3f} "
      "alerts_per_s={:.0f} mb_per_s={:.1f} cpu_user_s={:.2f} cpu_sys_s={:.2f}\n",
      count, pool.size(), bytes, s.delivered.Get(), s.spooled.Get(), s.failed.Get(), seconds,
      static_cast<double>(count) / seconds, static_cast<double>(bytes) / seconds / 1e6,
      CpuSeconds(after.ru_utime) - CpuSeconds(before.ru_utime),
      CpuSeconds(after.ru_stime) - CpuSeconds(before.ru_stime));
  std::fflush(stdout);
  return s.delivered.Get() == count && s.spooled.Get() == 0 && s.failed.Get() == 0 ? 0 : 4;
}
