#include "src/daemon/log.h"

#include <cstdio>
#include <string>

#include "src/core/json_writer.h"
#include "src/core/time_util.h"

namespace eventsift::daemon {

namespace {

std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

void AppendLogfmtValue(std::string* out, std::string_view v) {
  bool quote = v.empty() || v.find_first_of(" =\"\t\n\r") != std::string_view::npos;
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r' || c == '\t') {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace

LogLevel ParseLogLevel(std::string_view name) {
  for (auto l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                 LogLevel::kError, LogLevel::kOff}) {
    if (LevelName(l) == name) return l;
  }
  return LogLevel::kInfo;
}

Logger& Logger::Get() {
  static Logger logger;
  return logger;
}

void Logger::Configure(LogFormat format, LogLevel level, uint32_t max_repeats_per_minute) {
  std::lock_guard<std::mutex> lock(mu_);
  format_ = format;
  level_ = level;
  max_repeats_ = max_repeats_per_minute;
}

void Logger::Log(LogLevel level, std::string_view msg, LogFields fields) {
  std::lock_guard<std::mutex> lock(mu_);
  if (level < level_) return;
  Write(level, msg, fields, 0);
}

void Logger::LogLimited(LogLevel level, std::string_view key, std::string_view msg,
                        LogFields fields) {
  std::lock_guard<std::mutex> lock(mu_);
  if (level < level_) return;
  auto now = std::chrono::steady_clock::now();
  auto it = windows_.find(key);
  if (it == windows_.end()) it = windows_.emplace(std::string(key), Window{now}).first;
  Window& w = it->second;
  if (now - w.start >= std::chrono::minutes(1)) {
    w.start = now;
    w.emitted = 0;
  }
  if (w.emitted >= max_repeats_) {
    ++w.suppressed;
    ++suppressed_total_;
    return;
  }
  ++w.emitted;
  Write(level, msg, fields, std::exchange(w.suppressed, 0));
}

uint64_t Logger::suppressed_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return suppressed_total_;
}

void Logger::Write(LogLevel level, std::string_view msg, LogFields fields, uint64_t suppressed) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string ts = FormatRfc3339(FileTimeFromUnixMillis(now_ms), 3);
  std::string line;
  std::string count = suppressed ? std::to_string(suppressed) : std::string();
  if (format_ == LogFormat::kJson) {
    JsonWriter w(&line);
    w.BeginObject();
    w.KV("ts", ts);
    w.KV("level", LevelName(level));
    w.KV("msg", msg);
    for (const auto& [k, v] : fields) w.KV(k, v);
    if (suppressed) w.KVUInt("suppressed_since_last", suppressed);
    w.EndObject();
  } else {
    line = "ts=" + ts + " level=" + std::string(LevelName(level)) + " msg=";
    AppendLogfmtValue(&line, msg);
    for (const auto& [k, v] : fields) {
      line.push_back(' ');
      line.append(k);
      line.push_back('=');
      AppendLogfmtValue(&line, v);
    }
    if (suppressed) line += " suppressed_since_last=" + count;
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace eventsift::daemon
