#include "src/daemon/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "src/daemon/listen_address.h"

namespace eventsift::daemon {

namespace {

// Thrown inside this file only and turned into a Status by ParseConfig, so a
// deep validation path does not need a return check at every step.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& key, const std::string& why) {
  throw ConfigError(fmt::format("{}: {}", key, why));
}

std::string Join(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// yaml-cpp keeps both pairs of a repeated key and lookups find the first, so
// the second would be ignored without a word: refuse it, naming both lines.
void CheckNoDuplicates(const YAML::Node& map, const std::string& where) {
  std::map<std::string, int> first_line;
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    int line = kv.first.Mark().line + 1;
    auto [it, inserted] = first_line.emplace(key, line);
    if (!inserted) {
      Fail(Join(where, key), fmt::format("given twice (lines {} and {})", it->second, line));
    }
  }
}

void CheckKeys(const YAML::Node& map, const std::string& where,
               const std::set<std::string>& allowed) {
  if (!map.IsMap()) Fail(where.empty() ? "(top level)" : where, "expected a mapping");
  CheckNoDuplicates(map, where);
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(Join(where, key), fmt::format("unknown key (allowed: {})", list));
    }
  }
}

template <typename T>
void Read(const YAML::Node& map, const std::string& where, const char* key, T* out) {
  YAML::Node n = map[key];
  if (!n) return;
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    Fail(Join(where, key), fmt::format("expected {}", std::is_same_v<T, std::string> ? "a string"
                                                      : std::is_same_v<T, bool> ? "true or false"
                                                                                : "a number"));
  }
}

void ReadStrings(const YAML::Node& map, const std::string& where, const char* key,
                 std::vector<std::string>* out) {
  YAML::Node n = map[key];
  if (!n) return;
  if (n.IsScalar()) {
    *out = {n.as<std::string>()};
    return;
  }
  if (!n.IsSequence()) Fail(Join(where, key), "expected a list of strings");
  out->clear();
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) Fail(fmt::format("{}[{}]", Join(where, key), i), "expected a string");
    out->push_back(n[i].as<std::string>());
  }
}

// librdkafka properties: a mapping of scalars, passed through as strings.
void ReadProperties(const YAML::Node& n, const std::string& where,
                    std::vector<std::pair<std::string, std::string>>* out) {
  YAML::Node props = n["properties"];
  if (!props) return;
  if (!props.IsMap())
    Fail(Join(where, "properties"), "expected a mapping of librdkafka properties");
  CheckNoDuplicates(props, Join(where, "properties"));
  for (const auto& kv : props) {
    if (!kv.second.IsScalar()) {
      Fail(Join(where, "properties." + kv.first.as<std::string>()), "expected a string value");
    }
    out->emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
  }
}

void RequirePositive(int64_t v, const std::string& key) {
  if (v <= 0) Fail(key, "must be greater than 0");
}

TlsConfig ReadTls(const YAML::Node& n, const std::string& where) {
  TlsConfig t;
  CheckKeys(n, where,
            {"cert_file", "key_file", "client_ca_file", "min_version", "handshake_timeout_ms"});
  Read(n, where, "cert_file", &t.cert_file);
  Read(n, where, "key_file", &t.key_file);
  Read(n, where, "client_ca_file", &t.client_ca_file);
  Read(n, where, "min_version", &t.min_version);
  Read(n, where, "handshake_timeout_ms", &t.handshake_timeout_ms);
  if (t.cert_file.empty()) Fail(Join(where, "cert_file"), "required");
  if (t.key_file.empty()) Fail(Join(where, "key_file"), "required");
  // TLS 1.0 and 1.1 are deprecated (RFC 8996): not offered at all.
  if (t.min_version != "1.2" && t.min_version != "1.3")
    Fail(Join(where, "min_version"), "must be \"1.2\" or \"1.3\"");
  RequirePositive(t.handshake_timeout_ms, Join(where, "handshake_timeout_ms"));
  return t;
}

