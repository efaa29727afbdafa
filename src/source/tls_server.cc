#include "src/source/tls_server.h"
#include "src/core/file_util.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace eventsift::source {

namespace {

// OpenSSL's queued reasons, oldest first, and the queue emptied (a reason
// left behind would be blamed on the next, unrelated call).
std::string DrainErrors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out.empty() ? "no reason given" : out;
}

// A readable file, checked first so the error says "No such file" or
// "Permission denied" instead of a PEM decoding reason.
Status CheckReadable(const std::string& key, const std::string& path) {
  if (path.empty()) return Status::InvalidArgument(fmt::format("{}: required with tls", key));
  if (OpenFile(path, "rb") == nullptr) {
    return Status::InvalidArgument(
        fmt::format("{}: cannot read '{}': {}", key, path, std::strerror(errno)));
  }
  return Status::OK();
}

}  // namespace

Status ConfigureServerContext(SSL_CTX* ctx, const TlsServerOptions& o) {
  ERR_clear_error();
  int min_version = 0;
  if (o.min_version == "1.2") {
    min_version = TLS1_2_VERSION;
  } else if (o.min_version == "1.3") {
    min_version = TLS1_3_VERSION;
  } else {
    return Status::InvalidArgument(
        fmt::format("tls.min_version: '{}' is not 1.2 or 1.3", o.min_version));
  }
  ES_RETURN_IF_ERROR(CheckReadable("tls.cert_file", o.cert_file));
  ES_RETURN_IF_ERROR(CheckReadable("tls.key_file", o.key_file));
  if (!o.client_ca_file.empty())
    ES_RETURN_IF_ERROR(CheckReadable("tls.client_ca_file", o.client_ca_file));

  SSL_CTX_set_min_proto_version(ctx, min_version);
  // Loggers often close without close_notify; that is their end of stream,
  // not an attack on a protocol whose lines are self-delimiting.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  // No TLS 1.3 session tickets: senders keep one long connection, and a
  // client that never reads (they only send) and closes with our tickets
  // unread makes its kernel send a reset, which discards what it sent last
  // and we had not read yet.
  SSL_CTX_set_num_tickets(ctx, 0);
  // SSL_read may return fewer bytes than asked and we retry on poll: let a
  // partial write buffer move (only the handshake writes anyway).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
    return Status::InvalidArgument(fmt::format(
        "tls.cert_file: '{}' holds no usable PEM certificate ({})", o.cert_file, DrainErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL 3 compares the key with the certificate here already.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return Status::InvalidArgument(fmt::format(
          "tls.key_file: '{}' does not match the certificate in tls.cert_file '{}' ({})",
          o.key_file, o.cert_file, DrainErrors()));
    }
    return Status::InvalidArgument(fmt::format(
        "tls.key_file: '{}' holds no usable PEM private key ({})", o.key_file, DrainErrors()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument(
        fmt::format("tls.key_file: '{}' does not match the certificate in tls.cert_file '{}' ({})",
                    o.key_file, o.cert_file, DrainErrors()));
  }
  if (!o.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.client_ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument(fmt::format(
          "tls.client_ca_file: '{}' holds no usable PEM CA ({})", o.client_ca_file, DrainErrors()));
    }
    // The CA names sent in the CertificateRequest, so clients pick the right cert.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  ERR_clear_error();
  return Status::OK();
}

Result<std::unique_ptr<TlsServer>> TlsServer::Create(const TlsServerOptions& o) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::Internal(fmt::format("SSL_CTX_new: {}", DrainErrors()));
  ES_RETURN_IF_ERROR(ConfigureServerContext(ctx.get(), o));
  return std::make_unique<TlsServer>(CreateTag(), std::move(ctx));
}

Result<std::unique_ptr<TlsSession>> TlsServer::NewSession(int fd) const {
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx_.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1)
    return Status::Internal(fmt::format("SSL_new: {}", DrainErrors()));
  SSL_set_accept_state(ssl.get());
  return std::make_unique<TlsSession>(std::move(ssl));
}

TlsIo TlsSession::Classify(int ret) {
  int err = SSL_get_error(ssl_.get(), ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsIo::kClosed;
    case SSL_ERROR_SYSCALL:
      if (errno == EINTR || errno == EAGAIN) {
        ERR_clear_error();
        return TlsIo::kWantRead;
      }
      // The socket ended (EOF, or a reset: a client that closes with our
      // session tickets unread sends RST): the end of its stream, not a TLS
      // protocol error.
      error_ = errno != 0 ? std::strerror(errno) : "connection closed";
      ERR_clear_error();
      return TlsIo::kClosed;
    default:
      error_ = DrainErrors();
      return TlsIo::kError;
  }
}

TlsIo TlsSession::Handshake() {
  ERR_clear_error();
  errno = 0;  // SSL_ERROR_SYSCALL with errno 0 means EOF
  int r = SSL_accept(ssl_.get());
  return r == 1 ? TlsIo::kDone : Classify(r);
}

TlsIo TlsSession::Read(char* buf, size_t cap, size_t* n) {
  ERR_clear_error();
  errno = 0;
  size_t got = 0;
  int r = SSL_read_ex(ssl_.get(), buf, cap, &got);
  if (r == 1) {
    *n = got;
    return TlsIo::kDone;
  }
  return Classify(r);
}

}  // namespace eventsift::source
