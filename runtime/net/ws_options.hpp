// SPDX-License-Identifier: Apache-2.0
#pragma once
// Limits of the WebSocket connections an http_server upgrades (server_options::websocket).
// Owned by the server's options; read by every ws_connection on its strand, never changed.
// Invariant: a connection never buffers more than max_message_bytes of one inbound message.

#include <chrono>
#include <cstddef>

namespace herald::net {

struct ws_options {
  /// A larger inbound message (sum of its fragments) -> ws_handler::on_error(message_too_big);
  /// its bytes are discarded as they arrive, never buffered. Default 4096 (Discord's limit).
  size_t max_message_bytes = 4096;
  /// Closing waits at most this long to write the queued output and the close frame, then
  /// at most this long again for the peer's close frame (default 5 s).
  std::chrono::seconds close_timeout{5};
  /// Safety cap on outbound bytes queued and not yet written; a send() that would exceed it
  /// is dropped and the connection closed with 1008 (default 8 MiB).
  size_t max_queued_bytes = 8u << 20;
  /// SO_SNDBUF of each upgraded socket; 0 (default) leaves the kernel's autotuning, which
  /// grows it up to net.ipv4.tcp_wmem's maximum (4 MiB by default, reached at once on
  /// loopback). What the kernel holds cannot be overtaken: a close frame (even one from
  /// ws_connection::close_dropping_unsent) follows it. Tests set a small one to bound that.
  int send_buffer_bytes = 0;
};

}  // namespace herald::net
