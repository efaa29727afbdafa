#pragma once
// TlsServer: the server side of TLS for the TCP source, with OpenSSL (no
// crypto of ours). Create() loads and checks the certificate, key and
// optional client CA once, at start, so a bad file is a clear startup error
// ("tls.key_file ... does not match the certificate") and not a failure on
// every connection. TlsSession wraps one accepted, non-blocking socket:
// Handshake() and Read() never block; they say what the socket must become
// ready for (WantRead/WantWrite) so the daemon's poll loop drives them and
// one slow or plaintext peer cannot stall the others.

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

#include "src/core/result.h"

namespace eventsift::source {

struct TlsServerOptions {
  std::string cert_file;            // PEM: the server certificate, then its chain
  std::string key_file;             // PEM: the private key of cert_file
  std::string client_ca_file;       // PEM CAs; set: clients must present a cert they signed
  std::string min_version = "1.2";  // "1.2" or "1.3"; older versions are never offered

  bool operator==(const TlsServerOptions&) const = default;
};

// Loads the certificate, key and client CA into `ctx` and sets the protocol
// floor and options every listener of ours uses (the TCP source's sessions,
// the HTTP source's server). Errors name the config key and the file.
Status ConfigureServerContext(SSL_CTX* ctx, const TlsServerOptions& options);

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

enum class TlsIo : uint8_t {
  kDone,       // handshake finished / bytes read
  kWantRead,   // retry when the socket is readable
  kWantWrite,  // retry when the socket is writable
  kClosed,     // the peer closed (close_notify or plain EOF)
  kError,      // protocol error (plaintext client, bad cert): drop the peer
};

class TlsSession {
 public:
  explicit TlsSession(std::unique_ptr<SSL, SslFree> ssl) : ssl_(std::move(ssl)) {}
  TlsIo Handshake();
  // Reads up to `cap` bytes into `buf`; *n is set when kDone.
  TlsIo Read(char* buf, size_t cap, size_t* n);
  // Decrypted bytes OpenSSL already holds: poll() cannot see them.
  bool HasBuffered() const { return SSL_pending(ssl_.get()) > 0; }
  // Why the last call returned kError (OpenSSL's reason).
  const std::string& error() const { return error_; }

 private:
  TlsIo Classify(int ret);
  std::unique_ptr<SSL, SslFree> ssl_;
  std::string error_;
};

class TlsServer {
 public:
  static Result<std::unique_ptr<TlsServer>> Create(const TlsServerOptions& options);
  // A session on an accepted non-blocking socket (not owned: the caller keeps
  // the descriptor open for the session's lifetime).
  Result<std::unique_ptr<TlsSession>> NewSession(int fd) const;

  struct CreateTag {
    explicit CreateTag() = default;
  };
  TlsServer(CreateTag, std::unique_ptr<SSL_CTX, SslCtxFree> ctx) : ctx_(std::move(ctx)) {}

 private:
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
};

}  // namespace eventsift::source