void ReadHttp(const YAML::Node& n, const std::string& where, SourceConfig* s) {
  Read(n, where, "auth_token_file", &s->auth_token_file);
  Read(n, where, "max_body_bytes", &s->max_body_bytes);
  if (s->max_body_bytes < 1024) Fail(Join(where, "max_body_bytes"), "must be at least 1024");
  Read(n, where, "max_pending_requests", &s->max_pending_requests);
  if (s->max_pending_requests == 0 || s->max_pending_requests > 1024)
    Fail(Join(where, "max_pending_requests"), "must be 1 to 1024");
  Read(n, where, "ack_timeout_ms", &s->ack_timeout_ms);
  RequirePositive(s->ack_timeout_ms, Join(where, "ack_timeout_ms"));
  Read(n, where, "commit_delay_ms", &s->commit_delay_ms);
  if (s->commit_delay_ms < 0) Fail(Join(where, "commit_delay_ms"), "must be 0 or more");
  Read(n, where, "retry_after_seconds", &s->retry_after_seconds);
  RequirePositive(s->retry_after_seconds, Join(where, "retry_after_seconds"));
  Read(n, where, "backpressure_status", &s->backpressure_status);
  if (s->backpressure_status != 429 && s->backpressure_status != 503)
    Fail(Join(where, "backpressure_status"), "must be 429 or 503");
}

SourceConfig ReadSource(const YAML::Node& n, const std::string& where) {
  SourceConfig s;
  if (!n.IsMap()) Fail(where, "expected a mapping");
  std::string type;
  Read(n, where, "type", &type);
  if (type == "directory") {
    s.type = SourceType::kDirectory;
    CheckKeys(n, where,
              {"name", "type", "path", "include", "exclude", "start_at", "rotate_wait_ms",
               "max_line_bytes", "incomplete_after_ms", "max_decompressed_bytes"});
  } else if (type == "stdin") {
    s.type = SourceType::kStdin;
    CheckKeys(n, where, {"name", "type", "max_line_bytes"});
  } else if (type == "tcp" || type == "syslog") {
    s.type = type == "tcp" ? SourceType::kTcp : SourceType::kSyslog;
    CheckKeys(n, where,
              {"name", "type", "address", "port", "max_connections", "idle_timeout_ms",
               "max_line_bytes", "tls"});
    if (YAML::Node t = n["tls"]) s.tls = ReadTls(t, Join(where, "tls"));
  } else if (type == "http") {
    s.type = SourceType::kHttp;
    s.idle_timeout_ms = 5000;
    CheckKeys(n, where,
              {"name", "type", "address", "port", "tls", "auth_token_file", "max_body_bytes",
               "max_line_bytes", "max_pending_requests", "ack_timeout_ms", "commit_delay_ms",
               "retry_after_seconds", "backpressure_status", "idle_timeout_ms"});
    if (YAML::Node t = n["tls"]) s.tls = ReadTls(t, Join(where, "tls"));
    ReadHttp(n, where, &s);
  } else if (type == "relp") {
    s.type = SourceType::kRelp;
    CheckKeys(n, where,
              {"name", "type", "address", "port", "max_line_bytes", "tls", "journal_dir",
               "journal_max_bytes"});
    if (YAML::Node t = n["tls"]) {
      // librelp runs the handshake with its own OpenSSL settings: these two
      // would be silently ignored.
      for (const char* key : {"min_version", "handshake_timeout_ms"}) {
        if (t.IsMap() && t[key]) Fail(Join(Join(where, "tls"), key), "not supported by relp");
      }
      s.tls = ReadTls(t, Join(where, "tls"));
    }
    Read(n, where, "journal_dir", &s.journal_dir);
    Read(n, where, "journal_max_bytes", &s.journal_max_bytes);
  } else if (type == "kafka") {
    s.type = SourceType::kKafka;
    CheckKeys(n, where,
              {"name", "type", "brokers", "topic", "group_id", "properties", "max_line_bytes"});
    Read(n, where, "brokers", &s.brokers);
    Read(n, where, "topic", &s.topic);
    Read(n, where, "group_id", &s.group_id);
    if (s.brokers.empty()) Fail(Join(where, "brokers"), "required");
    if (s.topic.empty()) Fail(Join(where, "topic"), "required");
    if (s.group_id.empty()) Fail(Join(where, "group_id"), "must not be empty");
    ReadProperties(n, where, &s.properties);
  } else {
    Fail(Join(where, "type"),
         fmt::format("'{}' is not one of directory, stdin, tcp, syslog, relp, http, kafka", type));
  }
  Read(n, where, "name", &s.name);
  if (s.name.empty()) Fail(Join(where, "name"), "required");
  Read(n, where, "path", &s.path);
  if (s.type == SourceType::kDirectory && s.path.empty()) Fail(Join(where, "path"), "required");
  ReadStrings(n, where, "include", &s.include);
  ReadStrings(n, where, "exclude", &s.exclude);
  if (s.type == SourceType::kDirectory && s.include.empty()) {
    Fail(Join(where, "include"), "needs at least one pattern");
  }
  std::string start_at = "beginning";
  Read(n, where, "start_at", &start_at);
  if (start_at != "beginning" && start_at != "end") {
    Fail(Join(where, "start_at"), "must be 'beginning' or 'end'");
  }
  s.start_at_end = start_at == "end";
  Read(n, where, "rotate_wait_ms", &s.rotate_wait_ms);
  if (s.rotate_wait_ms < 0) Fail(Join(where, "rotate_wait_ms"), "must be 0 or more");
  Read(n, where, "incomplete_after_ms", &s.incomplete_after_ms);
  RequirePositive(s.incomplete_after_ms, Join(where, "incomplete_after_ms"));
  Read(n, where, "max_decompressed_bytes", &s.max_decompressed_bytes);
  if (s.max_decompressed_bytes < 1024)
    Fail(Join(where, "max_decompressed_bytes"), "must be at least 1024");
  Read(n, where, "address", &s.address);
  int64_t port = s.port;
  Read(n, where, "port", &port);
  if ((s.type == SourceType::kTcp || s.type == SourceType::kHttp || s.type == SourceType::kSyslog ||
       s.type == SourceType::kRelp) &&
      (port <= 0 || port > 65535)) {
    Fail(Join(where, "port"), "required, 1 to 65535");
  }
  s.port = static_cast<uint16_t>(port);
  Read(n, where, "max_connections", &s.max_connections);
  if (s.max_connections == 0) Fail(Join(where, "max_connections"), "must be greater than 0");
  Read(n, where, "idle_timeout_ms", &s.idle_timeout_ms);
  if (s.idle_timeout_ms < 0) Fail(Join(where, "idle_timeout_ms"), "must be 0 (never) or more");
  Read(n, where, "max_line_bytes", &s.max_line_bytes);
  if (s.max_line_bytes < 1024) Fail(Join(where, "max_line_bytes"), "must be at least 1024");
  // Room for several of the largest messages, so a full journal still
  // holds whole files the reader can finish and release.
  if (s.type == SourceType::kRelp && s.journal_max_bytes < 16 * s.max_line_bytes) {
    Fail(Join(where, "journal_max_bytes"), "must be at least 16 x max_line_bytes");
  }
  return s;
}

