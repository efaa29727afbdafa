#pragma once
// Test-only TLS helpers: a throwaway CA with a server and a client
// certificate made at test time with the `openssl` command (nothing secret
// is checked in), and a small blocking OpenSSL client.

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace eventsift::tls_test {

struct TestCerts {
  std::string ca_crt;
  std::string server_crt, server_key;  // signed by ca_crt, for 127.0.0.1
  std::string client_crt, client_key;  // signed by ca_crt
  std::string other_key;               // a key that matches no certificate here
};

// Writes the files into `dir`; false (and `*error`) when openssl failed.
bool MakeTestCerts(const std::string& dir, TestCerts* certs, std::string* error);

class TlsClient {
 public:
  TlsClient() = default;
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;  // owns a socket and an SSL
  TlsClient& operator=(const TlsClient&) = delete;

  // Connects to 127.0.0.1:port and completes the handshake (blocking, with a
  // receive timeout), verifying the server against `ca_file`; presents
  // cert/key when given. False with error() on any failure.
  bool Connect(uint16_t port, const std::string& ca_file, const std::string& cert_file = "",
               const std::string& key_file = "");
  bool Send(std::string_view data);
  // True when the server ends the connection (EOF or a TLS alert) within
  // `timeout`; false when it is still open then.
  bool ClosedByServer(std::chrono::milliseconds timeout);
  void Close();
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
};

// A blocking TCP connection to 127.0.0.1:port (5 s receive timeout), or -1.
int ConnectLoopback(uint16_t port);

// A plain TCP connection that writes `data` and reports whether the server
// closed it within `timeout` (what a TLS port does to a plaintext client).
bool PlainClientIsClosed(uint16_t port, std::string_view data, std::chrono::milliseconds timeout);

}  // namespace eventsift::tls_test
