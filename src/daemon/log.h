#pragma once
// Structured logs on stderr, one line per record, as JSON
//   {"ts":"2024-05-01T10:00:00.123Z","level":"info","msg":"source started","source":"dir"}
// or logfmt
//   ts=2024-05-01T10:00:00.123Z level=info msg="source started" source=dir
// (journald and container runtimes keep stderr). Input errors repeat by the
// thousand on a bad feed, so LogLimited lets a key through at most N times a
// minute and reports how many it held back on the next line it lets through.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "src/daemon/config.h"

namespace eventsift::daemon {

enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };

LogLevel ParseLogLevel(std::string_view name);  // unknown names: kInfo

using LogFields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class Logger {
 public:
  // The process-wide logger (stderr).
  static Logger& Get();

  void Configure(LogFormat format, LogLevel level, uint32_t max_repeats_per_minute);
  void Log(LogLevel level, std::string_view msg, LogFields fields = {});
  // As Log, but at most max_repeats_per_minute lines per `key` a minute.
  void LogLimited(LogLevel level, std::string_view key, std::string_view msg,
                  LogFields fields = {});
  // Lines held back so far by LogLimited.
  uint64_t suppressed_total() const;

 private:
  void Write(LogLevel level, std::string_view msg, LogFields fields, uint64_t suppressed);

  struct Window {
    std::chrono::steady_clock::time_point start;
    uint32_t emitted = 0;
    uint64_t suppressed = 0;
  };
  mutable std::mutex mu_;
  LogFormat format_ = LogFormat::kJson;
  LogLevel level_ = LogLevel::kInfo;
  uint32_t max_repeats_ = 10;
  std::map<std::string, Window, std::less<>> windows_;
  uint64_t suppressed_total_ = 0;
};

// Shorthands.
inline void LogInfo(std::string_view msg, LogFields f = {}) {
  Logger::Get().Log(LogLevel::kInfo, msg, f);
}
inline void LogWarn(std::string_view msg, LogFields f = {}) {
  Logger::Get().Log(LogLevel::kWarn, msg, f);
}
inline void LogError(std::string_view msg, LogFields f = {}) {
  Logger::Get().Log(LogLevel::kError, msg, f);
}

}  // namespace eventsift::daemon
