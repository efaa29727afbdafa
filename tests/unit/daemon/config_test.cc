#include "src/daemon/config.h"

#include <gtest/gtest.h>

#include <string>

namespace eventsift::daemon {
namespace {

constexpr char kMinimal[] = R"(
state_dir: /tmp/es-state
sources:
  - name: drop
    type: directory
    path: /tmp/in
sinks:
  - type: stdout
)";

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  auto c = ParseConfig(kMinimal, "mem.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c.value().sources.size(), 1u);
  EXPECT_EQ(c.value().sources[0].type, SourceType::kDirectory);
  EXPECT_EQ(c.value().checkpoint_interval_ms, 5000);
  EXPECT_EQ(c.value().metrics_address, "127.0.0.1:9464");
}

TEST(ConfigTest, ExchangeBuildsPath) {
  auto c = ParseConfig(std::string(kMinimal) + "exchange_builds: /etc/eventsift/builds.csv\n",
                       "mem.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c.value().exchange_builds, "/etc/eventsift/builds.csv");
  EXPECT_TRUE(ParseConfig(kMinimal, "mem.yaml").value().exchange_builds.empty());
}

TEST(ConfigTest, ExchangeCvesPath) {
  auto c =
      ParseConfig(std::string(kMinimal) + "exchange_cves: /etc/eventsift/cves.csv\n", "mem.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c.value().exchange_cves, "/etc/eventsift/cves.csv");
  EXPECT_TRUE(ParseConfig(kMinimal, "mem.yaml").value().exchange_cves.empty());
}

TEST(ConfigTest, TheShippedExampleIsValid) {
  auto c = LoadConfig(std::string(ES_SOURCE_DIR) + "/deploy/eventsift.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_GE(c.value().sources.size(), 1u);
  EXPECT_GE(c.value().sinks.size(), 1u);
}

void ExpectError(const std::string& yaml, const std::string& needle) {
  auto c = ParseConfig(yaml, "bad.yaml");
  ASSERT_FALSE(c.has_value()) << "accepted: " << yaml;
  EXPECT_NE(c.error().ToString().find(needle), std::string::npos) << c.error().ToString();
}

TEST(ConfigTest, ErrorsNameTheKey) {
  ExpectError(std::string(kMinimal) + "checkpoint_interval: 5\n",
              "checkpoint_interval: unknown key");
  ExpectError(R"(
sources:
  - {name: a, type: tcp, port: 70000}
sinks: [{type: stdout}]
)",
              "sources[0].port: required, 1 to 65535");
  ExpectError(R"(
sources:
  - {name: a, type: stdin}
  - {name: a, type: directory, path: /x}
sinks: [{type: stdout}]
)",
              "sources[1].name: 'a' is used by an earlier source");
  ExpectError(R"(
sources: [{name: a, type: stdin}]
sinks: [{type: kafka, topic: t}]
)",
              "sinks[0].brokers: required");
  ExpectError(R"(
sources: [{name: a, type: stdin, max_line_bytes: lots}]
sinks: [{type: stdout}]
)",
              "sources[0].max_line_bytes: expected a number");
  ExpectError("sources: [\n", "not valid YAML");
  ExpectError("state_dir: /x\n", "sources: required");
}

// metrics.address is checked as sources[].port is: a port past 65535 used to
// wrap (99999 listened on 34463) and trailing text was cut off (12ab on 12).
TEST(ConfigTest, MetricsAddressPortMustBeANumberInRange) {
  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1:12ab", "127.0.0.1:-1", "127.0.0.1:+80",
                          "127.0.0.1:", "127.0.0.1:0", ":9464", "9464"}) {
    SCOPED_TRACE(bad);
    ExpectError(std::string(kMinimal) + "metrics:\n  address: \"" + bad + "\"\n",
                "metrics.address: ");
  }
  ExpectError(std::string(kMinimal) + "metrics:\n  address: 127.0.0.1:99999\n",
              "metrics.address: port '99999' is not a number from 0 to 65535");
  for (const char* good : {"127.0.0.1:1", "0.0.0.0:65535", "localhost:9464", "[::1]:9464"}) {
    auto c = ParseConfig(std::string(kMinimal) + "metrics:\n  address: \"" + good + "\"\n", "m");
    EXPECT_TRUE(c.has_value()) << good << ": " << c.error().ToString();
  }
  // Empty still disables the endpoint.
  auto off = ParseConfig(std::string(kMinimal) + "metrics:\n  address: \"\"\n", "m");
  ASSERT_TRUE(off.has_value()) << off.error().ToString();
  EXPECT_TRUE(off.value().metrics_address.empty());
}

