// SPDX-License-Identifier: Apache-2.0
#pragma once
// One gateway client connection: glue between a net::ws_connection and the session actor,
// driving a gateway_protocol. Created by gateway_server::accept; runs on the connection's
// strand (every ws_handler callback, timer and posted task; with one io thread also the
// ready_queue flush), except the outbound_listener callbacks, which only queue the connection
// on the server's ready_queue or post to the strand, release_session() (any thread), and the
// blocking part of Identify and Resume (token epoch, user and guild reads), which runs in a
// short-lived CAF actor and posts its result to the strand: io threads never block.
// Invariant: at most one write is in flight, so the session's outbound queue bound (not this
// object) bounds memory; the session output is attached to at most one connection at a time
// (gateway_context::claim), and its session is told disconnected/close exactly once per
// attachment, under output_mutex_, so a resuming connection's connected_atom follows it.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <caf/actor.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/gateway/gateway_protocol.hpp"
#include "actors/outbound/outbound_buffer.hpp"
#include "runtime/net/websocket.hpp"
#include "runtime/net/zlib_stream.hpp"

namespace herald::gateway {

namespace detail {
struct gateway_context;
}
struct identify_lookup;

class gateway_connection final : public net::ws_handler,
                                 public session::outbound_listener,
                                 public std::enable_shared_from_this<gateway_connection> {
public:
  gateway_connection(std::shared_ptr<detail::gateway_context> ctx, net::ws_connection_ptr conn);
  ~gateway_connection() override;

  /// Starts reading and sends Hello (or the version/encoding close). Call once, any thread.
  void start();
  /// Graceful drain: op 7 Reconnect now, close 4000 (session resumable) after the
  /// configured delay. Only the first call acts. Any thread.
  void drain();
  /// drain() was called. Any thread.
  bool told_to_drain() const noexcept { return drain_told_.load(); }

  /// The user's tokens were revoked: if this connection authenticated as `user_id` (identified,
  /// resumed, or on the way), close it 4004 and end its session. Any thread.
  void revoke_user(uint64_t user_id);

  /// Another connection resumed this session: stop collecting, detach, and close this
  /// connection with 4000 without telling the session anything. Any thread.
  void release_session();

  uint64_t id() const noexcept { return conn_->id(); }
  /// The connection's strand.
  boost::asio::any_io_executor executor() const { return conn_->executor(); }

  /// Writes what the session has ready (a ready_queue flush). On the strand, or on the only
  /// io thread.
  void flush_ready();
  /// Posts flush_ready() to the strand. Any thread.
  void post_flush_ready();

  // net::ws_handler (strand)
  void on_text(std::string_view message) override;
  void on_error(net::ws_error e) override;
  void on_control_frame() override;
  void on_closed(uint16_t code, bool by_peer) override;

  // session::outbound_listener (any thread, buffer lock held: post only)
  void on_frames_ready() noexcept override;
  void on_overflow() noexcept override;

private:
  void execute(actions acts);
  void send_control(std::string frame);
  void write_more();
  void send_batch(std::shared_ptr<session::outbound_batch> batch);
  void write_done();
  void send_deflated(const session::outbound_batch& batch, std::function<void()> written);
  void arm_timer();
  void start_identify(identify_request req);
  /// Back on the strand: the injected authenticator (or a lookup) threw off the io thread.
  void lookup_threw(const std::string& what);
  /// Back on the strand with what Identify's off-io-thread lookups found.
  void identify_looked_up(identify_lookup found);
  void start_resume(resume_request req);
  /// Back on the strand with the Resume token's user (nullopt: bad token).
  void resume_authenticated(resume_request req, std::optional<uint64_t> user_id);
  void identified(caf::expected<dispatch::opened_session> opened);
  void resumed(caf::expected<dispatch::opened_session> found, uint64_t user_id, uint64_t seq);
  void close_with(const close_connection& c);
  /// Detaches the output and tells the session `atom` (if attached); under output_mutex_.
  template <class Atom>
  void end_attachment(Atom atom);

  const std::shared_ptr<detail::gateway_context> ctx_;
  const net::ws_connection_ptr conn_;
  gateway_protocol proto_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<net::zlib_stream_deflater> deflater_;  // compress=zlib-stream only
  // A dispatch write is queued in the transport (strand). Batches and gather lists are
  // per io thread scratch (gateway_connection.cpp): an idle connection keeps none.
  bool writing_ = false;

  // The attached session; guarded because release_session() runs on another connection's
  // thread. write_more() collects under it so a released buffer is never collected twice.
  std::mutex output_mutex_;
  caf::actor session_;
  session::session_output_ptr output_;

  std::atomic<bool> wake_pending_{false};  // queued on the ready_queue, not yet flushed
  std::atomic<bool> drain_told_{false};    // drain() ran (op 7 sent or on its way)
  uint64_t user_id_ = 0;  // who the Identify/Resume token authenticated (strand; 0: nobody)
  // revoke_user calls so far (any thread): an Identify/Resume token checked off the strand
  // while this changed is checked again, since the revoke could not match user_id_ yet.
  std::atomic<uint64_t> revocations_{0};
};

}  // namespace herald::gateway
