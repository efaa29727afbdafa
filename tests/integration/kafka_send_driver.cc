// es_kafka_send: drives KafkaSink the way `eventsift scan` does (same flags),
// with N synthetic alerts instead of scanned events, so the sink's
// real-broker paths are tested whether or not scan is built with Kafka.
//   es_kafka_send --kafka-brokers B --kafka-topic T --spool-dir D --count N
//                 [--prefix P] [--flush-timeout S] [--delay-us U] [--out FILE]
//                 [-X k=v]...
// Alert i has alert_id "<P>-<i>" and host "host<i % 97>.contoso.com".
// Prints "delivered D spooled S failed F"; exit 0 unless something failed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "src/sink/kafka/kafka_sink.h"

int main(int argc, char** argv) {
  eventsift::KafkaSinkOptions o;
  uint64_t count = 0, delay_us = 0;
  std::string prefix = "alert", out_path;
  double flush_s = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--kafka-brokers") {
      o.brokers = v;
    } else if (k == "--kafka-topic") {
      o.topic = v;
    } else if (k == "--spool-dir") {
      o.spool_dir = v;
    } else if (k == "--count") {
      count = std::stoull(v);
    } else if (k == "--prefix") {
      prefix = v;
    } else if (k == "--flush-timeout") {
      flush_s = std::stod(v);
    } else if (k == "--out") {
      out_path = v;
    } else if (k == "--delay-us") {
      delay_us = std::stoull(v);
    } else if (k == "-X") {
      auto eq = v.find('=');
      o.properties.emplace_back(v.substr(0, eq), eq == std::string::npos ? "" : v.substr(eq + 1));
    } else {
      fmt::print(stderr, "es_kafka_send: unknown flag {}\n", k);
      return 2;
    }
  }
  o.flush_timeout = std::chrono::milliseconds(static_cast<int64_t>(flush_s * 1000));
  auto sink = eventsift::KafkaSink::Open(o);
  if (!sink) {
    fmt::print(stderr, "es_kafka_send: {}\n", sink.error().ToString());
    return 2;
  }
  eventsift::KafkaSink& s = *sink.value();
  // Like scan --out: every alert as NDJSON, whatever happens to it in Kafka.
  std::FILE* out = out_path.empty() ? nullptr : std::fopen(out_path.c_str(), "wb");
  for (uint64_t i = 0; i < count; ++i) {
    std::string host = fmt::format("host{}.contoso.com", i % 97);
    std::string json = fmt::format(
        R"({{"schema":"eventsift.alert/v1","alert_id":"{}-{}","rule":{{"id":"eems_mitigation_error"}},"host":"{}","count":1}})",
        prefix, i, host);
    if (out != nullptr) fmt::print(out, "{}\n", json);
    eventsift::Status st = s.SendMessage(host, "eems_mitigation_error", json);
    if (!st.ok()) fmt::print(stderr, "es_kafka_send: {}\n", st.ToString());
    if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  }
  if (out != nullptr) std::fclose(out);
  eventsift::Status flushed = s.Flush(o.flush_timeout);
  if (!flushed.ok()) fmt::print(stderr, "es_kafka_send: {}\n", flushed.ToString());
  const auto& st = s.stats();
  fmt::print("delivered {} spooled {} failed {} replayed {}\n", st.delivered.Get(),
             st.spooled.Get(), st.failed.Get(), s.counters().replayed);
  std::fflush(stdout);
  return st.failed.Get() == 0 ? 0 : 4;
}
