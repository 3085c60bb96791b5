// SPDX-License-Identifier: Apache-2.0
#pragma once
// The ws_connection implementation: RFC 6455 framing on an Asio TCP socket whose executor is
// a strand of http_server's io_context. Created by http_server after the 101 response; the
// server keeps a weak list of live streams to close them on stop().
// Invariant: all state outside mutex_ is touched on the strand only; nothing is posted to the
// strand once finished_ is set, so a stopped io_context never holds a stream alive.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/detail/connection_limiter.hpp"
#include "runtime/net/detail/tls_channel.hpp"
#include "runtime/net/detail/ws_frame_reader.hpp"
#include "runtime/net/websocket.hpp"

namespace herald::net::detail {

/// Per-server WebSocket instruments (label server=<server_options::name>).
struct ws_metrics {
  explicit ws_metrics(const std::string& server);
  metrics::gauge& open;             ///< herald_ws_connections: open connections
  metrics::counter& accepted;       ///< herald_ws_connections_total: upgrades accepted
  metrics::counter& messages_in;    ///< herald_ws_messages_in_total: text messages delivered
  metrics::counter& messages_out;   ///< herald_ws_messages_out_total: data messages queued
  metrics::counter& bytes_written;  ///< herald_ws_bytes_written_total: frame bytes written
  metrics::counter& writev_calls;   ///< herald_ws_writev_total: sendmsg calls that wrote
  metrics::counter* errors[3];      ///< herald_ws_inbound_errors_total{kind}, by ws_error
  /// herald_ws_inbound_errors_total{kind="bad_close_code"}: close frames whose code a peer
  /// may not send (RFC 6455 section 7.4), answered with 1002.
  metrics::counter& bad_close_codes;
  /// herald_ws_pongs_coalesced_total: pings answered by a later pong instead of their own,
  /// because a pong was still waiting to be written (RFC 6455 section 5.5.3).
  metrics::counter& pongs_coalesced;
};

class ws_stream;

/// Live streams of one server, for stop(). Owned by the server state.
struct ws_registry {
  std::mutex mutex;
  bool stopping = false;  ///< set by stop(); no stream is registered afterwards
  std::map<uint64_t, std::weak_ptr<ws_stream>> live;
};

class ws_stream final : public ws_connection, private ws_frame_listener {
public:
  /// `owner` keeps the io_context (and registry, options, metrics) alive as long as the
  /// stream; `leftover` holds bytes the HTTP parser read past the upgrade request; `slot`
  /// (the connection's place under the listener's limits) is given back once the socket closes.
  /// `tls`: the connection's TLS session (null for plain TCP), see "TLS" below.
  ws_stream(boost::asio::ip::tcp::socket socket, http_request request, uint64_t id,
            const ws_options& opts, const ws_metrics& metrics, ws_registry& registry,
            std::shared_ptr<void> owner, std::string leftover, connection_slot slot = {},
            std::unique_ptr<tls_channel> tls = nullptr);
  ~ws_stream() override;

  void start(std::shared_ptr<ws_handler> handler) override;
  boost::asio::any_io_executor executor() const override;
  void post(std::function<void()> fn) override;
  void send(const std::vector<std::string_view>& messages, ws_opcode op,
            std::shared_ptr<const void> keepalive, std::function<void()> on_written = {}) override;
  void send_parts(const std::vector<std::string_view>& pieces,
                  const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                  std::shared_ptr<const void> keepalive,
                  std::function<void()> on_written = {}) override;
  bool write_parts_now(const std::vector<std::string_view>& pieces,
                       const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                       std::shared_ptr<const void> keepalive,
                       std::function<void()> on_written = {}) override;
  void close(uint16_t code, std::string_view reason = {}) override;
  size_t queued_bytes() const override;
  bool is_open() const override;

private:
  // One queued frame piece: a frame's header is built at enqueue time, the payload is a
  // caller's view. A piece with header_size 0 continues the previous frame's payload
  // (send_parts): the writer gathers it right behind, the header counted every piece.
  struct out_frame {
    const char* data;
    size_t size;
    uint8_t header[10];
    uint8_t header_size;
  };
  // One send() call: done once every frame before index `end` of frames_ was written.
  struct out_batch {
    size_t end;
    std::shared_ptr<const void> keepalive;
    std::function<void()> on_written;
  };

  void frame_text(std::string_view message) override;
  void frame_error(ws_error e) override;
  void frame_control(ws_op op, std::string_view payload) override;
  void answer_ping(std::string_view payload);
  void pong_written();
  void peer_closed(std::string_view payload);