// The Kafka keys of an alert sink and of the events sink (checked by the caller).
void ReadKafkaOutput(const YAML::Node& n, const std::string& where, SinkConfig* s) {
  s->type = SinkType::kKafka;
  Read(n, where, "brokers", &s->brokers);
  Read(n, where, "topic", &s->topic);
  if (s->brokers.empty()) Fail(Join(where, "brokers"), "required");
  if (s->topic.empty()) Fail(Join(where, "topic"), "required");
  Read(n, where, "spool_dir", &s->spool_dir);
  Read(n, where, "spool_max_bytes", &s->spool_max_bytes);
  ReadProperties(n, where, &s->properties);
}

SinkConfig ReadSink(const YAML::Node& n, const std::string& where) {
  SinkConfig s;
  if (!n.IsMap()) Fail(where, "expected a mapping");
  std::string type;
  Read(n, where, "type", &type);
  if (type == "stdout") {
    s.type = SinkType::kStdout;
    CheckKeys(n, where, {"type"});
  } else if (type == "file") {
    s.type = SinkType::kFile;
    CheckKeys(n, where, {"type", "path"});
    Read(n, where, "path", &s.path);
    if (s.path.empty()) Fail(Join(where, "path"), "required");
  } else if (type == "kafka") {
    CheckKeys(n, where, {"type", "brokers", "topic", "properties", "spool_dir", "spool_max_bytes"});
    ReadKafkaOutput(n, where, &s);
  } else {
    Fail(Join(where, "type"), fmt::format("'{}' is not one of stdout, file, kafka", type));
  }
  return s;
}

