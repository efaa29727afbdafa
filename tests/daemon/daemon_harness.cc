#include "tests/daemon/daemon_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "src/alert/alert_id.h"
#include "src/core/time_util.h"
#include "src/correlate/host_key.h"

namespace eventsift::daemon_test {

ScratchDir::ScratchDir(const std::string& tag) {
  path_ = fmt::format("/tmp/es_daemon_{}_{}", tag, ::getpid());
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void DaemonProcess::Start(const std::string& config, const std::string& log_path,
                          const std::string& stdin_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    int err = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(in, 0);
    ::dup2(err, 2);
    ::execl(ES_BINARY, ES_BINARY, "daemon", "--config", config.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
}

void DaemonProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int DaemonProcess::Wait(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

namespace {
sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  return a;
}
}  // namespace

int ConnectTcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) return fd;
  ::close(fd);
  return -1;
}

int ListenTcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(fd, 8) == 0)
    return fd;
  ::close(fd);
  return -1;
}

bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string HttpGet(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  auto r = c.Get(path);
  if (!r) return "";
  return r->body;
}

double MetricValue(const std::string& text, const std::string& sample) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > sample.size() && line.compare(0, sample.size(), sample) == 0 &&
        line[sample.size()] == ' ') {
      return std::stod(line.substr(sample.size() + 1));
    }
  }
  return -1;
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void AppendFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
}

std::string WindowEndEemsRule(const ScratchDir& dir) {
  std::string rule = ReadFile(std::string(ES_SOURCE_DIR) + "/rules/eems_mitigation_error.yaml");
  const std::string from = "  samples: 3\n";
  if (rule.find(from) == std::string::npos) return "";  // the caller's rule load fails loudly
  rule.replace(rule.find(from), from.size(), from + "  emit: window_end\n");
  WriteFile(dir / "eems_window_end.yaml", rule);
  return dir / "eems_window_end.yaml";
}

std::vector<std::string> ReadAlertIds(const std::string& path) {
  std::vector<std::string> ids;
  std::istringstream in(ReadFile(path));
  std::string line;
  const std::string key = "\"alert_id\":\"";
  while (std::getline(in, line)) {
    size_t p = line.find(key);
    if (p == std::string::npos) continue;
    // A follow-up repeats its alert's id with the final count (`emit: immediate`).
    if (line.find("\"revision\":2") != std::string::npos) continue;
    p += key.size();
    ids.push_back(line.substr(p, line.find('"', p) - p));
  }
  return ids;
}

namespace {
std::string Iso(int64_t unix_seconds) {
  return FormatRfc3339(FileTimeFromUnixMillis(unix_seconds * 1000), 0);
}
}  // namespace

std::string EemsEvent(const std::string& host, int64_t t, uint64_t record_id) {
  return fmt::format(
      R"({{"@timestamp":"{}","message":"An unexpected exception occurred. Diagnostic information: Exception encountered while fetching mitigations.","log":{{"level":"error"}},"winlog":{{"channel":"Application","event_id":"1008","provider_name":"MSExchange Mitigation Service","computer_name":"{}","record_id":{}}}}})",
      Iso(t), host, record_id);
}

std::string TickEvent(const std::string& host, int64_t t, uint64_t record_id) {
  return fmt::format(
      R"({{"@timestamp":"{}","message":"Service started.","log":{{"level":"information"}},"winlog":{{"channel":"Application","event_id":"1000","provider_name":"Test Ticker","computer_name":"{}","record_id":{}}}}})",
      Iso(t), host, record_id);
}

std::string ExpectedAlertId(const std::string& host, int64_t unix_seconds) {
  return ComputeAlertId("eems_mitigation_error", correlate::NormalizeHostName(host),
                        FileTimeFromUnixMillis(unix_seconds * 1000));
}

}  // namespace eventsift::daemon_test
