#include "tests/unit/source/tls_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace eventsift::tls_test {

namespace {

bool Run(const std::string& cmd, std::string* error) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) {
    *error = "popen failed: " + cmd;
    return false;
  }
  std::string out;
  std::array<char, 1024> buf{};
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  if (::pclose(p) != 0) {
    *error = cmd + "\n" + out;
    return false;
  }
  return true;
}

std::string SslErrors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    out += std::string(out.empty() ? "" : "; ") + buf.data();
  }
  return out;
}

}  // namespace

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};  // a blocked handshake fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

bool MakeTestCerts(const std::string& dir, TestCerts* c, std::string* error) {
  c->ca_crt = dir + "/ca.crt";
  c->server_crt = dir + "/server.crt";
  c->server_key = dir + "/server.key";
  c->client_crt = dir + "/client.crt";
  c->client_key = dir + "/client.key";
  c->other_key = dir + "/other.key";
  // EC P-256 keys: quick to make, so each test run gets fresh ones.
  const std::string newkey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string ca_key = dir + "/ca.key";
  std::string ext = dir + "/san.ext";
  FILE* f = std::fopen(ext.c_str(), "w");
  if (f == nullptr) {
    *error = "cannot write " + ext;
    return false;
  }
  std::fputs("subjectAltName=IP:127.0.0.1,DNS:localhost\n", f);
  std::fclose(f);
  auto sign = [&](const std::string& key, const std::string& crt, const std::string& cn,
                  const std::string& extfile) {
    std::string csr = crt + ".csr";
    return Run(fmt::format("openssl req {} -keyout {} -out {} -subj /CN={}", newkey, key, csr, cn),
               error) &&
           Run(fmt::format("openssl x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -out {} "
                           "-days 2 {}",
                           csr, c->ca_crt, ca_key, crt,
                           extfile.empty() ? "" : "-extfile " + extfile),
               error);
  };
  return Run(fmt::format("openssl req -x509 {} -keyout {} -out {} -subj /CN=eventsift-test-ca "
                         "-days 2",
                         newkey, ca_key, c->ca_crt),
             error) &&
         sign(c->server_key, c->server_crt, "localhost", ext) &&
         sign(c->client_key, c->client_crt, "test-client", "") &&
         Run(fmt::format("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-out {}",
                         c->other_key),
             error);
}

TlsClient::~TlsClient() { Close(); }

void TlsClient::Close() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

bool TlsClient::Connect(uint16_t port, const std::string& ca_file, const std::string& cert_file,
                        const std::string& key_file) {
  Close();
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
    error_ = "load CA: " + SslErrors();
    return false;
  }
  if (!cert_file.empty() &&
      (SSL_CTX_use_certificate_file(ctx_, cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    error_ = "client cert: " + SslErrors();
    return false;
  }
  fd_ = ConnectLoopback(port);
  if (fd_ < 0) {
    error_ = "connect failed";
    return false;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set1_host(ssl_, "127.0.0.1");  // checks the server cert's IP SAN
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  if (SSL_connect(ssl_) != 1) {
    error_ = "handshake: " + SslErrors();
    return false;
  }
  return true;
}

bool TlsClient::Send(std::string_view data) {
  if (ssl_ == nullptr) return false;
  size_t written = 0;
  if (SSL_write_ex(ssl_, data.data(), data.size(), &written) != 1 || written != data.size()) {
    error_ = "write: " + SslErrors();
    return false;
  }
  return true;
}

bool TlsClient::ClosedByServer(std::chrono::milliseconds timeout) {
  if (ssl_ == nullptr) return true;
  pollfd p{fd_, POLLIN, 0};
  if (SSL_pending(ssl_) == 0 && ::poll(&p, 1, static_cast<int>(timeout.count())) == 0) return false;
  std::array<char, 256> buf{};
  size_t n = 0;
  // The server never sends data: anything but a timeout means it ended us
  // (EOF, or the alert a rejected client certificate gets under TLS 1.3).
  return SSL_read_ex(ssl_, buf.data(), buf.size(), &n) != 1;
}

bool PlainClientIsClosed(uint16_t port, std::string_view data, std::chrono::milliseconds timeout) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return false;
  (void)::write(fd, data.data(), data.size());
  pollfd p{fd, POLLIN, 0};
  bool closed = false;
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!closed && std::chrono::steady_clock::now() < end) {
    if (::poll(&p, 1, 50) <= 0) continue;
    std::array<char, 4096> buf{};
    ssize_t n = ::read(fd, buf.data(), buf.size());
    closed = n <= 0;  // a TLS alert may come first; then EOF
  }
  ::close(fd);
  return closed;
}

}  // namespace eventsift::tls_test
