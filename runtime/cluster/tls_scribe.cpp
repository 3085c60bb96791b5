// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/tls_scribe.hpp"

#include <exception>

#include <caf/io/network/native_socket.hpp>

#include "runtime/log/log.hpp"

namespace herald::cluster {

caf::openssl::session_ptr make_tls_session(caf::actor_system& sys,
                                           caf::io::network::native_socket fd, bool accepted) {
  try {
    ERR_clear_error();  // see tls_policy: the first handshake step reads the queue too
    return caf::openssl::make_session(sys, fd, accepted);
  } catch (const std::exception& e) {
    // caf-openssl raises when it cannot build the SSL_CTX (a TLS file unreadable or replaced
    // by a broken one after start): refuse this connection, keep the node.
    log::get("cluster")->error("cluster TLS: cannot start a TLS session: {}", e.what());
    return nullptr;
  }
}

tls_scribe::tls_scribe(caf::io::network::default_multiplexer& mpx,
                       caf::io::network::native_socket fd, caf::openssl::session_ptr session)
    : scribe(caf::io::network::conn_hdl_from_socket(fd)), stream_(mpx, fd, std::move(session)) {}

void tls_scribe::configure_read(caf::io::receive_policy::config config) {
  stream_.configure_read(config);
  if (!launched_) {
    launch();
  }
}

void tls_scribe::ack_writes(bool enable) {
  stream_.ack_writes(enable);
}

std::vector<char>& tls_scribe::wr_buf() {
  return stream_.wr_buf();
}

std::vector<char>& tls_scribe::rd_buf() {
  return stream_.rd_buf();
}

void tls_scribe::graceful_shutdown() {
  stream_.graceful_shutdown();
  detach(&stream_.backend(), false);
}

void tls_scribe::flush() {
  stream_.flush(this);
}

std::string tls_scribe::addr() const {
  auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
  return x ? *x : std::string{};
}

uint16_t tls_scribe::port() const {
  auto x = caf::io::network::remote_port_of_fd(stream_.fd());
  return x ? *x : uint16_t{0};
}

void tls_scribe::launch() {
  launched_ = true;
  stream_.start(this);
  // Schedules a first (empty) write so that the session drives SSL_connect / SSL_accept even
  // before BASP has anything to send.
  stream_.force_empty_write(this);
}

void tls_scribe::add_to_loop() {
  stream_.activate(this);
}

void tls_scribe::remove_from_loop() {
  stream_.passivate();
}

}  // namespace herald::cluster
