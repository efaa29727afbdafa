#pragma once
// Helpers for driving a real `eventsift daemon` process: a scratch
// directory, the config, start/signal/wait, /metrics scraping, alert files
// and EEMS test events in Winlogbeat NDJSON shape.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace eventsift::daemon_test {

// A fresh directory under /tmp, removed at destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;  // owns the directory
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A free TCP port on 127.0.0.1 (bound once, then released).
int FreePort();

class DaemonProcess {
 public:
  DaemonProcess() = default;
  ~DaemonProcess();                              // SIGKILLs a daemon still running
  DaemonProcess(const DaemonProcess&) = delete;  // owns a child process
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts `eventsift daemon --config config`; stderr goes to `log_path`,
  // stdin comes from `stdin_path` (or /dev/null).
  void Start(const std::string& config, const std::string& log_path,
             const std::string& stdin_path = "");
  void Signal(int sig);
  // Waits up to `timeout` for exit; returns the exit code, or -1 on timeout,
  // or 128 + signal when killed.
  int Wait(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// A blocking TCP connection to 127.0.0.1:port, or -1 when refused.
int ConnectTcp(int port);
// A socket listening on 127.0.0.1:port, holding the port; -1 on failure.
int ListenTcp(int port);
// Writes all of `data`; false on a write error.
bool SendAll(int fd, const std::string& data);

// GET http://127.0.0.1:port/path; returns "" when not reachable.
std::string HttpGet(int port, const std::string& path);
// The value of one sample ("name{labels}" exactly as printed, or "name"), or -1.
double MetricValue(const std::string& metrics_text, const std::string& sample);

// Polls `pred` every 50 ms until true or `timeout`.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// alert_id of every line of an NDJSON alert file, in order; follow-ups
// (revision 2, the same alert_id with its window's final count) are left out,
// so each window that alerted counts once.
std::vector<std::string> ReadAlertIds(const std::string& path);
std::string ReadFile(const std::string& path);
void AppendFile(const std::string& path, const std::string& text);
void WriteFile(const std::string& path, const std::string& text);

// One EEMS 1008 event (matches rules/eems_mitigation_error.yaml) for `host`
// at unix time `t` (seconds), as a Winlogbeat NDJSON line without newline.
std::string EemsEvent(const std::string& host, int64_t unix_seconds, uint64_t record_id);
// An event no rule matches; it only moves event time forward.
std::string TickEvent(const std::string& host, int64_t unix_seconds, uint64_t record_id);

// The shipped EEMS rule with `emit: window_end` (its alerts wait for their
// window to close), written into `dir`; returns the file's path.
std::string WindowEndEemsRule(const ScratchDir& dir);

// The alert id the correlator gives rule `eems_mitigation_error` on `host`
// for the window starting at `unix_seconds`.
std::string ExpectedAlertId(const std::string& host, int64_t unix_seconds);

}  // namespace eventsift::daemon_test
