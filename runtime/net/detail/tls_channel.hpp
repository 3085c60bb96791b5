// SPDX-License-Identifier: Apache-2.0
#pragma once
// One server-side TLS session on a non-blocking TCP socket: a thin owner of an OpenSSL SSL
// object whose BIO is the socket's descriptor (no extra buffers: OpenSSL's own record
// buffers are released while idle, SSL_MODE_RELEASE_BUFFERS). Every call returns at once;
// want_read / want_write tell the caller which readiness to wait for before calling again.
// Not thread-safe: its owner serializes the calls (the HTTP session's strand, then the
// WebSocket stream's mutex). It never closes the descriptor.

#include <cstddef>
#include <string>

struct ssl_st;
struct ssl_ctx_st;

namespace herald::net::detail {

enum class tls_status {
  ok,          ///< done (bytes moved, handshake complete)
  want_read,   ///< wait until the socket is readable, then call again
  want_write,  ///< wait until the socket is writable, then call again (same bytes for write)
  closed,      ///< the peer sent close_notify (reads only)
  failed,      ///< protocol or socket error: the session is unusable
};

class tls_channel {
public:
  /// Takes over `ctx`'s reference (from tls_context::acquire) and binds a session to `fd`.
  tls_channel(ssl_ctx_st* ctx, int fd);
  ~tls_channel();
  tls_channel(const tls_channel&) = delete;
  tls_channel& operator=(const tls_channel&) = delete;

  /// Server handshake step.
  tls_status handshake();
  /// Decrypts up to `cap` bytes into `buf`; `n` is set on ok.
  tls_status read(char* buf, size_t cap, size_t& n);
  /// Encrypts and sends up to `len` bytes as one record per 16 KiB; `n` (consumed bytes) is
  /// set on ok. After want_write the next call must start with the same bytes (it may pass
  /// more, and from another address).
  tls_status write(const char* buf, size_t len, size_t& n);
  /// Sends close_notify once, without waiting (nothing if the session failed).
  void shutdown();

  /// Why the last call failed, e.g. "http request" for plain HTTP on the TLS port.
  const std::string& error() const noexcept { return error_; }
  /// True if the failure was a plaintext HTTP request.
  bool plaintext_peer() const noexcept { return plaintext_; }
  /// Negotiated protocol ("TLSv1.3") after the handshake.
  std::string version() const;

private:
  tls_status result(int rc);

  ssl_st* ssl_ = nullptr;
  bool failed_ = false;
  bool shut_ = false;
  bool plaintext_ = false;
  std::string error_;
};

}  // namespace herald::net::detail