EventsConfig ReadEvents(const YAML::Node& n, const std::string& state_dir) {
  const std::string where = "events";
  EventsConfig e;
  if (!n.IsMap()) Fail(where, "expected a mapping");
  std::string type;
  Read(n, where, "type", &type);
  const std::set<std::string> common = {"type",         "channels",    "providers", "event_ids",
                                        "matched_only", "queue_bytes", "overflow"};
  std::set<std::string> allowed = common;
  if (type == "file") {
    e.output.type = SinkType::kFile;
    allowed.insert("path");
    CheckKeys(n, where, allowed);
    Read(n, where, "path", &e.output.path);
    if (e.output.path.empty()) Fail(Join(where, "path"), "required");
  } else if (type == "kafka") {
    allowed.insert({"brokers", "topic", "properties", "spool_dir", "spool_max_bytes"});
    CheckKeys(n, where, allowed);
    ReadKafkaOutput(n, where, &e.output);
    if (e.output.spool_dir.empty()) e.output.spool_dir = state_dir + "/spool-events";
  } else {
    Fail(Join(where, "type"), fmt::format("'{}' is not one of file, kafka", type));
  }
  ReadStrings(n, where, "channels", &e.channels);
  ReadStrings(n, where, "providers", &e.providers);
  if (YAML::Node ids = n["event_ids"]) {
    if (!ids.IsSequence()) Fail(Join(where, "event_ids"), "expected a list of event ids");
    for (size_t i = 0; i < ids.size(); ++i) {
      try {
        e.event_ids.push_back(ids[i].as<uint32_t>());
      } catch (const YAML::Exception&) {
        Fail(fmt::format("{}.event_ids[{}]", where, i), "expected a number");
      }
    }
  }
  Read(n, where, "matched_only", &e.matched_only);
  Read(n, where, "queue_bytes", &e.queue_bytes);
  if (e.queue_bytes < 65536) Fail(Join(where, "queue_bytes"), "must be at least 65536");
  std::string overflow = "block";
  Read(n, where, "overflow", &overflow);
  if (overflow != "block" && overflow != "drop") {
    Fail(Join(where, "overflow"), "must be 'block' or 'drop'");
  }
  e.drop_when_full = overflow == "drop";
  return e;
}

RecordIdsConfig ReadRecordIds(const YAML::Node& n) {
  const std::string where = "record_ids";
  RecordIdsConfig r;
  CheckKeys(n, where,
            {"enabled", "reorder_window", "max_ranges", "max_keys", "gap_alert_threshold"});
  Read(n, where, "enabled", &r.enabled);
  Read(n, where, "reorder_window", &r.reorder_window);
  Read(n, where, "max_ranges", &r.max_ranges);
  Read(n, where, "max_keys", &r.max_keys);
  Read(n, where, "gap_alert_threshold", &r.gap_alert_threshold);
  if (r.max_ranges < 2) Fail(Join(where, "max_ranges"), "must be at least 2");
  if (r.max_keys < 1) Fail(Join(where, "max_keys"), "must be at least 1");
  return r;
}

