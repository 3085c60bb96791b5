// SPDX-License-Identifier: Apache-2.0
#pragma once
// Server side of one RFC 6455 WebSocket connection, created by http_server after the upgrade
// handshake. It runs on its own strand of the server's io threads; send/close/post are
// thread-safe. Invariant: ws_handler::on_closed runs exactly once and is the last callback.
//
// Why our own framing instead of Beast's websocket::stream: Beast writes one message per
// async_write, but the gateway queues many messages per connection and issue #4 asks for
// as few syscalls as possible. Here every queued message (frame header + payload view, no
// payload copy) is written with one sendmsg/writev per up to 512 messages (IOV_MAX iovecs),
// and an idle connection holds no read or write buffer (readiness wait + per-thread scratch).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "runtime/net/http_server.hpp"
#include "runtime/net/ws_options.hpp"

namespace herald::net {

/// Opcode of an outbound data message (inbound binary messages are refused, see ws_error).
enum class ws_opcode : uint8_t { text = 1, binary = 2 };

/// Inbound protocol violations reported to ws_handler::on_error.
enum class ws_error {
  message_too_big,  ///< a message over ws_options::max_message_bytes; it was discarded
  binary_message,   ///< a binary data message (the gateway speaks JSON text); it was discarded
  bad_frame,        ///< unmasked, reserved bits, bad opcode/length, bad fragmentation: the
                    ///< stream cannot be parsed further; closed with 1002 unless the handler
                    ///< calls close() itself inside on_error
};

/// "message_too_big", "binary_message", "bad_frame" (also the metrics label).
std::string_view to_string(ws_error e);

/// Receives one connection's events. All callbacks run on the connection's strand, one at a
/// time; they may call any ws_connection method (send/close from inside are fine).
class ws_handler {
public:
  virtual ~ws_handler() = default;
  /// One complete (defragmented) text message; the view is valid during the call only.
  /// Not called after close() was called or the peer's close frame arrived.
  virtual void on_text(std::string_view message) = 0;
  /// An inbound violation (see ws_error); the handler decides (e.g. close(4002)).
  virtual void on_error(ws_error e) = 0;
  /// A ping or pong frame arrived, before a ping is answered. Control frames are no messages,
  /// but a peer may send them as fast as it likes: a handler that limits the peer's message
  /// rate counts these too (the gateway does, docs/gateway.md "Limits"). It may close() here;
  /// the ping is then not answered. Default: nothing.
  virtual void on_control_frame() {}
  /// Exactly once, last, when the TCP connection is gone. `code`: the code of the close frame
  /// that started the closing handshake (ours if we closed first, 1005 if the peer's had no
  /// code), 1006 if the transport ended without any close frame. `by_peer`: the peer (or the
  /// network) ended it, false when close() was called first (including server stop: 1001).
  virtual void on_closed(uint16_t code, bool by_peer) = 0;
};

/// One upgraded connection. Obtain it from http_server::on_websocket; keep the shared_ptr as
/// long as you want to send. Methods are virtual only to keep Asio out of this header.
class ws_connection : public std::enable_shared_from_this<ws_connection> {
public:
  virtual ~ws_connection() = default;

  /// Method, target, path, query and headers of the upgrade request, without the body and
  /// the handshake's own fields (Upgrade, Connection, Sec-WebSocket-*), dropped to keep idle
  /// connections small.
  /// Empty once release_upgrade_request() was called.
  const http_request& upgrade_request() const noexcept {
    return request_ ? *request_ : empty_request();
  }
  /// Frees the upgrade request (about 400 bytes with a typical client's headers) once the
  /// handler has read what it needs, so an idle connection keeps none of it. Not thread-safe
  /// against upgrade_request(): call it where the handler reads it (e.g. on the strand).
  void release_upgrade_request() noexcept { request_.reset(); }
  /// Unique per server (shared counter with HTTP connections), starting at 1.
  uint64_t id() const noexcept { return id_; }

  /// Once (later calls are ignored), from any thread: installs the handler and starts
  /// reading. Bytes that arrived before start() wait in the socket. If the server stopped
  /// before start(), on_closed(1001, false) runs inline inside start(). The connection keeps
  /// the handler until on_closed returned, then releases it (a handler holding the
  /// connection makes no lasting cycle).
  virtual void start(std::shared_ptr<ws_handler> handler) = 0;

  /// The connection's strand, e.g. for steady_timers whose handlers touch handler state.
  virtual boost::asio::any_io_executor executor() const = 0;

