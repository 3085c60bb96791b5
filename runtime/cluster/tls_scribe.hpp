// SPDX-License-Identifier: Apache-2.0
#pragma once
// A cluster connection over TLS: CAF's stream with caf-openssl's session as its read/write
// policy (the scribe caf-openssl keeps private to its own middleman actor, rebuilt here so that
// herald's guarded middleman can serve TLS too). The session (caf::openssl::session) builds a
// fresh SSL_CTX from the actor system's openssl_* settings for every connection: with a
// certificate configured it requires and verifies the peer's certificate against the CA file in
// both directions and allows no anonymous cipher ("HIGH:!aNULL:!MD5"). Herald only loads
// caf-openssl with all three cluster.tls_* files set, so its anonymous-cipher branch (taken
// when no certificate is configured) is never reached.
// Owner thread: the middleman's multiplexer (like every scribe); make_tls_session may run on
// the middleman actor's thread for an outgoing connection.

#include <vector>

#include <openssl/err.h>
#include <caf/actor_system.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/session.hpp>

namespace herald::cluster {

/// A TLS session on the connected socket `fd` (the handshake proceeds as the stream reads and
/// writes), or nullptr when none can be made (a TLS file became unreadable after start: the
/// session reads them for every connection). Never throws. Needs caf::openssl::manager loaded.
caf::openssl::session_ptr make_tls_session(caf::actor_system& sys,
                                           caf::io::network::native_socket fd, bool accepted);

/// caf-openssl's session as the read/write policy of CAF's stream.
/// Every call first empties this thread's OpenSSL error queue: SSL_get_error, which the session
/// consults after each SSL_read / SSL_write / handshake step, reports SSL_ERROR_SSL whenever the
/// queue holds anything, and caf-openssl drains it only when its logging is compiled in. Without
/// this, one failed handshake (a foreign certificate, garbage) left errors on the multiplexer
/// thread that made the next read of another, healthy cluster link fail and drop that link.
class tls_policy {
public:
  explicit tls_policy(caf::openssl::session_ptr session) : session_(std::move(session)) {}

  caf::io::network::rw_state read_some(size_t& result, caf::io::network::native_socket fd,
                                       void* buf, size_t len) {
    ERR_clear_error();
    return session_->read_some(result, fd, buf, len);
  }
  caf::io::network::rw_state write_some(size_t& result, caf::io::network::native_socket fd,
                                        const void* buf, size_t len) {
    ERR_clear_error();
    return session_->write_some(result, fd, buf, len);
  }
  bool must_read_more(caf::io::network::native_socket fd, size_t threshold) {
    return session_->must_read_more(fd, threshold);
  }

private:
  caf::openssl::session_ptr session_;
};

/// A scribe (CAF's connection servant) whose bytes pass through a TLS session.
class tls_scribe : public caf::io::scribe {
public:
  tls_scribe(caf::io::network::default_multiplexer& mpx, caf::io::network::native_socket fd,
             caf::openssl::session_ptr session);

  void configure_read(caf::io::receive_policy::config config) override;
  void ack_writes(bool enable) override;
  std::vector<char>& wr_buf() override;
  std::vector<char>& rd_buf() override;
  void graceful_shutdown() override;
  void flush() override;
  std::string addr() const override;
  uint16_t port() const override;
  void add_to_loop() override;
  void remove_from_loop() override;

protected:
  // Named like caf::io::network::scribe_impl's members so that code for both reads the same.
  bool launched_ = false;
  caf::io::network::stream_impl<tls_policy> stream_;

private:
  void launch();
};

}  // namespace herald::cluster