// A key given twice is refused with both lines, at every level (yaml-cpp
// keeps both and lookups took the first, silently).
TEST(ConfigTest, KeysGivenTwiceAreRefusedNamingBothLines) {
  ExpectError(std::string(kMinimal) + "state_dir: /tmp/other\n",
              "state_dir: given twice (lines 2 and 9)");
  ExpectError(R"(
sources:
  - name: a
    type: tcp
    port: 5000
    port: 5001
sinks: [{type: stdout}]
)",
              "sources[0].port: given twice (lines 5 and 6)");
  ExpectError(std::string(kMinimal) + "log:\n  level: info\n  level: debug\n",
              "log.level: given twice (lines 10 and 11)");
  ExpectError(R"(
sources: [{name: a, type: stdin}]
sinks:
  - type: kafka
    brokers: b:9092
    topic: t
    properties:
      sasl.username: x
      sasl.username: y
)",
              "sinks[0].properties.sasl.username: given twice (lines 8 and 9)");
}

TEST(ConfigTest, TcpTls) {
  auto c = ParseConfig(R"(
sources:
  - name: t
    type: tcp
    port: 6514
    tls: {cert_file: /c.pem, key_file: /k.pem, client_ca_file: /ca.pem, min_version: "1.3",
          handshake_timeout_ms: 500}
  - {name: plain, type: tcp, port: 5170}
sinks: [{type: stdout}]
)",
                       "t.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  ASSERT_TRUE(c.value().sources[0].tls.has_value());
  const TlsConfig& t = *c.value().sources[0].tls;
  EXPECT_EQ(t.cert_file, "/c.pem");
  EXPECT_EQ(t.key_file, "/k.pem");
  EXPECT_EQ(t.client_ca_file, "/ca.pem");
  EXPECT_EQ(t.min_version, "1.3");
  EXPECT_EQ(t.handshake_timeout_ms, 500);
  EXPECT_FALSE(c.value().sources[1].tls.has_value());
  const char* kSinks = "sinks: [{type: stdout}]\n";
  ExpectError(
      std::string("sources: [{name: t, type: tcp, port: 1, tls: {key_file: /k}}]\n") + kSinks,
      "sources[0].tls.cert_file: required");
  ExpectError(
      std::string("sources: [{name: t, type: tcp, port: 1, tls: {cert_file: /c}}]\n") + kSinks,
      "sources[0].tls.key_file: required");
  ExpectError(std::string("sources: [{name: t, type: tcp, port: 1, tls: {cert_file: /c, key_file: "
                          "/k, min_version: \"1.1\"}}]\n") +
                  kSinks,
              "sources[0].tls.min_version: must be");
  ExpectError(std::string("sources: [{name: t, type: tcp, port: 1, tls: {cert_file: /c, key_file: "
                          "/k, ciphers: x}}]\n") +
                  kSinks,
              "sources[0].tls.ciphers: unknown key");
  ExpectError(std::string("sources: [{name: s, type: stdin, tls: {cert_file: /c}}]\n") + kSinks,
              "sources[0].tls: unknown key");
}

