// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/tls_channel.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include <cstdint>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace herald::net::detail {

namespace {

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(), which
// raises SIGPIPE on a connection the peer reset, and heraldd keeps SIGPIPE's default action.
int fd_of(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

int nosignal_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = ::send(fd_of(b), data, static_cast<size_t>(len), MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    BIO_set_retry_write(b);
  }
  return static_cast<int>(n);
}

int nosignal_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = ::recv(fd_of(b), data, static_cast<size_t>(len), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    BIO_set_retry_read(b);
  }
  return static_cast<int>(n);
}

long nosignal_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // writes are unbuffered
}

int nosignal_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* nosignal_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "herald socket");
    BIO_meth_set_write(m, nosignal_write);
    BIO_meth_set_read(m, nosignal_read);
    BIO_meth_set_ctrl(m, nosignal_ctrl);
    BIO_meth_set_create(m, nosignal_create);
    return m;
  }();
  return method;
}

// SSL_get_error needs the thread's error queue empty before each call. It is kept empty
// (every failure path clears it), so checking is enough: clearing all of OpenSSL 3's slots
// before every SSL_write showed in the per-record profile.
void clear_stale_errors() {
  if (ERR_peek_error() != 0) {
    ERR_clear_error();
  }
}

}  // namespace

tls_channel::tls_channel(ssl_ctx_st* ctx, int fd) {
  ssl_ = SSL_new(ctx);
  SSL_CTX_free(ctx);  // the session holds its own reference
  BIO* bio = ssl_ != nullptr ? BIO_new(nosignal_method()) : nullptr;
  if (bio == nullptr) {
    failed_ = true;
    error_ = "cannot create a TLS session";
    return;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; the session owns it
  SSL_set_accept_state(ssl_);
}

tls_channel::~tls_channel() {
  SSL_free(ssl_);
}

tls_status tls_channel::result(int rc) {
  if (rc == 1) {
    return tls_status::ok;
  }
  int e = SSL_get_error(ssl_, rc);
  switch (e) {
    case SSL_ERROR_WANT_READ:
      return tls_status::want_read;
    case SSL_ERROR_WANT_WRITE:
      return tls_status::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return tls_status::closed;
    default:
      break;
  }
  failed_ = true;
  unsigned long code = ERR_peek_error();
  if (code != 0) {
    plaintext_ = ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST;
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    error_ = buf;
  } else if (e == SSL_ERROR_SYSCALL) {
    error_ = errno != 0 ? std::strerror(errno) : "connection closed";
  } else {
    error_ = "TLS error " + std::to_string(e);
  }
  ERR_clear_error();
  return tls_status::failed;
}

tls_status tls_channel::handshake() {
  if (failed_) {
    return tls_status::failed;
  }
  clear_stale_errors();
  return result(SSL_do_handshake(ssl_));
}

tls_status tls_channel::read(char* buf, size_t cap, size_t& n) {
  if (failed_) {
    return tls_status::failed;
  }
  clear_stale_errors();
  n = 0;
  return result(SSL_read_ex(ssl_, buf, cap, &n));
}

tls_status tls_channel::write(const char* buf, size_t len, size_t& n) {
  if (failed_) {
    return tls_status::failed;
  }
  clear_stale_errors();
  n = 0;
  return result(SSL_write_ex(ssl_, buf, len, &n));
}

void tls_channel::shutdown() {
  if (failed_ || shut_ || !SSL_is_init_finished(ssl_)) {
    return;
  }
  shut_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues and tries to send close_notify; never waits
  ERR_clear_error();
}

std::string tls_channel::version() const {
  return ssl_ != nullptr ? SSL_get_version(ssl_) : "";
}

}  // namespace herald::net::detail
