#pragma once
// Helpers for the real-broker tests: the broker the CTest fixture started
// (deploy/kafka/kafka.sh, state in $ES_KAFKA_DIR), unique topics, running
// commands with captured output, and reading a topic back with kcat.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace eventsift::testing {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0;
};

inline std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// A fresh scratch directory per test (removed by the caller's TearDown).
inline fs::path ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::temp_directory_path() /
                 ("es_kafka_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs `command` with bash; stdout and stderr are captured separately.
inline CommandResult Shell(const std::string& command) {
  static int n = 0;
  fs::path base = fs::temp_directory_path() /
                  ("es_kafka_cmd_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  std::ofstream(base.string() + ".sh") << command << "\n";
  auto start = std::chrono::steady_clock::now();
  int rc = std::system(
      ("bash " + base.string() + ".sh >" + base.string() + ".out 2>" + base.string() + ".err")
          .c_str());
  CommandResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = ReadAll(base.string() + ".out");
  r.err = ReadAll(base.string() + ".err");
  fs::remove(base.string() + ".sh");
  fs::remove(base.string() + ".out");
  fs::remove(base.string() + ".err");
  return r;
}

inline std::string KafkaScript() { return std::string(ES_SOURCE_DIR) + "/deploy/kafka/kafka.sh"; }

inline std::string KafkaDir() {
  const char* d = std::getenv("ES_KAFKA_DIR");
  return d != nullptr ? d : "";
}

// The fixture broker's PLAINTEXT (or SASL_PLAINTEXT) address.
inline std::string Broker(bool sasl = false) {
  CommandResult r =
      Shell(KafkaScript() + " status" + (sasl ? " --sasl" : "") + " --dir '" + KafkaDir() + "'");
  std::string addr = r.out.substr(0, r.out.find('\n'));
  return r.exit_code == 0 ? addr : "";
}

inline std::string UniqueName(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name =
      prefix + "." + info->name() + "." + std::to_string(::getpid()) + "." +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  return name;
}

inline bool CreateTopic(const std::string& topic, int partitions,
                        const std::string& dir = KafkaDir()) {
  CommandResult r = Shell(KafkaScript() + " topic '" + topic + "' --partitions " +
                          std::to_string(partitions) + " --dir '" + dir + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

struct Message {
  std::string key, value;
};

// Every message of the topic, read with Debian's kcat (-e: stop at the end).
inline std::vector<Message> ReadTopicWithKcat(const std::string& broker, const std::string& topic) {
  CommandResult r =
      Shell("kcat -C -b " + broker + " -t '" + topic + "' -o beginning -e -q -f '%k\\t%s\\n'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Message> out;
  for (const std::string& line : Lines(r.out)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    out.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return out;
}

// The alert_id of an alert JSON line (eventsift renders it as the second key;
// a plain search keeps these helpers independent of the alert library).
inline std::string AlertId(const std::string& json) {
  const std::string key = "\"alert_id\":\"";
  auto at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return json.substr(at, json.find('"', at) - at);
}

// Winlogbeat-shaped EEMS 1008 events, one per host: each gives one alert.
inline void WriteEemsInput(const fs::path& path, int hosts, int first_host = 0) {
  std::ofstream f(path);
  for (int i = first_host; i < first_host + hosts; ++i) {
    char host[32];
    std::snprintf(host, sizeof host, "EX%05d.contoso.com", i);
    f << R"({"@timestamp":"2024-03-14T13:54:25.116Z","message":"An unexpected exception occurred. )"
      << R"(Diagnostic information: Exception encountered while fetching mitigations.","log":{"level":"error"},)"
      << R"("winlog":{"channel":"Application","event_id":"1008","provider_name":"MSExchange Mitigation Service",)"
      << R"("computer_name":")" << host << R"(","record_id":)" << (i + 1) << "}}\n";
  }
}

// Whether this build's `eventsift scan` can send to Kafka (it lands
// separately from the sink; until then the driver stands in).
inline bool ScanHasKafka() {
  CommandResult r = Shell(std::string(ES_BINARY) + " scan --help");
  return r.exit_code == 0 && r.out.find("--kafka-brokers") != std::string::npos;
}

// Produces `alerts` alerts through the Kafka sink, like a user would: with
// `eventsift scan` over generated EEMS events when scan has the Kafka flags,
// else with the es_kafka_send driver (same flags). Every alert is also
// written to `out_file` (NDJSON, scan's --out). `first` offsets hosts/ids so
// two runs give different alerts. `flags` are the Kafka flags.
inline std::string ProduceCommand(const fs::path& work, int alerts, int first,
                                  const std::string& flags, const fs::path& out_file) {
  if (ScanHasKafka()) {
    fs::path input = work / ("input-" + std::to_string(first) + ".ndjson");
    WriteEemsInput(input, alerts, first);
    return std::string(ES_BINARY) + " scan --no-progress --out '" + out_file.string() + "' " +
           flags + " '" + input.string() + "'";
  }
  std::string cmd = std::string(ES_KAFKA_SEND) + " --count " + std::to_string(alerts) +
                    " --prefix run" + std::to_string(first) + " --out '" + out_file.string() +
                    "' " + flags;
  return cmd;
}

// Pending alerts in a spool, from `eventsift spool status --format json`.
inline long SpoolPending(const fs::path& spool_dir) {
  CommandResult r = Shell(std::string(ES_BINARY) + " spool status --format json --spool-dir '" +
                          spool_dir.string() + "'");
  auto at = r.out.find("\"pending\":");
  if (r.exit_code != 0 || at == std::string::npos) return -1;
  return std::stol(r.out.substr(at + 10));
}

inline int FreePort() {
  CommandResult r = Shell(
      "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
      "print(s.getsockname()[1])'");
  return std::stoi(r.out);
}

// alert_id -> the alert JSON of an NDJSON file.
inline std::map<std::string, std::string> AlertsById(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> out;
  for (const std::string& l : lines) out[AlertId(l)] = l;
  return out;
}

// A test on the fixture broker, with a scratch directory of its own.
class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = Broker();
    ASSERT_FALSE(broker_.empty()) << "the kafka_broker fixture is not running";
    work_ = ScratchDir();
  }
  void TearDown() override { fs::remove_all(work_); }
  std::string broker_;
  fs::path work_;
};

}  // namespace eventsift::testing