  // Queues frames under mutex_ and schedules a write; false if the stream finished.
  // `per_message` (optional): pieces of `payloads` per message (send_parts); null: one each.
  bool enqueue(const std::vector<std::string_view>& payloads, uint8_t opcode,
               std::shared_ptr<const void> keepalive, std::function<void()> on_written,
               const std::vector<uint32_t>* per_message = nullptr);
  // Appends the frames of one send (see enqueue) to frames_; returns how many were added.
  size_t push_frames_locked(const std::vector<std::string_view>& payloads, uint8_t opcode,
                            const std::vector<uint32_t>* per_message);
  // Moves head_/head_offset_ past `written` bytes; under mutex_.
  void consume_locked(size_t written);
  void queue_close_locked(uint16_t code, std::string_view reason, bool by_peer);
  void post_locked(std::function<void()> fn);
  void begin();
  void on_readable(const boost::system::error_code& ec);
  // TLS: the plain paths above and below are untouched; with tls_ set these replace them.
  // OpenSSL calls are serialized by mutex_ (reads on the strand, writes on any thread).
  // Writes gather the queued frames into a per-io-thread record buffer (<= 16 KiB) and
  // SSL_write it; a record OpenSSL could not send yet (want_write) stays at the queue's head,
  // so the retry re-gathers the same bytes.
  void on_readable_tls();
  void do_write_tls();
  enum class direct_write { not_taken, written, queued };
  direct_write write_parts_now_tls(const std::vector<std::string_view>& pieces,
                                   const std::vector<uint32_t>& pieces_per_message, uint8_t opcode,
                                   std::shared_ptr<const void>& keepalive,
                                   std::function<void()>& on_written);
  // Copies the unwritten queue (from head_/head_offset_) into `out`, at most `cap` bytes.
  size_t gather_record_locked(char* out, size_t cap) const;
  // Waits for `st` (want_read / want_write) and then runs fn on the strand; false otherwise.
  template <class Fn>
  bool wait_tls(tls_status st, Fn fn);
  void wait_readable();
  // Steps the plain and the TLS paths share, so both complete a read or a write one way:
  // read_bytes feeds `n` bytes read to the frame reader and says whether the stream finished;
  // wrote counts a completed write of `n` bytes and releases the frames (and batches) it
  // finished; next_turn yields the io thread after rounds_per_turn and runs `step` in a later
  // turn. All on the strand.
  bool read_bytes(const char* data, size_t n);
  void wrote(size_t n);
  void next_turn(void (ws_stream::*step)());
  void read_more();
  void do_write();
  size_t build_iovecs_locked();
  void advance(size_t written);
  void close_frame_written();
  void arm_close_timer();
  void finish();

  // Declared first so it is destroyed last: the socket and timer need the io_context it owns.
  std::shared_ptr<void> owner_;
  connection_slot slot_;  // strand; released in finish(), after the socket is closed
  boost::asio::ip::tcp::socket socket_;
  const ws_options& opts_;
  const ws_metrics& metrics_;
  ws_registry& registry_;
  std::shared_ptr<ws_handler> handler_;
  std::string leftover_;
  ws_frame_reader reader_;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;  // only while closing
  std::unique_ptr<tls_channel> tls_;                        // null: plain TCP; calls under mutex_
  std::atomic<bool> open_{true};
  bool started_ = false;          // strand: handler installed, reading
  bool peer_close_seen_ = false;  // strand: the peer's close frame arrived
  bool close_written_ = false;    // strand: our close frame reached the kernel
  // At most one pong is queued: a ping arriving while it waits only replaces
  // latest_ping_, answered once that pong is written. Bounds a ping flood from a peer
  // that does not read to one pong and 125 bytes.
  bool pong_queued_ = false;   // strand
  bool ping_waiting_ = false;  // strand: latest_ping_ awaits its pong
  std::string latest_ping_;    // strand

  mutable std::mutex mutex_;
  std::vector<out_frame> frames_;   // guarded; [head_, end) not yet fully written
  std::vector<out_batch> batches_;  // guarded; in frame order
  size_t head_ = 0;                 // guarded; first frame not fully written
  size_t head_offset_ = 0;          // guarded; bytes of frames_[head_] already written
  size_t batch_head_ = 0;           // guarded
  size_t queued_bytes_ = 0;         // guarded
  uint16_t close_code_ = 0;         // guarded; 0 until a close frame is queued
  bool closed_by_peer_ = false;     // guarded; the peer's close frame came first
  bool closing_ = false;            // guarded; a close frame is queued: no more data
  bool start_called_ = false;       // guarded; start() is accepted once
  bool write_scheduled_ = false;    // guarded; a do_write is posted or waiting
  bool finished_ = false;           // guarded; socket closed, on_closed delivered or due
};

}  // namespace herald::net::detail