DaemonConfig ReadConfig(const YAML::Node& root) {
  DaemonConfig c;
  CheckKeys(root, "",
            {"state_dir", "checkpoint_interval_ms", "shutdown_timeout_ms", "rules", "correlation",
             "sources", "sinks", "metrics", "log", "exit_when_sources_end", "exchange_builds",
             "exchange_cves", "events", "record_ids"});
  Read(root, "", "state_dir", &c.state_dir);
  if (c.state_dir.empty()) Fail("state_dir", "must not be empty");
  Read(root, "", "checkpoint_interval_ms", &c.checkpoint_interval_ms);
  RequirePositive(c.checkpoint_interval_ms, "checkpoint_interval_ms");
  Read(root, "", "shutdown_timeout_ms", &c.shutdown_timeout_ms);
  RequirePositive(c.shutdown_timeout_ms, "shutdown_timeout_ms");
  Read(root, "", "exit_when_sources_end", &c.exit_when_sources_end);
  Read(root, "", "exchange_builds", &c.exchange_builds);
  Read(root, "", "exchange_cves", &c.exchange_cves);
  if (YAML::Node rules = root["rules"]) {
    CheckKeys(rules, "rules", {"paths"});
    ReadStrings(rules, "rules", "paths", &c.rule_paths);
  }
  if (YAML::Node corr = root["correlation"]) {
    CheckKeys(corr, "correlation", {"allowed_lateness_seconds", "merge_short_host_names"});
    Read(corr, "correlation", "allowed_lateness_seconds", &c.allowed_lateness_seconds);
    if (c.allowed_lateness_seconds < 0)
      Fail("correlation.allowed_lateness_seconds", "must be 0 or more");
    Read(corr, "correlation", "merge_short_host_names", &c.merge_short_host_names);
  }
  YAML::Node sources = root["sources"];
  if (!sources || !sources.IsSequence() || sources.size() == 0) {
    Fail("sources", "required: a list of at least one source");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < sources.size(); ++i) {
    std::string where = fmt::format("sources[{}]", i);
    c.sources.push_back(ReadSource(sources[i], where));
    SourceConfig& added = c.sources.back();
    if (added.type == SourceType::kRelp && added.journal_dir.empty()) {
      added.journal_dir = c.state_dir + "/relp-" + added.name;
    }
    if (!names.insert(c.sources.back().name).second) {
      Fail(where + ".name",
           fmt::format("'{}' is used by an earlier source", c.sources.back().name));
    }
  }
  YAML::Node sinks = root["sinks"];
  if (!sinks || !sinks.IsSequence() || sinks.size() == 0) {
    Fail("sinks", "required: a list of at least one sink");
  }
  for (size_t i = 0; i < sinks.size(); ++i) {
    c.sinks.push_back(ReadSink(sinks[i], fmt::format("sinks[{}]", i)));
    if (c.sinks.back().type == SinkType::kKafka && c.sinks.back().spool_dir.empty()) {
      c.sinks.back().spool_dir = c.state_dir + "/spool";
    }
  }
  if (YAML::Node ev = root["events"]) c.events = ReadEvents(ev, c.state_dir);
  if (YAML::Node r = root["record_ids"]) c.record_ids = ReadRecordIds(r);
  if (YAML::Node m = root["metrics"]) {
    CheckKeys(m, "metrics", {"address"});
    Read(m, "metrics", "address", &c.metrics_address);
    if (!c.metrics_address.empty()) {
      auto address = ParseListenAddress(c.metrics_address);
      if (!address.has_value()) Fail("metrics.address", std::string(address.error().message()));
      if (address.value().port == 0) Fail("metrics.address", "port must be 1 to 65535");
    }
  }
  if (YAML::Node l = root["log"]) {
    CheckKeys(l, "log", {"format", "level", "max_repeats_per_minute"});
    std::string format = "json";
    Read(l, "log", "format", &format);
    if (format == "json") {
      c.log_format = LogFormat::kJson;
    } else if (format == "logfmt") {
      c.log_format = LogFormat::kLogfmt;
    } else {
      Fail("log.format", "must be 'json' or 'logfmt'");
    }
    Read(l, "log", "level", &c.log_level);
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!kLevels.count(c.log_level))
      Fail("log.level", "must be one of trace, debug, info, warn, error, off");
    Read(l, "log", "max_repeats_per_minute", &c.log_max_repeats_per_minute);
  }
  return c;
}

}  // namespace

std::string_view SourceTypeName(SourceType t) {
  switch (t) {
    case SourceType::kDirectory:
      return "directory";
    case SourceType::kStdin:
      return "stdin";
    case SourceType::kTcp:
      return "tcp";
    case SourceType::kKafka:
      return "kafka";
    case SourceType::kHttp:
      return "http";
    case SourceType::kSyslog:
      return "syslog";
    case SourceType::kRelp:
      return "relp";
  }
  return "unknown";
}

std::string_view SinkTypeName(SinkType t) {
  switch (t) {
    case SinkType::kStdout:
      return "stdout";
    case SinkType::kFile:
      return "file";
    case SinkType::kKafka:
      return "kafka";
  }
  return "unknown";
}

Result<DaemonConfig> ParseConfig(const std::string& yaml_text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(yaml_text);
    DaemonConfig c = ReadConfig(root);
    c.path = origin;
    return c;
  } catch (const ConfigError& e) {
    return Status::InvalidArgument(e.what()).At(origin);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("not valid YAML: {}", e.msg))
        .At(origin, Where::kNone, e.mark.line >= 0 ? static_cast<uint64_t>(e.mark.line) + 1 : 0);
  }
}

Result<DaemonConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open config file").At(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace eventsift::daemon