TEST(ConfigTest, HttpSource) {
  auto c = ParseConfig(R"(
sources:
  - name: web
    type: http
    address: 0.0.0.0
    port: 8088
    auth_token_file: /etc/eventsift/http.token
    tls: {cert_file: /c.pem, key_file: /k.pem}
    max_body_bytes: 2097152
    max_line_bytes: 65536
    max_pending_requests: 4
    ack_timeout_ms: 5000
    commit_delay_ms: 0
    retry_after_seconds: 2
    backpressure_status: 429
    idle_timeout_ms: 1000
  - {name: plain, type: http, port: 8089}
sinks: [{type: stdout}]
)",
                       "h.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  const SourceConfig& h = c.value().sources[0];
  EXPECT_EQ(h.type, SourceType::kHttp);
  EXPECT_EQ(h.address, "0.0.0.0");
  EXPECT_EQ(h.port, 8088);
  EXPECT_EQ(h.auth_token_file, "/etc/eventsift/http.token");
  ASSERT_TRUE(h.tls.has_value());
  EXPECT_EQ(h.tls->cert_file, "/c.pem");
  EXPECT_EQ(h.max_body_bytes, 2097152u);
  EXPECT_EQ(h.max_line_bytes, 65536u);
  EXPECT_EQ(h.max_pending_requests, 4u);
  EXPECT_EQ(h.ack_timeout_ms, 5000);
  EXPECT_EQ(h.commit_delay_ms, 0);
  EXPECT_EQ(h.retry_after_seconds, 2);
  EXPECT_EQ(h.backpressure_status, 429);
  EXPECT_EQ(h.idle_timeout_ms, 1000);
  const SourceConfig& plain = c.value().sources[1];
  EXPECT_EQ(plain.backpressure_status, 503);
  EXPECT_EQ(plain.idle_timeout_ms, 5000);
  EXPECT_EQ(plain.max_pending_requests, 16u);
  EXPECT_EQ(SourceTypeName(plain.type), "http");
  const char* kSinks = "sinks: [{type: stdout}]\n";
  ExpectError(std::string("sources: [{name: h, type: http}]\n") + kSinks,
              "sources[0].port: required");
  ExpectError(
      std::string("sources: [{name: h, type: http, port: 1, backpressure_status: 500}]\n") + kSinks,
      "sources[0].backpressure_status: must be 429 or 503");
  ExpectError(
      std::string("sources: [{name: h, type: http, port: 1, max_pending_requests: 0}]\n") + kSinks,
      "sources[0].max_pending_requests: must be 1 to 1024");
  ExpectError(
      std::string("sources: [{name: h, type: http, port: 1, max_body_bytes: 10}]\n") + kSinks,
      "sources[0].max_body_bytes: must be at least 1024");
  ExpectError(
      std::string("sources: [{name: h, type: http, port: 1, max_connections: 3}]\n") + kSinks,
      "sources[0].max_connections: unknown key");
}

TEST(ConfigTest, KafkaSource) {
  auto c = ParseConfig(R"(
sources: [{name: raw, type: kafka, brokers: "b:9092", topic: t, properties: {fetch.min.bytes: 1}}]
sinks: [{type: stdout}]
)",
                       "k.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c.value().sources[0].type, SourceType::kKafka);
  EXPECT_EQ(c.value().sources[0].group_id, "eventsift");
  ASSERT_EQ(c.value().sources[0].properties.size(), 1u);
  ExpectError("sources: [{name: raw, type: kafka, brokers: b}]\nsinks: [{type: stdout}]\n",
              "sources[0].topic: required");
}

TEST(ConfigTest, KafkaPropertiesAndSpoolDefault) {
  auto c = ParseConfig(R"(
state_dir: /s
sources: [{name: a, type: stdin}]
sinks:
  - type: kafka
    brokers: localhost:9092
    topic: alerts
    properties: {security.protocol: plaintext, linger.ms: 5}
)",
                       "k.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  const auto& s = c.value().sinks[0];
  EXPECT_EQ(s.spool_dir, "/s/spool");
  ASSERT_EQ(s.properties.size(), 2u);
  EXPECT_EQ(s.properties[1].second, "5");
}

TEST(ConfigTest, RelpSourceKeysAndJournalDefault) {
  const std::string head = "state_dir: /tmp/es-state\nsinks:\n  - type: stdout\nsources:\n";
  auto c = ParseConfig(
      head + "  - {name: r, type: relp, port: 2514, journal_max_bytes: 20000000}\n", "mem.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  const SourceConfig& s = c.value().sources[0];
  EXPECT_EQ(s.type, SourceType::kRelp);
  EXPECT_EQ(s.journal_dir, "/tmp/es-state/relp-r");
  EXPECT_EQ(s.journal_max_bytes, 20000000u);
  ExpectError(head + "  - {name: r, type: relp}\n", "sources[0].port");
  ExpectError(head + "  - {name: r, type: relp, port: 1, max_connections: 3}\n", "max_connections");
  // Smaller than 16 messages of max_line_bytes (1 MiB by default).
  ExpectError(head + "  - {name: r, type: relp, port: 1, journal_max_bytes: 100000}\n",
              "sources[0].journal_max_bytes");
  ExpectError(head +
                  "  - {name: r, type: relp, port: 1, tls: {cert_file: c, key_file: k, "
                  "min_version: '1.3'}}\n",
              "sources[0].tls.min_version");
}

}  // namespace
}  // namespace eventsift::daemon