  /// Runs fn on the strand (thread-safe). Dropped without running once the connection ended.
  virtual void post(std::function<void()> fn) = 0;

  /// Thread-safe. Queues one WebSocket message (single frame) per view; all queued messages
  /// are gathered into as few writev calls as possible (no payload copy). The views must
  /// stay valid until written: `keepalive` owns them and is released once they were handed
  /// to the kernel (or the connection failed). `on_written` (optional) then runs on the
  /// strand. After close() or once the connection ended, send() drops the messages and
  /// releases keepalive; on_written still runs on the strand unless the connection already
  /// ended (on_written never runs after on_closed). Exceeding max_queued_bytes drops the
  /// messages and closes with 1008 as close_dropping_unsent() does.
  virtual void send(const std::vector<std::string_view>& messages, ws_opcode op,
                    std::shared_ptr<const void> keepalive,
                    std::function<void()> on_written = {}) = 0;

  /// As send(), for messages made of several pieces written back to back without being
  /// joined: message k is the next `pieces_per_message[k]` views of `pieces` (each count
  /// >= 1); its frame header carries the sum of their sizes. Why: the gateway splices a
  /// per-session seq prefix in front of an event payload shared by every session, and
  /// copying them together per recipient was the fan-out's main cost (issue #3). The
  /// default joins the pieces (one copy); the server's connections override it with a
  /// gather write of the pieces as they are.
  virtual void send_parts(const std::vector<std::string_view>& pieces,
                          const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                          std::shared_ptr<const void> keepalive,
                          std::function<void()> on_written = {});

  /// As send_parts(), but when nothing is queued ahead of these messages they are written
  /// with one sendmsg inside this call (no strand post, no completion callback). Returns true
  /// when every byte was handed to the kernel during the call: `keepalive` is then not kept
  /// and `on_written` never runs, the caller goes on at once. Otherwise returns false and
  /// behaves exactly as send_parts() (the unwritten rest is queued; keepalive released and
  /// on_written run later on the strand). Thread-safe.
  /// Why: at low message rates each dispatch is one write per session, and the queued path
  /// (strand post, writer turn, completion callback, two more lock turns) cost more than the
  /// sendmsg itself (issue #4, docs/benchmarks.md). The default calls send_parts() and
  /// returns false.
  virtual bool write_parts_now(const std::vector<std::string_view>& pieces,
                               const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                               std::shared_ptr<const void> keepalive,
                               std::function<void()> on_written = {});

  /// Convenience: one text message owning its copy.
  void send_text(std::string message);

  /// Thread-safe, idempotent (the first code wins): sends a close frame after the messages
  /// already queued, then closes TCP once the peer's close frame arrived. Bounded twice by
  /// ws_options::close_timeout: for writing the queued output and the close frame (a peer
  /// that stopped reading), then for the peer's answer. on_text is not called after
  /// close(). `reason` is cut to 123 bytes. Codes must be valid to send (1000-1003,
  /// 1007-1011, 3000-4999).
  virtual void close(uint16_t code, std::string_view reason = {}) = 0;

  /// As close(), but first drops every queued message no byte of which was handed to the
  /// kernel yet, so the close frame is written right after the message in progress (which
  /// is finished: the peer could not parse what follows a cut frame). The dropped messages'
  /// keepalives are released and their on_written run on the strand, as when written.
  /// Why: for a peer that fell behind (the gateway's slow consumer) the queued backlog is of
  /// no use any more (its session keeps the frames for Resume), and behind it the close frame
  /// would wait for the whole backlog to be read, so a slow reader would not see the close
  /// code before close_timeout ended the connection.
  virtual void close_dropping_unsent(uint16_t code, std::string_view reason = {}) = 0;

  /// Outbound bytes queued (frame headers included) and not yet handed to the kernel.
  virtual size_t queued_bytes() const = 0;

  /// True until close() was called, the peer's close frame arrived, or the connection ended.
  virtual bool is_open() const = 0;

protected:
  ws_connection(http_request request, uint64_t id)
      : request_(std::make_unique<http_request>(std::move(request))), id_(id) {}

private:
  static const http_request& empty_request() noexcept;

  std::unique_ptr<http_request> request_;
  uint64_t id_;
};

using ws_connection_ptr = std::shared_ptr<ws_connection>;

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA1(key + RFC 6455 GUID)).
std::string websocket_accept_key(std::string_view key);

}  // namespace herald::net
